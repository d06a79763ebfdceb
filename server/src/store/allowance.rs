//! Allowances every node shares: token buckets kept in the live store, so a limit on new
//! conversations per client address or per site, or on an owner-API key's requests, holds across a cluster instead of per node
//! (each node's own buckets, `session::limits`, still turn a flood away before it costs a
//! store round trip).

use async_trait::async_trait;

use super::StoreError;

/// One bucket to take a token from: `rate` tokens a second on average, at most `burst`.
#[derive(Clone, Debug, PartialEq)]
pub struct Bucket {
    /// What it counts, e.g. `conversations:ip:192.0.2.7` (the store adds its namespace).
    pub key: String,
    pub rate: f64,
    pub burst: u32,
}

/// Token buckets by key.
///
/// # Contract
/// - **All or nothing**: [`Allowances::take`] takes one token from every bucket it names,
///   atomically, or from none (`false`) when any of them is empty.
/// - **Refill**: a bucket gains `rate` tokens a second up to `burst`; an unknown key starts
///   full. The clock is the store's, so nodes with skewed clocks count alike.
/// - **Charge**: [`Allowances::charge`] takes any amount from one bucket, even below zero
///   (what was spent is known only afterwards, e.g. a model's tokens), down to at most
///   `-burst`; a bucket in debt refuses [`Allowances::take`] until it has refilled past one.
/// - **Shared**: every node on one store takes from the same buckets.
/// - **Bounds**: a bucket is forgotten once it would be full again (a fresh one is the same),
///   so keys live at most `burst / rate` seconds after their last take. The memory store
///   tracks at most [`MAX_BUCKETS`]; while that many are in use, new keys are refused.
#[async_trait]
pub trait Allowances: Send + Sync + 'static {
    async fn take(&self, buckets: &[Bucket]) -> Result<bool, StoreError>;

    /// Takes `amount` tokens from `bucket` whatever it holds (see the contract's "Charge").
    async fn charge(&self, bucket: &Bucket, amount: f64) -> Result<(), StoreError>;
}

/// The most buckets the memory store keeps (Redis's are bounded by their expiry).
pub const MAX_BUCKETS: usize = 100_000;

/// The lowest a charge takes a bucket: one burst of debt.
pub fn floor(bucket: &Bucket) -> f64 {
    -f64::from(bucket.burst)
}

/// A bucket's tokens after `elapsed_secs` of refill, capped at its burst.
pub fn refilled(tokens: f64, elapsed_secs: f64, bucket: &Bucket) -> f64 {
    (tokens + elapsed_secs.max(0.0) * bucket.rate).min(f64::from(bucket.burst))
}

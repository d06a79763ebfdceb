//! The memory store's [`Allowances`]: buckets under the store's one lock.

use std::collections::HashMap;

use async_trait::async_trait;
use tokio::time::Instant;

use super::MemoryStore;
use crate::store::StoreError;
use crate::store::allowance::{Allowances, Bucket, MAX_BUCKETS, floor, refilled};

/// One key's tokens when last counted, and its bucket's shape (to know when it is full).
struct Kept {
    tokens: f64,
    at: Instant,
    bucket: Bucket,
}

impl Kept {
    fn now(&self, now: Instant) -> f64 {
        refilled(self.tokens, now.duration_since(self.at).as_secs_f64(), &self.bucket)
    }
}

#[derive(Default)]
pub(super) struct Buckets {
    table: HashMap<String, Kept>,
}

impl Buckets {
    /// Tokens `bucket` has now (a new key is full).
    fn tokens(&self, bucket: &Bucket, now: Instant) -> f64 {
        self.table.get(&bucket.key).map_or(f64::from(bucket.burst), |kept| kept.now(now))
    }

    /// Room for `new` more keys, forgetting full buckets (fresh ones are the same) if needed.
    fn has_room(&mut self, new: usize, now: Instant) -> bool {
        if self.table.len() + new > MAX_BUCKETS {
            self.table.retain(|_, kept| kept.now(now) < f64::from(kept.bucket.burst));
        }
        self.table.len() + new <= MAX_BUCKETS
    }
}

#[async_trait]
impl Allowances for MemoryStore {
    async fn take(&self, buckets: &[Bucket]) -> Result<bool, StoreError> {
        let now = Instant::now();
        let mut inner = self.lock();
        let table = &mut inner.allowances;
        if buckets.iter().any(|b| table.tokens(b, now) < 1.0) {
            return Ok(false);
        }
        let new = buckets.iter().filter(|b| !table.table.contains_key(&b.key)).count();
        if !table.has_room(new, now) {
            return Ok(false);
        }
        for bucket in buckets {
            let tokens = table.tokens(bucket, now) - 1.0;
            table.table.insert(bucket.key.clone(), Kept { tokens, at: now, bucket: bucket.clone() });
        }
        Ok(true)
    }

    async fn charge(&self, bucket: &Bucket, amount: f64) -> Result<(), StoreError> {
        let now = Instant::now();
        let mut inner = self.lock();
        let table = &mut inner.allowances;
        let known = table.table.contains_key(&bucket.key);
        if !known && !table.has_room(1, now) {
            // Full of other keys: this charge is forgotten, as a fresh bucket would be.
            return Ok(());
        }
        let tokens = (table.tokens(bucket, now) - amount.max(0.0)).max(floor(bucket));
        table.table.insert(bucket.key.clone(), Kept { tokens, at: now, bucket: bucket.clone() });
        Ok(())
    }
}

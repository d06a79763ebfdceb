//! Which conversations the inactivity rules should look at next: the live store's index of
//! real (not provisional) conversations, each with when it is next due for a look, so every
//! node's sweep (`conversation::inactivity`) finds idle chats without scanning the live log.
//!
//! The index is kept in the same atomic step as the write that changes a conversation (the
//! same writes that mark it for the archive, see [`super::feed`]): any change makes it due
//! at once, and the sweep that looks at it sets when it is due next (the earliest of its
//! rules' deadlines) or takes it out (nothing left to do until it changes again).

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreError;
use crate::protocol::ConversationId;

/// The most conversations one sweep claims at once.
pub const CLAIM_LIMIT: usize = 200;

/// The index of conversations to look at for inactivity.
///
/// # Contract
/// - **Complete**: every write that changes a real conversation (append, transition, record,
///   counter) makes it due now, atomically with the write, whatever was set before.
///   Provisional conversations are not in it (a `hello` alone is never nudged or resolved).
/// - **Claims**: [`IdleWatch::claim_idle`] returns up to `limit` conversations due by now,
///   soonest due first, and makes them not due for `lease` (several nodes share the sweep;
///   a node that dies mid-look leaves its claims to others when the lease ends). A change
///   during the lease makes it due at once again.
/// - **Next**: [`IdleWatch::idle_due`] sets when a conversation is next due; an id not in
///   the index is ignored (it left, and only a change brings it back).
///   [`IdleWatch::unwatch`] takes it out.
/// - **Bounds**: each live conversation is in it at most once; a conversation that expired or
///   was erased leaves it when it is next claimed.
#[async_trait]
pub trait IdleWatch: Send + Sync + 'static {
    async fn claim_idle(&self, limit: usize, lease: Duration) -> Result<Vec<ConversationId>, StoreError>;
    async fn idle_due(&self, id: ConversationId, at: DateTime<Utc>) -> Result<(), StoreError>;
    async fn unwatch(&self, id: ConversationId) -> Result<(), StoreError>;
}

//! What the archive has not yet copied: the live store's index of conversations with events
//! (or records, counters) that the archive has not written, so every node's archiver knows
//! what to copy without scanning the live log.
//!
//! The index is kept in the same atomic step as the write that makes a conversation
//! unarchived (an append, a transition, a record or counter change, a new conversation), so
//! no crash between a live write and the archive's can lose it: the conversation stays in the
//! index until an archiver reports it archived as of its newest change.

use std::time::Duration;

use async_trait::async_trait;

use super::StoreError;
use crate::protocol::ConversationId;

/// A conversation with changes the archive has not written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unarchived {
    pub id: ConversationId,
    /// Its change number when claimed: [`ArchiveFeed::archived`] with this number removes it
    /// from the index only if nothing changed since.
    pub rev: u64,
}

/// The index of unarchived conversations.
///
/// # Contract
/// - **Complete**: every write that changes a conversation (append, transition, record,
///   counter) puts it in the index, atomically with the write, with a new `rev`.
/// - **Not provisional**: a provisional conversation (no visitor message yet, see
///   [`super::EventLog`]) is not in the index: a `hello` alone is never archived. The write
///   that makes it a real one puts it there, and its copy then starts from its first event.
/// - **Claims**: [`ArchiveFeed::claim_unarchived`] returns up to `limit` conversations that
///   are due, oldest due first, and makes them not due for `lease` (so several nodes share
///   the work; a node that dies mid-copy leaves its claims to others when the lease ends).
///   A conversation changed while claimed stays claimed until its lease ends.
/// - **Done**: [`ArchiveFeed::archived`] removes the conversation if its `rev` is still the
///   one claimed; otherwise it is due again at once. Unknown ids are ignored.
/// - **Bounds**: the index holds each live conversation at most once; a conversation that
///   expires from the live store leaves it (what it had not archived by then is lost: keep
///   the retention longer than any archive outage).
#[async_trait]
pub trait ArchiveFeed: Send + Sync + 'static {
    async fn claim_unarchived(&self, limit: usize, lease: Duration) -> Result<Vec<Unarchived>, StoreError>;
    async fn archived(&self, id: ConversationId, rev: u64) -> Result<(), StoreError>;
    /// How many conversations wait for the archive (claimed or not).
    async fn backlog(&self) -> Result<usize, StoreError>;
}

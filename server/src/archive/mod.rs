//! The record: every conversation, every event, kept after the live store forgets them.
//!
//! The live store (memory or Redis) holds conversations for a few days; the archive keeps
//! them in a relational database, written exactly once per event from the live log by the
//! [`archiver`] on every node, so that exports, privacy requests, retention and reports
//! read one durable place. The live chat never waits on it: the archiver follows the live
//! store's feed ([`crate::store::feed::ArchiveFeed`]) and catches up after an outage.
//!
//! One seam, [`Archive`], with one implementation over `sqlx`'s `Any` driver ([`sql`]):
//! SQLite (a file, the embedded default) or PostgreSQL (what a cluster shares), the same
//! migrations and queries for both. One contract suite runs on both
//! (`tests/api/archive_contract.rs`).
//!
//! Each write also fills the webhook outbox ([`webhooks`]) in its own transaction, so the
//! owner's webhooks are exactly as durable and as ordered as the record.

pub mod archiver;
pub mod audit;
pub mod erasure;
pub mod judged;
pub mod keys;
pub mod listing;
pub mod masking;
pub mod outbox;
pub mod owner;
mod paging;
pub mod privacy;
pub mod reports;
pub mod request;
pub mod retention;
pub mod search;
pub mod sql;
pub mod visitors;
pub mod webhooks;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::protocol::{ConversationId, Event};
use crate::store::{Conversation, Visitor};

#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("archive unavailable: {0}")]
    Unavailable(String),
    #[error("archive holds data this version cannot read: {0}")]
    Corrupt(String),
}

impl From<sqlx::Error> for ArchiveError {
    fn from(error: sqlx::Error) -> ArchiveError {
        ArchiveError::Unavailable(error.to_string())
    }
}

/// A conversation as the archive keeps it, with its events as on the wire (notes included).
/// Serialised as one line of `baton export`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ArchivedConversation {
    pub conversation_id: ConversationId,
    pub site: String,
    pub started_at: DateTime<Utc>,
    /// The newest event's time (or `started_at`).
    pub updated_at: DateTime<Utc>,
    pub state: String,
    pub last_seq: u64,
    pub visitor: serde_json::Value,
    /// The conversation's records (escalation with its signals, rating, summary, …), by
    /// their field names (see [`crate::records`]).
    pub records: serde_json::Value,
    pub counters: serde_json::Value,
    /// The address the visitor left (a left message), if any.
    pub email: Option<String>,
    /// The site's own id for the visitor (verified identity), if any.
    pub user_id: Option<String>,
    pub events: Vec<serde_json::Value>,
}

/// Which conversations an export reads.
#[derive(Clone, Debug, Default)]
pub struct ExportFilter {
    pub site: Option<String>,
    /// Conversations started at or after this.
    pub since: Option<DateTime<Utc>>,
}

/// Where a page of an export ends: the next page starts after it.
#[derive(Clone, Debug, PartialEq)]
pub struct Cursor {
    pub started_at: DateTime<Utc>,
    pub id: ConversationId,
}

/// One conversation's copy for [`Archive::write_all`]: as the arguments of [`Archive::write`].
#[derive(Clone, Debug)]
pub struct ConversationCopy {
    pub conversation: Conversation,
    pub events: Vec<Arc<Event>>,
    pub rev: u64,
}

/// The durable record.
///
/// # Contract
/// - **Exactly once**: an event is stored under `(conversation_id, seq)`; writing it again
///   (a replay after a crash, two archivers racing) stores nothing. [`Archive::high_water`]
///   is the highest `seq` stored for a conversation, and events are only ever written in
///   unbroken runs from it, so every `seq` up to it is there.
/// - **Atomic**: [`Archive::write`] stores the conversation's row (state, visitor, records,
///   counters: replaced whole) and its events in one transaction, or nothing
///   ([`Archive::write_all`]: several conversations' in one). A write
///   carrying an older `rev` than the row's does not replace the row (its events still
///   count).
/// - **Reads** give events in `seq` order, each exactly as it was sent on the wire.
/// - **Unavailable** is [`ArchiveError::Unavailable`]: nothing was written; try again.
#[async_trait]
pub trait Archive: Send + Sync + 'static {
    /// Brings the schema up to date (idempotent; the archiver retries it until it works).
    async fn migrate(&self) -> Result<(), ArchiveError>;
    async fn high_water(&self, id: ConversationId) -> Result<u64, ArchiveError>;
    /// Writes the row and these events (after the high water, in order); returns how many
    /// events were new. `rev` is the live change number this copy was taken at.
    async fn write(&self, conversation: &Conversation, events: &[Arc<Event>], rev: u64) -> Result<u64, ArchiveError>;
    /// Several [`Archive::write`]s in one transaction, all or nothing (the archiver's round:
    /// one commit for many conversations); returns how many events were new in all.
    async fn write_all(&self, copies: &[ConversationCopy]) -> Result<u64, ArchiveError>;
    async fn conversation(&self, id: ConversationId) -> Result<Option<ArchivedConversation>, ArchiveError>;
    /// Up to `limit` conversations matching `filter`, oldest first, after `cursor`.
    async fn export(
        &self,
        filter: &ExportFilter,
        cursor: Option<&Cursor>,
        limit: usize,
    ) -> Result<Vec<ArchivedConversation>, ArchiveError>;
    /// Event-by-event copy figures: `(events, lag_p50_ms, lag_p99_ms)`, lag being the time
    /// from an event's `at` to its archive write.
    async fn lag(&self) -> Result<(u64, Option<i64>, Option<i64>), ArchiveError>;
    /// The figures of the conversations `query` names (see [`reports`]). Every write folds
    /// its events into them in the same transaction, once.
    async fn report(&self, query: &reports::ReportQuery) -> Result<reports::Report, ArchiveError>;
    async fn ping(&self) -> Result<(), ArchiveError>;
    /// Deletes `site`'s conversations (rows and events) whose newest event is older than
    /// `before`; returns how many conversations and events went.
    async fn expire(&self, site: &str, before: DateTime<Utc>) -> Result<privacy::Erased, ArchiveError>;
}

impl ArchivedConversation {
    /// The next page's cursor when this is the last of a page.
    pub fn cursor(&self) -> Cursor {
        Cursor { started_at: self.started_at, id: self.conversation_id }
    }
}

/// The visitor as archived (what `hello` said about them).
pub(crate) fn visitor_json(visitor: &Visitor) -> serde_json::Value {
    serde_json::to_value(visitor).unwrap_or(serde_json::Value::Null)
}

//! The audit log: who did what, when. Agents' actions (take, transfer, note, resolve,
//! hand back) and privacy requests (export, erase), in the archive's `audit` table, read by
//! admins (`GET /v1/admin/audit`). An entry names the actor, the action, the site and the
//! conversation; never the personal data it touched (an erase records its counts, a note
//! not its text).
//!
//! Agents' actions are recorded through [`AuditLog`], a bounded queue drained by one writer
//! task, so an agent never waits on the database: while it is down the writer retries (the
//! queue holds what waits); when the queue is full, a new entry is dropped with a warning.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::ArchiveError;
use super::sql::{SqlArchive, from_millis, millis};
use std::sync::Arc;

/// Entries waiting for the database, at most.
const QUEUE: usize = 4096;
/// How long the writer waits after a failed write before trying the same entry again.
const RETRY_AFTER: Duration = Duration::from_secs(1);
/// The most entries one read returns.
pub const MAX_ENTRIES: usize = 1000;

/// One action, as recorded.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AuditEntry {
    /// The entry's place in the log: sorts in the order entries were made within a process
    /// (see [`ordered_id`]); reads sort by `at`, then `id`, so entries of one millisecond
    /// read back in the order they were made whatever order they were stored in.
    #[serde(skip)]
    pub id: String,
    pub at: DateTime<Utc>,
    /// An agent's id, `cli` for the command line, or `api:KEY_ID` for an owner API key.
    pub actor: String,
    /// `take`, `transfer`, `note`, `resolve`, `handback`, `privacy_export`, `privacy_erase`.
    pub action: String,
    pub site: Option<String>,
    pub conversation_id: Option<String>,
    /// Facts about the action without personal data (JSON text): a transfer's target, an
    /// erase's counts.
    pub detail: String,
}

impl AuditEntry {
    /// An entry made now, of no site nor conversation yet.
    pub fn now(actor: &str, action: &str, detail: String) -> Self {
        let at = Utc::now();
        AuditEntry {
            id: ordered_id(at),
            at,
            actor: actor.to_owned(),
            action: action.to_owned(),
            site: None,
            conversation_id: None,
            detail,
        }
    }
}

impl SqlArchive {
    /// Records an action now (the command line's privacy requests).
    pub async fn audit(&self, actor: &str, action: &str, site: Option<&str>, detail: &str) -> Result<(), ArchiveError> {
        let entry = AuditEntry { site: site.map(str::to_owned), ..AuditEntry::now(actor, action, detail.to_owned()) };
        let mut tx = self.pool().begin().await?;
        insert(&mut tx, &entry).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records `entry` as it is (the owner API's actions on a conversation).
    pub async fn record_audit(&self, entry: &AuditEntry) -> Result<(), ArchiveError> {
        let mut tx = self.pool().begin().await?;
        insert(&mut tx, entry).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records `action` by `actor` inside `tx` (an erase and its entry commit together).
    pub(crate) async fn audit_in(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        actor: &str,
        action: &str,
        site: Option<&str>,
        detail: &str,
    ) -> Result<(), ArchiveError> {
        let entry = AuditEntry { site: site.map(str::to_owned), ..AuditEntry::now(actor, action, detail.to_owned()) };
        insert(tx, &entry).await
    }

    /// The audit log, oldest first: `(actor, action, detail)`.
    pub async fn audit_log(&self) -> Result<Vec<(String, String, String)>, ArchiveError> {
        let entries = self.audit_entries(None, MAX_ENTRIES).await?;
        Ok(entries.into_iter().rev().map(|e| (e.actor, e.action, e.detail)).collect())
    }

    /// The newest `limit` entries (at most [`MAX_ENTRIES`]), newest first, of `sites` (and
    /// the entries of no site: privacy requests) when given.
    pub async fn audit_entries(&self, sites: Option<&[String]>, limit: usize) -> Result<Vec<AuditEntry>, ArchiveError> {
        let limit = limit.clamp(1, MAX_ENTRIES);
        let scope = match sites {
            Some(sites) if !sites.is_empty() => {
                let marks: Vec<String> = (1..=sites.len()).map(|n| format!("${n}")).collect();
                format!("WHERE site IS NULL OR site IN ({})", marks.join(", "))
            }
            Some(_) => "WHERE site IS NULL".to_owned(),
            None => String::new(),
        };
        let sql = format!(
            "SELECT id, at, actor, action, site, conversation_id, detail FROM audit {scope} ORDER BY at DESC, id DESC LIMIT {limit}"
        );
        let mut query = sqlx::query(&sql);
        for site in sites.unwrap_or_default() {
            query = query.bind(site.clone());
        }
        let rows = query.fetch_all(self.pool()).await?;
        rows.iter()
            .map(|row| {
                Ok(AuditEntry {
                    id: row.try_get("id")?,
                    at: from_millis(row.try_get("at")?)?,
                    actor: row.try_get("actor")?,
                    action: row.try_get("action")?,
                    site: row.try_get("site")?,
                    conversation_id: row.try_get("conversation_id")?,
                    detail: row.try_get("detail")?,
                })
            })
            .collect()
    }
}

async fn insert(tx: &mut sqlx::Transaction<'_, sqlx::Any>, entry: &AuditEntry) -> Result<(), ArchiveError> {
    sqlx::query(
        "INSERT INTO audit (id, at, actor, action, site, conversation_id, detail) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(entry.id.clone())
    .bind(millis(entry.at))
    .bind(entry.actor.clone())
    .bind(entry.action.clone())
    .bind(entry.site.clone())
    .bind(entry.conversation_id.clone())
    .bind(entry.detail.clone())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// An id that sorts (as text) by `at`, then by a sequence of this process, then a random
/// part that keeps ids of different nodes apart: entries of one millisecond keep the order
/// they were made in.
pub fn ordered_id(at: DateTime<Utc>) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let ms = u64::try_from(at.timestamp_millis()).unwrap_or(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{ms:012x}-{n:016x}-{}", uuid::Uuid::new_v4().simple())
}

/// Where agents' actions are recorded: a cloneable handle to the writer task's queue.
#[derive(Clone)]
pub struct AuditLog {
    queue: mpsc::Sender<AuditEntry>,
}

impl AuditLog {
    /// Starts the writer, which records into `archive` until `stop`.
    pub fn spawn(archive: Arc<SqlArchive>, stop: CancellationToken) -> AuditLog {
        let (queue, mut entries) = mpsc::channel::<AuditEntry>(QUEUE);
        tokio::spawn(async move {
            while let Some(entry) = tokio::select! {
                () = stop.cancelled() => None,
                entry = entries.recv() => entry,
            } {
                while let Err(error) = write(&archive, &entry).await {
                    tracing::warn!(%error, action = %entry.action, "audit: write failed; retrying");
                    tokio::select! {
                        () = stop.cancelled() => return,
                        () = tokio::time::sleep(RETRY_AFTER) => {}
                    }
                }
            }
        });
        AuditLog { queue }
    }

    /// Queues the entry; never waits (a full queue drops it, with a warning).
    pub fn record(&self, entry: AuditEntry) {
        if let Err(error) = self.queue.try_send(entry) {
            tracing::warn!(%error, "audit: queue full or closed; an entry is lost");
        }
    }
}

async fn write(archive: &SqlArchive, entry: &AuditEntry) -> Result<(), ArchiveError> {
    let mut tx = archive.pool().begin().await?;
    insert(&mut tx, entry).await?;
    tx.commit().await?;
    Ok(())
}

//! [`Archive`] on SQLite or PostgreSQL through `sqlx`'s `Any` driver: one set of migrations
//! (`server/migrations/`, embedded) and one set of queries for both. So the queries keep to
//! what both speak: `$N` parameters, `ON CONFLICT`, `BIGINT` and `TEXT` columns. Times are
//! Unix milliseconds (`BIGINT`), JSON is `TEXT` (each event exactly as it went on the wire).

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row};

use super::reports::{Report, ReportQuery};
use super::{Archive, ArchiveError, ArchivedConversation, Cursor, ExportFilter, visitor_json};
use crate::protocol::{ConversationId, Event};
use crate::store::Conversation;

/// Connections per node: the archiver writes one conversation at a time, and exports and
/// privacy requests are rare.
const MAX_CONNECTIONS: u32 = 4;
/// A connection that cannot be had within this fails the call (the archiver retries).
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);
/// Events per `INSERT` (eight parameters each, well under both databases' limits).
const EVENTS_PER_INSERT: usize = 100;

pub(crate) const CONVERSATION_COLUMNS: &str =
    "id, site, state, started_at, updated_at, last_seq, visitor, records, counters, email, user_id";

pub struct SqlArchive {
    pool: AnyPool,
    sqlite: bool,
    /// Each site's reopen window in milliseconds (`reports.reopen_window_secs`): a
    /// conversation resolved with no person counts as the bot's unless reopened within it.
    reopen_windows: HashMap<String, i64>,
    /// Held while migrating: the archiver, email and the owner's changes each bring the
    /// schema up to date at start, and two runs at once on one SQLite file would race.
    migrating: tokio::sync::Mutex<()>,
}

impl SqlArchive {
    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Connects to `url` (`sqlite://PATH` or `postgres://…`); [`Archive::migrate`] brings its
    /// schema up to date. A SQLite file and its folder are created when missing. The pool connects lazily, so a
    /// PostgreSQL that is down at start is not an error: the archiver waits for it.
    pub async fn connect(url: &str) -> anyhow::Result<SqlArchive> {
        sqlx::any::install_default_drivers();
        let url = prepare_url(url)?;
        let options = AnyPoolOptions::new().max_connections(MAX_CONNECTIONS).acquire_timeout(ACQUIRE_TIMEOUT);
        let pool = options.connect_lazy(&url).context("archive.url is not a valid database URL")?;
        Ok(SqlArchive {
            pool,
            sqlite: url.starts_with("sqlite:"),
            reopen_windows: HashMap::new(),
            migrating: tokio::sync::Mutex::new(()),
        })
    }

    /// Each site's reopen window (sites not named get [`DEFAULT_REOPEN_WINDOW`]).
    pub fn with_reopen_windows(mut self, windows: impl IntoIterator<Item = (String, Duration)>) -> SqlArchive {
        self.reopen_windows = windows
            .into_iter()
            .map(|(site, window)| (site, i64::try_from(window.as_millis()).unwrap_or(i64::MAX)))
            .collect();
        self
    }

    fn reopen_window_ms(&self, site: &str) -> i64 {
        self.reopen_windows.get(site).copied().unwrap_or(DEFAULT_REOPEN_WINDOW.as_millis() as i64)
    }
}

/// The reopen window of a site the archive was not told about (the site setting's default).
pub const DEFAULT_REOPEN_WINDOW: Duration = Duration::from_secs(24 * 3600);

/// A `sqlite://` URL with its folder created and `mode=rwc` (create the file) unless a mode
/// is given; any other URL as it is.
fn prepare_url(url: &str) -> anyhow::Result<String> {
    let Some(rest) = url.strip_prefix("sqlite://") else {
        anyhow::ensure!(
            url.starts_with("postgres://") || url.starts_with("postgresql://"),
            "archive.url must start with sqlite:// or postgres://"
        );
        return Ok(url.to_owned());
    };
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if let Some(folder) = Path::new(path).parent().filter(|f| !f.as_os_str().is_empty()) {
        std::fs::create_dir_all(folder)
            .with_context(|| format!("Failed to create the archive's folder {}", folder.display()))?;
    }
    Ok(match query {
        "" => format!("sqlite://{path}?mode=rwc"),
        query if query.contains("mode=") => url.to_owned(),
        query => format!("sqlite://{path}?{query}&mode=rwc"),
    })
}

pub(crate) fn millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

pub(crate) fn from_millis(ms: i64) -> Result<DateTime<Utc>, ArchiveError> {
    DateTime::from_timestamp_millis(ms).ok_or_else(|| ArchiveError::Corrupt(format!("time {ms}")))
}

fn json_text<T: serde::Serialize>(value: &T) -> String {
    // unwrap: the archived values are plain data (strings, numbers, maps with string keys).
    serde_json::to_string(value).expect("archived values serialise")
}

fn parse_json(text: &str) -> Result<serde_json::Value, ArchiveError> {
    serde_json::from_str(text).map_err(|error| ArchiveError::Corrupt(format!("JSON: {error}")))
}

/// The email a privacy request finds the visitor by: the one they left, else the one the
/// site's page gave (lowercase).
fn subject_email(conversation: &Conversation) -> Option<String> {
    let records = &conversation.records;
    let left = records.contact.as_ref().map(|c| c.email.clone());
    left.or_else(|| records.identity.as_ref().and_then(|i| i.email.clone())).map(|email| email.to_lowercase())
}

/// The conversation's records as one JSON object, by field name.
fn records_json(conversation: &Conversation) -> String {
    let map: serde_json::Map<String, serde_json::Value> = conversation
        .records
        .list()
        .into_iter()
        .map(|record| (record.field().to_owned(), serde_json::from_str(&record.to_json()).unwrap_or_default()))
        .collect();
    json_text(&map)
}

fn state_name(conversation: &Conversation) -> String {
    serde_json::to_value(conversation.state).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

#[async_trait]
impl Archive for SqlArchive {
    /// Runs the embedded migrations (`server/migrations/`); a SQLite file is switched to WAL.
    async fn migrate(&self) -> Result<(), ArchiveError> {
        let _one_at_a_time = self.migrating.lock().await;
        if self.sqlite {
            // Write-ahead logging (kept in the file): readers (exports) never block the
            // archiver, and a commit appends to the log instead of rewriting a journal.
            sqlx::query("PRAGMA journal_mode = WAL").execute(&self.pool).await?;
        }
        sqlx::migrate!("./migrations")
            .run(&self.pool)
            .await
            .map_err(|error| ArchiveError::Unavailable(format!("migrations: {error}")))
    }

    async fn high_water(&self, id: ConversationId) -> Result<u64, ArchiveError> {
        let row = sqlx::query("SELECT COALESCE(MAX(seq), 0) AS hw FROM events WHERE conversation_id = $1")
            .bind(id.to_string())
            .fetch_one(&self.pool)
            .await?;
        Ok(u64::try_from(row.try_get::<i64, _>("hw")?).unwrap_or(0))
    }

    async fn write(&self, conversation: &Conversation, events: &[Arc<Event>], rev: u64) -> Result<u64, ArchiveError> {
        let mut tx = self.pool.begin().await?;
        let written = self.write_in(&mut tx, conversation, events, rev).await?;
        tx.commit().await?;
        Ok(written)
    }

    async fn write_all(&self, copies: &[super::ConversationCopy]) -> Result<u64, ArchiveError> {
        let mut tx = self.pool.begin().await?;
        let mut written = 0;
        for copy in copies {
            written += self.write_in(&mut tx, &copy.conversation, &copy.events, copy.rev).await?;
        }
        tx.commit().await?;
        Ok(written)
    }

    async fn conversation(&self, id: ConversationId) -> Result<Option<ArchivedConversation>, ArchiveError> {
        let sql = format!("SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE id = $1");
        let row = sqlx::query(&sql).bind(id.to_string()).fetch_optional(&self.pool).await?;
        match row {
            Some(row) => Ok(Some(self.with_events(read_conversation(&row)?).await?)),
            None => Ok(None),
        }
    }

    async fn export(
        &self,
        filter: &ExportFilter,
        cursor: Option<&Cursor>,
        limit: usize,
    ) -> Result<Vec<ArchivedConversation>, ArchiveError> {
        let sql = format!(
            "SELECT {CONVERSATION_COLUMNS} FROM conversations \
             WHERE ($1 = '' OR site = $1) AND started_at >= $2 \
               AND (started_at > $3 OR (started_at = $3 AND id > $4)) \
             ORDER BY started_at, id LIMIT $5"
        );
        let (after_ms, after_id) =
            cursor.map_or((i64::MIN, String::new()), |c| (millis(c.started_at), c.id.to_string()));
        let rows = sqlx::query(&sql)
            .bind(filter.site.clone().unwrap_or_default())
            .bind(filter.since.map_or(i64::MIN, millis))
            .bind(after_ms)
            .bind(after_id)
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await?;
        let mut page = Vec::with_capacity(rows.len());
        for row in &rows {
            page.push(self.with_events(read_conversation(row)?).await?);
        }
        Ok(page)
    }

    async fn lag(&self) -> Result<(u64, Option<i64>, Option<i64>), ArchiveError> {
        let rows = sqlx::query("SELECT archived_at - at AS lag FROM events ORDER BY lag").fetch_all(&self.pool).await?;
        let lags: Vec<i64> = rows.iter().map(|row| row.try_get::<i64, _>("lag")).collect::<Result<_, _>>()?;
        let at = |q: f64| {
            let index = ((lags.len() as f64 - 1.0) * q).round() as usize;
            lags.get(index).copied()
        };
        Ok((lags.len() as u64, at(0.5), at(0.99)))
    }

    async fn report(&self, query: &ReportQuery) -> Result<Report, ArchiveError> {
        super::reports::sql::report(&self.pool, query).await
    }

    async fn ping(&self) -> Result<(), ArchiveError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn expire(&self, site: &str, before: DateTime<Utc>) -> Result<super::privacy::Erased, ArchiveError> {
        let mut tx = self.pool.begin().await?;
        let events = sqlx::query(
            "DELETE FROM events WHERE conversation_id IN \
             (SELECT id FROM conversations WHERE site = $1 AND updated_at < $2)",
        )
        .bind(site.to_owned())
        .bind(millis(before))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let conversations = sqlx::query("DELETE FROM conversations WHERE site = $1 AND updated_at < $2")
            .bind(site.to_owned())
            .bind(millis(before))
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(super::privacy::Erased { conversations, events })
    }
}

/// Replaces the row whole, unless the stored row was written from a newer live change.
const UPSERT_CONVERSATION: &str = "INSERT INTO conversations \
    (id, site, state, started_at, updated_at, last_seq, visitor, records, counters, email, user_id, rev, reason) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
    ON CONFLICT (id) DO UPDATE SET state = excluded.state, \
      updated_at = CASE WHEN excluded.updated_at > conversations.updated_at \
                        THEN excluded.updated_at ELSE conversations.updated_at END, \
      last_seq = CASE WHEN excluded.last_seq > conversations.last_seq \
                      THEN excluded.last_seq ELSE conversations.last_seq END, \
      visitor = excluded.visitor, records = excluded.records, counters = excluded.counters, \
      email = COALESCE(excluded.email, conversations.email), \
      user_id = COALESCE(excluded.user_id, conversations.user_id), rev = excluded.rev, \
      reason = COALESCE(excluded.reason, conversations.reason) \
    WHERE conversations.rev <= excluded.rev";

/// One multi-row `INSERT … ON CONFLICT DO NOTHING`; returns how many rows were new.
async fn insert_events(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    events: &[Arc<Event>],
    now: i64,
) -> Result<u64, ArchiveError> {
    if events.is_empty() {
        return Ok(0);
    }
    let values: Vec<String> = (0..events.len())
        .map(|i| {
            let p = i * 8;
            let params: Vec<String> = (p + 1..=p + 8).map(|n| format!("${n}")).collect();
            format!("({})", params.join(", "))
        })
        .collect();
    let sql = format!(
        "INSERT INTO events (conversation_id, seq, at, kind, body, archived_at, speaker, text) VALUES {} \
         ON CONFLICT (conversation_id, seq) DO NOTHING",
        values.join(", ")
    );
    let mut query = sqlx::query(&sql);
    for event in events {
        let body = serde_json::to_value(&**event).map_err(|e| ArchiveError::Corrupt(e.to_string()))?;
        let kind = body["type"].as_str().unwrap_or_default().to_owned();
        let (speaker, text) = super::search::searchable(&event.body);
        query = query
            .bind(event.conversation_id.to_string())
            .bind(i64::try_from(event.seq).unwrap_or(i64::MAX))
            .bind(millis(event.at))
            .bind(kind)
            .bind(body.to_string())
            .bind(now)
            .bind(speaker)
            .bind(text);
    }
    Ok(query.execute(&mut **tx).await?.rows_affected())
}

impl SqlArchive {
    /// Many conversations' writes (each as [`Archive::write`]) in one transaction: bulk
    /// imports and the reports' benchmark, which load a million conversations.
    pub async fn write_batch(&self, batch: &[(Conversation, Vec<Arc<Event>>)], rev: u64) -> Result<u64, ArchiveError> {
        let mut tx = self.pool.begin().await?;
        let mut written = 0;
        for (conversation, events) in batch {
            written += self.write_in(&mut tx, conversation, events, rev).await?;
        }
        tx.commit().await?;
        Ok(written)
    }

    /// The row, the events after the high water, and the reports' fold, inside `tx`.
    async fn write_in(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        conversation: &Conversation,
        events: &[Arc<Event>],
        rev: u64,
    ) -> Result<u64, ArchiveError> {
        let updated = events.last().map_or(conversation.created_at, |event| event.at);
        sqlx::query(UPSERT_CONVERSATION)
            .bind(conversation.id.to_string())
            .bind(conversation.site.clone())
            .bind(state_name(conversation))
            .bind(millis(conversation.created_at))
            .bind(millis(updated))
            .bind(i64::try_from(conversation.last_seq).unwrap_or(i64::MAX))
            .bind(json_text(&visitor_json(&conversation.visitor)))
            .bind(records_json(conversation))
            .bind(json_text(&conversation.counters))
            .bind(subject_email(conversation))
            .bind(conversation.records.identity.as_ref().and_then(|i| i.user_id.clone()))
            .bind(i64::try_from(rev).unwrap_or(i64::MAX))
            .bind(conversation.records.escalation.as_ref().map(|e| super::search::reason_name(e.reason)))
            .execute(&mut **tx)
            .await?;
        let now = millis(Utc::now());
        let mut written = 0;
        for chunk in events.chunks(EVENTS_PER_INSERT) {
            written += insert_events(tx, chunk, now).await?;
        }
        super::reports::sql::record(tx, conversation, events, self.reopen_window_ms(&conversation.site)).await?;
        super::webhooks::fold::record(tx, conversation, events).await?;
        Ok(written)
    }

    async fn with_events(&self, mut conversation: ArchivedConversation) -> Result<ArchivedConversation, ArchiveError> {
        let rows = sqlx::query("SELECT body FROM events WHERE conversation_id = $1 ORDER BY seq")
            .bind(conversation.conversation_id.to_string())
            .fetch_all(&self.pool)
            .await?;
        conversation.events =
            rows.iter().map(|row| parse_json(&row.try_get::<String, _>("body")?)).collect::<Result<_, _>>()?;
        Ok(conversation)
    }
}

pub(crate) fn read_conversation(row: &AnyRow) -> Result<ArchivedConversation, ArchiveError> {
    let id: String = row.try_get("id")?;
    let id = uuid::Uuid::parse_str(&id).map_err(|_| ArchiveError::Corrupt(format!("conversation id {id}")))?;
    Ok(ArchivedConversation {
        conversation_id: ConversationId(id),
        site: row.try_get("site")?,
        started_at: from_millis(row.try_get("started_at")?)?,
        updated_at: from_millis(row.try_get("updated_at")?)?,
        state: row.try_get("state")?,
        last_seq: u64::try_from(row.try_get::<i64, _>("last_seq")?).unwrap_or(0),
        visitor: parse_json(&row.try_get::<String, _>("visitor")?)?,
        records: parse_json(&row.try_get::<String, _>("records")?)?,
        counters: parse_json(&row.try_get::<String, _>("counters")?)?,
        email: row.try_get("email")?,
        user_id: row.try_get("user_id")?,
        events: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_get_their_folder_and_create_mode() {
        let dir = std::env::temp_dir().join(format!("baton-url-{}", uuid::Uuid::new_v4()));
        let url = format!("sqlite://{}/nested/a.sqlite", dir.display());
        assert_eq!(prepare_url(&url).unwrap(), format!("{url}?mode=rwc"));
        assert!(dir.join("nested").is_dir());
        assert_eq!(prepare_url("sqlite://x.db?mode=ro").unwrap(), "sqlite://x.db?mode=ro");
        assert_eq!(prepare_url("sqlite://x.db?cache=shared").unwrap(), "sqlite://x.db?cache=shared&mode=rwc");
        assert_eq!(prepare_url("postgres://u@h/db").unwrap(), "postgres://u@h/db");
        assert!(prepare_url("mysql://h/db").is_err());
        std::fs::remove_dir_all(dir).unwrap();
    }
}

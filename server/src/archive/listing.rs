//! Pages of a site's conversations for the owner API: filtered by state and start time,
//! newest first, without their events (one conversation's events are read with
//! [`super::Archive::conversation`]).

use chrono::{DateTime, Utc};

use super::sql::{CONVERSATION_COLUMNS, SqlArchive, millis, read_conversation};
use super::{ArchiveError, ArchivedConversation, Cursor};

/// Which of a site's conversations a page lists.
#[derive(Clone, Debug)]
pub struct ListFilter {
    pub site: String,
    /// Only conversations in this state (`bot`, `queued`, `assigned`, `resolved`, …).
    pub state: Option<String>,
    /// Started at or after this.
    pub since: Option<DateTime<Utc>>,
    /// Started before this.
    pub until: Option<DateTime<Utc>>,
}

impl SqlArchive {
    /// Up to `limit` conversations matching `filter`, newest first, after `cursor` (the
    /// last of the previous page); their `events` are empty.
    pub async fn list(
        &self,
        filter: &ListFilter,
        cursor: Option<&Cursor>,
        limit: usize,
    ) -> Result<Vec<ArchivedConversation>, ArchiveError> {
        let sql = format!(
            "SELECT {CONVERSATION_COLUMNS} FROM conversations \
             WHERE site = $1 AND ($2 = '' OR state = $2) AND started_at >= $3 AND started_at < $4 \
               AND (started_at < $5 OR (started_at = $5 AND id < $6)) \
             ORDER BY started_at DESC, id DESC LIMIT $7"
        );
        let (before_ms, before_id) =
            cursor.map_or((i64::MAX, "~".to_owned()), |c| (millis(c.started_at), c.id.to_string()));
        let rows = sqlx::query(&sql)
            .bind(filter.site.clone())
            .bind(filter.state.clone().unwrap_or_default())
            .bind(filter.since.map_or(i64::MIN, millis))
            .bind(filter.until.map_or(i64::MAX, millis))
            .bind(before_ms)
            .bind(before_id)
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(read_conversation).collect()
    }
}

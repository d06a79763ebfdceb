//! Pages of a site's conversations for the owner API: filtered by state and start time,
//! newest first, without their events (one conversation's events are read with
//! [`super::Archive::conversation`]).

use chrono::{DateTime, Utc};

use super::paging::{ConversationPage, Param};
use super::privacy::Subject;
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
    /// Only this visitor's (by the email they left or gave, or the site's user id).
    pub visitor: Option<Subject>,
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
        let mut page = ConversationPage::default();
        page.add("c.site = ?", vec![Param::Text(filter.site.clone())]);
        if let Some(state) = filter.state.clone().filter(|s| !s.is_empty()) {
            page.add("c.state = ?", vec![Param::Text(state)]);
        }
        if let Some(visitor) = &filter.visitor {
            let (column, value) = visitor.column_and_value();
            page.add(&format!("c.{column} = ?"), vec![Param::Text(value)]);
        }
        page.started(filter.since.map(millis), filter.until.map(millis));
        page.after(cursor);
        let sql = page.sql(CONVERSATION_COLUMNS, limit);
        let rows = page.bind(sqlx::query(&sql)).fetch_all(self.pool()).await?;
        rows.iter().map(read_conversation).collect()
    }
}

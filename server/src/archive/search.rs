//! Searching the archive: the console's archive page (`GET /v1/agent/archive`) finds old
//! conversations by visitor, email, text, site, date, escalation reason and agent, within the
//! sites the asking agent serves, newest first.
//!
//! Plain SQL that SQLite and PostgreSQL both run: equality on indexed columns (`site`,
//! `started_at`, `email`, `reason`) narrows the rows, and the words are matched with
//! `LOWER(…) LIKE '%…%'` on the messages' and notes' text (`events.text`, filled by the
//! archiver; the JSON body for events archived before that column existed). A substring
//! match reads every message of the conversations the other filters leave, so a search
//! should carry a site or a date range on a large archive; full-text indexes (SQLite FTS5,
//! PostgreSQL `tsvector`) would differ per database and are not used.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;

use super::ArchiveError;
use super::paging::{ConversationPage, Param};
use super::sql::{SqlArchive, from_millis, millis};
use crate::protocol::{EventBody, Reason};

/// The most conversations one search returns.
pub const MAX_RESULTS: usize = 100;

/// What to look for; every field narrows (unset: any).
#[derive(Clone, Debug, Default)]
pub struct SearchQuery {
    /// The sites to search (the asking agent's); `None`: every site.
    pub sites: Option<Vec<String>>,
    /// One site among them.
    pub site: Option<String>,
    /// Part of the visitor's email, id, name or the conversation id (any case).
    pub visitor: Option<String>,
    /// The email the visitor left, exactly (any case).
    pub email: Option<String>,
    /// Words in a message or note (any case).
    pub text: Option<String>,
    /// Started at or after / before.
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub reason: Option<Reason>,
    /// An agent who took (or was given) the conversation, by id.
    pub agent: Option<String>,
    pub limit: usize,
}

/// One conversation found.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SearchHit {
    pub conversation_id: String,
    pub site: String,
    pub state: String,
    pub started_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub reason: Option<String>,
    pub email: Option<String>,
    /// The visitor's first message, as archived (none for events archived before search).
    pub first_message: Option<String>,
}

/// A hit's columns: the conversation's, and its visitor's first message.
const HIT_COLUMNS: &str = "c.id, c.site, c.state, c.started_at, c.updated_at, c.reason, c.email, \
     (SELECT COALESCE(e.text, e.body) FROM events e WHERE e.conversation_id = c.id AND e.kind = 'message' \
        AND (e.speaker = 'visitor' OR (e.speaker IS NULL AND e.body LIKE '%\"from\":\"visitor\"%')) \
      ORDER BY e.seq LIMIT 1) AS first_message";

/// What the archive keeps to search an event by: who spoke and what they said.
pub(crate) fn searchable(body: &EventBody) -> (Option<String>, Option<String>) {
    match body {
        EventBody::Message { from, text, .. } => {
            let speaker = serde_json::to_value(from).ok().and_then(|v| v.as_str().map(str::to_owned));
            (speaker, Some(text.clone()))
        }
        EventBody::Note { text, .. } => (Some("note".to_owned()), Some(text.clone())),
        EventBody::State { .. } | EventBody::Attachment { .. } => (None, None),
    }
}

pub(crate) fn reason_name(reason: Reason) -> String {
    serde_json::to_value(reason).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

/// `%words%` for `LIKE … ESCAPE '\'`, lowercase, its own wildcards escaped.
fn contains(words: &str) -> String {
    let escaped = words.trim().to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

/// The search's clauses, on the shared page builder.
struct Filter;

impl Filter {
    fn build(query: &SearchQuery) -> ConversationPage {
        let mut filter = ConversationPage::default();
        if let Some(sites) = &query.sites {
            let marks = vec!["?"; sites.len().max(1)].join(", ");
            let mut values: Vec<Param> = sites.iter().cloned().map(Param::Text).collect();
            if values.is_empty() {
                values.push(Param::Text(String::new()));
            }
            filter.add(&format!("c.site IN ({marks})"), values);
        }
        if let Some(site) = &query.site {
            filter.add("c.site = ?", vec![Param::Text(site.clone())]);
        }
        if let Some(email) = &query.email {
            filter.add("c.email = ?", vec![Param::Text(email.trim().to_lowercase())]);
        }
        filter.started(query.from.map(millis), query.to.map(millis));
        if let Some(reason) = query.reason {
            let name = reason_name(reason);
            let old = format!("%\"reason\":\"{name}\"%");
            filter.add(
                "(c.reason = ? OR (c.reason IS NULL AND c.records LIKE ?))",
                vec![Param::Text(name), Param::Text(old)],
            );
        }
        Filter::add_words(&mut filter, query);
        filter
    }

    fn add_words(page: &mut ConversationPage, query: &SearchQuery) {
        if let Some(visitor) = &query.visitor {
            let like = contains(visitor);
            let clause = "(LOWER(c.id) LIKE ? ESCAPE '\\' OR LOWER(COALESCE(c.email, '')) LIKE ? ESCAPE '\\' \
                 OR LOWER(COALESCE(c.user_id, '')) LIKE ? ESCAPE '\\' OR LOWER(c.visitor) LIKE ? ESCAPE '\\')";
            page.add(clause, (0..4).map(|_| Param::Text(like.clone())).collect());
        }
        if let Some(text) = &query.text {
            let clause = "EXISTS (SELECT 1 FROM events e WHERE e.conversation_id = c.id \
                 AND e.kind IN ('message', 'note') AND LOWER(COALESCE(e.text, e.body)) LIKE ? ESCAPE '\\')";
            page.add(clause, vec![Param::Text(contains(text))]);
        }
        if let Some(agent) = &query.agent {
            // The state event that gave the chat to an agent names them first: {"id":…}.
            let escaped = agent.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
            let like = format!("%\"agent\":{{\"id\":\"{escaped}\"%");
            let clause = "EXISTS (SELECT 1 FROM events e WHERE e.conversation_id = c.id \
                 AND e.kind = 'state' AND e.body LIKE ? ESCAPE '\\')";
            page.add(clause, vec![Param::Text(like)]);
        }
    }
}

impl SqlArchive {
    /// The conversations matching `query`, newest first, at most `query.limit`
    /// (and [`MAX_RESULTS`]).
    pub async fn search(&self, query: &SearchQuery) -> Result<Vec<SearchHit>, ArchiveError> {
        let filter = Filter::build(query);
        let sql = filter.sql(HIT_COLUMNS, query.limit.clamp(1, MAX_RESULTS));
        let rows = filter.bind(sqlx::query(&sql)).fetch_all(self.pool()).await?;
        rows.iter().map(hit).collect()
    }
}

fn hit(row: &sqlx::any::AnyRow) -> Result<SearchHit, ArchiveError> {
    Ok(SearchHit {
        conversation_id: row.try_get("id")?,
        site: row.try_get("site")?,
        state: row.try_get("state")?,
        started_at: from_millis(row.try_get("started_at")?)?,
        updated_at: from_millis(row.try_get("updated_at")?)?,
        reason: row.try_get("reason")?,
        email: row.try_get("email")?,
        first_message: row.try_get("first_message")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_across_clauses() {
        let query = SearchQuery {
            sites: Some(vec!["a".into(), "b".into()]),
            email: Some("X@Y.io".into()),
            text: Some("50%_off".into()),
            ..SearchQuery::default()
        };
        let filter = Filter::build(&query);
        assert_eq!(filter.clauses[0], "c.site IN ($1, $2)");
        assert_eq!(filter.clauses[1], "c.email = $3");
        assert!(filter.clauses[2].contains("LIKE $4"), "{}", filter.clauses[2]);
        assert_eq!(filter.params.len(), 4);
        assert!(matches!(&filter.params[3], Param::Text(t) if t == "%50\\%\\_off%"));
    }

    #[test]
    fn no_sites_matches_nothing_rather_than_everything() {
        let filter = Filter::build(&SearchQuery { sites: Some(vec![]), ..SearchQuery::default() });
        assert_eq!(filter.clauses, vec!["c.site IN ($1)".to_owned()]);
    }
}

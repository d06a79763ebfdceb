//! Privacy requests on the archive: everything it holds about one visitor, and erasing it.
//! A visitor is found by the email they left (`conversations.email`, lowercase) or the
//! site's `user_id` (`conversations.user_id`); an erase leaves an audit entry with its
//! counts, never the address or id it was asked for.

use serde::Serialize;
use sqlx::Row;

use super::ArchiveError;
use super::sql::SqlArchive;
use crate::protocol::ConversationId;

/// Conversation ids per `DELETE … IN (…)`.
const IDS_PER_DELETE: usize = 200;

/// Who a privacy request is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subject {
    Email(String),
    UserId(String),
}

impl Subject {
    /// The column and the value to match (emails are kept lowercase).
    fn column_and_value(&self) -> (&'static str, String) {
        match self {
            Subject::Email(email) => ("email", email.trim().to_lowercase()),
            Subject::UserId(id) => ("user_id", id.clone()),
        }
    }
}

/// What an erase removed from the archive.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Erased {
    pub conversations: u64,
    pub events: u64,
}

impl SqlArchive {
    /// The ids of the subject's conversations, oldest first.
    pub async fn conversations_of(&self, subject: &Subject) -> Result<Vec<String>, ArchiveError> {
        let (column, value) = subject.column_and_value();
        let sql = format!("SELECT id FROM conversations WHERE {column} = $1 ORDER BY started_at, id");
        let rows = sqlx::query(&sql).bind(value).fetch_all(self.pool()).await?;
        rows.iter().map(|row| row.try_get::<String, _>("id").map_err(ArchiveError::from)).collect()
    }

    /// Removes the subject's conversations and those of `ids` (found elsewhere: the live
    /// store, left messages), with their events, and records the erase in the audit log
    /// (by `actor`, with its counts), in one transaction.
    pub async fn erase(&self, subject: &Subject, actor: &str, ids: &[ConversationId]) -> Result<Erased, ArchiveError> {
        let (column, value) = subject.column_and_value();
        let mut tx = self.pool().begin().await?;
        let mut erased = Erased::default();
        let mut ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
        let by_subject = format!("SELECT id FROM conversations WHERE {column} = $1");
        for row in sqlx::query(&by_subject).bind(value).fetch_all(&mut *tx).await? {
            ids.push(row.try_get("id")?);
        }
        ids.sort_unstable();
        ids.dedup();
        for chunk in ids.chunks(IDS_PER_DELETE) {
            let marks: Vec<String> = (1..=chunk.len()).map(|n| format!("${n}")).collect();
            let marks = marks.join(", ");
            for (table, key, count) in
                [("events", "conversation_id", &mut erased.events), ("conversations", "id", &mut erased.conversations)]
            {
                let sql = format!("DELETE FROM {table} WHERE {key} IN ({marks})");
                let mut query = sqlx::query(&sql);
                for id in chunk {
                    query = query.bind(id.clone());
                }
                *count += query.execute(&mut *tx).await?.rows_affected();
            }
            super::webhooks::erase_in(&mut tx, chunk).await?;
        }
        let detail = serde_json::json!({ "by": column, "erased": erased }).to_string();
        self.audit_in(&mut tx, actor, "privacy_erase", None, &detail).await?;
        tx.commit().await?;
        Ok(erased)
    }
}

//! Privacy requests on the archive: everything it holds about one visitor, and erasing it.
//! A visitor is found by the email they left (`conversations.email`, lowercase) or the
//! site's `user_id` (`conversations.user_id`), on every site (an admin of every site, the
//! CLI) or on one (a site's API key: another site's visitor with the same address or id is
//! another person); an erase leaves an audit entry with its counts, never the address or id
//! it was asked for.

use serde::Serialize;
use sqlx::Row;

use super::sql::SqlArchive;
use super::{Archive, ArchiveError, ArchivedConversation};
use crate::protocol::ConversationId;
use crate::store::LeftMessage;

/// Conversation ids per `DELETE … IN (…)`.
const IDS_PER_DELETE: usize = 200;

/// Who a privacy request is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subject {
    Email(String),
    UserId(String),
}

impl Subject {
    /// `{"email": …}` or `{"user_id": …}`, as an export names it.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Subject::Email(email) => serde_json::json!({ "email": email }),
            Subject::UserId(id) => serde_json::json!({ "user_id": id }),
        }
    }

    /// Whether a left message is this subject's (only an email names one).
    pub fn left(&self, message: &LeftMessage) -> bool {
        matches!(self, Subject::Email(email) if message.email.trim().to_lowercase() == email.trim().to_lowercase())
    }

    /// The column and the value to match (emails are kept lowercase).
    pub(crate) fn column_and_value(&self) -> (&'static str, String) {
        match self {
            Subject::Email(email) => ("email", email.trim().to_lowercase()),
            Subject::UserId(id) => ("user_id", id.clone()),
        }
    }
}

/// What an erase removed from the archive.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Erased {
    pub conversations: u64,
    pub events: u64,
}

/// Everything Baton holds about one visitor: `baton privacy export`'s object.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct PrivacyExport {
    /// Who was asked for: `{"email": …}` or `{"user_id": …}`.
    #[schema(value_type = Object)]
    pub subject: serde_json::Value,
    /// Each archived conversation with its records and every event, as `baton export` prints it.
    #[schema(value_type = Vec<Object>)]
    pub conversations: Vec<ArchivedConversation>,
    /// The messages they left for the team (by email), as the live store holds them.
    #[schema(value_type = Vec<Object>)]
    pub left_messages: Vec<LeftMessage>,
}

impl SqlArchive {
    /// Everything the archive holds about the subject (on `site` only, when given), with the
    /// left messages of `left` that are theirs (what the live store holds), as one JSON
    /// object; recorded in the audit log by `actor`, with its count. What `baton privacy
    /// export` prints and the owner API's visitor export answers.
    pub async fn privacy_export(
        &self,
        subject: &Subject,
        site: Option<&str>,
        left: Vec<LeftMessage>,
        actor: &str,
    ) -> Result<PrivacyExport, ArchiveError> {
        let mut conversations: Vec<ArchivedConversation> = Vec::new();
        for id in self.conversations_of(subject, site).await? {
            let id = uuid::Uuid::parse_str(&id).map_err(|_| ArchiveError::Corrupt(format!("conversation id {id}")))?;
            conversations.extend(self.conversation(ConversationId(id)).await?);
        }
        let left_messages: Vec<LeftMessage> =
            left.into_iter().filter(|m| subject.left(m) && site.is_none_or(|site| m.site == site)).collect();
        let detail = serde_json::json!({ "conversations": conversations.len() }).to_string();
        self.audit(actor, "privacy_export", site, &detail).await?;
        Ok(PrivacyExport { subject: subject.to_json(), conversations, left_messages })
    }

    /// The ids of the subject's conversations (on `site` only, when given), oldest first.
    pub async fn conversations_of(&self, subject: &Subject, site: Option<&str>) -> Result<Vec<String>, ArchiveError> {
        let sql = format!("SELECT id FROM conversations WHERE {} ORDER BY started_at, id", by_subject(subject, site));
        let rows = bind_subject(sqlx::query(&sql), subject, site).fetch_all(self.pool()).await?;
        rows.iter().map(|row| row.try_get::<String, _>("id").map_err(ArchiveError::from)).collect()
    }

    /// Removes the subject's conversations (on `site` only, when given) and those of `ids`
    /// (found elsewhere: the live store, left messages), with their events, and records the
    /// erase in the audit log (by `actor`, with its counts), in one transaction.
    pub async fn erase(
        &self,
        subject: &Subject,
        site: Option<&str>,
        actor: &str,
        ids: &[ConversationId],
    ) -> Result<Erased, ArchiveError> {
        let (column, _) = subject.column_and_value();
        let mut tx = self.pool().begin().await?;
        let mut erased = Erased::default();
        let mut ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
        let sql = format!("SELECT id FROM conversations WHERE {}", by_subject(subject, site));
        for row in bind_subject(sqlx::query(&sql), subject, site).fetch_all(&mut *tx).await? {
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
        self.audit_in(&mut tx, actor, "privacy_erase", site, &detail).await?;
        tx.commit().await?;
        Ok(erased)
    }
}

/// The condition on `conversations` that finds the subject (on `site`, when given), its
/// parameters bound by [`bind_subject`].
pub(crate) fn by_subject(subject: &Subject, site: Option<&str>) -> String {
    let (column, _) = subject.column_and_value();
    match site {
        Some(_) => format!("{column} = $1 AND site = $2"),
        None => format!("{column} = $1"),
    }
}

pub(crate) fn bind_subject<'q>(
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    subject: &Subject,
    site: Option<&str>,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    let query = query.bind(subject.column_and_value().1);
    match site {
        Some(site) => query.bind(site.to_owned()),
        None => query,
    }
}

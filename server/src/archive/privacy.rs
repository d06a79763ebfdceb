//! Privacy requests on the archive: everything it holds about one visitor, and erasing it.
//! A visitor is found by the email they left (`conversations.email`, lowercase) or the
//! site's `user_id` (`conversations.user_id`); an erase leaves an audit entry with its
//! counts, never the address or id it was asked for.

use serde::Serialize;
use sqlx::Row;

use super::ArchiveError;
use super::sql::{SqlArchive, millis};

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

    /// Removes the subject's conversations and their events, and records the erase in the
    /// audit log (by `actor`, with its counts), in one transaction.
    pub async fn erase(&self, subject: &Subject, actor: &str) -> Result<Erased, ArchiveError> {
        let (column, value) = subject.column_and_value();
        let mut tx = self.pool().begin().await?;
        let events =
            format!("DELETE FROM events WHERE conversation_id IN (SELECT id FROM conversations WHERE {column} = $1)");
        let events = sqlx::query(&events).bind(value.clone()).execute(&mut *tx).await?.rows_affected();
        let rows = format!("DELETE FROM conversations WHERE {column} = $1");
        let conversations = sqlx::query(&rows).bind(value).execute(&mut *tx).await?.rows_affected();
        let erased = Erased { conversations, events };
        let detail = serde_json::json!({ "by": column, "erased": erased }).to_string();
        self.audit_in(&mut tx, actor, "privacy_erase", None, &detail).await?;
        tx.commit().await?;
        Ok(erased)
    }

    /// Records an action in the audit log.
    pub async fn audit(&self, actor: &str, action: &str, site: Option<&str>, detail: &str) -> Result<(), ArchiveError> {
        let mut tx = self.pool().begin().await?;
        self.audit_in(&mut tx, actor, action, site, detail).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn audit_in(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        actor: &str,
        action: &str,
        site: Option<&str>,
        detail: &str,
    ) -> Result<(), ArchiveError> {
        sqlx::query("INSERT INTO audit (id, at, actor, action, site, conversation_id, detail) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(uuid::Uuid::new_v4().to_string())
            .bind(millis(chrono::Utc::now()))
            .bind(actor.to_owned())
            .bind(action.to_owned())
            .bind(site.map(str::to_owned))
            .bind(Option::<String>::None)
            .bind(detail.to_owned())
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    /// The audit log, oldest first: `(actor, action, detail)`.
    pub async fn audit_log(&self) -> Result<Vec<(String, String, String)>, ArchiveError> {
        let rows =
            sqlx::query("SELECT actor, action, detail FROM audit ORDER BY at, id").fetch_all(self.pool()).await?;
        rows.iter().map(|row| Ok((row.try_get("actor")?, row.try_get("action")?, row.try_get("detail")?))).collect()
    }
}

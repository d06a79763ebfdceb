//! The email outbox, in the archive (one durable place every node shares): an email is
//! written here before anyone tries to send it, claimed by one node's sender at a time (a
//! claim is a lease on `next_at`), and marked sent, retried later, or given up.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::ArchiveError;
use super::sql::{SqlArchive, from_millis, millis};
use crate::protocol::ConversationId;

/// What an email is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MailKind {
    /// A left message's confirmation, with the resume link.
    Confirmation,
    /// An agent's reply to a left message, with the resume link.
    Reply,
    /// The conversation's transcript, which the visitor asked for.
    Transcript,
}

impl MailKind {
    fn name(self) -> &'static str {
        match self {
            MailKind::Confirmation => "confirmation",
            MailKind::Reply => "reply",
            MailKind::Transcript => "transcript",
        }
    }

    fn parse(name: &str) -> MailKind {
        match name {
            "reply" => MailKind::Reply,
            "transcript" => MailKind::Transcript,
            _ => MailKind::Confirmation,
        }
    }
}

/// An email to send.
#[derive(Clone, Debug, PartialEq)]
pub struct OutgoingMail {
    pub id: String,
    pub site: String,
    pub conversation_id: ConversationId,
    pub kind: MailKind,
    pub recipient: String,
    pub subject: String,
    pub body: String,
}

/// Where an email stands, as the console shows it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MailStatus {
    pub id: String,
    pub kind: MailKind,
    pub recipient: String,
    /// `pending` (not yet sent), `sent`, or `failed` (given up).
    pub status: String,
    pub attempts: u32,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    #[error("the email outbox is full ({0} waiting)")]
    Full(u64),
    #[error(transparent)]
    Archive(#[from] ArchiveError),
}

impl From<sqlx::Error> for OutboxError {
    fn from(error: sqlx::Error) -> OutboxError {
        OutboxError::Archive(error.into())
    }
}

impl SqlArchive {
    /// Writes an email to send now, unless `max_pending` are waiting already.
    pub async fn queue_mail(&self, mail: &OutgoingMail, max_pending: u64) -> Result<(), OutboxError> {
        let waiting: i64 = sqlx::query("SELECT COUNT(*) FROM mail_outbox WHERE status = 'pending'")
            .fetch_one(self.pool())
            .await?
            .try_get(0)?;
        let waiting = u64::try_from(waiting).unwrap_or(0);
        if waiting >= max_pending {
            return Err(OutboxError::Full(waiting));
        }
        let now = millis(Utc::now());
        sqlx::query(
            "INSERT INTO mail_outbox (id, site, conversation_id, kind, recipient, subject, body, created_at, \
             attempts, next_at, status) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $8, 'pending')",
        )
        .bind(&mail.id)
        .bind(&mail.site)
        .bind(mail.conversation_id.to_string())
        .bind(mail.kind.name())
        .bind(&mail.recipient)
        .bind(&mail.subject)
        .bind(&mail.body)
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Up to `limit` due emails, each claimed for `lease` (no other sender takes it meanwhile),
    /// with the attempts made so far.
    pub async fn claim_due_mail(
        &self,
        lease: Duration,
        limit: usize,
    ) -> Result<Vec<(OutgoingMail, u32)>, ArchiveError> {
        let now = millis(Utc::now());
        let rows = sqlx::query(
            "SELECT id, site, conversation_id, kind, recipient, subject, body, attempts, next_at FROM mail_outbox \
             WHERE status = 'pending' AND next_at <= $1 ORDER BY next_at LIMIT $2",
        )
        .bind(now)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(self.pool())
        .await?;
        let until = now + i64::try_from(lease.as_millis()).unwrap_or(i64::MAX / 2);
        let mut claimed = Vec::new();
        for row in rows {
            let (id, next_at): (String, i64) = (row.try_get("id")?, row.try_get("next_at")?);
            let taken = sqlx::query("UPDATE mail_outbox SET next_at = $1 WHERE id = $2 AND next_at = $3")
                .bind(until)
                .bind(&id)
                .bind(next_at)
                .execute(self.pool())
                .await?;
            if taken.rows_affected() == 1 {
                claimed.push(outgoing(&row)?);
            }
        }
        Ok(claimed)
    }

    pub async fn mail_sent(&self, id: &str) -> Result<(), ArchiveError> {
        sqlx::query("UPDATE mail_outbox SET status = 'sent', sent_at = $1, attempts = attempts + 1 WHERE id = $2")
            .bind(millis(Utc::now()))
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// An attempt failed: tried again at `retry_at`, or given up when `None`.
    pub async fn mail_failed(
        &self,
        id: &str,
        retry_at: Option<DateTime<Utc>>,
        error: &str,
    ) -> Result<(), ArchiveError> {
        let (status, next_at) = match retry_at {
            Some(at) => ("pending", millis(at)),
            None => ("failed", millis(Utc::now())),
        };
        sqlx::query(
            "UPDATE mail_outbox SET status = $1, next_at = $2, attempts = attempts + 1, last_error = $3 WHERE id = $4",
        )
        .bind(status)
        .bind(next_at)
        .bind(error)
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The emails of a conversation, oldest first.
    pub async fn mail_of(&self, id: ConversationId) -> Result<Vec<MailStatus>, ArchiveError> {
        let rows = sqlx::query(
            "SELECT id, kind, recipient, status, attempts, created_at, sent_at, last_error FROM mail_outbox \
             WHERE conversation_id = $1 ORDER BY created_at, id",
        )
        .bind(id.to_string())
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(status).collect()
    }
}

fn outgoing(row: &AnyRow) -> Result<(OutgoingMail, u32), ArchiveError> {
    let conversation: String = row.try_get("conversation_id")?;
    let conversation_id = uuid::Uuid::parse_str(&conversation)
        .map(ConversationId)
        .map_err(|_| ArchiveError::Corrupt(format!("conversation id {conversation:?}")))?;
    let mail = OutgoingMail {
        id: row.try_get("id")?,
        site: row.try_get("site")?,
        conversation_id,
        kind: MailKind::parse(&row.try_get::<String, _>("kind")?),
        recipient: row.try_get("recipient")?,
        subject: row.try_get("subject")?,
        body: row.try_get("body")?,
    };
    let attempts: i64 = row.try_get("attempts")?;
    Ok((mail, u32::try_from(attempts).unwrap_or(u32::MAX)))
}

fn status(row: &AnyRow) -> Result<MailStatus, ArchiveError> {
    let sent_at: Option<i64> = row.try_get("sent_at")?;
    Ok(MailStatus {
        id: row.try_get("id")?,
        kind: MailKind::parse(&row.try_get::<String, _>("kind")?),
        recipient: row.try_get("recipient")?,
        status: row.try_get("status")?,
        attempts: u32::try_from(row.try_get::<i64, _>("attempts")?).unwrap_or(u32::MAX),
        created_at: from_millis(row.try_get("created_at")?)?,
        sent_at: sent_at.map(from_millis).transpose()?,
        last_error: row.try_get("last_error")?,
    })
}

//! The webhook outbox: claiming due deliveries (a claim is a lease on `next_at`, as for the
//! email outbox), recording each attempt, the delivery log the API shows, manual
//! redelivery, the backlog figure and pruning.
//!
//! # Order
//! A delivery is due only when no earlier delivery (lower `ord`) of the same conversation
//! to the same subscription is still pending, so each subscription receives a
//! conversation's events in order, one at a time, however many nodes and workers claim;
//! different conversations go in parallel. A delivery given up (`failed`) no longer holds
//! the ones after it.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::archive::ArchiveError;
use crate::archive::sql::{SqlArchive, from_millis, millis};

/// A delivery claimed for sending.
#[derive(Clone, Debug)]
pub struct Due {
    pub id: String,
    pub subscription_id: String,
    pub event_id: String,
    pub url: String,
    pub secret: String,
    /// The secret a rotation replaced, while its overlap lasts: deliveries are signed with
    /// both.
    pub previous_secret: Option<String>,
    pub body: String,
    /// Attempts made before this one.
    pub attempts: u32,
    /// Retries run for `webhooks.retry_hours` from this.
    pub retry_from: DateTime<Utc>,
}

/// What became of one attempt.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// A 2xx answer.
    Delivered { status: u16 },
    /// No 2xx answer (`status` is what came, if anything): tried again at `retry_at`, or
    /// given up when `None`.
    Failed { status: Option<u16>, error: String, retry_at: Option<DateTime<Utc>> },
}

/// One attempt, as the delivery log shows it.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AttemptView {
    pub attempt: u32,
    pub at: DateTime<Utc>,
    /// The receiver's HTTP status; null when it did not answer.
    pub status: Option<u16>,
    pub error: Option<String>,
    pub took_ms: u64,
}

/// One delivery, as the delivery log shows it.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct DeliveryView {
    pub id: String,
    pub event_id: String,
    pub event_type: String,
    pub conversation_id: String,
    /// `pending`, `delivered` or `failed` (given up).
    pub status: String,
    pub attempts: u32,
    /// The last attempt's HTTP status (null: none yet, or no answer).
    pub last_status: Option<u16>,
    pub last_error: Option<String>,
    /// When the next attempt is due (pending deliveries only).
    pub next_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
    /// The event as it is sent.
    #[schema(value_type = Object)]
    pub event: serde_json::Value,
    /// Every attempt, oldest first (in the answer for one delivery only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempt_log: Option<Vec<AttemptView>>,
}

const DUE: &str = "SELECT d.id, d.subscription_id, d.event_id, d.body, d.attempts, d.next_at, d.retry_from, \
    s.url, s.secret, s.previous_secret, s.previous_until FROM webhook_deliveries d JOIN webhook_subscriptions s ON s.id = d.subscription_id \
    WHERE d.status = 'pending' AND d.next_at <= $1 AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e \
      WHERE e.subscription_id = d.subscription_id AND e.conversation_id = d.conversation_id \
        AND e.status = 'pending' AND e.ord < d.ord) \
    ORDER BY d.next_at LIMIT $2";

const VIEW_COLUMNS: &str = "id, event_id, event_type, conversation_id, status, attempts, last_status, last_error, \
    next_at, created_at, delivered_at, body";

impl SqlArchive {
    /// Up to `limit` due deliveries, each claimed for `lease` (no other dispatcher takes it
    /// meanwhile; a dispatcher that dies holding it lets it go when the lease ends).
    pub async fn claim_webhooks(&self, lease: Duration, limit: usize) -> Result<Vec<Due>, ArchiveError> {
        let now = millis(Utc::now());
        let rows =
            sqlx::query(DUE).bind(now).bind(i64::try_from(limit).unwrap_or(i64::MAX)).fetch_all(self.pool()).await?;
        let until = now.saturating_add(i64::try_from(lease.as_millis()).unwrap_or(i64::MAX / 2));
        let mut claimed = Vec::new();
        for row in rows {
            let (id, next_at): (String, i64) = (row.try_get("id")?, row.try_get("next_at")?);
            let taken = sqlx::query(
                "UPDATE webhook_deliveries SET next_at = $1 WHERE id = $2 AND next_at = $3 AND status = 'pending'",
            )
            .bind(until)
            .bind(&id)
            .bind(next_at)
            .execute(self.pool())
            .await?;
            if taken.rows_affected() == 1 {
                claimed.push(due(&row)?);
            }
        }
        Ok(claimed)
    }

    /// Records one attempt of `due` and its outcome.
    pub async fn webhook_attempted(&self, due: &Due, outcome: &Outcome, took: Duration) -> Result<(), ArchiveError> {
        let now = millis(Utc::now());
        let (status, code, error, next_at, delivered_at) = match outcome {
            Outcome::Delivered { status } => ("delivered", Some(*status), None, now, Some(now)),
            Outcome::Failed { status, error, retry_at: Some(at) } => {
                ("pending", *status, Some(error), millis(*at), None)
            }
            Outcome::Failed { status, error, retry_at: None } => ("failed", *status, Some(error), now, None),
        };
        let mut tx = self.pool().begin().await?;
        sqlx::query(
            "INSERT INTO webhook_attempts (delivery_id, attempt, at, status, error, took_ms) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (delivery_id, attempt) DO NOTHING",
        )
        .bind(due.id.clone())
        .bind(i64::from(due.attempts) + 1)
        .bind(now)
        .bind(code.map(i64::from))
        .bind(error.cloned())
        .bind(i64::try_from(took.as_millis()).unwrap_or(i64::MAX))
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE webhook_deliveries SET status = $1, attempts = attempts + 1, last_status = $2, last_error = $3, \
             next_at = $4, delivered_at = COALESCE($5, delivered_at) WHERE id = $6",
        )
        .bind(status)
        .bind(code.map(i64::from))
        .bind(error.cloned())
        .bind(next_at)
        .bind(delivered_at)
        .bind(due.id.clone())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A subscription's deliveries, newest first: `status` filters, at most `limit`.
    pub async fn webhook_deliveries(
        &self,
        subscription_id: &str,
        status: Option<&str>,
        limit: usize,
    ) -> Result<Vec<DeliveryView>, ArchiveError> {
        let sql = format!(
            "SELECT {VIEW_COLUMNS} FROM webhook_deliveries WHERE subscription_id = $1 AND ($2 = '' OR status = $2) \
             ORDER BY created_at DESC, ord DESC LIMIT $3"
        );
        let rows = sqlx::query(&sql)
            .bind(subscription_id.to_owned())
            .bind(status.unwrap_or_default().to_owned())
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(view).collect()
    }

    /// One delivery of a subscription, with every attempt.
    pub async fn webhook_delivery(
        &self,
        subscription_id: &str,
        id: &str,
    ) -> Result<Option<DeliveryView>, ArchiveError> {
        let sql = format!("SELECT {VIEW_COLUMNS} FROM webhook_deliveries WHERE subscription_id = $1 AND id = $2");
        let row =
            sqlx::query(&sql).bind(subscription_id.to_owned()).bind(id.to_owned()).fetch_optional(self.pool()).await?;
        let Some(mut delivery) = row.as_ref().map(view).transpose()? else { return Ok(None) };
        let rows = sqlx::query(
            "SELECT attempt, at, status, error, took_ms FROM webhook_attempts WHERE delivery_id = $1 ORDER BY attempt",
        )
        .bind(id.to_owned())
        .fetch_all(self.pool())
        .await?;
        delivery.attempt_log = Some(rows.iter().map(attempt).collect::<Result<_, _>>()?);
        Ok(Some(delivery))
    }

    /// Sends a delivery again, now, with a fresh retry window; a delivered one too. It keeps
    /// its place in its conversation's order. `false`: no such delivery.
    pub async fn redeliver_webhook(&self, subscription_id: &str, id: &str) -> Result<bool, ArchiveError> {
        let now = millis(Utc::now());
        let done = sqlx::query(
            "UPDATE webhook_deliveries SET status = 'pending', next_at = $1, retry_from = $1 \
             WHERE subscription_id = $2 AND id = $3",
        )
        .bind(now)
        .bind(subscription_id.to_owned())
        .bind(id.to_owned())
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Deliveries not yet delivered nor given up, over every site.
    pub async fn webhook_backlog(&self) -> Result<u64, ArchiveError> {
        let count: i64 = sqlx::query("SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'pending'")
            .fetch_one(self.pool())
            .await?
            .try_get(0)?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    /// Deletes delivered and given-up deliveries (with their log) made before `before`;
    /// returns how many went.
    pub async fn prune_webhooks(&self, before: DateTime<Utc>) -> Result<u64, ArchiveError> {
        let mut tx = self.pool().begin().await?;
        sqlx::query(
            "DELETE FROM webhook_attempts WHERE delivery_id IN (SELECT id FROM webhook_deliveries \
             WHERE status <> 'pending' AND created_at < $1)",
        )
        .bind(millis(before))
        .execute(&mut *tx)
        .await?;
        let gone = sqlx::query("DELETE FROM webhook_deliveries WHERE status <> 'pending' AND created_at < $1")
            .bind(millis(before))
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(gone)
    }
}

fn count(value: i64) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

fn code(value: Option<i64>) -> Option<u16> {
    value.and_then(|v| u16::try_from(v).ok())
}

fn due(row: &AnyRow) -> Result<Due, ArchiveError> {
    Ok(Due {
        id: row.try_get("id")?,
        subscription_id: row.try_get("subscription_id")?,
        event_id: row.try_get("event_id")?,
        url: row.try_get("url")?,
        secret: row.try_get("secret")?,
        previous_secret: previous_secret(row)?,
        body: row.try_get("body")?,
        attempts: count(row.try_get("attempts")?),
        retry_from: from_millis(row.try_get("retry_from")?)?,
    })
}

/// The rotated-out secret, if its overlap has not ended.
fn previous_secret(row: &AnyRow) -> Result<Option<String>, ArchiveError> {
    let until: Option<i64> = row.try_get("previous_until")?;
    let secret: Option<String> = row.try_get("previous_secret")?;
    Ok(secret.filter(|_| until.is_some_and(|until| until > millis(Utc::now()))))
}

fn view(row: &AnyRow) -> Result<DeliveryView, ArchiveError> {
    let status: String = row.try_get("status")?;
    let delivered_at: Option<i64> = row.try_get("delivered_at")?;
    let body: String = row.try_get("body")?;
    Ok(DeliveryView {
        id: row.try_get("id")?,
        event_id: row.try_get("event_id")?,
        event_type: row.try_get("event_type")?,
        conversation_id: row.try_get("conversation_id")?,
        next_at: match status.as_str() {
            "pending" => Some(from_millis(row.try_get("next_at")?)?),
            _ => None,
        },
        status,
        attempts: count(row.try_get("attempts")?),
        last_status: code(row.try_get("last_status")?),
        last_error: row.try_get("last_error")?,
        created_at: from_millis(row.try_get("created_at")?)?,
        delivered_at: delivered_at.map(from_millis).transpose()?,
        event: serde_json::from_str(&body).map_err(|e| ArchiveError::Corrupt(format!("webhook body: {e}")))?,
        attempt_log: None,
    })
}

fn attempt(row: &AnyRow) -> Result<AttemptView, ArchiveError> {
    Ok(AttemptView {
        attempt: count(row.try_get("attempt")?),
        at: from_millis(row.try_get("at")?)?,
        status: code(row.try_get("status")?),
        error: row.try_get("error")?,
        took_ms: u64::try_from(row.try_get::<i64, _>("took_ms")?).unwrap_or(0),
    })
}

//! Webhooks, on the archive's side: a site's subscriptions ([`Subscription`]), the events the
//! archive's own writes derive from the live log ([`fold`], inside the write's transaction)
//! and the outbox of deliveries that each node's dispatcher (`crate::webhooks`) claims,
//! sends and records ([`outbox`]).
//!
//! Because the outbox is filled in the same transaction as the archive's events, it is
//! exactly as durable and as ordered as the archive: an event is archived once, and with it
//! its deliveries are queued once; a node killed anywhere leaves either both or neither.

pub mod fold;
pub mod outbox;

use chrono::{DateTime, Utc};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::ArchiveError;
use super::sql::{SqlArchive, from_millis, millis};

/// What a subscription can ask for. The names are a contract with receivers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
pub enum EventType {
    #[serde(rename = "conversation.created")]
    ConversationCreated,
    #[serde(rename = "message.created")]
    MessageCreated,
    #[serde(rename = "conversation.escalated")]
    ConversationEscalated,
    #[serde(rename = "conversation.assigned")]
    ConversationAssigned,
    #[serde(rename = "conversation.resolved")]
    ConversationResolved,
    #[serde(rename = "csat.submitted")]
    CsatSubmitted,
    #[serde(rename = "left_message.created")]
    LeftMessageCreated,
}

impl EventType {
    pub const ALL: [EventType; 7] = [
        EventType::ConversationCreated,
        EventType::MessageCreated,
        EventType::ConversationEscalated,
        EventType::ConversationAssigned,
        EventType::ConversationResolved,
        EventType::CsatSubmitted,
        EventType::LeftMessageCreated,
    ];

    pub fn name(self) -> &'static str {
        match self {
            EventType::ConversationCreated => "conversation.created",
            EventType::MessageCreated => "message.created",
            EventType::ConversationEscalated => "conversation.escalated",
            EventType::ConversationAssigned => "conversation.assigned",
            EventType::ConversationResolved => "conversation.resolved",
            EventType::CsatSubmitted => "csat.submitted",
            EventType::LeftMessageCreated => "left_message.created",
        }
    }

    pub fn parse(name: &str) -> Option<EventType> {
        EventType::ALL.into_iter().find(|kind| kind.name() == name)
    }
}

/// A site's subscription, as lists show it (never its secret).
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Subscription {
    pub id: String,
    pub site: String,
    /// Where deliveries are `POST`ed.
    pub url: String,
    pub events: Vec<EventType>,
    pub created_at: DateTime<Utc>,
    /// Until when deliveries are also signed with the secret the last rotation replaced
    /// (null: no rotation, or its overlap is over).
    pub previous_secret_until: Option<DateTime<Utc>>,
}

/// The prefix of a subscription's signing secret (32 random bytes in hex follow it).
const SECRET_PREFIX: &str = "whsec_";

fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{SECRET_PREFIX}{}", crate::hex::encode(&bytes))
}

const SUBSCRIPTION_COLUMNS: &str = "id, site, url, events, created_at, previous_until";

impl SqlArchive {
    /// Subscribes `url` to `events` of `site`; returns it and its signing secret (shown only
    /// now). Refused (`None`) when the site has `max` subscriptions already.
    pub async fn create_subscription(
        &self,
        site: &str,
        url: &str,
        events: &[EventType],
        max: u64,
    ) -> Result<Option<(Subscription, String)>, ArchiveError> {
        let count: i64 = sqlx::query("SELECT COUNT(*) FROM webhook_subscriptions WHERE site = $1")
            .bind(site.to_owned())
            .fetch_one(self.pool())
            .await?
            .try_get(0)?;
        if u64::try_from(count).unwrap_or(0) >= max {
            return Ok(None);
        }
        let mut events = events.to_vec();
        events.sort();
        events.dedup();
        let subscription = Subscription {
            id: uuid::Uuid::new_v4().to_string(),
            site: site.to_owned(),
            url: url.to_owned(),
            events,
            created_at: from_millis(millis(Utc::now()))?,
            previous_secret_until: None,
        };
        let secret = new_secret();
        sqlx::query(
            "INSERT INTO webhook_subscriptions (id, site, url, events, secret, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(subscription.id.clone())
        .bind(subscription.site.clone())
        .bind(subscription.url.clone())
        .bind(events_text(&subscription.events))
        .bind(secret.clone())
        .bind(millis(subscription.created_at))
        .execute(self.pool())
        .await?;
        Ok(Some((subscription, secret)))
    }

    /// `site`'s subscriptions, oldest first.
    pub async fn subscriptions(&self, site: &str) -> Result<Vec<Subscription>, ArchiveError> {
        let sql =
            format!("SELECT {SUBSCRIPTION_COLUMNS} FROM webhook_subscriptions WHERE site = $1 ORDER BY created_at, id");
        let rows = sqlx::query(&sql).bind(site.to_owned()).fetch_all(self.pool()).await?;
        rows.iter().map(read_subscription).collect()
    }

    /// One of `site`'s subscriptions (another site's is `None`).
    pub async fn subscription(&self, site: &str, id: &str) -> Result<Option<Subscription>, ArchiveError> {
        let sql = format!("SELECT {SUBSCRIPTION_COLUMNS} FROM webhook_subscriptions WHERE site = $1 AND id = $2");
        let row = sqlx::query(&sql).bind(site.to_owned()).bind(id.to_owned()).fetch_optional(self.pool()).await?;
        row.as_ref().map(read_subscription).transpose()
    }

    /// Points one of `site`'s subscriptions at `url` and/or gives it `events` (what is `None`
    /// stays); `None`: the site has no such subscription. Its deliveries already queued keep
    /// the events they are; they go to the new URL.
    pub async fn update_subscription(
        &self,
        site: &str,
        id: &str,
        url: Option<&str>,
        events: Option<&[EventType]>,
    ) -> Result<Option<Subscription>, ArchiveError> {
        let Some(current) = self.subscription(site, id).await? else { return Ok(None) };
        let url = url.map_or(current.url, str::to_owned);
        let mut events = events.map_or(current.events, <[EventType]>::to_vec);
        events.sort();
        events.dedup();
        sqlx::query("UPDATE webhook_subscriptions SET url = $1, events = $2 WHERE site = $3 AND id = $4")
            .bind(url)
            .bind(events_text(&events))
            .bind(site.to_owned())
            .bind(id.to_owned())
            .execute(self.pool())
            .await?;
        self.subscription(site, id).await
    }

    /// Gives one of `site`'s subscriptions a new signing secret (returned: shown only now);
    /// the one it replaces keeps signing deliveries beside it for `overlap`. `None`: the
    /// site has no such subscription.
    pub async fn rotate_secret(
        &self,
        site: &str,
        id: &str,
        overlap: std::time::Duration,
    ) -> Result<Option<(Subscription, String)>, ArchiveError> {
        let secret = new_secret();
        let overlap = chrono::Duration::from_std(overlap).unwrap_or(chrono::Duration::MAX);
        let until = millis(Utc::now().checked_add_signed(overlap).unwrap_or(DateTime::<Utc>::MAX_UTC));
        let done = sqlx::query(
            "UPDATE webhook_subscriptions SET previous_secret = secret, previous_until = $1, secret = $2 \
             WHERE site = $3 AND id = $4",
        )
        .bind(until)
        .bind(secret.clone())
        .bind(site.to_owned())
        .bind(id.to_owned())
        .execute(self.pool())
        .await?;
        if done.rows_affected() == 0 {
            return Ok(None);
        }
        Ok(self.subscription(site, id).await?.map(|subscription| (subscription, secret)))
    }

    /// Deletes one of `site`'s subscriptions with its deliveries and their log; `false` when
    /// the site has no such subscription.
    pub async fn delete_subscription(&self, site: &str, id: &str) -> Result<bool, ArchiveError> {
        let mut tx = self.pool().begin().await?;
        let gone = sqlx::query("DELETE FROM webhook_subscriptions WHERE site = $1 AND id = $2")
            .bind(site.to_owned())
            .bind(id.to_owned())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if gone == 0 {
            return Ok(false);
        }
        sqlx::query(
            "DELETE FROM webhook_attempts WHERE delivery_id IN \
             (SELECT id FROM webhook_deliveries WHERE subscription_id = $1)",
        )
        .bind(id.to_owned())
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM webhook_deliveries WHERE subscription_id = $1")
            .bind(id.to_owned())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }
}

/// Deletes the webhook deliveries (what they carry is the conversation's text), their log and
/// the marks of these conversations, inside a privacy erase's transaction.
pub(crate) async fn erase_in(tx: &mut sqlx::Transaction<'_, sqlx::Any>, ids: &[String]) -> Result<(), ArchiveError> {
    let marks: Vec<String> = (1..=ids.len()).map(|n| format!("${n}")).collect();
    let marks = marks.join(", ");
    let statements = [
        format!(
            "DELETE FROM webhook_attempts WHERE delivery_id IN \
             (SELECT id FROM webhook_deliveries WHERE conversation_id IN ({marks}))"
        ),
        format!("DELETE FROM webhook_deliveries WHERE conversation_id IN ({marks})"),
        format!("DELETE FROM webhook_marks WHERE conversation_id IN ({marks})"),
    ];
    for sql in &statements {
        let mut query = sqlx::query(sql);
        for id in ids {
            query = query.bind(id.clone());
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

fn events_text(events: &[EventType]) -> String {
    // unwrap: a list of unit variants serialises.
    serde_json::to_string(events).expect("event types serialise")
}

fn parse_events(text: &str) -> Result<Vec<EventType>, ArchiveError> {
    let names: Vec<String> =
        serde_json::from_str(text).map_err(|e| ArchiveError::Corrupt(format!("webhook events: {e}")))?;
    // A type this version does not know (written by a newer node) is skipped, not an error.
    Ok(names.iter().filter_map(|name| EventType::parse(name)).collect())
}

fn read_subscription(row: &AnyRow) -> Result<Subscription, ArchiveError> {
    Ok(Subscription {
        id: row.try_get("id")?,
        site: row.try_get("site")?,
        url: row.try_get("url")?,
        events: parse_events(&row.try_get::<String, _>("events")?)?,
        created_at: from_millis(row.try_get("created_at")?)?,
        previous_secret_until: row
            .try_get::<Option<i64>, _>("previous_until")?
            .filter(|until| *until > millis(Utc::now()))
            .map(from_millis)
            .transpose()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_types_serialise_to_their_names_and_parse_back() {
        for kind in EventType::ALL {
            assert_eq!(serde_json::to_value(kind).unwrap(), serde_json::json!(kind.name()));
            assert_eq!(EventType::parse(kind.name()), Some(kind));
        }
        assert_eq!(EventType::parse("message.deleted"), None);
        assert_eq!(parse_events(r#"["csat.submitted","later.type"]"#).unwrap(), vec![EventType::CsatSubmitted]);
    }
}

//! Turning an archive write into webhook events, inside the write's transaction: the archived
//! events after those already folded (`webhook_marks.folded_seq`) and the records as they are now
//! (a rating, a left message) become [`WebhookEvent`]s in the conversation's order, and each
//! is queued once for every subscription of the site that asked for its type.
//!
//! Event ids are derived from what the event is (conversation, type, `seq` or the record's
//! time), so a replayed fold queues nothing twice (`UNIQUE (subscription_id, event_id)`).

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sqlx::Row;

use super::EventType;
use crate::archive::ArchiveError;
use crate::archive::sql::millis;
use crate::protocol::{Event, EventBody, State};
use crate::store::Conversation;

/// A queued event whose escalation record is not written yet (it is written just after the
/// state change) waits this long for it; the record's write brings the conversation back to
/// the archive. Past it the event goes without the record's detail and signals.
const RECORD_WAIT: Duration = Duration::from_secs(5);

/// One event, as every subscriber gets it.
#[derive(Clone, Debug, PartialEq)]
pub struct WebhookEvent {
    pub id: String,
    pub kind: EventType,
    pub created_at: DateTime<Utc>,
    /// `{"id","type","created_at","site","data"}`, exactly as it is signed and sent.
    pub body: String,
}

/// How far a conversation has been folded.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Marks {
    pub folded_seq: i64,
    pub next_ord: i64,
    pub rating_at: i64,
    pub contact_at: i64,
}

struct Subscriber {
    id: String,
    events: Vec<EventType>,
    created_at: i64,
}

/// Folds this write into the outbox (nothing when the site has no subscriptions).
pub(crate) async fn record(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    conversation: &Conversation,
    events: &[Arc<Event>],
) -> Result<(), ArchiveError> {
    let subscribers = subscribers(tx, &conversation.site).await?;
    if subscribers.is_empty() {
        return Ok(());
    }
    let id = conversation.id.to_string();
    let row =
        sqlx::query("SELECT folded_seq, next_ord, rating_at, contact_at FROM webhook_marks WHERE conversation_id = $1")
            .bind(id.clone())
            .fetch_optional(&mut **tx)
            .await?;
    let old = match &row {
        Some(row) => Some(Marks {
            folded_seq: row.try_get("folded_seq")?,
            next_ord: row.try_get("next_ord")?,
            rating_at: row.try_get("rating_at")?,
            contact_at: row.try_get("contact_at")?,
        }),
        None => None,
    };
    // A conversation met for the first time starts at this write; one folded before goes on
    // from its mark, reading what it has not folded back from the archive (this write's
    // events were inserted earlier in this transaction; an escalation held back by an
    // earlier write was archived then).
    let mut marks = old.clone().unwrap_or(Marks {
        folded_seq: events.first().map_or(0, |e| i64::try_from(e.seq).unwrap_or(i64::MAX) - 1),
        ..Marks::default()
    });
    let unfolded = archived_after(tx, &id, marks.folded_seq).await?;
    let derived = derive(conversation, &unfolded, &mut marks, Utc::now());
    if old.as_ref() == Some(&marks) {
        return Ok(());
    }
    save_marks(tx, &id, &marks, old.as_ref()).await?;
    let now = millis(Utc::now());
    let first_ord = marks.next_ord - i64::try_from(derived.len()).unwrap_or(0);
    for (ord, event) in (first_ord..).zip(&derived) {
        let wanted =
            subscribers.iter().filter(|s| s.events.contains(&event.kind) && millis(event.created_at) >= s.created_at);
        for subscriber in wanted {
            sqlx::query(
                "INSERT INTO webhook_deliveries (id, subscription_id, event_id, event_type, conversation_id, ord, body, \
                 created_at, status, attempts, next_at, retry_from) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', 0, $8, $8) \
                 ON CONFLICT (subscription_id, event_id) DO NOTHING",
            )
            .bind(uuid::Uuid::new_v4().to_string())
            .bind(subscriber.id.clone())
            .bind(event.id.clone())
            .bind(event.kind.name())
            .bind(id.clone())
            .bind(ord)
            .bind(event.body.clone())
            .bind(now)
            .execute(&mut **tx)
            .await?;
        }
    }
    Ok(())
}

/// The conversation's archived events after `seq`, in order (at most the live store's bound
/// on a conversation's events).
async fn archived_after(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: &str,
    seq: i64,
) -> Result<Vec<Arc<Event>>, ArchiveError> {
    let rows = sqlx::query("SELECT body FROM events WHERE conversation_id = $1 AND seq > $2 ORDER BY seq")
        .bind(id.to_owned())
        .bind(seq)
        .fetch_all(&mut **tx)
        .await?;
    rows.iter()
        .map(|row| {
            let body: String = row.try_get("body")?;
            serde_json::from_str::<Event>(&body)
                .map(Arc::new)
                .map_err(|e| ArchiveError::Corrupt(format!("archived event: {e}")))
        })
        .collect()
}

async fn subscribers(tx: &mut sqlx::Transaction<'_, sqlx::Any>, site: &str) -> Result<Vec<Subscriber>, ArchiveError> {
    let rows = sqlx::query("SELECT id, events, created_at FROM webhook_subscriptions WHERE site = $1")
        .bind(site.to_owned())
        .fetch_all(&mut **tx)
        .await?;
    rows.iter()
        .map(|row| {
            Ok(Subscriber {
                id: row.try_get("id")?,
                events: super::parse_events(&row.try_get::<String, _>("events")?)?,
                created_at: row.try_get("created_at")?,
            })
        })
        .collect()
}

/// Replaces the marks only if they are still what this write read: two archivers folding
/// the same conversation at once would queue its events twice, so the second is refused.
async fn save_marks(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: &str,
    marks: &Marks,
    old: Option<&Marks>,
) -> Result<(), ArchiveError> {
    let old = old.cloned().unwrap_or(Marks { folded_seq: -1, ..Marks::default() });
    let saved = sqlx::query(
        "INSERT INTO webhook_marks (conversation_id, folded_seq, next_ord, rating_at, contact_at) \
         VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (conversation_id) DO UPDATE SET folded_seq = excluded.folded_seq, \
           next_ord = excluded.next_ord, rating_at = excluded.rating_at, contact_at = excluded.contact_at \
         WHERE webhook_marks.folded_seq = $6 AND webhook_marks.next_ord = $7",
    )
    .bind(id.to_owned())
    .bind(marks.folded_seq)
    .bind(marks.next_ord)
    .bind(marks.rating_at)
    .bind(marks.contact_at)
    .bind(old.folded_seq)
    .bind(old.next_ord)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if saved == 0 {
        return Err(ArchiveError::Unavailable(format!("webhooks: {id} was folded by another write meanwhile")));
    }
    Ok(())
}

/// The webhook events of this write, in the conversation's order, moving `marks` past them.
/// Events come in `seq` order; a rating or a left message (records, not events) goes before
/// the first event that happened after it.
pub fn derive(
    conversation: &Conversation,
    events: &[Arc<Event>],
    marks: &mut Marks,
    now: DateTime<Utc>,
) -> Vec<WebhookEvent> {
    let make = |kind: EventType, key: String, at: DateTime<Utc>, data: Value| {
        webhook_event(conversation, kind, &key, at, data)
    };
    let mut out: Vec<(i64, WebhookEvent)> = Vec::new();
    // Events after this one wait (an escalation whose record is not written yet).
    let mut held_at: Option<i64> = None;
    let folded = marks.folded_seq;
    for event in events.iter().filter(|e| i64::try_from(e.seq).unwrap_or(i64::MAX) > folded) {
        let seq = i64::try_from(event.seq).unwrap_or(i64::MAX);
        let id = conversation.id;
        let at = millis(event.at);
        if event.seq == 1 {
            let data = json!({"conversation_id": id, "started_at": conversation.created_at,
                              "visitor": crate::archive::visitor_json(&conversation.visitor)});
            out.push((at, make(EventType::ConversationCreated, "0".into(), conversation.created_at, data)));
        }
        let derived = match &event.body {
            EventBody::Message { id: message_id, from, text, author, .. } => Some((
                EventType::MessageCreated,
                json!({"conversation_id": id, "seq": event.seq, "message_id": message_id, "from": from,
                       "text": text, "author": author.as_ref().map(|a| &a.name), "at": event.at}),
            )),
            EventBody::State { state: State::Queued, reason, .. } => {
                let record = conversation.records.escalation.as_deref().filter(|r| r.at <= event.at);
                let young = (now - event.at).to_std().unwrap_or_default() < RECORD_WAIT;
                if conversation.records.escalation.is_none() && young {
                    held_at = Some(at);
                    break;
                }
                Some((
                    EventType::ConversationEscalated,
                    json!({"conversation_id": id, "seq": event.seq,
                           "reason": reason.or(record.map(|r| r.reason)),
                           "detail": record.map(|r| &r.detail), "priority": record.map(|r| r.priority),
                           "team": record.and_then(|r| r.team.as_ref()),
                           "signals": record.and_then(|r| r.signals.as_ref()), "at": event.at}),
                ))
            }
            EventBody::State { state: State::Agent, agent, .. } => Some((
                EventType::ConversationAssigned,
                json!({"conversation_id": id, "seq": event.seq, "agent": agent, "at": event.at}),
            )),
            EventBody::State { state: State::Resolved, .. } => Some((
                EventType::ConversationResolved,
                json!({"conversation_id": id, "seq": event.seq, "at": event.at}),
            )),
            EventBody::State { .. } | EventBody::Note { .. } | EventBody::Attachment { .. } => None,
        };
        if let Some((kind, data)) = derived {
            out.push((at, make(kind, seq.to_string(), event.at, data)));
        }
        marks.folded_seq = seq;
    }
    let limit = held_at.unwrap_or(i64::MAX);
    let records = &conversation.records;
    if let Some(rating) = records.rating.as_deref().filter(|r| millis(r.at) > marks.rating_at && millis(r.at) <= limit)
    {
        marks.rating_at = millis(rating.at);
        let data = json!({"conversation_id": conversation.id, "score": rating.score,
                          "comment": rating.comment, "at": rating.at});
        place(
            &mut out,
            millis(rating.at),
            make(EventType::CsatSubmitted, marks.rating_at.to_string(), rating.at, data),
        );
    }
    if let Some(contact) =
        records.contact.as_deref().filter(|c| millis(c.at) > marks.contact_at && millis(c.at) <= limit)
    {
        marks.contact_at = millis(contact.at);
        let data = json!({"conversation_id": conversation.id, "email": contact.email,
                          "text": contact.text, "at": contact.at});
        let event = make(EventType::LeftMessageCreated, marks.contact_at.to_string(), contact.at, data);
        place(&mut out, millis(contact.at), event);
    }
    marks.next_ord += i64::try_from(out.len()).unwrap_or(0);
    out.into_iter().map(|(_, event)| event).collect()
}

/// Puts a record's event before the first event that happened after it.
fn place(out: &mut Vec<(i64, WebhookEvent)>, at: i64, event: WebhookEvent) {
    let index = out.iter().position(|(other, _)| *other > at).unwrap_or(out.len());
    out.insert(index, (at, event));
}

fn webhook_event(
    conversation: &Conversation,
    kind: EventType,
    key: &str,
    at: DateTime<Utc>,
    data: Value,
) -> WebhookEvent {
    let digest = Sha256::digest(format!("{}:{}:{key}", conversation.id, kind.name()).as_bytes());
    let id = format!("evt_{}", crate::hex::encode(&digest[..16]));
    let body = json!({"id": id, "type": kind.name(), "created_at": at, "site": conversation.site, "data": data});
    WebhookEvent { id, kind, created_at: at, body: body.to_string() }
}

#[cfg(test)]
#[path = "fold_tests.rs"]
mod tests;

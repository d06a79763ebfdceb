//! What agents are sent: queue items (enough to choose a chat at a glance) and conversation
//! views (enough to help without asking the visitor to repeat anything).

use std::sync::Arc;

use crate::bot::assist::{Assist, AssistSource, extractive_summary};
use crate::protocol::agent::{
    CannedReply, ConversationView, IdentityView, PreviousConversation, QueueItem, VisitorView,
};
use crate::protocol::{ConversationId, Event, EventBody, Speaker};
use crate::records::Identity;
use crate::sites::Sites;
use crate::store::{Conversation, EventLog, QueueEntry, StoreError, VisitorIndex};

/// Earlier conversations of a verified visitor listed in a view, at most.
pub const MAX_PREVIOUS: usize = 10;

/// Queue items in one snapshot; a longer queue is cut (its head is what agents act on).
pub const MAX_QUEUE_ITEMS: usize = 200;
/// Events read to find a waiting chat's last visitor message.
const RECENT_FOR_ITEM: usize = 30;
/// A view holds at most this many events (the newest); the store bounds a conversation
/// below it by default (`store.max_events_per_conversation`).
pub const MAX_VIEW_EVENTS: usize = 10_000;

/// Queue items for `sorted` entries (in queue order), with positions within each line. The
/// reads of the (at most [`MAX_QUEUE_ITEMS`]) items run together, so a shared store answers
/// them in a few round trips instead of two per item.
pub async fn queue_items(store: &dyn EventLog, sorted: &[QueueEntry]) -> Result<Vec<QueueItem>, StoreError> {
    let positions = super::queue::positions(sorted);
    let head = sorted.iter().zip(positions).take(MAX_QUEUE_ITEMS);
    let items = futures_util::future::try_join_all(head.map(|(entry, position)| queue_item(store, entry, position)));
    Ok(items.await?.into_iter().flatten().collect())
}

/// One queue item; `None` when its conversation is gone.
async fn queue_item(store: &dyn EventLog, entry: &QueueEntry, position: u32) -> Result<Option<QueueItem>, StoreError> {
    let Some(conversation) = store.conversation(entry.conversation_id).await? else { return Ok(None) };
    let recent = store.recent_events(entry.conversation_id, RECENT_FOR_ITEM).await?;
    Ok(Some(QueueItem {
        conversation_id: entry.conversation_id,
        site: entry.site.clone(),
        reason: entry.reason,
        priority: entry.priority,
        waiting_since: entry.waiting_since,
        position,
        summary: summary(&conversation, &recent),
        sentiment: sentiment(&conversation),
        last_message: last_visitor_message(&recent),
        team: entry.team.clone(),
    }))
}

/// The full view of one conversation, with the knowledge base's suggestions for its latest
/// visitor turn. It never waits on a model: the model's summary and drafts come later as
/// frames of their own.
pub async fn conversation_view(
    store: &dyn EventLog,
    visitors: &dyn VisitorIndex,
    sites: &Sites,
    assist: &Assist,
    id: ConversationId,
) -> Result<Option<ConversationView>, StoreError> {
    let Some(conversation) = store.conversation(id).await? else { return Ok(None) };
    let events = store.recent_events(id, MAX_VIEW_EVENTS).await?;
    let site = sites.get(&conversation.site);
    let suggestions = match &site {
        Some(site) => assist.passage_suggestions(site, &events),
        None => Vec::new(),
    };
    let canned = site
        .as_ref()
        .map(|s| {
            s.config
                .handoff
                .canned
                .iter()
                .map(|c| CannedReply { title: c.title.clone(), text: c.text.clone() })
                .collect()
        })
        .unwrap_or_default();
    let records = &conversation.records;
    let escalation = records.escalation.as_ref();
    let identity = records.identity.as_deref();
    let previous = match &site {
        Some(site) => previous(store, visitors, site, identity, id).await?,
        None => Vec::new(),
    };
    Ok(Some(ConversationView {
        conversation_id: id,
        site: conversation.site.clone(),
        state: conversation.state,
        visitor: VisitorView {
            page: conversation.visitor.page.clone(),
            locale: conversation.visitor.locale.clone(),
            identity: identity.map(identity_view),
        },
        reason: escalation.map(|e| e.reason),
        detail: escalation.map(|e| e.detail.clone()),
        summary: summary(&conversation, &events),
        summary_source: if records.summary.is_some() { AssistSource::Model } else { AssistSource::Extractive },
        // unwrap: signals are plain numbers, strings and booleans.
        signals: records
            .signals
            .as_ref()
            .map_or(serde_json::Value::Null, |s| serde_json::to_value(s).expect("signals")),
        events,
        suggestions,
        canned,
        answer_by: None,
        previous,
        attachments: None,
        rating: records.rating.as_deref().map(crate::records::Rating::view),
    }))
}

fn identity_view(identity: &Identity) -> IdentityView {
    IdentityView {
        user_id: identity.user_id.clone(),
        name: identity.name.clone(),
        email: identity.email.clone(),
        verified: identity.verified,
    }
}

/// The verified visitor's other conversations on the site within its history window.
async fn previous(
    store: &dyn EventLog,
    visitors: &dyn VisitorIndex,
    site: &crate::sites::Site,
    identity: Option<&Identity>,
    except: ConversationId,
) -> Result<Vec<PreviousConversation>, StoreError> {
    let Some(user_id) = identity.filter(|i| i.verified).and_then(|i| i.user_id.as_deref()) else {
        return Ok(Vec::new());
    };
    let days = site.config.identity_history_days;
    let since = chrono::Utc::now() - chrono::Duration::days(i64::from(days));
    let ids = if days == 0 {
        Vec::new()
    } else {
        visitors.user_conversations(&site.config.id, user_id, since, MAX_PREVIOUS + 1).await?
    };
    let mut list = Vec::new();
    for id in ids.into_iter().filter(|id| *id != except).take(MAX_PREVIOUS) {
        let Some(conversation) = store.conversation(id).await? else { continue };
        let recent = store.recent_events(id, RECENT_FOR_ITEM).await?;
        // A conversation the visitor never wrote in (a page opened on another device) says nothing.
        let Some(last_message) = last_visitor_message(&recent) else { continue };
        list.push(PreviousConversation {
            conversation_id: id,
            started_at: conversation.created_at,
            state: conversation.state,
            last_message: Some(last_message),
        });
    }
    Ok(list)
}

/// The model's summary when one was written, the extractive one otherwise.
fn summary(conversation: &Conversation, events: &[Arc<Event>]) -> String {
    let records = &conversation.records;
    if let Some(text) = &records.summary {
        return text.clone();
    }
    extractive_summary(events, records.escalation.as_ref().map(|e| e.detail.as_str()))
}

fn sentiment(conversation: &Conversation) -> Option<f32> {
    conversation.records.signals.as_ref().map(|s| s.sentiment)
}

fn last_visitor_message(events: &[Arc<Event>]) -> Option<String> {
    events.iter().rev().find_map(|event| match &event.body {
        EventBody::Message { from: Speaker::Visitor, text, .. } => Some(text.clone()),
        _ => None,
    })
}

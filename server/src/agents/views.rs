//! What agents are sent: queue items (enough to choose a chat at a glance) and conversation
//! views (enough to help without asking the visitor to repeat anything).

use std::sync::Arc;

use crate::bot::assist::{Assist, AssistSource, extractive_summary};
use crate::protocol::agent::{CannedReply, ConversationView, QueueItem, VisitorView};
use crate::protocol::{ConversationId, Event, EventBody, Speaker};
use crate::sites::Sites;
use crate::store::{Conversation, EventLog, QueueEntry, StoreError};

/// Queue items in one snapshot; a longer queue is cut (its head is what agents act on).
pub const MAX_QUEUE_ITEMS: usize = 200;
/// Events read to find a waiting chat's last visitor message.
const RECENT_FOR_ITEM: usize = 30;
/// A view holds at most this many events (the newest); the store bounds a conversation
/// below it by default (`store.max_events_per_conversation`).
pub const MAX_VIEW_EVENTS: usize = 10_000;

/// Queue items for `sorted` entries (in queue order), with positions within each line.
pub async fn queue_items(store: &dyn EventLog, sorted: &[QueueEntry]) -> Result<Vec<QueueItem>, StoreError> {
    let mut items = Vec::with_capacity(sorted.len().min(MAX_QUEUE_ITEMS));
    for entry in sorted.iter().take(MAX_QUEUE_ITEMS) {
        let Some(conversation) = store.conversation(entry.conversation_id).await? else { continue };
        let recent = store.recent_events(entry.conversation_id, RECENT_FOR_ITEM).await?;
        items.push(QueueItem {
            conversation_id: entry.conversation_id,
            site: entry.site.clone(),
            reason: entry.reason,
            priority: entry.priority,
            waiting_since: entry.waiting_since,
            position: super::queue::position(sorted, entry),
            summary: summary(&conversation, &recent),
            sentiment: sentiment(&conversation),
            last_message: last_visitor_message(&recent),
            team: entry.team.clone(),
        });
    }
    Ok(items)
}

/// The full view of one conversation, with the knowledge base's suggestions for its latest
/// visitor turn. It never waits on a model: the model's summary and drafts come later as
/// frames of their own.
pub async fn conversation_view(
    store: &dyn EventLog,
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
    Ok(Some(ConversationView {
        conversation_id: id,
        site: conversation.site.clone(),
        state: conversation.state,
        visitor: VisitorView { page: conversation.visitor.page.clone(), locale: conversation.visitor.locale.clone() },
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
        attachments: None,
        rating: records.rating.as_deref().map(crate::records::Rating::view),
    }))
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

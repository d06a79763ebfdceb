//! What agents are sent: queue items (enough to choose a chat at a glance) and conversation
//! views (enough to help without asking the visitor to repeat anything).

use std::sync::Arc;

use crate::bot::assist::{Assist, extractive_summary};
use crate::protocol::agent::{CannedReply, ConversationView, QueueItem, VisitorView};
use crate::protocol::{ConversationId, Event, EventBody, Reason, Speaker};
use crate::sites::Sites;
use crate::store::{Conversation, QueueEntry, Store, StoreError};

/// Queue items in one snapshot; a longer queue is cut (its head is what agents act on).
pub const MAX_QUEUE_ITEMS: usize = 200;
/// Events read to find a waiting chat's last visitor message.
const RECENT_FOR_ITEM: usize = 30;

/// Queue items for `sorted` entries (in queue order), with positions within each line.
pub async fn queue_items(store: &dyn Store, sorted: &[QueueEntry]) -> Result<Vec<QueueItem>, StoreError> {
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

/// The full view of one conversation, with suggestions for its latest visitor turn.
pub async fn conversation_view(
    store: &dyn Store,
    sites: &Sites,
    assist: &Assist,
    id: ConversationId,
    max_events: usize,
) -> Result<Option<ConversationView>, StoreError> {
    let Some(conversation) = store.conversation(id).await? else { return Ok(None) };
    let events = store.events_after(id, 0, max_events).await?;
    let site = sites.get(&conversation.site);
    let suggestions = match &site {
        Some(site) => assist.suggestions(site, &events).await,
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
    let escalation = conversation.attrs.get("escalation");
    Ok(Some(ConversationView {
        conversation_id: id,
        site: conversation.site.clone(),
        state: conversation.state,
        visitor: VisitorView { page: conversation.visitor.page.clone(), locale: conversation.visitor.locale.clone() },
        reason: escalation.and_then(|e| serde_json::from_value::<Reason>(e["reason"].clone()).ok()),
        detail: escalation.and_then(|e| e["detail"].as_str().map(str::to_owned)),
        summary: summary(&conversation, &events),
        signals: conversation.attrs.get("signals").cloned().unwrap_or(serde_json::Value::Null),
        events,
        suggestions,
        canned,
    }))
}

/// The model's summary when one was written, the extractive one otherwise.
fn summary(conversation: &Conversation, events: &[Arc<Event>]) -> String {
    if let Some(text) = conversation.attrs.get("summary").and_then(|s| s.as_str()) {
        return text.to_owned();
    }
    let detail = conversation.attrs.get("escalation").and_then(|e| e["detail"].as_str());
    extractive_summary(events, detail)
}

fn sentiment(conversation: &Conversation) -> Option<f32> {
    conversation.attrs.get("signals").and_then(|s| s["sentiment"].as_f64()).map(|v| v as f32)
}

fn last_visitor_message(events: &[Arc<Event>]) -> Option<String> {
    events.iter().rev().find_map(|event| match &event.body {
        EventBody::Message { from: Speaker::Visitor, text, .. } => Some(text.clone()),
        _ => None,
    })
}

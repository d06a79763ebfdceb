//! Draft replies for the agent who has a chat, once per burst of visitor messages.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::Desk;
use crate::bot::assist::latest_visitor_text;
use crate::protocol::ConversationId;
use crate::protocol::agent::AgentEvent;
use crate::sites::Site;
use crate::store::{Delivery, StoreError, Topic};

/// Suggestions for the agent are drafted once the visitor has paused this long, so a visitor
/// typing in several short messages costs one round of drafts, not one each…
const SUGGEST_QUIET: Duration = Duration::from_millis(250);
/// … and at least this often while messages keep coming without a pause.
const SUGGEST_MAX_WAIT: Duration = Duration::from_secs(2);

impl Desk {
    /// Fresh suggestions for the agent, once per burst of visitor messages: the first message
    /// schedules them, the rest of the burst pushes them on (up to [`SUGGEST_MAX_WAIT`]).
    pub fn suggest_soon(&self, site: &Arc<Site>, id: ConversationId) {
        let first = Instant::now();
        let lock = || self.suggesting.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if lock().insert(id, first).is_some() {
            return;
        }
        let (desk, site) = (self.clone(), site.clone());
        tokio::spawn(async move {
            loop {
                let newest = desk.suggesting().get(&id).copied();
                let due = (newest.unwrap_or(first) + SUGGEST_QUIET).min(first + SUGGEST_MAX_WAIT);
                if Instant::now() >= due {
                    break;
                }
                tokio::time::sleep_until(due.into()).await;
            }
            desk.suggesting().remove(&id);
            if let Err(error) = desk.suggest(&site, id).await {
                tracing::warn!(%error, conversation_id = %id, "no suggestions for the agent");
            }
        });
    }

    fn suggesting(&self) -> std::sync::MutexGuard<'_, HashMap<ConversationId, Instant>> {
        self.suggesting.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Fresh draft replies for the agent who has the chat, after a visitor message.
    pub(super) async fn suggest(&self, site: &Site, id: ConversationId) -> Result<(), StoreError> {
        let Some(assignment) = self.handoff.assignment(id).await? else { return Ok(()) };
        let events = self.log.recent_events(id, self.assist.suggestion_events()).await?;
        if latest_visitor_text(&events).is_empty() {
            return Ok(());
        }
        let drafts = self.assist.suggestions(site, &events).await;
        let frame = AgentEvent::Suggestions { conversation_id: id, replies: drafts.value, source: drafts.source };
        self.pubsub.deliver(Delivery::frame(Topic::Agent(assignment.agent_id), &frame)).await
    }
}

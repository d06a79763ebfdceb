//! Left messages marked handled: a fact of the site, kept in the live store beside the
//! messages, so every agent of the site (and only they) sees who handled which, on any node.

use super::{Desk, DeskError, NOT_YOUR_SITE};
use crate::config::AgentConfig;
use crate::protocol::ConversationId;
use crate::protocol::agent::{AgentEvent, HandledMark};

impl Desk {
    /// Marks the conversation's left messages handled by `agent` (or not, `handled: false`)
    /// and tells the agents of its site. An agent of another site gets `forbidden`, as if
    /// the message were not there; a conversation with no kept left message is `not_found`.
    pub async fn handled(&self, agent: &AgentConfig, id: ConversationId, handled: bool) -> Result<(), DeskError> {
        let left = self.handoff.left_messages().await?;
        let Some(site) = left.iter().find(|m| m.conversation_id == id).map(|m| m.site.clone()) else {
            return Err(DeskError::NotFound);
        };
        if !agent.serves(&site) {
            return Err(NOT_YOUR_SITE);
        }
        let mark = handled.then(|| HandledMark { by: agent.name.clone(), at: chrono::Utc::now() });
        if self.handoff.mark_left_handled(id, mark.clone()).await? == 0 {
            return Err(DeskError::NotFound);
        }
        let entry = self.audit_entry(agent, if handled { "left_handled" } else { "left_unhandled" }, id);
        self.audited(entry, id).await;
        let frame = AgentEvent::LeftMessageHandled { conversation_id: id, handled: mark };
        Ok(self.router.tell_agents(&site, None, &frame).await?)
    }
}

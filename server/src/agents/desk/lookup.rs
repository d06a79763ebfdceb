//! What the owner API asks the desk before acting as an agent: who an agent id is, which
//! site a live conversation is on, and who holds it. The actions themselves are the desk's
//! own (`message`, `note`, `transfer`, `resolve`), the same the console's socket calls.

use std::sync::Arc;

use super::{Desk, DeskError};
use crate::config::AgentConfig;
use crate::protocol::ConversationId;
use crate::sites::Site;

impl Desk {
    /// The configured agent with this id.
    pub fn agent(&self, id: &str) -> Option<AgentConfig> {
        self.router.presences().directory().get(id)
    }

    /// The site of a live conversation (`NotFound` when the store has none).
    pub async fn site(&self, id: ConversationId) -> Result<Arc<Site>, DeskError> {
        self.site_of(id).await
    }

    /// The agent who holds the chat now, if one does.
    pub async fn holder(&self, id: ConversationId) -> Result<Option<AgentConfig>, DeskError> {
        let assignment = self.handoff.assignment(id).await?;
        Ok(assignment.and_then(|a| self.agent(&a.agent_id)))
    }
}

//! An agent signed out by the owner (disabled through the API): their presence ends now and
//! their chats go back to the queue the way an agent leaving gives them back (the janitor's
//! rule: "had to leave" only when someone had joined). Their sockets on every node close
//! themselves when the directory no longer lets them in (`session::agent`).

use super::Desk;
use crate::agents::Directory;
use crate::conversation::Notice;
use crate::store::StoreError;

impl Desk {
    /// Who may sign in now (the sockets watch it).
    pub fn directory(&self) -> &Directory {
        self.router.presences().directory()
    }

    /// Ends `agent_id`'s presence and gives back their chats; returns how many went back.
    pub async fn sign_out(&self, agent_id: &str) -> Result<usize, StoreError> {
        self.router.presences().forget(agent_id).await?;
        let mut returned = 0;
        for assignment in self.handoff.assignments().await?.into_iter().filter(|a| a.agent_id == agent_id) {
            let id = assignment.conversation_id;
            let notice = if self.router.joined_since_take(id).await? { Notice::AgentLeft } else { Notice::BackInQueue };
            if self.router.give_back(id, Some(assignment.agent_id), notice).await? {
                returned += 1;
            }
        }
        self.router.route_waiting().await?;
        self.router.broadcast().await?;
        Ok(returned)
    }
}

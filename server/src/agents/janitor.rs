//! The janitor, on every node every `handoff.janitor_secs`: gives back to the front of the
//! queue the chats of agents whose presence ran out and of agents who did not answer in
//! time, and assigns waiting chats to agents who have room. Its moves are atomic moves of the
//! state machine, each naming the agent it takes the chat from, so two nodes' janitors
//! never double up.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;

use super::router::Router;
use crate::config::HandoffSettings;
use crate::conversation::Notice;
use crate::store::{Handoff, StoreError};

pub struct Janitor {
    router: Arc<Router>,
    handoff: Arc<dyn Handoff>,
    settings: HandoffSettings,
}

impl Janitor {
    pub fn new(router: Arc<Router>, handoff: Arc<dyn Handoff>, settings: HandoffSettings) -> Janitor {
        Janitor { router, handoff, settings }
    }

    /// Runs a pass every `every` until `shutdown`.
    pub fn spawn(self, every: Duration, shutdown: CancellationToken) {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = tick.tick() => {}
                }
                if let Err(error) = self.pass(Utc::now()).await {
                    tracing::warn!(%error, "janitor pass failed");
                }
            }
        });
    }

    /// One pass; tells everyone only when something moved.
    pub async fn pass(&self, now: DateTime<Utc>) -> Result<(), StoreError> {
        let presences = self.router.presences();
        let presence = presences.all().await?;
        let mut changed = presences.forget_gone(&presence, now).await;
        let timeout = chrono::Duration::seconds(i64::try_from(self.settings.answer_timeout_secs).unwrap_or(i64::MAX));
        for assignment in self.handoff.assignments().await? {
            let present = presence.get(&assignment.agent_id).is_some_and(|p| p.until >= now);
            let silent =
                self.settings.answer_timeout_secs > 0 && !assignment.answered && assignment.since + timeout < now;
            let notice = match (present, silent) {
                // "The person helping you had to leave" only if someone had joined: a chat
                // routed to an agent who never opened it just goes back to the queue.
                (false, _) if self.router.joined_since_take(assignment.conversation_id).await? => Notice::AgentLeft,
                (false, _) | (true, true) => Notice::BackInQueue,
                (true, false) => continue,
            };
            let holder = Some(assignment.agent_id.clone());
            if self.router.give_back(assignment.conversation_id, holder, notice).await? {
                changed += 1;
            }
        }
        changed += self.router.route_waiting().await?;
        if changed > 0 { self.router.broadcast().await } else { Ok(()) }
    }
}

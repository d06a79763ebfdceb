//! The inactivity sweep, on every node every `handoff.inactivity_secs`: claims the
//! conversations the store says are due (`store::idle`: any change makes one due, and each
//! look sets when it is due next), and applies its site's rules
//! (`conversation::inactivity`): nudges and resolves chats their visitors left, and alerts the
//! site's agents (the chat's team) about chats waiting on a person past the SLA. Claims are
//! leased, so two nodes never look at one conversation at once, and each rule runs once per
//! idle period through once-only allowances every node shares.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;

use super::router::Router;
use crate::conversation::Conversations;
use crate::conversation::inactivity::{self, LOOKBACK, Step};
use crate::conversation::machine::Move;
use crate::protocol::agent::AgentEvent;
use crate::protocol::{ConversationId, State};
use crate::sites::Sites;
use crate::store::idle::CLAIM_LIMIT;
use crate::store::{Conversation, StoreError, Stores};

/// How long a claimed conversation is left to the node that claimed it.
const LEASE: Duration = Duration::from_secs(30);

pub struct Inactivity {
    conversations: Conversations,
    router: Arc<Router>,
    stores: Stores,
    sites: Sites,
}

impl Inactivity {
    pub fn new(conversations: Conversations, router: Arc<Router>, stores: Stores, sites: Sites) -> Inactivity {
        Inactivity { conversations, router, stores, sites }
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
                    tracing::warn!(%error, "inactivity pass failed");
                }
            }
        });
    }

    /// One pass over what is due; returns how many conversations it looked at.
    pub async fn pass(&self, now: DateTime<Utc>) -> Result<usize, StoreError> {
        let due = self.stores.idle.claim_idle(CLAIM_LIMIT, LEASE).await?;
        for &id in &due {
            if let Err(error) = self.look(id, now).await {
                tracing::warn!(%error, conversation_id = %id, "inactivity rules not applied");
            }
        }
        Ok(due.len())
    }

    /// Applies the rules to one conversation and says when to look again.
    async fn look(&self, id: ConversationId, now: DateTime<Utc>) -> Result<(), StoreError> {
        let Some(conversation) = self.stores.log.conversation(id).await? else {
            return self.stores.idle.unwatch(id).await;
        };
        let Some(site) = self.sites.get(&conversation.site).filter(|s| s.config.inactivity.any()) else {
            return self.stores.idle.unwatch(id).await;
        };
        let events = self.stores.log.recent_events(id, LOOKBACK).await?;
        let waiting = inactivity::waiting(conversation.state, &events);
        let next = match inactivity::next_step(&site.config.inactivity, waiting, now) {
            Step::Idle => None,
            Step::At(at) => Some(at),
            Step::Nudge { seq, then } => {
                self.conversations.nudge_idle(&site, id, seq).await?;
                then
            }
            Step::Resolve => {
                self.resolve(&site, &conversation).await?;
                None
            }
            Step::Alert { seq, waited_secs } => {
                self.alert(&conversation, seq, waited_secs).await?;
                None
            }
        };
        match next {
            Some(at) => self.stores.idle.idle_due(id, at).await,
            None => self.stores.idle.unwatch(id).await,
        }
    }

    async fn resolve(&self, site: &crate::sites::Site, conversation: &Conversation) -> Result<(), StoreError> {
        let id = conversation.id;
        let m = match conversation.state {
            State::Agent => match self.stores.handoff.assignment(id).await? {
                Some(assignment) => Move::Resolve { holder: assignment.agent_id },
                None => return Ok(()),
            },
            _ => Move::Lapse,
        };
        let with_agent = matches!(m, Move::Resolve { .. });
        if self.conversations.resolve_idle(site, id, m).await? && with_agent {
            self.router.refresh().await?;
        }
        Ok(())
    }

    /// Tells the site's agents (of the chat's team) that it has waited past the SLA, once for
    /// the wait that began with event `seq`.
    async fn alert(&self, conversation: &Conversation, seq: u64, waited_secs: u64) -> Result<(), StoreError> {
        let id = conversation.id;
        if !self.stores.allowances.take(&[inactivity::once("sla", id, seq)]).await? {
            return Ok(());
        }
        let team = conversation.records.escalation.as_ref().and_then(|e| e.team.clone());
        tracing::info!(conversation_id = %id, site = %conversation.site, waited_secs, "SLA breached");
        crate::telemetry::metrics::sla_breach(&conversation.site);
        let frame = AgentEvent::SlaBreach {
            conversation_id: id,
            site: conversation.site.clone(),
            state: conversation.state,
            team: team.clone(),
            waited_secs,
        };
        self.router.tell_agents(&conversation.site, team.as_deref(), &frame).await
    }
}

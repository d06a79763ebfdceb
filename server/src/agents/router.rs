//! The queue: conversations go in when they escalate and come out when a person takes them.
//!
//! After every change, [`Router::refresh`] assigns what routing can assign, then sends agents
//! a `queue_snapshot` and each waiting visitor a `queue` frame when their place or estimate
//! changed. A chat changes hands only through [`Router::take`] (to a person, from the queue or
//! from another agent) and [`Router::release`] (back to the queue, to the bot, or closed):
//! each is one atomic move of the conversation's state machine, so exactly one of any number
//! of racers wins and no agent goes past their capacity, whichever nodes they are on.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use chrono::Utc;

use super::presence::{Load, Presences, candidates};
use super::{queue, routing, views};
use crate::bot::assist::{Assist, AssistSource};
use crate::config::{AgentConfig, Routing};
use crate::conversation::machine::Move;
use crate::conversation::{Conversations, Escalation, Handoffs, Notice};
use crate::protocol::agent::{AgentEvent, LeftMessage};
use crate::protocol::{AgentRef, ConversationId, Ephemeral, Reason};
use crate::records::Record;
use crate::sites::{Site, Sites};
use crate::store::{Counter, Delivery, EventLog, Handoff, PubSub, StoreError, Topic, Transitioned};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Availability {
    Available(usize),
    NoAgents,
    OutsideHours,
}

/// How a take ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Taken {
    Yes,
    /// The chat was not where the take expected it (someone else won, or it left).
    No,
    /// The agent holds `max_chats` chats already.
    AtCapacity,
    /// The chat is not the giving agent's (a transfer).
    NotHolder,
}

/// Events read back to see whether the visitor was told a person joined.
const JOINED_LOOKBACK: usize = 200;

pub struct Router {
    conversations: Conversations,
    log: Arc<dyn EventLog>,
    handoff: Arc<dyn Handoff>,
    pubsub: Arc<dyn PubSub>,
    sites: Sites,
    presences: Presences,
    assist: Assist,
    /// One routing pass at a time on this node (passes on other nodes are safe too: takes
    /// are atomic; this only saves wasted attempts).
    routing: tokio::sync::Mutex<()>,
    /// Round robin: the agent picked last, per site. Short-held.
    last_pick: Mutex<HashMap<String, String>>,
    /// The `queue` frame each waiting visitor was sent last, so unchanged ones are not resent.
    /// Short-held.
    last_queue_frame: Mutex<HashMap<ConversationId, (u32, Option<u32>)>>,
}

impl Router {
    pub fn new(
        conversations: Conversations,
        stores: &crate::store::Stores,
        sites: Sites,
        presences: Presences,
        assist: Assist,
    ) -> Arc<Router> {
        Arc::new(Router {
            conversations,
            log: stores.log.clone(),
            handoff: stores.handoff.clone(),
            pubsub: stores.pubsub.clone(),
            sites,
            presences,
            assist,
            routing: tokio::sync::Mutex::new(()),
            last_pick: Mutex::default(),
            last_queue_frame: Mutex::default(),
        })
    }

    pub fn presences(&self) -> &Presences {
        &self.presences
    }

    /// Gives the chat to `agent`: from the queue (`from: None`), or from the agent who has
    /// it (a transfer). Within the agent's capacity, atomically.
    pub async fn take(
        &self,
        site: &Site,
        id: ConversationId,
        agent: &AgentConfig,
        from: Option<&str>,
    ) -> Result<Taken, StoreError> {
        let agent_ref = AgentRef { id: agent.id.clone(), name: agent.name.clone() };
        let max_chats = agent.max_chats;
        let m = match from {
            None => Move::Take { agent: agent_ref, max_chats },
            Some(holder) => Move::Transfer { from: holder.to_owned(), to: agent_ref, max_chats },
        };
        match self.conversations.apply(id, m).await? {
            Transitioned::Done { event, dequeued } => {
                // A chat given back keeps its first clock: its wait is not a pickup time.
                if let Some(entry) = dequeued.filter(|e| !e.returned) {
                    let waited = (event.at - entry.waiting_since).num_seconds().max(0);
                    self.handoff.record_pickup(&site.config.id, u32::try_from(waited).unwrap_or(u32::MAX)).await?;
                }
                tracing::info!(conversation_id = %id, agent = %agent.id, "assigned");
                Ok(Taken::Yes)
            }
            Transitioned::Refused { .. } => Ok(Taken::No),
            Transitioned::AtCapacity => Ok(Taken::AtCapacity),
            Transitioned::NotHolder => Ok(Taken::NotHolder),
        }
    }

    /// Takes the chat out of a person's hands (`m` is a requeue, hand-back or resolve);
    /// `false` when the move did not apply (the chat was no longer theirs).
    pub async fn release(&self, id: ConversationId, m: Move) -> Result<bool, StoreError> {
        Ok(matches!(self.conversations.apply(id, m).await?, Transitioned::Done { .. }))
    }

    /// Gives a chat whose agent left or did not answer back to the queue, ahead of its peers,
    /// with its original reason, team and waiting time. The visitor is told `notice` the first
    /// time only: a chat that bounces again is not apologised for once per bounce.
    pub async fn give_back(
        &self,
        id: ConversationId,
        holder: Option<String>,
        notice: Notice,
    ) -> Result<bool, StoreError> {
        if !self.requeue(id, holder, None, None).await? {
            return Ok(false);
        }
        if self.log.incr(id, Counter::Returns, 1).await? <= 1 {
            self.tell(id, notice).await?;
        }
        Ok(true)
    }

    /// An agent's transfer to a team's queue: it waits there as a transfer, and the visitor is
    /// told where they are going.
    pub async fn transfer_to_team(&self, id: ConversationId, holder: String, team: String) -> Result<bool, StoreError> {
        if !self.requeue(id, Some(holder), Some(Reason::Transfer), Some(team.clone())).await? {
            return Ok(false);
        }
        self.tell(id, Notice::TransferToTeam { team }).await?;
        Ok(true)
    }

    /// Moves a chat held by an agent (`holder`, or whoever has it) back to the queue. The chat
    /// keeps its original reason and team unless `reason` and `team` say otherwise.
    async fn requeue(
        &self,
        id: ConversationId,
        holder: Option<String>,
        reason: Option<Reason>,
        team: Option<String>,
    ) -> Result<bool, StoreError> {
        let Some(conversation) = self.log.conversation(id).await? else { return Ok(false) };
        let escalation = Escalation::back(conversation.records.escalation.map(|e| *e), team);
        let reason = reason.unwrap_or(escalation.record.reason);
        let entry = escalation.entry(&conversation.site, id, reason, true);
        if !self.release(id, Move::Requeue { holder, entry }).await? {
            return Ok(false);
        }
        self.log.set_record(id, Record::Escalation(escalation.record)).await?;
        tracing::info!(conversation_id = %id, ?reason, "returned to the queue");
        Ok(true)
    }

    /// Tells the visitor of conversation `id` a notice, in their language.
    pub async fn tell(&self, id: ConversationId, notice: Notice) -> Result<(), StoreError> {
        let Some(conversation) = self.log.conversation(id).await? else { return Ok(()) };
        let Some(site) = self.sites.get(&conversation.site) else { return Ok(()) };
        self.conversations.tell(&site, id, notice, None).await
    }

    /// Whether the visitor of `id` was told that a person joined since the chat last went to
    /// one: a system notice after its newest `state agent` event (the joined notice comes
    /// first; a chat routed to someone who never opened it has none).
    pub async fn joined_since_take(&self, id: ConversationId) -> Result<bool, StoreError> {
        let recent = self.log.recent_events(id, JOINED_LOOKBACK).await?;
        for event in recent.iter().rev() {
            match &event.body {
                crate::protocol::EventBody::Message { from: crate::protocol::Speaker::System, .. } => return Ok(true),
                crate::protocol::EventBody::State { state: crate::protocol::State::Agent, .. } => return Ok(false),
                _ => {}
            }
        }
        Ok(false)
    }

    /// Tells the visitor that `agent` joined, once per take of the chat (`take_seq`, the
    /// take's `state` event) and only while a person has it.
    pub async fn tell_joined(
        &self,
        site: &Site,
        id: ConversationId,
        agent: &AgentRef,
        take_seq: u64,
    ) -> Result<bool, StoreError> {
        let notice = Notice::AgentJoined { name: agent.name.clone() };
        let key = format!("joined:{}:{take_seq}", agent.id);
        self.conversations.tell_once(site, id, notice, key, &[crate::protocol::State::Agent]).await
    }

    pub async fn availability(&self, site: &Site, team: Option<&str>) -> Result<Availability, StoreError> {
        if site.config.handoff.parsed_hours.as_ref().is_some_and(|hours| !hours.is_open(Utc::now())) {
            return Ok(Availability::OutsideHours);
        }
        let loads = self.presences.loads().await?;
        match routing::available(team, &candidates(&loads, &site.config.id)) {
            0 => Ok(Availability::NoAgents),
            n => Ok(Availability::Available(n)),
        }
    }

    /// What the visitor is told when no one can take the chat (it comes with a way to leave
    /// a message).
    async fn nobody_notice(&self, site: &Site, team: Option<&str>) -> Result<Option<Notice>, StoreError> {
        Ok(match self.availability(site, team).await? {
            Availability::Available(_) => None,
            Availability::NoAgents => Some(Notice::NoAgents),
            Availability::OutsideHours => Some(Notice::OutsideHours),
        })
    }

    /// Assigns what routing can, then tells agents and waiting visitors.
    pub async fn refresh(&self) -> Result<(), StoreError> {
        self.route_waiting().await?;
        self.broadcast().await
    }

    /// Assigns what routing can; returns how many chats it assigned.
    ///
    /// One pass reads the queue and every agent's load once, and keeps its copy of the loads
    /// true as it assigns: its cost grows with the queue plus the agents, never with their
    /// product of store reads. Takes stay atomic in the store, so a load another node changed
    /// meanwhile costs one refused take, and the pass stops as soon as nobody has room.
    pub async fn route_waiting(&self) -> Result<usize, StoreError> {
        let _one_pass = self.routing.lock().await;
        let waiting = queue::sorted(self.handoff.queue().await?);
        let mut loads = self.presences.loads().await?;
        let mut assigned = 0;
        for entry in waiting {
            if !loads.iter().any(Load::has_room) {
                break;
            }
            let Some(site) = self.sites.get(&entry.site) else { continue };
            let handoff = &site.config.handoff;
            if handoff.routing == Routing::Manual
                || handoff.parsed_hours.as_ref().is_some_and(|h| !h.is_open(Utc::now()))
            {
                continue;
            }
            let last = self.picks().get(&entry.site).cloned();
            let picked = routing::pick(
                handoff.routing,
                entry.team.as_deref(),
                &candidates(&loads, &entry.site),
                last.as_deref(),
            )
            .map(str::to_owned);
            let Some(load) = picked.and_then(|id| loads.iter_mut().find(|load| load.agent.id == id)) else { continue };
            let taken = self.take(&site, entry.conversation_id, &load.agent, None).await?;
            load.note(taken);
            if taken == Taken::Yes {
                self.picks().insert(entry.site.clone(), load.agent.id.clone());
                assigned += 1;
            }
        }
        Ok(assigned)
    }

    /// Sends each agent who is here the part of the queue they may see, and each waiting
    /// visitor their place in it, when it changed. Positions come from one pass over the
    /// queue, pickup waits from one read per site.
    pub async fn broadcast(&self) -> Result<(), StoreError> {
        let sorted = queue::sorted(self.handoff.queue().await?);
        let items = views::queue_items(self.log.as_ref(), &sorted).await?;
        let loads = self.presences.loads().await?;
        for load in loads.iter().filter(|load| load.present) {
            let agent = &load.agent;
            let items = items.iter().filter(|i| agent.may_see(&i.site, i.team.as_deref())).cloned().collect();
            let frame = AgentEvent::QueueSnapshot { items };
            self.pubsub.deliver(Delivery::frame(Topic::Agent(agent.id.clone()), &frame)).await?;
        }
        let mut waits: HashMap<&str, Vec<u32>> = HashMap::new();
        let mut available: HashMap<(&str, Option<&str>), usize> = HashMap::new();
        let mut sent = HashSet::with_capacity(sorted.len());
        for (entry, position) in sorted.iter().zip(queue::positions(&sorted)) {
            if !waits.contains_key(entry.site.as_str()) {
                waits.insert(&entry.site, self.handoff.pickups(&entry.site).await?);
            }
            let team = entry.team.as_deref();
            let able = *available
                .entry((entry.site.as_str(), team))
                .or_insert_with(|| routing::available(team, &candidates(&loads, &entry.site)));
            let eta = queue::eta_seconds(position, &waits[entry.site.as_str()], able);
            sent.insert(entry.conversation_id);
            if self.last_frames().insert(entry.conversation_id, (position, eta)) != Some((position, eta)) {
                let frame = Ephemeral::Queue { conversation_id: entry.conversation_id, position, eta_seconds: eta };
                self.pubsub.publish(entry.conversation_id, &frame).await?;
            }
        }
        self.last_frames().retain(|id, _| sent.contains(id));
        Ok(())
    }

    /// Sends `frame` about a chat of `site` routed to `team` to every agent who may see it,
    /// and to no one else. There is no topic for "every agent": this is the one way a frame
    /// reaches agents who do not have the chat.
    pub async fn tell_agents(&self, site: &str, team: Option<&str>, frame: &AgentEvent) -> Result<(), StoreError> {
        for agent in self.presences.directory().audience(site, team) {
            self.pubsub.deliver(Delivery::frame(Topic::Agent(agent.id.clone()), frame)).await?;
        }
        Ok(())
    }

    /// A model-written summary for the agents, in the background: stored when usable (queue
    /// items and views then carry it), and sent to agents as a `summary` frame either way
    /// (the extractive one, so marked, when the model's was not usable).
    fn summarise_later(self: &Arc<Self>, site: &Site, id: ConversationId) {
        let (this, site) = (self.clone(), site.config.id.clone());
        tokio::spawn(async move {
            let Some(site) = this.sites.get(&site) else { return };
            let Ok(Some(conversation)) = this.log.conversation(id).await else { return };
            let Ok(events) = this.log.events_after(id, 0, views::MAX_VIEW_EVENTS).await else { return };
            let escalation = conversation.records.escalation.as_deref();
            let detail = escalation.map(|e| e.detail.as_str());
            let summary = this.assist.model_summary(&site, &events, detail).await;
            if summary.source == AssistSource::Model {
                if let Err(error) = this.log.set_record(id, Record::Summary(summary.value.clone())).await {
                    tracing::warn!(%error, conversation_id = %id, "summary not stored");
                }
                let _ = this.broadcast().await;
            }
            let frame = AgentEvent::Summary { conversation_id: id, text: summary.value, source: summary.source };
            let team = escalation.and_then(|e| e.team.as_deref());
            let _ = this.tell_agents(&conversation.site, team, &frame).await;
        });
    }

    fn picks(&self) -> MutexGuard<'_, HashMap<String, String>> {
        self.last_pick.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn last_frames(&self) -> MutexGuard<'_, HashMap<ConversationId, (u32, Option<u32>)>> {
        self.last_queue_frame.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// What the conversation layer calls when a chat joins the queue or its visitor writes.
pub struct RouterHandoffs {
    pub router: Arc<Router>,
    pub desk: super::desk::Desk,
}

#[async_trait]
impl Handoffs for RouterHandoffs {
    async fn nobody_available(&self, site: &Site, team: Option<&str>) -> Result<Option<Notice>, StoreError> {
        self.router.nobody_notice(site, team).await
    }

    async fn queued(&self, site: &Site, id: ConversationId, _team: Option<&str>) -> Result<(), StoreError> {
        self.router.refresh().await?;
        if self.router.assist.has_model() {
            self.router.summarise_later(site, id);
        }
        Ok(())
    }

    fn visitor_wrote(&self, site: &Arc<Site>, id: ConversationId) {
        self.desk.suggest_soon(site, id);
    }

    async fn left_message(&self, message: &LeftMessage) -> Result<(), StoreError> {
        let frame = AgentEvent::LeftMessage { message: message.clone() };
        self.router.tell_agents(&message.site, None, &frame).await
    }
}

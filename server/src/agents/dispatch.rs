//! The queue: conversations go in when they escalate and come out when a person takes them.
//!
//! After every change, [`Dispatch::refresh`] assigns what routing can assign, then sends
//! agents a `queue_snapshot` and each waiting visitor a `queue` frame when their place or
//! estimate changed. The janitor ([`Dispatch::janitor`], every `handoff.janitor_secs` on
//! every node) gives back to the front of the queue the chats of agents whose presence ran
//! out and of agents who did not answer in time. Taking a chat is a conditional append
//! (`state agent` only while `queued`), so exactly one of any number of racers wins.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::routing::{self, Candidate, Routing};
use super::{Directory, queue, views};
use crate::bot::assist::Assist;
use crate::bot::reply::system_message;
use crate::config::{AgentConfig, HandoffSettings};
use crate::protocol::agent::AgentEvent;
use crate::protocol::{Action, AgentRef, ConversationId, Ephemeral, EventBody, Reason, State};
use crate::sites::{Site, Sites};
use crate::store::{AgentStatus, Appended, Assignment, Delivery, EventDraft, QueueEntry, Store, StoreError, Topic};

/// The quick reply under a "nobody can take this now" notice.
pub const LEAVE_MESSAGE: &str = "leave_message";

/// Why a conversation goes to the queue, as the escalation policy (or the visitor) decided.
pub struct Escalation {
    pub reason: Reason,
    pub priority: u8,
    /// Told to the visitor.
    pub notice: String,
    /// Kept for agents: reason, priority, detail, signals (see `conversation::escalation_record`).
    pub record: Value,
    /// The sensitive topic that fired, which may route to a team of its own.
    pub topic: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Availability {
    Available(usize),
    NoAgents,
    OutsideHours,
}

/// An agent with what routing needs to know about them now.
struct Load {
    agent: AgentConfig,
    online: bool,
    chats: u32,
    idle_secs: u64,
}

pub struct Dispatch {
    store: Arc<dyn Store>,
    sites: Sites,
    directory: Directory,
    settings: HandoffSettings,
    assist: Assist,
    max_events: usize,
    /// One routing pass at a time on this node, so two passes cannot fill one agent twice.
    routing: tokio::sync::Mutex<()>,
    /// Round robin: the agent picked last, per site. Short-held.
    last_pick: Mutex<HashMap<String, String>>,
    /// The `queue` frame each waiting visitor was sent last, so unchanged ones are not resent.
    /// Short-held.
    last_queue_frame: Mutex<HashMap<ConversationId, (u32, Option<u32>)>>,
}

impl Dispatch {
    pub fn new(
        store: Arc<dyn Store>,
        sites: Sites,
        directory: Directory,
        settings: HandoffSettings,
        assist: Assist,
        max_events: usize,
    ) -> Arc<Dispatch> {
        Arc::new(Dispatch {
            store,
            sites,
            directory,
            settings,
            assist,
            max_events,
            routing: tokio::sync::Mutex::new(()),
            last_pick: Mutex::default(),
            last_queue_frame: Mutex::default(),
        })
    }

    pub fn directory(&self) -> &Directory {
        &self.directory
    }

    pub fn assist(&self) -> &Assist {
        &self.assist
    }

    pub fn max_events(&self) -> usize {
        self.max_events
    }

    /// Queues a bot (or resolved) conversation. A conversation already queued or with a person
    /// is left as it is.
    pub async fn escalate(
        self: &Arc<Self>,
        site: &Site,
        id: ConversationId,
        escalation: Escalation,
    ) -> Result<(), StoreError> {
        let handoff = &site.config.handoff;
        let team =
            escalation.topic.as_ref().and_then(|t| handoff.topic_teams.get(t)).or(handoff.team.as_ref()).cloned();
        let mut record = escalation.record;
        record["team"] = serde_json::json!(team);
        self.store.set_attr(id, "escalation", record).await?;
        let state = EventBody::State { state: State::Queued, reason: Some(escalation.reason), agent: None };
        let Appended::New { event, .. } =
            self.store.append(id, EventDraft::new(state).expect(&[State::Bot, State::Resolved])).await?
        else {
            return Ok(());
        };
        tracing::info!(conversation_id = %id, reason = ?escalation.reason, ?team, "escalated");
        self.store.append(id, EventDraft::new(system_message(escalation.notice))).await?;
        let entry = QueueEntry {
            conversation_id: id,
            site: site.config.id.clone(),
            team: team.clone(),
            reason: escalation.reason,
            priority: escalation.priority,
            waiting_since: event.at,
            returned: false,
        };
        self.store.enqueue(entry).await?;
        self.tell_if_nobody(site, id, team.as_deref()).await?;
        self.refresh().await?;
        if self.assist.has_model() {
            self.summarise_later(site.config.id.clone(), id);
        }
        Ok(())
    }

    /// Tells the visitor at once when no one can take the chat, with a way to leave a message.
    async fn tell_if_nobody(&self, site: &Site, id: ConversationId, team: Option<&str>) -> Result<(), StoreError> {
        let handoff = &site.config.handoff;
        let text = match self.availability(site, team).await? {
            Availability::Available(_) => return Ok(()),
            Availability::NoAgents => handoff.no_agents.clone(),
            Availability::OutsideHours => handoff.outside_hours.clone(),
        };
        let mut notice = system_message(text);
        if let EventBody::Message { actions, .. } = &mut notice {
            actions.push(Action { id: LEAVE_MESSAGE.into(), label: "Leave a message".into() });
        }
        self.store.append(id, EventDraft::new(notice)).await.map(drop)
    }

    pub async fn availability(&self, site: &Site, team: Option<&str>) -> Result<Availability, StoreError> {
        if site.config.handoff.parsed_hours.as_ref().is_some_and(|hours| !hours.is_open(Utc::now())) {
            return Ok(Availability::OutsideHours);
        }
        let loads = self.loads().await?;
        match routing::available(team, &candidates(&loads)) {
            0 => Ok(Availability::NoAgents),
            n => Ok(Availability::Available(n)),
        }
    }

    /// Assigns what routing can, then tells agents and waiting visitors.
    pub async fn refresh(&self) -> Result<(), StoreError> {
        self.route_waiting().await?;
        self.broadcast().await
    }

    /// Assigns what routing can; returns how many chats it assigned.
    async fn route_waiting(&self) -> Result<usize, StoreError> {
        let _one_pass = self.routing.lock().await;
        let mut assigned = 0;
        for entry in queue::sorted(self.store.queue().await?) {
            let Some(site) = self.sites.get(&entry.site) else { continue };
            let handoff = &site.config.handoff;
            if handoff.routing == Routing::Manual
                || handoff.parsed_hours.as_ref().is_some_and(|h| !h.is_open(Utc::now()))
            {
                continue;
            }
            let loads = self.loads().await?;
            let last = self.picks().get(&entry.site).cloned();
            let Some(agent_id) =
                routing::pick(handoff.routing, entry.team.as_deref(), &candidates(&loads), last.as_deref())
            else {
                continue;
            };
            let Some(agent) = self.directory.get(agent_id).cloned() else { continue };
            if self.assign(&site, entry.conversation_id, &agent).await? {
                self.picks().insert(entry.site.clone(), agent.id.clone());
                assigned += 1;
            }
        }
        Ok(assigned)
    }

    /// Gives a queued chat to `agent`; `false` when it was not queued (someone else won).
    pub async fn assign(&self, site: &Site, id: ConversationId, agent: &AgentConfig) -> Result<bool, StoreError> {
        let agent_ref = AgentRef { id: agent.id.clone(), name: agent.name.clone() };
        let state = EventBody::State { state: State::Agent, reason: None, agent: Some(agent_ref.clone()) };
        let Appended::New { event, .. } =
            self.store.append(id, EventDraft::new(state).expect(&[State::Queued])).await?
        else {
            return Ok(false);
        };
        let entry = self.store.dequeue(id).await?;
        self.store
            .assign(Assignment { agent_id: agent.id.clone(), conversation_id: id, since: event.at, answered: false })
            .await?;
        self.store.set_attr(id, "agent", serde_json::to_value(&agent_ref).unwrap_or_default()).await?;
        if let Some(entry) = entry {
            let waited = (event.at - entry.waiting_since).num_seconds().max(0);
            self.store.record_pickup(&site.config.id, u32::try_from(waited).unwrap_or(u32::MAX)).await?;
        }
        tracing::info!(conversation_id = %id, agent = %agent.id, "assigned");
        self.send_assigned(&agent.id, id).await?;
        Ok(true)
    }

    /// Sends `agent_id` the view of a chat they now have.
    pub async fn send_assigned(&self, agent_id: &str, id: ConversationId) -> Result<(), StoreError> {
        let Some(view) =
            views::conversation_view(self.store.as_ref(), &self.sites, &self.assist, id, self.max_events).await?
        else {
            return Ok(());
        };
        let frame = AgentEvent::Assigned { conversation: Box::new(view) };
        self.store.deliver(Delivery::frame(Topic::Agent(agent_id.to_owned()), &frame)).await
    }

    /// Gives a chat held by an agent back to the queue, ahead of its peers; `team` (for a
    /// transfer) replaces the chat's team. `false` when no agent held it.
    pub async fn requeue(
        &self,
        id: ConversationId,
        reason: Reason,
        team: Option<String>,
        notice: &str,
    ) -> Result<bool, StoreError> {
        let Some(conversation) = self.store.conversation(id).await? else { return Ok(false) };
        let record = conversation.attrs.get("escalation").cloned().unwrap_or_default();
        let state = EventBody::State { state: State::Queued, reason: Some(reason), agent: None };
        let Appended::New { event, .. } = self.store.append(id, EventDraft::new(state).expect(&[State::Agent])).await?
        else {
            return Ok(false);
        };
        self.store.unassign(id).await?;
        self.store.set_attr(id, "agent", Value::Null).await?;
        self.store.append(id, EventDraft::new(system_message(notice.to_owned()))).await?;
        let team = team.or_else(|| record["team"].as_str().map(str::to_owned));
        let priority = record["priority"].as_u64().and_then(|p| u8::try_from(p).ok()).unwrap_or(5);
        let entry = QueueEntry {
            conversation_id: id,
            site: conversation.site,
            team,
            reason,
            priority,
            waiting_since: event.at,
            returned: true,
        };
        self.store.enqueue(entry).await?;
        tracing::info!(conversation_id = %id, ?reason, "returned to the queue");
        Ok(true)
    }

    /// Sends agents the queue and each waiting visitor their place in it, when it changed.
    pub async fn broadcast(&self) -> Result<(), StoreError> {
        let sorted = queue::sorted(self.store.queue().await?);
        let items = views::queue_items(self.store.as_ref(), &sorted).await?;
        self.store.deliver(Delivery::frame(Topic::Agents, &AgentEvent::QueueSnapshot { items })).await?;
        let loads = self.loads().await?;
        let candidates = candidates(&loads);
        let mut sent = Vec::new();
        for entry in &sorted {
            let position = queue::position(&sorted, entry);
            let waits = self.store.pickups(&entry.site).await?;
            let eta = queue::eta_seconds(position, &waits, routing::available(entry.team.as_deref(), &candidates));
            sent.push(entry.conversation_id);
            if self.last_frames().insert(entry.conversation_id, (position, eta)) != Some((position, eta)) {
                let frame = Ephemeral::Queue { conversation_id: entry.conversation_id, position, eta_seconds: eta };
                self.store.publish(entry.conversation_id, &frame).await?;
            }
        }
        self.last_frames().retain(|id, _| sent.contains(id));
        Ok(())
    }

    /// Gives back the chats of departed agents and of agents who did not answer in time, and
    /// assigns waiting chats to agents who have room; tells everyone only when something moved.
    pub async fn janitor(&self, now: DateTime<Utc>) -> Result<(), StoreError> {
        let presence = self.store.presence().await?;
        let mut changed = 0;
        for (agent_id, _) in presence.iter().filter(|(_, p)| p.until < now) {
            tracing::info!(agent = %agent_id, "agent gone past the grace period");
            self.store.set_presence(agent_id, None).await?;
            changed += 1;
        }
        let timeout = chrono::Duration::seconds(i64::try_from(self.settings.answer_timeout_secs).unwrap_or(i64::MAX));
        for assignment in self.store.assignments().await? {
            let present = presence.get(&assignment.agent_id).is_some_and(|p| p.until >= now);
            let silent =
                self.settings.answer_timeout_secs > 0 && !assignment.answered && assignment.since + timeout < now;
            let notice = match (present, silent) {
                (false, _) => {
                    "The person helping you had to leave. You're back at the front of the queue for the next one."
                }
                (true, true) => {
                    "Sorry for the wait. You're back at the front of the queue for the next available person."
                }
                (true, false) => continue,
            };
            let reason = self.original_reason(assignment.conversation_id).await?;
            self.requeue(assignment.conversation_id, reason, None, notice).await?;
            changed += 1;
        }
        changed += self.route_waiting().await?;
        if changed > 0 { self.broadcast().await } else { Ok(()) }
    }

    async fn original_reason(&self, id: ConversationId) -> Result<Reason, StoreError> {
        let conversation = self.store.conversation(id).await?;
        let reason = conversation
            .and_then(|c| c.attrs.get("escalation").and_then(|e| serde_json::from_value(e["reason"].clone()).ok()));
        Ok(reason.unwrap_or(Reason::ExplicitRequest))
    }

    async fn loads(&self) -> Result<Vec<Load>, StoreError> {
        let presence = self.store.presence().await?;
        let assignments = self.store.assignments().await?;
        let now = Utc::now();
        Ok(self
            .directory
            .all()
            .iter()
            .map(|agent| {
                let mine: Vec<&Assignment> = assignments.iter().filter(|a| a.agent_id == agent.id).collect();
                let online = presence.get(&agent.id).is_some_and(|p| p.status == AgentStatus::Online && p.until >= now);
                let last = mine.iter().map(|a| a.since).max();
                let idle_secs = last.map_or(u64::MAX, |since| u64::try_from((now - since).num_seconds()).unwrap_or(0));
                Load { agent: agent.clone(), online, chats: u32::try_from(mine.len()).unwrap_or(u32::MAX), idle_secs }
            })
            .collect())
    }

    fn summarise_later(self: &Arc<Self>, site: String, id: ConversationId) {
        let this = self.clone();
        tokio::spawn(async move {
            let Some(site) = this.sites.get(&site) else { return };
            let Ok(events) = this.store.events_after(id, 0, this.max_events).await else { return };
            if let Some(summary) = this.assist.model_summary(&site, &events).await
                && this.store.set_attr(id, "summary", Value::String(summary)).await.is_ok()
            {
                let _ = this.broadcast().await;
            }
        });
    }

    fn picks(&self) -> MutexGuard<'_, HashMap<String, String>> {
        self.last_pick.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn last_frames(&self) -> MutexGuard<'_, HashMap<ConversationId, (u32, Option<u32>)>> {
        self.last_queue_frame.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn candidates(loads: &[Load]) -> Vec<Candidate<'_>> {
    loads
        .iter()
        .map(|load| Candidate {
            id: &load.agent.id,
            teams: &load.agent.teams,
            max_chats: load.agent.max_chats,
            chats: load.chats,
            online: load.online,
            idle_secs: load.idle_secs,
        })
        .collect()
}

//! Who is signed in, and what routing needs to know about each agent right now: present and
//! online, how many chats they hold, how long since they last got one.
//!
//! A connected socket keeps its agent's presence alive by pushing its `until` on; after the
//! last socket closes it runs out after the grace period (a reload, a tunnel), and the
//! janitor then gives the agent's chats back.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::Directory;
use super::router::Taken;
use super::routing::Candidate;
use crate::config::AgentConfig;
use crate::store::{AgentPresence, AgentStatus, Handoff, Presence, StoreError};

/// An agent with what routing needs to know about them now.
pub struct Load {
    pub agent: AgentConfig,
    /// Signed in (online or away) within the grace period: their sockets want the queue.
    pub present: bool,
    pub online: bool,
    pub chats: u32,
    pub idle_secs: u64,
}

impl Load {
    pub fn candidate(&self) -> Candidate<'_> {
        Candidate {
            id: &self.agent.id,
            teams: &self.agent.teams,
            max_chats: self.agent.max_chats,
            chats: self.chats,
            online: self.online,
            idle_secs: self.idle_secs,
        }
    }
}

impl Load {
    /// Online and below capacity: could take some chat.
    pub fn has_room(&self) -> bool {
        self.online && self.chats < self.agent.max_chats
    }

    /// Keeps a pass's copy of the load true after a take: one more chat, or none to spare.
    pub fn note(&mut self, taken: Taken) {
        match taken {
            Taken::Yes => {
                self.chats = self.chats.saturating_add(1);
                self.idle_secs = 0;
            }
            Taken::AtCapacity => self.chats = self.chats.max(self.agent.max_chats),
            Taken::No | Taken::NotHolder => {}
        }
    }
}

/// The agents who could be given a chat of `site` (routing then checks team and room).
pub fn candidates<'a>(loads: &'a [Load], site: &str) -> Vec<Candidate<'a>> {
    loads.iter().filter(|load| load.agent.serves(site)).map(Load::candidate).collect()
}

#[derive(Clone)]
pub struct Presences {
    store: Arc<dyn AgentPresence>,
    handoff: Arc<dyn Handoff>,
    directory: Directory,
    grace: Duration,
}

impl Presences {
    pub fn new(
        store: Arc<dyn AgentPresence>,
        handoff: Arc<dyn Handoff>,
        directory: Directory,
        grace: Duration,
    ) -> Presences {
        Presences { store, handoff, directory, grace }
    }

    pub fn directory(&self) -> &Directory {
        &self.directory
    }

    /// How often a connected socket pushes its agent's presence on: four times per grace
    /// period, so a late tick never lets it lapse.
    pub fn refresh_every(&self) -> Duration {
        (self.grace / 4).max(Duration::from_millis(100))
    }

    /// The agent is here, with this status, for another grace period.
    pub async fn keep(&self, agent_id: &str, status: AgentStatus) -> Result<(), StoreError> {
        let until = Utc::now() + self.grace;
        self.store.set_presence(agent_id, Some(Presence { status, until })).await
    }

    /// The agent is gone now (disabled by the owner): no grace period.
    pub async fn forget(&self, agent_id: &str) -> Result<(), StoreError> {
        self.store.set_presence(agent_id, None).await
    }

    pub async fn all(&self) -> Result<BTreeMap<String, Presence>, StoreError> {
        self.store.presence().await
    }

    /// Forgets agents whose presence ran out before `now`; returns how many.
    pub async fn forget_gone(&self, presence: &BTreeMap<String, Presence>, now: DateTime<Utc>) -> usize {
        let mut gone = 0;
        for (agent_id, _) in presence.iter().filter(|(_, p)| p.until < now) {
            tracing::info!(agent = %agent_id, "agent gone past the grace period");
            if let Err(error) = self.store.set_presence(agent_id, None).await {
                tracing::warn!(%error, agent = %agent_id, "presence not removed");
            }
            gone += 1;
        }
        gone
    }

    /// Every agent with their load now: one presence read and one assignments read, grouped
    /// by agent in one pass (agents plus assignments, not their product).
    pub async fn loads(&self) -> Result<Vec<Load>, StoreError> {
        let presence = self.store.presence().await?;
        let assignments = self.handoff.assignments().await?;
        let mut held: HashMap<&str, (u32, Option<DateTime<Utc>>)> = HashMap::new();
        for assignment in &assignments {
            let (count, last) = held.entry(assignment.agent_id.as_str()).or_default();
            *count = count.saturating_add(1);
            *last = (*last).max(Some(assignment.since));
        }
        let now = Utc::now();
        Ok(self
            .directory
            .all()
            .iter()
            .map(|agent| {
                let (chats, last) = held.get(agent.id.as_str()).copied().unwrap_or_default();
                let here = presence.get(&agent.id).filter(|p| p.until >= now);
                let online = here.is_some_and(|p| p.status == AgentStatus::Online);
                let idle_secs = last.map_or(u64::MAX, |since| u64::try_from((now - since).num_seconds()).unwrap_or(0));
                Load { agent: agent.clone(), present: here.is_some(), online, chats, idle_secs }
            })
            .collect())
    }
}

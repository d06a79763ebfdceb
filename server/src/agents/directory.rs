//! The agents' directory (sites, teams, capacity), from configuration and the owner's
//! changes through the API, with token checks.

use std::sync::Arc;

use arc_swap::ArcSwap;
use sha2::{Digest, Sha256};
use tokio::sync::watch;

use crate::config::AgentConfig;
use crate::protocol::agent::AgentInfo;

/// The agents who may sign in now. Cheap to clone; every clone sees the same snapshot.
///
/// The list is swapped whole when the owner changes an agent (`changes`), never edited in
/// place: readers take the current snapshot without a lock and keep it for one decision.
/// Each swap bumps `generation`, which every agent socket watches so that a disabled agent
/// or a rotated token is signed out at once.
#[derive(Clone, Debug)]
pub struct Directory {
    agents: Arc<ArcSwap<Vec<AgentConfig>>>,
    generation: Arc<watch::Sender<u64>>,
}

impl Default for Directory {
    fn default() -> Directory {
        Directory::new(Vec::new())
    }
}

impl Directory {
    pub fn new(agents: Vec<AgentConfig>) -> Directory {
        let (generation, _) = watch::channel(0);
        Directory { agents: Arc::new(ArcSwap::from_pointee(agents)), generation: Arc::new(generation) }
    }

    /// Replaces the whole list (disabled agents left out) and tells every watcher.
    pub fn replace(&self, agents: Vec<AgentConfig>) {
        self.agents.store(Arc::new(agents));
        self.generation.send_modify(|generation| *generation = generation.wrapping_add(1));
    }

    /// Changes whenever the list is replaced.
    pub fn watch(&self) -> watch::Receiver<u64> {
        self.generation.subscribe()
    }

    /// The agent whose token this is. Tokens are compared as SHA-256 digests, in constant time.
    pub fn authenticate(&self, token: &str) -> Option<AgentConfig> {
        let digest = token_digest(token);
        self.agents
            .load()
            .iter()
            .find(|agent| constant_time_eq(agent.token_sha256.to_ascii_lowercase().as_bytes(), digest.as_bytes()))
            .cloned()
    }

    pub fn get(&self, id: &str) -> Option<AgentConfig> {
        self.agents.load().iter().find(|agent| agent.id == id).cloned()
    }

    /// The current snapshot.
    pub fn all(&self) -> Arc<Vec<AgentConfig>> {
        self.agents.load_full()
    }

    /// The agents who may see a chat of `site` routed to `team` ([`AgentConfig::may_see`]).
    pub fn audience(&self, site: &str, team: Option<&str>) -> Vec<AgentConfig> {
        self.agents.load().iter().filter(|agent| agent.may_see(site, team)).cloned().collect()
    }
}

/// The lowercase hex SHA-256 of a token: how tokens are kept.
pub fn token_digest(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

pub fn info(agent: &AgentConfig) -> AgentInfo {
    AgentInfo {
        id: agent.id.clone(),
        name: agent.name.clone(),
        teams: agent.teams.clone(),
        max_chats: agent.max_chats,
        admin: agent.role == crate::config::AgentRole::Admin,
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent(id: &str, token: &str) -> AgentConfig {
        let token_sha256 = Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
        AgentConfig { id: id.into(), name: id.into(), teams: vec![], max_chats: 2, token_sha256, ..Default::default() }
    }

    #[test]
    fn a_token_finds_its_agent_and_nothing_else_does() {
        let directory = Directory::new(vec![agent("ana", "secret-a"), agent("bo", "secret-b")]);
        assert_eq!(directory.authenticate("secret-b").map(|a| a.id), Some("bo".to_owned()));
        assert!(directory.authenticate("secret-c").is_none());
        assert!(directory.authenticate("").is_none());
    }

    #[test]
    fn a_replaced_list_is_what_every_clone_sees_and_watchers_are_told() {
        let directory = Directory::new(vec![agent("ana", "secret-a")]);
        let clone = directory.clone();
        let watch = clone.watch();
        directory.replace(vec![agent("bo", "secret-b")]);
        assert!(watch.has_changed().unwrap());
        assert!(clone.authenticate("secret-a").is_none());
        assert_eq!(clone.get("bo").map(|a| a.id), Some("bo".to_owned()));
    }
}

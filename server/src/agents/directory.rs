//! The agents' directory (sites, teams, capacity), from configuration, with token checks.

use sha2::{Digest, Sha256};

use crate::config::AgentConfig;
use crate::protocol::agent::AgentInfo;

/// The agents from configuration. Read-only after start.
#[derive(Clone, Debug, Default)]
pub struct Directory {
    agents: Vec<AgentConfig>,
}

impl Directory {
    pub fn new(agents: Vec<AgentConfig>) -> Directory {
        Directory { agents }
    }

    /// The agent whose token this is. Tokens are compared as SHA-256 digests, in constant time.
    pub fn authenticate(&self, token: &str) -> Option<&AgentConfig> {
        let digest: String = Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
        self.agents
            .iter()
            .find(|agent| constant_time_eq(agent.token_sha256.to_ascii_lowercase().as_bytes(), digest.as_bytes()))
    }

    pub fn get(&self, id: &str) -> Option<&AgentConfig> {
        self.agents.iter().find(|agent| agent.id == id)
    }

    pub fn all(&self) -> &[AgentConfig] {
        &self.agents
    }

    /// The agents who may see a chat of `site` routed to `team` ([`AgentConfig::may_see`]).
    pub fn audience<'a>(&'a self, site: &'a str, team: Option<&'a str>) -> impl Iterator<Item = &'a AgentConfig> + 'a {
        self.agents.iter().filter(move |agent| agent.may_see(site, team))
    }
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
        assert_eq!(directory.authenticate("secret-b").map(|a| a.id.as_str()), Some("bo"));
        assert!(directory.authenticate("secret-c").is_none());
        assert!(directory.authenticate("").is_none());
    }
}

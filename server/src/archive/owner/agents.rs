//! Agents made or changed through the API: one record per agent id, replacing the
//! `[[agents]]` entry of that id. The token is kept only as its SHA-256, as in the file.

use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::super::ArchiveError;
use super::super::sql::{SqlArchive, millis};
use super::{AGENTS, bump};
use crate::config::{AgentConfig, AgentRole};

/// An agent as the API keeps it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredAgent {
    pub id: String,
    pub name: String,
    pub teams: Vec<String>,
    /// `None`: every site (as in the file).
    pub sites: Option<Vec<String>>,
    pub max_chats: u32,
    pub token_sha256: String,
    pub role: AgentRole,
    /// A disabled agent cannot sign in, is never routed a chat, and is signed out at once.
    pub disabled: bool,
}

impl StoredAgent {
    pub fn from_config(agent: &AgentConfig) -> StoredAgent {
        StoredAgent {
            id: agent.id.clone(),
            name: agent.name.clone(),
            teams: agent.teams.clone(),
            sites: agent.sites.clone(),
            max_chats: agent.max_chats,
            token_sha256: agent.token_sha256.to_ascii_lowercase(),
            role: agent.role,
            disabled: false,
        }
    }

    pub fn config(&self) -> AgentConfig {
        AgentConfig {
            id: self.id.clone(),
            name: self.name.clone(),
            teams: self.teams.clone(),
            sites: self.sites.clone(),
            max_chats: self.max_chats,
            token_sha256: self.token_sha256.clone(),
            role: self.role,
        }
    }
}

fn record_text(agent: &StoredAgent) -> String {
    // unwrap: a record of strings, numbers and a unit enum always serialises.
    serde_json::to_string(agent).expect("agent records serialise")
}

impl SqlArchive {
    /// Stores the agent's record if the stored one is still `previous` (`None`: there is
    /// none yet, as for a new agent or one of the file's). `false`, and nothing stored, when
    /// another request changed it in between, so a disable is never undone by a change
    /// that read the record before it, and an id is made once.
    pub async fn put_agent(&self, agent: &StoredAgent, previous: Option<&StoredAgent>) -> Result<bool, ArchiveError> {
        let record = record_text(agent);
        let now = millis(chrono::Utc::now());
        let mut tx = self.pool().begin().await?;
        let query = match previous {
            None => sqlx::query(
                "INSERT INTO agent_overrides (id, record, updated_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING",
            )
            .bind(agent.id.clone())
            .bind(record)
            .bind(now),
            Some(previous) => {
                sqlx::query("UPDATE agent_overrides SET record = $1, updated_at = $2 WHERE id = $3 AND record = $4")
                    .bind(record)
                    .bind(now)
                    .bind(agent.id.clone())
                    .bind(record_text(previous))
            }
        };
        if query.execute(&mut *tx).await?.rows_affected() != 1 {
            return Ok(false);
        }
        bump(&mut tx, AGENTS).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Every stored agent record, by id.
    pub async fn stored_agents(&self) -> Result<Vec<StoredAgent>, ArchiveError> {
        let rows = sqlx::query("SELECT record FROM agent_overrides ORDER BY id").fetch_all(self.pool()).await?;
        rows.iter()
            .map(|row| {
                let record: String = row.try_get("record")?;
                serde_json::from_str(&record).map_err(|error| ArchiveError::Corrupt(format!("agent record: {error}")))
            })
            .collect()
    }
}

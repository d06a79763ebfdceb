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

impl SqlArchive {
    /// Stores (or replaces) the agent's record.
    pub async fn put_agent(&self, agent: &StoredAgent) -> Result<(), ArchiveError> {
        // unwrap: a record of strings, numbers and a unit enum always serialises.
        let record = serde_json::to_string(agent).expect("agent records serialise");
        let mut tx = self.pool().begin().await?;
        sqlx::query(
            "INSERT INTO agent_overrides (id, record, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (id) DO UPDATE SET record = excluded.record, updated_at = excluded.updated_at",
        )
        .bind(agent.id.clone())
        .bind(record)
        .bind(millis(chrono::Utc::now()))
        .execute(&mut *tx)
        .await?;
        bump(&mut tx, AGENTS).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Stores a new agent's record; `false` (nothing stored) when the id has one already,
    /// so two nodes making the same agent at once cannot overwrite each other.
    pub async fn create_agent(&self, agent: &StoredAgent) -> Result<bool, ArchiveError> {
        // unwrap: a record of strings, numbers and a unit enum always serialises.
        let record = serde_json::to_string(agent).expect("agent records serialise");
        let mut tx = self.pool().begin().await?;
        let done = sqlx::query(
            "INSERT INTO agent_overrides (id, record, updated_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING",
        )
        .bind(agent.id.clone())
        .bind(record)
        .bind(millis(chrono::Utc::now()))
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
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

//! The owner's changes made through the API: knowledge-base pages ([`pages`]), agents
//! ([`agents`]) and site settings ([`settings`]). The configuration files stay the base;
//! these rows layer on top and survive restarts. Every write adds one to its scope's
//! revision in the same transaction, so a node that reads [`SqlArchive::revisions`] knows
//! exactly what changed since it last looked (`changes` applies it).

pub mod agents;
pub mod pages;
pub mod settings;

use std::collections::HashMap;

use sqlx::Row;

use super::ArchiveError;
use super::sql::SqlArchive;

/// The revision scope of the agents' directory.
pub const AGENTS: &str = "agents";

/// The revision scope of one site's settings and pages.
pub fn site_scope(site: &str) -> String {
    format!("site:{site}")
}

/// Adds one to `scope`'s revision inside `tx`.
pub(crate) async fn bump(tx: &mut sqlx::Transaction<'_, sqlx::Any>, scope: &str) -> Result<(), ArchiveError> {
    sqlx::query(
        "INSERT INTO owner_revisions (scope, revision) VALUES ($1, 1) \
         ON CONFLICT (scope) DO UPDATE SET revision = owner_revisions.revision + 1",
    )
    .bind(scope.to_owned())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl SqlArchive {
    /// Every scope's revision (a scope never changed is absent).
    pub async fn revisions(&self) -> Result<HashMap<String, i64>, ArchiveError> {
        let rows = sqlx::query("SELECT scope, revision FROM owner_revisions").fetch_all(self.pool()).await?;
        rows.iter().map(|row| Ok((row.try_get("scope")?, row.try_get("revision")?))).collect()
    }
}

//! The owner's changes through the API, applied on every node without a restart.
//!
//! The archive is the source of truth (`archive::owner`): the configuration files stay the
//! base, the API's rows layer on top, and every write adds one to its scope's revision
//! (`agents`, or `site:ID` for a site's settings and pages). A node applies a change when
//! the counter it last applied differs from the archive's: right after its own writes
//! ([`Changes::announce`]), when the notice another node published on the live store's
//! pub/sub ([`Topic::Changes`]) arrives, and every `api.changes_poll_ms` in case a notice
//! was missed. Applying builds the new [`Site`] (its knowledge base re-indexed) on a
//! blocking thread and swaps it in whole ([`Sites::replace`]); the agents' list is swapped
//! the same way ([`Directory::replace`]), which signs out the sockets of a disabled agent
//! or of a rotated token.
//!
//! # Layout
//! - this file: the applier, its loop, and announcing a write;
//! - [`pages`]: uploaded pages: paths, HTML to Markdown, the documents a site indexes;
//! - [`settings`]: a site's settings patch, merged over its file and validated by the
//!   file's own loader.

pub mod pages;
pub mod settings;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::agents::Directory;
use crate::archive::ArchiveError;
use crate::archive::owner::agents::StoredAgent;
use crate::archive::owner::{AGENTS, site_scope};
use crate::archive::sql::SqlArchive;
use crate::config::{AgentConfig, SiteConfig};
use crate::delivery::{Delivery, Topic};
use crate::hub::{Hub, Outbox};
use crate::sites::{Site, Sites};
use crate::store::PubSub;

/// Notices a node may hold unread; the reader only wakes the loop, so it never falls behind.
const NOTICE_QUEUE: usize = 64;

/// Cheap to clone; every clone applies to the same sites and directory.
#[derive(Clone)]
pub struct Changes {
    archive: Arc<SqlArchive>,
    sites: Sites,
    directory: Directory,
    /// Each site as its file says, and the `[[agents]]` of the settings: what the API's
    /// rows layer on top of.
    base_sites: Arc<HashMap<String, SiteConfig>>,
    base_agents: Arc<Vec<AgentConfig>>,
    pubsub: Arc<dyn PubSub>,
    /// The revision applied per scope. Held (a tokio mutex) for a whole catch-up, so one
    /// catch-up runs at a time on a node and an older build never replaces a newer one.
    applied: Arc<tokio::sync::Mutex<HashMap<String, i64>>>,
}

impl Changes {
    pub fn new(
        archive: Arc<SqlArchive>,
        sites: Sites,
        directory: Directory,
        base_sites: &[SiteConfig],
        base_agents: Vec<AgentConfig>,
        pubsub: Arc<dyn PubSub>,
    ) -> Changes {
        let base_sites = base_sites.iter().map(|site| (site.id.clone(), site.clone())).collect();
        Changes {
            archive,
            sites,
            directory,
            base_sites: Arc::new(base_sites),
            base_agents: Arc::new(base_agents),
            pubsub,
            applied: Arc::default(),
        }
    }

    /// The archive the changes are stored in.
    pub fn archive(&self) -> &SqlArchive {
        &self.archive
    }

    /// Each site as its file says (`None`: no such site).
    pub fn base_site(&self, id: &str) -> Option<&SiteConfig> {
        self.base_sites.get(id)
    }

    /// The agents as the settings files list them.
    pub fn base_agents(&self) -> &[AgentConfig] {
        &self.base_agents
    }

    /// After a write: applies it on this node now, then tells every other node.
    pub async fn announce(&self, scope: &str) -> Result<(), ArchiveError> {
        self.catch_up().await?;
        let notice = serde_json::json!({ "scope": scope });
        if let Err(error) = self.pubsub.deliver(Delivery::frame(Topic::Changes, &notice)).await {
            tracing::warn!(%error, scope, "change notice not published; other nodes apply it when they poll");
        }
        Ok(())
    }

    /// Applies every scope whose revision moved since this node last applied it.
    pub async fn catch_up(&self) -> Result<(), ArchiveError> {
        let mut applied = self.applied.lock().await;
        for (scope, revision) in self.archive.revisions().await? {
            if applied.get(&scope) == Some(&revision) {
                continue;
            }
            if scope == AGENTS {
                self.reload_agents().await?;
            } else if let Some(site) = scope.strip_prefix("site:") {
                self.rebuild_site(site).await?;
            }
            tracing::info!(scope, revision, "owner change applied");
            applied.insert(scope, revision);
        }
        Ok(())
    }

    async fn reload_agents(&self) -> Result<(), ArchiveError> {
        let stored = self.archive.stored_agents().await?;
        self.directory.replace(merged_agents(&self.base_agents, &stored));
        Ok(())
    }

    /// Builds the site from its file, its stored settings and pages, off the async threads;
    /// a build that fails (a file edited since under a stored patch) keeps the current one.
    async fn rebuild_site(&self, id: &str) -> Result<(), ArchiveError> {
        let Some(base) = self.base_sites.get(id).cloned() else { return Ok(()) };
        let patch = self.archive.site_patch(id).await?;
        let pages = self.archive.pages(id).await?;
        let built = tokio::task::spawn_blocking(move || build_site(&base, patch.as_ref(), &pages)).await;
        match built {
            Ok(Ok(site)) => self.sites.replace(site),
            Ok(Err(error)) => tracing::error!(site = id, %error, "owner change not applied: the site keeps its build"),
            Err(error) => tracing::error!(site = id, %error, "site build panicked"),
        }
        Ok(())
    }

    /// Follows the notices and polls every `poll` until `shutdown`; first brings the
    /// archive's schema up to date (idempotent; the archiver does it too).
    pub fn spawn(self, hub: &Hub, poll: Duration, shutdown: CancellationToken) {
        let (outbox, mut notices) = Outbox::new(NOTICE_QUEUE, false);
        let subscription = hub.subscribe(Topic::Changes, outbox);
        let wake = Arc::new(Notify::new());
        let woken = wake.clone();
        tokio::spawn(async move {
            while notices.recv().await.is_some() {
                woken.notify_one();
            }
        });
        tokio::spawn(async move {
            let _subscription = subscription;
            let mut migrated = false;
            loop {
                if !migrated {
                    migrated = crate::archive::Archive::migrate(&*self.archive).await.is_ok();
                }
                if migrated && let Err(error) = self.catch_up().await {
                    tracing::warn!(%error, "owner changes not read; trying again");
                }
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    () = wake.notified() => {}
                    () = tokio::time::sleep(poll) => {}
                }
            }
        });
    }
}

/// The site with `patch` over its file and the stored pages over its folder: exactly what
/// loading the files would build if they said so.
pub fn build_site(
    base: &SiteConfig,
    patch: Option<&serde_json::Value>,
    pages: &[crate::archive::owner::pages::StoredPage],
) -> anyhow::Result<Site> {
    let config = match patch {
        Some(patch) => settings::apply(base, patch).map_err(anyhow::Error::msg)?,
        None => base.clone(),
    };
    let documents = pages::documents(&config.kb_dir, pages)?;
    Site::with_documents(config, documents)
}

/// The file's agents with the stored records over them (by id, in the file's order, new
/// ones after), disabled ones left out.
fn merged_agents(base: &[AgentConfig], stored: &[StoredAgent]) -> Vec<AgentConfig> {
    let mut merged: Vec<(String, Option<AgentConfig>)> =
        base.iter().map(|agent| (agent.id.clone(), Some(agent.clone()))).collect();
    for record in stored {
        let now = (!record.disabled).then(|| record.config());
        match merged.iter_mut().find(|(id, _)| *id == record.id) {
            Some(slot) => slot.1 = now,
            None => merged.push((record.id.clone(), now)),
        }
    }
    merged.into_iter().filter_map(|(_, agent)| agent).collect()
}

/// The revision scope of a site (re-exported for the API's handlers).
pub fn scope_of_site(site: &str) -> String {
    site_scope(site)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent(id: &str, max_chats: u32) -> AgentConfig {
        AgentConfig { id: id.into(), name: id.into(), max_chats, ..AgentConfig::default() }
    }

    #[test]
    fn stored_agents_replace_the_files_by_id_and_disabled_ones_are_left_out() {
        let base = [agent("ana", 2), agent("bo", 2)];
        let mut bo = StoredAgent::from_config(&agent("bo", 9));
        let mut ana = StoredAgent::from_config(&agent("ana", 2));
        ana.disabled = true;
        let cy = StoredAgent::from_config(&agent("cy", 1));
        bo.name = "Bo".into();
        let merged = merged_agents(&base, &[ana, bo, cy]);
        let seen: Vec<(&str, u32)> = merged.iter().map(|a| (a.id.as_str(), a.max_chats)).collect();
        assert_eq!(seen, [("bo", 9), ("cy", 1)]);
    }
}

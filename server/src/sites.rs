//! The sites this node serves: each site's configuration with its knowledge base indexed and
//! ready. Loaded from the files at start; the owner's changes through the API (`changes`)
//! build a new [`Site`] off the hot path and swap it in whole.

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::Context;
use arc_swap::ArcSwap;

use crate::config::SiteConfig;
use crate::escalation::Policy;
use crate::knowledge::{Document, KnowledgeBase};

pub struct Site {
    pub config: SiteConfig,
    pub knowledge: KnowledgeBase,
    /// The escalation policy, with the signal scorer built from the site's topic rules.
    pub policy: Policy,
    /// What this site masks before text reaches a model or the logs.
    pub redactor: crate::redact::Redactor,
}

impl Site {
    pub fn load(config: SiteConfig) -> anyhow::Result<Site> {
        let documents = KnowledgeBase::read_folder(&config.kb_dir)
            .with_context(|| format!("Failed to load the knowledge base of site {:?}", config.id))?;
        Site::with_documents(config, documents)
    }

    /// The site with these knowledge-base documents (its folder's, with the owner's pages
    /// over them). Indexing takes a while for a large base: call it off the async threads.
    pub fn with_documents(config: SiteConfig, documents: Vec<Document>) -> anyhow::Result<Site> {
        let knowledge = KnowledgeBase::from_documents(documents, &config.knowledge);
        let policy = Policy::new(&config.escalation).with_context(|| {
            format!(
                "{}: invalid [escalation] section",
                config.kb_dir.parent().map_or_else(|| config.id.clone(), |d| format!("{}.toml", d.display()))
            )
        })?;
        tracing::info!(site = %config.id, passages = knowledge.len(), "site loaded");
        let redactor = config.privacy.redactor();
        Ok(Site { config, knowledge, policy, redactor })
    }
}

/// Cheap to clone; every clone sees the same sites. The map is replaced whole (never edited
/// in place) when a site changes, so a reader's `Arc<Site>` stays one consistent site for
/// the turn it serves while the next turn gets the new one. The set of site ids is fixed at
/// start (sites are files).
#[derive(Clone, Default)]
pub struct Sites {
    by_id: Arc<ArcSwap<HashMap<String, Arc<Site>>>>,
}

impl Sites {
    pub fn load(configs: &[SiteConfig]) -> anyhow::Result<Sites> {
        let by_id = configs
            .iter()
            .map(|config| Site::load(config.clone()).map(|site| (config.id.clone(), Arc::new(site))))
            .collect::<anyhow::Result<HashMap<_, _>>>()?;
        Ok(Sites { by_id: Arc::new(ArcSwap::from_pointee(by_id)) })
    }

    pub fn get(&self, id: &str) -> Option<Arc<Site>> {
        self.by_id.load().get(id).cloned()
    }

    /// The ids of every site served, sorted.
    pub fn ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.by_id.load().keys().cloned().collect();
        ids.sort();
        ids
    }

    /// Swaps in a new build of a site this node serves (an unknown id is ignored).
    pub fn replace(&self, site: Site) {
        let id = site.config.id.clone();
        let site = Arc::new(site);
        self.by_id.rcu(|current| {
            let mut next = HashMap::clone(current);
            if let Some(slot) = next.get_mut(&id) {
                *slot = site.clone();
            }
            next
        });
    }
}

//! The sites this node serves: each site's configuration with its knowledge base indexed and
//! ready. Loaded from the files at start; the owner's changes through the API (`changes`)
//! build a new [`Site`] off the hot path and swap it in whole.

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::Context;
use arc_swap::ArcSwap;

use crate::bot::embeddings::Embedder;
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
    /// The embedding model behind hybrid retrieval, when one is configured.
    pub embedder: Option<Arc<Embedder>>,
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
        if let Some(problem) = config.knowledge.calibration().problem() {
            anyhow::bail!("site {:?}: invalid [knowledge] section: {problem}", config.id);
        }
        let knowledge = KnowledgeBase::from_documents(documents, &config.knowledge);
        let policy = Policy::new(&config.escalation).with_context(|| {
            format!(
                "{}: invalid [escalation] section",
                config.kb_dir.parent().map_or_else(|| config.id.clone(), |d| format!("{}.toml", d.display()))
            )
        })?;
        tracing::info!(site = %config.id, passages = knowledge.len(), "site loaded");
        let redactor = config.privacy.redactor();
        Ok(Site { config, knowledge, policy, redactor, embedder: None })
    }

    /// This site searching with `embedder` too: its passages are embedded in the background
    /// (searches use BM25 alone until then).
    pub fn with_embedder(self, embedder: Option<Arc<Embedder>>) -> Arc<Site> {
        let site = Arc::new(Site { embedder, ..self });
        if let Some(embedder) = &site.embedder {
            embedder.spawn_index(&site);
        }
        site
    }

    /// Embeds the texts a turn is about to search (see `bot::embeddings`); without an
    /// embedding model, or past its bound, they are searched by words alone.
    pub async fn prepare_search(&self, texts: &[&str]) {
        if let Some(embedder) = &self.embedder {
            embedder.prepare(&self.knowledge, texts).await;
        }
    }
}

/// Cheap to clone; every clone sees the same sites. The map is replaced whole (never edited
/// in place) when a site changes, so a reader's `Arc<Site>` stays one consistent site for
/// the turn it serves while the next turn gets the new one. The set of site ids is fixed at
/// start (sites are files).
#[derive(Clone, Default)]
pub struct Sites {
    by_id: Arc<ArcSwap<HashMap<String, Arc<Site>>>>,
    embedder: Option<Arc<Embedder>>,
}

impl Sites {
    /// The sites of these files, searching with `embedder` too when there is one.
    pub fn load(configs: &[SiteConfig], embedder: Option<Arc<Embedder>>) -> anyhow::Result<Sites> {
        let by_id = configs
            .iter()
            .map(|config| {
                Site::load(config.clone()).map(|site| (config.id.clone(), site.with_embedder(embedder.clone())))
            })
            .collect::<anyhow::Result<HashMap<_, _>>>()?;
        Ok(Sites { by_id: Arc::new(ArcSwap::from_pointee(by_id)), embedder })
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
        let site = site.with_embedder(self.embedder.clone());
        self.by_id.rcu(|current| {
            let mut next = HashMap::clone(current);
            if let Some(slot) = next.get_mut(&id) {
                *slot = site.clone();
            }
            next
        });
    }
}

//! The sites this node serves, loaded once at start: each site's configuration with its
//! knowledge base indexed and ready.

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::Context;

use crate::config::SiteConfig;
use crate::escalation::Policy;
use crate::knowledge::KnowledgeBase;

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
        let knowledge = KnowledgeBase::load(&config.kb_dir, &config.knowledge)
            .with_context(|| format!("Failed to load the knowledge base of site {:?}", config.id))?;
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

/// Read-only after start, so plain shared maps suffice.
#[derive(Clone, Default)]
pub struct Sites {
    by_id: Arc<HashMap<String, Arc<Site>>>,
}

impl Sites {
    pub fn load(configs: &[SiteConfig]) -> anyhow::Result<Sites> {
        let by_id = configs
            .iter()
            .map(|config| Site::load(config.clone()).map(|site| (config.id.clone(), Arc::new(site))))
            .collect::<anyhow::Result<HashMap<_, _>>>()?;
        Ok(Sites { by_id: Arc::new(by_id) })
    }

    pub fn get(&self, id: &str) -> Option<Arc<Site>> {
        self.by_id.get(id).cloned()
    }

    /// The ids of every site served, sorted.
    pub fn ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.by_id.keys().cloned().collect();
        ids.sort();
        ids
    }
}

//! What an operator reads of the desk at each scrape of `/metrics`: every site's queue (length
//! and longest wait), the agents signed in by status, and the archive's backlog. Read from
//! the store when asked, so nothing runs while nobody scrapes; every node reports the same
//! shared figures (dashboards take the `max` across nodes).

use std::collections::HashMap;
use std::sync::Arc;

use chrono::Utc;

use crate::protocol::agent::AgentStatus;
use crate::sites::Sites;
use crate::store::feed::ArchiveFeed;
use crate::store::{AgentPresence, Handoff, Stores};
use crate::telemetry::metrics::Snapshot;

#[derive(Clone)]
pub struct Gauges {
    handoff: Arc<dyn Handoff>,
    presence: Arc<dyn AgentPresence>,
    feed: Arc<dyn ArchiveFeed>,
    sites: Sites,
}

impl Gauges {
    pub fn new(stores: &Stores, sites: Sites) -> Gauges {
        Gauges { handoff: stores.handoff.clone(), presence: stores.presence.clone(), feed: stores.feed.clone(), sites }
    }

    /// The figures as of now. A store that does not answer leaves that part out (the gauges
    /// keep their last values, and `baton_store_errors_total` shows why).
    pub async fn snapshot(&self) -> Snapshot {
        let now = Utc::now();
        let mut queues = Vec::new();
        if let Ok(entries) = self.handoff.queue().await {
            let mut by_site: HashMap<&str, (usize, f64)> = HashMap::new();
            for entry in &entries {
                let waited = (now - entry.waiting_since).num_milliseconds().max(0) as f64 / 1000.0;
                let site = by_site.entry(entry.site.as_str()).or_default();
                site.0 += 1;
                site.1 = site.1.max(waited);
            }
            // Every site served, so a queue that empties reads 0 rather than its last value.
            for site in self.sites.ids() {
                let (length, oldest) = by_site.get(site.as_str()).copied().unwrap_or_default();
                queues.push((site, length, oldest));
            }
        }
        let mut agents = Vec::new();
        if let Ok(presence) = self.presence.presence().await {
            let count = |status: AgentStatus| presence.values().filter(|p| p.until > now && p.status == status).count();
            agents = vec![("online", count(AgentStatus::Online)), ("away", count(AgentStatus::Away))];
        }
        let archive_lag = self.feed.backlog().await.ok();
        Snapshot { queues, agents, archive_lag }
    }
}

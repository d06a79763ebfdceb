//! Per-site retention of the archive (`[archive] retention_days` in a site's file): a job on
//! every node deletes conversations idle for longer than their site keeps them. Running it on
//! several nodes at once is harmless (a delete of what is gone deletes nothing).

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;

use super::Archive;
use super::privacy::Erased;
use crate::config::SiteConfig;

/// How often each node enforces retention, the first time this long after start (the
/// archiver has brought the schema up to date by then).
const EVERY: Duration = Duration::from_secs(3600);
const FIRST_AFTER: Duration = Duration::from_secs(60);

/// The sites that set a retention, with it in days.
pub fn policies(sites: &[SiteConfig]) -> Vec<(String, u32)> {
    sites.iter().filter_map(|site| Some((site.id.clone(), site.archive.retention_days?))).collect()
}

/// One pass at `now`: what each site lost.
pub async fn enforce(archive: &dyn Archive, policies: &[(String, u32)], now: DateTime<Utc>) -> Vec<(String, Erased)> {
    let mut expired = Vec::new();
    for (site, days) in policies {
        let before = now - chrono::Duration::days(i64::from(*days));
        match archive.expire(site, before).await {
            Ok(erased) => {
                if erased.conversations > 0 {
                    tracing::info!(
                        site,
                        conversations = erased.conversations,
                        "archive: retention expired conversations"
                    );
                }
                expired.push((site.clone(), erased));
            }
            Err(error) => tracing::warn!(%error, site, "archive: retention pass failed; next pass retries"),
        }
    }
    expired
}

/// Enforces retention every hour until `stop` (nothing runs when no site sets one).
pub fn spawn(archive: Arc<dyn Archive>, policies: Vec<(String, u32)>, stop: CancellationToken) {
    if policies.is_empty() {
        return;
    }
    tokio::spawn(async move {
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + FIRST_AFTER, EVERY);
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                _ = tick.tick() => drop(enforce(&*archive, &policies, Utc::now()).await),
            }
        }
    });
}

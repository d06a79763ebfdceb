//! Webhooks, the sending side: each node's [`Dispatcher`] claims due deliveries from the
//! outbox in the archive ([`crate::archive::webhooks`]), `POST`s each, signed
//! ([`signature`]), and records the attempt: delivered, retried later with exponential
//! backoff and jitter, or given up after `webhooks.retry_hours`.
//!
//! At least once: a delivery is marked delivered only after a 2xx answer; a node killed
//! mid-delivery leaves its claim to lapse and the delivery is sent again (receivers
//! deduplicate by the event's `id`). Bounded: at most `webhooks.concurrency` deliveries in
//! flight per node, each within `webhooks.timeout_secs`, and no redirects followed. Guarded:
//! only to public addresses, checked on the address connected to ([`target`]).

pub mod signature;
pub mod target;

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use rand::Rng;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use crate::archive::sql::SqlArchive;
use crate::archive::webhooks::outbox::{Due, Outcome};
use crate::config::webhooks::WebhookSettings;

/// How often the backlog gauge is read from the archive.
const BACKLOG_EVERY: Duration = Duration::from_secs(1);
/// How often old deliveries are pruned from the log.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);
/// An error text kept in the log is cut to this many characters.
const MAX_ERROR_CHARS: usize = 300;

/// Sends the outbox, on every node. Cheap to clone (the client and the archive are shared).
#[derive(Clone)]
pub struct Dispatcher {
    outbox: Arc<SqlArchive>,
    http: reqwest::Client,
    settings: Arc<WebhookSettings>,
    policy: target::Policy,
}

impl Dispatcher {
    pub fn new(outbox: Arc<SqlArchive>, settings: &WebhookSettings) -> anyhow::Result<Dispatcher> {
        let http = reqwest::Client::builder()
            .timeout(settings.timeout())
            .connect_timeout(settings.timeout())
            .redirect(reqwest::redirect::Policy::none())
            // The guard resolves names itself and connects to what it kept: no proxy in between.
            .no_proxy()
            .dns_resolver(target::PublicResolver { allow_private: settings.allow_private_targets })
            .user_agent(concat!("Baton-Webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| anyhow::anyhow!("Failed to build the webhook HTTP client: {e}"))?;
        let policy = target::Policy::of(settings);
        Ok(Dispatcher { outbox, http, settings: Arc::new(settings.clone()), policy })
    }

    pub fn spawn(self, stop: CancellationToken) {
        tokio::spawn(async move { self.run(stop).await });
    }

    async fn run(self, stop: CancellationToken) {
        let permits = Arc::new(Semaphore::new(self.settings.concurrency.max(1)));
        let mut backlog_at = Instant::now() - BACKLOG_EVERY;
        let mut prune_at = Instant::now() + PRUNE_EVERY / 60;
        // Logged once per outage, not once per poll.
        let mut failing = false;
        loop {
            let free = permits.available_permits();
            let claimed = match free {
                0 => Ok(Vec::new()),
                _ => self.outbox.claim_webhooks(self.settings.lease(), free).await,
            };
            let claimed = match claimed {
                Ok(claimed) => {
                    failing = false;
                    claimed
                }
                Err(error) => {
                    if !failing {
                        tracing::warn!(%error, "webhook outbox unavailable");
                    }
                    failing = true;
                    Vec::new()
                }
            };
            let full = free > 0 && claimed.len() == free;
            for due in claimed {
                // The semaphore is never closed: acquiring only waits for a delivery to end.
                let Ok(permit) = permits.clone().acquire_owned().await else { return };
                let me = self.clone();
                tokio::spawn(async move {
                    me.deliver(due).await;
                    drop(permit);
                });
            }
            if backlog_at.elapsed() >= BACKLOG_EVERY {
                backlog_at = Instant::now();
                if let Ok(backlog) = self.outbox.webhook_backlog().await {
                    crate::telemetry::metrics::webhook_backlog(backlog);
                }
            }
            if Instant::now() >= prune_at {
                prune_at = Instant::now() + PRUNE_EVERY;
                self.prune().await;
            }
            let wait = if full { Duration::ZERO } else { self.settings.poll() };
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// One attempt of `due`, recorded with its outcome.
    async fn deliver(&self, due: Due) {
        let started = Instant::now();
        let (status, error) = self.attempt(&due).await;
        let outcome = match (status, error) {
            (Some(status), None) => Outcome::Delivered { status },
            (status, error) => {
                let tried = due.attempts + 1;
                let deadline =
                    due.retry_from + chrono::Duration::from_std(self.settings.retry_for()).unwrap_or_default();
                let wait = jittered(self.settings.backoff(tried));
                let retry_at = Utc::now() + chrono::Duration::from_std(wait).unwrap_or_default();
                let retry_at = (retry_at < deadline).then_some(retry_at);
                let error = error.unwrap_or_default();
                tracing::warn!(delivery = %due.id, event = %due.event_id, tried, ?status, %error,
                               gives_up = retry_at.is_none(), "webhook not delivered");
                Outcome::Failed { status, error, retry_at }
            }
        };
        crate::telemetry::metrics::webhook_delivery(match &outcome {
            Outcome::Delivered { .. } => "delivered",
            Outcome::Failed { retry_at: Some(_), .. } => "retried",
            Outcome::Failed { retry_at: None, .. } => "failed",
        });
        if let Err(error) = self.outbox.webhook_attempted(&due, &outcome, started.elapsed()).await {
            // The claim lapses and the delivery goes again: at least once.
            tracing::warn!(%error, delivery = %due.id, "webhook attempt not recorded");
        }
    }

    /// Sends `due` once: the receiver's status (if it answered) and, unless it was a 2xx, why
    /// it does not count.
    async fn attempt(&self, due: &Due) -> (Option<u16>, Option<String>) {
        // Checked again: the setting may have changed since the subscription was made.
        let url = match reqwest::Url::parse(&due.url) {
            Ok(url) => url,
            Err(error) => return (None, Some(format!("the URL does not parse: {error}"))),
        };
        if let Err(refused) = target::check(&url, self.policy) {
            return (None, Some(format!("target not allowed: {refused}")));
        }
        let secrets: Vec<&str> = std::iter::once(due.secret.as_str()).chain(due.previous_secret.as_deref()).collect();
        let header = signature::sign_with(&secrets, Utc::now().timestamp(), due.body.as_bytes());
        let sent = self
            .http
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(signature::HEADER, header)
            .header("Baton-Event-Id", &due.event_id)
            .body(due.body.clone())
            .send()
            .await;
        match sent {
            Ok(response) if response.status().is_success() => (Some(response.status().as_u16()), None),
            Ok(response) => {
                let status = response.status();
                (Some(status.as_u16()), Some(format!("the receiver answered {status}")))
            }
            Err(error) => (None, Some(cut(&with_sources(&error)))),
        }
    }

    async fn prune(&self) {
        let keep = chrono::Duration::days(i64::try_from(self.settings.keep_days).unwrap_or(i64::MAX / 86_400_000));
        match self.outbox.prune_webhooks(Utc::now() - keep).await {
            Ok(0) => {}
            Ok(gone) => tracing::info!(gone, "old webhook deliveries pruned"),
            Err(error) => tracing::warn!(%error, "webhook deliveries not pruned"),
        }
    }
}

/// A wait drawn between half of `most` and all of it, so receivers that failed together are
/// not all retried at the same moment.
fn jittered(most: Duration) -> Duration {
    let half = most / 2;
    let extra = rand::rng().random_range(0..=half.as_millis().min(u128::from(u64::MAX)) as u64);
    half + Duration::from_millis(extra)
}

/// The error and each of its causes, `: `-joined (a refused name is found only in a cause).
fn with_sources(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn cut(text: &str) -> String {
    text.chars().take(MAX_ERROR_CHARS).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_jittered_wait_stays_between_half_and_all_of_it() {
        let most = Duration::from_millis(1000);
        let waits: Vec<Duration> = (0..200).map(|_| jittered(most)).collect();
        assert!(waits.iter().all(|w| *w >= most / 2 && *w <= most), "{waits:?}");
        assert!(waits.iter().any(|w| *w != waits[0]), "the waits vary");
        assert_eq!(jittered(Duration::ZERO), Duration::ZERO);
    }
}

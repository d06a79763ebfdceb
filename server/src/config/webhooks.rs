//! `[webhooks]`: how each node's dispatcher sends the webhook outbox (docs/api.md,
//! "Webhooks"). Subscriptions themselves are made through the owner API.

use std::time::Duration;

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSettings {
    /// How often an idle dispatcher looks for due deliveries.
    pub poll_ms: u64,
    /// Deliveries in flight at once, per node.
    pub concurrency: usize,
    /// One delivery (connect, send, answer) gives up after this.
    pub timeout_secs: u64,
    /// The wait after the first failure; it doubles per failure up to `backoff_max_secs`,
    /// each wait drawn between its half and its whole (jitter).
    pub backoff_first_ms: u64,
    pub backoff_max_secs: u64,
    /// Failed deliveries are retried for this long, then given up (`failed`).
    pub retry_hours: u64,
    /// Subscriptions a site may have.
    pub max_subscriptions_per_site: u64,
    /// Delivered and given-up deliveries are kept in the log this long.
    pub keep_days: u64,
    /// After a secret is rotated, deliveries are signed with the old one too for this long.
    pub rotation_overlap_hours: u64,
    /// Whether `http://` targets are taken (otherwise https only).
    pub allow_http: bool,
    /// Whether targets on loopback, private, link-local, CGNAT … addresses are taken (the
    /// SSRF guard, `crate::webhooks::target`, is otherwise on).
    pub allow_private_targets: bool,
}

/// What `config/default.toml` ships (for code that is not given the loaded settings).
impl Default for WebhookSettings {
    fn default() -> WebhookSettings {
        WebhookSettings {
            poll_ms: 250,
            concurrency: 8,
            timeout_secs: 10,
            backoff_first_ms: 5_000,
            backoff_max_secs: 3_600,
            retry_hours: 24,
            max_subscriptions_per_site: 10,
            keep_days: 7,
            rotation_overlap_hours: 24,
            allow_http: false,
            allow_private_targets: false,
        }
    }
}

impl WebhookSettings {
    pub fn poll(&self) -> Duration {
        Duration::from_millis(self.poll_ms.max(10))
    }

    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_secs.max(1))
    }

    /// A claim outlives the attempt it is for: a node that dies mid-delivery lets it go then.
    pub fn lease(&self) -> Duration {
        self.timeout() * 2 + Duration::from_secs(5)
    }

    pub fn rotation_overlap(&self) -> Duration {
        Duration::from_secs(self.rotation_overlap_hours.saturating_mul(3600))
    }

    pub fn retry_for(&self) -> Duration {
        Duration::from_secs(self.retry_hours.saturating_mul(3600))
    }

    /// The longest wait before attempt `failures + 1` (before jitter), after `failures`.
    pub fn backoff(&self, failures: u32) -> Duration {
        let first = Duration::from_millis(self.backoff_first_ms.max(1));
        let most = Duration::from_secs(self.backoff_max_secs).max(first);
        first.saturating_mul(1u32 << failures.saturating_sub(1).min(30)).min(most)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_the_first_wait_up_to_the_most() {
        let settings = WebhookSettings { backoff_first_ms: 1000, backoff_max_secs: 60, ..WebhookSettings::default() };
        let waits: Vec<u64> = (1..=9).map(|n| settings.backoff(n).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(settings.backoff(200).as_secs(), 60);
        assert_eq!(settings.lease(), Duration::from_secs(25));
    }

    #[test]
    fn the_defaults_are_the_shipped_configuration() {
        let shipped: toml::Table = toml::from_str(include_str!("../../../config/default.toml")).unwrap();
        let shipped: WebhookSettings = shipped["webhooks"].clone().try_into().unwrap();
        let default = WebhookSettings::default();
        assert_eq!(format!("{shipped:?}"), format!("{default:?}"));
    }
}

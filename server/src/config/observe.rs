//! Settings of what an operator observes: who may scrape `/metrics`, and where traces go.

use secrecy::SecretString;
use serde::Deserialize;

/// Who may read `GET /metrics` (see `docs/operations.md`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsSettings {
    /// Off: `/metrics` answers 404.
    pub enabled: bool,
    /// Client addresses (CIDR) that may scrape; the address is the one
    /// `limits.client_ip_header` gives behind a trusted proxy, else the TCP peer's.
    pub allow: Vec<ipnet::IpNet>,
    /// When set, a scrape must also send `Authorization: Bearer TOKEN` (never printed).
    #[serde(default)]
    pub token: Option<SecretString>,
}

/// OpenTelemetry traces over OTLP/HTTP (protobuf). Off by default.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TracesSettings {
    pub enabled: bool,
    /// The collector's traces endpoint, path included (`…/v1/traces`).
    pub endpoint: String,
    /// `service.name` on every span.
    pub service_name: String,
    /// The share of visitor messages traced, 0.0-1.0 (a child follows its parent's choice).
    pub sample_ratio: f64,
}

impl TracesSettings {
    pub fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            (0.0..=1.0).contains(&self.sample_ratio),
            "settings key `traces.sample_ratio` must lie in 0.0..=1.0"
        );
        anyhow::ensure!(
            !self.enabled || self.endpoint.starts_with("http://") || self.endpoint.starts_with("https://"),
            "settings key `traces.endpoint` must be an http(s) URL, got {:?}",
            self.endpoint
        );
        Ok(())
    }
}

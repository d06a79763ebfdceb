//! Settings of what an operator observes: who may scrape `/metrics`, and where traces go.

use secrecy::SecretString;
use serde::Deserialize;

/// Who may read `GET /metrics` (see `docs/operations.md`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsSettings {
    /// Off: `/metrics` answers 404 and nothing is counted (no recorder is installed).
    pub enabled: bool,
    /// Client addresses (CIDR) that may scrape; the address is the one
    /// `limits.client_ip_header` gives behind a trusted proxy, else the TCP peer's. A list in
    /// TOML, or one comma-separated string (`BATON__METRICS__ALLOW="10.0.0.0/8,::1/128"`).
    #[serde(deserialize_with = "networks")]
    pub allow: Vec<ipnet::IpNet>,
    /// When set, a scrape must also send `Authorization: Bearer TOKEN` (never printed).
    #[serde(default)]
    pub token: Option<SecretString>,
}

/// A list of CIDR networks, or the same as one comma-separated string (environment variables).
fn networks<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<ipnet::IpNet>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Networks {
        List(Vec<String>),
        Text(String),
    }
    let items = match Networks::deserialize(deserializer)? {
        Networks::List(items) => items,
        Networks::Text(text) => text.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect(),
    };
    items
        .iter()
        .map(|item| {
            item.parse()
                .map_err(|_| serde::de::Error::custom(format!("`metrics.allow`: {item:?} is not a CIDR network")))
        })
        .collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    fn allow(toml_value: &str) -> Result<Vec<String>, String> {
        let text = format!("enabled = true\nallow = {toml_value}\n");
        let settings: MetricsSettings = toml::from_str(&text).map_err(|e| e.to_string())?;
        Ok(settings.allow.iter().map(ToString::to_string).collect())
    }

    #[test]
    fn the_allow_list_is_a_list_or_one_comma_separated_string() {
        let expected = vec!["10.0.0.0/8".to_owned(), "::1/128".to_owned()];
        assert_eq!(allow(r#"["10.0.0.0/8", "::1/128"]"#).unwrap(), expected);
        assert_eq!(allow(r#""10.0.0.0/8, ::1/128""#).unwrap(), expected);
        assert_eq!(allow(r#""""#).unwrap(), Vec::<String>::new());
    }

    #[test]
    fn an_allow_entry_that_is_not_a_network_is_refused_with_its_name() {
        let error = allow(r#"["10.0.0.0/8", "localhost"]"#).unwrap_err();
        assert!(error.contains("\"localhost\" is not a CIDR network"), "{error}");
    }
}

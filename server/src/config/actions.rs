//! Bot actions: endpoints of a site's own backend that the model may call through the
//! OpenAI tools API ("look up an order's status"), each declared under `[[actions]]` in
//! `sites/SITE.toml` with a JSON Schema of its arguments, and the operator's bounds on them
//! (`[actions]` in the settings). What a call does is `bot::actions`; see `docs/actions.md`.

use std::time::Duration;

use secrecy::SecretString;
use serde::Deserialize;

use super::SiteConfig;
use crate::webhooks::target::{self, Policy, TargetError};

/// The header an endpoint finds the action's secret in, unless the action names another.
pub const DEFAULT_SECRET_HEADER: &str = "Baton-Action-Secret";
/// The longest description, summary or progress text, in characters.
const MAX_TEXT_CHARS: usize = 1_000;
/// Names the model must never be offered as an action: Baton's own tools (`bot::HANDOFF_TOOL`;
/// `config` is below `bot`, so the name is repeated here and a test in `bot` keeps them equal).
pub const RESERVED_NAMES: &[&str] = &["handoff_to_human"];

/// One action a site's model may call.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionConfig {
    /// The tool's name as the model sees it: 1-64 of a-z, A-Z, 0-9, `_` and `-` (OpenAI's rule).
    pub name: String,
    /// What the action does and when to call it: the model decides from this.
    pub description: String,
    /// The arguments' JSON Schema: a TOML table, or a string of JSON. Its `type` is `object`.
    #[serde(default = "no_arguments")]
    pub parameters: serde_json::Value,
    /// Where Baton POSTs the call: `https://` (`http://` only when the operator's
    /// `actions.allow_http` is on).
    pub endpoint: String,
    /// Sent in `secret_header` with every call, so the endpoint knows the call is Baton's.
    /// Never printed, logged or recorded.
    pub secret: SecretString,
    #[serde(default = "default_secret_header")]
    pub secret_header: String,
    /// The endpoint must answer within this (and within the operator's `actions.max_timeout_ms`).
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// Ask the visitor first (for actions that change something: a refund, an address): the
    /// widget shows `summary` with Confirm and Cancel, and nothing is called before Confirm.
    #[serde(default)]
    pub confirm: bool,
    /// What the confirmation card says; `{field}` is filled with that argument's value.
    /// Unset: the description, then the arguments.
    #[serde(default)]
    pub summary: Option<String>,
    /// Streamed to the visitor while the endpoint works ("Looking up your order…"); unset:
    /// the localized default (notice `action_progress`).
    #[serde(default)]
    pub progress: Option<String>,
}

fn no_arguments() -> serde_json::Value {
    serde_json::json!({ "type": "object", "properties": {} })
}

fn default_secret_header() -> String {
    DEFAULT_SECRET_HEADER.to_owned()
}

fn default_timeout_ms() -> u64 {
    5_000
}

impl ActionConfig {
    /// Checks the action on its own (the operator's bounds are [`ActionSettings::check_site`]);
    /// a schema written as a JSON string is parsed here.
    pub fn validate(&mut self, key: &str) -> Result<(), String> {
        let name_ok = (1..=64).contains(&self.name.len())
            && self.name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !name_ok {
            return Err(format!("key `{key}.name` must be 1-64 of a-z, A-Z, 0-9, _ and -"));
        }
        if RESERVED_NAMES.contains(&self.name.as_str()) {
            return Err(format!("key `{key}.name`: {:?} is Baton's own tool", self.name));
        }
        let texts = [("description", Some(&self.description)), ("summary", self.summary.as_ref())];
        for (field, text) in texts.into_iter().chain([("progress", self.progress.as_ref())]) {
            if text.is_some_and(|t| t.trim().is_empty() || t.chars().count() > MAX_TEXT_CHARS) {
                return Err(format!("key `{key}.{field}` must be 1-{MAX_TEXT_CHARS} characters"));
            }
        }
        if let serde_json::Value::String(json) = &self.parameters {
            self.parameters =
                serde_json::from_str(json).map_err(|e| format!("key `{key}.parameters` is not JSON: {e}"))?;
        }
        if self.parameters.get("type").and_then(|t| t.as_str()) != Some("object") {
            return Err(format!("key `{key}.parameters` must be a JSON Schema with \"type\": \"object\""));
        }
        jsonschema::validator_for(&self.parameters)
            .map_err(|e| format!("key `{key}.parameters` is not a valid JSON Schema: {e}"))?;
        let url = reqwest::Url::parse(&self.endpoint).map_err(|e| format!("key `{key}.endpoint`: {e}"))?;
        if !matches!(url.scheme(), "https" | "http") || url.host_str().is_none() {
            return Err(format!("key `{key}.endpoint` must be an https:// URL"));
        }
        if reqwest::header::HeaderName::from_bytes(self.secret_header.as_bytes()).is_err() {
            return Err(format!("key `{key}.secret_header` is not a valid header name"));
        }
        if self.timeout_ms == 0 {
            return Err(format!("key `{key}.timeout_ms` must be at least 1"));
        }
        Ok(())
    }
}

/// Checks a site's actions together: each on its own, and no name twice.
pub fn validate_all(actions: &mut [ActionConfig]) -> Result<(), String> {
    for i in 0..actions.len() {
        actions[i].validate(&format!("actions[{i}]"))?;
        if actions[..i].iter().any(|other| other.name == actions[i].name) {
            return Err(format!("key `actions[{i}].name`: {:?} is used twice", actions[i].name));
        }
    }
    Ok(())
}

/// The operator's bounds on every site's actions (`[actions]` in the settings).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ActionSettings {
    /// Let endpoints be plain `http://` (a local test setup); off: `https://` only.
    pub allow_http: bool,
    /// Let endpoints be on Baton's own network (loopback, private, link-local, the cloud
    /// metadata address): the SSRF guard of `webhooks::target`, here for a local test
    /// setup; off: public addresses only, checked at load and, after DNS, on each call.
    pub allow_private_targets: bool,
    /// Actions a site may declare at most.
    pub max_per_site: usize,
    /// Endpoint calls one bot reply may make at most (the loop guard); past it the model
    /// must answer with what it has.
    pub max_calls_per_turn: u32,
    /// An endpoint's answer larger than this (bytes) is a failed call.
    pub max_response_bytes: usize,
    /// No action's `timeout_ms` may exceed this.
    pub max_timeout_ms: u64,
    /// How long a confirmation waits for the visitor; no answer counts as Cancel.
    pub confirm_timeout_secs: u64,
}

impl Default for ActionSettings {
    fn default() -> Self {
        ActionSettings {
            allow_http: false,
            allow_private_targets: false,
            max_per_site: 16,
            max_calls_per_turn: 3,
            max_response_bytes: 16 * 1024,
            max_timeout_ms: 10_000,
            confirm_timeout_secs: 300,
        }
    }
}

impl ActionSettings {
    /// The site's actions within the operator's bounds.
    pub fn check_site(&self, site: &SiteConfig) -> Result<(), String> {
        let id = &site.id;
        if site.actions.len() > self.max_per_site {
            return Err(format!(
                "site {id}: {} actions, more than actions.max_per_site ({})",
                site.actions.len(),
                self.max_per_site
            ));
        }
        for (i, action) in site.actions.iter().enumerate() {
            if let Err(why) = self.endpoint_allowed(&action.endpoint) {
                return Err(format!("site {id}: key `actions[{i}].endpoint` {why}"));
            }
            if action.timeout_ms > self.max_timeout_ms {
                return Err(format!(
                    "site {id}: key `actions[{i}].timeout_ms` ({}) exceeds actions.max_timeout_ms ({})",
                    action.timeout_ms, self.max_timeout_ms
                ));
            }
        }
        Ok(())
    }

    /// What the SSRF guard lets an endpoint be (`webhooks::target`, the webhooks' guard).
    pub fn policy(&self) -> Policy {
        Policy { allow_http: self.allow_http, allow_private: self.allow_private_targets }
    }

    /// `https://` (or `http://` when the operator allows it) to a host that is not an address
    /// of Baton's own network, unless the operator allows that too. A name is checked again,
    /// after DNS, when each call connects (`bot::actions::Caller`).
    pub fn endpoint_allowed(&self, endpoint: &str) -> Result<(), String> {
        let url = reqwest::Url::parse(endpoint).map_err(|e| format!("is not a URL: {e}"))?;
        target::check(&url, self.policy()).map_err(|refused| match refused {
            TargetError::HttpOff => "must be https:// (actions.allow_http lets a test setup use http://)".to_owned(),
            other => format!("is not allowed: {other} (actions.allow_private_targets lets a test setup call one)"),
        })
    }

    /// The time an action's endpoint gets: its own timeout, capped by the operator's.
    pub fn timeout(&self, action: &ActionConfig) -> Duration {
        Duration::from_millis(action.timeout_ms.min(self.max_timeout_ms).max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn action(extra: &str) -> Result<ActionConfig, String> {
        let text = format!(
            "name = \"order_status\"\ndescription = \"Look up an order.\"\nendpoint = \"https://shop.example/a\"\n\
             secret = \"s3cret-value\"\n{extra}"
        );
        let mut action: ActionConfig = toml::from_str(&text).map_err(|e| e.to_string())?;
        action.validate("actions[0]")?;
        Ok(action)
    }

    #[test]
    fn a_schema_may_be_a_toml_table_or_a_json_string() {
        let table = action(
            "[parameters]\ntype = \"object\"\nrequired = [\"id\"]\n[parameters.properties.id]\ntype = \"string\"\n",
        );
        assert_eq!(table.unwrap().parameters["properties"]["id"]["type"], "string");
        let json = action("parameters = '{\"type\":\"object\",\"properties\":{\"n\":{\"type\":\"integer\"}}}'\n");
        assert_eq!(json.unwrap().parameters["properties"]["n"]["type"], "integer");
    }

    #[test]
    fn a_bad_schema_name_or_endpoint_is_refused_with_its_key() {
        let not_object = action("parameters = '{\"type\":\"string\"}'\n").unwrap_err();
        assert!(not_object.contains("actions[0].parameters"), "{not_object}");
        let broken = action("parameters = '{\"type\":\"object\",\"properties\":{\"n\":{\"type\":\"nope\"}}}'\n");
        assert!(broken.unwrap_err().contains("not a valid JSON Schema"));
        let text =
            "name = \"handoff_to_human\"\ndescription = \"d\"\nendpoint = \"https://x.example\"\nsecret = \"s\"\n";
        let mut reserved: ActionConfig = toml::from_str(text).unwrap();
        assert!(reserved.validate("actions[0]").unwrap_err().contains("Baton's own tool"));
        assert!(action("timeout_ms = 0\n").unwrap_err().contains("timeout_ms"));
    }

    #[test]
    fn the_secret_is_never_printed_and_http_needs_the_operator() {
        let action = action("").unwrap();
        assert!(!format!("{action:?}").contains("s3cret-value"));
        let strict = ActionSettings::default();
        assert!(strict.endpoint_allowed("http://shop.example/x").unwrap_err().contains("https://"));
        assert!(strict.endpoint_allowed("https://shop.example/x").is_ok());
        let http = ActionSettings { allow_http: true, ..ActionSettings::default() };
        assert!(http.endpoint_allowed("http://shop.example/x").is_ok());
        let lax = ActionSettings { allow_private_targets: true, ..http.clone() };
        assert!(lax.endpoint_allowed("http://127.0.0.1:9/x").is_ok());
        assert_eq!(strict.timeout(&ActionConfig { timeout_ms: 60_000, ..action }), Duration::from_secs(10));
    }

    #[test]
    fn an_endpoint_on_batons_own_network_needs_the_operator() {
        let http = ActionSettings { allow_http: true, ..ActionSettings::default() };
        for endpoint in
            ["http://127.0.0.1:9/x", "https://169.254.169.254/latest", "https://localhost/x", "https://[::1]/x"]
        {
            let refused = http.endpoint_allowed(endpoint).unwrap_err();
            assert!(refused.contains("actions.allow_private_targets"), "{endpoint}: {refused}");
        }
        assert!(http.endpoint_allowed("ftp://shop.example/x").is_err());
    }
}

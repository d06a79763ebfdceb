//! A site's actions as the model sees them (tools) and as Baton calls them: arguments checked
//! against the action's JSON Schema before anything is sent, then one POST to the site's
//! endpoint with the action's secret header, bounded in time and in the size of its answer.
//!
//! What an endpoint receives (`docs/actions.md`): `{"action", "call_id", "conversation_id",
//! "site", "arguments", "identity"}`, where `identity` is the conversation's *verified*
//! identity (`user_id`, `name`, `email`) or `null`: an identity the page claimed without the
//! site's signature is never passed, so an endpoint cannot mistake a claim for a proof.

use std::time::Duration;

use secrecy::ExposeSecret;
use serde_json::{Value, json};
use uuid::Uuid;

use super::ToolSpec;
use crate::config::{ActionConfig, ActionSettings, SiteConfig};
use crate::protocol::ConversationId;
use crate::records::Identity;
use crate::webhooks::target::{PublicResolver, TargetError};

/// Connecting to an endpoint must leave room for its answer within the action's timeout.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Schema errors told to the model at most (it needs the first to correct itself).
const MAX_SCHEMA_ERRORS: usize = 3;

/// Why a call to an endpoint failed (each is a bot error and the visitor is told).
#[derive(Debug, Clone, thiserror::Error)]
pub enum ActionError {
    #[error("{action}: the endpoint did not answer within {ms} ms")]
    Timeout { action: String, ms: u128 },
    #[error("{action}: the endpoint answered HTTP {status}")]
    Status { action: String, status: u16 },
    #[error("{action}: the endpoint's answer is larger than {max} bytes")]
    TooLarge { action: String, max: usize },
    #[error("{action}: could not reach the endpoint: {why}")]
    Unreachable { action: String, why: String },
    #[error("{action}: the endpoint is not allowed: {why}")]
    NotAllowed { action: String, why: String },
}

impl ActionError {
    /// The outcome label of `baton_bot_action_calls_total`.
    pub fn kind(&self) -> &'static str {
        match self {
            ActionError::Timeout { .. } => "timeout",
            _ => "failed",
        }
    }
}

/// The site's actions offered to the model, within the operator's bound on their number.
pub fn tools(site: &SiteConfig, settings: &ActionSettings) -> Vec<ToolSpec> {
    let actions = site.actions.iter().take(settings.max_per_site);
    actions
        .map(|a| ToolSpec {
            name: a.name.clone(),
            description: a.description.clone(),
            parameters: a.parameters.clone(),
        })
        .collect()
}

/// The model's arguments, parsed and checked against the action's schema; the error says
/// what is wrong, in words the model can act on.
pub fn check_arguments(action: &ActionConfig, arguments: &str) -> Result<Value, String> {
    let arguments = if arguments.trim().is_empty() { "{}" } else { arguments };
    let value: Value = serde_json::from_str(arguments).map_err(|e| format!("the arguments are not JSON: {e}"))?;
    let validator = jsonschema::validator_for(&action.parameters).map_err(|e| format!("the schema is broken: {e}"))?;
    let errors: Vec<String> = validator
        .iter_errors(&value)
        .take(MAX_SCHEMA_ERRORS)
        .map(|e| {
            let at = e.instance_path().to_string();
            if at.is_empty() { e.to_string() } else { format!("{at}: {e}") }
        })
        .collect();
    if errors.is_empty() { Ok(value) } else { Err(errors.join("; ")) }
}

/// What the confirmation card says: the action's `summary` with `{field}` filled from the
/// arguments, else its description and the arguments.
pub fn summary(action: &ActionConfig, arguments: &Value) -> String {
    let fields = arguments.as_object().into_iter().flatten();
    match &action.summary {
        Some(template) => fields.fold(template.clone(), |text, (name, value)| {
            let shown = value.as_str().map_or_else(|| value.to_string(), str::to_owned);
            text.replace(&format!("{{{name}}}"), &shown)
        }),
        None => {
            let listed: Vec<String> = fields
                .map(|(name, value)| {
                    format!("{name}: {}", value.as_str().map_or_else(|| value.to_string(), str::to_owned))
                })
                .collect();
            if listed.is_empty() {
                action.description.clone()
            } else {
                format!("{} ({})", action.description, listed.join(", "))
            }
        }
    }
}

/// Calls site endpoints. One HTTP client (its connection pool) for every site.
#[derive(Clone)]
pub struct Caller {
    http: reqwest::Client,
    pub settings: ActionSettings,
}

/// Who is asking, as the endpoint is told.
pub struct Asking<'a> {
    pub site: &'a str,
    pub conversation_id: ConversationId,
    pub call_id: Uuid,
    pub identity: Option<&'a Identity>,
}

impl Caller {
    /// The client is guarded as the webhooks' one (`webhooks::target`): its DNS keeps only
    /// public addresses (unless `actions.allow_private_targets`) and connects to those, and it
    /// follows no redirect and uses no proxy, so neither can lead a call elsewhere.
    pub fn new(settings: ActionSettings) -> Caller {
        let resolver = PublicResolver { allow_private: settings.allow_private_targets };
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(resolver)
            .build()
            // unwrap: a timeout, a redirect policy and a resolver have nothing that can fail to build.
            .expect("HTTP client builds");
        Caller { http, settings }
    }

    /// POSTs the call and returns the endpoint's answer (as text, within the size bound).
    #[tracing::instrument(name = "bot.action", skip_all, fields(action = %action.name, call_id = %asking.call_id))]
    pub async fn call(
        &self,
        action: &ActionConfig,
        asking: &Asking<'_>,
        arguments: &Value,
    ) -> Result<String, ActionError> {
        let name = || action.name.clone();
        self.settings
            .endpoint_allowed(&action.endpoint)
            .map_err(|why| ActionError::NotAllowed { action: name(), why })?;
        let identity = asking
            .identity
            .filter(|i| i.verified)
            .map(|i| json!({ "user_id": i.user_id, "name": i.name, "email": i.email, "verified": true }));
        let body = json!({
            "action": action.name, "call_id": asking.call_id, "conversation_id": asking.conversation_id,
            "site": asking.site, "arguments": arguments, "identity": identity,
        });
        let timeout = self.settings.timeout(action);
        let request = self
            .http
            .post(&action.endpoint)
            .header(action.secret_header.as_str(), action.secret.expose_secret())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_string());
        let answered = tokio::time::timeout(timeout, self.answer(request, &action.name)).await;
        answered.unwrap_or_else(|_| Err(ActionError::Timeout { action: name(), ms: timeout.as_millis() }))
    }

    /// Sends the request and reads the answer, refusing one over `max_response_bytes`.
    async fn answer(&self, request: reqwest::RequestBuilder, action: &str) -> Result<String, ActionError> {
        let unreachable =
            |e: reqwest::Error| ActionError::Unreachable { action: action.to_owned(), why: e.to_string() };
        let mut response = request.send().await.map_err(|e| match refused_by_guard(&e) {
            Some(why) => ActionError::NotAllowed { action: action.to_owned(), why },
            None => unreachable(e),
        })?;
        let status = response.status();
        if !status.is_success() {
            return Err(ActionError::Status { action: action.to_owned(), status: status.as_u16() });
        }
        let max = self.settings.max_response_bytes;
        let too_large = || ActionError::TooLarge { action: action.to_owned(), max };
        if response.content_length().is_some_and(|n| n > max as u64) {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(unreachable)? {
            if body.len() + chunk.len() > max {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(String::from_utf8_lossy(&body).into_owned())
    }
}

/// The guard's reason, when a call failed because the endpoint's name resolved only to
/// addresses of Baton's own network ([`PublicResolver`]).
fn refused_by_guard(error: &reqwest::Error) -> Option<String> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(cause) = source {
        if let Some(refused) = cause.downcast_ref::<TargetError>() {
            return Some(format!("{refused} (actions.allow_private_targets lets a test setup call one)"));
        }
        source = cause.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn action(summary: Option<&str>) -> ActionConfig {
        let text = "name = \"refund\"\ndescription = \"Refund an order.\"\nendpoint = \"https://shop.example/r\"\n\
                    secret = \"s\"\nparameters = '{\"type\":\"object\",\"properties\":{\"order_id\":{\"type\":\"string\",\
                    \"pattern\":\"^A-[0-9]+$\"},\"amount\":{\"type\":\"number\"}},\"required\":[\"order_id\"],\
                    \"additionalProperties\":false}'\n";
        let mut action: ActionConfig = toml::from_str(text).unwrap();
        action.validate("actions[0]").unwrap();
        action.summary = summary.map(str::to_owned);
        action
    }

    #[test]
    fn arguments_are_checked_against_the_schema_with_errors_the_model_can_act_on() {
        let refund = action(None);
        assert_eq!(check_arguments(&refund, r#"{"order_id":"A-1"}"#).unwrap()["order_id"], "A-1");
        let wrong = check_arguments(&refund, r#"{"order_id":"B-1","extra":1}"#).unwrap_err();
        assert!(wrong.contains("/order_id") && wrong.contains("extra"), "{wrong}");
        assert!(check_arguments(&refund, "").unwrap_err().contains("order_id"), "no arguments: required is missing");
        assert!(check_arguments(&refund, "{not json").unwrap_err().contains("not JSON"));
    }

    #[test]
    fn the_summary_fills_the_arguments_in() {
        let arguments = json!({"order_id": "A-7", "amount": 12.5});
        assert_eq!(summary(&action(Some("Refund {amount} € on {order_id}")), &arguments), "Refund 12.5 € on A-7");
        let listed = summary(&action(None), &arguments);
        assert!(
            listed.starts_with("Refund an order. (")
                && listed.contains("amount: 12.5")
                && listed.contains("order_id: A-7")
        );
    }

    #[test]
    fn baton_tools_names_are_reserved_for_actions() {
        assert!(crate::config::actions::RESERVED_NAMES.contains(&super::super::HANDOFF_TOOL));
    }
}

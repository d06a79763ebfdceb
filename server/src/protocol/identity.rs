//! The visitor's identity as the site's page tells it (`hello.visitor`, `identify`), validated
//! once here. Whether it is *verified* is decided later, against the site's secret.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Author, ConversationId, Email, Speaker, State};

/// The longest `user_id` a site may use, in characters.
pub const MAX_USER_ID_CHARS: usize = 128;
/// The longest name shown to agents, in characters.
pub const MAX_NAME_CHARS: usize = 100;

#[derive(Debug, Default, Deserialize)]
struct RawIdentity {
    #[serde(default)]
    user_id: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    user_hash: Option<String>,
}

/// A validated identity claim. Empty strings count as absent.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(try_from = "RawIdentity")]
pub struct VisitorIdentity {
    pub user_id: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    /// 64 hex digits, lowercased: the site backend's HMAC-SHA256 of `user_id`.
    pub user_hash: Option<String>,
}

impl VisitorIdentity {
    /// Nothing was said (every field absent or empty).
    pub fn is_empty(&self) -> bool {
        self.user_id.is_none() && self.name.is_none() && self.email.is_none()
    }
}

impl TryFrom<RawIdentity> for VisitorIdentity {
    type Error = String;

    fn try_from(raw: RawIdentity) -> Result<VisitorIdentity, String> {
        let present = |s: Option<String>| s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        let user_id = present(raw.user_id);
        if user_id.as_ref().is_some_and(|id| id.chars().count() > MAX_USER_ID_CHARS || id.chars().any(char::is_control))
        {
            return Err(format!("visitor.user_id must be 1-{MAX_USER_ID_CHARS} printable characters"));
        }
        let name = present(raw.name);
        if name.as_ref().is_some_and(|n| n.chars().count() > MAX_NAME_CHARS || n.chars().any(char::is_control)) {
            return Err(format!("visitor.name must be at most {MAX_NAME_CHARS} printable characters"));
        }
        let email = match present(raw.email) {
            Some(email) => Some(Email::parse(email).map_err(|_| "visitor.email is not a valid address".to_owned())?.0),
            None => None,
        };
        let user_hash = present(raw.user_hash).map(|h| h.to_ascii_lowercase());
        if user_hash.as_ref().is_some_and(|h| h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit())) {
            return Err("visitor.user_hash must be 64 hex digits (HMAC-SHA256 of user_id)".into());
        }
        Ok(VisitorIdentity { user_id, name, email, user_hash })
    }
}

/// What `welcome.identity` (and the `identity` frame) tells the visitor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentityStatus {
    /// The site's backend signed this `user_id` with the site's `identity_secret`.
    Verified,
    /// Said by the page, not proven: shown to agents as such, never trusted.
    Unverified,
    /// No identity given.
    None,
}

/// One earlier conversation of a verified visitor, as the widget shows it: read-only.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PastConversation {
    pub conversation_id: ConversationId,
    pub started_at: DateTime<Utc>,
    pub state: State,
    /// The newest messages the visitor could see (no notes), oldest first.
    pub messages: Vec<PastMessage>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PastMessage {
    pub from: Speaker,
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<Author>,
    pub at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<VisitorIdentity, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn fields_are_trimmed_bounded_and_checked() {
        let ok = parse(r#"{"user_id":" u-1 ","name":"Ana","email":"ana@example.com","user_hash":"AB"}"#);
        assert!(ok.is_err(), "a short hash is refused");
        let hash = "A".repeat(64);
        let ok = parse(&format!(r#"{{"user_id":" u-1 ","name":"","email":"ana@example.com","user_hash":"{hash}"}}"#))
            .unwrap();
        assert_eq!(ok.user_id.as_deref(), Some("u-1"));
        assert_eq!(ok.name, None);
        assert_eq!(ok.user_hash, Some("a".repeat(64)));
        assert!(parse(r#"{"email":"not an email"}"#).is_err());
        assert!(parse(&format!(r#"{{"user_id":"{}"}}"#, "x".repeat(129))).is_err());
        assert!(parse(r#"{"name":"a\u0000b"}"#).is_err());
        assert!(parse("{}").unwrap().is_empty());
    }
}

//! File links: a token is `EXPIRES.HEX`, HEX the HMAC-SHA256 of `scope \n site \n
//! conversation \n EXPIRES` (EXPIRES in Unix seconds). It names one conversation and lapses;
//! no store is read to check it, so any node with the same key accepts it.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::protocol::ConversationId;

/// What a token lets its holder do with one conversation's files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// The visitor's: read the conversation's files and send new ones.
    Visitor,
    /// An agent view's: read them (agents send with their own token).
    Read,
}

impl Scope {
    fn label(self) -> &'static str {
        match self {
            Scope::Visitor => "visitor",
            Scope::Read => "read",
        }
    }
}

/// Signs and checks tokens with one key.
#[derive(Clone)]
pub struct Signer {
    key: Vec<u8>,
    ttl_secs: i64,
}

impl Signer {
    pub fn new(key: Vec<u8>, ttl_secs: u64) -> Signer {
        Signer { key, ttl_secs: i64::try_from(ttl_secs).unwrap_or(i64::MAX / 2) }
    }

    /// A token for `scope` valid until `now + ttl`; returns it with its expiry (Unix seconds).
    pub fn issue(&self, scope: Scope, site: &str, id: ConversationId, now: i64) -> (String, i64) {
        let expires = now.saturating_add(self.ttl_secs);
        let mac = self.mac(scope, site, id, expires).finalize().into_bytes();
        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        (format!("{expires}.{hex}"), expires)
    }

    /// The scope `token` grants on `site`'s conversation `id` at `now`, if any.
    pub fn check(&self, token: &str, site: &str, id: ConversationId, now: i64) -> Option<Scope> {
        let (expires, hex) = token.split_once('.')?;
        let expires: i64 = expires.parse().ok()?;
        if expires < now || hex.len() != 64 {
            return None;
        }
        let mac = decode_hex(hex)?;
        [Scope::Visitor, Scope::Read]
            .into_iter()
            .find(|scope| self.mac(*scope, site, id, expires).verify_slice(&mac).is_ok())
    }

    fn mac(&self, scope: Scope, site: &str, id: ConversationId, expires: i64) -> Hmac<Sha256> {
        // unwrap: HMAC takes a key of any length.
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("hmac key");
        mac.update(format!("{}\n{site}\n{id}\n{expires}", scope.label()).as_bytes());
        mac
    }
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_opens_only_its_own_conversation_until_it_lapses() {
        let signer = Signer::new(b"key".to_vec(), 60);
        let id = ConversationId::new();
        let (token, expires) = signer.issue(Scope::Visitor, "demo", id, 1_000);
        assert_eq!(expires, 1_060);
        assert_eq!(signer.check(&token, "demo", id, 1_060), Some(Scope::Visitor));
        assert_eq!(signer.check(&token, "demo", id, 1_061), None);
        assert_eq!(signer.check(&token, "demo", ConversationId::new(), 1_000), None);
        assert_eq!(signer.check(&token, "other", id, 1_000), None);
        let (read, _) = signer.issue(Scope::Read, "demo", id, 1_000);
        assert_eq!(signer.check(&read, "demo", id, 1_000), Some(Scope::Read));
        assert_eq!(Signer::new(b"other key".to_vec(), 60).check(&token, "demo", id, 1_000), None);
        let stretched = token.replacen("1060", "9999", 1);
        assert_eq!(signer.check(&stretched, "demo", id, 1_000), None);
    }
}

//! Resume links: a signed, expiring stand-in for a conversation's resume token, which is
//! never stored and so can never be emailed. `r1.{conversation}.{expires}.{signature}`, the
//! signature being the HMAC-SHA256 of `r1.{conversation}.{expires}` under the link secret. A
//! widget given one sends it as its `hello` token; the server opens that conversation while
//! the link lasts.

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use uuid::Uuid;

use crate::protocol::ConversationId;

const PREFIX: &str = "r1";

pub struct ResumeLinks {
    key: Vec<u8>,
    ttl: chrono::Duration,
}

impl ResumeLinks {
    /// Signs with `secret`, or with a random key when none is configured (links then stop
    /// working when this process ends, and on other nodes).
    pub fn new(secret: Option<&SecretString>, ttl_hours: u64) -> ResumeLinks {
        let key = match secret.map(|s| s.expose_secret().as_bytes().to_vec()).filter(|k| !k.is_empty()) {
            Some(key) => key,
            None => {
                tracing::warn!("email.link_secret is not set: resume links work only until this process stops");
                let mut key = vec![0u8; 32];
                rand::rng().fill_bytes(&mut key);
                key
            }
        };
        let ttl = chrono::Duration::hours(i64::try_from(ttl_hours).unwrap_or(24 * 7));
        ResumeLinks { key, ttl }
    }

    /// Whether `token` has the shape of a resume link (a resume token never has a dot).
    pub fn is_link(token: &str) -> bool {
        token.starts_with("r1.")
    }

    /// A link token for `id`, good until `now` plus the configured lifetime.
    pub fn token(&self, id: ConversationId, now: DateTime<Utc>) -> String {
        let signed = format!("{PREFIX}.{}.{}", id.0.simple(), (now + self.ttl).timestamp());
        format!("{signed}.{}", crate::hex::encode(&self.mac(&signed).finalize().into_bytes()))
    }

    /// The conversation a link token opens at `now`: `None` if forged, altered or expired.
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Option<ConversationId> {
        let (signed, signature) = token.rsplit_once('.')?;
        let mut parts = signed.split('.');
        let (prefix, id, expires) = (parts.next()?, parts.next()?, parts.next()?);
        if prefix != PREFIX || parts.next().is_some() {
            return None;
        }
        self.mac(signed).verify_slice(&crate::hex::decode(signature)?).ok()?;
        let expires: i64 = expires.parse().ok()?;
        (now.timestamp() <= expires).then_some(())?;
        Uuid::parse_str(id).ok().map(ConversationId)
    }

    fn mac(&self, signed: &str) -> Hmac<Sha256> {
        // unwrap: HMAC takes a key of any length.
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key");
        mac.update(signed.as_bytes());
        mac
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_opens_its_conversation_until_it_expires_and_not_when_altered() {
        let links = ResumeLinks::new(Some(&SecretString::from("k")), 1);
        let (id, now) = (ConversationId::new(), Utc::now());
        let token = links.token(id, now);
        assert!(ResumeLinks::is_link(&token));
        assert_eq!(links.verify(&token, now), Some(id));
        assert_eq!(links.verify(&token, now + chrono::Duration::minutes(61)), None, "expired");
        let other = ConversationId::new().0.simple().to_string();
        assert_eq!(links.verify(&token.replace(&id.0.simple().to_string(), &other), now), None, "altered");
        let stranger = ResumeLinks::new(Some(&SecretString::from("other key")), 1);
        assert_eq!(stranger.verify(&token, now), None, "signed by another key");
    }
}

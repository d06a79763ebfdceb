//! Who the visitor is: the page's claim (`hello.visitor`, `identify`), verified against the
//! site's `identity_secret`, kept as the conversation's [`Identity`] record; and for a
//! verified visitor, the link from their `user_id` to their conversations, so that on another
//! device they see their recent ones (`history`).
//!
//! What must stay true: an identity is verified only when `user_hash` is the HMAC-SHA256 of
//! `user_id` under the site's secret (compared in constant time); an unverified claim never
//! replaces a verified identity, never reads anyone's history and is never linked; a verified
//! visitor is never given a conversation that is verified as someone else's.

use chrono::{Duration, Utc};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

use super::{Conversations, StoreError};
use crate::protocol::{ConversationId, EventBody, IdentityStatus, PastConversation, PastMessage, VisitorIdentity};
use crate::records::{Identity, Record};
use crate::sites::Site;
use crate::store::Conversation;

/// Earlier conversations a verified visitor is shown at most, newest first…
pub const HISTORY_CONVERSATIONS: usize = 5;
/// … each with at most this many of its newest messages.
pub const HISTORY_MESSAGES: usize = 30;

/// `user_hash` is the lowercase hex HMAC-SHA256 of `user_id` keyed by `secret`.
pub fn verify(secret: &SecretString, user_id: &str, user_hash: &str) -> bool {
    let Some(hash) = from_hex(user_hash) else { return false };
    // unwrap: HMAC takes a key of any length.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes()).expect("any key length");
    mac.update(user_id.as_bytes());
    mac.verify_slice(&hash).is_ok()
}

fn from_hex(text: &str) -> Option<Vec<u8>> {
    let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let bytes = text.as_bytes();
    bytes.len().is_multiple_of(2).then_some(())?;
    bytes.chunks_exact(2).map(|pair| Some(digit(pair[0])? << 4 | digit(pair[1])?)).collect()
}

/// The record a claim makes on `site`: verified when the site has a secret and the hash fits.
pub fn record(site: &Site, claim: &VisitorIdentity) -> Identity {
    let verified = match (&site.config.identity_secret, &claim.user_id, &claim.user_hash) {
        (Some(secret), Some(user_id), Some(hash)) => verify(secret, user_id, hash),
        _ => false,
    };
    Identity {
        user_id: claim.user_id.clone(),
        name: claim.name.clone(),
        email: claim.email.clone(),
        verified,
        at: Utc::now(),
    }
}

pub fn status(identity: Option<&Identity>) -> IdentityStatus {
    match identity {
        Some(identity) if identity.verified => IdentityStatus::Verified,
        Some(_) => IdentityStatus::Unverified,
        None => IdentityStatus::None,
    }
}

/// What a claim does to a conversation that has `existing`.
#[derive(Debug, PartialEq)]
pub enum Adopt {
    /// Store it (it replaces nothing verified, or re-verifies the same user).
    Set,
    /// Keep the verified identity; an unverified claim changes nothing.
    Keep,
    /// Verified as a different user: this conversation is not theirs.
    OtherUser,
}

pub fn adopt(existing: Option<&Identity>, claim: &Identity) -> Adopt {
    match existing {
        Some(old) if old.verified && claim.verified && old.user_id != claim.user_id => Adopt::OtherUser,
        Some(old) if old.verified && !claim.verified => Adopt::Keep,
        _ => Adopt::Set,
    }
}

/// Why an `identify` was refused.
#[derive(Debug, thiserror::Error)]
pub enum IdentifyError {
    #[error("this conversation belongs to another signed-in visitor; start a new one")]
    OtherUser,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Conversations {
    /// Applies a claim to `conversation` (as [`adopt`] decides) and links a verified visitor
    /// to it; returns the identity the conversation has now.
    pub async fn identify(
        &self,
        site: &Site,
        conversation: &Conversation,
        claim: &VisitorIdentity,
    ) -> Result<IdentityStatus, IdentifyError> {
        let existing = conversation.records.identity.as_deref();
        if claim.is_empty() {
            return Ok(status(existing));
        }
        let identity = record(site, claim);
        match adopt(existing, &identity) {
            Adopt::OtherUser => return Err(IdentifyError::OtherUser),
            Adopt::Keep => return Ok(status(existing)),
            Adopt::Set => {}
        }
        let now = status(Some(&identity));
        if let (true, Some(user_id)) = (identity.verified, &identity.user_id) {
            let visitors = &self.stores.visitors;
            visitors.link_user(&site.config.id, user_id, conversation.id, conversation.created_at).await?;
        }
        tracing::info!(conversation_id = %conversation.id, identity = ?now, "visitor identified");
        self.stores.log.set_record(conversation.id, Record::Identity(identity)).await?;
        Ok(now)
    }

    /// A later `identify` on the conversation `id` (see [`Conversations::identify`]).
    pub async fn identify_later(
        &self,
        site: &Site,
        id: ConversationId,
        claim: &VisitorIdentity,
    ) -> Result<IdentityStatus, IdentifyError> {
        let conversation = self.stores.log.conversation(id).await?.ok_or(StoreError::NotFound)?;
        self.identify(site, &conversation, claim).await
    }

    /// A verified visitor's recent conversations on `site` (within the site's window), other
    /// than `except`; empty for anyone not verified.
    pub async fn history(
        &self,
        site: &Site,
        identity: Option<&Identity>,
        except: ConversationId,
    ) -> Result<Vec<PastConversation>, StoreError> {
        let Some(user_id) = identity.filter(|i| i.verified).and_then(|i| i.user_id.as_deref()) else {
            return Ok(Vec::new());
        };
        let ids = self.recent_of(site, user_id, HISTORY_CONVERSATIONS + 1).await?;
        let mut past = Vec::new();
        for id in ids.into_iter().filter(|id| *id != except).take(HISTORY_CONVERSATIONS) {
            let Some(conversation) = self.stores.log.conversation(id).await? else { continue };
            let events = self.stores.log.recent_events(id, HISTORY_MESSAGES * 2).await?;
            let mut messages: Vec<PastMessage> = events
                .iter()
                .filter_map(|e| match &e.body {
                    EventBody::Message { from, text, author, .. } => {
                        Some(PastMessage { from: *from, text: text.clone(), author: author.clone(), at: e.at })
                    }
                    _ => None,
                })
                .collect();
            if !messages.iter().any(|m| m.from == crate::protocol::Speaker::Visitor) {
                continue; // opened, never written in: nothing to show
            }
            messages.drain(..messages.len().saturating_sub(HISTORY_MESSAGES));
            past.push(PastConversation {
                conversation_id: id,
                started_at: conversation.created_at,
                state: conversation.state,
                messages,
            });
        }
        Ok(past)
    }

    /// The ids of a verified user's conversations on `site` within its history window.
    pub async fn recent_of(&self, site: &Site, user_id: &str, limit: usize) -> Result<Vec<ConversationId>, StoreError> {
        let days = site.config.identity_history_days;
        if days == 0 {
            return Ok(Vec::new());
        }
        let since = Utc::now() - Duration::days(i64::from(days));
        self.stores.visitors.user_conversations(&site.config.id, user_id, since, limit).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn identity(user: &str, verified: bool) -> Identity {
        Identity { user_id: Some(user.into()), name: None, email: None, verified, at: Utc::now() }
    }

    #[test]
    fn the_hash_is_the_hmac_of_the_user_id_under_the_secret() {
        let secret = SecretString::from("s3cret");
        let mut mac = Hmac::<Sha256>::new_from_slice(b"s3cret").unwrap();
        mac.update(b"user-42");
        let good = hex(&mac.finalize().into_bytes());
        assert!(verify(&secret, "user-42", &good));
        assert!(!verify(&secret, "user-43", &good), "another user's hash");
        assert!(!verify(&SecretString::from("other"), "user-42", &good), "another site's secret");
        assert!(!verify(&secret, "user-42", &good[..62]));
        assert!(!verify(&secret, "user-42", "zz"));
    }

    #[test]
    fn a_known_vector_matches_what_a_site_backend_computes() {
        // printf %s 'user-42' | openssl dgst -sha256 -hmac 's3cret'
        let expected = "1136c48073bd2ba64f2a18895ff27ecfa11e24ccd2d86972ace148983668a992";
        assert!(verify(&SecretString::from("s3cret"), "user-42", expected));
    }

    #[test]
    fn an_unverified_claim_never_replaces_a_verified_identity() {
        let ana = identity("ana", true);
        assert_eq!(adopt(Some(&ana), &identity("ana", false)), Adopt::Keep);
        assert_eq!(adopt(Some(&ana), &identity("bo", false)), Adopt::Keep);
        assert_eq!(adopt(Some(&ana), &identity("bo", true)), Adopt::OtherUser);
        assert_eq!(adopt(Some(&ana), &identity("ana", true)), Adopt::Set);
        assert_eq!(adopt(Some(&identity("ana", false)), &identity("bo", true)), Adopt::Set);
        assert_eq!(adopt(None, &identity("bo", false)), Adopt::Set);
    }
}

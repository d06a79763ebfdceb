//! [`Erase`] on Redis: a conversation's every key, and the left messages of one email
//! address. `baton privacy erase` uses it from its own process too (a shared store outlives
//! the server's).

use ::redis::{AsyncCommands, Script};
use async_trait::async_trait;

use super::{RedisStore, unavailable};
use crate::protocol::ConversationId;
use crate::store::StoreError;
use crate::store::erase::Erase;

#[async_trait]
impl Erase for RedisStore {
    /// Removes a conversation's keys, its resume token, queue entry, assignment, place in
    /// the archive feed and link in its verified user's index; returns whether it existed.
    async fn erase_conversation(&self, id: ConversationId) -> Result<bool, StoreError> {
        let (token, site, identity): (Option<String>, Option<String>, Option<String>) =
            self.conn().hmget(self.keys.meta(id), &["token_hash", "site", "r:identity"]).await.map_err(unavailable)?;
        let field = id.to_string();
        let mut pipe = ::redis::pipe();
        pipe.atomic();
        for key in self.keys.conversation(id) {
            pipe.del(key).ignore();
        }
        if let Some(token) = &token {
            pipe.del(self.keys.token(token)).ignore();
        }
        pipe.hdel(self.keys.queue(), &field).ignore();
        pipe.hdel(self.keys.assignments(), &field).ignore();
        pipe.zrem(self.keys.archive_feed(), &field).ignore();
        pipe.zrem(self.keys.idle_watch(), &field).ignore();
        if let (Some(site), Some(user_id)) = (site, identity.as_deref().and_then(verified_user)) {
            pipe.zrem(self.keys.user(&site, &user_id), &field).ignore();
        }
        let _: () = pipe.query_async(&mut self.conn()).await.map_err(unavailable)?;
        Ok(token.is_some())
    }

    /// Removes the left messages of `email` (any case; on `site` only, when given); returns
    /// the conversations they named.
    async fn erase_left_messages(&self, email: &str, site: Option<&str>) -> Result<Vec<ConversationId>, StoreError> {
        let script = Script::new(include_str!("erase_left.lua"));
        let mut call = script.key(self.keys.left_messages());
        call.arg(email.trim().to_lowercase()).arg(site.unwrap_or_default());
        let ids: Vec<String> = call.invoke_async(&mut self.conn()).await.map_err(unavailable)?;
        ids.iter().map(|id| super::records::conversation_id(id)).collect()
    }

    /// Finding them would scan the shared store: the archive and left messages name them.
    async fn conversations_with_email(
        &self,
        _email: &str,
        _site: Option<&str>,
    ) -> Result<Vec<ConversationId>, StoreError> {
        Ok(Vec::new())
    }

    async fn erase_user(&self, site: &str, user_id: &str) -> Result<Vec<ConversationId>, StoreError> {
        let key = self.keys.user(site, user_id);
        let (ids,): (Vec<String>,) = ::redis::pipe()
            .atomic()
            .zrange(&key, 0, -1)
            .del(&key)
            .ignore()
            .query_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        Ok(ids.iter().filter_map(|id| id.parse().ok().map(ConversationId)).collect())
    }
}

/// The user id of a verified identity record (the only kind the visitor index links).
fn verified_user(identity_json: &str) -> Option<String> {
    let identity: crate::records::Identity = serde_json::from_str(identity_json).ok()?;
    identity.user_id.filter(|_| identity.verified)
}

impl RedisStore {
    /// The left messages of `email` (any case), for an access request.
    pub async fn left_messages_of(&self, email: &str) -> Result<Vec<crate::store::LeftMessage>, StoreError> {
        let email = email.trim().to_lowercase();
        let all = crate::store::Handoff::left_messages(self).await?;
        Ok(all.into_iter().filter(|m| m.email.to_lowercase() == email).collect())
    }
}

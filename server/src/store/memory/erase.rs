//! [`Erase`] in memory: under the store's one lock, like every other write.

use async_trait::async_trait;

use super::MemoryStore;
use crate::protocol::ConversationId;
use crate::store::StoreError;
use crate::store::erase::Erase;

#[async_trait]
impl Erase for MemoryStore {
    async fn erase_conversation(&self, id: ConversationId) -> Result<bool, StoreError> {
        let mut inner = self.lock();
        let existed = inner.conversations.remove(&id).is_some();
        inner.queue.remove(&id);
        inner.assignments.remove(&id);
        inner.feed.forget(&id);
        inner.by_token.retain(|_, named| *named != id);
        inner.users.forget(&std::collections::HashSet::from([id]));
        Ok(existed)
    }

    async fn erase_left_messages(&self, email: &str, site: Option<&str>) -> Result<Vec<ConversationId>, StoreError> {
        let email = email.trim().to_lowercase();
        let mut inner = self.lock();
        let mut named = Vec::new();
        inner.left.retain(|message| {
            let theirs = message.email.to_lowercase() == email && site.is_none_or(|site| message.site == site);
            if theirs {
                named.push(message.conversation_id);
            }
            !theirs
        });
        Ok(named)
    }

    async fn conversations_with_email(
        &self,
        email: &str,
        site: Option<&str>,
    ) -> Result<Vec<ConversationId>, StoreError> {
        let email = email.trim().to_lowercase();
        let inner = self.lock();
        let left = |entry: &super::Entry| {
            site.is_none_or(|site| entry.conversation.site == site)
                && entry.conversation.records.contact.as_ref().is_some_and(|c| c.email.to_lowercase() == email)
        };
        Ok(inner.conversations.iter().filter(|(_, entry)| left(entry)).map(|(id, _)| *id).collect())
    }

    async fn erase_user(&self, site: &str, user_id: &str) -> Result<Vec<ConversationId>, StoreError> {
        Ok(self.lock().users.remove(site, user_id))
    }
}

//! The memory store's visitor index ([`VisitorIndex`]): per site and user, the newest links.

use std::collections::{HashMap, HashSet, VecDeque};

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::MemoryStore;
use crate::protocol::ConversationId;
use crate::store::{StoreError, USER_CONVERSATIONS_KEPT, VisitorIndex};

/// A user's conversations with when each started, oldest first.
type Links = VecDeque<(DateTime<Utc>, ConversationId)>;

/// (site, user id) → the user's [`Links`].
#[derive(Default)]
pub(super) struct Users(HashMap<(Box<str>, Box<str>), Links>);

impl Users {
    /// Forgets links to conversations that expired, and users left with none.
    pub(super) fn forget(&mut self, expired: &HashSet<ConversationId>) {
        self.0.retain(|_, links| {
            links.retain(|(_, id)| !expired.contains(id));
            !links.is_empty()
        });
    }

    /// Removes a user's entry; returns the conversations it linked.
    pub(super) fn remove(&mut self, site: &str, user_id: &str) -> Vec<ConversationId> {
        let links = self.0.remove(&(site.into(), user_id.into())).unwrap_or_default();
        links.into_iter().map(|(_, id)| id).collect()
    }
}

#[async_trait]
impl VisitorIndex for MemoryStore {
    async fn link_user(
        &self,
        site: &str,
        user_id: &str,
        id: ConversationId,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut inner = self.lock();
        let links = inner.users.0.entry((site.into(), user_id.into())).or_default();
        if links.iter().any(|(_, linked)| *linked == id) {
            return Ok(());
        }
        let place = links.partition_point(|(started, _)| *started <= at);
        links.insert(place, (at, id));
        while links.len() > USER_CONVERSATIONS_KEPT {
            links.pop_front();
        }
        Ok(())
    }

    async fn user_conversations(
        &self,
        site: &str,
        user_id: &str,
        since: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<ConversationId>, StoreError> {
        let inner = self.lock();
        let Some(links) = inner.users.0.get(&(site.into(), user_id.into())) else { return Ok(Vec::new()) };
        Ok(links.iter().rev().take_while(|(at, _)| *at >= since).take(limit).map(|(_, id)| *id).collect())
    }
}

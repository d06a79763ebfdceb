//! The memory store's [`IdleWatch`]: a map of conversations to when each is next due, kept
//! under the store's one lock, so a write and its mark are one step.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::MemoryStore;
use crate::protocol::ConversationId;
use crate::store::StoreError;
use crate::store::idle::IdleWatch;

#[derive(Default)]
pub(super) struct Idle {
    due: HashMap<ConversationId, DateTime<Utc>>,
}

impl Idle {
    /// The conversation changed: due now.
    pub(super) fn touch(&mut self, id: ConversationId) {
        self.due.insert(id, Utc::now());
    }

    /// The conversation left the live store.
    pub(super) fn forget(&mut self, id: &ConversationId) {
        self.due.remove(id);
    }
}

#[async_trait]
impl IdleWatch for MemoryStore {
    async fn claim_idle(&self, limit: usize, lease: Duration) -> Result<Vec<ConversationId>, StoreError> {
        let now = Utc::now();
        let until = now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::MAX);
        let mut inner = self.lock();
        let inner = &mut *inner;
        inner.idle.due.retain(|id, _| inner.conversations.contains_key(id));
        let mut due: Vec<(DateTime<Utc>, ConversationId)> =
            inner.idle.due.iter().filter(|(_, at)| **at <= now).map(|(id, at)| (*at, *id)).collect();
        due.sort_unstable();
        due.truncate(limit);
        for (_, id) in &due {
            inner.idle.due.insert(*id, until);
        }
        Ok(due.into_iter().map(|(_, id)| id).collect())
    }

    async fn idle_due(&self, id: ConversationId, at: DateTime<Utc>) -> Result<(), StoreError> {
        if let Some(due) = self.lock().idle.due.get_mut(&id) {
            *due = at;
        }
        Ok(())
    }

    async fn unwatch(&self, id: ConversationId) -> Result<(), StoreError> {
        self.lock().idle.forget(&id);
        Ok(())
    }
}

//! The memory store's [`ArchiveFeed`]: a map of unarchived conversations kept under the
//! store's one lock, so marking one is part of the write that changed it.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::MemoryStore;
use crate::protocol::ConversationId;
use crate::store::StoreError;
use crate::store::feed::{ArchiveFeed, Unarchived};

/// Unarchived conversations: each with its newest change number and when it is next due.
#[derive(Default)]
pub(super) struct Feed {
    pending: HashMap<ConversationId, (u64, DateTime<Utc>)>,
    /// Change numbers, one counter for the whole store (only "changed since" matters).
    rev: u64,
}

impl Feed {
    /// The conversation changed: it is (still) unarchived, with a new change number. A
    /// claimed one keeps its lease.
    pub(super) fn mark(&mut self, id: ConversationId) {
        self.rev += 1;
        let rev = self.rev;
        self.pending.entry(id).and_modify(|entry| entry.0 = rev).or_insert((rev, Utc::now()));
    }

    /// The conversation left the live store.
    pub(super) fn forget(&mut self, id: &ConversationId) {
        self.pending.remove(id);
    }
}

#[async_trait]
impl ArchiveFeed for MemoryStore {
    async fn claim_unarchived(&self, limit: usize, lease: Duration) -> Result<Vec<Unarchived>, StoreError> {
        let now = Utc::now();
        let until = now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::MAX);
        let mut inner = self.lock();
        let mut due: Vec<(DateTime<Utc>, ConversationId, u64)> = inner
            .feed
            .pending
            .iter()
            .filter(|(_, (_, at))| *at <= now)
            .map(|(id, (rev, at))| (*at, *id, *rev))
            .collect();
        due.sort_unstable();
        due.truncate(limit);
        for (_, id, _) in &due {
            if let Some(entry) = inner.feed.pending.get_mut(id) {
                entry.1 = until;
            }
        }
        Ok(due.into_iter().map(|(_, id, rev)| Unarchived { id, rev }).collect())
    }

    async fn archived(&self, id: ConversationId, rev: u64) -> Result<(), StoreError> {
        let mut inner = self.lock();
        match inner.feed.pending.get_mut(&id) {
            Some((current, _)) if *current == rev => drop(inner.feed.pending.remove(&id)),
            Some((_, due)) => *due = Utc::now(),
            None => {}
        }
        Ok(())
    }

    async fn backlog(&self) -> Result<usize, StoreError> {
        Ok(self.lock().feed.pending.len())
    }
}

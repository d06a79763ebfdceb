//! The Redis store's [`ArchiveFeed`]: the sorted set `{ns}:archive` (conversation id → when
//! it is next due, Unix ms) and each conversation's change number, the meta field `arev`.
//! `append.lua`, `transition.lua` and `update.lua` bump `arev` and add the id (`ZADD NX`: a
//! claimed one keeps its lease; not while the conversation is provisional) in the same atomic
//! step as their write (`mark_unarchived` in `event.lua`); `feed_claim.lua` and
//! `feed_done.lua` claim and release entries.

use std::time::Duration;

use ::redis::{AsyncCommands, Script};
use async_trait::async_trait;
use chrono::Utc;

use super::{RedisStore, records, unavailable};
use crate::protocol::ConversationId;
use crate::store::StoreError;
use crate::store::feed::{ArchiveFeed, Unarchived};

/// The feed's scripts (loaded once per store; `Script` reloads them after a Redis restart).
pub(super) struct FeedScripts {
    /// Also claims from the idle watch (`redis/idle.rs`): the same sorted set of due ids.
    pub(super) claim: Script,
    done: Script,
}

impl FeedScripts {
    pub(super) fn new() -> FeedScripts {
        FeedScripts {
            claim: Script::new(include_str!("feed_claim.lua")),
            done: Script::new(include_str!("feed_done.lua")),
        }
    }
}

impl RedisStore {
    /// Claims up to `limit` due members of the sorted set `key` for `lease` (`feed_claim.lua`,
    /// the archive feed's and the idle watch's): `[id, score, id, score, …]`.
    pub(super) async fn claim_due(
        &self,
        key: String,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<String>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let (meta_before, meta_after) = self.keys.meta_parts();
        let mut call = self.feed_scripts.claim.key(key);
        call.arg(Utc::now().timestamp_millis())
            .arg(u64::try_from(lease.as_millis()).unwrap_or(u64::MAX))
            .arg(limit)
            .arg(meta_before)
            .arg(meta_after);
        call.invoke_async(&mut self.conn()).await.map_err(unavailable)
    }
}

#[async_trait]
impl ArchiveFeed for RedisStore {
    async fn claim_unarchived(&self, limit: usize, lease: Duration) -> Result<Vec<Unarchived>, StoreError> {
        let flat = self.claim_due(self.keys.archive_feed(), limit, lease).await?;
        flat.chunks_exact(2)
            .map(|pair| {
                let rev = pair[1].parse().map_err(|_| records::corrupt("arev is not a number"))?;
                Ok(Unarchived { id: records::conversation_id(&pair[0])?, rev })
            })
            .collect()
    }

    async fn archived(&self, id: ConversationId, rev: u64) -> Result<(), StoreError> {
        let mut call = self.feed_scripts.done.key(self.keys.archive_feed());
        call.key(self.keys.meta(id)).arg(id.to_string()).arg(rev).arg(Utc::now().timestamp_millis());
        let _: i64 = call.invoke_async(&mut self.conn()).await.map_err(unavailable)?;
        Ok(())
    }

    async fn backlog(&self) -> Result<usize, StoreError> {
        self.conn().zcard(self.keys.archive_feed()).await.map_err(unavailable)
    }
}

//! The Redis store's [`IdleWatch`]: the sorted set `{ns}:archive:idle` (conversation id →
//! when it is next due, Unix ms). `event.lua`'s `mark_unarchived` makes a conversation due
//! at once in the same atomic step as every write to it; claims reuse the archive feed's
//! claim script (`feed_claim.lua`: due ids, leased, the expired ones dropped).

use std::time::Duration;

use ::redis::AsyncCommands;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{RedisStore, records, unavailable};
use crate::protocol::ConversationId;
use crate::store::StoreError;
use crate::store::idle::IdleWatch;

#[async_trait]
impl IdleWatch for RedisStore {
    async fn claim_idle(&self, limit: usize, lease: Duration) -> Result<Vec<ConversationId>, StoreError> {
        let flat = self.claim_due(self.keys.idle_watch(), limit, lease).await?;
        flat.chunks_exact(2).map(|pair| records::conversation_id(&pair[0])).collect()
    }

    async fn idle_due(&self, id: ConversationId, at: DateTime<Utc>) -> Result<(), StoreError> {
        let mut zadd = ::redis::cmd("ZADD");
        zadd.arg(self.keys.idle_watch()).arg("XX").arg(at.timestamp_millis()).arg(id.to_string());
        let _: i64 = zadd.query_async(&mut self.conn()).await.map_err(unavailable)?;
        Ok(())
    }

    async fn unwatch(&self, id: ConversationId) -> Result<(), StoreError> {
        let _: i64 = self.conn().zrem(self.keys.idle_watch(), id.to_string()).await.map_err(unavailable)?;
        Ok(())
    }
}

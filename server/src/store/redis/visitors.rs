//! The Redis store's visitor index ([`VisitorIndex`]): one sorted set per site and user,
//! conversation ids scored by when each started (Unix ms).

use ::redis::AsyncCommands;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{RedisStore, unavailable};
use crate::protocol::ConversationId;
use crate::store::{StoreError, USER_CONVERSATIONS_KEPT, VisitorIndex};

#[async_trait]
impl VisitorIndex for RedisStore {
    async fn link_user(
        &self,
        site: &str,
        user_id: &str,
        id: ConversationId,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let key = self.keys.user(site, user_id);
        let newest_kept = -(i64::try_from(USER_CONVERSATIONS_KEPT).unwrap_or(i64::MAX)) - 1;
        let retention = i64::try_from(self.retention_secs).unwrap_or(i64::MAX);
        let _: () = ::redis::pipe()
            .atomic()
            .cmd("ZADD")
            .arg(&key)
            .arg("NX")
            .arg(at.timestamp_millis())
            .arg(id.to_string())
            .ignore()
            .zremrangebyrank(&key, 0, isize::try_from(newest_kept).unwrap_or(isize::MIN))
            .ignore()
            .expire(&key, retention)
            .ignore()
            .query_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn user_conversations(
        &self,
        site: &str,
        user_id: &str,
        since: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<ConversationId>, StoreError> {
        let key = self.keys.user(site, user_id);
        let count = isize::try_from(limit).unwrap_or(isize::MAX);
        let ids: Vec<String> = self
            .conn()
            .zrevrangebyscore_limit(&key, "+inf", since.timestamp_millis(), 0, count)
            .await
            .map_err(unavailable)?;
        Ok(ids.iter().filter_map(|id| id.parse().ok().map(ConversationId)).collect())
    }
}

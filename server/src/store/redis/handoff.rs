//! The handoff records (queue entries, assignments, presence, pickups, left messages): plain
//! records under global keys, each written whole. Taking a chat is not decided here but by
//! the conditional append; these follow it.

use std::collections::{BTreeMap, HashMap};

use ::redis::AsyncCommands;
use serde::de::DeserializeOwned;

use super::records::{from_json, to_json};
use super::{RedisStore, unavailable};
use crate::protocol::ConversationId;
use crate::store::{Presence, StoreError};

/// How long the presence hash outlives its last write (each record also carries its own
/// `until`, which routing and the janitor honour).
const PRESENCE_TTL_SECS: i64 = 24 * 3600;

impl RedisStore {
    /// Adds or replaces the record of a conversation in a hash.
    pub(super) async fn put(&self, hash: String, id: ConversationId, json: String) -> Result<(), StoreError> {
        let _: i64 = self.conn().hset(hash, id.to_string(), json).await.map_err(unavailable)?;
        Ok(())
    }

    /// The record of a conversation in a hash, if any (one HGET; a record whose conversation
    /// expired is pruned by [`Self::live_records`], and whatever it guards then fails on the
    /// conversation itself).
    pub(super) async fn record<T: DeserializeOwned>(
        &self,
        hash: String,
        id: ConversationId,
    ) -> Result<Option<T>, StoreError> {
        let json: Option<String> = self.conn().hget(hash, id.to_string()).await.map_err(unavailable)?;
        json.map(|json| from_json(&json)).transpose()
    }

    /// Removes the record of a conversation from a hash and returns it, in one step.
    pub(super) async fn take<T: DeserializeOwned>(
        &self,
        hash: String,
        id: ConversationId,
    ) -> Result<Option<T>, StoreError> {
        let mut call = self.scripts.take.key(hash);
        call.arg(id.to_string());
        let taken: Option<String> = call.invoke_async(&mut self.conn()).await.map_err(unavailable)?;
        taken.map(|json| from_json(&json)).transpose()
    }

    /// The records of a hash whose conversations still exist; prunes those of expired ones.
    pub(super) async fn live_records<T: DeserializeOwned>(&self, hash: String) -> Result<Vec<T>, StoreError> {
        let mut conn = self.conn();
        let all: HashMap<String, String> = conn.hgetall(&hash).await.map_err(unavailable)?;
        if all.is_empty() {
            return Ok(Vec::new());
        }
        let all: Vec<(String, String)> = all.into_iter().collect();
        let mut pipe = ::redis::pipe();
        for (id, _) in &all {
            let id: ConversationId = from_json(&format!("\"{id}\""))?;
            pipe.exists(self.keys.meta(id));
        }
        let exists: Vec<bool> = pipe.query_async(&mut conn).await.map_err(unavailable)?;
        let mut live = Vec::new();
        let mut gone = Vec::new();
        for ((id, json), exists) in all.into_iter().zip(exists) {
            if exists { live.push(from_json(&json)?) } else { gone.push(id) }
        }
        if !gone.is_empty() {
            tracing::info!(pruned = gone.len(), hash, "records of expired conversations removed");
            let _: i64 = conn.hdel(&hash, &gone).await.map_err(unavailable)?;
        }
        Ok(live)
    }

    pub(super) async fn answered(&self, id: ConversationId) -> Result<(), StoreError> {
        let mut call = self.scripts.mark_answered.key(self.keys.assignments());
        call.arg(id.to_string());
        let _: i64 = call.invoke_async(&mut self.conn()).await.map_err(unavailable)?;
        Ok(())
    }

    pub(super) async fn write_presence(&self, agent_id: &str, presence: Option<Presence>) -> Result<(), StoreError> {
        let key = self.keys.presence();
        let mut pipe = ::redis::pipe();
        match presence {
            Some(presence) => pipe.hset(&key, agent_id, to_json(&presence)).ignore().expire(&key, PRESENCE_TTL_SECS),
            None => pipe.hdel(&key, agent_id),
        };
        let _: () = pipe.ignore().query_async(&mut self.conn()).await.map_err(unavailable)?;
        Ok(())
    }

    pub(super) async fn read_presence(&self) -> Result<BTreeMap<String, Presence>, StoreError> {
        let all: HashMap<String, String> = self.conn().hgetall(self.keys.presence()).await.map_err(unavailable)?;
        all.into_iter().map(|(agent, json)| Ok((agent, from_json(&json)?))).collect()
    }

    /// Pushes onto a list and keeps only its newest `kept` items, in one transaction.
    pub(super) async fn push_bounded(&self, list: String, value: String, kept: usize) -> Result<(), StoreError> {
        let kept = isize::try_from(kept).unwrap_or(isize::MAX);
        let _: () = ::redis::pipe()
            .atomic()
            .rpush(&list, value)
            .ignore()
            .ltrim(&list, -kept, -1)
            .ignore()
            .query_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        Ok(())
    }
}

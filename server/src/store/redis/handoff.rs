//! The handoff records (queue entries, assignments, presence, pickups, left messages): plain
//! records under global keys, each written whole, and the one script that changes a
//! conversation's hands (`transition.lua`, see the module doc of [`super`]).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use ::redis::AsyncCommands;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;

use super::records::{self, from_json, to_json};
use super::{RedisStore, unavailable};
use crate::delivery::change_of;
use crate::protocol::{ConversationId, Event};
use crate::store::{
    AgentPresence, Assign, Assignment, Audience, Delivery, EventLog, HandledMark, Handoff, LEFT_MESSAGES_KEPT,
    LeftMessage, PICKUPS_KEPT, Presence, QueueChange, QueueEntry, StoreError, Topic, Transition, Transitioned,
};

/// The arguments of `transition.lua` that come from [`Transition::assign`].
#[derive(Default)]
struct AssignArgs {
    agent_id: String,
    max_chats: u32,
    /// The new assignment's JSON.
    assignment: String,
    /// The agent's channel, and the `assigned` payload sent on it.
    channel: String,
    payload: String,
}

/// How long the presence hash outlives its last write (each record also carries its own
/// `until`, which routing and the janitor honour).
const PRESENCE_TTL_SECS: i64 = 24 * 3600;

/// Fields per page when reading a whole queue or assignments hash.
const SCAN_PAGE: usize = 500;

/// Commands per pipeline when checking that many conversations exist.
const EXISTS_BATCH: usize = 250;

#[async_trait]
impl Handoff for RedisStore {
    async fn transition(&self, id: ConversationId, transition: Transition) -> Result<Transitioned, StoreError> {
        if crate::store::misplaced_state_change(&transition.event, false) {
            let state = EventLog::state(self, id).await?.ok_or(StoreError::NotFound)?;
            return Ok(Transitioned::Refused { state });
        }
        let at = Utc::now();
        let call = self.transition_call(id, &transition, at);
        let (kind, value, token, dequeued): (String, String, String, String) =
            call.invoke_async(&mut self.conn()).await.map_err(unavailable)?;
        match kind.as_str() {
            "done" => {
                if !token.is_empty() {
                    self.keep_token(&token).await;
                }
                let seq = value.parse::<u64>().map_err(|_| records::corrupt("transition returned no seq"))?;
                let event = Arc::new(Event { seq, conversation_id: id, at, body: transition.event });
                let dequeued = if dequeued.is_empty() { None } else { Some(from_json(&dequeued)?) };
                Ok(Transitioned::Done { event, dequeued })
            }
            "refused" => Ok(Transitioned::Refused { state: records::from_name(&value)? }),
            "not_holder" => Ok(Transitioned::NotHolder),
            "at_capacity" => Ok(Transitioned::AtCapacity),
            "full" => Err(StoreError::Full(self.max_events)),
            "missing" => Err(StoreError::NotFound),
            other => Err(records::corrupt(format!("transition answered {other}"))),
        }
    }

    async fn queue(&self) -> Result<Vec<QueueEntry>, StoreError> {
        self.live_records(self.keys.queue(), |_: &QueueEntry| None).await
    }

    async fn assignments(&self) -> Result<Vec<Assignment>, StoreError> {
        let keys = self.keys.clone();
        self.live_records(self.keys.assignments(), move |a: &Assignment| Some(keys.agent_chats(&a.agent_id))).await
    }

    /// One HGET; an assignment whose conversation expired is pruned by [`Self::live_records`],
    /// and whatever it guards then fails on the conversation itself.
    async fn assignment(&self, id: ConversationId) -> Result<Option<Assignment>, StoreError> {
        let json: Option<String> =
            self.conn().hget(self.keys.assignments(), id.to_string()).await.map_err(unavailable)?;
        json.map(|json| from_json(&json)).transpose()
    }

    async fn mark_answered(&self, id: ConversationId) -> Result<(), StoreError> {
        let mut call = self.scripts.mark_answered.key(self.keys.assignments());
        call.arg(id.to_string());
        let _: i64 = call.invoke_async(&mut self.conn()).await.map_err(unavailable)?;
        Ok(())
    }

    async fn record_pickup(&self, site: &str, wait_secs: u32) -> Result<(), StoreError> {
        self.push_bounded(self.keys.pickups(site), wait_secs.to_string(), PICKUPS_KEPT).await
    }

    async fn pickups(&self, site: &str) -> Result<Vec<u32>, StoreError> {
        self.conn().lrange(self.keys.pickups(site), 0, -1).await.map_err(unavailable)
    }

    async fn add_left_message(&self, message: LeftMessage) -> Result<(), StoreError> {
        self.push_bounded(self.keys.left_messages(), to_json(&message), LEFT_MESSAGES_KEPT).await
    }

    async fn left_messages(&self) -> Result<Vec<LeftMessage>, StoreError> {
        let all: Vec<String> = self.conn().lrange(self.keys.left_messages(), 0, -1).await.map_err(unavailable)?;
        all.iter().map(|json| from_json(json)).collect()
    }

    async fn mark_left_handled(&self, id: ConversationId, mark: Option<HandledMark>) -> Result<usize, StoreError> {
        let script = ::redis::Script::new(include_str!("mark_left.lua"));
        let mut call = script.key(self.keys.left_messages());
        call.arg(id.to_string()).arg(mark.as_ref().map(to_json).unwrap_or_default());
        call.invoke_async(&mut self.conn()).await.map_err(unavailable)
    }
}

#[async_trait]
impl AgentPresence for RedisStore {
    async fn set_presence(&self, agent_id: &str, presence: Option<Presence>) -> Result<(), StoreError> {
        let key = self.keys.presence();
        let mut pipe = ::redis::pipe();
        match presence {
            Some(presence) => pipe.hset(&key, agent_id, to_json(&presence)).ignore().expire(&key, PRESENCE_TTL_SECS),
            None => pipe.hdel(&key, agent_id),
        };
        let _: () = pipe.ignore().query_async(&mut self.conn()).await.map_err(unavailable)?;
        Ok(())
    }

    async fn presence(&self) -> Result<BTreeMap<String, Presence>, StoreError> {
        let all: HashMap<String, String> = self.conn().hgetall(self.keys.presence()).await.map_err(unavailable)?;
        all.into_iter().map(|(agent, json)| Ok((agent, from_json(&json)?))).collect()
    }
}

impl RedisStore {
    /// The `transition.lua` call for one transition (its KEYS and ARGV are documented there).
    fn transition_call(
        &self,
        id: ConversationId,
        transition: &Transition,
        at: DateTime<Utc>,
    ) -> ::redis::ScriptInvocation<'_> {
        let mut call = self.scripts.transition.prepare_invoke();
        for key in self.keys.conversation(id) {
            call.key(key);
        }
        call.key(self.keys.queue()).key(self.keys.assignments());
        if let Some(assign) = &transition.assign {
            call.key(self.keys.agent_chats(&assign.agent_id));
        }
        let from = transition.from.iter().map(records::name).collect::<Vec<_>>().join(",");
        let change = change_of(&transition.event);
        // A `state` event always has a change (the caller checked it is one).
        let new_state = change.as_ref().map(|c| records::name(&c.state)).unwrap_or_default();
        let audience = if transition.event.is_agent_only() { Audience::Agents } else { Audience::Everyone };
        let (before, after) = records::event_header(audience, change.as_ref());
        let (queue_op, entry) = match &transition.queue {
            QueueChange::Keep => ("keep", String::new()),
            QueueChange::Remove => ("remove", String::new()),
            QueueChange::Add(entry) => ("add", to_json(&QueueEntry { conversation_id: id, ..entry.clone() })),
        };
        let assigning = self.assign_args(id, transition.assign.as_ref(), at);
        let (meta_before, meta_after) = self.keys.meta_parts();
        let (chats_before, chats_after) = self.keys.agent_chats_parts();
        call.arg(id.to_string()).arg(from).arg(transition.holder.as_deref().unwrap_or(""));
        call.arg(assigning.agent_id).arg(assigning.max_chats).arg(if transition.unassign { "1" } else { "0" });
        call.arg(queue_op).arg(entry).arg(assigning.assignment).arg(self.max_events);
        call.arg(records::json_after_seq(id, at, &transition.event)).arg(new_state);
        call.arg(self.keys.channel(&Topic::Conversation(id))).arg(before).arg(after);
        call.arg(assigning.channel).arg(assigning.payload).arg(self.retention_secs).arg(at.timestamp());
        call.arg(meta_before).arg(meta_after).arg(chats_before).arg(chats_after);
        call.arg(self.keys.archive_feed()).arg(at.timestamp_millis());
        call
    }

    /// What `transition.lua` is given about the agent to assign (all empty for none).
    fn assign_args(&self, id: ConversationId, assign: Option<&Assign>, at: DateTime<Utc>) -> AssignArgs {
        let Some(Assign { agent_id, max_chats }) = assign else { return AssignArgs::default() };
        let assignment = Assignment { agent_id: agent_id.clone(), conversation_id: id, since: at, answered: false };
        AssignArgs {
            agent_id: agent_id.clone(),
            max_chats: *max_chats,
            assignment: to_json(&assignment),
            channel: self.keys.channel(&Topic::Agent(agent_id.clone())),
            payload: records::payload(&Delivery::assigned(agent_id, id)),
        }
    }

    /// The records of a hash whose conversations still exist; prunes those of expired ones,
    /// and removes each pruned record's conversation from the set `index` names for it.
    async fn live_records<T: DeserializeOwned>(
        &self,
        hash: String,
        index: impl Fn(&T) -> Option<String>,
    ) -> Result<Vec<T>, StoreError> {
        let mut conn = self.conn();
        let all = self.scan_hash(&hash).await?;
        if all.is_empty() {
            return Ok(Vec::new());
        }
        let all: Vec<(String, String)> = all.into_iter().collect();
        let exists = self.exist(all.iter().map(|(id, _)| id.as_str())).await?;
        let mut live = Vec::new();
        let mut prune = ::redis::pipe();
        prune.atomic();
        let mut gone = 0;
        for ((id, json), exists) in all.into_iter().zip(exists) {
            if exists {
                live.push(from_json(&json)?);
                continue;
            }
            gone += 1;
            prune.hdel(&hash, &id).ignore();
            // An unreadable record of an expired conversation is pruned all the same.
            if let Some(set) = from_json::<T>(&json).ok().as_ref().and_then(&index) {
                prune.srem(set, &id).ignore();
            }
        }
        if gone > 0 {
            tracing::info!(pruned = gone, hash, "records of expired conversations removed");
            let _: () = prune.query_async(&mut conn).await.map_err(unavailable)?;
        }
        Ok(live)
    }

    /// Every field of a hash, read in pages of [`SCAN_PAGE`] (HSCAN): many small replies cost
    /// the client linear work where one reply of ten thousand fields costs far more. A field
    /// present for the whole scan is read exactly once; one written meanwhile may or may not be.
    async fn scan_hash(&self, hash: &str) -> Result<HashMap<String, String>, StoreError> {
        let mut all = HashMap::new();
        let mut cursor = 0u64;
        loop {
            let (next, page): (u64, Vec<(String, String)>) = ::redis::cmd("HSCAN")
                .arg(hash)
                .arg(cursor)
                .arg("COUNT")
                .arg(SCAN_PAGE)
                .query_async(&mut self.conn())
                .await
                .map_err(unavailable)?;
            all.extend(page);
            if next == 0 {
                return Ok(all);
            }
            cursor = next;
        }
    }

    /// Whether each conversation still exists, in order: EXISTS in pipelines of
    /// [`EXISTS_BATCH`] sent together, so the cost stays linear in the count (one pipeline
    /// of ten thousand commands is far slower than forty of 250).
    async fn exist(&self, ids: impl Iterator<Item = &str>) -> Result<Vec<bool>, StoreError> {
        let metas = ids.map(|id| Ok(self.keys.meta(records::conversation_id(id)?))).collect::<Result<Vec<_>, _>>()?;
        let batches = metas.chunks(EXISTS_BATCH).map(|batch| {
            let mut pipe = ::redis::pipe();
            for meta in batch {
                pipe.exists(meta);
            }
            let mut conn = self.conn();
            async move { pipe.query_async::<Vec<bool>>(&mut conn).await.map_err(unavailable) }
        });
        Ok(futures_util::future::try_join_all(batches).await?.concat())
    }

    /// Pushes onto a list and keeps only its newest `kept` items, in one transaction.
    async fn push_bounded(&self, list: String, value: String, kept: usize) -> Result<(), StoreError> {
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

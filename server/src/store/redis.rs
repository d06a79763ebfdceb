//! The shared store: many Baton nodes on one Redis behave as one service behind any load
//! balancer, with no sticky sessions.
//!
//! # Key layout
//! Every name starts with the namespace (`store.namespace`, `baton` by default). A
//! conversation's keys carry its id in a hash tag, so Redis Cluster keeps them in one slot
//! and one script may touch them all:
//!
//! | key | type | holds |
//! |---|---|---|
//! | `{ns}:c:{<id>}:meta` | hash | `site`, `state`, `last_seq`, `created_at`, `visitor` (JSON), `token_hash`, `token_touched`, `n:<counter>`, `r:<record field>` (the record's JSON, see [`crate::records`]; `a:` fields of older versions are ignored) |
//! | `{ns}:c:{<id>}:events` | list | event JSON; `seq` n at index n-1 |
//! | `{ns}:c:{<id>}:dedupe` | hash | idempotency key → the `seq` first stored |
//! | `{ns}:token:<sha256>` | string | the conversation id a resume token opens |
//! | `{ns}:queue` | hash | conversation id → queue entry JSON |
//! | `{ns}:assignments` | hash | conversation id → assignment JSON |
//! | `{ns}:agent:<agent id>:chats` | set | the conversation ids assigned to the agent (the capacity index) |
//! | `{ns}:presence` | hash | agent id → presence JSON (with its `until`) |
//! | `{ns}:pickups:<site>` | list | the newest [`PICKUPS_KEPT`] pickup waits, newest last |
//! | `{ns}:user:<site>:<sha256 of user id>` | sorted set | a verified visitor's conversation ids, scored by start (Unix ms), the newest [`crate::store::USER_CONVERSATIONS_KEPT`]; expires with the retention after the last link |
//! | `{ns}:left` | list | the newest [`LEFT_MESSAGES_KEPT`] left messages (JSON), newest last |
//! | `{ns}:allow:<key>` | hash | one shared token bucket: `t` tokens left, `at` when counted (Redis ms); expires once it would be full again (see [`crate::store::allowance`]); `charge.lua` may take it below zero |
//! | `{ns}:archive` | sorted set | unarchived conversation ids, scored by when each is next due (Unix ms); their change number is the meta field `arev` (see [`feed`]) |
//!
//! Pub/sub channels: `{ns}:t:c:{<id>}` (a conversation), `{ns}:t:agent:<id>`.
//! A payload carries the delivery's audience and [`crate::delivery::Kind`] in a small header
//! before the JSON (see [`records`] for the encoding), so a receiving node rebuilds the exact
//! [`Delivery`] without parsing the JSON.
//!
//! # Appending and transitions
//! Two Lua scripts write events. `append.lua` checks the idempotency key, the state
//! precondition and the bound, numbers the event (HINCRBY), stores it, refreshes the expiry
//! and PUBLISHes it. `transition.lua` does the same for a `state` event and, in the same
//! step, checks the holder and the agent's capacity (the `agent:<id>:chats` set, pruned of
//! expired conversations as it is read), sets the state, changes the queue entry and the
//! assignment (and the agents' chat sets with it), and PUBLISHes an `assigned` delivery on
//! the agent's channel. Redis runs one script at a time, so two agents on two nodes racing to
//! take a chat have exactly one winner, capacity holds across nodes, and every node receives
//! a conversation's events in `seq` order. The event's JSON is built here with everything but
//! the `seq`, which the scripts splice in front (`{"seq":N` + the rest), giving exactly
//! `serde_json::to_string(&Event)`. `at` is this node's clock (keep nodes on NTP); order is
//! always by `seq`.
//!
//! # Expiry
//! A conversation's keys expire `store.retention_hours` after its last write (every append,
//! transition, and counter or record change refreshes them). The token index expires with the
//! same retention and is refreshed by appends at most every half retention. Queue entries
//! and assignments of conversations that expired are pruned when the queue or the
//! assignments are read (and an agent's chats set with them), and by `transition.lua` when it
//! counts the agent's chats. Presence records carry their own `until`, which routing and the
//! janitor honour; the presence hash itself expires a day after its last write.
//!
//! # Delivery
//! A node subscribes only to the channels of topics its own sockets follow (the hub's
//! watcher tells [`listener`]), and hands what arrives to the hub; see [`listener`] for
//! reconnects and catch-up.
//!
//! # When Redis is unreachable
//! Every failure is [`StoreError::Unavailable`]: a frame is answered `error unavailable` and
//! nothing is acknowledged that was not stored. `/readyz` answers 503 while a PING fails or
//! the pub/sub link is down. The connection manager reconnects on its own (a probe task keeps
//! it trying while idle), so service returns by itself when Redis does. A node also starts
//! when Redis is down, serving 503 on `/readyz` until it is reachable.
//!
//! # TLS
//! A `rediss://` URL speaks TLS (rustls) on the command connection and the pub/sub link
//! alike, checking the server's certificate against `store.redis_ca_file` when set, else the
//! system's roots (see [`connection`]).
//!
//! # Redis Cluster
//! With `store.redis_cluster`, `store.redis_url` names one or more nodes of a Redis Cluster
//! (comma-separated) and the namespace becomes the hash tag of every name (`{baton}:c:{<id>}:meta`
//! hashes by `baton`), so all of a deployment's keys share one slot: `transition.lua`, which
//! spans the conversation, `queue`, `assignments` and agents' chat sets and reads other
//! conversations' meta keys, runs as it does on one Redis. The cluster then gives failover and
//! a managed Redis's interface, not spread: one master carries a deployment (several
//! deployments, each its own namespace, spread over the masters). `/readyz` pings the master
//! of that slot only. See [`connection`] for the pub/sub link.

mod allowance;
mod connection;
mod erase;
mod feed;
mod handoff;
mod idle;
mod keys;
mod listener;
mod records;
mod visitors;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ::redis::{AsyncCommands, RedisError, Script};
use anyhow::Context;
use async_trait::async_trait;
use chrono::Utc;
use secrecy::ExposeSecret;
use tokio_util::sync::CancellationToken;

use self::connection::Conn;
use self::keys::Keys;
use self::records::from_json;
use super::{
    Appended, Conversation, Counter, Deliver, Delivery, EventDraft, EventLog, NewConversation, PubSub, StoreError,
};
#[cfg(doc)]
use super::{LEFT_MESSAGES_KEPT, PICKUPS_KEPT};
use crate::config::StoreSettings;
use crate::delivery::{Interest, Watcher};
use crate::protocol::{ConversationId, Event, State};
use crate::records::Record;

/// While idle, the connection is probed this often, so it reconnects before anyone needs it.
const PROBE_EVERY: Duration = Duration::from_secs(1);

/// The Lua scripts; `Script` sends EVALSHA and loads a script again after a Redis restart.
struct Scripts {
    append: Script,
    transition: Script,
    update: Script,
    mark_answered: Script,
    claim_turn: Script,
    allowance: Script,
    charge: Script,
}

pub struct RedisStore {
    /// Multiplexed and cloneable; commands from every task share one connection.
    conn: Conn,
    keys: Keys,
    scripts: Scripts,
    feed_scripts: feed::FeedScripts,
    max_events: u64,
    retention_secs: u64,
    /// Where the hub's watcher sends what this node follows (to the [`listener`] task).
    changes: listener::Changes,
    /// The pub/sub link is connected and subscribed to everything followed.
    linked: Arc<AtomicBool>,
    /// Stops the background tasks when the store is dropped.
    stop: CancellationToken,
}

impl Drop for RedisStore {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

impl RedisStore {
    /// Connects to `settings.redis_url` and starts the pub/sub listener, handing deliveries
    /// to `deliver`. An unreachable Redis is not an error (the node starts, not ready); a bad
    /// URL is.
    pub async fn connect(settings: &StoreSettings, deliver: Deliver) -> anyhow::Result<RedisStore> {
        let url = settings.redis_url.as_ref().context("store.redis_url is not set")?;
        let keys = Keys::new(&settings.namespace, settings.redis_cluster);
        let connection::Opened { conn, pubsub } = connection::open(settings, url.expose_secret(), &keys.ready_probe())?;
        let stop = CancellationToken::new();
        let (changes, linked) = listener::spawn(pubsub, conn.clone(), keys.clone(), deliver, stop.clone());
        let store = RedisStore {
            conn,
            keys,
            scripts: Scripts {
                append: Script::new(concat!(include_str!("redis/event.lua"), include_str!("redis/append.lua"))),
                transition: Script::new(concat!(include_str!("redis/event.lua"), include_str!("redis/transition.lua"))),
                update: Script::new(concat!(include_str!("redis/event.lua"), include_str!("redis/update.lua"))),
                mark_answered: Script::new(include_str!("redis/mark_answered.lua")),
                claim_turn: Script::new(include_str!("redis/claim_turn.lua")),
                allowance: Script::new(include_str!("redis/allowance.lua")),
                charge: Script::new(include_str!("redis/charge.lua")),
            },
            feed_scripts: feed::FeedScripts::new(),
            max_events: settings.max_events_per_conversation,
            retention_secs: settings.retention_hours.saturating_mul(3600).max(1),
            changes,
            linked,
            stop,
        };
        store.spawn_probe();
        match store.ping_redis().await {
            Ok(()) => {
                tracing::info!(namespace = %settings.namespace, cluster = settings.redis_cluster, "store: redis");
                store.check_eviction_policy().await;
            }
            Err(error) => {
                tracing::warn!(%error, "store: redis unreachable at start; /readyz answers 503 until it is back")
            }
        }
        Ok(store)
    }

    /// The hub's watcher: what this node's sockets follow is what its pub/sub link subscribes to.
    pub fn watcher(&self) -> Watcher {
        let changes = self.changes.clone();
        Arc::new(move |topic, interest: Interest| {
            // The listener ends only with the store; a send after that has nobody to tell.
            let _ = changes.send((topic.clone(), interest));
        })
    }

    fn spawn_probe(&self) {
        let mut conn = self.conn.clone();
        let stop = self.stop.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(PROBE_EVERY);
            loop {
                tokio::select! {
                    () = stop.cancelled() => return,
                    _ = tick.tick() => {}
                }
                let _ = conn.ping().await;
            }
        });
    }

    async fn ping_redis(&self) -> Result<(), StoreError> {
        self.conn().ping().await.map_err(unavailable)
    }

    /// A small write that expires by itself: a Redis that refuses writes (`OOM` under
    /// `noeviction` at `maxmemory`, a read-only replica) is not ready, though it answers PING.
    async fn probe_write(&self) -> Result<(), StoreError> {
        let _: () =
            self.conn().set_ex(self.keys.ready_probe(), Utc::now().timestamp(), 60).await.map_err(unavailable)?;
        Ok(())
    }

    /// Warns, loudly, unless Redis is set never to evict (`maxmemory-policy noeviction`): an
    /// evicting Redis drops live conversations, tokens and queue entries under memory
    /// pressure instead of refusing new writes (see docs/scaling.md).
    async fn check_eviction_policy(&self) {
        let answer: Result<Vec<String>, _> =
            ::redis::cmd("CONFIG").arg("GET").arg("maxmemory-policy").query_async(&mut self.conn()).await;
        match answer.as_deref() {
            Ok([_, policy]) if policy == "noeviction" => tracing::info!("redis maxmemory-policy is noeviction"),
            Ok([_, policy]) => tracing::error!(
                policy = %policy,
                "REDIS EVICTS KEYS: maxmemory-policy is not noeviction, so under memory pressure Redis deletes live \
                 conversations, resume tokens and queue entries. Set `maxmemory-policy noeviction` (docs/scaling.md)"
            ),
            Ok(_) | Err(_) => tracing::warn!(
                "could not read redis maxmemory-policy (CONFIG may be disabled); make sure it is noeviction \
                 (docs/scaling.md)"
            ),
        }
    }

    /// Pushes the token index's expiry on. The event is stored whatever happens here: a
    /// failure is only logged (the token keeps its older expiry, half a retention away or more).
    async fn keep_token(&self, token_hash: &str) {
        let retention = i64::try_from(self.retention_secs).unwrap_or(i64::MAX);
        let refreshed: Result<bool, _> = self.conn().expire(self.keys.token(token_hash), retention).await;
        if let Err(error) = refreshed {
            tracing::warn!(%error, "resume token expiry not refreshed");
        }
    }

    /// The connection for one round trip (a command, a script or a pipeline): each call is
    /// counted in `baton_redis_round_trips_total`.
    fn conn(&self) -> Conn {
        crate::telemetry::metrics::hot().redis_round_trips.increment(1);
        self.conn.clone()
    }

    async fn update(&self, id: ConversationId, op: &str, field: String, value: String) -> Result<i64, StoreError> {
        let mut call = self.scripts.update.prepare_invoke();
        for key in self.keys.conversation(id) {
            call.key(key);
        }
        call.arg(op).arg(field).arg(value).arg(self.retention_secs);
        call.arg(self.keys.archive_feed()).arg(id.to_string()).arg(Utc::now().timestamp_millis());
        let result: Option<i64> = call.invoke_async(&mut self.conn()).await.map_err(unavailable)?;
        result.ok_or(StoreError::NotFound)
    }

    async fn read_events(&self, id: ConversationId, start: isize, stop: isize) -> Result<Vec<Arc<Event>>, StoreError> {
        let (exists, page): (bool, Vec<String>) = ::redis::pipe()
            .exists(self.keys.meta(id))
            .lrange(self.keys.events(id), start, stop)
            .query_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        if !exists {
            return Err(StoreError::NotFound);
        }
        page.iter().map(|json| from_json(json).map(Arc::new)).collect()
    }
}

fn unavailable(error: RedisError) -> StoreError {
    StoreError::Unavailable(error.to_string())
}

#[async_trait]
impl EventLog for RedisStore {
    async fn create_conversation(&self, new: NewConversation) -> Result<Conversation, StoreError> {
        let now = Utc::now();
        let meta = self.keys.meta(new.id);
        let fields = records::new_meta(&new, now);
        // Provisional until the visitor writes (see `append.lua`): kept briefly.
        let provisional = super::PROVISIONAL.as_secs().min(self.retention_secs);
        let mut fields = fields;
        fields.retain(|(name, _)| *name != "provisional_ttl");
        fields.push(("provisional_ttl", provisional.to_string()));
        // The conversation first, then its token: a token never names a missing conversation.
        // Not in the archive feed yet: a provisional conversation joins it when the visitor
        // writes (see `store::feed` and `event.lua`).
        let _: () = ::redis::pipe()
            .atomic()
            .hset_multiple(&meta, &fields)
            .ignore()
            .expire(&meta, i64::try_from(provisional).unwrap_or(i64::MAX))
            .ignore()
            .set_ex(self.keys.token(&new.token_hash), new.id.to_string(), provisional)
            .ignore()
            .query_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        Ok(Conversation {
            id: new.id,
            site: new.site,
            state: State::Bot,
            last_seq: 0,
            created_at: now,
            visitor: new.visitor,
            counters: Default::default(),
            records: Default::default(),
        })
    }

    async fn conversation(&self, id: ConversationId) -> Result<Option<Conversation>, StoreError> {
        let fields: HashMap<String, String> = self.conn().hgetall(self.keys.meta(id)).await.map_err(unavailable)?;
        records::conversation(id, fields)
    }

    async fn conversation_by_token(&self, token_hash: &str) -> Result<Option<Conversation>, StoreError> {
        let id: Option<String> = self.conn().get(self.keys.token(token_hash)).await.map_err(unavailable)?;
        let Some(id) = id else { return Ok(None) };
        self.conversation(records::conversation_id(&id)?).await
    }

    async fn state(&self, id: ConversationId) -> Result<Option<State>, StoreError> {
        let name: Option<String> = self.conn().hget(self.keys.meta(id), "state").await.map_err(unavailable)?;
        name.map(|name| records::from_name(&name)).transpose()
    }

    async fn append(&self, id: ConversationId, draft: EventDraft) -> Result<Appended, StoreError> {
        if super::misplaced_state_change(&draft.body, true) {
            let state = self.state(id).await?.ok_or(StoreError::NotFound)?;
            return Ok(Appended::Refused { state });
        }
        let at = Utc::now();
        let tail = records::json_after_seq(id, at, &draft.body);
        let expect = draft.expect.unwrap_or_default().iter().map(records::name).collect::<Vec<_>>().join(",");
        let audience = if draft.body.is_agent_only() { super::Audience::Agents } else { super::Audience::Everyone };
        let (header, _) = records::event_header(audience, None);
        let mut call = self.scripts.append.prepare_invoke();
        for key in self.keys.conversation(id) {
            call.key(key);
        }
        call.arg(draft.dedupe.as_deref().unwrap_or(""))
            .arg(expect)
            .arg(self.max_events)
            .arg(tail)
            .arg(self.keys.channel(&super::Topic::Conversation(id)))
            .arg(header)
            .arg(self.retention_secs)
            .arg(at.timestamp())
            .arg(if super::keeps_conversation(&draft.body) { "1" } else { "0" })
            .arg(self.keys.archive_feed())
            .arg(id.to_string())
            .arg(at.timestamp_millis());
        let (kind, value, token, state): (String, String, String, String) =
            call.invoke_async(&mut self.conn()).await.map_err(unavailable)?;
        let number = || value.parse::<u64>().map_err(|_| records::corrupt("append returned no seq"));
        match kind.as_str() {
            "new" => {
                if !token.is_empty() {
                    self.keep_token(&token).await;
                }
                let event = Arc::new(Event { seq: number()?, conversation_id: id, at, body: draft.body });
                Ok(Appended::New { event, state: records::from_name(&state)? })
            }
            "dup" => Ok(Appended::Duplicate { seq: number()? }),
            "refused" => Ok(Appended::Refused { state: records::from_name(&value)? }),
            "full" => Err(StoreError::Full(self.max_events)),
            "missing" => Err(StoreError::NotFound),
            other => Err(records::corrupt(format!("append answered {other}"))),
        }
    }

    async fn events_after(&self, id: ConversationId, after: u64, limit: usize) -> Result<Vec<Arc<Event>>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let start = isize::try_from(after).unwrap_or(isize::MAX);
        let stop = start.saturating_add(isize::try_from(limit).unwrap_or(isize::MAX) - 1);
        self.read_events(id, start, stop).await
    }

    async fn recent_events(&self, id: ConversationId, limit: usize) -> Result<Vec<Arc<Event>>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let start = isize::try_from(limit).map_or(0, |limit| -limit);
        self.read_events(id, start, -1).await
    }

    async fn incr(&self, id: ConversationId, counter: Counter, by: i64) -> Result<i64, StoreError> {
        self.update(id, "incr", records::counter_field(counter), by.to_string()).await
    }

    async fn set_record(&self, id: ConversationId, record: Record) -> Result<(), StoreError> {
        self.update(id, "set", records::record_field(record.field()), record.to_json()).await.map(drop)
    }

    async fn claim_turn(&self, id: ConversationId, seq: u64, claimant: &str) -> Result<bool, StoreError> {
        let mut call = self.scripts.claim_turn.prepare_invoke();
        call.key(self.keys.meta(id)).arg(seq).arg(claimant);
        let claimed: i64 = call.invoke_async(&mut self.conn()).await.map_err(unavailable)?;
        match claimed {
            -1 => Err(StoreError::NotFound),
            claimed => Ok(claimed == 1),
        }
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.ping_redis().await?;
        self.probe_write().await?;
        if !self.linked.load(Ordering::SeqCst) {
            return Err(StoreError::Unavailable("the pub/sub link is down".into()));
        }
        Ok(())
    }
}

#[async_trait]
impl PubSub for RedisStore {
    async fn deliver(&self, delivery: Delivery) -> Result<(), StoreError> {
        let payload = records::payload(&delivery);
        let _: i64 = self.conn().publish(self.keys.channel(&delivery.topic), payload).await.map_err(unavailable)?;
        Ok(())
    }
}

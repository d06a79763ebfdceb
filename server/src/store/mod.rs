//! Where conversations and their events live, and how events travel to the sockets that
//! follow them.
//!
//! # Contract (every implementation keeps it; one contract test suite checks it)
//! - **Numbering**: `append` gives each event of a conversation the next `seq` (1, 2, 3, …,
//!   no gaps), and stores it before anyone can see it.
//! - **Idempotency**: an append whose `dedupe` key the conversation has seen before stores
//!   nothing and answers [`Appended::Duplicate`] with the first event's `seq`.
//! - **Preconditions**: an append with `expect` is refused ([`Appended::Refused`]) unless the
//!   conversation's state is one of them, checked atomically with the append, so two agents
//!   racing to take one chat have exactly one winner, whichever node each is on.
//! - **State**: appending a `state` event sets the conversation's state in the same step.
//! - **Delivery order**: events are handed to the [`Deliver`] sink in `seq` order per
//!   conversation, on every node that follows it; ephemeral frames from `publish` are handed
//!   over too, but are neither stored nor numbered.
//! - **Bounds**: a conversation holds at most `max_events_per_conversation` events; past it,
//!   appends fail with [`StoreError::Full`]. Idle conversations expire after the retention.

pub mod memory;

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::protocol::{ConversationId, Ephemeral, Event, EventBody, Page, State};

/// Counters kept per conversation (atomic increments).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Counter {
    /// Bot replies that failed (timeout, model error, broken stream): the `bot_error` signal.
    BotErrors,
    /// Bot replies completed.
    BotTurns,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Conversation {
    pub id: ConversationId,
    pub site: String,
    pub state: State,
    pub last_seq: u64,
    pub created_at: DateTime<Utc>,
    pub visitor: Visitor,
    #[serde(default)]
    pub counters: BTreeMap<Counter, i64>,
    /// Small JSON values other modules keep per conversation (the escalation policy's state,
    /// the last signals), written whole with [`Store::set_attr`].
    #[serde(default)]
    pub attrs: BTreeMap<String, serde_json::Value>,
}

impl Conversation {
    pub fn counter(&self, counter: Counter) -> i64 {
        self.counters.get(&counter).copied().unwrap_or(0)
    }
}

/// What the visitor told us about themselves in `hello`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Visitor {
    pub locale: Option<String>,
    pub page: Option<Page>,
}

pub struct NewConversation {
    pub id: ConversationId,
    pub site: String,
    /// SHA-256 of the visitor's resume token: the token itself is never stored.
    pub token_hash: String,
    pub visitor: Visitor,
}

pub struct EventDraft {
    pub body: EventBody,
    /// Idempotency key, e.g. `v:<client_id>` for a visitor message.
    pub dedupe: Option<String>,
    /// Refuse the append unless the conversation is in one of these states.
    pub expect: Option<&'static [State]>,
}

impl EventDraft {
    pub fn new(body: EventBody) -> EventDraft {
        EventDraft { body, dedupe: None, expect: None }
    }
    pub fn dedupe(mut self, key: String) -> EventDraft {
        self.dedupe = Some(key);
        self
    }
    pub fn expect(mut self, states: &'static [State]) -> EventDraft {
        self.expect = Some(states);
        self
    }
}

#[derive(Clone, Debug)]
pub enum Appended {
    New(Arc<Event>),
    Duplicate { seq: u64 },
    Refused { state: State },
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("conversation not found")]
    NotFound,
    #[error("conversation is full ({0} events)")]
    Full(u64),
    #[error("store unavailable: {0}")]
    Unavailable(String),
}

/// Who may see a delivered frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Audience {
    Everyone,
    /// Internal notes: agents only.
    Agents,
}

/// One frame on its way to the sockets that follow a conversation. The JSON is made once and
/// shared by every socket.
#[derive(Clone, Debug)]
pub struct Delivery {
    pub conversation_id: ConversationId,
    /// `Some` for stored events, so a socket can drop what it already replayed.
    pub seq: Option<u64>,
    pub json: Arc<str>,
    pub audience: Audience,
}

impl Delivery {
    pub fn event(event: &Event) -> Delivery {
        let audience = if event.body.is_agent_only() { Audience::Agents } else { Audience::Everyone };
        // unwrap: an Event is plain data (strings, numbers, enums) and always serialises.
        let json = serde_json::to_string(event).expect("events serialise");
        Delivery { conversation_id: event.conversation_id, seq: Some(event.seq), json: json.into(), audience }
    }

    pub fn ephemeral(conversation_id: ConversationId, frame: &Ephemeral) -> Delivery {
        // unwrap: ephemeral frames are plain data and always serialise.
        let json = serde_json::to_string(frame).expect("frames serialise");
        Delivery { conversation_id, seq: None, json: json.into(), audience: Audience::Everyone }
    }
}

/// The sink a store hands deliveries to (the hub, on each node). Called in `seq` order per
/// conversation; must not block.
pub type Deliver = Arc<dyn Fn(Delivery) + Send + Sync>;

#[async_trait]
pub trait Store: Send + Sync + 'static {
    async fn create_conversation(&self, new: NewConversation) -> Result<Conversation, StoreError>;
    async fn conversation(&self, id: ConversationId) -> Result<Option<Conversation>, StoreError>;
    async fn conversation_by_token(&self, token_hash: &str) -> Result<Option<Conversation>, StoreError>;
    /// Numbers, stores and then delivers one event (see the contract above).
    async fn append(&self, id: ConversationId, draft: EventDraft) -> Result<Appended, StoreError>;
    /// Events with `seq > after`, oldest first, at most `limit`.
    async fn events_after(&self, id: ConversationId, after: u64, limit: usize) -> Result<Vec<Arc<Event>>, StoreError>;
    /// The newest `limit` events, oldest first (prompt context, summaries).
    async fn recent_events(&self, id: ConversationId, limit: usize) -> Result<Vec<Arc<Event>>, StoreError>;
    /// Delivers an ephemeral frame to every node's followers of the conversation.
    async fn publish(&self, id: ConversationId, frame: &Ephemeral) -> Result<(), StoreError>;
    async fn incr(&self, id: ConversationId, counter: Counter, by: i64) -> Result<i64, StoreError>;
    async fn set_attr(&self, id: ConversationId, key: &str, value: serde_json::Value) -> Result<(), StoreError>;
    /// Cheap reachability check for `/readyz`.
    async fn ping(&self) -> Result<(), StoreError>;
}

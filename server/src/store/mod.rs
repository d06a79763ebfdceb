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
//! - **Handoff records** (queue entries, assignments, presence, pickup times, left messages)
//!   are plain records, each written whole. What must be atomic across nodes (taking a
//!   queued chat) goes through an `append` with `expect`; these records follow it.
//!   Pickup times keep the newest [`PICKUPS_KEPT`] per site, left messages the newest
//!   [`LEFT_MESSAGES_KEPT`].

pub mod memory;
pub mod redis;

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::protocol::{ConversationId, Ephemeral, Event, EventBody, Page, Reason, State};

/// Recent pickup waits kept per site for the queue's wait estimate.
pub const PICKUPS_KEPT: usize = 50;
/// Messages left for the team that are kept for agents to see.
pub const LEFT_MESSAGES_KEPT: usize = 200;

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
    /// Stored and numbered; `state` is the conversation's state right after this event (so a
    /// caller that branches on it needs no second read).
    New {
        event: Arc<Event>,
        state: State,
    },
    Duplicate {
        seq: u64,
    },
    Refused {
        state: State,
    },
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

/// What a socket follows: a conversation, the frames for every agent (queue snapshots, new
/// escalations), or the frames for one agent (assignments).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Topic {
    Conversation(ConversationId),
    Agents,
    Agent(String),
}

/// One frame on its way to the sockets that follow a topic. The JSON is made once and shared
/// by every socket.
#[derive(Clone, Debug)]
pub struct Delivery {
    pub topic: Topic,
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
        Delivery {
            topic: Topic::Conversation(event.conversation_id),
            seq: Some(event.seq),
            json: json.into(),
            audience,
        }
    }

    pub fn ephemeral(conversation_id: ConversationId, frame: &Ephemeral) -> Delivery {
        Delivery::frame(Topic::Conversation(conversation_id), frame)
    }

    /// Any other frame (agent frames) to a topic.
    pub fn frame<T: Serialize>(topic: Topic, frame: &T) -> Delivery {
        // unwrap: protocol frames are plain data and always serialise.
        let json = serde_json::to_string(frame).expect("frames serialise");
        Delivery { topic, seq: None, json: json.into(), audience: Audience::Everyone }
    }
}

/// The sink a store hands deliveries to (the hub, on each node). Called in `seq` order per
/// conversation; must not block.
pub type Deliver = Arc<dyn Fn(Delivery) + Send + Sync>;

/// A conversation waiting for a person.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QueueEntry {
    pub conversation_id: ConversationId,
    pub site: String,
    /// The team that should take it (`None`: anyone).
    pub team: Option<String>,
    pub reason: Reason,
    /// 0-9, higher first.
    pub priority: u8,
    pub waiting_since: DateTime<Utc>,
    /// Given back by an agent who left or did not answer: ahead of its priority peers.
    #[serde(default)]
    pub returned: bool,
}

pub use crate::protocol::agent::{AgentStatus, LeftMessage};

/// An agent is present while `until` is in the future; connected sockets keep pushing it on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Presence {
    pub status: AgentStatus,
    pub until: DateTime<Utc>,
}

/// A conversation an agent has taken.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Assignment {
    pub agent_id: String,
    pub conversation_id: ConversationId,
    pub since: DateTime<Utc>,
    /// The agent has written to the visitor since taking it.
    pub answered: bool,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    async fn create_conversation(&self, new: NewConversation) -> Result<Conversation, StoreError>;
    async fn conversation(&self, id: ConversationId) -> Result<Option<Conversation>, StoreError>;
    async fn conversation_by_token(&self, token_hash: &str) -> Result<Option<Conversation>, StoreError>;
    /// Only the state: cheaper than [`Store::conversation`] on the per-message path.
    async fn state(&self, id: ConversationId) -> Result<Option<State>, StoreError>;
    /// Numbers, stores and then delivers one event (see the contract above).
    async fn append(&self, id: ConversationId, draft: EventDraft) -> Result<Appended, StoreError>;
    /// Events with `seq > after`, oldest first, at most `limit`.
    async fn events_after(&self, id: ConversationId, after: u64, limit: usize) -> Result<Vec<Arc<Event>>, StoreError>;
    /// The newest `limit` events, oldest first (prompt context, summaries).
    async fn recent_events(&self, id: ConversationId, limit: usize) -> Result<Vec<Arc<Event>>, StoreError>;
    /// Delivers a frame that is not stored to every node's followers of its topic.
    async fn deliver(&self, delivery: Delivery) -> Result<(), StoreError>;
    /// Delivers an ephemeral frame to every node's followers of the conversation.
    async fn publish(&self, id: ConversationId, frame: &Ephemeral) -> Result<(), StoreError> {
        self.deliver(Delivery::ephemeral(id, frame)).await
    }
    async fn incr(&self, id: ConversationId, counter: Counter, by: i64) -> Result<i64, StoreError>;
    async fn set_attr(&self, id: ConversationId, key: &str, value: serde_json::Value) -> Result<(), StoreError>;
    /// Cheap reachability check for `/readyz`.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Adds or replaces the queue entry of its conversation.
    async fn enqueue(&self, entry: QueueEntry) -> Result<(), StoreError>;
    async fn dequeue(&self, id: ConversationId) -> Result<Option<QueueEntry>, StoreError>;
    /// Every waiting conversation, in no particular order.
    async fn queue(&self) -> Result<Vec<QueueEntry>, StoreError>;
    /// Adds or replaces the assignment of its conversation.
    async fn assign(&self, assignment: Assignment) -> Result<(), StoreError>;
    async fn unassign(&self, id: ConversationId) -> Result<Option<Assignment>, StoreError>;
    async fn mark_answered(&self, id: ConversationId) -> Result<(), StoreError>;
    async fn assignments(&self) -> Result<Vec<Assignment>, StoreError>;
    /// The conversation's assignment, if an agent has it: who has a chat, in one small read.
    async fn assignment(&self, id: ConversationId) -> Result<Option<Assignment>, StoreError>;
    /// `None` removes the agent's presence.
    async fn set_presence(&self, agent_id: &str, presence: Option<Presence>) -> Result<(), StoreError>;
    async fn presence(&self) -> Result<BTreeMap<String, Presence>, StoreError>;
    /// Records how long a chat waited before a person took it.
    async fn record_pickup(&self, site: &str, wait_secs: u32) -> Result<(), StoreError>;
    /// The newest pickup waits of a site, newest last.
    async fn pickups(&self, site: &str) -> Result<Vec<u32>, StoreError>;
    async fn add_left_message(&self, message: LeftMessage) -> Result<(), StoreError>;
    /// The newest left messages, oldest first.
    async fn left_messages(&self) -> Result<Vec<LeftMessage>, StoreError>;
}

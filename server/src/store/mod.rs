//! The live layer: conversations and their numbered events, how events travel to the
//! sockets that follow them, the handoff records (queue, assignments, pickups, left
//! messages) and agents' presence.
//!
//! The seam is split by role, one trait each, with its contract written on it:
//! - [`EventLog`]: conversations, numbered events, counters and records.
//! - [`PubSub`]: frames that are not stored, to every node's followers of a topic.
//! - [`Handoff`]: the queue, assignments, pickups, left messages, and the atomic
//!   [`Handoff::transition`] that is the only way a conversation changes hands.
//! - [`AgentPresence`]: who is signed in, and until when.
//! - [`VisitorIndex`]: a verified visitor's conversations per site (their history).
//! - [`feed::ArchiveFeed`]: which conversations have changes the archive has not copied.
//! - [`allowance::Allowances`]: token buckets every node shares (cluster-wide limits).
//! - [`idle::IdleWatch`]: which conversations the inactivity rules look at next.
//!
//! Two backends implement them all: [`memory::MemoryStore`] (the embedded default: one
//! process) and [`redis::RedisStore`] (many nodes behind any load balancer). One contract
//! suite per trait runs on both (`tests/api/store_contract/`). [`Stores`] hands each
//! part of the server the roles it uses, all backed by one store and measured the same way
//! ([`metered`]).

pub mod allowance;
pub mod erase;
pub mod feed;
pub mod idle;
pub mod memory;
pub mod metered;
pub mod redis;
pub mod visitors;

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use crate::delivery::{Audience, Deliver, Delivery, Topic};
pub use crate::protocol::agent::{AgentStatus, HandledMark, LeftMessage};
use crate::protocol::{ConversationId, Ephemeral, Event, EventBody, Page, Reason, State};
use crate::records::{Record, Records};
pub use visitors::{USER_CONVERSATIONS_KEPT, VisitorIndex};

/// Recent pickup waits kept per site for the queue's wait estimate.
pub const PICKUPS_KEPT: usize = 50;
/// Messages left for the team that are kept for agents to see.
pub const LEFT_MESSAGES_KEPT: usize = 200;
/// How long a provisional conversation is kept after its last write (see [`EventLog`]): a
/// `hello` alone must not hold storage for the whole retention.
pub const PROVISIONAL: std::time::Duration = std::time::Duration::from_secs(10 * 60);

/// Whether storing `body` makes a provisional conversation a real one: a visitor message,
/// or a change of state that brings people in.
pub fn keeps_conversation(body: &EventBody) -> bool {
    matches!(
        body,
        EventBody::Message { from: crate::protocol::Speaker::Visitor, .. }
            | EventBody::State { state: State::Queued | State::Agent, .. }
    )
}

/// Counters kept per conversation (atomic increments).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Counter {
    /// Bot replies that failed (timeout, model error, broken stream): the `bot_error` signal.
    BotErrors,
    /// Bot replies completed.
    BotTurns,
    /// Times the chat went back to the queue from an agent who left or did not answer (the
    /// visitor is told the first time only).
    Returns,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Conversation {
    pub id: ConversationId,
    pub site: String,
    pub state: State,
    pub last_seq: u64,
    pub created_at: DateTime<Utc>,
    pub visitor: Visitor,
    pub counters: BTreeMap<Counter, i64>,
    /// The typed facts kept beside the events (see [`crate::records`]).
    pub records: Records,
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

/// An event to append that is not a change of state (those go through
/// [`Handoff::transition`]).
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

/// The event log: conversations, their numbered events, counters and records.
///
/// # Contract
/// - **Numbering**: `append` (and [`Handoff::transition`]) gives each event of a
///   conversation the next `seq` (1, 2, 3, …, no gaps), and stores it before anyone can see
///   it; it is then delivered (see [`PubSub`]'s ordering).
/// - **Idempotency**: an append whose `dedupe` key the conversation has seen before stores
///   nothing and answers [`Appended::Duplicate`] with the first event's `seq`.
/// - **Preconditions**: an append with `expect` is refused ([`Appended::Refused`]) unless the
///   conversation's state is one of them, checked atomically with the append.
/// - **Bounds**: a conversation holds at most `max_events_per_conversation` events; past it,
///   appends fail with [`StoreError::Full`]. Idle conversations expire after the retention,
///   with their records, counters, token, queue entry and assignment.
/// - **Provisional conversations**: a new conversation is provisional until a visitor
///   message is appended to it or a transition takes it to `queued` or `agent`
///   ([`keeps_conversation`]); until then it expires [`PROVISIONAL`] after its last write
///   (the greeting included), so `hello`s alone cannot fill the store.
/// - **Turn claims**: [`EventLog::claim_turn`] lets exactly one caller judge each stored
///   visitor message, whichever attempt stored it.
/// - **Records and counters** are written whole (records) or added to atomically
///   (counters); writing either to a missing conversation is [`StoreError::NotFound`].
#[async_trait]
pub trait EventLog: Send + Sync + 'static {
    async fn create_conversation(&self, new: NewConversation) -> Result<Conversation, StoreError>;
    async fn conversation(&self, id: ConversationId) -> Result<Option<Conversation>, StoreError>;
    async fn conversation_by_token(&self, token_hash: &str) -> Result<Option<Conversation>, StoreError>;
    /// Only the state: cheaper than [`EventLog::conversation`] on the per-message path.
    async fn state(&self, id: ConversationId) -> Result<Option<State>, StoreError>;
    /// Numbers, stores and then delivers one event that is not a state change. A `state`
    /// body is refused ([`Appended::Refused`] with the current state, and an error logged):
    /// states change only through [`Handoff::transition`], with their handoff records.
    async fn append(&self, id: ConversationId, draft: EventDraft) -> Result<Appended, StoreError>;
    /// Events with `seq > after`, oldest first, at most `limit`.
    async fn events_after(&self, id: ConversationId, after: u64, limit: usize) -> Result<Vec<Arc<Event>>, StoreError>;
    /// The newest `limit` events, oldest first (prompt context, summaries).
    async fn recent_events(&self, id: ConversationId, limit: usize) -> Result<Vec<Arc<Event>>, StoreError>;
    async fn incr(&self, id: ConversationId, counter: Counter, by: i64) -> Result<i64, StoreError>;
    /// Writes one record whole, replacing the one of its kind.
    async fn set_record(&self, id: ConversationId, record: Record) -> Result<(), StoreError>;
    /// Claims the judging of visitor message `seq` for `claimant`: `true` unless a later
    /// message, or this one by another claimant, was claimed already (then `false`: someone
    /// else judges it, or a newer turn covers it). Claiming again with the same claimant is
    /// `true`, so a claimant whose answer was lost may retry.
    async fn claim_turn(&self, id: ConversationId, seq: u64, claimant: &str) -> Result<bool, StoreError>;
    /// Whether the store takes requests, writes included, for `/readyz`.
    async fn ping(&self) -> Result<(), StoreError>;
}

/// Frames to every node's followers of a topic.
///
/// # Contract
/// - **Order**: stored events are handed to each node's [`Deliver`] sink in `seq` order per
///   conversation, on every node that follows it (appends deliver them; nothing else does).
/// - **Frames** from `deliver` are neither stored nor numbered, and reach the followers a
///   node has when they arrive: at most once, and not at all to a node that is not
///   following the topic at that moment.
/// - A delivery's [`crate::delivery::Kind`] and audience arrive as they were sent.
#[async_trait]
pub trait PubSub: Send + Sync + 'static {
    /// Delivers a frame that is not stored to every node's followers of its topic.
    async fn deliver(&self, delivery: Delivery) -> Result<(), StoreError>;
    /// Delivers an ephemeral frame to every node's followers of the conversation.
    async fn publish(&self, id: ConversationId, frame: &Ephemeral) -> Result<(), StoreError> {
        self.deliver(Delivery::ephemeral(id, frame)).await
    }
}

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

/// A conversation an agent has taken.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Assignment {
    pub agent_id: String,
    pub conversation_id: ConversationId,
    pub since: DateTime<Utc>,
    /// The agent has written to the visitor since taking it.
    pub answered: bool,
}

/// One change of hands: the `state` event and the handoff records that follow from it, as
/// one atomic step (see [`Handoff::transition`]).
#[derive(Clone, Debug)]
pub struct Transition {
    /// The `state` event (built by `conversation::machine`, the only place that builds one).
    pub event: EventBody,
    /// Refused unless the conversation is in one of these states.
    pub from: &'static [State],
    /// Refused unless the conversation's assignment names this agent.
    pub holder: Option<String>,
    /// The conversation's assignment becomes this agent's (replacing any other), within
    /// their capacity.
    pub assign: Option<Assign>,
    /// The conversation's assignment is removed.
    pub unassign: bool,
    /// What happens to the conversation's queue entry.
    pub queue: QueueChange,
}

/// An agent takes a conversation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assign {
    pub agent_id: String,
    /// Refused when the agent already holds this many other conversations.
    pub max_chats: u32,
}

#[derive(Clone, Debug, PartialEq)]
pub enum QueueChange {
    Keep,
    /// The entry is removed (and returned in [`Transitioned::Done`]).
    Remove,
    /// The entry is added, or replaces the conversation's entry.
    Add(QueueEntry),
}

#[derive(Clone, Debug)]
pub enum Transitioned {
    /// Appended, and every record changed with it. `dequeued` is the queue entry removed
    /// ([`QueueChange::Remove`]), if there was one.
    Done { event: Arc<Event>, dequeued: Option<QueueEntry> },
    /// The conversation's state is not one of `from`.
    Refused { state: State },
    /// The assignment does not name `holder`.
    NotHolder,
    /// The agent to assign holds `max_chats` conversations already.
    AtCapacity,
}

/// Queue entries, assignments, pickup waits and left messages, and the one step that
/// changes a conversation's hands.
///
/// # Contract
/// - **Transitions are atomic** across every node: the preconditions (state, holder,
///   capacity) are checked, the `state` event is appended (numbered and delivered as any
///   event, see [`EventLog`]), the assignment and the queue entry change, and an assigned
///   agent's topic gets a [`Delivery::assigned`], all in one step or not at all. So two
///   agents racing for one chat have exactly one winner, an agent's capacity is never
///   exceeded (counting every node), and no crash leaves a conversation with a person but no
///   assignment, or queued but out of the queue.
/// - **Records** are written whole. An assignment's `since` is its transition event's `at`.
/// - **Bounds**: pickup waits keep the newest [`PICKUPS_KEPT`] per site, left messages the
///   newest [`LEFT_MESSAGES_KEPT`]. Queue entries and assignments of expired conversations
///   are dropped when read.
#[async_trait]
pub trait Handoff: Send + Sync + 'static {
    /// The preconditions are checked in this order: state (`from`), holder, capacity, then
    /// the bound ([`StoreError::Full`]). An `event` that is not a `state` event is refused
    /// ([`Transitioned::Refused`]).
    async fn transition(&self, id: ConversationId, transition: Transition) -> Result<Transitioned, StoreError>;
    /// Every waiting conversation, in no particular order.
    async fn queue(&self) -> Result<Vec<QueueEntry>, StoreError>;
    async fn assignments(&self) -> Result<Vec<Assignment>, StoreError>;
    /// The conversation's assignment, if an agent has it: who has a chat, in one small read.
    async fn assignment(&self, id: ConversationId) -> Result<Option<Assignment>, StoreError>;
    /// The agent has written to the visitor since taking the chat.
    async fn mark_answered(&self, id: ConversationId) -> Result<(), StoreError>;
    /// Records how long a chat waited before a person took it.
    async fn record_pickup(&self, site: &str, wait_secs: u32) -> Result<(), StoreError>;
    /// The newest pickup waits of a site, newest last.
    async fn pickups(&self, site: &str) -> Result<Vec<u32>, StoreError>;
    async fn add_left_message(&self, message: LeftMessage) -> Result<(), StoreError>;
    /// The newest left messages, oldest first.
    async fn left_messages(&self) -> Result<Vec<LeftMessage>, StoreError>;
    /// Sets (or, with `None`, clears) the handled mark of every kept left message of the
    /// conversation, atomically; returns how many it marked (0: none is kept).
    async fn mark_left_handled(&self, id: ConversationId, mark: Option<HandledMark>) -> Result<usize, StoreError>;
}

/// An agent is present while `until` is in the future; connected sockets keep pushing it on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Presence {
    pub status: AgentStatus,
    pub until: DateTime<Utc>,
}

/// Who is signed in.
///
/// # Contract
/// A presence record is written whole and read back as written; `None` removes it. Records
/// carry their own `until`, which readers honour; a store may forget records long past it.
#[async_trait]
pub trait AgentPresence: Send + Sync + 'static {
    async fn set_presence(&self, agent_id: &str, presence: Option<Presence>) -> Result<(), StoreError>;
    async fn presence(&self) -> Result<BTreeMap<String, Presence>, StoreError>;
}

/// Whether `body` is in the wrong call: a `state` event given to [`EventLog::append`]
/// (`appending`), or any other event given to [`Handoff::transition`]. Both backends refuse
/// such a call (and log it) instead of storing it.
fn misplaced_state_change(body: &EventBody, appending: bool) -> bool {
    let is_state = matches!(body, EventBody::State { .. });
    let misplaced = is_state == appending;
    if misplaced {
        tracing::error!(appending, "refused: state events go through Handoff::transition, others through append");
    }
    misplaced
}

/// Every role, backed by one store.
#[derive(Clone)]
pub struct Stores {
    pub log: Arc<dyn EventLog>,
    pub visitors: Arc<dyn VisitorIndex>,
    pub pubsub: Arc<dyn PubSub>,
    pub handoff: Arc<dyn Handoff>,
    pub presence: Arc<dyn AgentPresence>,
    pub feed: Arc<dyn feed::ArchiveFeed>,
    pub allowances: Arc<dyn allowance::Allowances>,
    pub idle: Arc<dyn idle::IdleWatch>,
    pub erase: Arc<dyn erase::Erase>,
}

impl Stores {
    /// Every role of `store`; the event log, pub/sub, handoff, presence and feed measured
    /// ([`metered::Metered`]: the roles on the message path).
    pub fn new<S>(raw: Arc<S>) -> Stores
    where
        S: EventLog
            + PubSub
            + Handoff
            + AgentPresence
            + VisitorIndex
            + feed::ArchiveFeed
            + allowance::Allowances
            + idle::IdleWatch
            + erase::Erase,
    {
        let store = Arc::new(metered::Metered::new(raw.clone()));
        Stores {
            log: store.clone(),
            visitors: raw.clone(),
            pubsub: store.clone(),
            handoff: store.clone(),
            presence: store.clone(),
            feed: store,
            allowances: raw.clone(),
            idle: raw.clone(),
            erase: raw,
        }
    }
}

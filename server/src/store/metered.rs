//! Any store, measured: [`Metered`] wraps a backend and implements every role by calling it,
//! timing appends and transitions (`baton_store_write_seconds`), counting chat messages stored
//! (`baton_messages_relayed_total`) and failures by kind (`baton_store_errors_total`), and
//! opening a `store.*` trace span with the conversation id on the calls a visitor message
//! makes. Both backends get the same figures without knowing about them; [`Stores::new`]
//! wraps every store.
//!
//! The spans are at `debug` level: with traces off and logs at `info` no subscriber wants
//! them and they cost a disabled-callsite check.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;

use super::feed::{ArchiveFeed, Unarchived};
use super::{
    AgentPresence, Appended, Assignment, Conversation, Counter, Delivery, EventDraft, EventLog, HandledMark, Handoff,
    LeftMessage, NewConversation, Presence, PubSub, QueueEntry, StoreError, Transition, Transitioned,
};
use crate::protocol::{ConversationId, Event, EventBody, Speaker, State};
use crate::records::Record;
use crate::telemetry::metrics::{self, Sender, Write};

pub struct Metered<S> {
    inner: Arc<S>,
}

impl<S> Metered<S> {
    pub fn new(inner: Arc<S>) -> Metered<S> {
        Metered { inner }
    }
}

/// Counts a failure by its kind; a missing conversation is an answer, not a failure.
fn counted<T>(result: Result<T, StoreError>) -> Result<T, StoreError> {
    match &result {
        Err(StoreError::Unavailable(_)) => metrics::store_error("unavailable"),
        Err(StoreError::Full(_)) => metrics::store_error("full"),
        Err(StoreError::NotFound) | Ok(_) => {}
    }
    result
}

fn sender(body: &EventBody) -> Option<Sender> {
    match body {
        EventBody::Message { from: Speaker::Visitor, .. } => Some(Sender::Visitor),
        EventBody::Message { from: Speaker::Bot, .. } => Some(Sender::Bot),
        EventBody::Message { from: Speaker::Agent, .. } => Some(Sender::Agent),
        EventBody::Message { from: Speaker::System, .. } => Some(Sender::System),
        _ => None,
    }
}

fn timed(op: Write, started: Instant) {
    metrics::hot().store_write(op, started.elapsed());
}

#[async_trait]
impl<S: EventLog> EventLog for Metered<S> {
    async fn create_conversation(&self, new: NewConversation) -> Result<Conversation, StoreError> {
        counted(self.inner.create_conversation(new).await)
    }
    #[tracing::instrument(level = "debug", name = "store.conversation", skip_all, fields(conversation_id = %id))]
    async fn conversation(&self, id: ConversationId) -> Result<Option<Conversation>, StoreError> {
        counted(self.inner.conversation(id).await)
    }
    async fn conversation_by_token(&self, token_hash: &str) -> Result<Option<Conversation>, StoreError> {
        counted(self.inner.conversation_by_token(token_hash).await)
    }
    #[tracing::instrument(level = "debug", name = "store.state", skip_all, fields(conversation_id = %id))]
    async fn state(&self, id: ConversationId) -> Result<Option<State>, StoreError> {
        counted(self.inner.state(id).await)
    }
    #[tracing::instrument(level = "debug", name = "store.append", skip_all, fields(conversation_id = %id))]
    async fn append(&self, id: ConversationId, draft: EventDraft) -> Result<Appended, StoreError> {
        let from = sender(&draft.body);
        let started = Instant::now();
        let result = counted(self.inner.append(id, draft).await);
        timed(Write::Append, started);
        if let (Ok(Appended::New { .. }), Some(from)) = (&result, from) {
            metrics::hot().relayed(from);
        }
        result
    }
    async fn events_after(&self, id: ConversationId, after: u64, limit: usize) -> Result<Vec<Arc<Event>>, StoreError> {
        counted(self.inner.events_after(id, after, limit).await)
    }
    #[tracing::instrument(level = "debug", name = "store.recent_events", skip_all, fields(conversation_id = %id))]
    async fn recent_events(&self, id: ConversationId, limit: usize) -> Result<Vec<Arc<Event>>, StoreError> {
        counted(self.inner.recent_events(id, limit).await)
    }
    #[tracing::instrument(level = "debug", name = "store.incr", skip_all, fields(conversation_id = %id))]
    async fn incr(&self, id: ConversationId, counter: Counter, by: i64) -> Result<i64, StoreError> {
        counted(self.inner.incr(id, counter, by).await)
    }
    #[tracing::instrument(level = "debug", name = "store.set_record", skip_all, fields(conversation_id = %id))]
    async fn set_record(&self, id: ConversationId, record: Record) -> Result<(), StoreError> {
        counted(self.inner.set_record(id, record).await)
    }
    #[tracing::instrument(level = "debug", name = "store.claim_turn", skip_all, fields(conversation_id = %id))]
    async fn claim_turn(&self, id: ConversationId, seq: u64, claimant: &str) -> Result<bool, StoreError> {
        counted(self.inner.claim_turn(id, seq, claimant).await)
    }
    async fn ping(&self) -> Result<(), StoreError> {
        counted(self.inner.ping().await)
    }
}

#[async_trait]
impl<S: PubSub> PubSub for Metered<S> {
    async fn deliver(&self, delivery: Delivery) -> Result<(), StoreError> {
        counted(self.inner.deliver(delivery).await)
    }
}

#[async_trait]
impl<S: Handoff> Handoff for Metered<S> {
    #[tracing::instrument(level = "debug", name = "store.transition", skip_all, fields(conversation_id = %id))]
    async fn transition(&self, id: ConversationId, transition: Transition) -> Result<Transitioned, StoreError> {
        let started = Instant::now();
        let result = counted(self.inner.transition(id, transition).await);
        timed(Write::Transition, started);
        result
    }
    async fn queue(&self) -> Result<Vec<QueueEntry>, StoreError> {
        counted(self.inner.queue().await)
    }
    async fn assignments(&self) -> Result<Vec<Assignment>, StoreError> {
        counted(self.inner.assignments().await)
    }
    async fn assignment(&self, id: ConversationId) -> Result<Option<Assignment>, StoreError> {
        counted(self.inner.assignment(id).await)
    }
    async fn mark_answered(&self, id: ConversationId) -> Result<(), StoreError> {
        counted(self.inner.mark_answered(id).await)
    }
    async fn record_pickup(&self, site: &str, wait_secs: u32) -> Result<(), StoreError> {
        counted(self.inner.record_pickup(site, wait_secs).await)
    }
    async fn pickups(&self, site: &str) -> Result<Vec<u32>, StoreError> {
        counted(self.inner.pickups(site).await)
    }
    async fn add_left_message(&self, message: LeftMessage) -> Result<(), StoreError> {
        counted(self.inner.add_left_message(message).await)
    }
    async fn left_messages(&self) -> Result<Vec<LeftMessage>, StoreError> {
        counted(self.inner.left_messages().await)
    }
    async fn mark_left_handled(&self, id: ConversationId, mark: Option<HandledMark>) -> Result<usize, StoreError> {
        counted(self.inner.mark_left_handled(id, mark).await)
    }
}

#[async_trait]
impl<S: AgentPresence> AgentPresence for Metered<S> {
    async fn set_presence(&self, agent_id: &str, presence: Option<Presence>) -> Result<(), StoreError> {
        counted(self.inner.set_presence(agent_id, presence).await)
    }
    async fn presence(&self) -> Result<BTreeMap<String, Presence>, StoreError> {
        counted(self.inner.presence().await)
    }
}

#[async_trait]
impl<S: ArchiveFeed> ArchiveFeed for Metered<S> {
    async fn claim_unarchived(&self, limit: usize, lease: Duration) -> Result<Vec<Unarchived>, StoreError> {
        counted(self.inner.claim_unarchived(limit, lease).await)
    }
    async fn archived(&self, id: ConversationId, rev: u64) -> Result<(), StoreError> {
        counted(self.inner.archived(id, rev).await)
    }
    async fn backlog(&self) -> Result<usize, StoreError> {
        counted(self.inner.backlog().await)
    }
}

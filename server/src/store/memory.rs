//! The embedded default store: everything in this process, nothing to install.
//!
//! One `std::sync::Mutex` guards everything: conversations, the queue, assignments, presence.
//! Every operation under it is short and never awaits, and delivery to the hub happens under
//! it too: that is what keeps delivery in `seq` order when two tasks append to one
//! conversation at once, and what makes [`Handoff::transition`] one atomic step (its checks,
//! its event and its records change under one lock hold).

mod allowance;
mod erase;
mod feed;
mod idle;
mod token;
mod visitors;

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use self::token::TokenKey;
use super::{
    AgentPresence, Appended, Assign, Assignment, Conversation, Counter, Deliver, Delivery, EventDraft, EventLog,
    HandledMark, Handoff, LEFT_MESSAGES_KEPT, LeftMessage, NewConversation, PICKUPS_KEPT, Presence, PubSub,
    QueueChange, QueueEntry, StoreError, Transition, Transitioned,
};
use crate::protocol::{ConversationId, Event, EventBody, State};
use crate::records::Record;

pub struct MemoryStore {
    /// The one lock (see the module doc for why everything shares it).
    inner: Mutex<Inner>,
    deliver: Deliver,
    max_events: u64,
    retention: Duration,
    /// How long a conversation is kept while it is provisional (see [`EventLog`]'s contract).
    provisional: Duration,
}

#[derive(Default)]
struct Inner {
    /// Boxed: the table keeps spare slots (up to half of it), and a slot holds only a pointer.
    conversations: HashMap<ConversationId, Box<Entry>>,
    by_token: HashMap<TokenKey, ConversationId>,
    queue: HashMap<ConversationId, QueueEntry>,
    assignments: HashMap<ConversationId, Assignment>,
    presence: BTreeMap<String, Presence>,
    pickups: HashMap<String, VecDeque<u32>>,
    left: VecDeque<LeftMessage>,
    /// What the archive has not copied yet (see [`crate::store::feed`]).
    feed: feed::Feed,
    /// What the inactivity rules look at next (see [`crate::store::idle`]).
    idle: idle::Idle,
    /// Verified visitors' conversations (see [`crate::store::VisitorIndex`]).
    users: visitors::Users,
    /// Shared token buckets (see [`crate::store::allowance`]).
    allowances: allowance::Buckets,
}

struct Entry {
    conversation: Conversation,
    events: Vec<Arc<Event>>,
    dedupe: HashMap<String, u64>,
    last_activity: DateTime<Utc>,
    /// No visitor message yet and never with people: kept only briefly.
    provisional: bool,
    /// The visitor message being judged, and by whom ([`EventLog::claim_turn`]).
    turn: Option<(u64, String)>,
}

impl Entry {
    /// Numbers and stores one event (the bound is checked by the caller), setting the state
    /// when it is a `state` event.
    fn push(&mut self, id: ConversationId, body: EventBody) -> Arc<Event> {
        let seq = self.conversation.last_seq + 1;
        let now = Utc::now();
        let event = Arc::new(Event { seq, conversation_id: id, at: now, body });
        if let EventBody::State { state, .. } = &event.body {
            self.conversation.state = *state;
        }
        if super::keeps_conversation(&event.body) {
            self.provisional = false;
        }
        self.conversation.last_seq = seq;
        self.last_activity = now;
        self.events.push(event.clone());
        event
    }
}

impl MemoryStore {
    pub fn new(deliver: Deliver, max_events: u64, retention: Duration) -> MemoryStore {
        let provisional = super::PROVISIONAL.min(retention);
        MemoryStore { inner: Mutex::new(Inner::default()), deliver, max_events, retention, provisional }
    }

    /// Keeps provisional conversations this long instead of [`super::PROVISIONAL`].
    pub fn with_provisional(mut self, provisional: Duration) -> MemoryStore {
        self.provisional = provisional.min(self.retention);
        self
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves plain data behind; keep serving it.
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Forgets conversations idle for longer than the retention; returns how many.
    pub fn sweep(&self, now: DateTime<Utc>) -> usize {
        let before = |keep: Duration| now - chrono::Duration::from_std(keep).unwrap_or(chrono::Duration::MAX);
        let (cutoff, provisional_cutoff) = (before(self.retention), before(self.provisional));
        let mut inner = self.lock();
        let expired: HashSet<ConversationId> = inner
            .conversations
            .iter()
            .filter(|(_, entry)| entry.last_activity < if entry.provisional { provisional_cutoff } else { cutoff })
            .map(|(id, _)| *id)
            .collect();
        if expired.is_empty() {
            return 0;
        }
        for id in &expired {
            inner.conversations.remove(id);
            inner.queue.remove(id);
            inner.assignments.remove(id);
            inner.feed.forget(id);
            inner.idle.forget(id);
        }
        // The token is not kept in the entry (one copy per conversation is enough).
        inner.by_token.retain(|_, id| !expired.contains(id));
        inner.users.forget(&expired);
        expired.len()
    }

    fn with_entry<T>(&self, id: ConversationId, f: impl FnOnce(&mut Entry) -> T) -> Result<T, StoreError> {
        let mut inner = self.lock();
        inner.conversations.get_mut(&id).map(|entry| f(entry)).ok_or(StoreError::NotFound)
    }

    /// [`Self::with_entry`] for a write: the conversation is marked unarchived in the same
    /// lock hold (see [`crate::store::feed`]), unless it is still provisional.
    fn changing<T>(&self, id: ConversationId, f: impl FnOnce(&mut Entry) -> T) -> Result<T, StoreError> {
        let mut inner = self.lock();
        let entry = inner.conversations.get_mut(&id).ok_or(StoreError::NotFound)?;
        let result = f(entry);
        if !entry.provisional {
            inner.feed.mark(id);
            inner.idle.touch(id);
        }
        Ok(result)
    }
}

#[async_trait]
impl EventLog for MemoryStore {
    async fn create_conversation(&self, new: NewConversation) -> Result<Conversation, StoreError> {
        let now = Utc::now();
        let conversation = Conversation {
            id: new.id,
            site: new.site,
            state: State::Bot,
            last_seq: 0,
            created_at: now,
            visitor: new.visitor,
            counters: Default::default(),
            records: Default::default(),
        };
        let entry = Box::new(Entry {
            conversation: conversation.clone(),
            events: Vec::new(),
            dedupe: HashMap::new(),
            last_activity: now,
            provisional: true,
            turn: None,
        });
        let mut inner = self.lock();
        inner.by_token.insert(TokenKey::new(&new.token_hash), new.id);
        // Provisional: not in the archive feed until the visitor writes (see `store::feed`).
        inner.conversations.insert(new.id, entry);
        Ok(conversation)
    }

    async fn conversation(&self, id: ConversationId) -> Result<Option<Conversation>, StoreError> {
        Ok(self.lock().conversations.get(&id).map(|entry| entry.conversation.clone()))
    }

    async fn conversation_by_token(&self, token_hash: &str) -> Result<Option<Conversation>, StoreError> {
        let inner = self.lock();
        let found = inner.by_token.get(&TokenKey::new(token_hash)).and_then(|id| inner.conversations.get(id));
        Ok(found.map(|entry| entry.conversation.clone()))
    }

    async fn state(&self, id: ConversationId) -> Result<Option<State>, StoreError> {
        Ok(self.lock().conversations.get(&id).map(|entry| entry.conversation.state))
    }

    async fn append(&self, id: ConversationId, draft: EventDraft) -> Result<Appended, StoreError> {
        let max_events = self.max_events;
        let deliver = &self.deliver;
        self.changing(id, |entry| {
            if let Some(seq) = draft.dedupe.as_ref().and_then(|key| entry.dedupe.get(key)) {
                return Ok(Appended::Duplicate { seq: *seq });
            }
            let state = entry.conversation.state;
            if super::misplaced_state_change(&draft.body, true)
                || draft.expect.is_some_and(|expected| !expected.contains(&state))
            {
                return Ok(Appended::Refused { state });
            }
            if entry.conversation.last_seq >= max_events {
                return Err(StoreError::Full(max_events));
            }
            let event = entry.push(id, draft.body);
            if let Some(key) = draft.dedupe {
                entry.dedupe.insert(key, event.seq);
            }
            deliver(Delivery::event(&event));
            Ok(Appended::New { event, state })
        })?
    }

    async fn events_after(&self, id: ConversationId, after: u64, limit: usize) -> Result<Vec<Arc<Event>>, StoreError> {
        self.with_entry(id, |entry| {
            // seq n is at index n-1: events are never removed from a live conversation.
            let start = usize::try_from(after).unwrap_or(usize::MAX).min(entry.events.len());
            entry.events[start..].iter().take(limit).cloned().collect()
        })
    }

    async fn recent_events(&self, id: ConversationId, limit: usize) -> Result<Vec<Arc<Event>>, StoreError> {
        self.with_entry(id, |entry| {
            let start = entry.events.len().saturating_sub(limit);
            entry.events[start..].to_vec()
        })
    }

    async fn incr(&self, id: ConversationId, counter: Counter, by: i64) -> Result<i64, StoreError> {
        self.changing(id, |entry| {
            let value = entry.conversation.counters.entry(counter).or_insert(0);
            *value += by;
            *value
        })
    }

    async fn set_record(&self, id: ConversationId, record: Record) -> Result<(), StoreError> {
        self.changing(id, |entry| entry.conversation.records.apply(record))
    }

    async fn claim_turn(&self, id: ConversationId, seq: u64, claimant: &str) -> Result<bool, StoreError> {
        self.with_entry(id, |entry| match &entry.turn {
            Some((claimed, by)) if *claimed > seq || (*claimed == seq && by != claimant) => false,
            _ => {
                entry.turn = Some((seq, claimant.to_owned()));
                true
            }
        })
    }

    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

#[async_trait]
impl PubSub for MemoryStore {
    async fn deliver(&self, delivery: Delivery) -> Result<(), StoreError> {
        (self.deliver)(delivery);
        Ok(())
    }
}

#[async_trait]
impl Handoff for MemoryStore {
    async fn transition(&self, id: ConversationId, transition: Transition) -> Result<Transitioned, StoreError> {
        let mut inner = self.lock();
        let Inner { conversations, queue, assignments, feed, idle, .. } = &mut *inner;
        let entry = conversations.get_mut(&id).ok_or(StoreError::NotFound)?;
        if let Some(refused) = refusal(id, entry.conversation.state, &transition, assignments) {
            return Ok(refused);
        }
        if entry.conversation.last_seq >= self.max_events {
            return Err(StoreError::Full(self.max_events));
        }
        let event = entry.push(id, transition.event);
        if !entry.provisional {
            feed.mark(id);
            idle.touch(id);
        }
        let dequeued = match transition.queue {
            QueueChange::Keep => None,
            QueueChange::Remove => queue.remove(&id),
            QueueChange::Add(entry) => {
                debug_assert_eq!(entry.conversation_id, id, "a queue entry is the transition's conversation's");
                queue.insert(id, QueueEntry { conversation_id: id, ..entry });
                None
            }
        };
        if transition.unassign {
            assignments.remove(&id);
        }
        (self.deliver)(Delivery::event(&event));
        if let Some(Assign { agent_id, .. }) = transition.assign {
            (self.deliver)(Delivery::assigned(&agent_id, id));
            assignments.insert(id, Assignment { agent_id, conversation_id: id, since: event.at, answered: false });
        }
        Ok(Transitioned::Done { event, dequeued })
    }

    async fn queue(&self) -> Result<Vec<QueueEntry>, StoreError> {
        Ok(self.lock().queue.values().cloned().collect())
    }

    async fn assignments(&self) -> Result<Vec<Assignment>, StoreError> {
        Ok(self.lock().assignments.values().cloned().collect())
    }

    async fn assignment(&self, id: ConversationId) -> Result<Option<Assignment>, StoreError> {
        Ok(self.lock().assignments.get(&id).cloned())
    }

    async fn mark_answered(&self, id: ConversationId) -> Result<(), StoreError> {
        if let Some(assignment) = self.lock().assignments.get_mut(&id) {
            assignment.answered = true;
        }
        Ok(())
    }

    async fn record_pickup(&self, site: &str, wait_secs: u32) -> Result<(), StoreError> {
        let mut inner = self.lock();
        let waits = inner.pickups.entry(site.to_owned()).or_default();
        waits.push_back(wait_secs);
        while waits.len() > PICKUPS_KEPT {
            waits.pop_front();
        }
        Ok(())
    }

    async fn pickups(&self, site: &str) -> Result<Vec<u32>, StoreError> {
        Ok(self.lock().pickups.get(site).map(|w| w.iter().copied().collect()).unwrap_or_default())
    }

    async fn add_left_message(&self, message: LeftMessage) -> Result<(), StoreError> {
        let mut inner = self.lock();
        inner.left.push_back(message);
        while inner.left.len() > LEFT_MESSAGES_KEPT {
            inner.left.pop_front();
        }
        Ok(())
    }

    async fn left_messages(&self) -> Result<Vec<LeftMessage>, StoreError> {
        Ok(self.lock().left.iter().cloned().collect())
    }

    async fn mark_left_handled(&self, id: ConversationId, mark: Option<HandledMark>) -> Result<usize, StoreError> {
        let mut inner = self.lock();
        let mine = inner.left.iter_mut().filter(|left| left.conversation_id == id);
        Ok(mine.map(|left| left.handled = mark.clone()).count())
    }
}

/// The first precondition of `transition` that fails (state, holder, capacity: the
/// contract's order), if any.
fn refusal(
    id: ConversationId,
    state: State,
    transition: &Transition,
    assignments: &HashMap<ConversationId, Assignment>,
) -> Option<Transitioned> {
    if super::misplaced_state_change(&transition.event, false) || !transition.from.contains(&state) {
        return Some(Transitioned::Refused { state });
    }
    if let Some(holder) = &transition.holder
        && assignments.get(&id).is_none_or(|held| held.agent_id != *holder)
    {
        return Some(Transitioned::NotHolder);
    }
    let assign = transition.assign.as_ref()?;
    let held = assignments.values().filter(|a| a.agent_id == assign.agent_id && a.conversation_id != id).count();
    (held >= usize::try_from(assign.max_chats).unwrap_or(usize::MAX)).then_some(Transitioned::AtCapacity)
}

#[async_trait]
impl AgentPresence for MemoryStore {
    async fn set_presence(&self, agent_id: &str, presence: Option<Presence>) -> Result<(), StoreError> {
        let mut inner = self.lock();
        match presence {
            Some(presence) => inner.presence.insert(agent_id.to_owned(), presence),
            None => inner.presence.remove(agent_id),
        };
        Ok(())
    }

    async fn presence(&self) -> Result<BTreeMap<String, Presence>, StoreError> {
        Ok(self.lock().presence.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::token::hex_digest;
    use super::*;
    use crate::store::Visitor;

    fn store(retention: Duration) -> MemoryStore {
        MemoryStore::new(Arc::new(|_| {}), 100, retention)
    }

    async fn create(store: &MemoryStore, token_hash: &str) -> ConversationId {
        let new = NewConversation {
            id: ConversationId::new(),
            site: "demo".into(),
            token_hash: token_hash.into(),
            visitor: Visitor::default(),
        };
        store.create_conversation(new).await.unwrap().id
    }

    #[tokio::test]
    async fn a_conversation_the_visitor_never_wrote_to_is_forgotten_after_the_provisional_time() {
        let store = store(Duration::from_secs(72 * 3600));
        let (idle, written) = (create(&store, "idle").await, create(&store, "written").await);
        let visitor = EventBody::Message {
            id: uuid::Uuid::new_v4(),
            from: crate::protocol::Speaker::Visitor,
            text: "hi".into(),
            author: None,
            client_id: Some("c".into()),
            sources: vec![],
            actions: vec![],
            notice: None,
        };
        store.append(written, EventDraft::new(visitor)).await.unwrap();
        let later =
            Utc::now() + chrono::Duration::from_std(super::super::PROVISIONAL).unwrap() + chrono::Duration::seconds(1);
        assert_eq!(store.sweep(later), 1);
        assert!(store.conversation(idle).await.unwrap().is_none(), "a hello alone is kept briefly");
        assert!(store.conversation(written).await.unwrap().is_some(), "a written-to conversation is kept");
    }

    #[tokio::test]
    async fn conversations_are_found_by_token_in_either_form() {
        let store = store(Duration::from_secs(3600));
        let hex = hex_digest("a token");
        let a = create(&store, &hex).await;
        let b = create(&store, "hash-of-b").await;
        assert_eq!(store.conversation_by_token(&hex).await.unwrap().unwrap().id, a);
        assert_eq!(store.conversation_by_token("hash-of-b").await.unwrap().unwrap().id, b);
        assert!(store.conversation_by_token(&hex.to_uppercase()).await.unwrap().is_none());
        assert!(store.conversation_by_token("other").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn a_sweep_forgets_idle_conversations_and_their_tokens() {
        let store = store(Duration::from_secs(60));
        let hex = hex_digest("old");
        let old = create(&store, &hex).await;
        let kept = create(&store, "kept").await;
        let now = Utc::now();
        store.with_entry(old, |entry| entry.last_activity = now - chrono::Duration::seconds(120)).unwrap();
        assert_eq!(store.sweep(now), 1);
        assert!(store.conversation(old).await.unwrap().is_none());
        assert!(store.conversation_by_token(&hex).await.unwrap().is_none());
        assert_eq!(store.conversation_by_token("kept").await.unwrap().unwrap().id, kept);
        assert_eq!(store.sweep(now), 0);
    }
}

//! The embedded default store: everything in this process, nothing to install.
//!
//! One `std::sync::Mutex` guards all conversations. Every operation under it is short and
//! never awaits, and delivery to the hub happens under it too: that is what keeps delivery
//! in `seq` order when two tasks append to one conversation at once.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{
    Appended, Assignment, Conversation, Counter, Deliver, Delivery, EventDraft, LEFT_MESSAGES_KEPT, LeftMessage,
    NewConversation, PICKUPS_KEPT, Presence, QueueEntry, Store, StoreError,
};
use crate::protocol::{ConversationId, Event, EventBody, State};

pub struct MemoryStore {
    inner: Mutex<Inner>,
    deliver: Deliver,
    max_events: u64,
    retention: Duration,
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
}

struct Entry {
    conversation: Conversation,
    events: Vec<Arc<Event>>,
    dedupe: HashMap<String, u64>,
    last_activity: DateTime<Utc>,
}

/// A resume token's hash as a map key. The server stores SHA-256 digests as 64 lowercase hex
/// characters: those are kept as their 32 bytes, inline. Any other string is kept as given, so
/// every string still names exactly one key.
#[derive(Debug, PartialEq, Eq, Hash)]
enum TokenKey {
    Sha256([u8; 32]),
    Other(Box<str>),
}

impl TokenKey {
    fn new(token_hash: &str) -> TokenKey {
        match sha256_hex(token_hash) {
            Some(digest) => TokenKey::Sha256(digest),
            None => TokenKey::Other(token_hash.into()),
        }
    }
}

/// The 32 bytes of a digest written as exactly 64 lowercase hex characters, else `None`.
fn sha256_hex(text: &str) -> Option<[u8; 32]> {
    fn nibble(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        }
    }
    let text = text.as_bytes();
    if text.len() != 64 {
        return None;
    }
    let mut digest = [0u8; 32];
    for (byte, pair) in digest.iter_mut().zip(text.chunks_exact(2)) {
        *byte = nibble(pair[0])? << 4 | nibble(pair[1])?;
    }
    Some(digest)
}

impl MemoryStore {
    pub fn new(deliver: Deliver, max_events: u64, retention: Duration) -> MemoryStore {
        MemoryStore { inner: Mutex::new(Inner::default()), deliver, max_events, retention }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves plain data behind; keep serving it.
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Forgets conversations idle for longer than the retention; returns how many.
    pub fn sweep(&self, now: DateTime<Utc>) -> usize {
        let cutoff = now - chrono::Duration::from_std(self.retention).unwrap_or(chrono::Duration::MAX);
        let mut inner = self.lock();
        let expired: HashSet<ConversationId> =
            inner.conversations.iter().filter(|(_, entry)| entry.last_activity < cutoff).map(|(id, _)| *id).collect();
        if expired.is_empty() {
            return 0;
        }
        for id in &expired {
            inner.conversations.remove(id);
            inner.queue.remove(id);
            inner.assignments.remove(id);
        }
        // The token is not kept in the entry (one copy per conversation is enough).
        inner.by_token.retain(|_, id| !expired.contains(id));
        expired.len()
    }

    fn with_entry<T>(&self, id: ConversationId, f: impl FnOnce(&mut Entry) -> T) -> Result<T, StoreError> {
        let mut inner = self.lock();
        inner.conversations.get_mut(&id).map(|entry| f(entry)).ok_or(StoreError::NotFound)
    }
}

#[async_trait]
impl Store for MemoryStore {
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
            attrs: Default::default(),
        };
        let entry = Box::new(Entry {
            conversation: conversation.clone(),
            events: Vec::new(),
            dedupe: HashMap::new(),
            last_activity: now,
        });
        let mut inner = self.lock();
        inner.by_token.insert(TokenKey::new(&new.token_hash), new.id);
        inner.conversations.insert(new.id, entry);
        Ok(conversation)
    }

    async fn conversation(&self, id: ConversationId) -> Result<Option<Conversation>, StoreError> {
        Ok(self.lock().conversations.get(&id).map(|entry| entry.conversation.clone()))
    }

    async fn state(&self, id: ConversationId) -> Result<Option<State>, StoreError> {
        Ok(self.lock().conversations.get(&id).map(|entry| entry.conversation.state))
    }

    async fn conversation_by_token(&self, token_hash: &str) -> Result<Option<Conversation>, StoreError> {
        let inner = self.lock();
        let found = inner.by_token.get(&TokenKey::new(token_hash)).and_then(|id| inner.conversations.get(id));
        Ok(found.map(|entry| entry.conversation.clone()))
    }

    async fn append(&self, id: ConversationId, draft: EventDraft) -> Result<Appended, StoreError> {
        let max_events = self.max_events;
        let deliver = &self.deliver;
        self.with_entry(id, |entry| {
            if let Some(seq) = draft.dedupe.as_ref().and_then(|key| entry.dedupe.get(key)) {
                return Ok(Appended::Duplicate { seq: *seq });
            }
            let state = entry.conversation.state;
            if draft.expect.is_some_and(|expected| !expected.contains(&state)) {
                return Ok(Appended::Refused { state });
            }
            if entry.conversation.last_seq >= max_events {
                return Err(StoreError::Full(max_events));
            }
            let seq = entry.conversation.last_seq + 1;
            let now = Utc::now();
            let event = Arc::new(Event { seq, conversation_id: id, at: now, body: draft.body });
            if let EventBody::State { state, .. } = &event.body {
                entry.conversation.state = *state;
            }
            entry.conversation.last_seq = seq;
            entry.last_activity = now;
            entry.events.push(event.clone());
            if let Some(key) = draft.dedupe {
                entry.dedupe.insert(key, seq);
            }
            deliver(Delivery::event(&event));
            Ok(Appended::New { event, state: entry.conversation.state })
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

    async fn deliver(&self, delivery: Delivery) -> Result<(), StoreError> {
        (self.deliver)(delivery);
        Ok(())
    }

    async fn incr(&self, id: ConversationId, counter: Counter, by: i64) -> Result<i64, StoreError> {
        self.with_entry(id, |entry| {
            let value = entry.conversation.counters.entry(counter).or_insert(0);
            *value += by;
            *value
        })
    }

    async fn set_attr(&self, id: ConversationId, key: &str, value: serde_json::Value) -> Result<(), StoreError> {
        self.with_entry(id, |entry| {
            entry.conversation.attrs.insert(key.to_owned(), value);
        })
    }

    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }

    async fn enqueue(&self, entry: QueueEntry) -> Result<(), StoreError> {
        self.lock().queue.insert(entry.conversation_id, entry);
        Ok(())
    }

    async fn dequeue(&self, id: ConversationId) -> Result<Option<QueueEntry>, StoreError> {
        Ok(self.lock().queue.remove(&id))
    }

    async fn queue(&self) -> Result<Vec<QueueEntry>, StoreError> {
        Ok(self.lock().queue.values().cloned().collect())
    }

    async fn assign(&self, assignment: Assignment) -> Result<(), StoreError> {
        self.lock().assignments.insert(assignment.conversation_id, assignment);
        Ok(())
    }

    async fn unassign(&self, id: ConversationId) -> Result<Option<Assignment>, StoreError> {
        Ok(self.lock().assignments.remove(&id))
    }

    async fn mark_answered(&self, id: ConversationId) -> Result<(), StoreError> {
        if let Some(assignment) = self.lock().assignments.get_mut(&id) {
            assignment.answered = true;
        }
        Ok(())
    }

    async fn assignments(&self) -> Result<Vec<Assignment>, StoreError> {
        Ok(self.lock().assignments.values().cloned().collect())
    }

    async fn assignment(&self, id: ConversationId) -> Result<Option<Assignment>, StoreError> {
        Ok(self.lock().assignments.get(&id).cloned())
    }

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
}

#[cfg(test)]
mod tests {
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

    #[test]
    fn hex_digests_become_bytes_and_other_strings_stay_distinct() {
        let hex = crate::conversation::hash_token("a token");
        let TokenKey::Sha256(digest) = TokenKey::new(&hex) else { panic!("a digest is kept as bytes") };
        let again: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(again, hex);
        assert_eq!(TokenKey::new(&hex.to_uppercase()), TokenKey::Other(hex.to_uppercase().into()));
        assert_eq!(TokenKey::new(&hex[..62]), TokenKey::Other(hex[..62].into()));
        assert_eq!(TokenKey::new(&format!("{}g", &hex[..63])), TokenKey::Other(format!("{}g", &hex[..63]).into()));
        assert_eq!(TokenKey::new("hash-1"), TokenKey::Other("hash-1".into()));
    }

    #[tokio::test]
    async fn conversations_are_found_by_token_in_either_form() {
        let store = store(Duration::from_secs(3600));
        let hex = crate::conversation::hash_token("a token");
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
        let hex = crate::conversation::hash_token("old");
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

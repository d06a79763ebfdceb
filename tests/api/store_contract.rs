//! The store contract (see `baton::store`), written once against `Arc<dyn Store>` so every
//! implementation runs the same checks.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use baton::protocol::{ConversationId, EventBody, State};
use baton::store::memory::MemoryStore;
use baton::store::{Appended, Counter, Delivery, EventDraft, NewConversation, Store};

type Delivered = Arc<Mutex<Vec<Delivery>>>;

fn memory() -> (Arc<dyn Store>, Delivered) {
    let delivered: Delivered = Arc::default();
    let sink = delivered.clone();
    let store = MemoryStore::new(Arc::new(move |d| sink.lock().unwrap().push(d)), 50, Duration::from_secs(3600));
    (Arc::new(store), delivered)
}

async fn new_conversation(store: &Arc<dyn Store>, token_hash: &str) -> ConversationId {
    let new = NewConversation {
        id: ConversationId::new(),
        site: "demo".into(),
        token_hash: token_hash.into(),
        visitor: Default::default(),
    };
    store.create_conversation(new).await.unwrap().id
}

fn note(text: &str) -> EventBody {
    EventBody::Note { text: text.into(), author: baton::protocol::Author { name: "t".into() } }
}

fn state(state: State) -> EventBody {
    EventBody::State { state, reason: None, agent: None }
}

async fn appends_are_numbered_without_gaps_and_delivered_in_order(store: Arc<dyn Store>, delivered: Delivered) {
    let id = new_conversation(&store, "t1").await;
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move { store.append(id, EventDraft::new(note(&i.to_string()))).await.unwrap() })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let seqs: Vec<u64> = store.events_after(id, 0, 100).await.unwrap().iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=20).collect::<Vec<_>>());
    let delivered: Vec<u64> = delivered
        .lock()
        .unwrap()
        .iter()
        .filter(|d| d.topic == baton::store::Topic::Conversation(id))
        .filter_map(|d| d.seq)
        .collect();
    assert_eq!(delivered, seqs);
}

async fn a_repeated_dedupe_key_stores_nothing_and_returns_the_first_seq(store: Arc<dyn Store>, _: Delivered) {
    let id = new_conversation(&store, "t2").await;
    let first = store.append(id, EventDraft::new(note("a")).dedupe("v:c1".into())).await.unwrap();
    let again = store.append(id, EventDraft::new(note("a")).dedupe("v:c1".into())).await.unwrap();
    assert!(matches!(first, Appended::New(ref e) if e.seq == 1));
    assert!(matches!(again, Appended::Duplicate { seq: 1 }));
    assert_eq!(store.conversation(id).await.unwrap().unwrap().last_seq, 1);
}

async fn a_precondition_lets_exactly_one_racer_win(store: Arc<dyn Store>, _: Delivered) {
    let id = new_conversation(&store, "t3").await;
    store.append(id, EventDraft::new(state(State::Queued))).await.unwrap();
    let racers: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                store.append(id, EventDraft::new(state(State::Agent)).expect(&[State::Queued])).await.unwrap()
            })
        })
        .collect();
    let mut winners = 0;
    for racer in racers {
        match racer.await.unwrap() {
            Appended::New(_) => winners += 1,
            Appended::Refused { state } => assert_eq!(state, State::Agent),
            Appended::Duplicate { .. } => panic!("no dedupe key was given"),
        }
    }
    assert_eq!(winners, 1);
    assert_eq!(store.conversation(id).await.unwrap().unwrap().state, State::Agent);
}

async fn tokens_find_their_conversation_and_counters_add_up(store: Arc<dyn Store>, _: Delivered) {
    let id = new_conversation(&store, "hash-of-token").await;
    assert_eq!(store.conversation_by_token("hash-of-token").await.unwrap().unwrap().id, id);
    assert!(store.conversation_by_token("other").await.unwrap().is_none());
    store.incr(id, Counter::BotErrors, 1).await.unwrap();
    assert_eq!(store.incr(id, Counter::BotErrors, 2).await.unwrap(), 3);
    store.set_attr(id, "csat", serde_json::json!({"score": 5})).await.unwrap();
    let conversation = store.conversation(id).await.unwrap().unwrap();
    assert_eq!(conversation.counter(Counter::BotErrors), 3);
    assert_eq!(conversation.attrs["csat"]["score"], 5);
}

async fn reads_are_bounded_and_a_full_conversation_refuses_more(store: Arc<dyn Store>, _: Delivered) {
    let id = new_conversation(&store, "t5").await;
    for i in 0..50 {
        store.append(id, EventDraft::new(note(&i.to_string()))).await.unwrap();
    }
    assert!(store.append(id, EventDraft::new(note("one too many"))).await.is_err());
    let page = store.events_after(id, 10, 5).await.unwrap();
    assert_eq!(page.iter().map(|e| e.seq).collect::<Vec<_>>(), [11, 12, 13, 14, 15]);
    let recent = store.recent_events(id, 3).await.unwrap();
    assert_eq!(recent.iter().map(|e| e.seq).collect::<Vec<_>>(), [48, 49, 50]);
    assert!(store.events_after(id, 50, 5).await.unwrap().is_empty());
}

/// One test per contract clause per store implementation.
macro_rules! contract {
    ($backend:ident, $make:path: $($clause:ident),* $(,)?) => {
        mod $backend {
            $(
                #[tokio::test]
                async fn $clause() {
                    let (store, delivered) = $make();
                    super::$clause(store, delivered).await;
                }
            )*
        }
    };
}

contract!(
    memory_store, super::memory:
    appends_are_numbered_without_gaps_and_delivered_in_order,
    a_repeated_dedupe_key_stores_nothing_and_returns_the_first_seq,
    a_precondition_lets_exactly_one_racer_win,
    tokens_find_their_conversation_and_counters_add_up,
    reads_are_bounded_and_a_full_conversation_refuses_more,
);

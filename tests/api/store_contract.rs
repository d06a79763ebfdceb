//! The store contract (see `baton::store`), written once against `Arc<dyn Store>` so every
//! implementation runs the same checks: the memory store, and the Redis store on a real
//! `redis-server` (one per test, with a namespace of its own). Checks that only a shared
//! store has (two nodes, a Redis restart) follow the suite.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use baton::config::StoreSettings;
use baton::hub::Interest;
use baton::protocol::{ConversationId, Ephemeral, EventBody, Speaker, State};
use baton::store::memory::MemoryStore;
use baton::store::redis::RedisStore;
use baton::store::{
    Appended, Assignment, Audience, Counter, Delivery, EventDraft, LeftMessage, NewConversation, Presence, QueueEntry,
    Store, StoreError, Topic,
};
use futures_util::future::BoxFuture;

use crate::redis_server::{RedisServer, namespace};

type Delivered = Arc<Mutex<Vec<Delivery>>>;

/// The most events a test conversation holds.
const MAX_EVENTS: u64 = 50;
/// How long a test waits for a delivery it expects.
const DELIVERY_WAIT: Duration = Duration::from_secs(5);

/// One store under test, what its node was handed, and how to make the node follow a topic.
pub struct Backend {
    store: Arc<dyn Store>,
    delivered: Delivered,
    /// Follows a topic on this node and returns once deliveries on it arrive (the memory
    /// store delivers everything, so there it does nothing).
    follow: Box<dyn Fn(Topic) -> BoxFuture<'static, ()> + Send + Sync>,
    _redis: Option<RedisServer>,
}

impl Backend {
    async fn follow(&self, topic: Topic) {
        (self.follow)(topic).await;
    }

    /// The `seq`s delivered for a conversation, in the order they were delivered.
    fn delivered_seqs(&self, id: ConversationId) -> Vec<u64> {
        let delivered = self.delivered.lock().unwrap();
        delivered.iter().filter(|d| d.topic == Topic::Conversation(id)).filter_map(|d| d.seq).collect()
    }

    async fn wait_for(&self, what: &str, found: impl Fn(&[Delivery]) -> bool) {
        wait_for(&self.delivered, what, found).await;
    }
}

fn recorder() -> (Delivered, baton::store::Deliver) {
    let delivered: Delivered = Arc::default();
    let sink = delivered.clone();
    (delivered, Arc::new(move |d| sink.lock().unwrap().push(d)))
}

async fn wait_for(delivered: &Delivered, what: &str, found: impl Fn(&[Delivery]) -> bool) {
    let deadline = tokio::time::Instant::now() + DELIVERY_WAIT;
    loop {
        // A copy, so `found` may look at the deliveries again without the lock.
        let seen = delivered.lock().unwrap().clone();
        if found(&seen) {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "no delivery in time: {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn memory() -> Backend {
    let (delivered, sink) = recorder();
    let store = MemoryStore::new(sink, MAX_EVENTS, Duration::from_secs(3600));
    Backend { store: Arc::new(store), delivered, follow: Box::new(|_| Box::pin(async {})), _redis: None }
}

async fn redis() -> Backend {
    let server = RedisServer::start();
    let (store, delivered, follow) = redis_node(&server.url(), &namespace()).await;
    Backend { store, delivered, follow, _redis: Some(server) }
}

pub fn redis_settings(url: &str, namespace: &str) -> StoreSettings {
    StoreSettings {
        redis_url: Some(url.to_owned().into()),
        namespace: namespace.to_owned(),
        max_events_per_conversation: MAX_EVENTS,
        retention_hours: 1,
    }
}

type Follow = Box<dyn Fn(Topic) -> BoxFuture<'static, ()> + Send + Sync>;

/// One Redis node: its store, what it was handed, and its `follow`.
async fn redis_node(url: &str, namespace: &str) -> (Arc<dyn Store>, Delivered, Follow) {
    let (delivered, sink) = recorder();
    let redis = RedisStore::connect(&redis_settings(url, namespace), sink).await.expect("the redis store connects");
    let watcher = redis.watcher();
    let store: Arc<dyn Store> = Arc::new(redis);
    let (probe_store, probe_delivered) = (store.clone(), delivered.clone());
    let follow: Follow = Box::new(move |topic: Topic| {
        watcher(&topic, Interest::Started);
        let (store, delivered) = (probe_store.clone(), probe_delivered.clone());
        Box::pin(async move { probe_until_delivered(&store, &delivered, topic).await })
    });
    (store, delivered, follow)
}

/// Publishes probes on `topic` until one comes back (the SUBSCRIBE is confirmed), then
/// forgets them.
async fn probe_until_delivered(store: &Arc<dyn Store>, delivered: &Delivered, topic: Topic) {
    let is_probe = |d: &Delivery| d.json.contains("\"probe\"");
    let deadline = tokio::time::Instant::now() + DELIVERY_WAIT;
    loop {
        store.deliver(Delivery::frame(topic.clone(), &serde_json::json!({"type": "probe"}))).await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
        if delivered.lock().unwrap().iter().any(|d| d.topic == topic && is_probe(d)) {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "never subscribed to {topic:?}");
    }
    delivered.lock().unwrap().retain(|d| !is_probe(d));
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

fn message(text: &str) -> EventBody {
    EventBody::Message {
        id: uuid::Uuid::new_v4(),
        from: Speaker::Visitor,
        text: text.into(),
        author: None,
        client_id: Some("c".into()),
        sources: vec![],
        actions: vec![],
    }
}

fn state(state: State) -> EventBody {
    EventBody::State { state, reason: None, agent: None }
}

async fn appends_are_numbered_without_gaps_and_delivered_in_order(backend: Backend) {
    let store = &backend.store;
    let id = new_conversation(store, "t1").await;
    backend.follow(Topic::Conversation(id)).await;
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
    backend.wait_for("all 20 events", |_| backend.delivered_seqs(id).len() >= 20).await;
    assert_eq!(backend.delivered_seqs(id), seqs);
}

async fn a_repeated_dedupe_key_stores_nothing_and_returns_the_first_seq(backend: Backend) {
    let store = &backend.store;
    let id = new_conversation(store, "t2").await;
    let first = store.append(id, EventDraft::new(note("a")).dedupe("v:c1".into())).await.unwrap();
    let again = store.append(id, EventDraft::new(note("a")).dedupe("v:c1".into())).await.unwrap();
    assert!(matches!(first, Appended::New { ref event, state: State::Bot } if event.seq == 1));
    assert!(matches!(again, Appended::Duplicate { seq: 1 }));
    assert_eq!(store.conversation(id).await.unwrap().unwrap().last_seq, 1);
}

async fn a_precondition_lets_exactly_one_racer_win(backend: Backend) {
    let store = &backend.store;
    let id = new_conversation(store, "t3").await;
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
            Appended::New { state, .. } => {
                assert_eq!(state, State::Agent, "the append reports the state it set");
                winners += 1;
            }
            Appended::Refused { state } => assert_eq!(state, State::Agent),
            Appended::Duplicate { .. } => panic!("no dedupe key was given"),
        }
    }
    assert_eq!(winners, 1);
    assert_eq!(store.conversation(id).await.unwrap().unwrap().state, State::Agent);
    assert_eq!(store.state(id).await.unwrap(), Some(State::Agent), "the cheap read agrees");
}

async fn tokens_find_their_conversation_and_counters_add_up(backend: Backend) {
    let store = &backend.store;
    let id = new_conversation(store, "hash-of-token").await;
    assert_eq!(store.conversation_by_token("hash-of-token").await.unwrap().unwrap().id, id);
    assert!(store.conversation_by_token("other").await.unwrap().is_none());
    store.incr(id, Counter::BotErrors, 1).await.unwrap();
    assert_eq!(store.incr(id, Counter::BotErrors, 2).await.unwrap(), 3);
    store.set_attr(id, "csat", serde_json::json!({"score": 5})).await.unwrap();
    let conversation = store.conversation(id).await.unwrap().unwrap();
    assert_eq!(conversation.counter(Counter::BotErrors), 3);
    assert_eq!(conversation.counter(Counter::BotTurns), 0);
    assert_eq!(conversation.attrs["csat"]["score"], 5);
    assert_eq!((conversation.site.as_str(), conversation.state, conversation.last_seq), ("demo", State::Bot, 0));
}

async fn reads_are_bounded_and_a_full_conversation_refuses_more(backend: Backend) {
    let store = &backend.store;
    let id = new_conversation(store, "t5").await;
    for i in 0..MAX_EVENTS {
        store.append(id, EventDraft::new(note(&i.to_string()))).await.unwrap();
    }
    let refused = store.append(id, EventDraft::new(note("one too many"))).await;
    assert!(matches!(refused, Err(StoreError::Full(_))), "{refused:?}");
    let page = store.events_after(id, 10, 5).await.unwrap();
    assert_eq!(page.iter().map(|e| e.seq).collect::<Vec<_>>(), [11, 12, 13, 14, 15]);
    let recent = store.recent_events(id, 3).await.unwrap();
    assert_eq!(recent.iter().map(|e| e.seq).collect::<Vec<_>>(), [48, 49, 50]);
    assert!(store.events_after(id, 50, 5).await.unwrap().is_empty());
    assert_eq!(store.recent_events(id, 500).await.unwrap().len(), 50);
}

async fn a_state_event_sets_the_state_and_deliveries_carry_the_stored_json(backend: Backend) {
    let store = &backend.store;
    let id = new_conversation(store, "t6").await;
    backend.follow(Topic::Conversation(id)).await;
    store.append(id, EventDraft::new(message("hello \"there\" ünïcode ✓"))).await.unwrap();
    store.append(id, EventDraft::new(state(State::Queued))).await.unwrap();
    store.append(id, EventDraft::new(note("internal"))).await.unwrap();
    assert_eq!(store.conversation(id).await.unwrap().unwrap().state, State::Queued);
    backend.wait_for("three events", |_| backend.delivered_seqs(id).len() == 3).await;
    let stored = store.events_after(id, 0, 10).await.unwrap();
    let delivered = backend.delivered.lock().unwrap().clone();
    for (event, delivery) in stored.iter().zip(delivered.iter().filter(|d| d.seq.is_some())) {
        let expected = Delivery::event(event);
        assert_eq!(
            (delivery.seq, &delivery.json, delivery.audience),
            (expected.seq, &expected.json, expected.audience)
        );
    }
    assert_eq!(delivered.iter().filter(|d| d.audience == Audience::Agents).count(), 1, "only the note is for agents");
}

async fn ephemeral_frames_reach_followers_and_are_not_stored(backend: Backend) {
    let store = &backend.store;
    let id = new_conversation(store, "t7").await;
    backend.follow(Topic::Conversation(id)).await;
    backend.follow(Topic::Agent("ana".into())).await;
    store.publish(id, &Ephemeral::Typing { conversation_id: id, from: Speaker::Agent, on: true }).await.unwrap();
    store.deliver(Delivery::frame(Topic::Agent("ana".into()), &serde_json::json!({"type": "assigned"}))).await.unwrap();
    backend
        .wait_for("typing and assigned", |d| {
            d.iter().any(|d| d.topic == Topic::Conversation(id) && d.json.contains("typing") && d.seq.is_none())
                && d.iter().any(|d| d.topic == Topic::Agent("ana".into()) && d.json.contains("assigned"))
        })
        .await;
    assert_eq!(store.conversation(id).await.unwrap().unwrap().last_seq, 0);
}

async fn an_unknown_conversation_is_not_found_and_not_created(backend: Backend) {
    let store = &backend.store;
    let id = ConversationId::new();
    assert!(store.conversation(id).await.unwrap().is_none());
    assert_eq!(store.state(id).await.unwrap(), None);
    assert!(matches!(store.append(id, EventDraft::new(note("x"))).await, Err(StoreError::NotFound)));
    assert!(matches!(store.events_after(id, 0, 5).await, Err(StoreError::NotFound)));
    assert!(matches!(store.incr(id, Counter::BotTurns, 1).await, Err(StoreError::NotFound)));
    assert!(matches!(store.set_attr(id, "k", serde_json::json!(1)).await, Err(StoreError::NotFound)));
    assert!(store.conversation(id).await.unwrap().is_none(), "a failed write leaves nothing behind");
}

async fn queue_entries_and_assignments_are_records_written_whole(backend: Backend) {
    let store = &backend.store;
    let (a, b) = (new_conversation(store, "q1").await, new_conversation(store, "q2").await);
    let entry = |id, priority| QueueEntry {
        conversation_id: id,
        site: "demo".into(),
        team: None,
        reason: baton::protocol::Reason::ExplicitRequest,
        priority,
        waiting_since: chrono::Utc::now(),
        returned: false,
    };
    store.enqueue(entry(a, 1)).await.unwrap();
    store.enqueue(entry(a, 7)).await.unwrap();
    store.enqueue(entry(b, 2)).await.unwrap();
    let mut queue = store.queue().await.unwrap();
    queue.sort_by_key(|e| e.priority);
    assert_eq!(queue.iter().map(|e| (e.conversation_id, e.priority)).collect::<Vec<_>>(), [(b, 2), (a, 7)]);
    assert_eq!(store.dequeue(a).await.unwrap().unwrap().priority, 7);
    assert!(store.dequeue(a).await.unwrap().is_none());
    assert_eq!(store.queue().await.unwrap().len(), 1);

    let since = chrono::Utc::now();
    store.assign(Assignment { agent_id: "ana".into(), conversation_id: a, since, answered: false }).await.unwrap();
    store.mark_answered(a).await.unwrap();
    store.mark_answered(b).await.unwrap();
    let assignments = store.assignments().await.unwrap();
    assert_eq!(assignments, [Assignment { agent_id: "ana".into(), conversation_id: a, since, answered: true }]);
    assert_eq!(store.assignment(a).await.unwrap().as_ref(), assignments.first(), "one record reads the same");
    assert_eq!(store.assignment(b).await.unwrap(), None);
    assert_eq!(store.unassign(a).await.unwrap().unwrap().agent_id, "ana");
    assert!(store.unassign(a).await.unwrap().is_none());
    assert!(store.assignments().await.unwrap().is_empty());
}

async fn presence_pickups_and_left_messages_keep_their_bounds(backend: Backend) {
    let store = &backend.store;
    let until = chrono::Utc::now();
    let presence = Presence { status: baton::store::AgentStatus::Online, until };
    store.set_presence("ana", Some(presence.clone())).await.unwrap();
    store.set_presence("bo", Some(presence.clone())).await.unwrap();
    store.set_presence("bo", None).await.unwrap();
    assert_eq!(store.presence().await.unwrap().into_iter().collect::<Vec<_>>(), [("ana".to_owned(), presence)]);

    for wait in 0..60 {
        store.record_pickup("demo", wait).await.unwrap();
    }
    assert_eq!(store.pickups("demo").await.unwrap(), (10..60).collect::<Vec<u32>>());
    assert!(store.pickups("other").await.unwrap().is_empty());

    let id = ConversationId::new();
    for i in 0..(baton::store::LEFT_MESSAGES_KEPT + 3) {
        let left = LeftMessage {
            conversation_id: id,
            site: "demo".into(),
            email: "v@example.com".into(),
            text: i.to_string(),
            at: until,
        };
        store.add_left_message(left).await.unwrap();
    }
    let left = store.left_messages().await.unwrap();
    assert_eq!(left.len(), baton::store::LEFT_MESSAGES_KEPT);
    assert_eq!((left[0].text.as_str(), left.last().unwrap().text.as_str()), ("3", "202"));
}

/// One test per contract clause per store implementation.
macro_rules! contract {
    ($backend:ident, $make:path: $($clause:ident),* $(,)?) => {
        mod $backend {
            $(
                #[tokio::test]
                async fn $clause() {
                    super::$clause($make().await).await;
                }
            )*
        }
    };
}

macro_rules! every_clause {
    ($backend:ident, $make:path) => {
        contract!(
            $backend, $make:
            appends_are_numbered_without_gaps_and_delivered_in_order,
            a_repeated_dedupe_key_stores_nothing_and_returns_the_first_seq,
            a_precondition_lets_exactly_one_racer_win,
            tokens_find_their_conversation_and_counters_add_up,
            reads_are_bounded_and_a_full_conversation_refuses_more,
            a_state_event_sets_the_state_and_deliveries_carry_the_stored_json,
            ephemeral_frames_reach_followers_and_are_not_stored,
            an_unknown_conversation_is_not_found_and_not_created,
            queue_entries_and_assignments_are_records_written_whole,
            presence_pickups_and_left_messages_keep_their_bounds,
        );
    };
}

every_clause!(memory_store, super::memory);
every_clause!(redis_store, super::redis);

/// What only a shared store has: several nodes, and a Redis that goes away and comes back.
mod shared {
    use super::*;

    #[tokio::test]
    async fn two_nodes_on_one_redis_see_one_conversation_in_seq_order() {
        let server = RedisServer::start();
        let ns = namespace();
        let (a, _, _) = redis_node(&server.url(), &ns).await;
        let (b, b_delivered, b_follow) = redis_node(&server.url(), &ns).await;
        let id = new_conversation(&a, "n1").await;
        b_follow(Topic::Conversation(id)).await;
        let writers: Vec<_> = [a.clone(), b.clone()]
            .into_iter()
            .flat_map(|store| (0..10).map(move |i| (store.clone(), i)))
            .map(|(store, i)| {
                tokio::spawn(async move { store.append(id, EventDraft::new(note(&format!("{i}")))).await })
            })
            .collect();
        for writer in writers {
            assert!(matches!(writer.await.unwrap(), Ok(Appended::New { .. })));
        }
        let seqs = |d: &[Delivery]| d.iter().filter_map(|d| d.seq).collect::<Vec<_>>();
        wait_for(&b_delivered, "20 events on node b", |d| seqs(d).len() >= 20).await;
        assert_eq!(seqs(&b_delivered.lock().unwrap()), (1..=20).collect::<Vec<_>>());
        assert_eq!(b.conversation_by_token("n1").await.unwrap().unwrap().last_seq, 20);
    }

    #[tokio::test]
    async fn a_node_hears_only_the_topics_it_follows() {
        let server = RedisServer::start();
        let ns = namespace();
        let (a, _, _) = redis_node(&server.url(), &ns).await;
        let (_b, b_delivered, b_follow) = redis_node(&server.url(), &ns).await;
        let (followed, other) = (new_conversation(&a, "f1").await, new_conversation(&a, "f2").await);
        b_follow(Topic::Conversation(followed)).await;
        b_follow(Topic::Agents).await;
        a.append(other, EventDraft::new(note("not for b"))).await.unwrap();
        a.append(followed, EventDraft::new(note("for b"))).await.unwrap();
        // Redis sends one subscriber its messages in publish order: once the marker is in,
        // anything published before it would be too.
        a.deliver(Delivery::frame(Topic::Agents, &serde_json::json!({"type": "marker"}))).await.unwrap();
        wait_for(&b_delivered, "the marker", |d| d.iter().any(|d| d.json.contains("marker"))).await;
        let topics: Vec<Topic> = b_delivered.lock().unwrap().iter().map(|d| d.topic.clone()).collect();
        assert_eq!(topics, [Topic::Conversation(followed), Topic::Agents]);
    }

    #[tokio::test]
    async fn following_a_conversation_delivers_its_newest_event_so_cursors_catch_up() {
        let server = RedisServer::start();
        let ns = namespace();
        let (a, _, _) = redis_node(&server.url(), &ns).await;
        let (_b, b_delivered, b_follow) = redis_node(&server.url(), &ns).await;
        let id = new_conversation(&a, "c1").await;
        a.append(id, EventDraft::new(message("one"))).await.unwrap();
        a.append(id, EventDraft::new(message("two"))).await.unwrap();
        a.append(id, EventDraft::new(note("internal"))).await.unwrap();
        b_follow(Topic::Conversation(id)).await;
        let seqs: Vec<(Option<u64>, Audience)> =
            b_delivered.lock().unwrap().iter().map(|d| (d.seq, d.audience)).collect();
        assert_eq!(seqs, [(Some(2), Audience::Everyone), (Some(3), Audience::Agents)]);
    }

    #[tokio::test]
    async fn after_redis_restarts_a_node_is_ready_again_on_its_own_and_nothing_stored_is_lost() {
        let mut server = RedisServer::persistent();
        let (store, delivered, follow) = redis_node(&server.url(), &namespace()).await;
        let id = new_conversation(&store, "r1").await;
        follow(Topic::Conversation(id)).await;
        store.append(id, EventDraft::new(message("before")).dedupe("v:1".into())).await.unwrap();
        server.kill();
        assert!(matches!(store.ping().await, Err(StoreError::Unavailable(_))));
        assert!(matches!(store.append(id, EventDraft::new(message("during"))).await, Err(StoreError::Unavailable(_))));
        server.restart();
        wait_until_ready(&store).await;
        let again = store.append(id, EventDraft::new(message("before")).dedupe("v:1".into())).await.unwrap();
        assert!(matches!(again, Appended::Duplicate { seq: 1 }), "{again:?}");
        store.append(id, EventDraft::new(message("after"))).await.unwrap();
        wait_for(&delivered, "the event after the restart", |d| d.iter().any(|d| d.seq == Some(2))).await;
        let texts: Vec<String> =
            store.events_after(id, 0, 10).await.unwrap().iter().map(|e| text_of(&e.body)).collect();
        assert_eq!(texts, ["before", "after"]);
    }

    #[tokio::test]
    async fn a_node_started_while_redis_is_down_becomes_ready_when_it_comes_up() {
        let mut server = RedisServer::start();
        server.kill();
        let (store, _, _) = redis_node(&server.url(), &namespace()).await;
        assert!(store.ping().await.is_err());
        server.restart();
        wait_until_ready(&store).await;
        new_conversation(&store, "late").await;
    }

    #[tokio::test]
    async fn every_key_is_namespaced_and_a_conversation_expires_after_the_retention() {
        let server = RedisServer::start();
        let ns = namespace();
        let (store, _, _) = redis_node(&server.url(), &ns).await;
        let id = new_conversation(&store, "e1").await;
        store.append(id, EventDraft::new(message("hi")).dedupe("v:1".into())).await.unwrap();
        store
            .set_presence(
                "ana",
                Some(Presence { status: baton::store::AgentStatus::Online, until: chrono::Utc::now() }),
            )
            .await
            .unwrap();
        let client = ::redis::Client::open(server.url()).unwrap();
        let mut conn = client.get_multiplexed_async_connection().await.unwrap();
        let mut keys: Vec<String> = ::redis::cmd("KEYS").arg("*").query_async(&mut conn).await.unwrap();
        keys.sort();
        let tagged = |part: &str| format!("{ns}:c:{{{id}}}:{part}");
        let expected =
            [tagged("dedupe"), tagged("events"), tagged("meta"), format!("{ns}:presence"), format!("{ns}:token:e1")];
        assert_eq!(keys, expected);
        for key in [tagged("dedupe"), tagged("events"), tagged("meta"), format!("{ns}:token:e1")] {
            let ttl: i64 = ::redis::cmd("TTL").arg(&key).query_async(&mut conn).await.unwrap();
            assert!((3590..=3600).contains(&ttl), "{key} expires with the retention (1 h), not in {ttl} s");
        }
    }

    async fn wait_until_ready(store: &Arc<dyn Store>) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        while store.ping().await.is_err() {
            assert!(tokio::time::Instant::now() < deadline, "the store did not come back");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn text_of(body: &EventBody) -> String {
        match body {
            EventBody::Message { text, .. } => text.clone(),
            other => format!("{other:?}"),
        }
    }
}

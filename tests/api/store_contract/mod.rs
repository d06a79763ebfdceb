//! The store contract (see `baton::store`), one suite per role (`EventLog`, `PubSub`,
//! `Handoff`, `AgentPresence`), each written once against [`Stores`] so that every backend
//! runs the same checks: the memory store, and the Redis store on a real `redis-server` (one
//! per test, with a namespace of its own), over TLS, and on a real three-master Redis Cluster. Checks that only a shared store has (several
//! nodes, a Redis restart, expiry) are in [`shared`].

/// One test per contract clause per backend: `contract!(clause, …)` in a role's module.
macro_rules! contract {
    ($($clause:ident),* $(,)?) => {
        mod memory_store {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $clause() {
                    super::$clause(crate::store_contract::memory().await).await;
                }
            )*
        }
        mod redis_store {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $clause() {
                    super::$clause(crate::store_contract::redis().await).await;
                }
            )*
        }
        mod redis_tls_store {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $clause() {
                    super::$clause(crate::store_contract::redis_tls().await).await;
                }
            )*
        }
        mod redis_cluster_store {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $clause() {
                    super::$clause(crate::store_contract::redis_cluster().await).await;
                }
            )*
        }
    };
}

mod allowance;
mod cluster;
mod event_log;
mod feed;
mod handoff;
mod idle;
mod presence;
mod pubsub;
mod shared;
mod tls;
mod visitors;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use baton::config::StoreSettings;
use baton::delivery::{Change, Interest, Kind};
use baton::protocol::{AgentRef, ConversationId, EventBody, Reason, Speaker, State};
use baton::store::memory::MemoryStore;
use baton::store::redis::RedisStore;
use baton::store::{
    Assign, Delivery, NewConversation, QueueChange, QueueEntry, Stores, Topic, Transition, Transitioned,
};
use futures_util::future::BoxFuture;

use crate::redis_cluster::RedisCluster;
use crate::redis_server::{RedisServer, SharedRedis, namespace};

type Delivered = Arc<Mutex<Vec<Delivery>>>;

/// The most events a test conversation holds.
const MAX_EVENTS: u64 = 50;
/// How long a test waits for a delivery it expects.
const DELIVERY_WAIT: Duration = Duration::from_secs(5);

/// Follows a topic on one node and returns once deliveries on it arrive there.
type Follow = Box<dyn Fn(Topic) -> BoxFuture<'static, ()> + Send + Sync>;

/// One store under test, what its node was handed, and how to make the node follow a topic.
pub struct Backend {
    stores: Stores,
    delivered: Delivered,
    /// The memory store delivers everything, so there it does nothing.
    follow: Follow,
    _redis: Option<Box<dyn SharedRedis + Send>>,
}

impl Backend {
    async fn follow(&self, topic: Topic) {
        (self.follow)(topic).await;
    }

    /// The `seq`s delivered for a conversation, in the order they were delivered.
    fn delivered_seqs(&self, id: ConversationId) -> Vec<u64> {
        seqs_of(&self.delivered.lock().unwrap(), id)
    }

    async fn wait_for(&self, what: &str, found: impl Fn(&[Delivery]) -> bool) {
        wait_for(&self.delivered, what, found).await;
    }
}

fn seqs_of(delivered: &[Delivery], id: ConversationId) -> Vec<u64> {
    delivered.iter().filter(|d| d.topic == Topic::Conversation(id)).filter_map(Delivery::seq).collect()
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

pub async fn memory() -> Backend {
    let (delivered, sink) = recorder();
    let store = MemoryStore::new(sink, MAX_EVENTS, Duration::from_secs(3600));
    Backend { stores: Stores::new(Arc::new(store)), delivered, follow: Box::new(|_| Box::pin(async {})), _redis: None }
}

pub async fn redis() -> Backend {
    let server = RedisServer::start();
    let (stores, delivered, follow) = redis_node(&server.url(), &namespace()).await;
    Backend { stores, delivered, follow, _redis: Some(Box::new(server)) }
}

/// The Redis store over TLS (`rediss://`), trusting the CA the test server's certificate
/// was made with (`store.redis_ca_file`).
pub async fn redis_tls() -> Backend {
    let server = RedisServer::tls();
    let mut settings = redis_settings(&server.tls_url(), &namespace());
    settings.redis_ca_file = Some(server.ca_file());
    let (stores, delivered, follow) = redis_node_with(&settings).await;
    Backend { stores, delivered, follow, _redis: Some(Box::new(server)) }
}

/// The Redis store on a three-master Redis Cluster (`store.redis_cluster`), named by all three.
pub async fn redis_cluster() -> Backend {
    let cluster = RedisCluster::start();
    let mut settings = redis_settings(&cluster.url(), &namespace());
    settings.redis_cluster = true;
    let (stores, delivered, follow) = redis_node_with(&settings).await;
    Backend { stores, delivered, follow, _redis: Some(Box::new(cluster)) }
}

pub fn redis_settings(url: &str, namespace: &str) -> StoreSettings {
    StoreSettings {
        redis_url: Some(url.to_owned().into()),
        redis_ca_file: None,
        redis_cluster: false,
        namespace: namespace.to_owned(),
        max_events_per_conversation: MAX_EVENTS,
        retention_hours: 1,
    }
}

/// One Redis node: its stores, what it was handed, and its `follow`.
async fn redis_node(url: &str, namespace: &str) -> (Stores, Delivered, Follow) {
    redis_node_with(&redis_settings(url, namespace)).await
}

/// [`redis_node`] on one Redis or a cluster.
async fn redis_node_on(redis: &dyn SharedRedis, namespace: &str) -> (Stores, Delivered, Follow) {
    let mut settings = redis_settings(&redis.url(), namespace);
    settings.redis_cluster = redis.cluster();
    redis_node_with(&settings).await
}

async fn redis_node_with(settings: &StoreSettings) -> (Stores, Delivered, Follow) {
    let (delivered, sink) = recorder();
    let redis = RedisStore::connect(settings, sink).await.expect("the redis store connects");
    let watcher = redis.watcher();
    let stores = Stores::new(Arc::new(redis));
    let (probe_stores, probe_delivered) = (stores.clone(), delivered.clone());
    let follow: Follow = Box::new(move |topic: Topic| {
        watcher(&topic, Interest::Started);
        let (stores, delivered) = (probe_stores.clone(), probe_delivered.clone());
        Box::pin(async move { probe_until_delivered(&stores, &delivered, topic).await })
    });
    (stores, delivered, follow)
}

/// Publishes probes on `topic` until one comes back (the SUBSCRIBE is confirmed), then
/// forgets them.
async fn probe_until_delivered(stores: &Stores, delivered: &Delivered, topic: Topic) {
    let is_probe = |d: &Delivery| d.json.contains("\"probe\"");
    let deadline = tokio::time::Instant::now() + DELIVERY_WAIT;
    loop {
        stores.pubsub.deliver(Delivery::frame(topic.clone(), &serde_json::json!({"type": "probe"}))).await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
        if delivered.lock().unwrap().iter().any(|d| d.topic == topic && is_probe(d)) {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "never subscribed to {topic:?}");
    }
    delivered.lock().unwrap().retain(|d| !is_probe(d));
}

async fn new_conversation(stores: &Stores, token_hash: &str) -> ConversationId {
    let new = NewConversation {
        id: ConversationId::new(),
        site: "demo".into(),
        token_hash: token_hash.into(),
        visitor: Default::default(),
    };
    stores.log.create_conversation(new).await.unwrap().id
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
        notice: None,
    }
}

fn state(state: State) -> EventBody {
    EventBody::State { state, reason: None, agent: None }
}

fn entry(id: ConversationId, priority: u8) -> QueueEntry {
    QueueEntry {
        conversation_id: id,
        site: "demo".into(),
        team: None,
        reason: Reason::ExplicitRequest,
        priority,
        waiting_since: chrono::Utc::now(),
        returned: false,
    }
}

/// A change of state that touches nothing else.
fn change(from: &'static [State], to: State) -> Transition {
    Transition { event: state(to), from, holder: None, assign: None, unassign: false, queue: QueueChange::Keep }
}

/// Bot → queued, with the conversation's queue entry.
fn enqueue(id: ConversationId, priority: u8) -> Transition {
    Transition { queue: QueueChange::Add(entry(id, priority)), ..change(&[State::Bot], State::Queued) }
}

/// Queued → agent: `agent_id` takes the chat off the queue, within `max_chats`.
fn take(agent_id: &str, max_chats: u32) -> Transition {
    Transition {
        event: EventBody::State {
            state: State::Agent,
            reason: None,
            agent: Some(AgentRef { id: agent_id.into(), name: agent_id.to_uppercase() }),
        },
        from: &[State::Queued],
        holder: None,
        assign: Some(Assign { agent_id: agent_id.into(), max_chats }),
        unassign: false,
        queue: QueueChange::Remove,
    }
}

/// Agent → bot: the holder hands the chat back.
fn hand_back(holder: &str) -> Transition {
    Transition { holder: Some(holder.into()), unassign: true, ..change(&[State::Agent], State::Bot) }
}

/// A transition that must succeed.
async fn done(stores: &Stores, id: ConversationId, transition: Transition) -> Transitioned {
    let outcome = stores.handoff.transition(id, transition).await.unwrap();
    assert!(matches!(outcome, Transitioned::Done { .. }), "{outcome:?}");
    outcome
}

/// The change a `state` event to `state` by `agent` makes, as deliveries carry it.
fn change_to(state: State, agent: Option<&str>) -> Option<Change> {
    Some(Change { state, agent_id: agent.map(Arc::from) })
}

/// The kind of a stored event's delivery.
fn event_kind(seq: u64, change: Option<Change>) -> Kind {
    Kind::Event { seq, change }
}

//! How the handoff's work grows with the queue (BENCHMARKS.md, "Work that grows with the
//! work"): 100, 1,000 and 10,000 waiting chats over 100 sites with 200 agents online, on the
//! memory store and on Redis, through the real sockets. For each size it prints a routing
//! tick (an agent's `status` to the `queue_snapshot` it causes), a queue snapshot for an agent
//! (an agent's `auth` to its `ready`), a new escalation (a visitor's `request_human` to the
//! agents' next `queue_snapshot`), the memory the waiting chats take, and the growth of each
//! from one size to the next (10× the chats: linear work grows about 10×).
//!
//! Ignored: a measurement, not a check (no timed assertions). Run it with
//! `cargo test -p baton --test api scale_bench -- --ignored --nocapture --test-threads 1`.

use std::time::{Duration, Instant};

use baton::config::Settings;
use baton::protocol::{AgentRef, ConversationId, EventBody, Reason, State};
use baton::store::{
    AgentStatus, Assign, NewConversation, Presence, QueueChange, QueueEntry, Stores, Transition, Transitioned,
};
use futures_util::{StreamExt, stream};
use serde_json::json;

use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{Client, TestApp, agent, spawn_app_with};
use crate::redis_server::{RedisServer, namespace};

const SIZES: [usize; 3] = [100, 1_000, 10_000];
const SITES: usize = 100;
const AGENTS: usize = 200;
/// Each measurement is taken this many times; the median is printed.
const SAMPLES: usize = 5;
/// An agent socket this long without a frame has had every snapshot sent so far.
const QUIET: Duration = Duration::from_secs(1);
/// Store writes in flight while seeding.
const SEED_CONCURRENCY: usize = 64;

#[derive(Debug, Clone, Copy)]
struct Figures {
    waiting: usize,
    tick: Duration,
    snapshot: Duration,
    escalation: Duration,
    /// One read of the whole queue from the store.
    queue_read: Duration,
    /// Bytes per waiting chat: process RSS growth (memory store) or Redis `used_memory`.
    bytes_per_chat: f64,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: prints figures"]
async fn scale_bench_queue_of_ten_thousand_memory_store() {
    let mut figures = Vec::new();
    for waiting in SIZES {
        let app = spawn_app_with(|s| configure(s, None)).await;
        let before = rss_bytes();
        figures.push(measure(&app, waiting, || (rss_bytes() - before) as f64).await);
        app.shutdown.cancel();
    }
    report("memory store", &figures);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: prints figures"]
async fn scale_bench_queue_of_ten_thousand_redis() {
    let mut figures = Vec::new();
    for waiting in SIZES {
        let server = RedisServer::start();
        let before = used_memory(&server);
        let url = server.url();
        let app = spawn_app_with(|s| configure(s, Some(url))).await;
        figures.push(measure(&app, waiting, || (used_memory(&server) - before) as f64).await);
        app.shutdown.cancel();
    }
    report("redis store", &figures);
}

/// 100 sites (the shipped `demo` and 99 copies), 200 agents with room for one chat each.
fn configure(settings: &mut Settings, redis_url: Option<String>) {
    let demo = settings.sites.iter().find(|s| s.id == "demo").expect("the demo site").clone();
    settings.sites = (0..SITES)
        .map(|i| {
            let mut site = demo.clone();
            site.id = site_id(i);
            site
        })
        .collect();
    settings.agents = (0..AGENTS).map(|i| agent(&format!("a{i}"), &format!("token-a{i}"), &[], 1)).collect();
    (settings.limits.rate_per_sec, settings.limits.rate_burst) = (1_000_000.0, 1_000_000);
    if let Some(url) = redis_url {
        settings.store.redis_url = Some(url.into());
        settings.store.namespace = namespace();
    }
}

fn site_id(i: usize) -> String {
    if i == 0 { "demo".into() } else { format!("site-{i}") }
}

async fn measure(app: &TestApp, waiting: usize, memory: impl Fn() -> f64) -> Figures {
    seed_agents_at_capacity(&app.store).await;
    seed_waiting(&app.store, waiting).await;
    let bytes_per_chat = memory() / waiting as f64;
    settle_archive(&app.store).await;
    let (mut agent, _) = app.connect_agent("token-a0").await;
    // The first pass sends every waiting visitor their place (10,000 frames may take longer
    // than a test's frame wait); the measured ones send only changes.
    agent.send(json!({"type": "status", "status": "online"})).await;
    first_snapshot(&mut agent).await;
    let mut ticks = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        // Signing in refreshes too: wait until every earlier pass has sent its snapshot.
        agent.drain(QUIET).await;
        let started = Instant::now();
        agent.send(json!({"type": "status", "status": "online"})).await;
        agent.next_of_type("queue_snapshot").await;
        ticks.push(started.elapsed());
    }
    let mut snapshots = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        let started = Instant::now();
        let (_other, _ready) = app.connect_agent("token-a1").await;
        snapshots.push(started.elapsed());
    }
    let mut escalations = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        let (mut visitor, _) = app.connect_visitor().await;
        // Snapshots that other sign-ins caused are not this escalation's.
        agent.drain(QUIET).await;
        let started = Instant::now();
        visitor.send(json!({"type": "request_human"})).await;
        agent.next_of_type("queue_snapshot").await;
        escalations.push(started.elapsed());
    }
    let (tick, snapshot, escalation) = (median(ticks), median(snapshots), median(escalations));
    let mut reads = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        let started = Instant::now();
        app.store.handoff.queue().await.unwrap();
        reads.push(started.elapsed());
    }
    let queue_read = median(reads);
    Figures { waiting, tick, snapshot, escalation, queue_read, bytes_per_chat }
}

/// Waits (up to a minute) for the agent's next `queue_snapshot`.
async fn first_snapshot(agent: &mut Client) {
    let wait = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(Ok(message)) = agent.ws.next().await {
            if let Message::Text(text) = message
                && text.contains("\"queue_snapshot\"")
            {
                return;
            }
        }
        panic!("the agent socket closed");
    });
    wait.await.expect("a queue snapshot within a minute");
}

/// Waits (up to two minutes) until the archive has copied the seeded conversations, so its
/// copying does not run during the measurements.
async fn settle_archive(stores: &Stores) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while stores.feed.backlog().await.unwrap() > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// Every agent online (for an hour) and holding one chat: routing has nobody to give the
/// queue to, so the queue stays as seeded while it is measured.
async fn seed_agents_at_capacity(stores: &Stores) {
    let until = chrono::Utc::now() + chrono::Duration::hours(1);
    stream::iter(0..AGENTS)
        .for_each_concurrent(SEED_CONCURRENCY, |i| async move {
            let agent_id = format!("a{i}");
            let presence = Presence { status: AgentStatus::Online, until };
            stores.presence.set_presence(&agent_id, Some(presence)).await.unwrap();
            let id = queued_chat(stores, 0).await;
            // The janitor's routing pass may have given this chat (or the agent) away first:
            // either way the agent ends up holding one.
            stores.handoff.transition(id, take(&agent_id)).await.unwrap();
        })
        .await;
}

async fn seed_waiting(stores: &Stores, waiting: usize) {
    stream::iter(0..waiting)
        .for_each_concurrent(SEED_CONCURRENCY, |i| async move {
            queued_chat(stores, i).await;
        })
        .await;
}

/// A new conversation of site `i % SITES`, in the queue.
async fn queued_chat(stores: &Stores, i: usize) -> ConversationId {
    let site = site_id(i % SITES);
    let id = ConversationId::new();
    let new =
        NewConversation { id, site: site.clone(), token_hash: format!("bench-{id}"), visitor: Default::default() };
    stores.log.create_conversation(new).await.unwrap();
    let entry = QueueEntry {
        conversation_id: id,
        site,
        team: None,
        reason: Reason::ExplicitRequest,
        priority: u8::try_from(i % 10).unwrap(),
        waiting_since: chrono::Utc::now(),
        returned: false,
    };
    let enqueue = Transition {
        event: EventBody::State { state: State::Queued, reason: Some(Reason::ExplicitRequest), agent: None },
        from: &[State::Bot],
        holder: None,
        assign: None,
        unassign: false,
        queue: QueueChange::Add(entry),
    };
    let queued = stores.handoff.transition(id, enqueue).await.unwrap();
    assert!(matches!(queued, Transitioned::Done { .. }), "{queued:?}");
    id
}

fn take(agent_id: &str) -> Transition {
    let agent = AgentRef { id: agent_id.into(), name: agent_id.into() };
    Transition {
        event: EventBody::State { state: State::Agent, reason: None, agent: Some(agent) },
        from: &[State::Queued],
        holder: None,
        assign: Some(Assign { agent_id: agent_id.into(), max_chats: 1 }),
        unassign: false,
        queue: QueueChange::Remove,
    }
}

fn report(store: &str, figures: &[Figures]) {
    println!("\nscale bench, {store}: {SITES} sites, {AGENTS} agents online (medians of {SAMPLES})");
    println!(
        "| waiting | routing tick | agent queue snapshot | new escalation | queue read | bytes per waiting chat |"
    );
    println!("|---:|---:|---:|---:|---:|---:|");
    for f in figures {
        println!(
            "| {} | {:.2} ms | {:.2} ms | {:.2} ms | {:.2} ms | {:.0} |",
            f.waiting,
            ms(f.tick),
            ms(f.snapshot),
            ms(f.escalation),
            ms(f.queue_read),
            f.bytes_per_chat
        );
    }
    for pair in figures.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let growth = |x: Duration, y: Duration| ms(y) / ms(x).max(1e-6);
        println!(
            "growth {} -> {} waiting ({:.0}x the chats): tick {:.1}x, snapshot {:.1}x, escalation {:.1}x, queue read {:.1}x",
            a.waiting,
            b.waiting,
            b.waiting as f64 / a.waiting as f64,
            growth(a.tick, b.tick),
            growth(a.snapshot, b.snapshot),
            growth(a.escalation, b.escalation),
            growth(a.queue_read, b.queue_read)
        );
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// This process's resident memory (bytes), from `/proc/self/statm`.
pub fn rss_bytes() -> i64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: i64 = statm.split_whitespace().nth(1).and_then(|p| p.parse().ok()).unwrap_or(0);
    pages * 4096
}

/// Redis's `used_memory` (bytes).
fn used_memory(server: &RedisServer) -> i64 {
    let info = server.info("memory");
    info.lines().find_map(|line| line.strip_prefix("used_memory:")).and_then(|v| v.trim().parse().ok()).unwrap_or(0)
}

/// The Redis store's reads alone, without a server around them (no janitor, no archiver):
/// the whole queue and every assignment, at each size.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: prints figures"]
async fn scale_bench_redis_queue_reads_alone() {
    println!("\nredis store alone: one read of the whole queue (medians of {SAMPLES})");
    let mut previous: Option<Duration> = None;
    for waiting in SIZES {
        let server = RedisServer::start();
        let settings = crate::store_contract::redis_settings(&server.url(), &namespace());
        let store = baton::store::redis::RedisStore::connect(&settings, std::sync::Arc::new(|_| {})).await.unwrap();
        let stores = Stores::new(std::sync::Arc::new(store));
        seed_waiting(&stores, waiting).await;
        let mut reads = Vec::with_capacity(SAMPLES);
        for _ in 0..SAMPLES {
            let started = Instant::now();
            assert_eq!(stores.handoff.queue().await.unwrap().len(), waiting);
            reads.push(started.elapsed());
        }
        let read = median(reads);
        let growth =
            previous.map(|p| format!(" ({:.1}x the previous)", ms(read) / ms(p).max(1e-6))).unwrap_or_default();
        println!("{waiting} waiting: {:.2} ms{growth}", ms(read));
        previous = Some(read);
    }
}

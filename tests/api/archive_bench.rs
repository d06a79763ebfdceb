//! The archive's figures (BENCHMARKS.md): how fast the archiver copies (events per second,
//! a backlog drained) and how far the archive trails live traffic (lag p50 and p99). Prints
//! figures, asserts only that everything arrived. Run with:
//! `cargo test --release -p baton --test api archive_figures -- --ignored --nocapture`

use std::sync::Arc;
use std::time::{Duration, Instant};

use baton::archive::Archive;
use baton::archive::archiver::Archiver;
use baton::archive::sql::SqlArchive;
use baton::protocol::{ConversationId, EventBody, Speaker};
use baton::store::memory::MemoryStore;
use baton::store::{EventDraft, NewConversation, Stores};

use crate::helpers::{TempDir, spawn_app_with};
use crate::postgres_server::PostgresServer;

pub(crate) const CONVERSATIONS: usize = 500;
pub(crate) const EVENTS_EACH: usize = 20;

fn message(i: usize) -> EventBody {
    EventBody::Message {
        id: uuid::Uuid::new_v4(),
        from: Speaker::Visitor,
        text: format!("Where is my order number {i}? It was due on Monday and has not arrived."),
        author: None,
        client_id: Some(format!("c{i}")),
        sources: vec![],
        actions: vec![],
        notice: None,
    }
}

/// A new conversation of `length` visitor messages.
async fn conversation(stores: &Stores, token_hash: &str, length: usize) -> ConversationId {
    let new = NewConversation {
        id: ConversationId::new(),
        site: "demo".into(),
        token_hash: token_hash.to_owned(),
        visitor: Default::default(),
    };
    let id = stores.log.create_conversation(new).await.unwrap().id;
    for i in 0..length {
        stores.log.append(id, EventDraft::new(message(i))).await.unwrap();
    }
    id
}

/// A memory store holding a backlog of unarchived conversations.
pub(crate) async fn backlog() -> Stores {
    let store = Arc::new(MemoryStore::new(Arc::new(|_| {}), 10_000, Duration::from_secs(3600)));
    let stores = Stores::new(store);
    for n in 0..CONVERSATIONS {
        conversation(&stores, &format!("bench-{n}"), EVENTS_EACH).await;
    }
    stores
}

/// Drains a backlog into `archive`; prints events per second.
async fn throughput(name: &str, archive: Arc<dyn Archive>) {
    archive.migrate().await.unwrap();
    let stores = backlog().await;
    let archiver = Archiver {
        log: stores.log.clone(),
        feed: stores.feed.clone(),
        archive: archive.clone(),
        poll: Duration::from_millis(20),
        lease: Duration::from_secs(30),
        masks: Default::default(),
    };
    let started = Instant::now();
    archiver.drain().await.unwrap();
    let took = started.elapsed();
    let (events, _, _) = archive.lag().await.unwrap();
    assert_eq!(events as usize, CONVERSATIONS * EVENTS_EACH);
    println!(
        "archive throughput {name}: {events} events in {CONVERSATIONS} conversations drained in {:.2} s: {:.0} events/s, {:.0} conversations/s",
        took.as_secs_f64(),
        events as f64 / took.as_secs_f64(),
        CONVERSATIONS as f64 / took.as_secs_f64()
    );
}

/// Live visitors on a node archiving to `url`; prints the lag from an event's `at` to its write.
async fn lag(name: &str, url: String) {
    let app = spawn_app_with(move |settings| {
        settings.archive.url = url.into();
        settings.archive.poll_ms = 200;
        settings.limits.rate_per_sec = 10_000.0;
        settings.limits.rate_burst = 10_000;
    })
    .await;
    let mut tasks = Vec::new();
    for v in 0..20 {
        let (mut client, _) = app.connect_visitor().await;
        tasks.push(tokio::spawn(async move {
            for i in 0..25 {
                client.say(&format!("v{v}-{i}"), &format!("Question {i} about returns")).await;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let archive = app.archive.clone().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while app.store.feed.backlog().await.unwrap() > 0 {
        assert!(Instant::now() < deadline, "the archive never caught up");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (events, p50, p99) = archive.lag().await.unwrap();
    println!("archive lag {name} (poll 200 ms, 20 visitors): {events} events, p50 {p50:?} ms, p99 {p99:?} ms");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "prints figures for BENCHMARKS.md"]
async fn archive_figures() {
    let dir = TempDir::new("archive-bench");
    throughput("sqlite", Arc::new(SqlArchive::connect(&dir.sqlite_url()).await.unwrap())).await;
    let postgres = tokio::task::spawn_blocking(PostgresServer::start).await.unwrap();
    throughput("postgres", Arc::new(SqlArchive::connect(&postgres.url()).await.unwrap())).await;
    let lag_dir = TempDir::new("archive-bench-lag");
    lag("sqlite", lag_dir.sqlite_url()).await;
    let second = tokio::task::spawn_blocking(PostgresServer::start).await.unwrap();
    lag("postgres", second.url()).await;
}

/// One round holding short conversations (written together in one transaction) and one
/// with more than a page of new events (copied alone, page by page): every event reaches the
/// archive once, in order. Not a figure: it runs with the suite.
#[tokio::test]
async fn a_round_with_a_conversation_longer_than_a_page_copies_every_event_once() {
    let dir = TempDir::new("archive-pages");
    let archive: Arc<dyn Archive> = Arc::new(SqlArchive::connect(&dir.sqlite_url()).await.unwrap());
    archive.migrate().await.unwrap();
    let stores = Stores::new(Arc::new(MemoryStore::new(Arc::new(|_| {}), 10_000, Duration::from_secs(3600))));
    let mut lengths = Vec::new();
    for (n, length) in [3, 1_234, 7].into_iter().enumerate() {
        lengths.push((conversation(&stores, &format!("pages-{n}"), length).await, length));
    }
    let archiver = Archiver {
        log: stores.log.clone(),
        feed: stores.feed.clone(),
        archive: archive.clone(),
        poll: Duration::from_millis(20),
        lease: Duration::from_secs(30),
        masks: Default::default(),
    };
    assert_eq!(archiver.round().await.unwrap(), 3, "one round claims all three");
    for (id, length) in lengths {
        let archived = archive.conversation(id).await.unwrap().expect("archived");
        let seqs: Vec<u64> = archived.events.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
        assert_eq!(seqs, (1..=length as u64).collect::<Vec<_>>(), "{length} events, each once, in order");
    }
    assert_eq!(archiver.round().await.unwrap(), 0, "nothing left in the feed");
}

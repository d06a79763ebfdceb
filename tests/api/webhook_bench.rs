//! The webhooks' figures (BENCHMARKS.md): what folding an archive write into the outbox
//! costs the archiver (a backlog drained with and without a subscription), and how fast one
//! node's dispatcher empties that outbox into a local receiver. Prints figures, asserts only
//! that everything arrived. Run with:
//! `cargo test -p baton --test api webhook_figures -- --ignored --nocapture`

use std::sync::Arc;
use std::time::{Duration, Instant};

use baton::archive::archiver::Archiver;
use baton::archive::sql::SqlArchive;
use baton::archive::webhooks::EventType;
use baton::config::webhooks::WebhookSettings;
use baton::webhooks::Dispatcher;
use tokio_util::sync::CancellationToken;

use crate::archive_bench::{CONVERSATIONS, EVENTS_EACH, backlog};
use crate::helpers::TempDir;
use crate::webhook_receiver::Receiver;

/// Drains the standard backlog into a fresh SQLite archive; returns it and the seconds taken.
async fn drain(subscribed_to: Option<&Receiver>) -> (Arc<SqlArchive>, TempDir, f64) {
    let dir = TempDir::new("webhook-bench");
    let archive = Arc::new(SqlArchive::connect(&dir.sqlite_url()).await.unwrap());
    baton::archive::Archive::migrate(&*archive).await.unwrap();
    if let Some(receiver) = subscribed_to {
        let (_, secret) = archive
            .create_subscription("demo", &receiver.url, &[EventType::MessageCreated], 10)
            .await
            .unwrap()
            .unwrap();
        receiver.set_secret(&secret);
    }
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
    (archive, dir, started.elapsed().as_secs_f64())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "prints figures for BENCHMARKS.md"]
async fn webhook_figures() {
    let events = (CONVERSATIONS * EVENTS_EACH) as f64;
    let (_, _plain_dir, plain) = drain(None).await;
    let receiver = Receiver::start();
    let (archive, _dir, folded) = drain(Some(&receiver)).await;
    let queued = archive.webhook_backlog().await.unwrap();
    assert_eq!(queued as usize, CONVERSATIONS * EVENTS_EACH);
    println!(
        "archive drain, sqlite: no subscription {:.0} events/s ({plain:.2} s); one subscription {:.0} events/s ({folded:.2} s, {queued} deliveries queued)",
        events / plain,
        events / folded
    );
    for concurrency in [8, 32] {
        if concurrency != 8 {
            // The same deliveries again, from the start.
            sqlx_reset(&archive).await;
        }
        let settings = WebhookSettings {
            poll_ms: 10,
            concurrency,
            allow_http: true,
            allow_private_targets: true,
            ..WebhookSettings::default()
        };
        let stop = CancellationToken::new();
        let before = receiver.received().len();
        let started = Instant::now();
        Dispatcher::new(archive.clone(), &settings).unwrap().spawn(stop.clone());
        receiver.wait_until(Duration::from_secs(600), |r| r.len() - before >= CONVERSATIONS * EVENTS_EACH).await;
        let took = started.elapsed().as_secs_f64();
        stop.cancel();
        println!(
            "dispatch, sqlite, concurrency {concurrency}: {} deliveries ({CONVERSATIONS} conversations in order) in {took:.2} s: {:.0} deliveries/s",
            CONVERSATIONS * EVENTS_EACH,
            events / took
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(receiver.received().iter().all(|r| r.signed));
}

/// Every delivery pending again, as if just queued (redelivery of all of them).
async fn sqlx_reset(archive: &SqlArchive) {
    for subscription in archive.subscriptions("demo").await.unwrap() {
        for delivery in archive.webhook_deliveries(&subscription.id, None, 100_000).await.unwrap() {
            archive.redeliver_webhook(&subscription.id, &delivery.id).await.unwrap();
        }
    }
}

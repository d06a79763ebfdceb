//! `ArchiveFeed`: every write puts its conversation in the feed (once it is no longer
//! provisional), claims lease it, and only an archive as of its newest change takes it out.

use std::time::Duration;

use baton::records::{Rating, Record};
use baton::store::feed::Unarchived;
use baton::store::{Counter, EventDraft};

use super::*;

contract!(
    a_provisional_conversation_joins_the_feed_with_its_first_visitor_message,
    every_kind_of_write_puts_the_conversation_in_the_feed,
    a_claim_leases_conversations_oldest_due_first,
    an_archive_of_an_older_change_leaves_it_due_again,
);

/// A lease no test outlives.
const LONG: Duration = Duration::from_secs(3600);

async fn claim_all(backend: &Backend) -> Vec<Unarchived> {
    backend.stores.feed.claim_unarchived(100, LONG).await.unwrap()
}

/// Claims and reports archived everything in the feed.
async fn archive_all(backend: &Backend) {
    for item in claim_all(backend).await {
        backend.stores.feed.archived(item.id, item.rev).await.unwrap();
    }
    assert_eq!(backend.stores.feed.backlog().await.unwrap(), 0);
}

/// A conversation the visitor wrote to (so no longer provisional).
async fn kept_conversation(stores: &Stores, token_hash: &str) -> ConversationId {
    let id = new_conversation(stores, token_hash).await;
    stores.log.append(id, EventDraft::new(message("hello"))).await.unwrap();
    id
}

async fn a_provisional_conversation_joins_the_feed_with_its_first_visitor_message(backend: Backend) {
    let Stores { log, feed, .. } = &backend.stores;
    let id = new_conversation(&backend.stores, "p0").await;
    // The greeting, a record and a counter: writes, but not the visitor's.
    log.append(id, EventDraft::new(note("greeting"))).await.unwrap();
    log.incr(id, Counter::BotTurns, 1).await.unwrap();
    let rating = Record::Rating(Rating { score: 3, comment: None, at: chrono::Utc::now() });
    log.set_record(id, rating).await.unwrap();
    assert!(claim_all(&backend).await.is_empty(), "a hello alone is never archived");
    assert_eq!(feed.backlog().await.unwrap(), 0);
    log.append(id, EventDraft::new(message("hello"))).await.unwrap();
    let claimed = claim_all(&backend).await;
    assert_eq!(claimed.iter().map(|u| u.id).collect::<Vec<_>>(), [id], "the visitor's first message marks it");
    feed.archived(id, claimed[0].rev).await.unwrap();
    // Asking for a person keeps a conversation too, with no message of the visitor's.
    let asked = new_conversation(&backend.stores, "p1").await;
    done(&backend.stores, asked, enqueue(asked, 1)).await;
    let claimed = claim_all(&backend).await;
    assert_eq!(claimed.iter().map(|u| u.id).collect::<Vec<_>>(), [asked], "a queued one is kept");
}

async fn every_kind_of_write_puts_the_conversation_in_the_feed(backend: Backend) {
    let Stores { log, feed, .. } = &backend.stores;
    let id = kept_conversation(&backend.stores, "f1").await;
    let created = claim_all(&backend).await;
    assert_eq!(created.iter().map(|u| u.id).collect::<Vec<_>>(), [id], "a kept conversation is unarchived");
    feed.archived(id, created[0].rev).await.unwrap();
    assert_eq!(feed.backlog().await.unwrap(), 0);
    let mut revs = vec![created[0].rev];
    let rating = Record::Rating(Rating { score: 3, comment: None, at: chrono::Utc::now() });
    for step in 0..4 {
        match step {
            0 => drop(log.append(id, EventDraft::new(note("n"))).await.unwrap()),
            1 => drop(done(&backend.stores, id, enqueue(id, 1)).await),
            2 => log.set_record(id, rating.clone()).await.unwrap(),
            _ => drop(log.incr(id, Counter::BotTurns, 1).await.unwrap()),
        }
        let claimed = claim_all(&backend).await;
        assert_eq!(claimed.iter().map(|u| u.id).collect::<Vec<_>>(), [id], "write {step} marks it");
        assert!(!revs.contains(&claimed[0].rev), "write {step} gives a new change number");
        revs.push(claimed[0].rev);
        feed.archived(id, claimed[0].rev).await.unwrap();
        assert_eq!(feed.backlog().await.unwrap(), 0);
    }
    feed.archived(ConversationId::new(), 1).await.unwrap();
}

async fn a_claim_leases_conversations_oldest_due_first(backend: Backend) {
    let feed = &backend.stores.feed;
    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(kept_conversation(&backend.stores, &format!("f2-{i}")).await);
        // Due times are kept to the millisecond.
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    let first = feed.claim_unarchived(2, LONG).await.unwrap();
    assert_eq!(first.iter().map(|u| u.id).collect::<Vec<_>>(), ids[..2], "oldest due first, at most the limit");
    let second = feed.claim_unarchived(10, LONG).await.unwrap();
    assert_eq!(second.iter().map(|u| u.id).collect::<Vec<_>>(), ids[2..], "claimed ones are not due");
    assert!(feed.claim_unarchived(10, LONG).await.unwrap().is_empty());
    assert_eq!(feed.backlog().await.unwrap(), 3, "claimed is still unarchived");
    // A claim whose lease has ended (its node died mid-copy) is due again.
    let late = kept_conversation(&backend.stores, "f2-late").await;
    let lapsed = feed.claim_unarchived(10, Duration::ZERO).await.unwrap();
    assert_eq!(lapsed.iter().map(|u| u.id).collect::<Vec<_>>(), [late]);
    let retaken = feed.claim_unarchived(10, LONG).await.unwrap();
    assert_eq!(retaken, lapsed, "due again once the lease is over, with the same change number");
}

async fn an_archive_of_an_older_change_leaves_it_due_again(backend: Backend) {
    let Stores { log, feed, .. } = &backend.stores;
    let id = kept_conversation(&backend.stores, "f3").await;
    let claimed = claim_all(&backend).await;
    // A write while the archiver copies: its copy is of an older change.
    log.append(id, EventDraft::new(note("late"))).await.unwrap();
    feed.archived(id, claimed[0].rev).await.unwrap();
    let again = claim_all(&backend).await;
    assert_eq!(again.iter().map(|u| u.id).collect::<Vec<_>>(), [id], "due again at once, lease or not");
    assert_ne!(again[0].rev, claimed[0].rev);
    feed.archived(id, again[0].rev).await.unwrap();
    archive_all(&backend).await;
}

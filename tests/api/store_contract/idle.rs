//! `IdleWatch`: every write to a real conversation makes it due at once for the inactivity
//! rules; claims lease it; `idle_due` sets when it is next due, `unwatch` takes it out, and a
//! later write brings it back.

use std::time::Duration;

use baton::store::EventDraft;

use super::*;

contract!(
    a_write_to_a_real_conversation_makes_it_due_and_a_hello_alone_never_does,
    a_claim_leases_and_idle_due_and_unwatch_say_when_it_is_next_looked_at,
);

/// A lease no test outlives.
const LONG: Duration = Duration::from_secs(3600);

async fn claim_all(backend: &Backend) -> Vec<ConversationId> {
    backend.stores.idle.claim_idle(100, LONG).await.unwrap()
}

async fn a_write_to_a_real_conversation_makes_it_due_and_a_hello_alone_never_does(backend: Backend) {
    let Stores { log, .. } = &backend.stores;
    let id = new_conversation(&backend.stores, "i0").await;
    log.append(id, EventDraft::new(note("greeting"))).await.unwrap();
    assert!(claim_all(&backend).await.is_empty(), "a provisional conversation is not watched");
    log.append(id, EventDraft::new(message("hello"))).await.unwrap();
    assert_eq!(claim_all(&backend).await, [id], "the visitor's message makes it due");
    assert!(claim_all(&backend).await.is_empty(), "claimed: leased");
    done(&backend.stores, id, enqueue(id, 1)).await;
    assert_eq!(claim_all(&backend).await, [id], "a change during the lease makes it due at once");
}

async fn a_claim_leases_and_idle_due_and_unwatch_say_when_it_is_next_looked_at(backend: Backend) {
    let Stores { log, idle, .. } = &backend.stores;
    let (a, b) = (new_conversation(&backend.stores, "i1").await, new_conversation(&backend.stores, "i2").await);
    for id in [a, b] {
        log.append(id, EventDraft::new(message("hello"))).await.unwrap();
    }
    let mut claimed = claim_all(&backend).await;
    claimed.sort();
    let mut both = vec![a, b];
    both.sort();
    assert_eq!(claimed, both);
    let past = chrono::Utc::now() - chrono::Duration::seconds(1);
    idle.idle_due(a, past).await.unwrap();
    idle.idle_due(b, chrono::Utc::now() + chrono::Duration::hours(1)).await.unwrap();
    assert_eq!(claim_all(&backend).await, [a], "due in the past: due now; in an hour: not yet");
    idle.unwatch(a).await.unwrap();
    idle.idle_due(a, past).await.unwrap();
    assert!(claim_all(&backend).await.is_empty(), "unwatched, and idle_due does not bring it back");
    log.append(a, EventDraft::new(note("n"))).await.unwrap();
    assert_eq!(claim_all(&backend).await, [a], "a write does");
}

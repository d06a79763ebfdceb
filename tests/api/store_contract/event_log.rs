//! `EventLog`: numbering, idempotency, preconditions, bounds, counters and records.

use baton::escalation::PolicyState;
use baton::protocol::{ConversationId, State};
use baton::records::{EscalationRecord, Handback, Rating, Record, Records};
use baton::store::{Appended, Audience, Counter, Delivery, EventDraft, StoreError, Topic, Transitioned};

use super::*;

contract!(
    appends_are_numbered_without_gaps_and_delivered_in_order,
    a_repeated_dedupe_key_stores_nothing_and_returns_the_first_seq,
    an_expectation_refuses_an_append_in_any_other_state,
    an_append_never_changes_the_state,
    tokens_find_their_conversation_and_counters_add_up,
    every_record_reads_back_as_written_and_replaces_its_kind,
    reads_are_bounded_and_a_full_conversation_refuses_more,
    deliveries_carry_the_stored_json_kind_and_audience,
    an_unknown_conversation_is_not_found_and_not_created,
    each_turn_is_claimed_by_one_claimant_and_a_newer_turn_wins,
);

async fn each_turn_is_claimed_by_one_claimant_and_a_newer_turn_wins(backend: Backend) {
    let log = &backend.stores.log;
    let id = new_conversation(&backend.stores, "claims").await;
    assert!(log.claim_turn(id, 2, "first").await.unwrap());
    assert!(!log.claim_turn(id, 2, "second").await.unwrap(), "one claimant per turn");
    assert!(log.claim_turn(id, 2, "first").await.unwrap(), "a retry keeps its claim");
    assert!(log.claim_turn(id, 5, "second").await.unwrap(), "a newer turn is claimed");
    assert!(!log.claim_turn(id, 3, "third").await.unwrap(), "an older turn is covered by the newer one");
    assert!(!log.claim_turn(id, 2, "first").await.unwrap(), "nor is the old claim kept past a newer one");
    let missing = log.claim_turn(ConversationId::new(), 1, "x").await;
    assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");
}

async fn appends_are_numbered_without_gaps_and_delivered_in_order(backend: Backend) {
    let log = &backend.stores.log;
    let id = new_conversation(&backend.stores, "t1").await;
    backend.follow(Topic::Conversation(id)).await;
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let log = log.clone();
            tokio::spawn(async move { log.append(id, EventDraft::new(note(&i.to_string()))).await.unwrap() })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let seqs: Vec<u64> = log.events_after(id, 0, 100).await.unwrap().iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=20).collect::<Vec<_>>());
    backend.wait_for("all 20 events", |_| backend.delivered_seqs(id).len() >= 20).await;
    assert_eq!(backend.delivered_seqs(id), seqs);
}

async fn a_repeated_dedupe_key_stores_nothing_and_returns_the_first_seq(backend: Backend) {
    let log = &backend.stores.log;
    let id = new_conversation(&backend.stores, "t2").await;
    let first = log.append(id, EventDraft::new(note("a")).dedupe("v:c1".into())).await.unwrap();
    let again = log.append(id, EventDraft::new(note("a")).dedupe("v:c1".into())).await.unwrap();
    assert!(matches!(first, Appended::New { ref event, state: State::Bot } if event.seq == 1));
    assert!(matches!(again, Appended::Duplicate { seq: 1 }));
    assert_eq!(log.conversation(id).await.unwrap().unwrap().last_seq, 1);
}

async fn an_expectation_refuses_an_append_in_any_other_state(backend: Backend) {
    let log = &backend.stores.log;
    let id = new_conversation(&backend.stores, "t3").await;
    let refused = log.append(id, EventDraft::new(message("hi")).expect(&[State::Agent])).await.unwrap();
    assert!(matches!(refused, Appended::Refused { state: State::Bot }), "{refused:?}");
    done(&backend.stores, id, enqueue(id, 1)).await;
    let stored = log.append(id, EventDraft::new(message("hi")).expect(&[State::Bot, State::Queued])).await.unwrap();
    assert!(matches!(stored, Appended::New { ref event, state: State::Queued } if event.seq == 2), "{stored:?}");
    assert_eq!(log.conversation(id).await.unwrap().unwrap().last_seq, 2, "the refused append stored nothing");
}

async fn an_append_never_changes_the_state(backend: Backend) {
    let log = &backend.stores.log;
    let id = new_conversation(&backend.stores, "t4").await;
    let refused = log.append(id, EventDraft::new(state(State::Agent))).await.unwrap();
    assert!(matches!(refused, Appended::Refused { state: State::Bot }), "{refused:?}");
    let conversation = log.conversation(id).await.unwrap().unwrap();
    assert_eq!((conversation.state, conversation.last_seq), (State::Bot, 0));
    let not_a_change = backend.stores.handoff.transition(id, Transition { event: note("x"), ..enqueue(id, 1) });
    assert!(matches!(not_a_change.await.unwrap(), Transitioned::Refused { state: State::Bot }));
    assert!(backend.stores.handoff.queue().await.unwrap().is_empty(), "a refused transition changes nothing");
}

async fn tokens_find_their_conversation_and_counters_add_up(backend: Backend) {
    let log = &backend.stores.log;
    let id = new_conversation(&backend.stores, "hash-of-token").await;
    assert_eq!(log.conversation_by_token("hash-of-token").await.unwrap().unwrap().id, id);
    assert!(log.conversation_by_token("other").await.unwrap().is_none());
    log.incr(id, Counter::BotErrors, 1).await.unwrap();
    assert_eq!(log.incr(id, Counter::BotErrors, 2).await.unwrap(), 3);
    log.set_record(id, Record::Rating(Rating { score: 5, comment: None, at: chrono::Utc::now() })).await.unwrap();
    let conversation = log.conversation(id).await.unwrap().unwrap();
    assert_eq!(conversation.counter(Counter::BotErrors), 3);
    assert_eq!(conversation.counter(Counter::BotTurns), 0);
    assert_eq!(conversation.records.rating.as_ref().map(|r| r.score), Some(5));
    assert_eq!((conversation.site.as_str(), conversation.state, conversation.last_seq), ("demo", State::Bot, 0));
}

async fn every_record_reads_back_as_written_and_replaces_its_kind(backend: Backend) {
    let log = &backend.stores.log;
    let id = new_conversation(&backend.stores, "r1").await;
    // Whole seconds and a confidence exact in f32, so every value survives any encoding.
    let at = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap();
    let written = [
        Record::Escalation(EscalationRecord {
            reason: Reason::Topic,
            priority: 7,
            detail: "topic \"legal\" ✓".into(),
            signals: None,
            team: Some("legal".into()),
            at,
        }),
        Record::Policy(PolicyState { offered: true, offer_reason: Some(Reason::LowConfidence), offer_score: 0.5 }),
        Record::ModelConfidence(0.25),
        Record::Summary("wants a refund".into()),
        Record::Summary("wants a refund, then a discount".into()),
        Record::Handback(Handback { agent: "Ana".into(), said: "Sent the label.".into() }),
        Record::Rating(Rating { score: 4, comment: Some("quick".into()), at }),
    ];
    let mut expected = Records::default();
    for record in written {
        expected.apply(record.clone());
        log.set_record(id, record).await.unwrap();
    }
    let records = log.conversation(id).await.unwrap().unwrap().records;
    assert_eq!(records, expected);
    assert_eq!(records.summary.as_deref(), Some("wants a refund, then a discount"), "the newest of a kind wins");
}

async fn reads_are_bounded_and_a_full_conversation_refuses_more(backend: Backend) {
    let log = &backend.stores.log;
    let id = new_conversation(&backend.stores, "t5").await;
    for i in 0..MAX_EVENTS {
        log.append(id, EventDraft::new(note(&i.to_string()))).await.unwrap();
    }
    let refused = log.append(id, EventDraft::new(note("one too many"))).await;
    assert!(matches!(refused, Err(StoreError::Full(_))), "{refused:?}");
    let refused = backend.stores.handoff.transition(id, enqueue(id, 1)).await;
    assert!(matches!(refused, Err(StoreError::Full(_))), "transitions have the same bound: {refused:?}");
    assert!(backend.stores.handoff.queue().await.unwrap().is_empty(), "a full conversation is not queued");
    let page = log.events_after(id, 10, 5).await.unwrap();
    assert_eq!(page.iter().map(|e| e.seq).collect::<Vec<_>>(), [11, 12, 13, 14, 15]);
    let recent = log.recent_events(id, 3).await.unwrap();
    assert_eq!(recent.iter().map(|e| e.seq).collect::<Vec<_>>(), [48, 49, 50]);
    assert!(log.events_after(id, 50, 5).await.unwrap().is_empty());
    assert_eq!(log.recent_events(id, 500).await.unwrap().len(), 50);
}

async fn deliveries_carry_the_stored_json_kind_and_audience(backend: Backend) {
    let log = &backend.stores.log;
    let id = new_conversation(&backend.stores, "t6").await;
    backend.follow(Topic::Conversation(id)).await;
    log.append(id, EventDraft::new(message("hello \"there\" ünïcode ✓"))).await.unwrap();
    done(&backend.stores, id, enqueue(id, 1)).await;
    log.append(id, EventDraft::new(note("internal"))).await.unwrap();
    assert_eq!(log.conversation(id).await.unwrap().unwrap().state, State::Queued);
    backend.wait_for("three events", |_| backend.delivered_seqs(id).len() == 3).await;
    let stored = log.events_after(id, 0, 10).await.unwrap();
    let delivered = backend.delivered.lock().unwrap().clone();
    let events: Vec<&Delivery> = delivered.iter().filter(|d| d.seq().is_some()).collect();
    assert_eq!(events.len(), stored.len());
    for (event, delivery) in stored.iter().zip(events) {
        let expected = Delivery::event(event);
        assert_eq!(
            (&delivery.topic, &delivery.kind, &delivery.json, delivery.audience),
            (&expected.topic, &expected.kind, &expected.json, expected.audience)
        );
    }
    let kinds: Vec<Kind> = delivered.iter().map(|d| d.kind.clone()).collect();
    assert_eq!(kinds, [event_kind(1, None), event_kind(2, change_to(State::Queued, None)), event_kind(3, None)]);
    assert_eq!(delivered.iter().filter(|d| d.audience == Audience::Agents).count(), 1, "only the note is for agents");
}

async fn an_unknown_conversation_is_not_found_and_not_created(backend: Backend) {
    let Stores { log, handoff, .. } = &backend.stores;
    let id = ConversationId::new();
    assert!(log.conversation(id).await.unwrap().is_none());
    assert_eq!(log.state(id).await.unwrap(), None);
    assert!(matches!(log.append(id, EventDraft::new(note("x"))).await, Err(StoreError::NotFound)));
    assert!(matches!(log.events_after(id, 0, 5).await, Err(StoreError::NotFound)));
    assert!(matches!(log.incr(id, Counter::BotTurns, 1).await, Err(StoreError::NotFound)));
    assert!(matches!(log.set_record(id, Record::Summary("x".into())).await, Err(StoreError::NotFound)));
    assert!(matches!(handoff.transition(id, enqueue(id, 1)).await, Err(StoreError::NotFound)));
    assert!(matches!(handoff.transition(id, take("ana", 1)).await, Err(StoreError::NotFound)));
    assert!(log.conversation(id).await.unwrap().is_none(), "a failed write leaves nothing behind");
    assert!(handoff.queue().await.unwrap().is_empty() && handoff.assignments().await.unwrap().is_empty());
}

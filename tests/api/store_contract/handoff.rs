//! `Handoff`: the atomic transition (one winner, capacity, holder, queue, assignment, the
//! `assigned` delivery), the records it keeps, pickups and left messages.

use baton::protocol::{ConversationId, State};
use baton::store::{
    Assignment, Audience, Delivery, HandledMark, LEFT_MESSAGES_KEPT, LeftMessage, QueueChange, Stores, Topic,
    Transition, Transitioned,
};

use super::*;

contract!(
    exactly_one_of_many_concurrent_takers_wins,
    concurrent_assignments_never_exceed_an_agents_capacity,
    capacity_counts_only_the_agents_other_chats,
    the_holder_precondition_refuses_everyone_but_the_holder,
    the_queue_entry_is_added_replaced_and_removed_with_its_transition,
    a_refused_transition_changes_nothing,
    an_assignment_reaches_the_agents_topic_as_an_assigned_delivery,
    a_state_events_delivery_carries_the_new_state_and_agent,
    assignments_are_records_written_whole,
    pickups_and_left_messages_keep_their_bounds,
    a_handled_mark_covers_every_left_message_of_its_conversation_and_can_be_cleared,
);

/// `n` queued conversations.
async fn queued(stores: &Stores, n: usize) -> Vec<ConversationId> {
    let mut ids = Vec::new();
    for i in 0..n {
        let id = new_conversation(stores, &format!("queued-{i}")).await;
        done(stores, id, enqueue(id, 1)).await;
        ids.push(id);
    }
    ids
}

async fn exactly_one_of_many_concurrent_takers_wins(backend: Backend) {
    let stores = &backend.stores;
    let id = queued(stores, 1).await[0];
    let racers: Vec<_> = (0..8)
        .map(|i| {
            let handoff = stores.handoff.clone();
            tokio::spawn(async move { (i, handoff.transition(id, take(&format!("agent-{i}"), 3)).await.unwrap()) })
        })
        .collect();
    let mut winners = Vec::new();
    for racer in racers {
        match racer.await.unwrap() {
            (i, Transitioned::Done { event, dequeued }) => {
                assert_eq!(dequeued.map(|e| e.conversation_id), Some(id), "the winner takes the entry off the queue");
                assert_eq!(event.seq, 2);
                winners.push(format!("agent-{i}"));
            }
            (_, Transitioned::Refused { state }) => assert_eq!(state, State::Agent),
            (_, other) => panic!("only the state decides this race: {other:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    let assignment = stores.handoff.assignment(id).await.unwrap().expect("the winner's assignment");
    assert_eq!(assignment.agent_id, winners[0]);
    assert_eq!(stores.handoff.assignments().await.unwrap().len(), 1);
    assert!(stores.handoff.queue().await.unwrap().is_empty());
    let conversation = stores.log.conversation(id).await.unwrap().unwrap();
    assert_eq!((conversation.state, conversation.last_seq), (State::Agent, 2));
}

async fn concurrent_assignments_never_exceed_an_agents_capacity(backend: Backend) {
    let stores = &backend.stores;
    let ids = queued(stores, 8).await;
    let racers: Vec<_> = ids
        .iter()
        .map(|&id| {
            let handoff = stores.handoff.clone();
            tokio::spawn(async move { handoff.transition(id, take("ana", 1)).await.unwrap() })
        })
        .collect();
    let mut taken = 0;
    for racer in racers {
        match racer.await.unwrap() {
            Transitioned::Done { .. } => taken += 1,
            Transitioned::AtCapacity => {}
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(taken, 1);
    let assignments = stores.handoff.assignments().await.unwrap();
    assert_eq!(assignments.iter().filter(|a| a.agent_id == "ana").count(), 1);
    assert_eq!(stores.handoff.queue().await.unwrap().len(), 7, "the refused stay queued");
    let mut states = Vec::new();
    for id in &ids {
        states.push(stores.log.state(*id).await.unwrap().unwrap());
    }
    assert_eq!(states.iter().filter(|s| **s == State::Agent).count(), 1);
}

async fn capacity_counts_only_the_agents_other_chats(backend: Backend) {
    let stores = &backend.stores;
    let [a, b] = queued(stores, 2).await[..] else { unreachable!() };
    done(stores, a, take("ana", 1)).await;
    // A transfer back to the agent who has the chat: it is not another chat.
    let again = Transition { from: &[State::Agent], queue: QueueChange::Keep, ..take("ana", 1) };
    done(stores, a, again).await;
    assert!(matches!(stores.handoff.transition(b, take("ana", 1)).await.unwrap(), Transitioned::AtCapacity));
    done(stores, b, take("bo", 1)).await;
    // Handing back frees the seat; raising max_chats makes room too.
    done(stores, a, hand_back("ana")).await;
    done(stores, a, enqueue(a, 1)).await;
    done(stores, a, take("ana", 1)).await;
    let c = queued(stores, 1).await[0];
    done(stores, c, take("ana", 2)).await;
    let mut held: Vec<_> =
        stores.handoff.assignments().await.unwrap().into_iter().map(|x| (x.agent_id, x.conversation_id)).collect();
    held.sort();
    let mut expected = vec![("ana".to_owned(), a), ("ana".to_owned(), c), ("bo".to_owned(), b)];
    expected.sort();
    assert_eq!(held, expected);
}

async fn the_holder_precondition_refuses_everyone_but_the_holder(backend: Backend) {
    let stores = &backend.stores;
    let id = queued(stores, 1).await[0];
    done(stores, id, take("ana", 2)).await;
    let outcome = stores.handoff.transition(id, hand_back("bo")).await.unwrap();
    assert!(matches!(outcome, Transitioned::NotHolder), "{outcome:?}");
    assert_eq!(stores.handoff.assignment(id).await.unwrap().unwrap().agent_id, "ana");
    done(stores, id, hand_back("ana")).await;
    assert_eq!(stores.handoff.assignment(id).await.unwrap(), None, "unassign removes the assignment");
    let resolve = Transition { holder: Some("ana".into()), ..change(&[State::Bot], State::Resolved) };
    let outcome = stores.handoff.transition(id, resolve).await.unwrap();
    assert!(matches!(outcome, Transitioned::NotHolder), "nobody holds it now: {outcome:?}");
    // A transfer: the holder's assignment is replaced by the new agent's.
    done(stores, id, enqueue(id, 1)).await;
    done(stores, id, take("ana", 2)).await;
    let transfer = Transition { from: &[State::Agent], holder: Some("ana".into()), ..take("bo", 2) };
    done(stores, id, Transition { queue: QueueChange::Keep, ..transfer }).await;
    assert_eq!(stores.handoff.assignment(id).await.unwrap().unwrap().agent_id, "bo");
    assert_eq!(stores.handoff.assignments().await.unwrap().len(), 1);
    let c = queued(stores, 1).await[0];
    done(stores, c, take("ana", 1)).await;
}

async fn the_queue_entry_is_added_replaced_and_removed_with_its_transition(backend: Backend) {
    let stores = &backend.stores;
    let (a, b) = (new_conversation(stores, "q1").await, new_conversation(stores, "q2").await);
    done(stores, a, enqueue(a, 1)).await;
    let raise = Transition { queue: QueueChange::Add(entry(a, 7)), ..change(&[State::Queued], State::Queued) };
    done(stores, a, raise).await;
    done(stores, b, enqueue(b, 2)).await;
    let mut queue = stores.handoff.queue().await.unwrap();
    queue.sort_by_key(|e| e.priority);
    assert_eq!(queue.iter().map(|e| (e.conversation_id, e.priority)).collect::<Vec<_>>(), [(b, 2), (a, 7)]);
    let Transitioned::Done { dequeued, .. } = done(stores, a, take("ana", 5)).await else { unreachable!() };
    assert_eq!(dequeued.map(|e| (e.conversation_id, e.priority)), Some((a, 7)));
    let leave = Transition { queue: QueueChange::Remove, ..hand_back("ana") };
    let Transitioned::Done { dequeued, .. } = done(stores, a, leave).await else { unreachable!() };
    assert_eq!(dequeued, None, "removing an entry that is not there is no error");
    let queue = stores.handoff.queue().await.unwrap();
    assert_eq!(queue.iter().map(|e| e.conversation_id).collect::<Vec<_>>(), [b]);
}

async fn a_refused_transition_changes_nothing(backend: Backend) {
    let stores = &backend.stores;
    let [a, b] = queued(stores, 2).await[..] else { unreachable!() };
    done(stores, a, take("ana", 1)).await;
    let before = stores.log.conversation(b).await.unwrap().unwrap();
    let attempts = [
        (take("ana", 1), "at capacity"),
        (Transition { holder: Some("bo".into()), ..take("bo", 1) }, "not the holder"),
        (Transition { from: &[State::Bot], ..take("bo", 1) }, "refused"),
    ];
    for (attempt, what) in attempts {
        let outcome = stores.handoff.transition(b, attempt).await.unwrap();
        assert!(!matches!(outcome, Transitioned::Done { .. }), "{what}: {outcome:?}");
    }
    assert_eq!(stores.log.conversation(b).await.unwrap().unwrap(), before);
    assert_eq!(stores.handoff.queue().await.unwrap().iter().map(|e| e.conversation_id).collect::<Vec<_>>(), [b]);
    assert_eq!(stores.handoff.assignment(b).await.unwrap(), None);
}

async fn an_assignment_reaches_the_agents_topic_as_an_assigned_delivery(backend: Backend) {
    let stores = &backend.stores;
    let id = queued(stores, 1).await[0];
    backend.follow(Topic::Agent("ana".into())).await;
    done(stores, id, take("ana", 1)).await;
    let assigned = |d: &Delivery| d.topic == Topic::Agent("ana".into());
    backend.wait_for("the assigned delivery", |d| d.iter().any(assigned)).await;
    let delivered: Vec<Delivery> = backend.delivered.lock().unwrap().iter().filter(|d| assigned(d)).cloned().collect();
    assert_eq!(delivered.len(), 1);
    let expected = Delivery::assigned("ana", id);
    assert_eq!(
        (&delivered[0].kind, delivered[0].audience, &*delivered[0].json),
        (&expected.kind, Audience::Agents, "")
    );
}

async fn a_state_events_delivery_carries_the_new_state_and_agent(backend: Backend) {
    let stores = &backend.stores;
    let id = queued(stores, 1).await[0];
    backend.follow(Topic::Conversation(id)).await;
    done(stores, id, take("ana:1.x", 1)).await;
    done(stores, id, hand_back("ana:1.x")).await;
    backend.wait_for("both state events", |d| seqs_of(d, id).contains(&3)).await;
    let delivered = backend.delivered.lock().unwrap().clone();
    // The queued event (seq 1) may be delivered too (on following, or before): not this test's.
    let kinds: Vec<Kind> = delivered
        .iter()
        .filter(|d| d.topic == Topic::Conversation(id) && d.seq() > Some(1))
        .map(|d| d.kind.clone())
        .collect();
    assert_eq!(
        kinds,
        [event_kind(2, change_to(State::Agent, Some("ana:1.x"))), event_kind(3, change_to(State::Bot, None))]
    );
    let first = delivered.iter().find(|d| d.seq() == Some(2)).unwrap();
    assert_eq!(first.change().and_then(|c| c.agent_id.as_deref()), Some("ana:1.x"));
}

async fn assignments_are_records_written_whole(backend: Backend) {
    let stores = &backend.stores;
    let [a, b] = queued(stores, 2).await[..] else { unreachable!() };
    let Transitioned::Done { event, .. } = done(stores, a, take("ana", 2)).await else { unreachable!() };
    let taken = Assignment { agent_id: "ana".into(), conversation_id: a, since: event.at, answered: false };
    assert_eq!(stores.handoff.assignment(a).await.unwrap(), Some(taken.clone()), "since is the event's at");
    stores.handoff.mark_answered(a).await.unwrap();
    stores.handoff.mark_answered(b).await.unwrap();
    let assignments = stores.handoff.assignments().await.unwrap();
    assert_eq!(assignments, [Assignment { answered: true, ..taken }]);
    assert_eq!(stores.handoff.assignment(a).await.unwrap().as_ref(), assignments.first(), "one record reads the same");
    assert_eq!(stores.handoff.assignment(b).await.unwrap(), None, "marking an unassigned chat creates nothing");
    let retake = Transition { from: &[State::Agent], queue: QueueChange::Keep, ..take("ana", 2) };
    done(stores, a, retake).await;
    assert!(!stores.handoff.assignment(a).await.unwrap().unwrap().answered, "a new assignment starts unanswered");
    done(stores, a, Transition { unassign: true, ..change(&[State::Agent], State::Resolved) }).await;
    assert!(stores.handoff.assignments().await.unwrap().is_empty());
}

async fn pickups_and_left_messages_keep_their_bounds(backend: Backend) {
    let handoff = &backend.stores.handoff;
    for wait in 0..60 {
        handoff.record_pickup("demo", wait).await.unwrap();
    }
    assert_eq!(handoff.pickups("demo").await.unwrap(), (10..60).collect::<Vec<u32>>());
    assert!(handoff.pickups("other").await.unwrap().is_empty());

    let id = ConversationId::new();
    let at = chrono::Utc::now();
    for i in 0..(LEFT_MESSAGES_KEPT + 3) {
        let left = LeftMessage {
            conversation_id: id,
            site: "demo".into(),
            email: "v@example.com".into(),
            text: i.to_string(),
            at,
            handled: None,
        };
        handoff.add_left_message(left).await.unwrap();
    }
    let left = handoff.left_messages().await.unwrap();
    assert_eq!(left.len(), LEFT_MESSAGES_KEPT);
    assert_eq!((left[0].text.as_str(), left.last().unwrap().text.as_str()), ("3", "202"));
}

async fn a_handled_mark_covers_every_left_message_of_its_conversation_and_can_be_cleared(backend: Backend) {
    let handoff = &backend.stores.handoff;
    let (marked, other) = (ConversationId::new(), ConversationId::new());
    let at = chrono::Utc::now();
    for (id, text) in [(marked, "first"), (other, "other"), (marked, "second")] {
        let left = LeftMessage {
            conversation_id: id,
            site: "demo".into(),
            email: "v@example.com".into(),
            text: text.into(),
            at,
            handled: None,
        };
        handoff.add_left_message(left).await.unwrap();
    }
    let mark = HandledMark { by: "Ana".into(), at };
    assert_eq!(handoff.mark_left_handled(marked, Some(mark.clone())).await.unwrap(), 2);
    let left = handoff.left_messages().await.unwrap();
    let texts: Vec<_> = left.iter().map(|m| (m.text.as_str(), m.handled.clone())).collect();
    let expected = [("first", Some(mark.clone())), ("other", None), ("second", Some(mark))];
    assert_eq!(texts, expected.iter().map(|(t, h)| (*t, h.clone())).collect::<Vec<_>>(), "in place, in order");

    assert_eq!(handoff.mark_left_handled(marked, None).await.unwrap(), 2);
    assert!(handoff.left_messages().await.unwrap().iter().all(|m| m.handled.is_none()));
    assert_eq!(
        handoff.mark_left_handled(ConversationId::new(), None).await.unwrap(),
        0,
        "nothing kept: nothing marked"
    );
}

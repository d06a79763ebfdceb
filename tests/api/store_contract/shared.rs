//! What only a shared store has: several nodes on one Redis, a Redis that goes away and comes
//! back, expiry.

use std::time::Duration;

use baton::protocol::{ConversationId, EventBody, State};
use baton::store::{Appended, Audience, Delivery, EventDraft, StoreError, Topic, Transitioned};

use super::pubsub::every_kind;
use super::*;

#[tokio::test]
async fn two_nodes_on_one_redis_see_one_conversation_in_seq_order() {
    two_nodes_see_one_conversation_in_seq_order(&RedisServer::start()).await;
}

pub(super) async fn two_nodes_see_one_conversation_in_seq_order(redis: &dyn SharedRedis) {
    let ns = namespace();
    let (a, _, _) = redis_node_on(redis, &ns).await;
    let (b, b_delivered, b_follow) = redis_node_on(redis, &ns).await;
    let id = new_conversation(&a, "n1").await;
    b_follow(Topic::Conversation(id)).await;
    let writers: Vec<_> = [a.clone(), b.clone()]
        .into_iter()
        .flat_map(|stores| (0..10).map(move |i| (stores.clone(), i)))
        .map(|(stores, i)| {
            tokio::spawn(async move { stores.log.append(id, EventDraft::new(note(&format!("{i}")))).await })
        })
        .collect();
    for writer in writers {
        assert!(matches!(writer.await.unwrap(), Ok(Appended::New { .. })));
    }
    wait_for(&b_delivered, "20 events on node b", |d| seqs_of(d, id).len() >= 20).await;
    assert_eq!(seqs_of(&b_delivered.lock().unwrap(), id), (1..=20).collect::<Vec<_>>());
    assert_eq!(b.log.conversation_by_token("n1").await.unwrap().unwrap().last_seq, 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capacity_holds_across_two_nodes_round_after_round() {
    capacity_holds_across_two_nodes_round_after_round_on(&RedisServer::start()).await;
}

pub(super) async fn capacity_holds_across_two_nodes_round_after_round_on(redis: &dyn SharedRedis) {
    let ns = namespace();
    let (a, _, _) = redis_node_on(redis, &ns).await;
    let (b, _, _) = redis_node_on(redis, &ns).await;
    for round in 0..50 {
        let mut ids = Vec::new();
        for i in 0..4 {
            let id = new_conversation(&a, &format!("r{round}-{i}")).await;
            done(&a, id, enqueue(id, 1)).await;
            ids.push(id);
        }
        let racers: Vec<_> = ids
            .iter()
            .enumerate()
            .map(|(i, &id)| {
                let node = if i % 2 == 0 { a.clone() } else { b.clone() };
                tokio::spawn(async move { (id, node.handoff.transition(id, take("ana", 1)).await.unwrap()) })
            })
            .collect();
        let mut winners = Vec::new();
        for racer in racers {
            match racer.await.unwrap() {
                (id, Transitioned::Done { .. }) => winners.push(id),
                (_, Transitioned::AtCapacity) => {}
                (_, other) => panic!("round {round}: {other:?}"),
            }
        }
        assert_eq!(winners.len(), 1, "round {round}: ana has one seat");
        let held: Vec<_> = b.handoff.assignments().await.unwrap().into_iter().filter(|x| x.agent_id == "ana").collect();
        assert_eq!(held.iter().map(|x| x.conversation_id).collect::<Vec<_>>(), winners, "round {round}");
        // The seat is given back from the other node, so the next round starts free.
        let node = if round % 2 == 0 { &b } else { &a };
        done(node, winners[0], hand_back("ana")).await;
    }
}

#[tokio::test]
async fn deliveries_keep_their_kind_across_nodes() {
    let server = RedisServer::start();
    let ns = namespace();
    let (a, _, _) = redis_node(&server.url(), &ns).await;
    let (_b, b_delivered, b_follow) = redis_node(&server.url(), &ns).await;
    let agent = "ana.1:x";
    let id = new_conversation(&a, "k1").await;
    b_follow(Topic::Conversation(id)).await;
    b_follow(Topic::Agent(agent.into())).await;
    done(&a, id, enqueue(id, 1)).await;
    done(&a, id, take(agent, 1)).await;
    wait_for(&b_delivered, "two state events and the assignment", |d| d.len() >= 3).await;
    let kinds: Vec<(Topic, Kind, Audience)> =
        b_delivered.lock().unwrap().iter().map(|d| (d.topic.clone(), d.kind.clone(), d.audience)).collect();
    assert_eq!(
        kinds,
        [
            (Topic::Conversation(id), event_kind(1, change_to(State::Queued, None)), Audience::Everyone),
            (Topic::Conversation(id), event_kind(2, change_to(State::Agent, Some(agent))), Audience::Everyone),
            (Topic::Agent(agent.into()), Kind::Assigned { conversation_id: id }, Audience::Agents),
        ]
    );
    let stored = a.log.events_after(id, 0, 10).await.unwrap();
    let delivered = b_delivered.lock().unwrap().clone();
    assert_eq!(*delivered[1].json, *Delivery::event(&stored[1]).json, "the JSON is the stored event's");

    // Frames of every kind, sent by one node to another (not stored).
    let other = ConversationId::new();
    b_delivered.lock().unwrap().clear();
    for topic in [Topic::Conversation(other)] {
        b_follow(topic).await;
    }
    let sent = every_kind(other, agent);
    for delivery in &sent {
        a.pubsub.deliver(delivery.clone()).await.unwrap();
    }
    wait_for(&b_delivered, "every kind", |d| d.len() >= sent.len()).await;
    let view = |d: &Delivery| format!("{:?}", (&d.topic, &d.kind, d.audience, &*d.json));
    let mut got: Vec<_> = b_delivered.lock().unwrap().iter().map(view).collect();
    let mut sent: Vec<_> = sent.iter().map(view).collect();
    got.sort();
    sent.sort();
    assert_eq!(got, sent);
}

#[tokio::test]
async fn an_expired_conversation_frees_its_agents_seat() {
    let server = RedisServer::start();
    let ns = namespace();
    let (stores, _, _) = redis_node(&server.url(), &ns).await;
    let (gone, kept) = (new_conversation(&stores, "x1").await, new_conversation(&stores, "x2").await);
    for id in [gone, kept] {
        done(&stores, id, enqueue(id, 1)).await;
    }
    done(&stores, gone, take("ana", 1)).await;
    let mut conn = ::redis::Client::open(server.url()).unwrap().get_multiplexed_async_connection().await.unwrap();
    let chats = format!("{ns}:agent:ana:chats");
    let members: Vec<String> = ::redis::cmd("SMEMBERS").arg(&chats).query_async(&mut conn).await.unwrap();
    assert_eq!(members, [gone.to_string()]);
    // What expiry does to a conversation's keys.
    for part in ["meta", "events", "dedupe"] {
        let _: i64 = ::redis::cmd("DEL").arg(format!("{ns}:c:{{{gone}}}:{part}")).query_async(&mut conn).await.unwrap();
    }
    done(&stores, kept, take("ana", 1)).await;
    let members: Vec<String> = ::redis::cmd("SMEMBERS").arg(&chats).query_async(&mut conn).await.unwrap();
    assert_eq!(members, [kept.to_string()], "the expired chat left the agent's set");
    let held: Vec<_> = stores.handoff.assignments().await.unwrap().into_iter().map(|x| x.conversation_id).collect();
    assert_eq!(held, [kept]);
    // Reading the assignments prunes an expired one from its agent's set too.
    for part in ["meta", "events", "dedupe"] {
        let _: i64 = ::redis::cmd("DEL").arg(format!("{ns}:c:{{{kept}}}:{part}")).query_async(&mut conn).await.unwrap();
    }
    assert!(stores.handoff.assignments().await.unwrap().is_empty());
    assert!(stores.handoff.queue().await.unwrap().is_empty());
    let exists: i64 = ::redis::cmd("EXISTS").arg(&chats).query_async(&mut conn).await.unwrap();
    assert_eq!(exists, 0, "an agent with no chats has no set");
}

#[tokio::test]
async fn a_node_hears_only_the_topics_it_follows() {
    let server = RedisServer::start();
    let ns = namespace();
    let (a, _, _) = redis_node(&server.url(), &ns).await;
    let (_b, b_delivered, b_follow) = redis_node(&server.url(), &ns).await;
    let (followed, other) = (new_conversation(&a, "f1").await, new_conversation(&a, "f2").await);
    b_follow(Topic::Conversation(followed)).await;
    b_follow(Topic::Agent("ana".into())).await;
    a.log.append(other, EventDraft::new(note("not for b"))).await.unwrap();
    a.log.append(followed, EventDraft::new(note("for b"))).await.unwrap();
    // Redis sends one subscriber its messages in publish order: once the marker is in,
    // anything published before it would be too.
    a.pubsub
        .deliver(Delivery::frame(Topic::Agent("ana".into()), &serde_json::json!({"type": "marker"})))
        .await
        .unwrap();
    wait_for(&b_delivered, "the marker", |d| d.iter().any(|d| d.json.contains("marker"))).await;
    let topics: Vec<Topic> = b_delivered.lock().unwrap().iter().map(|d| d.topic.clone()).collect();
    assert_eq!(topics, [Topic::Conversation(followed), Topic::Agent("ana".into())]);
}

#[tokio::test]
async fn following_a_conversation_delivers_its_newest_event_so_cursors_catch_up() {
    let server = RedisServer::start();
    let ns = namespace();
    let (a, _, _) = redis_node(&server.url(), &ns).await;
    let (_b, b_delivered, b_follow) = redis_node(&server.url(), &ns).await;
    let id = new_conversation(&a, "c1").await;
    a.log.append(id, EventDraft::new(message("one"))).await.unwrap();
    done(&a, id, enqueue(id, 1)).await;
    a.log.append(id, EventDraft::new(note("internal"))).await.unwrap();
    b_follow(Topic::Conversation(id)).await;
    let seen: Vec<(Kind, Audience)> =
        b_delivered.lock().unwrap().iter().map(|d| (d.kind.clone(), d.audience)).collect();
    assert_eq!(
        seen,
        [(event_kind(2, change_to(State::Queued, None)), Audience::Everyone), (event_kind(3, None), Audience::Agents)],
        "a caught-up state event carries its change too"
    );
}

#[tokio::test]
async fn after_redis_restarts_a_node_is_ready_again_on_its_own_and_nothing_stored_is_lost() {
    let mut server = RedisServer::persistent();
    let (stores, delivered, follow) = redis_node(&server.url(), &namespace()).await;
    let log = &stores.log;
    let id = new_conversation(&stores, "r1").await;
    follow(Topic::Conversation(id)).await;
    log.append(id, EventDraft::new(message("before")).dedupe("v:1".into())).await.unwrap();
    server.kill();
    assert!(matches!(log.ping().await, Err(StoreError::Unavailable(_))));
    assert!(matches!(log.append(id, EventDraft::new(message("during"))).await, Err(StoreError::Unavailable(_))));
    assert!(matches!(stores.handoff.transition(id, enqueue(id, 1)).await, Err(StoreError::Unavailable(_))));
    server.restart();
    wait_until_ready(&stores).await;
    let again = log.append(id, EventDraft::new(message("before")).dedupe("v:1".into())).await.unwrap();
    assert!(matches!(again, Appended::Duplicate { seq: 1 }), "{again:?}");
    log.append(id, EventDraft::new(message("after"))).await.unwrap();
    done(&stores, id, enqueue(id, 1)).await;
    wait_for(&delivered, "the events after the restart", |d| d.iter().any(|d| d.seq() == Some(3))).await;
    let texts: Vec<String> = log.events_after(id, 0, 10).await.unwrap().iter().map(|e| text_of(&e.body)).collect();
    assert_eq!(texts, ["before", "after", "state"]);
}

#[tokio::test]
async fn a_node_started_while_redis_is_down_becomes_ready_when_it_comes_up() {
    let mut server = RedisServer::start();
    server.kill();
    let (stores, _, _) = redis_node(&server.url(), &namespace()).await;
    assert!(stores.log.ping().await.is_err());
    server.restart();
    wait_until_ready(&stores).await;
    new_conversation(&stores, "late").await;
}

#[tokio::test]
async fn every_key_is_namespaced_and_a_conversation_expires_after_the_retention() {
    let server = RedisServer::start();
    let ns = namespace();
    let (stores, _, _) = redis_node(&server.url(), &ns).await;
    let id = new_conversation(&stores, "e1").await;
    stores.log.append(id, EventDraft::new(message("hi")).dedupe("v:1".into())).await.unwrap();
    done(&stores, id, enqueue(id, 1)).await;
    done(&stores, id, take("ana", 1)).await;
    let presence = baton::store::Presence { status: baton::store::AgentStatus::Online, until: chrono::Utc::now() };
    stores.presence.set_presence("ana", Some(presence)).await.unwrap();
    let client = ::redis::Client::open(server.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let mut keys: Vec<String> = ::redis::cmd("KEYS").arg("*").query_async(&mut conn).await.unwrap();
    keys.sort();
    let tagged = |part: &str| format!("{ns}:c:{{{id}}}:{part}");
    let mut expected = vec![
        tagged("dedupe"),
        tagged("events"),
        tagged("meta"),
        format!("{ns}:agent:ana:chats"),
        format!("{ns}:assignments"),
        // The conversation is not archived yet: no archiver runs here.
        format!("{ns}:archive"),
        // Due for the inactivity rules' look: no sweep runs here either.
        format!("{ns}:archive:idle"),
        format!("{ns}:presence"),
        format!("{ns}:token:e1"),
    ];
    expected.sort();
    assert_eq!(keys, expected, "the queue entry left with the take");
    for key in [tagged("dedupe"), tagged("events"), tagged("meta"), format!("{ns}:token:e1")] {
        let ttl: i64 = ::redis::cmd("TTL").arg(&key).query_async(&mut conn).await.unwrap();
        assert!((3590..=3600).contains(&ttl), "{key} expires with the retention (1 h), not in {ttl} s");
    }
}

#[tokio::test]
async fn a_conversation_without_a_visitor_message_expires_in_minutes_and_a_written_one_after_the_retention() {
    let server = RedisServer::start();
    let ns = namespace();
    let (stores, _, _) = redis_node(&server.url(), &ns).await;
    let id = new_conversation(&stores, "p1").await;
    // The greeting and a note are writes too, but not the visitor's: still provisional.
    let greeting = EventBody::Message {
        id: uuid::Uuid::new_v4(),
        from: baton::protocol::Speaker::Bot,
        text: "Hi!".into(),
        author: None,
        client_id: None,
        sources: vec![],
        actions: vec![],
        notice: None,
    };
    stores.log.append(id, EventDraft::new(greeting)).await.unwrap();
    stores.log.append(id, EventDraft::new(note("n"))).await.unwrap();
    let client = ::redis::Client::open(server.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let tagged = |part: &str| format!("{ns}:c:{{{id}}}:{part}");
    let keys = [tagged("events"), tagged("meta"), format!("{ns}:token:p1")];
    let provisional = i64::try_from(baton::store::PROVISIONAL.as_secs()).unwrap();
    for key in &keys {
        let ttl: i64 = ::redis::cmd("TTL").arg(key).query_async(&mut conn).await.unwrap();
        assert!((provisional - 10..=provisional).contains(&ttl), "{key} is kept minutes, not {ttl} s");
    }
    // The visitor's first message: the full retention (1 h here) for every key, token included.
    stores.log.append(id, EventDraft::new(message("hello")).dedupe("v:1".into())).await.unwrap();
    for key in keys.iter().chain([&tagged("dedupe")]) {
        let ttl: i64 = ::redis::cmd("TTL").arg(key).query_async(&mut conn).await.unwrap();
        assert!((3590..=3600).contains(&ttl), "{key} expires with the retention now, not in {ttl} s");
    }
    // Later writes by anyone keep the retention.
    stores.log.append(id, EventDraft::new(note("later"))).await.unwrap();
    let ttl: i64 = ::redis::cmd("TTL").arg(tagged("meta")).query_async(&mut conn).await.unwrap();
    assert!(ttl > provisional, "a kept conversation does not fall back to minutes: {ttl} s");
    assert!(stores.log.conversation(id).await.unwrap().is_some());
}

async fn wait_until_ready(stores: &Stores) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while stores.log.ping().await.is_err() {
        assert!(tokio::time::Instant::now() < deadline, "the store did not come back");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn text_of(body: &EventBody) -> String {
    match body {
        EventBody::Message { text, .. } => text.clone(),
        EventBody::State { .. } => "state".into(),
        other => format!("{other:?}"),
    }
}

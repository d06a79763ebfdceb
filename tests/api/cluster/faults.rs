//! Faults across nodes: Redis stopped and restarted, a node started while Redis is down,
//! capacity held across nodes, and a node killed while it assigns chats.

use super::*;

#[tokio::test]
async fn redis_stopped_and_restarted_under_a_live_conversation_loses_nothing_acknowledged() {
    let mut redis = RedisServer::persistent();
    let config = ClusterConfig::new();
    let ns = namespace();
    let node_a = Node::start(&config.dir, &redis, &ns).await;
    let node_b = Node::start(&config.dir, &redis, &ns).await;
    let (mut visitor, mut ana, welcome) = taken_across_nodes(&node_a, &node_b).await;
    let id = welcome["conversation_id"].clone();
    let mut acked = vec![visitor.say("v1", "before the outage").await["seq"].as_u64().unwrap()];
    acked.push(agent_says(&mut ana, &id, "a1", "answer before the outage").await["seq"].as_u64().unwrap());

    redis.kill();
    node_a.wait_ready(503).await;
    node_b.wait_ready(503).await;
    // Nothing is acknowledged while Redis is away: both are told to send again.
    visitor.send(json!({"type": "message", "client_id": "v2", "text": "during the outage"})).await;
    assert_eq!(visitor.next_of_type("error").await["code"], "unavailable");
    ana.send(json!({"type": "message", "conversation_id": id, "client_id": "a2", "text": "agent during"})).await;
    assert_eq!(ana.next_of_type("error").await["code"], "unavailable");

    redis.restart();
    node_a.wait_ready(200).await;
    node_b.wait_ready(200).await;
    // Sent again with the same client ids, both are stored once and seen live across nodes.
    acked.push(visitor.say("v2", "during the outage").await["seq"].as_u64().unwrap());
    message_with_text(&mut ana, "during the outage").await;
    acked.push(agent_says(&mut ana, &id, "a2", "agent during").await["seq"].as_u64().unwrap());
    message_with_text(&mut visitor, "agent during").await;

    // The whole transcript, read from the other node: every acknowledged message, once, in order.
    let (mut fresh, again) = node_b.app.resume_visitor(welcome["token"].as_str().unwrap(), 0).await;
    let newest = again["last_seq"].as_u64().unwrap();
    let transcript = fresh.collect_until(|f| f["seq"].as_u64() == Some(newest)).await;
    let seqs: Vec<u64> = transcript.iter().filter_map(|f| f["seq"].as_u64()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "in order, no repeats: {seqs:?}");
    for seq in &acked {
        assert!(seqs.contains(seq), "acknowledged seq {seq} is in the transcript");
    }
    let client_ids: Vec<&str> = transcript.iter().filter_map(|f| f["client_id"].as_str()).collect();
    assert_eq!(client_ids, ["v1", "a1", "v2", "a2"]);
}

#[tokio::test]
async fn a_node_started_while_redis_is_down_is_not_ready_refuses_sockets_with_1011_and_recovers_by_itself() {
    let mut redis = RedisServer::start();
    redis.kill();
    let (url, ns) = (redis.url(), namespace());
    let app = crate::helpers::spawn_app_with(move |s| {
        s.store.redis_url = Some(url.into());
        s.store.namespace = ns;
    })
    .await;
    assert_eq!(app.get("/healthz").await.status(), 200);
    assert_eq!(app.get("/readyz").await.status(), 503);
    let mut visitor = app.open_visitor("demo", Some("http://localhost:3000")).await.expect("the socket opens");
    visitor.send(json!({"type": "hello", "locale": "en"})).await;
    assert_eq!(visitor.next_of_type("error").await["code"], "unavailable");
    assert_eq!(visitor.closed_with().await, 1011, "closed with a code that says: reconnect");
    let mut agent = app.open_agent().await;
    agent.send(json!({"type": "auth", "token": "demo-agent-token"})).await;
    assert_eq!(agent.next_of_type("error").await["code"], "unavailable");
    assert_eq!(agent.closed_with().await, 1011);

    redis.restart();
    let deadline = tokio::time::Instant::now() + READY_WAIT;
    while app.get("/readyz").await.status() != 200 {
        assert!(tokio::time::Instant::now() < deadline, "/readyz never came back");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (mut visitor, _) = app.connect_visitor().await;
    assert_eq!(visitor.say("v1", "hello again").await["seq"], 2, "after the greeting");
}

#[tokio::test]
async fn an_agent_signed_in_on_two_nodes_with_room_for_one_chat_never_takes_two() {
    an_agent_signed_in_on_two_nodes_with_room_for_one_chat_never_takes_two_on(&RedisServer::start()).await;
}

#[tokio::test]
async fn an_agent_signed_in_on_two_nodes_with_room_for_one_chat_never_takes_two_on_a_redis_cluster() {
    an_agent_signed_in_on_two_nodes_with_room_for_one_chat_never_takes_two_on(&RedisCluster::start()).await;
}

async fn an_agent_signed_in_on_two_nodes_with_room_for_one_chat_never_takes_two_on(redis: &dyn SharedRedis) {
    let config = ClusterConfig::with("manual", 1, LIFTED_RATE);
    let ns = namespace();
    let node_a = Node::start(&config.dir, redis, &ns).await;
    let node_b = Node::start(&config.dir, redis, &ns).await;
    let (mut on_a, _) = node_a.app.connect_agent("token-ana").await;
    let (mut on_b, _) = node_b.app.connect_agent("token-ana").await;
    let store = &node_a.app.store;
    for round in 0..50 {
        let (mut visitor_a, welcome_a) = node_a.app.escalated_visitor().await;
        let (mut visitor_b, welcome_b) = node_b.app.escalated_visitor().await;
        on_a.send(json!({"type": "accept", "conversation_id": welcome_a["conversation_id"]})).await;
        on_b.send(json!({"type": "accept", "conversation_id": welcome_b["conversation_id"]})).await;
        let refused = crate::capacity::first_error(&mut on_a, &mut on_b).await;
        assert_eq!(refused["code"], "forbidden", "round {round}: {refused}");
        crate::capacity::eventually("one accept wins", || async {
            !crate::capacity::held_by(store, "ana").await.is_empty()
        })
        .await;
        let held = crate::capacity::held_by(store, "ana").await;
        assert_eq!(held.len(), 1, "round {round}: ana holds {held:?} across two nodes");
        for visitor in [&mut visitor_a, &mut visitor_b] {
            visitor.send(json!({"type": "end"})).await;
        }
        crate::capacity::eventually("ana's chat is released", || async {
            crate::capacity::held_by(store, "ana").await.is_empty()
        })
        .await;
    }
}

/// Every conversation is where its state says: with a person and assigned to the agent its
/// last `state` event names, or queued and in the queue, or with the bot and nowhere else.
/// Each conversation is read as of one `seq` (read again while a move lands between reads).
async fn assert_consistent(store: &Stores, ids: &[ConversationId]) -> (usize, usize) {
    let (mut queued, mut assigned) = (0, 0);
    for id in ids {
        let (conversation, in_queue, assignment) = loop {
            let before = store.log.conversation(*id).await.unwrap().expect("the conversation is stored");
            let in_queue = store.handoff.queue().await.unwrap().iter().any(|e| e.conversation_id == *id);
            let assignment = store.handoff.assignment(*id).await.unwrap();
            let after = store.log.conversation(*id).await.unwrap().expect("the conversation is stored");
            if before.last_seq == after.last_seq {
                break (after, in_queue, assignment);
            }
        };
        match conversation.state {
            baton::protocol::State::Agent => {
                let events = store.log.recent_events(*id, 50).await.unwrap();
                let named = events.iter().rev().find_map(|e| match &e.body {
                    baton::protocol::EventBody::State { agent, .. } => Some(agent.clone()),
                    _ => None,
                });
                let named = named.flatten().map(|a| a.id);
                assert_eq!(assignment.map(|a| a.agent_id), named, "{id}: with a person, assigned to them");
                assert!(!in_queue, "{id}: with a person and still queued");
                assigned += 1;
            }
            baton::protocol::State::Queued => {
                assert!(in_queue && assignment.is_none(), "{id}: queued but not in the queue (or assigned)");
                queued += 1;
            }
            state => assert!(!in_queue && assignment.is_none(), "{id}: {state:?} yet in the queue or assigned"),
        }
    }
    (queued, assigned)
}

#[tokio::test]
async fn a_node_killed_while_it_assigns_chats_strands_none_and_the_rest_are_assigned_by_the_survivor() {
    a_node_killed_while_it_assigns_chats_strands_none_and_the_rest_are_assigned_by_the_survivor_on(
        &RedisServer::start(),
    )
    .await;
}

#[tokio::test]
async fn a_node_killed_while_it_assigns_chats_strands_none_and_the_rest_are_assigned_by_the_survivor_on_a_redis_cluster()
 {
    a_node_killed_while_it_assigns_chats_strands_none_and_the_rest_are_assigned_by_the_survivor_on(
        &RedisCluster::start(),
    )
    .await;
}

async fn a_node_killed_while_it_assigns_chats_strands_none_and_the_rest_are_assigned_by_the_survivor_on(
    redis: &dyn SharedRedis,
) {
    let extra = format!("{LIFTED_RATE}[handoff]\njanitor_secs = 1\npresence_grace_secs = 30\n");
    let config = ClusterConfig::with("least_busy", 40, &extra);
    let ns = namespace();
    // Kill times spread over the burst: before, during and after node A escalates and assigns.
    for (round, kill_after_ms) in [10, 40, 80, 150, 300].into_iter().enumerate() {
        let mut node_a = Node::start(&config.dir, redis, &ns).await;
        let node_b = Node::start(&config.dir, redis, &ns).await;
        // Ana went away at the end of the last round, and her presence outlives that node by
        // the grace period: a sign-in keeps that status unless it says otherwise.
        let mut ana = node_b.app.open_agent().await;
        ana.send(json!({"type": "auth", "token": "token-ana", "status": "online"})).await;
        ana.next_of_type("ready").await;
        let mut ids = Vec::new();
        let mut visitors = Vec::new();
        for _ in 0..30 {
            let (visitor, welcome) = node_a.app.connect_visitor().await;
            ids.push(serde_json::from_value::<ConversationId>(welcome["conversation_id"].clone()).unwrap());
            visitors.push(visitor);
        }
        for visitor in &mut visitors {
            visitor.send(json!({"type": "request_human"})).await;
        }
        // Node A escalates and assigns as the requests arrive; it dies in the middle of that.
        tokio::time::sleep(Duration::from_millis(kill_after_ms)).await;
        node_a.kill();
        let at_kill = assert_consistent(&node_b.app.store, &ids).await;
        eprintln!("round {round}: at the kill, {} queued and {} assigned of {}", at_kill.0, at_kill.1, ids.len());
        let store = &node_b.app.store;
        // Within the janitor's period the survivor assigns whatever is still waiting.
        crate::capacity::eventually("every queued chat is assigned by the surviving node", || async {
            assert_consistent(store, &ids).await.0 == 0
        })
        .await;
        let (_, assigned) = assert_consistent(store, &ids).await;
        eprintln!("round {round}: {assigned} of {} chats assigned once the survivor's janitor ran", ids.len());
        // And the agent was told of each chat they got, with its view.
        let mut told = std::collections::HashSet::new();
        while told.len() < assigned {
            let frame = ana.next_of_type("assigned").await;
            told.insert(frame["conversation"]["conversation_id"].as_str().unwrap().to_owned());
        }
        drop(visitors);
        ana.send(json!({"type": "status", "status": "away"})).await;
        for id in ids.iter().filter(|_| true) {
            ana.send(json!({"type": "resolve", "conversation_id": id})).await;
        }
        crate::capacity::eventually("the round's chats are closed", || async {
            crate::capacity::held_by(store, "ana").await.is_empty()
        })
        .await;
    }
}

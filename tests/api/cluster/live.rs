//! Two nodes live: a conversation across nodes, a killed node's visitor resuming, and two
//! agents racing for one chat.

use super::*;

#[tokio::test]
async fn a_visitor_and_an_agent_on_two_nodes_talk_live_and_a_killed_nodes_visitor_resumes_on_the_other() {
    a_visitor_and_an_agent_on_two_nodes_talk_live_and_a_killed_nodes_visitor_resumes_on_the_other_on(
        &RedisServer::start(),
    )
    .await;
}

#[tokio::test]
async fn a_visitor_and_an_agent_on_two_nodes_talk_live_and_a_killed_nodes_visitor_resumes_on_the_other_on_a_redis_cluster()
 {
    a_visitor_and_an_agent_on_two_nodes_talk_live_and_a_killed_nodes_visitor_resumes_on_the_other_on(
        &RedisCluster::start(),
    )
    .await;
}

async fn a_visitor_and_an_agent_on_two_nodes_talk_live_and_a_killed_nodes_visitor_resumes_on_the_other_on(
    redis: &dyn SharedRedis,
) {
    let config = ClusterConfig::new();
    let ns = namespace();
    let mut node_a = Node::start(&config.dir, redis, &ns).await;
    let node_b = Node::start(&config.dir, redis, &ns).await;
    let (mut visitor, mut ana, welcome) = taken_across_nodes(&node_a, &node_b).await;
    let id = welcome["conversation_id"].clone();

    // Both ways, live, across nodes.
    let ack = agent_says(&mut ana, &id, "a1", "Hi, Ana here (node B).").await;
    let seen = next_message_from(&mut visitor, "agent").await;
    assert_eq!((seen["text"].as_str(), &seen["seq"]), (Some("Hi, Ana here (node B)."), &ack["seq"]));
    let ack = visitor.say("v1", "Hello from node A").await;
    let seen = next_message_from(&mut ana, "visitor").await;
    assert_eq!((seen["text"].as_str(), &seen["seq"]), (Some("Hello from node A"), &ack["seq"]));
    let last_seen = ack["seq"].as_u64().unwrap();
    visitor.collect_until(|f| f["seq"].as_u64() == Some(last_seen)).await;

    // Node A dies; the agent goes on writing.
    node_a.kill();
    assert!(matches!(visitor.next().await, Next::Closed(_)), "the visitor's socket dies with its node");
    let mut acked = Vec::new();
    for (client_id, text) in [("a2", "Are you still there?"), ("a3", "Your refund is on its way.")] {
        acked.push(agent_says(&mut ana, &id, client_id, text).await["seq"].as_u64().unwrap());
    }

    // The visitor reconnects to node B and gets exactly what it missed, in order, once.
    let token = welcome["token"].as_str().unwrap();
    let (mut resumed, again) = node_b.app.resume_visitor(token, last_seen).await;
    let newest = again["last_seq"].as_u64().unwrap();
    assert_eq!(newest, *acked.last().unwrap());
    let replay = resumed.collect_until(|f| f["seq"].as_u64() == Some(newest)).await;
    let replayed: Vec<&Value> = replay.iter().filter(|f| f.get("seq").is_some()).collect();
    let conversation_id: ConversationId = serde_json::from_value(id.clone()).unwrap();
    let missed: Vec<Value> = node_b
        .app
        .store
        .log
        .events_after(conversation_id, last_seen, 100)
        .await
        .unwrap()
        .iter()
        .filter(|e| !e.body.is_agent_only())
        .map(|e| serde_json::to_value(e.as_ref()).unwrap())
        .collect();
    assert_eq!(replayed.into_iter().cloned().collect::<Vec<_>>(), missed);
    let texts: Vec<&str> = missed.iter().filter_map(|e| e["text"].as_str()).collect();
    assert_eq!(texts, ["Are you still there?", "Your refund is on its way."]);

    // And the conversation goes on live on node B, with nothing repeated.
    let ack = agent_says(&mut ana, &id, "a4", "Anything else?").await;
    let next = resumed.next_frame().await;
    assert_eq!((next["text"].as_str(), &next["seq"]), (Some("Anything else?"), &ack["seq"]));
}

#[tokio::test]
async fn two_agents_on_different_nodes_race_to_accept_one_chat_and_exactly_one_wins() {
    two_agents_on_different_nodes_race_to_accept_one_chat_and_exactly_one_wins_on(&RedisServer::start()).await;
}

#[tokio::test]
async fn two_agents_on_different_nodes_race_to_accept_one_chat_and_exactly_one_wins_on_a_redis_cluster() {
    two_agents_on_different_nodes_race_to_accept_one_chat_and_exactly_one_wins_on(&RedisCluster::start()).await;
}

async fn two_agents_on_different_nodes_race_to_accept_one_chat_and_exactly_one_wins_on(redis: &dyn SharedRedis) {
    let config = ClusterConfig::new();
    let ns = namespace();
    let node_a = Node::start(&config.dir, redis, &ns).await;
    let node_b = Node::start(&config.dir, redis, &ns).await;
    let node_c = Node::start(&config.dir, redis, &ns).await;
    let (mut ana, _) = node_a.app.connect_agent("token-ana").await;
    let (mut bo, _) = node_b.app.connect_agent("token-bo").await;
    let mut wins = [0, 0];
    for _round in 0..3 {
        let (_visitor, welcome) = node_c.app.escalated_visitor().await;
        let id = welcome["conversation_id"].clone();
        let accept = json!({"type": "accept", "conversation_id": id});
        tokio::join!(ana.send(accept.clone()), bo.send(accept));
        let (ana_got, bo_got) = tokio::join!(outcome(&mut ana, &id), outcome(&mut bo, &id));
        match (ana_got.as_str(), bo_got.as_str()) {
            ("assigned", "already_taken") => wins[0] += 1,
            ("already_taken", "assigned") => wins[1] += 1,
            other => panic!("exactly one winner and one already_taken, got {other:?}"),
        }
        let conversation = node_c.app.conversation(&welcome).await;
        assert_eq!(conversation.state, baton::protocol::State::Agent);
        let events = node_c.app.store.log.events_after(conversation.id, 0, 100).await.unwrap();
        let takeovers = events.iter().filter(|e| e.body == agent_state(&e.body)).count();
        assert_eq!(takeovers, 1, "one `state agent` event per chat");
    }
    assert_eq!(wins[0] + wins[1], 3);
}

/// `assigned` for this chat, or the code of the `error` that refused it.
async fn outcome(agent: &mut Client, id: &Value) -> String {
    loop {
        let frame = agent.next_frame().await;
        match frame["type"].as_str() {
            Some("assigned") if frame["conversation"]["conversation_id"] == *id => return "assigned".into(),
            Some("error") => return frame["code"].as_str().unwrap_or_default().to_owned(),
            _ => continue,
        }
    }
}

/// `body` itself when it is a `state agent` event, else something that never equals it.
fn agent_state(body: &baton::protocol::EventBody) -> baton::protocol::EventBody {
    match body {
        baton::protocol::EventBody::State { state: baton::protocol::State::Agent, .. } => body.clone(),
        _ => baton::protocol::EventBody::Note {
            text: String::new(),
            author: baton::protocol::Author { name: String::new() },
        },
    }
}

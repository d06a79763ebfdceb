//! Human handoff through real sockets: agents, the queue, takeover on the visitor's socket,
//! transfer, hand-back, resolve, and what happens when no one can take a chat.

use std::sync::Arc;
use std::time::Duration;

use baton::config::Routing;
use baton::config::Settings;
use serde_json::{Value, json};
use tokio::sync::Semaphore;

use crate::helpers::{Client, TestApp, agent, spawn_app_with, spawn_app_with_llm};
use crate::scripted_llm::{Script, pieces};

/// Two agents (ana, bo) in team "support", two chats each; quick janitor and grace.
fn two_agents(routing: Routing) -> impl FnOnce(&mut Settings) {
    move |s: &mut Settings| {
        s.agents = vec![agent("ana", "token-ana", &["support"], 2), agent("bo", "token-bo", &["support"], 2)];
        s.handoff.janitor_secs = 1;
        s.handoff.presence_grace_secs = 2;
        s.sites.iter_mut().for_each(|site| site.handoff.routing = routing);
    }
}

async fn manual_app() -> TestApp {
    spawn_app_with(two_agents(Routing::Manual)).await
}

fn id_of(welcome: &Value) -> Value {
    welcome["conversation_id"].clone()
}

/// Reads agent frames until a queue snapshot lists `id` (or, with `present = false`, does not).
async fn queue_until(agent: &mut Client, id: &Value, present: bool) -> Value {
    loop {
        let snapshot = agent.next_of_type("queue_snapshot").await;
        let listed = snapshot["items"].as_array().unwrap().iter().any(|i| i["conversation_id"] == *id);
        if listed == present {
            return snapshot;
        }
    }
}

/// Ana signed in, a visitor who asked for a person, and Ana has taken the chat.
async fn taken_chat(app: &TestApp) -> (Client, Client, Value) {
    let (mut ana, _) = app.connect_agent("token-ana").await;
    let (visitor, welcome) = app.escalated_visitor().await;
    queue_until(&mut ana, &id_of(&welcome), true).await;
    accept(&mut ana, &id_of(&welcome)).await;
    (ana, visitor, welcome)
}

async fn accept(agent: &mut Client, id: &Value) -> Value {
    agent.send(json!({"type": "accept", "conversation_id": id})).await;
    agent.next_of_type("assigned").await
}

#[tokio::test]
async fn a_wrong_agent_token_closes_with_4001_and_silence_with_4000() {
    let app = spawn_app_with(|s| s.limits.hello_timeout_secs = 1).await;
    let mut wrong = app.open_agent().await;
    wrong.send(json!({"type": "auth", "token": "nope"})).await;
    assert_eq!(wrong.closed_with().await, 4001);
    let mut silent = app.open_agent().await;
    assert_eq!(silent.closed_with().await, 4000);
}

#[tokio::test]
async fn an_escalated_chat_arrives_in_the_queue_live_with_its_reason_and_summary() {
    let app = manual_app().await;
    let (mut ana, ready) = app.connect_agent("token-ana").await;
    assert_eq!(ready["agent"]["id"], "ana");
    assert_eq!(ready["agent"]["max_chats"], 2);
    let (mut visitor, welcome) = app.connect_visitor().await;
    visitor.say("m1", "My parcel never arrived and I'm annoyed. Where is my parcel now?").await;
    visitor.send(json!({"type": "request_human"})).await;
    let snapshot = queue_until(&mut ana, &id_of(&welcome), true).await;
    let item = &snapshot["items"][0];
    assert_eq!(item["reason"], "explicit_request");
    assert_eq!(item["position"], 1);
    assert_eq!(item["last_message"], "My parcel never arrived and I'm annoyed. Where is my parcel now?");
    assert!(item["summary"].as_str().unwrap().contains("parcel never arrived"), "{item}");
    assert!(item["sentiment"].as_f64().unwrap() < 0.0, "{item}");
    let queue = visitor.next_of_type("queue").await;
    assert_eq!(queue["position"], 1);
    // Taken, the chat comes with drafts for the visitor's question (the passages the bot
    // may quote: it answers this one).
    let view = accept(&mut ana, &id_of(&welcome)).await["conversation"].clone();
    let suggestions = view["suggestions"].as_array().unwrap();
    assert!(suggestions.iter().any(|s| s.as_str().unwrap().to_lowercase().contains("parcel")), "{suggestions:?}");
}

#[tokio::test]
async fn the_agent_takes_over_on_the_visitors_socket_and_sees_everything() {
    let app = manual_app().await;
    let (mut ana, _) = app.connect_agent("token-ana").await;
    let (mut visitor, welcome) = app.escalated_visitor().await;
    queue_until(&mut ana, &id_of(&welcome), true).await;
    let assigned = accept(&mut ana, &id_of(&welcome)).await;
    let view = &assigned["conversation"];
    assert_eq!(view["reason"], "explicit_request");
    assert_eq!(view["state"], "agent");
    assert!(view["events"].as_array().unwrap().iter().any(|e| e["from"] == "bot"), "the whole transcript");
    assert!(!view["summary"].as_str().unwrap().is_empty());
    let state = visitor.next_of_type("state").await;
    assert_eq!((state["state"].as_str(), state["agent"]["name"].as_str()), (Some("agent"), Some("Agent ana")));
    let joined = visitor.next_of_type("message").await;
    assert_eq!(
        (joined["from"].as_str(), joined["text"].as_str()),
        (Some("system"), Some("Agent ana joined the chat."))
    );
    // The agent writes; the visitor reads it on the same socket; the agent gets an ack.
    ana.send(json!({"type": "message", "conversation_id": id_of(&welcome), "client_id": "a1", "text": "Hi, I'm Ana. Let me look."})).await;
    let ack = ana.next_of_type("ack").await;
    let message = visitor.next_of_type("message").await;
    assert_eq!(
        (message["from"].as_str(), message["text"].as_str()),
        (Some("agent"), Some("Hi, I'm Ana. Let me look."))
    );
    assert_eq!(message["author"]["name"], "Agent ana");
    assert_eq!(ack["seq"], message["seq"]);
    // The visitor answers; the agent sees it live.
    visitor.say("v1", "Thanks Ana").await;
    let seen = ana.collect_until(|f| f["type"] == "message" && f["from"] == "visitor").await;
    assert_eq!(seen.last().unwrap()["text"], "Thanks Ana");
}

#[tokio::test]
async fn two_agents_racing_to_accept_one_chat_have_exactly_one_winner() {
    let app = manual_app().await;
    let (mut ana, _) = app.connect_agent("token-ana").await;
    let (mut bo, _) = app.connect_agent("token-bo").await;
    let (_visitor, welcome) = app.escalated_visitor().await;
    queue_until(&mut ana, &id_of(&welcome), true).await;
    queue_until(&mut bo, &id_of(&welcome), true).await;
    let frame = json!({"type": "accept", "conversation_id": id_of(&welcome)});
    ana.send(frame.clone()).await;
    bo.send(frame).await;
    let outcome = |frames: Vec<Value>| frames.last().unwrap()["type"].as_str().unwrap().to_owned();
    let ana_got = outcome(ana.collect_until(|f| f["type"] == "assigned" || f["type"] == "error").await);
    let bo_got = outcome(bo.collect_until(|f| f["type"] == "assigned" || f["type"] == "error").await);
    let mut outcomes = [ana_got, bo_got];
    outcomes.sort();
    assert_eq!(outcomes, ["assigned".to_owned(), "error".to_owned()]);
    let conversation = app.conversation(&welcome).await;
    assert_eq!(conversation.state, baton::protocol::State::Agent);
}

#[tokio::test]
async fn the_loser_of_a_race_is_told_already_taken() {
    let app = manual_app().await;
    let (mut ana, _) = app.connect_agent("token-ana").await;
    let (mut bo, _) = app.connect_agent("token-bo").await;
    let (_visitor, welcome) = app.escalated_visitor().await;
    queue_until(&mut ana, &id_of(&welcome), true).await;
    accept(&mut ana, &id_of(&welcome)).await;
    bo.send(json!({"type": "accept", "conversation_id": id_of(&welcome)})).await;
    assert_eq!(bo.next_of_type("error").await["code"], "already_taken");
}

#[tokio::test]
async fn a_note_reaches_agents_and_never_the_visitor() {
    let app = manual_app().await;
    let (mut ana, mut visitor, welcome) = taken_chat(&app).await;
    ana.send(json!({"type": "note", "conversation_id": id_of(&welcome), "text": "VIP customer, refund approved"}))
        .await;
    let note = ana.next_of_type("note").await;
    assert_eq!(note["text"], "VIP customer, refund approved");
    let seen = visitor.drain(Duration::from_millis(500)).await;
    assert!(seen.iter().all(|f| f["type"] != "note" && !f.to_string().contains("VIP")), "{seen:?}");
    // A full replay skips it too (its seq is the newest, so the visitor sees a gap instead).
    let (mut replay, resumed) = app.resume_visitor(welcome["token"].as_str().unwrap(), 0).await;
    assert_eq!(resumed["last_seq"], note["seq"]);
    let events = replay.drain(Duration::from_millis(500)).await;
    assert!(!events.is_empty() && events.iter().all(|f| f["type"] != "note"), "{events:?}");
}

#[tokio::test]
async fn the_bot_is_silent_while_an_agent_owns_the_chat_and_the_agent_gets_suggestions() {
    let app = manual_app().await;
    let (mut ana, mut visitor, welcome) = taken_chat(&app).await;
    visitor.drain(Duration::from_millis(200)).await;
    visitor.say("v1", "How do I return an item?").await;
    let after = visitor.drain(Duration::from_millis(800)).await;
    assert!(after.iter().all(|f| f["from"] != "bot" && f["type"] != "bot_delta"), "the bot stays silent: {after:?}");
    let suggestions = ana.next_of_type("suggestions").await;
    assert_eq!(suggestions["conversation_id"], id_of(&welcome));
    let replies = suggestions["replies"].as_array().unwrap();
    assert!(replies.iter().any(|r| r.as_str().unwrap().to_lowercase().contains("return")), "{suggestions}");
}

#[tokio::test]
async fn taking_over_cuts_a_streaming_bot_reply() {
    let app = spawn_app_with_llm(two_agents(Routing::Manual)).await;
    let gate = Arc::new(Semaphore::new(0));
    let (mut ana, _) = app.connect_agent("token-ana").await;
    let (mut visitor, welcome) = app.escalated_visitor().await;
    // The escalation asks the model for a summary first; the next request is the reply's.
    while app.llm().requests().is_empty() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // While queued, the bot keeps helping; its reply is mid-stream when Ana takes over.
    app.llm()
        .push(Script::Gated { pieces: pieces(&["While you wait: ", "returns take 30 days."]), gate: gate.clone() });
    visitor.say("v1", "How do I return an item?").await;
    let delta = visitor.next_of_type("bot_delta").await;
    queue_until(&mut ana, &id_of(&welcome), true).await;
    accept(&mut ana, &id_of(&welcome)).await;
    let frames = visitor.collect_until(|f| f["type"] == "bot_cancelled").await;
    assert_eq!(frames.last().unwrap()["reply_id"], delta["reply_id"]);
    assert!(frames.iter().any(|f| f["type"] == "state" && f["state"] == "agent"));
    gate.add_permits(5);
    let after = visitor.drain(Duration::from_millis(500)).await;
    assert!(after.iter().all(|f| f["from"] != "bot" && f["type"] != "bot_delta"), "{after:?}");
}

#[tokio::test]
async fn an_agent_who_disconnects_mid_chat_loses_it_to_the_front_of_the_queue() {
    let app = manual_app().await;
    let (mut ana, _) = app.connect_agent("token-ana").await;
    let (mut bo, _) = app.connect_agent("token-bo").await;
    let (mut visitor, welcome) = app.escalated_visitor().await;
    queue_until(&mut ana, &id_of(&welcome), true).await;
    accept(&mut ana, &id_of(&welcome)).await;
    drop(ana);
    // After the grace period the janitor gives the chat back; Bo sees it return.
    let snapshot = queue_until(&mut bo, &id_of(&welcome), true).await;
    assert_eq!(snapshot["items"][0]["conversation_id"], id_of(&welcome));
    let frames = visitor.collect_until(|f| f["type"] == "state" && f["state"] == "queued").await;
    assert!(frames.iter().any(|f| f["type"] == "state" && f["state"] == "agent"));
    assert!(visitor.next_of_type("message").await["text"].as_str().unwrap().contains("had to leave"));
    accept(&mut bo, &id_of(&welcome)).await;
}

#[tokio::test]
async fn an_agent_who_does_not_answer_in_time_loses_the_chat() {
    let app = spawn_app_with(|s| {
        two_agents(Routing::Manual)(s);
        s.handoff.answer_timeout_secs = 1;
    })
    .await;
    let (mut ana, mut visitor, welcome) = taken_chat(&app).await;
    let frames = visitor.collect_until(|f| f["type"] == "state" && f["state"] == "queued").await;
    assert!(frames.iter().any(|f| f["state"] == "agent"));
    queue_until(&mut ana, &id_of(&welcome), true).await;
}

#[tokio::test]
async fn least_busy_routing_assigns_a_new_escalation_automatically() {
    let app = spawn_app_with(two_agents(Routing::LeastBusy)).await;
    let (mut ana, _) = app.connect_agent("token-ana").await;
    let (mut bo, _) = app.connect_agent("token-bo").await;
    let (mut first, w1) = app.escalated_visitor().await;
    let (_second, w2) = app.escalated_visitor().await;
    let who_got = |frames: &[Value], id: &Value| {
        frames.iter().any(|f| f["type"] == "assigned" && f["conversation"]["conversation_id"] == *id)
    };
    let ana_frames = ana.drain(Duration::from_millis(600)).await;
    let bo_frames = bo.drain(Duration::from_millis(100)).await;
    // One chat each: the least busy agent gets the next one.
    assert!(who_got(&ana_frames, &id_of(&w1)) ^ who_got(&bo_frames, &id_of(&w1)));
    assert!(who_got(&ana_frames, &id_of(&w2)) ^ who_got(&bo_frames, &id_of(&w2)));
    assert!(who_got(&ana_frames, &id_of(&w1)) ^ who_got(&ana_frames, &id_of(&w2)), "one each");
    let state = first.collect_until(|f| f["type"] == "state" && f["state"] == "agent").await;
    assert!(state.last().unwrap()["agent"]["name"].as_str().unwrap().starts_with("Agent"));
}

#[tokio::test]
async fn an_away_agent_is_not_given_chats() {
    let app = spawn_app_with(two_agents(Routing::LeastBusy)).await;
    let (mut ana, _) = app.connect_agent("token-ana").await;
    ana.send(json!({"type": "status", "status": "away"})).await;
    ana.drain(Duration::from_millis(200)).await;
    let (mut visitor, _) = app.escalated_visitor().await;
    let frames = visitor.drain(Duration::from_millis(600)).await;
    assert!(frames.iter().any(|f| f["actions"][0]["id"] == "leave_message"), "nobody available: {frames:?}");
    assert!(ana.drain(Duration::from_millis(300)).await.iter().all(|f| f["type"] != "assigned"));
}

#[tokio::test]
async fn the_visitor_reconnecting_during_a_handoff_gets_every_event_in_order() {
    let app = manual_app().await;
    let (mut ana, _) = app.connect_agent("token-ana").await;
    let (mut visitor, welcome) = app.escalated_visitor().await;
    let seen = visitor.drain(Duration::from_millis(300)).await;
    let last_seen = seen.iter().filter_map(|f| f["seq"].as_u64()).max().unwrap_or(0).max(3);
    drop(visitor);
    queue_until(&mut ana, &id_of(&welcome), true).await;
    accept(&mut ana, &id_of(&welcome)).await;
    for i in 0..3 {
        ana.send(json!({"type": "message", "conversation_id": id_of(&welcome), "client_id": format!("a{i}"), "text": format!("update {i}")})).await;
        ana.next_of_type("ack").await;
    }
    let (mut back, resumed) = app.resume_visitor(welcome["token"].as_str().unwrap(), last_seen).await;
    assert_eq!(resumed["state"], "agent");
    let newest = resumed["last_seq"].as_u64().unwrap();
    let replayed = back.collect_until(|f| f["seq"].as_u64() == Some(newest)).await;
    let seqs: Vec<u64> = replayed.iter().filter_map(|f| f["seq"].as_u64()).collect();
    assert_eq!(seqs, ((last_seen + 1)..=newest).collect::<Vec<_>>(), "in order, once each");
    let texts: Vec<&str> =
        replayed.iter().filter(|f| f["from"] == "agent").map(|f| f["text"].as_str().unwrap()).collect();
    assert_eq!(texts, ["update 0", "update 1", "update 2"]);
}

#[tokio::test]
async fn after_a_handback_the_bot_answers_again_knowing_what_the_agent_said() {
    let app = spawn_app_with_llm(two_agents(Routing::Manual)).await;
    let (mut ana, mut visitor, welcome) = taken_chat(&app).await;
    ana.send(json!({"type": "message", "conversation_id": id_of(&welcome), "client_id": "a1", "text": "I've refunded order 1042."})).await;
    ana.next_of_type("ack").await;
    ana.send(json!({"type": "handback", "conversation_id": id_of(&welcome)})).await;
    // The state, then the server's notice of the hand-back (before the visitor writes again).
    let told =
        visitor.collect_until(|f| f["from"] == "system" && f["text"].as_str().unwrap().contains("back with")).await;
    assert!(told.iter().any(|f| f["type"] == "state" && f["state"] == "bot"));
    visitor.say("v1", "When will I see the money?").await;
    let reply = visitor.next_bot_message().await;
    assert_eq!(reply["from"], "bot");
    let request = app.llm().requests().into_iter().rev().find(|r| r["tools"].is_array()).unwrap();
    let system = request["messages"][0]["content"].as_str().unwrap();
    assert!(system.contains("I've refunded order 1042.") && system.contains("Do not contradict"), "{system}");
}

#[tokio::test]
async fn resolving_asks_the_visitor_for_a_rating_and_stores_it() {
    let app = manual_app().await;
    let (mut ana, mut visitor, welcome) = taken_chat(&app).await;
    ana.send(json!({"type": "resolve", "conversation_id": id_of(&welcome)})).await;
    let frames = visitor.collect_until(|f| f["type"] == "csat_request").await;
    assert!(frames.iter().any(|f| f["type"] == "state" && f["state"] == "resolved"));
    visitor.send(json!({"type": "csat", "score": 5, "comment": "Ana was great"})).await;
    visitor.drain(Duration::from_millis(200)).await;
    let csat = serde_json::to_value(app.conversation(&welcome).await.records.rating).unwrap();
    assert_eq!((csat["score"].as_u64(), csat["comment"].as_str()), (Some(5), Some("Ana was great")));
}

#[tokio::test]
async fn a_transfer_gives_the_next_agent_the_whole_context() {
    let app = manual_app().await;
    let (mut ana, _) = app.connect_agent("token-ana").await;
    let (mut bo, _) = app.connect_agent("token-bo").await;
    let (mut visitor, welcome) = app.escalated_visitor().await;
    queue_until(&mut ana, &id_of(&welcome), true).await;
    accept(&mut ana, &id_of(&welcome)).await;
    ana.send(json!({"type": "note", "conversation_id": id_of(&welcome), "text": "needs billing"})).await;
    ana.next_of_type("note").await;
    ana.send(json!({"type": "transfer", "conversation_id": id_of(&welcome), "to": {"agent_id": "bo"}})).await;
    let assigned = bo.next_of_type("assigned").await;
    let events = assigned["conversation"]["events"].as_array().unwrap();
    assert!(events.iter().any(|e| e["type"] == "note" && e["text"] == "needs billing"), "notes travel with the chat");
    let state = visitor.collect_until(|f| f["type"] == "state" && f["agent"]["id"] == "bo").await;
    assert_eq!(state.last().unwrap()["agent"]["name"], "Agent bo");
    // Ana no longer has it.
    ana.send(json!({"type": "message", "conversation_id": id_of(&welcome), "client_id": "late", "text": "still me?"}))
        .await;
    assert_eq!(ana.next_of_type("error").await["code"], "forbidden");
}

#[tokio::test]
async fn a_transfer_to_a_team_returns_the_chat_to_that_teams_queue_with_reason_transfer() {
    let app = spawn_app_with(|s| {
        two_agents(Routing::Manual)(s);
        s.agents.push(agent("cy", "token-cy", &["billing"], 2));
    })
    .await;
    let (mut cy, _) = app.connect_agent("token-cy").await;
    let (mut ana, mut visitor, welcome) = taken_chat(&app).await;
    ana.send(json!({"type": "transfer", "conversation_id": id_of(&welcome), "to": {"team": "billing"}})).await;
    let state = visitor.collect_until(|f| f["type"] == "state" && f["state"] == "queued").await;
    assert_eq!(state.last().unwrap()["reason"], "transfer");
    // Cy saw the chat while it waited for anyone; now it waits for billing.
    loop {
        let snapshot = queue_until(&mut cy, &id_of(&welcome), true).await;
        if snapshot["items"][0]["team"] == "billing" {
            break;
        }
    }
    // Ana is not in billing: the chat is no longer shown to her.
    queue_until(&mut ana, &id_of(&welcome), false).await;
}

#[tokio::test]
async fn with_no_agent_online_the_visitor_is_told_at_once_and_a_left_message_reaches_agents() {
    let app = manual_app().await;
    let (mut visitor, welcome) = app.escalated_visitor().await;
    let nobody = visitor.collect_until(|f| f["actions"][0]["id"] == "leave_message").await;
    assert!(nobody.last().unwrap()["text"].as_str().unwrap().contains("no one can join"));
    visitor
        .send(json!({"type": "leave_message", "email": "ana@example.com", "text": "Please call me about order 1042"}))
        .await;
    assert!(visitor.next_of_type("message").await["text"].as_str().unwrap().contains("ana@example.com"));
    // An agent who comes online later sees it.
    let (_bo, ready) = app.connect_agent("token-bo").await;
    let left = &ready["left_messages"][0];
    assert_eq!((left["email"].as_str(), left["conversation_id"].clone()), (Some("ana@example.com"), id_of(&welcome)));
    assert!(left["text"].as_str().unwrap().contains("order 1042"));
}

#[tokio::test]
async fn outside_business_hours_the_visitor_is_told_so() {
    let app = spawn_app_with(|s| {
        two_agents(Routing::LeastBusy)(s);
        for site in &mut s.sites {
            let closed = baton::config::hours::HoursConfig { timezone: "UTC".into(), ..Default::default() };
            site.handoff.parsed_hours = Some(baton::config::hours::Hours::parse(&closed).unwrap());
        }
    })
    .await;
    let (mut ana, _) = app.connect_agent("token-ana").await;
    let (mut visitor, _) = app.escalated_visitor().await;
    let frames = visitor.collect_until(|f| f["actions"][0]["id"] == "leave_message").await;
    assert!(frames.last().unwrap()["text"].as_str().unwrap().contains("not in right now"));
    assert!(
        ana.drain(Duration::from_millis(400)).await.iter().all(|f| f["type"] != "assigned"),
        "no routing when closed"
    );
}

#[tokio::test]
async fn a_second_waiting_visitor_is_told_position_two() {
    let app = manual_app().await;
    let (_ana, _) = app.connect_agent("token-ana").await;
    let (_first, _) = app.escalated_visitor().await;
    let (mut second, _) = app.escalated_visitor().await;
    assert_eq!(second.next_of_type("queue").await["position"], 2);
}

#[tokio::test]
async fn an_agent_at_capacity_cannot_accept_more() {
    let app = spawn_app_with(|s| {
        two_agents(Routing::Manual)(s);
        s.agents[0].max_chats = 1;
    })
    .await;
    let (mut ana, _) = app.connect_agent("token-ana").await;
    let (_v1, w1) = app.escalated_visitor().await;
    let (_v2, w2) = app.escalated_visitor().await;
    queue_until(&mut ana, &id_of(&w2), true).await;
    accept(&mut ana, &id_of(&w1)).await;
    ana.send(json!({"type": "accept", "conversation_id": id_of(&w2)})).await;
    assert_eq!(ana.next_of_type("error").await["code"], "forbidden");
}

#[tokio::test]
async fn the_agent_who_resolved_a_chat_is_told_its_rating() {
    let app = manual_app().await;
    let (mut ana, mut visitor, welcome) = taken_chat(&app).await;
    ana.send(json!({"type": "resolve", "conversation_id": id_of(&welcome)})).await;
    while visitor.next_of_type("state").await["state"] != "resolved" {}
    visitor.send(json!({"type": "csat", "score": 2, "comment": "too slow"})).await;
    let rated = ana.next_of_type("rated").await;
    assert_eq!(rated["conversation_id"], id_of(&welcome));
    assert_eq!((rated["rating"]["score"].clone(), rated["rating"]["comment"].clone()), (json!(2), json!("too slow")));
    let id: baton::protocol::ConversationId = serde_json::from_value(id_of(&welcome)).unwrap();
    let stored = app.store.log.conversation(id).await.unwrap().unwrap();
    assert_eq!(stored.records.rating.as_ref().map(|r| r.score), Some(2));
}

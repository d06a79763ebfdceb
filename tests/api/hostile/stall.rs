//! Redis stalls (SIGSTOP, then SIGCONT) under a live chat: a visitor message whose append
//! timed out on Baton's side while its script still waited in Redis is judged and answered
//! exactly once, whether the client resends it or not.

use serde_json::{Value, json};

use crate::helpers::{Client, TestApp, spawn_app_with};
use crate::redis_server::{RedisServer, namespace};

async fn app_on(redis: &RedisServer) -> TestApp {
    let (url, ns) = (redis.url(), namespace());
    spawn_app_with(move |s| {
        s.store.redis_url = Some(url.into());
        s.store.namespace = ns;
    })
    .await
}

/// Sends a message while Redis is frozen; returns once Baton has answered `unavailable`.
async fn send_during_stall(redis: &RedisServer, visitor: &mut Client, client_id: &str, text: &str) {
    redis.pause();
    visitor.send(json!({"type": "message", "client_id": client_id, "text": text})).await;
    let error = visitor.next_of_type("error").await;
    assert_eq!(error["code"], "unavailable", "{error}");
    redis.resume();
}

/// Frames until (and with) the `ack` of `client_id`.
async fn until_ack(visitor: &mut Client, client_id: &str) -> Vec<Value> {
    visitor.collect_until(|f| f["type"] == "ack" && f["client_id"] == client_id).await
}

fn bot_messages(frames: &[Value]) -> Vec<&Value> {
    frames.iter().filter(|f| f["type"] == "message" && f["from"] == "bot").collect()
}

#[tokio::test]
async fn a_question_stored_during_a_stall_is_answered_once_without_a_resend_and_a_resend_adds_nothing() {
    let redis = RedisServer::start();
    let app = app_on(&redis).await;
    let (mut visitor, _) = app.connect_visitor().await;
    send_during_stall(&redis, &mut visitor, "q1", "How do I return an item?").await;

    // Nobody resends: the stored question still gets its answer.
    let mut frames = visitor.collect_until(|f| f["type"] == "message" && f["from"] == "bot").await;
    let question = frames.iter().find(|f| f["type"] == "message" && f["client_id"] == "q1").expect("q1 delivered");
    let q1_seq = question["seq"].as_u64().unwrap();

    // The client's outbox resends it: the same seq, and no second answer.
    visitor.send(json!({"type": "message", "client_id": "q1", "text": "How do I return an item?"})).await;
    frames.extend(until_ack(&mut visitor, "q1").await);
    assert_eq!(frames.last().unwrap()["seq"].as_u64(), Some(q1_seq));
    visitor.send(json!({"type": "message", "client_id": "q2", "text": "And how long does shipping take?"})).await;
    frames.extend(until_ack(&mut visitor, "q2").await);
    let q2_seq = frames.last().unwrap()["seq"].as_u64().unwrap();
    frames.extend(visitor.collect_until(|f| f["type"] == "message" && f["from"] == "bot").await);
    let answers = bot_messages(&frames);
    let before_q2 = answers.iter().filter(|m| m["seq"].as_u64().unwrap() < q2_seq).count();
    assert_eq!(before_q2, 1, "q1 answered exactly once: {answers:?}");
    assert!(answers.iter().any(|m| m["seq"].as_u64().unwrap() > q2_seq), "q2 answered too");
}

#[tokio::test]
async fn a_request_for_a_person_that_got_unavailable_and_was_resent_escalates_exactly_once() {
    let redis = RedisServer::start();
    let app = app_on(&redis).await;
    let (mut visitor, _) = app.connect_visitor().await;
    send_during_stall(&redis, &mut visitor, "p1", "I want to talk to a real person").await;

    visitor.send(json!({"type": "message", "client_id": "p1", "text": "I want to talk to a real person"})).await;
    let mut frames = until_ack(&mut visitor, "p1").await;
    if !frames.iter().any(|f| f["type"] == "state") {
        frames.push(visitor.next_of_type("state").await);
    }
    visitor.send(json!({"type": "message", "client_id": "p2", "text": "Hello?"})).await;
    frames.extend(until_ack(&mut visitor, "p2").await);
    let states: Vec<&Value> = frames.iter().filter(|f| f["type"] == "state").collect();
    assert_eq!(states.len(), 1, "{states:?}");
    assert_eq!((&states[0]["state"], &states[0]["reason"]), (&json!("queued"), &json!("explicit_request")));
}

#[tokio::test]
async fn readiness_fails_while_redis_refuses_writes_though_it_answers_ping() {
    let redis = RedisServer::start();
    let app = app_on(&redis).await;
    assert_eq!(app.get("/readyz").await.status(), 200);
    // `noeviction` at `maxmemory`: every write is refused with OOM, PING still answers.
    assert_eq!(redis.command("CONFIG SET maxmemory-policy noeviction"), "+OK");
    assert_eq!(redis.command("CONFIG SET maxmemory 1"), "+OK");
    let refused = app.get("/readyz").await;
    assert_eq!(refused.status(), 503);
    assert!(refused.text().await.unwrap().contains("OOM"), "the reason names the refusal");
    assert_eq!(redis.command("CONFIG SET maxmemory 0"), "+OK");
    assert_eq!(app.get("/readyz").await.status(), 200);
}

#[tokio::test]
async fn a_request_for_a_person_stored_during_a_stall_and_resent_tells_the_visitor_once() {
    let redis = RedisServer::start();
    let app = app_on(&redis).await;
    let (mut visitor, _) = app.connect_visitor().await;
    redis.pause();
    visitor.send(json!({"type": "request_human"})).await;
    let error = visitor.next_of_type("error").await;
    assert_eq!(error["code"], "unavailable", "{error}");
    redis.resume();

    // The widget sends it again after `unavailable`; Redis had queued the chat meanwhile.
    visitor.send(json!({"type": "request_human"})).await;
    visitor.send(json!({"type": "request_human"})).await;
    visitor.send(json!({"type": "message", "client_id": "after", "text": "Hello?"})).await;
    let frames = visitor.collect_until(|f| f["type"] == "message" && f["client_id"] == "after").await;
    let events: Vec<&Value> = frames.iter().filter(|f| f["seq"].is_u64()).collect();
    let queued = events.iter().position(|f| f["type"] == "state" && f["state"] == "queued").expect("queued");
    let notices = events[queued..].iter().filter(|f| f["type"] == "message" && f["from"] == "system").count();
    assert_eq!(notices, 1, "one notice after the queued state: {events:?}");
}

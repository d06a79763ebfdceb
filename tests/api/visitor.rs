use std::time::Duration;

use serde_json::json;
use tokio_tungstenite::tungstenite::Error as WsError;
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{spawn_app, spawn_app_with};

fn http_status(error: WsError) -> u16 {
    match error {
        WsError::Http(response) => response.status().as_u16(),
        other => panic!("expected an HTTP refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn an_unknown_site_is_refused_with_404_before_the_upgrade() {
    let app = spawn_app().await;
    let error = app.open_visitor("nope", None).await.err().expect("refused");
    assert_eq!(http_status(error), 404);
}

#[tokio::test]
async fn a_foreign_origin_is_refused_with_403_and_a_listed_one_accepted() {
    let app = spawn_app().await;
    let error = app.open_visitor("demo", Some("https://evil.example")).await.err().expect("refused");
    assert_eq!(http_status(error), 403);
    assert!(app.open_visitor("demo", Some("http://127.0.0.1:5173")).await.is_ok());
}

#[tokio::test]
async fn hello_starts_a_conversation_with_the_greeting_and_the_ai_notice() {
    let app = spawn_app().await;
    let mut visitor = app.open_visitor("demo", None).await.unwrap();
    visitor
        .send(json!({"type": "hello", "locale": "en", "page": {"url": "http://localhost/shop", "title": "Shop"}}))
        .await;
    let welcome = visitor.next_frame().await;
    assert_eq!(welcome["type"], "welcome");
    assert_eq!(welcome["state"], "bot");
    assert_eq!(welcome["last_seq"], 1);
    assert!(welcome["token"].as_str().unwrap().len() >= 32);
    assert!(welcome["ai_notice"].as_str().unwrap().contains("AI assistant"));
    let greeting = visitor.next_frame().await;
    assert_eq!(
        (greeting["type"].as_str(), greeting["seq"].as_u64(), greeting["from"].as_str()),
        (Some("message"), Some(1), Some("bot"))
    );
    assert_eq!(greeting["author"]["name"], "Nori");
    assert_eq!(greeting["conversation_id"], welcome["conversation_id"]);
}

#[tokio::test]
async fn a_message_is_acked_with_its_seq_and_echoed_to_the_sender() {
    let app = spawn_app().await;
    let (mut visitor, _) = app.connect_visitor().await;
    visitor.send(json!({"type": "message", "client_id": "m1", "text": "Hello there"})).await;
    let mut frames = [visitor.next_frame().await, visitor.next_frame().await];
    frames.sort_by_key(|f| f["type"] == "ack");
    let (echo, ack) = (&frames[0], &frames[1]);
    assert_eq!(
        (echo["type"].as_str(), echo["from"].as_str()),
        (Some("message"), Some("visitor")),
        "own message echoed"
    );
    assert_eq!(ack["type"], "ack");
    assert_eq!(ack["client_id"], "m1");
    assert_eq!(ack["seq"], echo["seq"]);
    assert_eq!(echo["client_id"], "m1");
    assert!(echo["at"].as_str().unwrap().contains('T'), "RFC 3339 timestamp");
}

#[tokio::test]
async fn a_duplicate_client_id_gets_the_same_ack_and_stores_nothing_new() {
    let app = spawn_app().await;
    let (mut visitor, welcome) = app.connect_visitor().await;
    let first = visitor.say("same", "Where is my order?").await;
    visitor.next_bot_message().await;
    let again = visitor.say("same", "Where is my order?").await;
    assert_eq!(first["seq"], again["seq"]);
    // A fresh socket replaying everything sees the message once.
    let (mut replay, resumed) = app.resume_visitor(welcome["token"].as_str().unwrap(), 0).await;
    let last_seq = resumed["last_seq"].as_u64().unwrap();
    let events = replay.collect_until(|f| f["seq"].as_u64() == Some(last_seq)).await;
    let copies = events.iter().filter(|e| e["client_id"] == "same").count();
    assert_eq!(copies, 1);
}

#[tokio::test]
async fn resume_replays_exactly_the_missed_events_in_order_once() {
    let app = spawn_app().await;
    let (mut visitor, welcome) = app.connect_visitor().await;
    let token = welcome["token"].as_str().unwrap().to_owned();
    visitor.say("a", "How do I return an item?").await;
    let reply = visitor.next_bot_message().await;
    let seen = reply["seq"].as_u64().unwrap();
    drop(visitor);
    // Meanwhile, from another tab, the conversation goes on.
    let (mut other_tab, _) = app.resume_visitor(&token, seen).await;
    other_tab.say("b", "How long do refunds take?").await;
    let newest = other_tab.next_bot_message().await["seq"].as_u64().unwrap();
    let (mut back, resumed) = app.resume_visitor(&token, seen).await;
    assert_eq!(resumed["last_seq"].as_u64(), Some(newest));
    let replayed = back.collect_until(|f| f["seq"].as_u64() == Some(newest)).await;
    let seqs: Vec<u64> = replayed.iter().filter_map(|f| f["seq"].as_u64()).collect();
    assert_eq!(seqs, ((seen + 1)..=newest).collect::<Vec<_>>());
    back.assert_silent(Duration::from_millis(300)).await;
}

#[tokio::test]
async fn every_tab_on_a_conversation_gets_every_frame() {
    let app = spawn_app().await;
    let (mut first, welcome) = app.connect_visitor().await;
    let (mut second, _) = app.resume_visitor(welcome["token"].as_str().unwrap(), 1).await;
    first.send(json!({"type": "typing", "on": true})).await;
    let typing = second.next_of_type("typing").await;
    assert_eq!((typing["from"].as_str(), typing["on"].as_bool()), (Some("visitor"), Some(true)));
    first.say("t1", "Do you ship to Canada?").await;
    let in_second = second.next_of_type("message").await;
    assert_eq!(in_second["client_id"], "t1");
    assert_eq!(second.next_bot_message().await["seq"], first.next_bot_message().await["seq"]);
}

#[tokio::test]
async fn a_forged_token_closes_with_4001() {
    let app = spawn_app().await;
    let mut visitor = app.open_visitor("demo", None).await.unwrap();
    visitor.send(json!({"type": "hello", "token": "not-a-real-token"})).await;
    assert_eq!(visitor.closed_with().await, 4001);
}

#[tokio::test]
async fn no_hello_in_time_closes_with_4000() {
    let app = spawn_app_with(|s| s.limits.hello_timeout_secs = 1).await;
    let mut visitor = app.open_visitor("demo", None).await.unwrap();
    assert_eq!(visitor.closed_with().await, 4000);
}

#[tokio::test]
async fn invalid_frames_get_an_error_and_the_socket_stays_open() {
    let app = spawn_app().await;
    let (mut visitor, _) = app.connect_visitor().await;
    for bad in
        ["not json", r#"{"type":"dance"}"#, r#"{"no_type":1}"#, r#"{"type":"message","client_id":"","text":"hi"}"#]
    {
        visitor.send_raw(Message::text(bad)).await;
        let error = visitor.next_of_type("error").await;
        assert_eq!(error["code"], "invalid_frame", "for {bad}");
    }
    visitor.send_raw(Message::binary(vec![1, 2, 3])).await;
    assert_eq!(visitor.next_of_type("error").await["code"], "invalid_frame");
    visitor.send(json!({"type": "message", "client_id": "x", "text": "a".repeat(4001)})).await;
    assert_eq!(visitor.next_of_type("error").await["code"], "too_long");
    assert_eq!(visitor.say("ok", "still here?").await["client_id"], "ok");
}

#[tokio::test]
async fn a_frame_over_64_kib_closes_with_1009() {
    let app = spawn_app().await;
    let (mut visitor, _) = app.connect_visitor().await;
    let huge = json!({"type": "message", "client_id": "big", "text": "a".repeat(70 * 1024)});
    visitor.send(huge).await;
    assert_eq!(visitor.closed_with().await, 1009);
}

#[tokio::test]
async fn a_flood_is_rate_limited_then_closed_with_4008() {
    let app = spawn_app_with(|s| {
        s.limits.rate_per_sec = 1.0;
        s.limits.rate_burst = 2;
        s.limits.rate_strikes = 3;
    })
    .await;
    let (mut visitor, _) = app.connect_visitor().await;
    for _ in 0..3 {
        visitor.send(json!({"type": "typing", "on": true})).await;
    }
    assert_eq!(visitor.next_of_type("error").await["code"], "rate_limited");
    for _ in 0..3 {
        visitor.send(json!({"type": "typing", "on": true})).await;
    }
    assert_eq!(visitor.closed_with().await, 4008);
}

#[tokio::test]
async fn a_silent_peer_is_dropped_after_the_client_timeout() {
    let app = spawn_app_with(|s| {
        s.limits.heartbeat_secs = 1;
        s.limits.client_timeout_secs = 2;
    })
    .await;
    let (mut visitor, _) = app.connect_visitor().await;
    // Not reading means not answering pings: the server must give up on this peer.
    tokio::time::sleep(Duration::from_secs(4)).await;
    // The close frame may be lost to a reset when the client's late pong meets a closed socket.
    let code = visitor.closed_with().await;
    assert!(code == 1001 || code == 1006, "closed with {code}");
}

#[tokio::test]
async fn end_resolves_and_a_new_message_reopens_the_conversation() {
    let app = spawn_app().await;
    let (mut visitor, _) = app.connect_visitor().await;
    visitor.send(json!({"type": "end"})).await;
    assert_eq!(visitor.next_of_type("state").await["state"], "resolved");
    visitor.send(json!({"type": "message", "client_id": "after", "text": "one more thing"})).await;
    let frames = visitor.collect_until(|f| f["type"] == "message" && f["client_id"] == "after").await;
    assert!(frames.iter().any(|f| f["type"] == "state" && f["state"] == "bot"), "reopened: {frames:?}");
    assert!(frames.iter().any(|f| f["type"] == "ack" && f["client_id"] == "after"));
}

#[tokio::test]
async fn request_human_queues_the_conversation_with_its_reason() {
    let app = spawn_app().await;
    let (mut visitor, _) = app.connect_visitor().await;
    visitor.send(json!({"type": "request_human"})).await;
    let state = visitor.next_of_type("state").await;
    assert_eq!((state["state"].as_str(), state["reason"].as_str()), (Some("queued"), Some("explicit_request")));
    assert_eq!(visitor.next_of_type("message").await["from"], "system");
}

#[tokio::test]
async fn a_left_message_is_confirmed_and_kept_from_the_visitor_view() {
    let app = spawn_app().await;
    let (mut visitor, welcome) = app.connect_visitor().await;
    visitor.send(json!({"type": "leave_message", "email": "ana@example.com", "text": "Please call me back"})).await;
    let confirm = visitor.next_of_type("message").await;
    assert!(confirm["text"].as_str().unwrap().contains("ana@example.com"));
    // The note itself is for agents: a replay shows the visitor no note.
    let (mut replay, resumed) = app.resume_visitor(welcome["token"].as_str().unwrap(), 0).await;
    let last = resumed["last_seq"].as_u64().unwrap();
    let events = replay.collect_until(|f| f["seq"].as_u64() == Some(last)).await;
    assert!(events.iter().all(|e| e["type"] != "note"));
}

#[tokio::test]
async fn shutdown_closes_visitor_sockets_with_1001() {
    let app = spawn_app().await;
    let (mut visitor, _) = app.connect_visitor().await;
    app.shutdown.cancel();
    assert_eq!(visitor.closed_with().await, 1001);
}

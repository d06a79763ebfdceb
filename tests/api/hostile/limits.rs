//! Limits per client address, per site and per conversation, and the HTTP and origin
//! gaps: each through the real socket or HTTP path.

use serde_json::{Value, json};

use super::raw::Raw;
use crate::helpers::{spawn_app, spawn_app_with};

const VISITOR: &str = "/v1/visitor/ws?site=demo";

async fn hello(port: u16, extra: &[(&str, &[u8])]) -> Raw {
    let mut socket = Raw::open(port, VISITOR, extra).await.expect("upgraded");
    socket.send_text(&json!({"type": "hello"}).to_string()).await;
    socket
}

#[tokio::test]
async fn new_conversations_past_the_address_allowance_close_with_4008_and_resuming_is_not_counted() {
    let app = spawn_app_with(|s| {
        s.limits.conversations_per_ip_burst = 2;
        s.limits.conversations_per_ip_per_hour = 1;
    })
    .await;
    let (_, welcome) = app.connect_visitor().await;
    let (_second, _) = app.connect_visitor().await;
    assert_eq!(hello(app.port, &[]).await.close_code().await, Some(4008));
    let token = welcome["token"].as_str().unwrap();
    let (_, resumed) = app.resume_visitor(token, 0).await;
    assert_eq!(resumed["conversation_id"], welcome["conversation_id"]);
}

#[tokio::test]
async fn a_trusted_proxy_header_gives_each_client_its_own_allowance() {
    let app = spawn_app_with(|s| {
        s.limits.conversations_per_ip_burst = 1;
        s.limits.conversations_per_ip_per_hour = 1;
        s.limits.client_ip_header = Some("X-Forwarded-For".into());
    })
    .await;
    let from = |ip: &'static str| [("X-Forwarded-For", ip.as_bytes())];
    hello(app.port, &from("203.0.113.1")).await.text_containing("\"welcome\"").await;
    hello(app.port, &from("203.0.113.2")).await.text_containing("\"welcome\"").await;
    // The proxy's entry is the last one; what the client wrote before it is not believed.
    let spoofed = [("X-Forwarded-For", &b"198.51.100.9, 203.0.113.1"[..])];
    assert_eq!(hello(app.port, &spoofed).await.close_code().await, Some(4008));
}

#[tokio::test]
async fn socket_upgrades_past_the_address_allowance_get_429_as_json() {
    let app = spawn_app_with(|s| {
        s.limits.upgrades_per_ip_burst = 2;
        s.limits.upgrades_per_ip_per_min = 1;
    })
    .await;
    let _a = Raw::open(app.port, VISITOR, &[]).await.unwrap();
    let _b = Raw::open(app.port, "/v1/agent/ws", &[]).await.unwrap();
    let refused = Raw::open(app.port, VISITOR, &[]).await.err().expect("refused");
    assert!(refused.starts_with("HTTP/1.1 429"), "{refused}");
}

#[tokio::test]
async fn agent_token_guessing_is_throttled_per_address_even_for_the_right_token() {
    let app = spawn_app_with(|s| {
        s.limits.auth_failures_per_ip_burst = 2;
        s.limits.auth_failures_per_ip_per_min = 1;
    })
    .await;
    for guess in ["guess-1", "guess-2"] {
        let mut agent = app.open_agent().await;
        agent.send(json!({"type": "auth", "token": guess})).await;
        assert_eq!(agent.closed_with().await, 4001);
    }
    let mut agent = app.open_agent().await;
    agent.send(json!({"type": "auth", "token": "demo-agent-token"})).await;
    assert_eq!(agent.closed_with().await, 4008);
}

#[tokio::test]
async fn sockets_sharing_a_conversation_share_its_rate() {
    let app = spawn_app_with(|s| {
        s.limits.conversation_rate_burst = 6;
        s.limits.conversation_rate_per_sec = 0.01;
    })
    .await;
    let (mut first, welcome) = app.connect_visitor().await;
    let (mut second, _) = app.resume_visitor(welcome["token"].as_str().unwrap(), 1000).await;
    for _ in 0..4 {
        first.send(json!({"type": "typing", "on": true})).await;
        second.send(json!({"type": "typing", "on": true})).await;
    }
    let limited = |frames: &[Value]| frames.iter().filter(|f| f["code"] == "rate_limited").count();
    let seen = [
        first.drain(std::time::Duration::from_millis(500)).await,
        second.drain(std::time::Duration::from_millis(500)).await,
    ];
    assert_eq!(limited(&seen[0]) + limited(&seen[1]), 2, "8 frames, 6 allowed for the conversation: {seen:?}");
}

#[tokio::test]
async fn binary_frames_and_pings_count_against_the_rate_before_hello_too() {
    let app = spawn_app_with(|s| {
        s.limits.rate_burst = 3;
        s.limits.rate_per_sec = 0.01;
        s.limits.rate_strikes = 3;
    })
    .await;
    let mut socket = Raw::open(app.port, VISITOR, &[]).await.unwrap();
    for _ in 0..10 {
        socket.write(&super::raw::frame(true, 9, b"ping")).await;
    }
    assert_eq!(socket.close_code().await, Some(4008));
}

#[tokio::test]
async fn an_origin_that_is_not_text_is_refused_and_agents_sockets_check_their_origin() {
    let app = spawn_app().await;
    let bad = Raw::open(app.port, VISITOR, &[("Origin", b"http://\xfflocalhost")]).await.err().expect("refused");
    assert!(bad.starts_with("HTTP/1.1 403"), "{bad}");
    let foreign = Raw::open(app.port, "/v1/agent/ws", &[("Origin", b"https://evil.example")]).await.err();
    assert!(foreign.expect("refused").starts_with("HTTP/1.1 403"));
    let own = format!("http://127.0.0.1:{}", app.port);
    assert!(Raw::open(app.port, "/v1/agent/ws", &[("Origin", own.as_bytes())]).await.is_ok(), "the console's own");
}

#[tokio::test]
async fn http_errors_are_json_and_health_answers_head() {
    let app = spawn_app().await;
    let client = reqwest::Client::new();
    for (path, status, code) in [("/nope", 404, "not_found"), ("/v1/visitor/ws", 400, "invalid_frame")] {
        let response = client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), status, "{path}");
        let body: Value = response.json().await.unwrap_or_else(|e| panic!("{path}: not JSON: {e}"));
        assert_eq!(body["error"], code, "{path}: {body}");
    }
    assert_eq!(client.head(app.url("/healthz")).send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn the_leave_message_action_does_nothing_on_the_server() {
    let app = spawn_app().await;
    let (mut visitor, _) = app.connect_visitor().await;
    visitor.send(json!({"type": "action", "id": "leave_message"})).await;
    visitor.send(json!({"type": "action", "id": "no_such_action"})).await;
    let error = visitor.next_of_type("error").await;
    assert_eq!(error["code"], "not_found", "only the unknown action is an error: {error}");
}

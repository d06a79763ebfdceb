//! Input the protocol refuses, through the real socket: addresses that would bend a
//! `mailto:` link, text with nothing visible in it, an `accept` of a chat the bot still has;
//! and the loud warning a node gives at start on a Redis that evicts keys.

use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::json;

use crate::cluster::listening_port_and_logs;
use crate::helpers::{repo_root, spawn_app};
use crate::redis_server::{RedisServer, namespace};

#[tokio::test]
async fn a_left_message_address_with_link_parameters_is_refused_and_a_plain_one_taken() {
    let app = spawn_app().await;
    let (mut visitor, _) = app.connect_visitor().await;
    for email in ["a@b.c?bcc=attacker@evil.example&body=x", "a@b.example%0Abcc:x@evil.example", "a b@c.example", "a@b"]
    {
        visitor.send(json!({"type": "leave_message", "email": email, "text": "Call me"})).await;
        let error = visitor.next_of_type("error").await;
        assert_eq!(error["code"], "invalid_frame", "{email}: {error}");
    }
    visitor.send(json!({"type": "leave_message", "email": "ana@example.com", "text": "Call me"})).await;
    assert!(visitor.drain(Duration::from_millis(300)).await.iter().all(|f| f["type"] != "error"));
}

#[tokio::test]
async fn text_with_nothing_visible_is_refused_and_stores_nothing() {
    let app = spawn_app().await;
    let (mut visitor, welcome) = app.connect_visitor().await;
    for text in ["\u{200b}\u{200b}", "\u{0}", "\u{202e}\u{2066}", " \n\t", "\u{feff}\u{fe0f}"] {
        visitor.send(json!({"type": "message", "client_id": "c1", "text": text})).await;
        let error = visitor.next_of_type("error").await;
        assert_eq!(error["code"], "invalid_frame", "{text:?}: {error}");
    }
    let id = serde_json::from_value(welcome["conversation_id"].clone()).unwrap();
    let events = app.store.log.events_after(id, 0, 100).await.unwrap();
    assert_eq!(events.len(), 1, "only the greeting: {events:?}");
}

#[tokio::test]
async fn accepting_a_chat_the_bot_still_has_is_forbidden_not_already_taken() {
    let app = spawn_app().await;
    let (_visitor, welcome) = app.connect_visitor().await;
    let (mut agent, _) = app.connect_agent("demo-agent-token").await;
    agent.send(json!({"type": "accept", "conversation_id": welcome["conversation_id"]})).await;
    let error = agent.next_of_type("error").await;
    assert_eq!(error["code"], "forbidden", "{error}");
}

#[tokio::test]
async fn a_node_on_a_redis_that_evicts_keys_warns_loudly_at_start() {
    let redis = RedisServer::start();
    assert_eq!(redis.command("CONFIG SET maxmemory-policy volatile-lru"), "+OK");
    let mut child = Command::new(env!("CARGO_BIN_EXE_baton"))
        .env("BATON_CONFIG", repo_root().join("config"))
        .env("BATON__SERVER__PORT", "0")
        .env("BATON__STORE__REDIS_URL", redis.url())
        .env("BATON__STORE__NAMESPACE", namespace())
        .env("BATON_LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .env_remove("OPENAI_API_KEY")
        .env_remove("OPENAI_BASE_URL")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the baton binary starts");
    let (_, logs) = listening_port_and_logs(&mut child).await;
    let warned = logs.lock().unwrap().iter().any(|log| {
        log["level"] == "ERROR"
            && log["fields"]["policy"] == "volatile-lru"
            && log["fields"]["message"].as_str().is_some_and(|m| m.contains("noeviction"))
    });
    let _ = child.kill();
    let _ = child.wait();
    assert!(warned, "an error naming the policy and the fix, before the node listens");
}

//! `baton privacy erase --server URL` through the real path: the running server erases the
//! visitor from its live store (in memory, which only it can reach, or on a real Redis), from
//! the archive, and records the erase in the audit log without the address.

use std::process::Command;

use baton::protocol::ConversationId;
use serde_json::{Value, json};

use crate::archive::archive_matches_live;
use crate::archive_search::{ADMIN_TOKEN, get_json, with_admin};
use crate::helpers::{TestApp, spawn_app_with};
use crate::identity::{SECRET, hello, user_hash};
use crate::redis_server::{RedisServer, namespace};

/// A visitor who asked for a person and, with nobody online, left a message for `email`.
async fn leaves_a_message(app: &TestApp, email: &str) -> ConversationId {
    let (mut visitor, welcome) = app.escalated_visitor().await;
    visitor.collect_until(|f| f["actions"][0]["id"] == "leave_message").await;
    visitor.send(json!({"type": "leave_message", "email": email, "text": "Please call me"})).await;
    visitor.collect_until(|f| f["from"] == "system" && f["text"].as_str().is_some_and(|t| t.contains(email))).await;
    serde_json::from_value(welcome["conversation_id"].clone()).unwrap()
}

/// `baton privacy erase --server` with `token`: its exit status and stdout (or stderr). Run
/// off the test's runtime, which drives the server's Redis connection meanwhile.
async fn erase_through(app: &TestApp, token: &str, email: &str) -> (bool, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_baton"));
    command
        .args(["privacy", "erase", "--email", email, "--server", &app.url("")])
        .env("BATON_CONFIG", crate::helpers::repo_root().join("config"))
        .env("BATON_ADMIN_TOKEN", token);
    let output = tokio::task::spawn_blocking(move || command.output()).await.unwrap().expect("baton privacy runs");
    let text = if output.status.success() { output.stdout } else { output.stderr };
    (output.status.success(), String::from_utf8_lossy(&text).into_owned())
}

async fn a_running_server_erases_a_visitor_from_its_live_store_and_the_archive(app: TestApp) {
    let ann = leaves_a_message(&app, "ann@example.com").await;
    let bob = leaves_a_message(&app, "bob@example.com").await;
    let archive = app.archive.clone().unwrap();
    let copies = archive_matches_live(&app.store, &*archive, &[ann, bob]).await;

    let (ok, refused) = erase_through(&app, "demo-agent-token", "ann@example.com").await;
    assert!(!ok && refused.contains("403"), "an agent who is not an admin may not erase: {refused}");
    assert!(app.store.log.conversation(ann).await.unwrap().is_some(), "nothing was erased");

    let (ok, answer) = erase_through(&app, ADMIN_TOKEN, "Ann@Example.com").await;
    assert!(ok, "{answer}");
    let erased: Value = serde_json::from_str(answer.trim()).unwrap();
    let events = copies[0].events.len() as u64;
    assert_eq!(erased["archive"], json!({"conversations": 1, "events": events}), "{erased}");
    assert_eq!(erased["live"], json!({"conversations": 1, "left_messages": 1, "visitor_index": 0}), "{erased}");
    assert!(app.store.log.conversation(ann).await.unwrap().is_none(), "gone from the live store");
    assert!(archive.conversation(ann).await.unwrap().is_none(), "gone from the archive");
    let left = app.store.handoff.left_messages().await.unwrap();
    assert_eq!(left.iter().map(|m| m.email.as_str()).collect::<Vec<_>>(), ["bob@example.com"]);
    assert!(app.store.log.conversation(bob).await.unwrap().is_some(), "another visitor's data stays");
    assert!(archive.conversation(bob).await.unwrap().is_some());

    let (status, audit) = get_json(&app, "/v1/admin/audit", Some(ADMIN_TOKEN)).await;
    assert_eq!(status, 200);
    let erase = audit["items"].as_array().unwrap().iter().find(|e| e["action"] == "privacy_erase").cloned();
    let erase = erase.expect("the erase is audited");
    assert_eq!(erase["actor"], "root");
    assert!(!audit.to_string().to_lowercase().contains("ann@"), "no address in the audit: {audit}");
}

#[tokio::test]
async fn erase_through_the_server_reaches_the_in_memory_live_store() {
    let app = spawn_app_with(with_admin).await;
    a_running_server_erases_a_visitor_from_its_live_store_and_the_archive(app).await;
}

#[tokio::test]
async fn erase_through_the_server_reaches_a_redis_live_store() {
    let redis = RedisServer::start();
    let (url, ns) = (redis.url(), namespace());
    let app = spawn_app_with(|settings| {
        with_admin(settings);
        settings.store.redis_url = Some(url.into());
        settings.store.namespace = ns;
    })
    .await;
    a_running_server_erases_a_visitor_from_its_live_store_and_the_archive(app).await;
    drop(redis);
}

/// A verified visitor (`user_id` signed with the site's secret) is erased by that id: the
/// visitor index entry (identity → conversations) goes with the conversations it names;
/// another user's entry stays.
async fn erasing_a_user_id_removes_their_visitor_index_entry(app: TestApp) {
    let as_user = |user: &str| json!({"visitor": {"user_id": user, "user_hash": user_hash(SECRET, user)}});
    let (mut ana_socket, ana, _) = hello(&app, "demo", as_user("ana")).await;
    let (mut bo_socket, bo, _) = hello(&app, "demo", as_user("bo")).await;
    for socket in [&mut ana_socket, &mut bo_socket] {
        socket.send(json!({"type": "message", "client_id": "m1", "text": "Where is my parcel?"})).await;
        socket.collect_until(|f| f["type"] == "message" && f["from"] == "bot").await;
    }
    let since = chrono::Utc::now() - chrono::Duration::days(1);
    let ana_id: ConversationId = serde_json::from_value(ana["conversation_id"].clone()).unwrap();
    let bo_id: ConversationId = serde_json::from_value(bo["conversation_id"].clone()).unwrap();
    assert_eq!(app.store.visitors.user_conversations("demo", "ana", since, 10).await.unwrap(), [ana_id]);
    archive_matches_live(&app.store, &*app.archive.clone().unwrap(), &[ana_id, bo_id]).await;

    let response = reqwest::Client::new()
        .post(app.url("/v1/admin/privacy/erase"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({"user_id": "ana"}))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let erased: Value = response.json().await.unwrap();
    assert_eq!(status, 200, "{erased}");
    assert_eq!(erased["live"]["visitor_index"], 1, "{erased}");
    assert_eq!(erased["live"]["conversations"], 1, "the entry named the live conversation: {erased}");
    assert!(app.store.visitors.user_conversations("demo", "ana", since, 10).await.unwrap().is_empty());
    assert!(app.store.log.conversation(ana_id).await.unwrap().is_none());
    assert_eq!(app.store.visitors.user_conversations("demo", "bo", since, 10).await.unwrap(), [bo_id]);
}

fn with_admin_and_secret(settings: &mut baton::config::Settings) {
    with_admin(settings);
    let demo = settings.sites.iter_mut().find(|s| s.id == "demo").unwrap();
    demo.identity_secret = Some(SECRET.to_owned().into());
}

#[tokio::test]
async fn erasing_a_user_id_removes_their_visitor_index_entry_in_memory() {
    let app = spawn_app_with(with_admin_and_secret).await;
    erasing_a_user_id_removes_their_visitor_index_entry(app).await;
}

#[tokio::test]
async fn erasing_a_user_id_removes_their_visitor_index_entry_on_redis() {
    let redis = RedisServer::start();
    let (url, ns) = (redis.url(), namespace());
    let app = spawn_app_with(|settings| {
        with_admin_and_secret(settings);
        settings.store.redis_url = Some(url.into());
        settings.store.namespace = ns;
    })
    .await;
    erasing_a_user_id_removes_their_visitor_index_entry(app).await;
    drop(redis);
}

#[tokio::test]
async fn an_erase_request_names_exactly_one_visitor() {
    let app = spawn_app_with(with_admin).await;
    for body in [json!({}), json!({"email": "a@b.c", "user_id": "u1"})] {
        let response = reqwest::Client::new()
            .post(app.url("/v1/admin/privacy/erase"))
            .bearer_auth(ADMIN_TOKEN)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 400, "{body}");
    }
    let response = reqwest::Client::new().post(app.url("/v1/admin/privacy/erase")).json(&json!({"email": "a@b.c"}));
    assert_eq!(response.send().await.unwrap().status().as_u16(), 401);
}

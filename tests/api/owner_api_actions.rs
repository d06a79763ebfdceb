//! The owner API acting on live conversations through real HTTP, seen on the real sockets:
//! a message as the agent and as the bot, a note, a transfer, resolve and reopen, with 409
//! for a move the chat's state does not allow, 404 for another site's chat, 403 for a
//! read key.

use baton::archive::keys::Scope;
use serde_json::{Value, json};

use crate::helpers::{Client, TestApp, spawn_app};
use crate::owner_api::{client, direct_key, ready_with_key};

async fn act(app: &TestApp, key: &str, id: &Value, action: &str, body: Value) -> (u16, Value) {
    let url = app.url(&format!("/v1/api/conversations/{}/{action}", id.as_str().unwrap()));
    let request = client().post(url).bearer_auth(key);
    // `Value::Null`: no body at all.
    let request = if body.is_null() { request } else { request.json(&body) };
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
}

/// A visitor whose escalated chat the `dev` agent has taken on its socket.
async fn taken(app: &TestApp) -> (Client, Client, Value) {
    let (visitor, welcome) = app.escalated_visitor().await;
    let (mut agent, _) = app.connect_agent("demo-agent-token").await;
    let id = welcome["conversation_id"].clone();
    agent.send(json!({"type": "accept", "conversation_id": id})).await;
    agent.next_of_type("assigned").await;
    (visitor, agent, id)
}

async fn next_message(client: &mut Client) -> Value {
    loop {
        let frame = client.next_of_type("message").await;
        if frame["from"] != "system" {
            return frame;
        }
    }
}

#[tokio::test]
async fn an_agents_message_note_and_resolve_through_the_api_reach_the_live_sockets() {
    let app = spawn_app().await;
    let write = ready_with_key(&app, "write").await;
    let (mut visitor, mut agent, id) = taken(&app).await;

    let (status, sent) =
        act(&app, &write, &id, "messages", json!({"from": "agent", "agent": "dev", "text": "Hello from the CRM"}))
            .await;
    assert_eq!(status, 200, "{sent}");
    let seen = next_message(&mut visitor).await;
    assert_eq!(
        (seen["text"].as_str(), &seen["seq"], seen["from"].as_str()),
        (Some("Hello from the CRM"), &sent["seq"], Some("agent"))
    );

    let (status, _) = act(&app, &write, &id, "notes", json!({"agent": "dev", "text": "VIP customer"})).await;
    assert_eq!(status, 200);
    let note = agent.next_of_type("note").await;
    assert_eq!(note["text"], "VIP customer");

    let (status, body) = act(&app, &write, &id, "messages", json!({"from": "bot", "text": "Me too"})).await;
    assert_eq!((status, body["error"].as_str()), (409, Some("conflict")), "the bot never speaks over a person");
    let (status, body) = act(&app, &write, &id, "notes", json!({"agent": "bea", "text": "not mine"})).await;
    assert_eq!((status, body["error"].as_str()), (409, Some("conflict")), "{body}");

    let (status, _) = act(&app, &write, &id, "resolve", json!({})).await;
    assert_eq!(status, 200);
    visitor.next_of_type("csat_request").await;
    let (status, body) = act(&app, &write, &id, "resolve", json!({})).await;
    assert_eq!((status, body["error"].as_str()), (409, Some("conflict")), "already resolved: {body}");
    let (status, _) =
        act(&app, &write, &id, "messages", json!({"from": "agent", "agent": "dev", "text": "late"})).await;
    assert_eq!(status, 409);
}

#[tokio::test]
async fn a_resolved_chat_is_reopened_for_the_bot_which_then_writes_through_the_api() {
    let app = spawn_app().await;
    let write = ready_with_key(&app, "write").await;
    let (mut visitor, _agent, id) = taken(&app).await;
    assert_eq!(act(&app, &write, &id, "reopen", json!({})).await.0, 409, "an open chat is not reopened");
    assert_eq!(act(&app, &write, &id, "resolve", json!({"agent": "dev"})).await.0, 200);
    let (status, reopened) = act(&app, &write, &id, "reopen", Value::Null).await;
    assert_eq!(status, 200, "{reopened}");
    visitor.collect_until(|f| f["type"] == "state" && f["state"] == "bot").await;
    let (status, sent) =
        act(&app, &write, &id, "messages", json!({"from": "bot", "text": "Welcome back!", "client_id": "b1"})).await;
    assert_eq!(status, 200, "{sent}");
    let seen = next_message(&mut visitor).await;
    assert_eq!(
        (seen["text"].as_str(), seen["from"].as_str(), &seen["seq"]),
        (Some("Welcome back!"), Some("bot"), &sent["seq"])
    );
    let (_, again) =
        act(&app, &write, &id, "messages", json!({"from": "bot", "text": "Welcome back!", "client_id": "b1"})).await;
    assert_eq!(again["seq"], sent["seq"], "a repeated client_id is stored once");
}

#[tokio::test]
async fn a_transfer_to_a_team_puts_the_chat_back_in_the_queue_and_an_unknown_target_is_refused() {
    let app = spawn_app().await;
    let write = ready_with_key(&app, "write").await;
    let (mut visitor, _agent, id) = taken(&app).await;
    let (status, body) = act(&app, &write, &id, "transfer", json!({"agent": "dev", "to_agent": "nobody"})).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")), "{body}");
    let (status, body) = act(&app, &write, &id, "transfer", json!({"agent": "dev"})).await;
    assert_eq!(status, 400, "{body}");
    let (status, body) =
        act(&app, &write, &id, "transfer", json!({"agent": "dev", "to_team": "billing", "note": "Refund question"}))
            .await;
    assert_eq!(status, 200, "{body}");
    visitor.collect_until(|f| f["type"] == "state" && f["state"] == "queued").await;
    let conversation: baton::protocol::ConversationId = serde_json::from_value(id.clone()).unwrap();
    let queue = app.store.handoff.queue().await.unwrap();
    let entry = queue.iter().find(|e| e.conversation_id == conversation).expect("queued again");
    assert_eq!(entry.team.as_deref(), Some("billing"));
}

#[tokio::test]
async fn another_sites_key_gets_404_a_read_key_403_and_an_unknown_chat_404() {
    let app = spawn_app().await;
    let read = ready_with_key(&app, "read").await;
    let (_visitor, _agent, id) = taken(&app).await;
    let other = direct_key(&app, "other", Scope::Write).await;
    let message = json!({"from": "agent", "agent": "dev", "text": "hi"});
    let (status, body) = act(&app, &other, &id, "messages", message.clone()).await;
    assert_eq!((status, body["error"].as_str()), (404, Some("not_found")), "{body}");
    let (status, body) = act(&app, &read, &id, "messages", message.clone()).await;
    assert_eq!((status, body["error"].as_str()), (403, Some("forbidden")), "{body}");
    let unknown = json!("00000000-0000-0000-0000-000000000000");
    let write = direct_key(&app, "demo", Scope::Write).await;
    assert_eq!(act(&app, &write, &unknown, "resolve", json!({})).await.0, 404);
    let (status, body) = act(&app, &write, &id, "messages", json!({"from": "agent", "agent": "dev", "txt": "x"})).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")), "{body}");
}

/// Follows `visitor` to the end of an owner's close: `state resolved`, then the resolved
/// notice, then the rating request; returns the notice.
async fn closed_on_the_socket(visitor: &mut Client) -> Value {
    let frames = visitor.collect_until(|f| f["type"] == "csat_request").await;
    let state = frames.iter().position(|f| f["type"] == "state" && f["state"] == "resolved");
    let Some(state) = state else { panic!("no state resolved: {frames:#?}") };
    let notice = frames[state..].iter().find(|f| f["type"] == "message" && f["from"] == "system");
    notice.unwrap_or_else(|| panic!("no notice after the state: {frames:#?}")).clone()
}

#[tokio::test]
async fn an_idle_bot_chat_and_a_queued_one_are_resolved_through_the_api_as_an_agents_resolve_would() {
    let app = spawn_app().await;
    let write = ready_with_key(&app, "write").await;
    let (mut visitor, welcome) = app.connect_visitor().await;
    let id = welcome["conversation_id"].clone();
    visitor.say("v1", "How long do refunds take?").await;
    visitor.next_bot_message().await;
    let (status, body) = act(&app, &write, &id, "resolve", json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["seq"].is_u64(), "the state event's seq: {body}");
    let notice = closed_on_the_socket(&mut visitor).await;
    assert!(!notice["text"].as_str().unwrap().is_empty());
    let (status, body) = act(&app, &write, &id, "resolve", json!({})).await;
    assert_eq!((status, body["error"].as_str()), (409, Some("conflict")), "already resolved: {body}");

    let (mut waiting, welcome) = app.escalated_visitor().await;
    let queued: baton::protocol::ConversationId = serde_json::from_value(welcome["conversation_id"].clone()).unwrap();
    assert!(app.store.handoff.queue().await.unwrap().iter().any(|e| e.conversation_id == queued));
    let (status, body) = act(&app, &write, &welcome["conversation_id"], "resolve", Value::Null).await;
    assert_eq!(status, 200, "{body}");
    closed_on_the_socket(&mut waiting).await;
    let queue = app.store.handoff.queue().await.unwrap();
    assert!(queue.iter().all(|e| e.conversation_id != queued), "it left the queue: {queue:?}");
    let (status, _) = act(&app, &write, &welcome["conversation_id"], "resolve", json!({"agent": "dev"})).await;
    assert_eq!(status, 409, "naming an agent who does not hold it is still refused");

    let archive = baton::archive::sql::SqlArchive::connect(&app._dir.as_ref().unwrap().sqlite_url()).await.unwrap();
    let closes: Vec<_> =
        archive.audit_entries(None, 100).await.unwrap().into_iter().filter(|e| e.action == "resolve").collect();
    assert_eq!(closes.len(), 2, "each close is audited, as an agent's resolve is: {closes:?}");
    assert!(closes.iter().all(|e| e.actor.starts_with("api:") && e.site.as_deref() == Some("demo")), "{closes:?}");
    let audited: Vec<Option<String>> = closes.iter().rev().map(|e| e.conversation_id.clone()).collect();
    assert_eq!(audited, [id.as_str().map(str::to_owned), Some(queued.to_string())]);
}

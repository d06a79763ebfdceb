//! The console's archive over real HTTP, on SQLite and on a real PostgreSQL: conversations
//! had on real sockets are archived, then found by every filter, within the asking agent's
//! sites, and opened read-only; agents' actions land in the audit log, which only admins read.

use std::time::Duration;

use baton::config::site::Routing;
use baton::config::{AgentRole, Settings};
use baton::protocol::ConversationId;
use serde_json::{Value, json};

use crate::archive::archive_matches_live;
use crate::helpers::{TestApp, agent, spawn_app_with};
use crate::postgres_server::PostgresServer;

pub const ADMIN_TOKEN: &str = "root-token";
const OUTSIDER_TOKEN: &str = "outsider-token";

/// The shipped agents plus an admin of every site and an agent of another site only; chats
/// wait for an agent to take them (so the take is an `accept`).
pub fn with_admin(settings: &mut Settings) {
    let mut root = agent("root", ADMIN_TOKEN, &["support"], 5);
    root.role = AgentRole::Admin;
    let mut outsider = agent("outsider", OUTSIDER_TOKEN, &["support"], 5);
    outsider.sites = Some(vec!["elsewhere".into()]);
    // The shipped development agent is an admin (so the Reports page can be tried at once);
    // here the configured agents are plain agents and `root` is the one admin.
    settings.agents.iter_mut().for_each(|a| a.role = AgentRole::Agent);
    settings.agents.extend([root, outsider]);
    for site in &mut settings.sites {
        site.handoff.routing = Routing::Manual;
    }
}

fn id_of(welcome: &Value) -> ConversationId {
    serde_json::from_value(welcome["conversation_id"].clone()).unwrap()
}

pub async fn get_json(app: &TestApp, path: &str, token: Option<&str>) -> (u16, Value) {
    let mut request = reqwest::Client::new().get(app.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("GET");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn found(app: &TestApp, query: &str, token: &str) -> Vec<String> {
    let (status, body) = get_json(app, &format!("/v1/agent/archive?{query}"), Some(token)).await;
    assert_eq!(status, 200, "{query}: {body}");
    body["items"].as_array().unwrap().iter().map(|i| i["conversation_id"].as_str().unwrap().to_owned()).collect()
}

/// A visitor who asked about a late parcel, was queued, left their email, and was taken,
/// noted and resolved by the development agent; and one who only asked about teapots.
async fn two_conversations(app: &TestApp) -> (ConversationId, ConversationId) {
    let (mut ann, welcome) = app.connect_visitor().await;
    ann.say("a1", "Where is my parcel? It is late").await;
    ann.next_bot_message().await;
    ann.send(json!({"type": "request_human"})).await;
    ann.collect_until(|f| f["actions"][0]["id"] == "leave_message").await;
    ann.send(json!({"type": "leave_message", "email": "Ann@Example.com", "text": "Call me"})).await;
    ann.collect_until(|f| f["from"] == "system" && f["text"].as_str().is_some_and(|t| t.contains("Ann@"))).await;
    let ann_id = id_of(&welcome);

    let (mut bob, welcome) = app.connect_visitor().await;
    bob.say("b1", "Do you sell Teapots?").await;
    bob.next_bot_message().await;
    let bob_id = id_of(&welcome);

    let (mut dev, _) = app.connect_agent("demo-agent-token").await;
    dev.send(json!({"type": "accept", "conversation_id": ann_id})).await;
    dev.next_of_type("assigned").await;
    dev.send(json!({"type": "note", "conversation_id": ann_id, "text": "Asked the carrier"})).await;
    dev.collect_until(|f| f["type"] == "note" && f["text"] == "Asked the carrier").await;
    dev.send(json!({"type": "resolve", "conversation_id": ann_id})).await;
    ann.collect_until(|f| f["type"] == "state" && f["state"] == "resolved").await;
    (ann_id, bob_id)
}

async fn archived_conversations_are_found_by_every_filter_and_opened_read_only(app: TestApp) {
    let (ann, bob) = two_conversations(&app).await;
    let archive = app.archive.clone().expect("in-process node");
    let copies = archive_matches_live(&app.store, &*archive, &[ann, bob]).await;
    let (ann, bob) = (ann.to_string(), bob.to_string());
    let dev = "demo-agent-token";

    assert_eq!(found(&app, "", dev).await, [bob.as_str(), ann.as_str()], "newest first");
    assert_eq!(found(&app, "text=parcel", dev).await, [ann.as_str()]);
    assert_eq!(found(&app, "text=TEAPOTS", dev).await, [bob.as_str()], "any case");
    assert_eq!(found(&app, "text=carrier", dev).await, [ann.as_str()], "notes are searched");
    assert_eq!(found(&app, "text=50%25", dev).await, Vec::<String>::new(), "a % is a character, not a wildcard");
    assert_eq!(found(&app, "email=ann%40example.com", dev).await, [ann.as_str()]);
    assert_eq!(found(&app, "reason=explicit_request", dev).await, [ann.as_str()]);
    assert_eq!(found(&app, "reason=topic", dev).await, Vec::<String>::new());
    assert_eq!(found(&app, "agent=dev", dev).await, [ann.as_str()]);
    assert_eq!(found(&app, "agent=bea", dev).await, Vec::<String>::new());
    assert_eq!(found(&app, &format!("visitor={}", &bob[..8]), dev).await, [bob.as_str()]);
    assert_eq!(found(&app, "visitor=EXAMPLE.com", dev).await, [ann.as_str()], "part of the email");
    assert_eq!(found(&app, "site=demo&text=late&agent=dev", dev).await, [ann.as_str()]);
    assert_eq!(found(&app, "from=2000-01-01T00:00:00Z&to=2999-01-01T00:00:00Z", dev).await.len(), 2);
    assert_eq!(found(&app, "from=2999-01-01T00:00:00Z", dev).await, Vec::<String>::new());
    assert_eq!(found(&app, "to=2000-01-01T00:00:00Z", dev).await, Vec::<String>::new());
    assert_eq!(found(&app, "limit=1", dev).await, [bob.as_str()]);
    let (status, body) = get_json(&app, "/v1/agent/archive?text=teapots", Some(dev)).await;
    assert_eq!((status, body["items"][0]["first_message"].as_str()), (200, Some("Do you sell Teapots?")));
    assert_eq!(body["items"][0]["email"], Value::Null);

    // The transcript, read-only, as the archive holds it (the note included).
    let (status, transcript) = get_json(&app, &format!("/v1/agent/archive/{ann}"), Some(dev)).await;
    assert_eq!(status, 200);
    assert_eq!(transcript["events"], json!(copies[0].events));
    assert!(transcript["events"].as_array().unwrap().iter().any(|e| e["type"] == "note"));
    assert_eq!(transcript["site"], "demo");

    // Tokens and sites.
    assert_eq!(get_json(&app, "/v1/agent/archive", None).await.0, 401);
    assert_eq!(get_json(&app, "/v1/agent/archive", Some("wrong")).await.0, 401);
    assert_eq!(found(&app, "", OUTSIDER_TOKEN).await, Vec::<String>::new(), "another site's agent sees none");
    assert_eq!(get_json(&app, "/v1/agent/archive?site=demo", Some(OUTSIDER_TOKEN)).await.0, 403);
    assert_eq!(get_json(&app, &format!("/v1/agent/archive/{ann}"), Some(OUTSIDER_TOKEN)).await.0, 404);
    assert_eq!(get_json(&app, "/v1/agent/archive/not-an-id", Some(dev)).await.0, 404);
    let (status, body) = get_json(&app, "/v1/agent/archive?reason=bogus", Some(dev)).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_frame")), "{body}");

    // The audit log: the agent's take, note and resolve, readable by an admin only.
    assert_eq!(get_json(&app, "/v1/admin/audit", Some(dev)).await.0, 403);
    let audit = audit_of(&app, &ann, 3).await;
    let mut actions: Vec<(&str, &str)> =
        audit.iter().map(|e| (e["actor"].as_str().unwrap(), e["action"].as_str().unwrap())).collect();
    actions.sort_unstable();
    assert_eq!(actions, [("dev", "note"), ("dev", "resolve"), ("dev", "take")]);
    assert!(audit.iter().all(|e| e["site"] == "demo" && e["at"].is_string()));
    assert!(!audit.iter().any(|e| e.to_string().contains("carrier")), "a note's text stays out of the audit");
}

/// The admin's view of the audit log for one conversation, oldest first, once it holds
/// `count` entries (the log is written behind the agent's back).
pub async fn audit_of(app: &TestApp, conversation: &str, count: usize) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (status, body) = get_json(app, "/v1/admin/audit", Some(ADMIN_TOKEN)).await;
        assert_eq!(status, 200, "{body}");
        let mut entries: Vec<Value> = body["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["conversation_id"] == conversation)
            .cloned()
            .collect();
        entries.reverse();
        if entries.len() >= count {
            return entries;
        }
        assert!(tokio::time::Instant::now() < deadline, "the audit log never held {count} entries: {entries:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn archived_conversations_are_searched_and_opened_over_http_on_sqlite() {
    let app = spawn_app_with(with_admin).await;
    archived_conversations_are_found_by_every_filter_and_opened_read_only(app).await;
}

#[tokio::test]
async fn archived_conversations_are_searched_and_opened_over_http_on_postgres() {
    let server = tokio::task::spawn_blocking(PostgresServer::start).await.unwrap();
    let url = server.url();
    let app = spawn_app_with(|settings| {
        with_admin(settings);
        settings.archive.url = url.into();
    })
    .await;
    archived_conversations_are_found_by_every_filter_and_opened_read_only(app).await;
    drop(server);
}

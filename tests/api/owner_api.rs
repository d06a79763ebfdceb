//! The owner API through real HTTP: keys (the CLI and the API), authentication and scopes,
//! limits (rate, body size), idempotent POSTs, conversations from the archive, and the
//! OpenAPI document against the routes.

use std::process::Command;
use std::time::Duration;

use baton::archive::keys::Scope;
use baton::archive::sql::SqlArchive;
use baton::config::Settings;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app, spawn_app_with};

fn sqlite_url(app: &TestApp) -> String {
    app._dir.as_ref().unwrap().sqlite_url()
}

/// Waits until the node's archiver has migrated the archive: an unknown key is then looked up
/// and refused (401), not 503 (no key at all is refused before any lookup), and, for a node
/// of this process, every migration is applied (a command that migrates the same SQLite file
/// at the same moment would race it).
pub(crate) async fn api_ready(app: &TestApp) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let probe = || client().get(app.url("/v1/api/keys?site=demo")).bearer_auth("bk_not_a_key").send();
    while probe().await.unwrap().status() != 401 {
        assert!(tokio::time::Instant::now() < deadline, "the API never became ready");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let Some(dir) = app._dir.as_ref() else { return };
    let files = std::fs::read_dir(crate::helpers::repo_root().join("server/migrations")).unwrap().count();
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&dir.sqlite_url()).await.unwrap();
    loop {
        let applied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE success")
            .fetch_one(&pool)
            .await
            .unwrap_or(0);
        if usize::try_from(applied).unwrap_or(0) >= files {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "the archive was never fully migrated");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `baton keys create …` against the node's archive: its stdout lines.
fn cli_create(app: &TestApp, site: &str, scope: &str) -> Vec<String> {
    let output = Command::new(env!("CARGO_BIN_EXE_baton"))
        .args(["keys", "create", "--site", site, "--scope", scope, "--name", "ci"])
        .env("BATON_CONFIG", crate::helpers::repo_root().join("config"))
        .env("BATON__ARCHIVE__URL", sqlite_url(app))
        .output()
        .expect("baton keys runs");
    assert!(output.status.success(), "baton keys failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap().lines().map(str::to_owned).collect()
}

/// A key made straight in the archive (for a site the shipped configuration does not have).
pub(crate) async fn direct_key(app: &TestApp, site: &str, scope: Scope) -> String {
    let archive = SqlArchive::connect(&sqlite_url(app)).await.unwrap();
    archive.create_key(site, scope, "test").await.unwrap().1
}

pub(crate) async fn ready_with_key(app: &TestApp, scope: &str) -> String {
    api_ready(app).await;
    cli_create(app, "demo", scope).pop().unwrap()
}

pub(crate) fn client() -> reqwest::Client {
    reqwest::Client::new()
}

async fn get(app: &TestApp, key: Option<&str>, path: &str) -> (u16, Value) {
    let mut request = client().get(app.url(path));
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn post(app: &TestApp, key: &str, path: &str, body: &Value, idem: Option<&str>) -> reqwest::Response {
    let mut request = client().post(app.url(path)).bearer_auth(key).json(body);
    if let Some(idem) = idem {
        request = request.header("Idempotency-Key", idem);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn baton_keys_create_prints_the_key_last_and_the_archive_keeps_only_its_hash() {
    let app = spawn_app().await;
    api_ready(&app).await;
    let lines = cli_create(&app, "demo", "read");
    let key = lines.last().unwrap();
    assert!(key.starts_with("bk_") && key.len() == 67, "{lines:?}");
    let record: Value = serde_json::from_str(&lines[0]).unwrap();
    assert_eq!((record["site"].as_str(), record["scope"].as_str()), (Some("demo"), Some("read")));
    assert!(key.starts_with(record["prefix"].as_str().unwrap()));
    let (status, page) = get(&app, Some(key), "/v1/api/conversations?site=demo").await;
    assert_eq!(status, 200, "{page}");
    let dir = &app._dir.as_ref().unwrap().0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap_or_default();
        assert!(!bytes.windows(key.len()).any(|w| w == key.as_bytes()), "the key itself is stored nowhere");
    }
}

#[tokio::test]
async fn a_missing_or_wrong_key_is_401_and_a_wrong_scope_or_site_403_each_with_a_code() {
    let app = spawn_app().await;
    let read = ready_with_key(&app, "read").await;
    for key in [None, Some("bk_0000"), Some("")] {
        let (status, body) = get(&app, key, "/v1/api/conversations?site=demo").await;
        assert_eq!((status, body["error"].as_str()), (401, Some("unauthorized")), "{body}");
        assert!(body["message"].is_string());
    }
    let (status, body) = get(&app, Some(&read), "/v1/api/keys?site=demo").await;
    assert_eq!((status, body["error"].as_str()), (403, Some("forbidden")), "read cannot list keys: {body}");
    let (status, body) = get(&app, Some(&read), "/v1/api/conversations?site=other").await;
    assert_eq!((status, body["error"].as_str()), (403, Some("forbidden")), "{body}");
    let response = post(&app, &read, "/v1/api/keys", &json!({"site": "demo", "scope": "read"}), None).await;
    assert_eq!(response.status(), 403);
    let (status, body) = get(&app, Some(&read), "/v1/api/nothing").await;
    assert_eq!((status, body["error"].as_str()), (404, Some("not_found")), "{body}");
}

#[tokio::test]
async fn an_admin_key_creates_lists_and_revokes_keys_and_a_revoked_key_is_401() {
    let app = spawn_app().await;
    let admin = ready_with_key(&app, "admin").await;
    let response =
        post(&app, &admin, "/v1/api/keys", &json!({"site": "demo", "scope": "write", "name": "crm"}), None).await;
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();
    let new_key = created["key"].as_str().unwrap().to_owned();
    assert_eq!((created["scope"].as_str(), created["name"].as_str()), (Some("write"), Some("crm")));
    let (status, _) = get(&app, Some(&new_key), "/v1/api/conversations?site=demo").await;
    assert_eq!(status, 200, "write includes read");

    let (status, list) = get(&app, Some(&admin), "/v1/api/keys?site=demo").await;
    assert_eq!(status, 200);
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{list}");
    assert!(!list.to_string().contains(&new_key) && !list.to_string().contains(&admin), "lists never show secrets");

    let bad = post(&app, &admin, "/v1/api/keys", &json!({"site": "demo", "scope": "owner"}), None).await;
    assert_eq!(bad.status(), 400);
    assert!(bad.json::<Value>().await.unwrap()["message"].as_str().unwrap().contains("scope"));

    let id = created["id"].as_str().unwrap();
    let revoke = |key: String, id: String| {
        let app_url = app.url(&format!("/v1/api/keys/{id}"));
        async move { client().delete(app_url).bearer_auth(key).send().await.unwrap().status().as_u16() }
    };
    assert_eq!(revoke(admin.clone(), id.to_owned()).await, 204);
    assert_eq!(revoke(admin.clone(), id.to_owned()).await, 404, "already revoked");
    let (status, _) = get(&app, Some(&new_key), "/v1/api/conversations?site=demo").await;
    assert_eq!(status, 401);
    let other_admin = direct_key(&app, "other", Scope::Admin).await;
    let admin_id = items.iter().find(|k| k["scope"] == "admin").unwrap()["id"].as_str().unwrap().to_owned();
    assert_eq!(revoke(other_admin, admin_id).await, 404, "another site's admin cannot revoke this site's key");
}

#[tokio::test]
async fn a_repeated_post_with_the_same_idempotency_key_replays_and_another_body_is_422() {
    let app = spawn_app().await;
    let admin = ready_with_key(&app, "admin").await;
    let body = json!({"site": "demo", "scope": "read", "name": "once"});
    let first = post(&app, &admin, "/v1/api/keys", &body, Some("req-1")).await;
    assert_eq!(first.status(), 201);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first: Value = first.json().await.unwrap();
    let again = post(&app, &admin, "/v1/api/keys", &body, Some("req-1")).await;
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["id"], first["id"], "the same key, not a second one");
    assert!(first["key"].is_string() && again["key"].is_null(), "the secret is not kept for replays");
    let other = post(&app, &admin, "/v1/api/keys", &json!({"site": "demo", "scope": "admin"}), Some("req-1")).await;
    assert_eq!(other.status(), 422);
    assert_eq!(other.json::<Value>().await.unwrap()["error"], "idempotency_mismatch");
    let (_, list) = get(&app, Some(&admin), "/v1/api/keys?site=demo").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 2, "the admin key and one new key: {list}");
}

#[tokio::test]
async fn the_same_idempotency_key_on_another_route_runs_that_route_instead_of_replaying_the_first() {
    let app = spawn_app().await;
    let admin = ready_with_key(&app, "admin").await;
    let key_body = json!({"site": "demo", "scope": "read", "name": "crm"});
    let made = post(&app, &admin, "/v1/api/keys", &key_body, Some("shared-1")).await;
    assert_eq!(made.status(), 201);
    let made: Value = made.json().await.unwrap();
    let hook_body = json!({"site": "demo", "url": "https://hooks.example.com/in", "events": ["message.created"]});
    let hooked = post(&app, &admin, "/v1/api/webhooks", &hook_body, Some("shared-1")).await;
    assert_eq!(hooked.status(), 201, "another route is another request");
    assert!(hooked.headers().get("idempotent-replayed").is_none());
    let hooked: Value = hooked.json().await.unwrap();
    assert!(hooked["secret"].as_str().unwrap().starts_with("whsec_") && hooked["key"].is_null(), "{hooked}");
    // Each route still replays its own answer, and still refuses another body.
    let again = post(&app, &admin, "/v1/api/keys", &key_body, Some("shared-1")).await;
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.json::<Value>().await.unwrap()["id"], made["id"]);
    let again = post(&app, &admin, "/v1/api/webhooks", &hook_body, Some("shared-1")).await;
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.json::<Value>().await.unwrap()["id"], hooked["id"]);
    let other_body = json!({"site": "demo", "url": "https://hooks.example.com/other", "events": ["message.created"]});
    let other = post(&app, &admin, "/v1/api/webhooks", &other_body, Some("shared-1")).await;
    assert_eq!(other.status(), 422);
    let (_, hooks) = get(&app, Some(&admin), "/v1/api/webhooks?site=demo").await;
    assert_eq!(hooks["items"].as_array().unwrap().len(), 1, "{hooks}");
}

#[tokio::test]
async fn a_body_over_the_limit_is_413_and_requests_past_the_allowance_429_with_retry_after() {
    let app = spawn_app_with(|settings: &mut Settings| {
        settings.api.max_body_bytes = 256;
        settings.api.requests_per_minute = 1;
        settings.api.burst = 3;
    })
    .await;
    let admin = ready_with_key(&app, "admin").await;
    let big = json!({"site": "demo", "scope": "read", "name": "x".repeat(400)});
    let response = post(&app, &admin, "/v1/api/keys", &big, None).await;
    assert_eq!(response.status(), 413);
    assert_eq!(response.json::<Value>().await.unwrap()["error"], "too_large");
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let response = client().get(app.url("/v1/api/keys?site=demo")).bearer_auth(&admin).send().await.unwrap();
        statuses.push(response.status().as_u16());
        if response.status() == 429 {
            assert_eq!(response.headers()["retry-after"], "60");
            assert_eq!(response.json::<Value>().await.unwrap()["error"], "rate_limited");
        }
    }
    assert_eq!(statuses, [200, 200, 429], "a burst of 3, one spent on the 413");
}

/// Three conversations on demo: two with the bot, one a person took, noted and resolved.
pub(crate) async fn three_conversations(app: &TestApp) -> Vec<baton::protocol::ConversationId> {
    let mut ids = Vec::new();
    for text in ["Where is my order?", "Do you ship abroad?"] {
        let (mut visitor, welcome) = app.connect_visitor().await;
        visitor.say("v1", text).await;
        visitor.next_bot_message().await;
        ids.push(serde_json::from_value(welcome["conversation_id"].clone()).unwrap());
    }
    let (mut visitor, welcome) = app.escalated_visitor().await;
    let (mut agent, _) = app.connect_agent("demo-agent-token").await;
    let id = welcome["conversation_id"].clone();
    agent.send(json!({"type": "accept", "conversation_id": id})).await;
    agent.next_of_type("assigned").await;
    agent.send(json!({"type": "note", "conversation_id": id, "text": "Known customer."})).await;
    agent.next_of_type("note").await;
    agent.send(json!({"type": "resolve", "conversation_id": id})).await;
    visitor.next_of_type("csat_request").await;
    ids.push(serde_json::from_value(id).unwrap());
    let archive = app.archive.clone().unwrap();
    crate::archive::archive_matches_live(&app.store, &*archive, &ids).await;
    ids
}

#[tokio::test]
async fn conversations_are_listed_newest_first_in_pages_filtered_and_got_with_their_events() {
    let app = spawn_app().await;
    let read = ready_with_key(&app, "read").await;
    let ids = three_conversations(&app).await;
    let (status, first) = get(&app, Some(&read), "/v1/api/conversations?site=demo&limit=2").await;
    assert_eq!(status, 200, "{first}");
    let cursor = first["next_cursor"].as_str().unwrap();
    let (_, second) = get(&app, Some(&read), &format!("/v1/api/conversations?site=demo&limit=2&cursor={cursor}")).await;
    assert!(second["next_cursor"].is_null(), "{second}");
    let listed: Vec<Value> = [&first, &second]
        .iter()
        .flat_map(|page| page["items"].as_array().unwrap().iter().map(|c| c["conversation_id"].clone()))
        .collect();
    let newest_first: Vec<Value> = ids.iter().rev().map(|id| json!(id)).collect();
    assert_eq!(listed, newest_first);
    assert!(first["items"][0].get("events").is_none(), "pages carry no events");

    let (_, resolved) = get(&app, Some(&read), "/v1/api/conversations?site=demo&state=resolved").await;
    let resolved: Vec<&Value> = resolved["items"].as_array().unwrap().iter().map(|c| &c["conversation_id"]).collect();
    assert_eq!(resolved, [&json!(ids[2])]);
    let until = chrono::Utc::now() - chrono::Duration::hours(1);
    let (_, none) = get(
        &app,
        Some(&read),
        &format!("/v1/api/conversations?site=demo&until={}", until.format("%Y-%m-%dT%H:%M:%SZ")),
    )
    .await;
    assert_eq!(none["items"], json!([]));
    let (status, bad) = get(&app, Some(&read), "/v1/api/conversations?site=demo&cursor=nonsense").await;
    assert_eq!((status, bad["error"].as_str()), (400, Some("invalid_request")));

    let (status, one) = get(&app, Some(&read), &format!("/v1/api/conversations/{}", ids[2])).await;
    assert_eq!(status, 200);
    let archived = app.archive.as_ref().unwrap().conversation(ids[2]).await.unwrap().unwrap();
    assert_eq!(one["events"], json!(archived.events), "events as on the wire");
    assert!(one["events"].as_array().unwrap().iter().any(|e| e["type"] == "note" && e["text"] == "Known customer."));
    assert_eq!(one["state"], "resolved");
}

#[tokio::test]
async fn a_key_for_another_site_never_sees_this_sites_conversations() {
    let app = spawn_app().await;
    api_ready(&app).await;
    let ids = three_conversations(&app).await;
    let other = direct_key(&app, "other", Scope::Admin).await;
    let (status, _) = get(&app, Some(&other), "/v1/api/conversations?site=demo").await;
    assert_eq!(status, 403);
    let (status, page) = get(&app, Some(&other), "/v1/api/conversations?site=other").await;
    assert_eq!((status, page["items"].clone()), (200, json!([])));
    for id in &ids {
        let (status, body) = get(&app, Some(&other), &format!("/v1/api/conversations/{id}")).await;
        assert_eq!((status, body["error"].as_str()), (404, Some("not_found")), "{body}");
    }
    let (status, _) = get(&app, Some(&other), "/v1/api/keys?site=demo").await;
    assert_eq!(status, 403);
}

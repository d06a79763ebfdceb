//! `/v1/api/visitors` through real HTTP: a site's visitor found by user id or email, their
//! identity (verified or not) and conversations from the archive, the privacy export and
//! the erase; and the tenant rule: the same email and user id on another site are another
//! site's visitor, whom a key never reads, exports or erases.

use std::time::Duration;

use baton::archive::keys::Scope;
use baton::archive::sql::SqlArchive;
use baton::config::Settings;
use baton::protocol::ConversationId;
use serde_json::{Value, json};

use crate::helpers::{Client, TestApp, spawn_app_with};
use crate::identity::{SECRET, hello, user_hash};
use crate::owner_api::{api_ready, direct_key};
use crate::redis_server::{RedisServer, namespace};
use crate::tenants::two_sites;

/// demo verifies identities with [`SECRET`]; shop has no secret.
fn sites(settings: &mut Settings) {
    two_sites(settings);
    let demo = settings.sites.iter_mut().find(|s| s.id == "demo").unwrap();
    demo.identity_secret = Some(SECRET.to_owned().into());
}

async fn call(app: &TestApp, key: &str, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut request = reqwest::Client::new().request(method.parse().unwrap(), app.url(path)).bearer_auth(key);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Ana, as both sites' pages name her; signed only where `hash` is given.
fn ana(hash: Option<String>) -> Value {
    json!({"visitor": {"user_id": "user-42", "name": "Ana Lima", "email": "ana@example.com", "user_hash": hash}})
}

async fn ana_on(app: &TestApp, site: &str, text: &str) -> (Client, ConversationId) {
    let hash = (site == "demo").then(|| user_hash(SECRET, "user-42"));
    let (mut visitor, welcome, _) = hello(app, site, ana(hash)).await;
    visitor.say("c1", text).await;
    (visitor, serde_json::from_value(welcome["conversation_id"].clone()).unwrap())
}

/// The visitor as `key` sees them once the archive holds `conversations` of theirs.
async fn archived(app: &TestApp, key: &str, path: &str, conversations: u64) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let (status, found) = call(app, key, "GET", path, None).await;
        if status == 200 && found["conversations"] == conversations && !found["identity"].is_null() {
            return found;
        }
        assert!(tokio::time::Instant::now() < deadline, "never archived: {status} {found}");
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
}

fn ids(page: &Value) -> Vec<String> {
    page["items"].as_array().unwrap().iter().map(|c| c["conversation_id"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn a_sites_key_reads_exports_and_erases_its_visitor_and_never_another_sites_with_the_same_email_or_user_id() {
    tenant_rule_holds(spawn_app_with(sites).await).await;
}

#[tokio::test]
async fn the_visitors_tenant_rule_holds_on_a_redis_live_store_too() {
    let redis = RedisServer::start();
    let (url, ns) = (redis.url(), namespace());
    let app = spawn_app_with(|settings| {
        sites(settings);
        settings.store.redis_url = Some(url.into());
        settings.store.namespace = ns;
    })
    .await;
    tenant_rule_holds(app).await;
    drop(redis);
}

async fn tenant_rule_holds(app: TestApp) {
    api_ready(&app).await;
    let (read, admin) = (direct_key(&app, "demo", Scope::Read).await, direct_key(&app, "demo", Scope::Admin).await);
    let shop = direct_key(&app, "shop", Scope::Admin).await;
    let (_first, demo_1) = ana_on(&app, "demo", "Where is order 1042?").await;
    let (_second, demo_2) = ana_on(&app, "demo", "And order 1043?").await;
    // The same person to the shop: unverified there, and she leaves a message.
    let (mut on_shop, shop_1) = ana_on(&app, "shop", "Do you ship abroad?").await;
    on_shop.send(json!({"type": "request_human"})).await;
    on_shop.collect_until(|f| f["actions"][0]["id"] == "leave_message").await;
    on_shop.send(json!({"type": "leave_message", "email": "ana@example.com", "text": "Call me about shipping"})).await;
    on_shop.collect_until(|f| f["from"] == "system" && f["text"].as_str().unwrap().contains("ana@example.com")).await;

    let demo_ana = archived(&app, &read, "/v1/api/visitors?site=demo&user_id=user-42", 2).await;
    assert_eq!(demo_ana["site"], "demo");
    assert_eq!(demo_ana["subject"], json!({"user_id": "user-42"}));
    let identity = &demo_ana["identity"];
    assert_eq!(
        (identity["name"].as_str(), identity["verified"].as_bool()),
        (Some("Ana Lima"), Some(true)),
        "{demo_ana}"
    );
    let by_email = archived(&app, &read, "/v1/api/visitors?site=demo&email=Ana@Example.com", 2).await;
    assert_eq!(by_email["identity"]["user_id"], "user-42");
    let shop_ana = archived(&app, &shop, "/v1/api/visitors?site=shop&user_id=user-42", 1).await;
    assert_eq!(shop_ana["identity"]["verified"], false, "not signed on the shop: {shop_ana}");

    // demo's keys never reach the shop's Ana.
    let (status, body) = call(&app, &read, "GET", "/v1/api/visitors?site=shop&user_id=user-42", None).await;
    assert_eq!((status, body["error"].as_str()), (403, Some("forbidden")), "{body}");
    let (status, _) = call(&app, &read, "GET", "/v1/api/visitors?site=demo&user_id=nobody", None).await;
    assert_eq!(status, 404);
    let (status, body) = call(&app, &read, "GET", "/v1/api/visitors?site=demo", None).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")), "{body}");

    let path = "/v1/api/visitors/conversations?site=demo&user_id=user-42&limit=1";
    let (status, first) = call(&app, &read, "GET", path, None).await;
    assert_eq!(status, 200, "{first}");
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let (_, second) = call(&app, &read, "GET", &format!("{path}&cursor={cursor}"), None).await;
    let mut seen = [ids(&first), ids(&second)].concat();
    seen.sort();
    let mut expected = vec![demo_1.to_string(), demo_2.to_string()];
    expected.sort();
    assert_eq!(seen, expected, "both of demo's, never the shop's {shop_1}");
    let (_, by_email) =
        call(&app, &read, "GET", "/v1/api/visitors/conversations?site=demo&email=ana@example.com", None).await;
    assert_eq!(ids(&by_email).len(), 2, "{by_email}");

    let asked = json!({"site": "demo", "email": "ana@example.com"});
    let (status, _) = call(&app, &read, "POST", "/v1/api/visitors/export", Some(asked.clone())).await;
    assert_eq!(status, 403, "export needs admin");
    let (status, held) = call(&app, &admin, "POST", "/v1/api/visitors/export", Some(asked.clone())).await;
    assert_eq!(status, 200, "{held}");
    let conversations = held["conversations"].as_array().unwrap();
    assert_eq!(conversations.len(), 2, "{held}");
    assert!(conversations.iter().all(|c| c["site"] == "demo" && !c["events"].as_array().unwrap().is_empty()));
    assert_eq!(held["left_messages"], json!([]), "the shop's left message is the shop's: {held}");
    let shop_asked = json!({"site": "shop", "email": "ana@example.com"});
    let (status, _) = call(&app, &admin, "POST", "/v1/api/visitors/export", Some(shop_asked.clone())).await;
    assert_eq!(status, 403);
    let (_, shop_held) = call(&app, &shop, "POST", "/v1/api/visitors/export", Some(shop_asked.clone())).await;
    assert_eq!(shop_held["left_messages"][0]["text"], "Call me about shipping", "{shop_held}");

    let (status, _) =
        call(&app, &read, "POST", "/v1/api/visitors/erase", Some(json!({"site": "demo", "user_id": "user-42"}))).await;
    assert_eq!(status, 403, "erase needs admin");
    let (status, erased) =
        call(&app, &admin, "POST", "/v1/api/visitors/erase", Some(json!({"site": "demo", "user_id": "user-42"}))).await;
    assert_eq!(status, 200, "{erased}");
    assert_eq!(erased["archive"]["conversations"], 2, "{erased}");
    assert_eq!(
        (erased["live"]["conversations"].clone(), erased["live"]["visitor_index"].clone()),
        (json!(2), json!(1))
    );
    for id in [demo_1, demo_2] {
        assert!(app.store.log.conversation(id).await.unwrap().is_none(), "gone from the live store");
    }
    let (status, _) = call(&app, &read, "GET", "/v1/api/visitors?site=demo&user_id=user-42", None).await;
    assert_eq!(status, 404, "gone from the archive");

    // The shop's Ana is untouched: live, archived, and her left message.
    assert!(app.store.log.conversation(shop_1).await.unwrap().is_some());
    archived(&app, &shop, "/v1/api/visitors?site=shop&user_id=user-42", 1).await;
    let (_, shop_held) = call(&app, &shop, "POST", "/v1/api/visitors/export", Some(shop_asked)).await;
    assert_eq!(shop_held["left_messages"].as_array().unwrap().len(), 1, "{shop_held}");
    let (status, erased) =
        call(&app, &admin, "POST", "/v1/api/visitors/erase", Some(json!({"site": "demo", "email": "ana@example.com"})))
            .await;
    assert_eq!(
        (status, erased["live"]["left_messages"].clone()),
        (200, json!(0)),
        "demo has none of hers left: {erased}"
    );
    let left = baton::store::Handoff::left_messages(&*app.store.handoff).await.unwrap();
    assert_eq!(left.len(), 1, "the shop's left message stays");

    let archive = SqlArchive::connect(&app._dir.as_ref().unwrap().sqlite_url()).await.unwrap();
    let audit = archive.audit_entries(None, 100).await.unwrap();
    let privacy: Vec<(&str, Option<&str>)> = audit
        .iter()
        .filter(|e| e.action.starts_with("privacy_"))
        .map(|e| (e.action.as_str(), e.site.as_deref()))
        .collect();
    assert!(privacy.contains(&("privacy_erase", Some("demo"))) && privacy.contains(&("privacy_export", Some("shop"))));
    assert!(audit.iter().filter(|e| e.action.starts_with("privacy_")).all(|e| e.actor.starts_with("api:")));
    assert!(audit.iter().all(|e| !e.detail.contains("ana") && !e.detail.contains("user-42")), "no personal data");
}

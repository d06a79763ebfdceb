//! The console's API keys page through real HTTP (what its page reads and sends): an admin
//! agent's token lists the keys of the admin's sites, makes one (its secret shown in that
//! answer only, a working key of the owner API) and revokes one (which then authenticates
//! nothing). An agent who is not an admin is refused; an admin of another site neither sees,
//! makes nor revokes this site's keys; no answer ever carries a key's hash.

use baton::archive::keys::{Scope, sha256_hex};
use baton::config::{AgentRole, Settings};
use serde_json::{Value, json};

use crate::helpers::spawn_app_with;
use crate::owner_api::{api_ready, direct_key};
use crate::tenants::two_sites;
use crate::webhooks::call;

/// dev admins demo, bea admins the shop, lea is demo's agent.
fn admins(settings: &mut Settings) {
    two_sites(settings);
    for agent in settings.agents.iter_mut().filter(|a| a.id == "dev" || a.id == "bea") {
        agent.role = AgentRole::Admin;
    }
}

fn ids(page: &Value) -> Vec<String> {
    page["items"].as_array().unwrap().iter().map(|k| k["id"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn an_admin_lists_makes_and_revokes_the_keys_of_their_sites_from_the_console() {
    let app = spawn_app_with(admins).await;
    api_ready(&app).await;
    direct_key(&app, "shop", Scope::Read).await;

    let body = json!({"site": "demo", "scope": "write", "name": "  CRM sync "});
    let (status, made) = call(&app, "t-dev", "POST", "/v1/agent/keys", Some(body)).await;
    assert_eq!(status, 201, "{made}");
    let secret = made["key"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("bk_") && made["prefix"].as_str().is_some_and(|p| secret.starts_with(p)), "{made}");
    assert_eq!((&made["site"], &made["scope"], &made["name"]), (&json!("demo"), &json!("write"), &json!("CRM sync")));
    let (status, conversations) = call(&app, &secret, "GET", "/v1/api/conversations?site=demo", None).await;
    assert_eq!(status, 200, "the secret is a working key: {conversations}");

    let (status, page) = call(&app, "t-dev", "GET", "/v1/agent/keys", None).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(ids(&page), [made["id"].as_str().unwrap()], "demo's keys only: {page}");
    assert_eq!(page["sites"], json!(["demo"]), "the sites a key can be made for");
    let listed = page.to_string();
    assert!(
        !listed.contains(&secret) && !listed.contains(&sha256_hex(secret.as_bytes())),
        "never the secret nor its hash"
    );
    assert!(page["items"][0].get("key").is_none() && page["items"][0].get("hash").is_none(), "{page}");

    let revoke = format!("/v1/agent/keys/{}", made["id"].as_str().unwrap());
    assert_eq!(call(&app, "t-dev", "DELETE", &revoke, None).await.0, 204);
    assert_eq!(call(&app, &secret, "GET", "/v1/api/conversations?site=demo", None).await.0, 401, "revoked at once");
    let (_, page) = call(&app, "t-dev", "GET", "/v1/agent/keys?site=demo", None).await;
    assert!(page["items"][0]["revoked_at"].is_string(), "a revoked key stays listed as revoked: {page}");
    let (status, again) = call(&app, "t-dev", "DELETE", &revoke, None).await;
    assert_eq!((status, again["error"].as_str()), (404, Some("not_found")), "{again}");
    assert!(again["message"].as_str().unwrap().contains("no such unrevoked key"), "{again}");

    let (status, shop) = call(&app, "t-bea", "GET", "/v1/agent/keys", None).await;
    assert_eq!(status, 200);
    assert_eq!(shop["items"].as_array().unwrap().len(), 1, "the shop's admin sees the shop's key only: {shop}");
    assert_eq!(shop["items"][0]["site"], "shop");
}

#[tokio::test]
async fn an_admin_of_another_site_or_an_agent_neither_sees_makes_nor_revokes_a_sites_keys() {
    let app = spawn_app_with(admins).await;
    api_ready(&app).await;
    let demo_key = direct_key(&app, "demo", Scope::Admin).await;
    let (_, page) = call(&app, "t-dev", "GET", "/v1/agent/keys", None).await;
    let revoke = format!("/v1/agent/keys/{}", ids(&page)[0]);

    let (status, shop) = call(&app, "t-bea", "GET", "/v1/agent/keys", None).await;
    assert_eq!((status, shop["items"].clone()), (200, json!([])), "the shop's admin sees none of demo's");
    assert_eq!(call(&app, "t-bea", "GET", "/v1/agent/keys?site=demo", None).await.0, 403);
    let body = json!({"site": "demo", "scope": "admin", "name": "takeover"});
    assert_eq!(call(&app, "t-bea", "POST", "/v1/agent/keys", Some(body.clone())).await.0, 403);
    assert_eq!(call(&app, "t-bea", "DELETE", &revoke, None).await.0, 404, "nor revokes them");
    assert_eq!(call(&app, &demo_key, "GET", "/v1/api/keys?site=demo", None).await.0, 200, "still works");

    assert_eq!(call(&app, "t-lea", "GET", "/v1/agent/keys", None).await.0, 403, "not an admin");
    assert_eq!(call(&app, "t-lea", "POST", "/v1/agent/keys", Some(body)).await.0, 403);
    assert_eq!(call(&app, "t-lea", "DELETE", &revoke, None).await.0, 403);
    assert_eq!(call(&app, "nobody", "GET", "/v1/agent/keys", None).await.0, 401);

    let long = json!({"site": "demo", "scope": "read", "name": "x".repeat(101)});
    let (status, refused) = call(&app, "t-dev", "POST", "/v1/agent/keys", Some(long)).await;
    assert_eq!(status, 400, "{refused}");
    assert!(refused["message"].as_str().unwrap().contains("at most 100"), "{refused}");
    let bad_scope = json!({"site": "demo", "scope": "owner", "name": "x"});
    assert_eq!(call(&app, "t-dev", "POST", "/v1/agent/keys", Some(bad_scope)).await.0, 400);
    let (_, page) = call(&app, "t-dev", "GET", "/v1/agent/keys", None).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1, "nothing was made by a refused request: {page}");
}

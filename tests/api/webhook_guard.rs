//! The SSRF guard on webhook URLs through real HTTP: with the shipped settings a URL to a
//! loopback, private, link-local (cloud metadata), CGNAT or unique-local address, to
//! `localhost`, to a name resolving to such an address, or over plain http is refused with
//! `400 target_not_allowed`; and a delivery to a name that resolves to a private address
//! (a subscription made before, or a name rebound since) is refused at connection time and
//! never reaches the receiver listening there.

use std::time::Duration;

use baton::archive::keys::Scope;
use baton::archive::sql::SqlArchive;
use baton::archive::webhooks::EventType;
use serde_json::{Value, json};

use crate::helpers::{spawn_app, spawn_app_with};
use crate::owner_api::{api_ready, direct_key};
use crate::webhook_receiver::Receiver;
use crate::webhooks::fast;

/// This machine's name, which resolves (through /etc/hosts or the container's network) to a
/// loopback or private address: a name the URL check alone cannot judge.
async fn private_name() -> String {
    let output = std::process::Command::new("hostname").output().expect("hostname runs");
    let name = String::from_utf8(output.stdout).unwrap().trim().to_owned();
    let found: Vec<std::net::IpAddr> =
        tokio::net::lookup_host((name.as_str(), 0)).await.expect("the host name resolves").map(|a| a.ip()).collect();
    assert!(
        !found.is_empty() && found.iter().all(|ip| !baton::webhooks::target::is_public(*ip)),
        "this test needs the host name {name:?} to resolve to non-public addresses only: {found:?}"
    );
    name
}

async fn create(app: &crate::helpers::TestApp, key: &str, url: &str) -> (u16, Value) {
    let body = json!({"site": "demo", "url": url, "events": ["message.created"]});
    let response =
        reqwest::Client::new().post(app.url("/v1/api/webhooks")).bearer_auth(key).json(&body).send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

#[tokio::test]
async fn a_webhook_to_a_private_or_loopback_target_is_refused_by_default_with_target_not_allowed() {
    let app = spawn_app().await;
    api_ready(&app).await;
    let key = direct_key(&app, "demo", Scope::Admin).await;
    let name = private_name().await;
    let refused = [
        "https://127.0.0.1:9000/in".to_owned(),
        "https://10.0.0.5/in".into(),
        "https://192.168.1.20/in".into(),
        "https://169.254.169.254/latest/meta-data/".into(),
        "https://100.64.1.1/in".into(),
        "https://[::1]/in".into(),
        "https://[fd00::1]/in".into(),
        "https://[::ffff:127.0.0.1]/in".into(),
        "https://0.0.0.0/in".into(),
        "https://2130706433/in".into(),
        "https://localhost:9000/in".into(),
        format!("https://{name}:9000/in"),
        "http://hooks.example.com/in".into(),
    ];
    for url in &refused {
        let (status, body) = create(&app, &key, url).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("target_not_allowed")), "{url}: {body}");
        assert!(body["message"].as_str().unwrap().starts_with("url: "), "{body}");
    }
    let (status, body) = create(&app, &key, "ftp://hooks.example.com/in").await;
    assert_eq!(status, 400, "{body}");
    let list = reqwest::Client::new().get(app.url("/v1/api/webhooks?site=demo")).bearer_auth(&key).send().await;
    let list: Value = list.unwrap().json().await.unwrap();
    assert_eq!(list["items"], json!([]), "nothing was subscribed");
}

#[tokio::test]
async fn a_delivery_to_a_name_resolving_to_a_private_address_is_refused_when_connecting_and_never_arrives() {
    let receiver = Receiver::start();
    // Plain http is allowed here (the receiver has no TLS); private targets are not.
    let app = spawn_app_with(|settings| {
        fast(settings);
        settings.webhooks.allow_private_targets = false;
    })
    .await;
    api_ready(&app).await;
    let key = direct_key(&app, "demo", Scope::Admin).await;
    let url = receiver.url.replace("127.0.0.1", &private_name().await);
    let (status, body) = create(&app, &key, &url).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("target_not_allowed")), "{body}");
    // A subscription made before the name pointed there (or while the guard was off).
    let archive = SqlArchive::connect(&app._dir.as_ref().unwrap().sqlite_url()).await.unwrap();
    let (subscription, _) =
        archive.create_subscription("demo", &url, &[EventType::MessageCreated], 10).await.unwrap().unwrap();
    let (mut visitor, _) = app.connect_visitor().await;
    visitor.say("v1", "hello").await;

    let log_path = format!("/v1/api/webhooks/{}/deliveries", subscription.id);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let delivery = loop {
        let response = reqwest::Client::new().get(app.url(&log_path)).bearer_auth(&key).send().await.unwrap();
        let log: Value = response.json().await.unwrap();
        // The conversation's first event is tried again and again; the later ones wait for it.
        if let Some(tried) = log["items"].as_array().unwrap().iter().find(|d| d["attempts"].as_u64() >= Some(2)) {
            break tried.clone();
        }
        assert!(receiver.received().is_empty(), "a delivery reached the private address: {log}");
        assert!(tokio::time::Instant::now() < deadline, "never attempted: {log}");
        tokio::time::sleep(Duration::from_millis(30)).await;
    };
    assert_eq!(delivery["status"], "pending", "retried, never delivered: {delivery}");
    assert_eq!(delivery["last_status"], Value::Null, "no receiver answered");
    let error = delivery["last_error"].as_str().unwrap();
    assert!(error.contains("non-public"), "refused by the guard: {error}");
    assert!(receiver.received().is_empty(), "nothing reached the private address");
}

#[tokio::test]
async fn changing_a_subscriptions_url_to_a_private_target_is_refused_and_to_a_public_one_taken() {
    let app = spawn_app().await;
    api_ready(&app).await;
    let key = direct_key(&app, "demo", Scope::Admin).await;
    let (status, made) = create(&app, &key, "https://hooks.example.com/in").await;
    assert_eq!(status, 201, "{made}");
    let path = app.url(&format!("/v1/api/webhooks/{}", made["id"].as_str().unwrap()));
    let patch = |body: Value| {
        let request = reqwest::Client::new().patch(path.clone()).bearer_auth(&key).json(&body);
        async move {
            let response = request.send().await.unwrap();
            (response.status().as_u16(), response.json::<Value>().await.unwrap())
        }
    };
    for url in ["https://169.254.169.254/latest/meta-data/", "https://[fd00::1]/in", "http://hooks.example.com/in"] {
        let (status, body) = patch(json!({"url": url})).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("target_not_allowed")), "{url}: {body}");
    }
    let (status, body) = patch(json!({})).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")), "{body}");
    let (status, changed) = patch(json!({"url": "https://crm.example.com/baton", "events": ["csat.submitted"]})).await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(
        (changed["url"].as_str(), changed["events"].clone()),
        (Some("https://crm.example.com/baton"), json!(["csat.submitted"]))
    );
    let list = reqwest::Client::new().get(app.url("/v1/api/webhooks?site=demo")).bearer_auth(&key).send().await;
    let list: Value = list.unwrap().json().await.unwrap();
    assert_eq!(list["items"][0]["url"], "https://crm.example.com/baton", "{list}");
    let other = direct_key(&app, "other", Scope::Admin).await;
    let status =
        reqwest::Client::new().patch(path.clone()).bearer_auth(other).json(&json!({"events": ["csat.submitted"]}));
    assert_eq!(status.send().await.unwrap().status().as_u16(), 404, "another site's subscription");
}

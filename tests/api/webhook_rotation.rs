//! Rotating a webhook subscription's secret through real HTTP: a new `whsec_` secret shown
//! once; during the overlap every delivery carries two `v1=` signatures and a receiver
//! holding either secret verifies it (with its own HMAC); once the overlap is over (its end
//! moved to the past in the archive: time controlled, not waited for) only the new secret
//! signs.

use std::time::Duration;

use baton::archive::keys::Scope;
use serde_json::{Value, json};

use crate::helpers::spawn_app_with;
use crate::owner_api::{api_ready, direct_key};
use crate::webhook_receiver::{Receiver, verify};
use crate::webhooks::{call, fast, subscribe};

const ARRIVES: Duration = Duration::from_secs(30);

#[tokio::test]
async fn during_the_overlap_a_receiver_verifies_with_either_secret_and_afterwards_only_with_the_new_one() {
    let receiver = Receiver::start();
    let app = spawn_app_with(fast).await;
    api_ready(&app).await;
    let key = direct_key(&app, "demo", Scope::Admin).await;
    let created = subscribe(&app, &key, &receiver, &["message.created"]).await;
    let old = created["secret"].as_str().unwrap().to_owned();
    let id = created["id"].as_str().unwrap().to_owned();

    let rotate = format!("/v1/api/webhooks/{id}/rotate");
    let (status, rotated) = call(&app, &key, "POST", &rotate, None).await;
    assert_eq!(status, 200, "{rotated}");
    let new = rotated["secret"].as_str().unwrap().to_owned();
    assert!(new.starts_with("whsec_") && new != old, "{rotated}");
    let until: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(rotated["previous_secret_until"].clone()).unwrap();
    let hours = (until - chrono::Utc::now()).num_minutes() as f64 / 60.0;
    assert!((23.9..=24.0).contains(&hours), "the shipped overlap is 24 h: {rotated}");
    let (_, list) = call(&app, &key, "GET", "/v1/api/webhooks?site=demo", None).await;
    assert_eq!(list["items"][0]["previous_secret_until"], rotated["previous_secret_until"]);
    assert!(!list.to_string().contains(&new), "the new secret is shown once: {list}");
    let other = direct_key(&app, "other", Scope::Admin).await;
    assert_eq!(call(&app, &other, "POST", &rotate, None).await.0, 404, "another site's subscription");
    let read = direct_key(&app, "demo", Scope::Read).await;
    assert_eq!(call(&app, &read, "POST", &rotate, None).await.0, 403);

    receiver.set_secret(&old);
    let (mut visitor, _) = app.connect_visitor().await;
    visitor.say("v1", "During the overlap").await;
    let during = receiver.wait_until(ARRIVES, |r| !r.is_empty()).await;
    let first = &during[0];
    assert_eq!(first.header.matches("v1=").count(), 2, "{}", first.header);
    assert!(first.signed, "a receiver still holding the old secret verifies it");
    assert!(verify(&new, &first.header, &first.raw), "one holding the new secret too");
    assert!(!verify("whsec_someone_else", &first.header, &first.raw));

    // The overlap ends.
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&app._dir.as_ref().unwrap().sqlite_url()).await.unwrap();
    sqlx::query("UPDATE webhook_subscriptions SET previous_until = 1").execute(&pool).await.unwrap();
    let (_, list) = call(&app, &key, "GET", "/v1/api/webhooks?site=demo", None).await;
    assert_eq!(list["items"][0]["previous_secret_until"], Value::Null, "{list}");
    let before = receiver.received().len();
    visitor.say("v2", "After the overlap").await;
    let after = receiver
        .wait_until(ARRIVES, |r| r[before..].iter().any(|d| d.body["data"]["text"] == json!("After the overlap")))
        .await;
    let last = after[before..].iter().find(|d| d.body["data"]["text"] == json!("After the overlap")).unwrap();
    assert_eq!(last.header.matches("v1=").count(), 1, "{}", last.header);
    assert!(verify(&new, &last.header, &last.raw), "the new secret signs");
    assert!(!last.signed && !verify(&old, &last.header, &last.raw), "the old one no longer does");
}

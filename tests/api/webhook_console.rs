//! The console's webhook delivery log through real HTTP (what its Webhooks page reads): an
//! admin agent's token lists the subscriptions of the admin's sites with their deliveries
//! (status, attempts, next retry, last error) and redelivers one, which then arrives; an
//! agent who is not an admin is refused, and an admin of another site sees and redelivers
//! none of this site's.

use std::time::Duration;

use baton::archive::keys::Scope;
use baton::config::{AgentRole, Settings};
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app_with};
use crate::owner_api::{api_ready, direct_key};
use crate::tenants::two_sites;
use crate::webhook_receiver::Receiver;
use crate::webhooks::{call, fast, subscribe};

const ARRIVES: Duration = Duration::from_secs(30);

/// dev admins demo, bea admins the shop, lea is demo's agent; a failed delivery is given up
/// at once (no retry window), so it waits for a person to redeliver it.
fn admins(settings: &mut Settings) {
    fast(settings);
    settings.webhooks.retry_hours = 0;
    two_sites(settings);
    for agent in settings.agents.iter_mut().filter(|a| a.id == "dev" || a.id == "bea") {
        agent.role = AgentRole::Admin;
    }
}

async fn log_until(app: &TestApp, token: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + ARRIVES;
    loop {
        let (status, page) = call(app, token, "GET", "/v1/agent/webhooks", None).await;
        assert_eq!(status, 200, "{page}");
        if done(&page) {
            return page;
        }
        assert!(tokio::time::Instant::now() < deadline, "never: {page}");
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
}

#[tokio::test]
async fn an_admin_reads_the_delivery_log_of_their_sites_and_redelivers_a_failed_delivery_from_the_console() {
    let receiver = Receiver::start();
    receiver.fail_first(1);
    let app = spawn_app_with(admins).await;
    api_ready(&app).await;
    let key = direct_key(&app, "demo", Scope::Admin).await;
    let subscription = subscribe(&app, &key, &receiver, &["conversation.created"]).await;
    let (mut visitor, _) = app.connect_visitor().await;
    visitor.say("v1", "hello").await;

    let first = |page: &Value| page["items"][0]["deliveries"][0].clone();
    let page = log_until(&app, "t-dev", |p| first(p)["status"] == "failed").await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1, "{page}");
    let item = &page["items"][0];
    assert_eq!((item["id"].clone(), item["url"].clone()), (subscription["id"].clone(), json!(receiver.url)));
    assert!(item.get("secret").is_none(), "{item}");
    let failed = first(&page);
    assert_eq!((failed["attempts"].clone(), failed["last_status"].clone()), (json!(1), json!(500)), "{failed}");
    assert!(failed["last_error"].as_str().unwrap().contains("500"), "{failed}");
    assert_eq!(failed["next_at"], Value::Null, "given up: no next retry");

    let redeliver = format!(
        "/v1/agent/webhooks/{}/deliveries/{}/redeliver",
        subscription["id"].as_str().unwrap(),
        failed["id"].as_str().unwrap()
    );
    assert_eq!(call(&app, "t-lea", "GET", "/v1/agent/webhooks", None).await.0, 403, "not an admin");
    assert_eq!(call(&app, "t-lea", "POST", &redeliver, None).await.0, 403);
    assert_eq!(call(&app, "nobody", "GET", "/v1/agent/webhooks", None).await.0, 401);
    let (status, shop) = call(&app, "t-bea", "GET", "/v1/agent/webhooks", None).await;
    assert_eq!((status, shop["items"].clone()), (200, json!([])), "the shop's admin sees none of demo's");
    assert_eq!(call(&app, "t-bea", "GET", "/v1/agent/webhooks?site=demo", None).await.0, 403);
    assert_eq!(call(&app, "t-bea", "POST", &redeliver, None).await.0, 404, "nor redelivers them");

    let (status, queued) = call(&app, "t-dev", "POST", &redeliver, None).await;
    assert_eq!((status, queued["status"].as_str()), (202, Some("pending")), "{queued}");
    let page = log_until(&app, "t-dev", |p| first(p)["status"] == "delivered").await;
    let delivered = first(&page);
    assert_eq!((delivered["attempts"].clone(), delivered["last_status"].clone()), (json!(2), json!(200)));
    let arrived = receiver.received();
    assert_eq!(arrived.iter().map(|r| r.status).collect::<Vec<_>>(), [500, 200], "sent again, once");
    assert!(arrived.iter().all(|r| r.body["id"] == failed["event_id"]));
}

//! Webhooks through real HTTP, to a real receiver the tests start: every event type, signed
//! with the subscription's secret; a receiver that fails three times then takes the event;
//! the delivery log, manual redelivery and the API's scopes; a node SIGKILLed mid-delivery
//! and restarted, with nothing lost and each conversation's order kept; that order under
//! concurrency and failures.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use baton::archive::Archive;
use baton::archive::keys::Scope;
use baton::archive::sql::SqlArchive;
use baton::config::Settings;
use serde_json::{Value, json};

use crate::cluster::{ClusterConfig, Node, agent_says};
use crate::helpers::{Client, TestApp, spawn_app_with};
use crate::owner_api::{api_ready, direct_key};
use crate::postgres_server::PostgresServer;
use crate::redis_server::{RedisServer, namespace};
use crate::webhook_receiver::{Received, Receiver};

const ALL: [&str; 7] = [
    "conversation.created",
    "message.created",
    "conversation.escalated",
    "conversation.assigned",
    "conversation.resolved",
    "csat.submitted",
    "left_message.created",
];
/// Everything a test waits for arrives well within this (a debug build, retries included).
const ARRIVES: Duration = Duration::from_secs(30);

/// Short waits for tests: a failed delivery is retried after 50 ms, 100 ms, … up to 1 s;
/// the receiver is plain http on 127.0.0.1, which the SSRF guard refuses unless allowed.
pub(crate) fn fast(settings: &mut Settings) {
    settings.webhooks.allow_http = true;
    settings.webhooks.allow_private_targets = true;
    settings.webhooks.poll_ms = 20;
    settings.webhooks.backoff_first_ms = 50;
    settings.webhooks.backoff_max_secs = 1;
    settings.webhooks.timeout_secs = 5;
}

pub(crate) async fn call(app: &TestApp, key: &str, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut request = reqwest::Client::new().request(method.parse().unwrap(), app.url(path)).bearer_auth(key);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Subscribes the receiver to `events` of the demo site and gives it the secret (once the
/// node has migrated the archive to the end: 503 until then).
pub(crate) async fn subscribe(app: &TestApp, key: &str, receiver: &Receiver, events: &[&str]) -> Value {
    let body = json!({"site": "demo", "url": receiver.url, "events": events});
    let deadline = tokio::time::Instant::now() + ARRIVES;
    let (status, created) = loop {
        let (status, created) = call(app, key, "POST", "/v1/api/webhooks", Some(body.clone())).await;
        if status != 503 || tokio::time::Instant::now() > deadline {
            break (status, created);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(status, 201, "{created}");
    receiver.set_secret(created["secret"].as_str().unwrap());
    created
}

fn of_conversation<'a>(received: &'a [Received], id: &Value) -> Vec<&'a Received> {
    received.iter().filter(|r| r.body["data"]["conversation_id"] == *id).collect()
}

fn first_of<'a>(received: &[&'a Received], kind: &str) -> Option<&'a Value> {
    received.iter().map(|r| &r.body).find(|body| body["type"] == kind)
}

#[tokio::test]
async fn every_event_type_reaches_a_real_receiver_signed_with_the_subscriptions_secret() {
    let receiver = Receiver::start();
    let app = spawn_app_with(fast).await;
    api_ready(&app).await;
    let key = direct_key(&app, "demo", Scope::Admin).await;
    let subscription = subscribe(&app, &key, &receiver, &ALL).await;
    assert!(subscription["secret"].as_str().unwrap().starts_with("whsec_"), "{subscription}");

    // Nobody online: the visitor leaves a message.
    let (mut lea, lea_welcome) = app.escalated_visitor().await;
    lea.collect_until(|f| f["actions"][0]["id"] == "leave_message").await;
    lea.send(json!({"type": "leave_message", "email": "lea@example.com", "text": "Where is order 1042?"})).await;
    lea.collect_until(|f| f["from"] == "system" && f["text"].as_str().unwrap().contains("lea@example.com")).await;
    // A whole conversation with a person.
    let (mut agent, _) = app.connect_agent("demo-agent-token").await;
    let (mut visitor, welcome) = app.connect_visitor().await;
    let id = welcome["conversation_id"].clone();
    visitor.say("v1", "How long do refunds take?").await;
    visitor.next_bot_message().await;
    visitor.send(json!({"type": "request_human"})).await;
    visitor.next_of_type("state").await;
    agent.send(json!({"type": "accept", "conversation_id": id})).await;
    agent.next_of_type("assigned").await;
    agent_says(&mut agent, &id, "a1", "Your refund went out yesterday.").await;
    agent.send(json!({"type": "resolve", "conversation_id": id})).await;
    visitor.next_of_type("csat_request").await;
    visitor.send(json!({"type": "csat", "score": 5, "comment": "Quick!"})).await;

    let lea_id = lea_welcome["conversation_id"].clone();
    let received = receiver
        .wait_until(ARRIVES, |r| {
            first_of(&of_conversation(r, &id), "csat.submitted").is_some()
                && first_of(&of_conversation(r, &lea_id), "left_message.created").is_some()
        })
        .await;
    assert!(received.iter().all(|r| r.signed), "every delivery verifies: {received:#?}");
    let ids: BTreeSet<&str> = received.iter().map(|r| r.body["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), received.len(), "no event twice when nothing failed");
    for body in received.iter().map(|r| &r.body) {
        assert!(body["id"].as_str().unwrap().starts_with("evt_") && body["created_at"].is_string(), "{body}");
        assert_eq!(body["site"], "demo");
        assert!(ALL.contains(&body["type"].as_str().unwrap()), "{body}");
    }

    let mine = of_conversation(&received, &id);
    let order: Vec<&str> = mine.iter().map(|r| r.body["type"].as_str().unwrap()).collect();
    let place = |kind: &str| order.iter().position(|k| *k == kind).unwrap_or_else(|| panic!("{kind}: {order:?}"));
    assert_eq!(place("conversation.created"), 0, "{order:?}");
    assert!(place("message.created") < place("conversation.escalated"), "{order:?}");
    assert!(place("conversation.escalated") < place("conversation.assigned"), "{order:?}");
    assert!(place("conversation.assigned") < place("conversation.resolved"), "{order:?}");
    assert!(place("conversation.resolved") < place("csat.submitted"), "{order:?}");
    let texts: Vec<(&str, &str)> = mine
        .iter()
        .filter(|r| r.body["type"] == "message.created")
        .map(|r| (r.body["data"]["from"].as_str().unwrap(), r.body["data"]["text"].as_str().unwrap()))
        .collect();
    assert!(texts.contains(&("visitor", "How long do refunds take?")), "{texts:?}");
    assert!(texts.contains(&("agent", "Your refund went out yesterday.")), "{texts:?}");
    let escalated = first_of(&mine, "conversation.escalated").unwrap();
    assert_eq!(escalated["data"]["reason"], "explicit_request");
    assert!(escalated["data"]["detail"].is_string() && escalated["data"].get("signals").is_some(), "{escalated}");
    assert_eq!(first_of(&mine, "conversation.assigned").unwrap()["data"]["agent"]["id"], "dev");
    let csat = first_of(&mine, "csat.submitted").unwrap();
    assert_eq!((csat["data"]["score"].clone(), csat["data"]["comment"].clone()), (json!(5), json!("Quick!")));
    let left = first_of(&of_conversation(&received, &lea_id), "left_message.created").unwrap().clone();
    assert_eq!(left["data"]["email"], "lea@example.com");
    assert_eq!(left["data"]["text"], "Where is order 1042?");

    let (status, list) = call(&app, &key, "GET", "/v1/api/webhooks?site=demo", None).await;
    assert_eq!(status, 200);
    assert_eq!(list["items"][0]["id"], subscription["id"]);
    assert!(list["items"][0].get("secret").is_none(), "the secret is shown once: {list}");

    // Erasing the visitor who left the message erases the deliveries that carried her words.
    let log_path = format!("/v1/api/webhooks/{}/deliveries", subscription["id"].as_str().unwrap());
    let (_, log) = call(&app, &key, "GET", &log_path, None).await;
    let hers = |log: &Value| log["items"].as_array().unwrap().iter().filter(|d| d["conversation_id"] == lea_id).count();
    assert!(hers(&log) >= 2, "{log}");
    let (status, erased) =
        call(&app, "demo-agent-token", "POST", "/v1/admin/privacy/erase", Some(json!({"email": "lea@example.com"})))
            .await;
    assert_eq!(status, 200, "{erased}");
    let (_, log) = call(&app, &key, "GET", &log_path, None).await;
    assert_eq!(hers(&log), 0, "{log}");
    assert!(log["items"].as_array().unwrap().iter().any(|d| d["conversation_id"] == id), "others stay");
}

#[tokio::test]
async fn a_receiver_that_fails_three_times_gets_the_event_on_the_fourth_attempt_and_the_log_shows_each() {
    let receiver = Receiver::start();
    receiver.fail_first(3);
    let app = spawn_app_with(fast).await;
    api_ready(&app).await;
    let key = direct_key(&app, "demo", Scope::Admin).await;
    let subscription = subscribe(&app, &key, &receiver, &["conversation.created"]).await;
    let sub = subscription["id"].as_str().unwrap();
    let (mut visitor, welcome) = app.connect_visitor().await;
    visitor.say("v1", "hello").await;

    let received = receiver.wait_until(ARRIVES, |r| r.len() >= 4).await;
    let statuses: Vec<u16> = received.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [500, 500, 500, 200]);
    let event_id = received[0].body["id"].clone();
    assert!(received.iter().all(|r| r.body["id"] == event_id && r.signed), "one event, each attempt signed");
    assert_eq!(received[0].body["data"]["conversation_id"], welcome["conversation_id"]);

    let log_path = format!("/v1/api/webhooks/{sub}/deliveries");
    let deadline = tokio::time::Instant::now() + ARRIVES;
    let delivery = loop {
        let (status, log) = call(&app, &key, "GET", &log_path, None).await;
        assert_eq!(status, 200, "{log}");
        if log["items"][0]["status"] == "delivered" {
            break log["items"][0].clone();
        }
        assert!(tokio::time::Instant::now() < deadline, "never marked delivered: {log}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!((delivery["attempts"].clone(), delivery["last_status"].clone()), (json!(4), json!(200)));
    assert_eq!(delivery["event_id"], event_id);
    assert_eq!(delivery["next_at"], Value::Null);
    let one = format!("{log_path}/{}", delivery["id"].as_str().unwrap());
    let (_, detail) = call(&app, &key, "GET", &one, None).await;
    let codes: Vec<&Value> = detail["attempt_log"].as_array().unwrap().iter().map(|a| &a["status"]).collect();
    assert_eq!(codes, [&json!(500), &json!(500), &json!(500), &json!(200)], "{detail}");

    // Manual redelivery sends the same event (same id) once more.
    let (status, again) = call(&app, &key, "POST", &format!("{one}/redeliver"), None).await;
    assert_eq!((status, again["status"].as_str()), (202, Some("pending")), "{again}");
    let received = receiver.wait_until(ARRIVES, |r| r.len() >= 5).await;
    assert_eq!(received[4].body["id"], event_id);
    assert_eq!(received[4].status, 200);

    // The backlog gauge is read from the archive once a second.
    let deadline = tokio::time::Instant::now() + ARRIVES;
    let metrics = loop {
        let metrics = app.get("/metrics").await.text().await.unwrap();
        if metrics.contains("\nbaton_webhook_backlog ") {
            break metrics;
        }
        assert!(tokio::time::Instant::now() < deadline, "no backlog gauge: {metrics}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(metrics.contains("baton_webhook_deliveries_total{outcome=\"retried\"}"), "{metrics}");

    // Scopes and sites: admin of this site only; another site's subscription is not found.
    let reader = direct_key(&app, "demo", Scope::Write).await;
    assert_eq!(call(&app, &reader, "GET", "/v1/api/webhooks?site=demo", None).await.0, 403);
    assert_eq!(call(&app, &reader, "GET", &log_path, None).await.0, 403);
    let other = direct_key(&app, "elsewhere", Scope::Admin).await;
    assert_eq!(call(&app, &other, "GET", "/v1/api/webhooks?site=demo", None).await.0, 403);
    assert_eq!(call(&app, &other, "GET", &log_path, None).await.0, 404);
    assert_eq!(call(&app, &other, "DELETE", &format!("/v1/api/webhooks/{sub}"), None).await.0, 404);
    let bad = json!({"site": "demo", "url": "ftp://example.com", "events": ["message.created"]});
    assert_eq!(call(&app, &key, "POST", "/v1/api/webhooks", Some(bad)).await.0, 400);
    let unknown = json!({"site": "demo", "url": receiver.url, "events": ["message.deleted"]});
    assert_eq!(call(&app, &key, "POST", "/v1/api/webhooks", Some(unknown)).await.0, 400);

    assert_eq!(call(&app, &key, "DELETE", &format!("/v1/api/webhooks/{sub}"), None).await.0, 204);
    assert_eq!(call(&app, &key, "GET", &log_path, None).await.0, 404);
    let (_, list) = call(&app, &key, "GET", "/v1/api/webhooks?site=demo", None).await;
    assert_eq!(list["items"], json!([]));
}

/// Each conversation's `message.created` seqs in the order they arrived (repeats included).
fn arrivals(received: &[Received]) -> BTreeMap<String, Vec<u64>> {
    let mut by_conversation: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for body in received.iter().map(|r| &r.body).filter(|b| b["type"] == "message.created") {
        let id = body["data"]["conversation_id"].as_str().unwrap().to_owned();
        by_conversation.entry(id).or_default().push(body["data"]["seq"].as_u64().unwrap());
    }
    by_conversation
}

/// Each conversation's message seqs as the archive holds them.
async fn archived_messages(archive: &dyn Archive, ids: &[Value]) -> BTreeMap<String, Vec<u64>> {
    let mut expected = BTreeMap::new();
    for id in ids {
        let id: baton::protocol::ConversationId = serde_json::from_value(id.clone()).unwrap();
        let copy = archive.conversation(id).await.unwrap().map(|c| c.events).unwrap_or_default();
        let seqs = copy.iter().filter(|e| e["type"] == "message").map(|e| e["seq"].as_u64().unwrap()).collect();
        expected.insert(id.to_string(), seqs);
    }
    expected
}

/// Waits until every archived message of `ids` arrived and nothing is left to deliver;
/// returns what arrived, per conversation.
async fn all_delivered(receiver: &Receiver, archive: &SqlArchive, ids: &[Value]) -> BTreeMap<String, Vec<u64>> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let arrived = arrivals(&receiver.received());
        let expected = archived_messages(archive, ids).await;
        let distinct: BTreeMap<String, Vec<u64>> = arrived
            .iter()
            .map(|(id, seqs)| (id.clone(), seqs.iter().copied().collect::<BTreeSet<_>>().into_iter().collect()))
            .collect();
        let complete = expected.iter().all(|(id, seqs)| !seqs.is_empty() && distinct.get(id) == Some(seqs));
        if complete && archive.webhook_backlog().await.unwrap() == 0 {
            return arrived;
        }
        assert!(tokio::time::Instant::now() < deadline, "not all delivered: expected {expected:?}, got {arrived:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Per conversation, no event arrives before one that came earlier (a repeat comes right
/// after its first arrival, before the next event).
fn assert_in_order(arrived: &BTreeMap<String, Vec<u64>>) {
    for (id, seqs) in arrived {
        assert!(seqs.windows(2).all(|w| w[0] <= w[1]), "conversation {id} out of order: {seqs:?}");
    }
}

/// A visitor who says `turns` things, each answered by the bot.
async fn chatty(mut visitor: Client, name: String, turns: usize) {
    for turn in 0..turns {
        visitor.say(&format!("{name}-{turn}"), &format!("Question {turn} from {name}: how do refunds work?")).await;
        visitor.next_bot_message().await;
    }
}

#[tokio::test]
async fn a_node_killed_mid_delivery_and_restarted_loses_no_event_and_keeps_each_conversations_order() {
    let receiver = Receiver::start();
    receiver.delay(Duration::from_millis(250));
    let redis = RedisServer::start();
    let postgres = tokio::task::spawn_blocking(PostgresServer::start).await.unwrap();
    let config = ClusterConfig::with("manual", 5, "[limits]\nrate_per_sec = 10000.0\nrate_burst = 10000\n");
    let ns = namespace();
    let env = [
        ("BATON__ARCHIVE__URL", postgres.url()),
        ("BATON__ARCHIVE__POLL_MS", "20".to_owned()),
        ("BATON__ARCHIVE__LEASE_SECS", "2".to_owned()),
        ("BATON__WEBHOOKS__POLL_MS", "20".to_owned()),
        ("BATON__WEBHOOKS__TIMEOUT_SECS", "1".to_owned()),
        ("BATON__WEBHOOKS__BACKOFF_FIRST_MS", "50".to_owned()),
        ("BATON__WEBHOOKS__BACKOFF_MAX_SECS", "1".to_owned()),
        ("BATON__WEBHOOKS__ALLOW_HTTP", "true".to_owned()),
        ("BATON__WEBHOOKS__ALLOW_PRIVATE_TARGETS", "true".to_owned()),
    ];
    // One node, alone, dispatches until it dies; then two share the database and the rest.
    let mut node_a = Node::start_with(&config.dir, &redis, &ns, &env).await;
    api_ready(&node_a.app).await;
    let archive = SqlArchive::connect(&postgres.url()).await.unwrap();
    let key = archive.create_key("demo", Scope::Admin, "test").await.unwrap().1;
    subscribe(&node_a.app, &key, &receiver, &["message.created"]).await;

    let mut ids = Vec::new();
    let mut talks = Vec::new();
    for name in ["ann", "bob", "cyd"] {
        let (visitor, welcome) = node_a.app.connect_visitor().await;
        ids.push(welcome["conversation_id"].clone());
        talks.push(tokio::spawn(chatty(visitor, name.to_owned(), 6)));
    }
    // Killed while the receiver holds a delivery it has not answered, once every visitor's
    // first message has arrived (a visitor who wrote nothing before the kill would leave
    // nothing to wait for below: it failed so once, in a fresh-clone run on two busy cores).
    receiver.wait_until(ARRIVES, |r| r.len() >= 4 && arrivals(r).len() == 3).await;
    let deadline = tokio::time::Instant::now() + ARRIVES;
    while receiver.in_flight() == 0 {
        assert!(tokio::time::Instant::now() < deadline, "no delivery in flight");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    node_a.kill();
    for talk in talks {
        let _ = talk.await;
    }
    let (node_b, node_c) = tokio::join!(
        Node::start_with(&config.dir, &redis, &ns, &env),
        Node::start_with(&config.dir, &redis, &ns, &env)
    );
    let arrived = all_delivered(&receiver, &archive, &ids).await;

    assert_in_order(&arrived);
    let repeats: usize = arrived.values().map(|seqs| seqs.len() - seqs.iter().collect::<BTreeSet<_>>().len()).sum();
    assert!(repeats >= 1, "a delivery cut short by the kill was sent again: {arrived:?}");
    assert!(receiver.received().iter().all(|r| r.signed));
    drop((node_b, node_c));
}

#[tokio::test]
async fn each_conversations_events_arrive_in_order_under_concurrency_and_failures() {
    let receiver = Receiver::start();
    receiver.fail_every(4);
    receiver.delay(Duration::from_millis(5));
    let app = spawn_app_with(|settings| {
        fast(settings);
        settings.webhooks.concurrency = 8;
    })
    .await;
    api_ready(&app).await;
    let key = direct_key(&app, "demo", Scope::Admin).await;
    subscribe(&app, &key, &receiver, &["message.created"]).await;
    let mut ids = Vec::new();
    let mut talks = Vec::new();
    for i in 0..6 {
        let (visitor, welcome) = app.connect_visitor().await;
        ids.push(welcome["conversation_id"].clone());
        talks.push(tokio::spawn(chatty(visitor, format!("v{i}"), 5)));
    }
    for talk in talks {
        talk.await.unwrap();
    }
    let archive = SqlArchive::connect(&app._dir.as_ref().unwrap().sqlite_url()).await.unwrap();
    let arrived = all_delivered(&receiver, &archive, &ids).await;
    assert_in_order(&arrived);
    assert_eq!(arrived.len(), ids.len());
    let failed = receiver.received().iter().filter(|r| r.status == 500).count();
    assert!(failed >= 5, "the receiver refused some: {failed}");
}

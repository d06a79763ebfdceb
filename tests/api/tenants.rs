//! Tenants apart: an agent is sent only what belongs to the sites (and, for a chat routed to
//! a team, the team) they work for, and can act on nothing else. Real sockets, one node here;
//! `cluster.rs` shows the same across two nodes on Redis.

use std::time::Duration;

use baton::config::Settings;
use serde_json::{Value, json};

use crate::helpers::{Client, TestApp, agent, spawn_app_with};

/// Long enough for a frame sent by the same pass to arrive on a quiet test machine; a leak
/// would show up as a frame naming the other site's conversation.
const QUIET: Duration = Duration::from_millis(400);
pub(crate) const LAWYER: &str = "I will contact my lawyer and take legal action against you";

/// The demo site and a second site, `shop`, both routed by hand (chats wait to be taken);
/// demo sends legal matters to the `legal` team. Agents: `dev` (demo, support), `lea`
/// (demo, legal), `bea` (shop, billing) and `all` (every site, support).
pub(crate) fn two_sites(settings: &mut Settings) {
    let demo = settings.sites.iter_mut().find(|s| s.id == "demo").expect("the demo site ships");
    demo.handoff.routing = baton::config::Routing::Manual;
    demo.handoff.topic_teams.insert("legal".into(), "legal".into());
    let mut shop = demo.clone();
    shop.id = "shop".into();
    shop.handoff.topic_teams.clear();
    shop.identity_secret = None;
    settings.sites.push(shop);
    let with_sites = |mut a: baton::config::AgentConfig, sites: &[&str]| {
        a.sites = Some(sites.iter().map(|s| (*s).to_owned()).collect());
        a
    };
    settings.agents = vec![
        with_sites(agent("dev", "t-dev", &["support"], 5), &["demo"]),
        with_sites(agent("lea", "t-lea", &["legal"], 5), &["demo"]),
        with_sites(agent("bea", "t-bea", &["billing"], 5), &["shop"]),
        with_sites(agent("all", "t-all", &["support"], 5), &["*"]),
    ];
}

/// A visitor on `site` who asked for a person (or wrote `text`), now waiting in the queue.
pub(crate) async fn queued_on(app: &TestApp, site: &str, text: Option<&str>) -> (Client, String) {
    let mut visitor = app.open_visitor(site, Some("http://localhost:3000")).await.expect("visitor socket");
    visitor.send(json!({"type": "hello", "locale": "en"})).await;
    let welcome = visitor.next_of_type("welcome").await;
    match text {
        Some(text) => drop(visitor.say("c1", text).await),
        None => visitor.send(json!({"type": "request_human"})).await,
    }
    loop {
        let frame = visitor.next_of_type("state").await;
        if frame["state"] == "queued" {
            break;
        }
    }
    (visitor, welcome["conversation_id"].as_str().unwrap().to_owned())
}

/// Reads queue snapshots until one lists `id`.
pub(crate) async fn sees_in_queue(agent: &mut Client, id: &str) -> Value {
    loop {
        let snapshot = agent.next_of_type("queue_snapshot").await;
        if let Some(item) = snapshot["items"].as_array().unwrap().iter().find(|i| i["conversation_id"] == id) {
            return item.clone();
        }
    }
}

/// Nothing the agent is sent for a while names `id`.
pub(crate) async fn never_hears_of(agent: &mut Client, id: &str) {
    for frame in agent.drain(QUIET).await {
        assert!(!frame.to_string().contains(id), "leaked to another tenant: {frame}");
    }
}

/// The `error` code the agent's next error frame carries.
pub(crate) async fn refused(agent: &mut Client, frame: Value) -> String {
    agent.send(frame).await;
    agent.next_of_type("error").await["code"].as_str().unwrap().to_owned()
}

fn listed(ready: &Value, field: &str, id: &str) -> bool {
    ready[field].as_array().unwrap().iter().any(|item| item["conversation_id"] == id)
}

#[tokio::test]
async fn an_agent_of_another_site_is_never_shown_its_queue_and_every_action_on_its_chats_is_forbidden() {
    let app = spawn_app_with(two_sites).await;
    let (mut dev, _) = app.connect_agent("t-dev").await;
    let (mut bea, _) = app.connect_agent("t-bea").await;
    let (mut all, _) = app.connect_agent("t-all").await;
    let (_visitor, id) = queued_on(&app, "demo", None).await;
    sees_in_queue(&mut dev, &id).await;
    sees_in_queue(&mut all, &id).await;
    never_hears_of(&mut bea, &id).await;
    let (mut bea_again, ready) = app.connect_agent("t-bea").await;
    assert!(!listed(&ready, "queue", &id), "ready lists only the agent's sites: {ready}");

    assert_eq!(refused(&mut bea, json!({"type": "accept", "conversation_id": id})).await, "forbidden");
    assert_eq!(refused(&mut bea, json!({"type": "preview", "conversation_id": id})).await, "forbidden");
    dev.send(json!({"type": "accept", "conversation_id": id})).await;
    dev.next_of_type("assigned").await;
    let actions = [
        json!({"type": "message", "conversation_id": id, "client_id": "x1", "text": "hello from shop"}),
        json!({"type": "note", "conversation_id": id, "text": "peeking"}),
        json!({"type": "transfer", "conversation_id": id, "to": {"agent_id": "bea"}}),
        json!({"type": "transfer", "conversation_id": id, "to": {"team": "billing"}}),
        json!({"type": "handback", "conversation_id": id}),
        json!({"type": "resolve", "conversation_id": id}),
    ];
    for action in actions {
        assert_eq!(refused(&mut bea_again, action.clone()).await, "forbidden", "{action}");
    }
    let events = app.store.log.events_after(serde_json::from_value(json!(id)).unwrap(), 0, 100).await.unwrap();
    assert!(events.iter().all(|e| !format!("{:?}", e.body).contains("shop")), "nothing of bea's was written");
    never_hears_of(&mut bea, &id).await;

    // A transfer to an agent of another site is refused too.
    let to_bea = json!({"type": "transfer", "conversation_id": id, "to": {"agent_id": "bea"}});
    assert_eq!(refused(&mut dev, to_bea).await, "forbidden");

    // And the other way round: the shop's chat is bea's business, not dev's.
    let (_shopper, shop_id) = queued_on(&app, "shop", None).await;
    sees_in_queue(&mut bea, &shop_id).await;
    never_hears_of(&mut dev, &shop_id).await;
    assert_eq!(refused(&mut dev, json!({"type": "accept", "conversation_id": shop_id})).await, "forbidden");
}

#[tokio::test]
async fn a_chat_routed_to_a_team_is_shown_to_and_taken_only_by_that_team() {
    let app = spawn_app_with(two_sites).await;
    let (mut dev, _) = app.connect_agent("t-dev").await;
    let (mut lea, _) = app.connect_agent("t-lea").await;
    let (_visitor, id) = queued_on(&app, "demo", Some(LAWYER)).await;
    let item = sees_in_queue(&mut lea, &id).await;
    assert_eq!(item["team"], "legal", "{item}");
    never_hears_of(&mut dev, &id).await;
    let (_, ready) = app.connect_agent("t-dev").await;
    assert!(!listed(&ready, "queue", &id), "{ready}");
    assert_eq!(refused(&mut dev, json!({"type": "accept", "conversation_id": id})).await, "forbidden");
    assert_eq!(refused(&mut dev, json!({"type": "preview", "conversation_id": id})).await, "forbidden");
    lea.send(json!({"type": "accept", "conversation_id": id})).await;
    let assigned = lea.next_of_type("assigned").await;
    assert_eq!(assigned["conversation"]["conversation_id"], id);
}

#[tokio::test]
async fn a_left_message_and_its_email_reach_only_the_agents_of_its_site() {
    let app = spawn_app_with(two_sites).await;
    let (mut dev, _) = app.connect_agent("t-dev").await;
    let (mut bea, _) = app.connect_agent("t-bea").await;
    let (mut visitor, id) = queued_on(&app, "demo", None).await;
    let email = "private.person@example.com";
    visitor.send(json!({"type": "leave_message", "email": email, "text": "Please call me about order 1042"})).await;
    let left = dev.next_of_type("left_message").await;
    assert_eq!(
        (left["message"]["email"].as_str(), left["message"]["conversation_id"].as_str()),
        (Some(email), Some(id.as_str()))
    );
    for frame in bea.drain(QUIET).await {
        assert!(!frame.to_string().contains(email), "an email leaked to another site's agent: {frame}");
    }
    let (_, ready) = app.connect_agent("t-bea").await;
    assert!(!ready.to_string().contains(email), "{ready}");
    let (_, ready) = app.connect_agent("t-dev").await;
    assert!(listed(&ready, "left_messages", &id), "{ready}");
}

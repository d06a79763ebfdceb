//! The inactivity rules of `[inactivity]` through real sockets, with short configured timings
//! and a sweep every second: a visitor who goes quiet is nudged once, then the chat is
//! resolved with the rating request; a chat waiting on a person past the SLA alerts the
//! site's agents once and counts a breach.

use std::time::Duration;

use baton::config::Routing;
use serde_json::{Value, json};

use crate::helpers::{Client, TestApp, agent, spawn_app_with};

const NUDGE: &str = "Are you still there? Write here if you need anything else.";
const RESOLVED: &str =
    "This chat was closed because we had not heard from you for a while. Write again any time if you need more help.";

async fn app(nudge: u64, resolve: u64, sla: u64) -> TestApp {
    spawn_app_with(|s| {
        s.agents = vec![agent("ana", "token-ana", &["support"], 2)];
        s.handoff.inactivity_secs = 1;
        for site in &mut s.sites {
            site.handoff.routing = Routing::Manual;
            site.bot.rating_after_idle_secs = 0;
            site.inactivity.nudge_after_secs = nudge;
            site.inactivity.resolve_after_secs = resolve;
            site.inactivity.agent_sla_secs = sla;
        }
    })
    .await
}

/// A visitor the bot has answered once.
async fn answered_visitor(app: &TestApp) -> (Client, Value) {
    let (mut visitor, welcome) = app.connect_visitor().await;
    visitor.send(json!({"type": "message", "client_id": "m1", "text": "How long does shipping take?"})).await;
    visitor.collect_until(|f| f["type"] == "message" && f["from"] == "bot").await;
    (visitor, welcome)
}

fn says(frames: &[Value], text: &str) -> usize {
    frames.iter().filter(|f| f["type"] == "message" && f["from"] == "system" && f["text"] == text).count()
}

#[tokio::test]
async fn a_visitor_who_goes_quiet_is_nudged_once_then_the_chat_is_resolved_with_a_rating_request() {
    let app = app(1, 3, 0).await;
    let (mut visitor, _) = answered_visitor(&app).await;
    let frames = visitor.collect_until(|f| f["type"] == "csat_request").await;
    assert_eq!(says(&frames, NUDGE), 1, "nudged once: {frames:?}");
    let nudge = frames.iter().position(|f| f["text"] == NUDGE).unwrap();
    let resolved = frames.iter().position(|f| f["type"] == "state" && f["state"] == "resolved").expect("resolved");
    assert!(nudge < resolved, "the nudge first: {frames:?}");
    assert_eq!(says(&frames, RESOLVED), 1, "told why: {frames:?}");
    let later = visitor.drain(Duration::from_millis(2500)).await;
    assert_eq!(says(&later, NUDGE) + says(&later, RESOLVED), 0, "nothing more for a resolved chat: {later:?}");
}

#[tokio::test]
async fn an_answer_from_the_visitor_starts_a_new_idle_period_with_a_nudge_of_its_own() {
    let app = app(1, 0, 0).await;
    let (mut visitor, welcome) = answered_visitor(&app).await;
    visitor.collect_until(|f| f["text"] == NUDGE).await;
    // A write that is not a message (a rating record) has the sweep look again: same period.
    visitor.send(json!({"type": "csat", "score": 4})).await;
    let quiet = visitor.drain(Duration::from_millis(2500)).await;
    assert_eq!(says(&quiet, NUDGE), 0, "once per idle period: {quiet:?}");
    visitor.send(json!({"type": "message", "client_id": "m2", "text": "And returns?"})).await;
    let frames = visitor.collect_until(|f| f["text"] == NUDGE).await;
    assert!(frames.iter().any(|f| f["from"] == "bot"), "the bot answered first: {frames:?}");
    let state = app.conversation(&welcome).await.state;
    assert_eq!(state, baton::protocol::State::Bot, "a nudge alone resolves nothing");
}

#[tokio::test]
async fn a_chat_an_agent_answered_is_resolved_when_its_visitor_goes_quiet_and_leaves_the_agent() {
    let app = app(0, 2, 0).await;
    let (mut ana, _) = app.connect_agent("token-ana").await;
    let (mut visitor, welcome) = app.escalated_visitor().await;
    let id = welcome["conversation_id"].clone();
    ana.send(json!({"type": "accept", "conversation_id": id})).await;
    ana.next_of_type("assigned").await;
    ana.send(json!({"type": "message", "conversation_id": id, "client_id": "a1", "text": "Hi, Ana here."})).await;
    let frames = visitor.collect_until(|f| f["type"] == "csat_request").await;
    assert!(frames.iter().any(|f| f["from"] == "agent"), "{frames:?}");
    assert_eq!(says(&frames, RESOLVED), 1, "{frames:?}");
    let conversation = app.conversation(&welcome).await;
    assert_eq!(conversation.state, baton::protocol::State::Resolved);
    let cid = conversation.id;
    assert!(app.store.handoff.assignment(cid).await.unwrap().is_none(), "no longer Ana's");
}

/// `baton_sla_breaches_total` of the demo site, as `/metrics` shows it (0 before the first).
async fn breaches(app: &TestApp) -> u64 {
    let metrics = app.get("/metrics").await.text().await.unwrap();
    metrics
        .lines()
        .find(|l| l.starts_with("baton_sla_breaches_total{") && l.contains("site=\"demo\""))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
        .unwrap_or(0)
}

#[tokio::test]
async fn a_chat_waiting_on_a_person_past_the_sla_alerts_the_sites_agents_once_and_counts_a_breach() {
    let app = app(0, 0, 1).await;
    let before = breaches(&app).await;
    let (mut ana, _) = app.connect_agent("token-ana").await;
    let (mut visitor, welcome) = app.escalated_visitor().await;
    let alert = ana.next_of_type("sla_breach").await;
    assert_eq!(alert["conversation_id"], welcome["conversation_id"]);
    assert_eq!((alert["site"].as_str(), alert["state"].as_str()), (Some("demo"), Some("queued")));
    assert!(alert["waited_secs"].as_u64().unwrap() >= 1, "{alert}");
    // The visitor writes while waiting: still the same wait, no second alert.
    visitor.say("m1", "Is anyone there?").await;
    let later = ana.drain(Duration::from_millis(2500)).await;
    assert!(!later.iter().any(|f| f["type"] == "sla_breach"), "once per wait: {later:?}");
    // The recorder is the test process's own, shared with the other tests of the demo site
    // that run meanwhile, so the count moved by this breach at least ("once" is the frames').
    assert!(breaches(&app).await > before, "the breach is counted");
}

#[tokio::test]
async fn a_visitor_an_agent_has_not_answered_alerts_the_team_as_a_chat_with_an_agent() {
    let app = app(0, 0, 1).await;
    let (mut ana, _) = app.connect_agent("token-ana").await;
    let (mut visitor, welcome) = app.escalated_visitor().await;
    let id = welcome["conversation_id"].clone();
    ana.send(json!({"type": "accept", "conversation_id": id})).await;
    ana.next_of_type("assigned").await;
    // The queued wait may alert first; the agent's own silence is a wait of its own.
    ana.send(json!({"type": "message", "conversation_id": id, "client_id": "a1", "text": "One moment."})).await;
    visitor.collect_until(|f| f["from"] == "agent").await;
    visitor.say("m2", "Still there?").await;
    let alert = loop {
        let alert = ana.next_of_type("sla_breach").await;
        if alert["state"] == "agent" {
            break alert;
        }
    };
    assert_eq!(alert["conversation_id"], id);
    let later = ana.drain(Duration::from_millis(2500)).await;
    assert!(!later.iter().any(|f| f["type"] == "sla_breach"), "once per wait: {later:?}");
}

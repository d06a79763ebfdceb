//! Visitors rate chats the bot alone handled too: when they end the chat, and after the
//! site's `bot.rating_after_idle_secs` without a frame either way; the reports count those
//! ratings as bot-only, apart from the human-handled ones.

use std::time::Duration;

use baton::config::{AgentRole, Routing};
use serde_json::{Value, json};

use crate::helpers::{Client, TestApp, agent, spawn_app_with};
use crate::reports_http::report_until;

async fn app(idle_secs: u64) -> TestApp {
    spawn_app_with(|s| {
        let mut admin = agent("ana", "token-ana", &["support"], 2);
        admin.role = AgentRole::Admin;
        s.agents = vec![admin];
        for site in &mut s.sites {
            site.handoff.routing = Routing::Manual;
            site.bot.rating_after_idle_secs = idle_secs;
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

#[tokio::test]
async fn a_visitor_who_ends_a_bot_only_chat_is_asked_to_rate_it_and_the_report_counts_it_as_bot_only() {
    let app = app(0).await;
    let (mut visitor, _) = answered_visitor(&app).await;
    visitor.send(json!({"type": "end"})).await;
    let frames = visitor.collect_until(|f| f["type"] == "csat_request").await;
    assert!(frames.iter().any(|f| f["type"] == "state" && f["state"] == "resolved"), "{frames:?}");
    visitor.send(json!({"type": "csat", "score": 5})).await;

    // A chat a person handled, rated 2: the human side of the split.
    let (mut ana, _) = app.connect_agent("token-ana").await;
    let (mut handled, welcome) = app.escalated_visitor().await;
    let id = welcome["conversation_id"].clone();
    ana.send(json!({"type": "accept", "conversation_id": id})).await;
    ana.next_of_type("assigned").await;
    ana.send(json!({"type": "resolve", "conversation_id": id})).await;
    handled.next_of_type("csat_request").await;
    handled.send(json!({"type": "csat", "score": 2})).await;

    let report = report_until(&app, |r| r["csat"]["bot_ratings"] == 1 && r["csat"]["human_ratings"] == 1).await;
    assert_eq!(report["csat"], json!({"bot": 5.0, "human": 2.0, "bot_ratings": 1, "human_ratings": 1}));
}

#[tokio::test]
async fn an_idle_visitor_of_a_bot_only_chat_is_asked_once_to_rate_it_and_an_escalated_one_is_not() {
    let app = app(1).await;
    let (mut visitor, _) = answered_visitor(&app).await;
    visitor.next_of_type("csat_request").await;
    let later = visitor.drain(Duration::from_millis(2500)).await;
    assert!(!later.iter().any(|f| f["type"] == "csat_request"), "asked once: {later:?}");
    visitor.send(json!({"type": "csat", "score": 4})).await;

    let (mut escalated, _) = answered_visitor(&app).await;
    escalated.send(json!({"type": "request_human"})).await;
    let frames = escalated.drain(Duration::from_millis(2500)).await;
    assert!(frames.iter().any(|f| f["state"] == "queued"), "{frames:?}");
    assert!(
        !frames.iter().any(|f| f["type"] == "csat_request"),
        "a chat waiting for a person is not rated yet: {frames:?}"
    );

    let report = report_until(&app, |r| r["csat"]["bot_ratings"] == 1).await;
    assert_eq!(report["csat"]["bot"], 4.0);
}

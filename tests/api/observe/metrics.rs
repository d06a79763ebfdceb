//! `/metrics` through Prometheus: a node on a real Redis with a scripted model, real traffic
//! (a visitor chatting with the bot, a failed model call, a store outage, escalations, an
//! agent taking a chat), then each series asked of Prometheus's query API.

use std::time::Duration;

use serde_json::{Value, json};

use crate::cluster::{ClusterConfig, Node, agent_says};
use crate::helpers::{Client, spawn_app_with};
use crate::prometheus_server::{PrometheusServer, value};
use crate::redis_server::{RedisServer, namespace};
use crate::scripted_llm::{Script, ScriptedLlm};

/// Prometheus scrapes every second; a series must show within this.
const SERIES_WAIT: Duration = Duration::from_secs(30);
const TOKEN: &str = "a-scrape-token-for-the-test";

async fn next_message_from(client: &mut Client, from: &str) -> Value {
    loop {
        let frame = client.next_of_type("message").await;
        if frame["from"] == from {
            return frame;
        }
    }
}

/// The visitor chats with the bot twice (the second time the model fails and the knowledge
/// base answers), writes once while Redis is frozen, then asks for a person, whom `ana` takes.
async fn drive_traffic(node: &Node, redis: &RedisServer, llm: &ScriptedLlm) -> (Client, Client, Client) {
    let app = &node.app;
    let (mut visitor, welcome) = app.connect_visitor().await;
    visitor.say("m1", "How do I reset my password?").await;
    next_message_from(&mut visitor, "bot").await;
    llm.push(Script::Status(500));
    llm.push(Script::Status(500));
    visitor.say("m2", "And how do I change my email?").await;
    next_message_from(&mut visitor, "bot").await;
    redis.pause();
    visitor.send(json!({"type": "message", "client_id": "m3", "text": "Are you there?"})).await;
    let error = visitor.next_of_type("error").await;
    assert_eq!(error["code"], "unavailable", "{error}");
    redis.resume();
    visitor.send(json!({"type": "request_human"})).await;
    assert_eq!(visitor.next_of_type("state").await["state"], "queued");
    let (mut ana, _) = app.connect_agent("token-ana").await;
    let id = welcome["conversation_id"].clone();
    ana.send(json!({"type": "accept", "conversation_id": id})).await;
    ana.next_of_type("assigned").await;
    agent_says(&mut ana, &id, "a1", "Hello, I'm here to help.").await;
    next_message_from(&mut visitor, "agent").await;
    // A second visitor is left waiting in the queue.
    let (waiting, _) = app.escalated_visitor().await;
    (visitor, ana, waiting)
}

#[tokio::test]
async fn prometheus_scrapes_the_series_a_chat_an_escalation_and_an_agent_make() {
    let redis = RedisServer::start();
    let config = ClusterConfig::new();
    let llm = ScriptedLlm::start().await;
    let env = [("BATON__LLM__BASE_URL", llm.base_url.clone()), ("BATON__METRICS__TOKEN", TOKEN.to_owned())];
    let node = Node::start_with(&config.dir, &redis, &namespace(), &env).await;
    let unauthorized = node.app.get("/metrics").await;
    assert_eq!(unauthorized.status(), 401, "a scrape without the token is refused");
    let prometheus = PrometheusServer::scraping(node.app.port, Some(TOKEN)).await;
    let _sockets = drive_traffic(&node, &redis, &llm).await;

    let expectations = [
        r#"baton_sockets_open{kind="visitor"} == 2"#,
        r#"baton_sockets_open{kind="agent"} == 1"#,
        "baton_frames_received_total > 0",
        "baton_frames_sent_total > 0",
        r#"baton_messages_relayed_total{from="visitor"} >= 2"#,
        r#"baton_messages_relayed_total{from="bot"} >= 2"#,
        r#"baton_messages_relayed_total{from="agent"} == 1"#,
        r#"baton_store_write_seconds_count{op="append"} > 0"#,
        r#"baton_store_write_seconds_bucket{op="transition",le="+Inf"} >= 3"#,
        r#"baton_store_errors_total{kind="unavailable"} >= 1"#,
        "baton_redis_round_trips_total > 0",
        "baton_llm_requests_total >= 3",
        "baton_llm_first_token_seconds_count >= 1",
        r#"baton_llm_failures_total{kind="server"} >= 1"#,
        r#"baton_escalations_total{reason="explicit_request"} == 2"#,
        r#"baton_queue_length{site="demo"} == 1"#,
        r#"baton_queue_oldest_wait_seconds{site="demo"} >= 0"#,
        r#"baton_agents_online{status="online"} == 1"#,
        "baton_archive_lag_conversations >= 0",
    ];
    for promql in expectations {
        let series = prometheus.wait_for(promql, SERIES_WAIT).await;
        assert!(series.iter().all(|s| value(s).is_finite()), "{promql}: {series:?}");
    }
    let (health, error) = prometheus.target().await;
    assert_eq!(health, "up", "the scrape target is healthy ({error})");
    let names = prometheus.query(r#"{__name__=~".+", job="baton"}"#).await;
    let foreign: Vec<&str> = names
        .iter()
        .filter_map(|s| s["metric"]["__name__"].as_str())
        .filter(|name| !name.starts_with("baton_") && !name.starts_with("scrape_") && *name != "up")
        .collect();
    assert!(foreign.is_empty(), "every metric Baton exports is named baton_…: {foreign:?}");
}

#[tokio::test]
async fn metrics_are_refused_outside_the_allow_list_and_absent_when_off() {
    let app = spawn_app_with(|s| s.metrics.allow = vec!["10.0.0.0/8".parse().unwrap()]).await;
    let refused = app.get("/metrics").await;
    assert_eq!(refused.status(), 403);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"], "forbidden", "{body}");

    let app = spawn_app_with(|s| s.metrics.enabled = false).await;
    assert_eq!(app.get("/metrics").await.status(), 404);

    let app = spawn_app_with(|_| {}).await;
    let scraped = app.get("/metrics").await;
    assert_eq!(scraped.status(), 200, "loopback may scrape by default");
    let content_type = scraped.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("text/plain; version=0.0.4"), "{content_type}");
    let text = scraped.text().await.unwrap();
    assert!(text.contains("# TYPE baton_sockets_open gauge"), "{text}");
}

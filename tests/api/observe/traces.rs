//! Traces over OTLP/HTTP: a node with `[traces]` on, pointed at the test's receiver, and one
//! visitor message answered by the scripted model. Its trace must run from the socket's
//! `visitor_frame` through the policy, the store and the bot's model request, every span
//! carrying the conversation id.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::Value;

use super::otlp_receiver::{OtlpReceiver, ReceivedSpan};
use crate::cluster::{ClusterConfig, Node};
use crate::helpers::Client;
use crate::redis_server::{RedisServer, namespace};
use crate::scripted_llm::ScriptedLlm;

/// Spans are batched every 100 ms here (`OTEL_BSP_SCHEDULE_DELAY`); the whole trace must
/// arrive within this.
const TRACE_WAIT: Duration = Duration::from_secs(30);

async fn bot_answer(client: &mut Client) -> Value {
    loop {
        let frame = client.next_of_type("message").await;
        if frame["from"] == "bot" {
            return frame;
        }
    }
}

/// The spans of the trace whose root is a `visitor_frame` of `conversation_id` and that holds
/// a model request, once it has arrived whole.
async fn visitor_message_trace(receiver: &OtlpReceiver, conversation_id: &str) -> Vec<ReceivedSpan> {
    let deadline = tokio::time::Instant::now() + TRACE_WAIT;
    loop {
        let spans = receiver.spans();
        let roots = spans.iter().filter(|s| {
            s.name == "visitor_frame"
                && s.parent_span_id.is_empty()
                && s.attributes["conversation_id"] == conversation_id
        });
        for root in roots {
            let trace: Vec<ReceivedSpan> = spans.iter().filter(|s| s.trace_id == root.trace_id).cloned().collect();
            if trace.iter().any(|s| s.name == "llm.request") {
                return trace;
            }
        }
        let names: Vec<&str> = spans.iter().map(|s| s.name.as_str()).collect();
        assert!(tokio::time::Instant::now() < deadline, "no whole visitor-message trace arrived; got {names:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The names of a span's ancestors, nearest first.
fn ancestors<'a>(span: &ReceivedSpan, by_id: &HashMap<&[u8], &'a ReceivedSpan>) -> Vec<&'a str> {
    let mut names = Vec::new();
    let mut parent = span.parent_span_id.as_slice();
    while let Some(up) = by_id.get(parent) {
        names.push(up.name.as_str());
        parent = up.parent_span_id.as_slice();
    }
    names
}

#[tokio::test]
async fn a_visitor_message_is_traced_from_the_socket_through_the_policy_the_model_and_the_store() {
    let redis = RedisServer::start();
    let config = ClusterConfig::new();
    let llm = ScriptedLlm::start().await;
    let receiver = OtlpReceiver::start();
    let env = [
        ("BATON__LLM__BASE_URL", llm.base_url.clone()),
        ("BATON__TRACES__ENABLED", "true".to_owned()),
        ("BATON__TRACES__ENDPOINT", receiver.endpoint.clone()),
        ("BATON__TRACES__SERVICE_NAME", "baton-under-test".to_owned()),
        ("OTEL_BSP_SCHEDULE_DELAY", "100".to_owned()),
    ];
    let node = Node::start_with(&config.dir, &redis, &namespace(), &env).await;
    let (mut visitor, welcome) = node.app.connect_visitor().await;
    let id = welcome["conversation_id"].as_str().unwrap().to_owned();
    visitor.say("m1", "How do I reset my password?").await;
    bot_answer(&mut visitor).await;

    let trace = visitor_message_trace(&receiver, &id).await;
    let by_id: HashMap<&[u8], &ReceivedSpan> = trace.iter().map(|s| (s.span_id.as_slice(), s)).collect();
    for span in &trace {
        assert_eq!(span.attributes.get("conversation_id"), Some(&id), "span {} carries the conversation id", span.name);
        assert_eq!(span.service, "baton-under-test");
        let up = ancestors(span, &by_id);
        assert!(
            span.name == "visitor_frame" || up.last() == Some(&"visitor_frame"),
            "{} under the root: {up:?}",
            span.name
        );
    }
    let paths: Vec<(&str, Vec<&str>)> = trace.iter().map(|s| (s.name.as_str(), ancestors(s, &by_id))).collect();
    let has = |name: &str, under: &str| paths.iter().any(|(n, up)| *n == name && up.first() == Some(&under));
    assert!(has("policy", "visitor_frame"), "the policy judges the message: {paths:?}");
    assert!(has("store.append", "visitor_frame"), "the visitor's message is stored: {paths:?}");
    assert!(has("store.recent_events", "policy"), "the policy reads the transcript: {paths:?}");
    assert!(has("bot_reply", "visitor_frame"), "the bot answers within the message's trace: {paths:?}");
    assert!(has("llm.request", "bot_reply"), "the model is asked: {paths:?}");
    assert!(has("store.append", "bot_reply"), "the bot's reply is stored: {paths:?}");
}

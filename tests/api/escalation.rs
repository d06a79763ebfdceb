//! Live conversations driven to escalation for every reason the policy gives, and `baton
//! signals` reproducing the live decisions on the same transcript.

use std::process::Stdio;

use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;

use crate::helpers::{Client, TestApp, repo_root, spawn_app, spawn_app_with, spawn_app_with_llm};
use crate::scripted_llm::{Script, pieces};

/// Sends `text` and returns the frames up to the first bot message (an answer or an offer
/// of a person) or `state` event, whichever comes first.
async fn say_and_see(visitor: &mut Client, client_id: &str, text: &str) -> Vec<Value> {
    visitor.send(json!({"type": "message", "client_id": client_id, "text": text})).await;
    visitor.collect_until(|f| (f["type"] == "message" && f["from"] != "visitor") || f["type"] == "state").await
}

fn queued_reason(frames: &[Value]) -> Option<&str> {
    frames.iter().find(|f| f["type"] == "state" && f["state"] == "queued").and_then(|f| f["reason"].as_str())
}

async fn escalation_record(app: &TestApp, welcome: &Value) -> Value {
    serde_json::to_value(app.conversation(welcome).await.records.escalation.expect("escalation recorded")).unwrap()
}

#[tokio::test]
async fn an_explicit_request_in_words_escalates_at_once_and_the_bot_stays_silent() {
    let app = spawn_app().await;
    let (mut visitor, welcome) = app.connect_visitor().await;
    let frames = say_and_see(&mut visitor, "m1", "Can I talk to a real person please?").await;
    assert_eq!(queued_reason(&frames), Some("explicit_request"));
    // No agent is online: the one notice says so at once and offers to leave a message
    // (not also "connecting you with a person").
    let nobody = visitor.next_of_type("message").await;
    assert_eq!(nobody["from"], "system");
    assert_eq!(nobody["actions"][0]["id"], "leave_message", "{nobody}");
    let later = visitor.drain(std::time::Duration::from_millis(500)).await;
    assert!(
        later.iter().all(|f| f["type"] != "message" && f["type"] != "bot_delta"),
        "the bot stays silent: {later:?}"
    );
    let record = escalation_record(&app, &welcome).await;
    assert_eq!(record["reason"], "explicit_request");
    assert_eq!(record["signals"]["explicit_request"], true, "the signal values are kept: {record}");
}

#[tokio::test]
async fn a_request_in_chinese_escalates_too() {
    let app = spawn_app().await;
    let (mut visitor, _) = app.connect_visitor().await;
    let frames = say_and_see(&mut visitor, "m1", "转人工").await;
    assert_eq!(queued_reason(&frames), Some("explicit_request"));
}

#[tokio::test]
async fn a_sensitive_topic_escalates_with_its_rule_priority() {
    let app = spawn_app().await;
    let (mut visitor, welcome) = app.connect_visitor().await;
    let frames = say_and_see(&mut visitor, "m1", "I will contact my lawyer and take legal action against you").await;
    assert_eq!(queued_reason(&frames), Some("topic"));
    let record = escalation_record(&app, &welcome).await;
    assert_eq!(record["priority"], 8, "{record}");
    assert_eq!(record["signals"]["topic"]["name"], "legal");
}

#[tokio::test]
async fn growing_frustration_is_offered_a_person_then_escalated() {
    let app = spawn_app().await;
    let (mut visitor, _) = app.connect_visitor().await;
    let first = say_and_see(&mut visitor, "m1", "How do I return an item?").await;
    assert_eq!(queued_reason(&first), None);
    visitor.drain(std::time::Duration::from_millis(300)).await;
    let mut offer_turn =
        say_and_see(&mut visitor, "m2", "This is terrible. Your service is awful and I'm very annoyed.").await;
    assert_eq!(queued_reason(&offer_turn), None, "soft reasons offer first");
    let offer = offer_turn.pop().unwrap();
    assert_eq!(offer["actions"][0]["id"], "talk_to_person", "an apology and the offer, at once: {offer}");
    let worse =
        say_and_see(&mut visitor, "m3", "Absolutely useless!!! Worst shop ever, I am furious and disgusted!!!").await;
    assert_eq!(queued_reason(&worse), Some("negative_sentiment"));
}

#[tokio::test]
async fn low_confidence_escalates_at_once_when_the_site_does_not_offer_first() {
    let app = spawn_app_with(|s| s.sites.iter_mut().for_each(|site| site.escalation.offer_first = false)).await;
    let (mut visitor, _) = app.connect_visitor().await;
    let frames = say_and_see(&mut visitor, "m1", "Can you recommend a good recipe for lasagna with spinach?").await;
    assert_eq!(queued_reason(&frames), Some("low_confidence"));
}

#[tokio::test]
async fn a_question_asked_again_after_the_answer_escalates_as_repeated() {
    let app = spawn_app_with(|s| s.sites.iter_mut().for_each(|site| site.escalation.offer_first = false)).await;
    let (mut visitor, _) = app.connect_visitor().await;
    assert_eq!(queued_reason(&say_and_see(&mut visitor, "m1", "How do I reset my password?").await), None);
    let frames = say_and_see(&mut visitor, "m2", "I still can't reset my password, how do I reset it?").await;
    assert_eq!(queued_reason(&frames), Some("repeated_question"));
}

#[tokio::test]
async fn the_bot_turn_limit_escalates_as_max_turns() {
    let app = spawn_app_with(|s| s.sites.iter_mut().for_each(|site| site.escalation.max_bot_turns = 2)).await;
    let (mut visitor, _) = app.connect_visitor().await;
    assert_eq!(queued_reason(&say_and_see(&mut visitor, "m1", "How do I return an item?").await), None);
    let frames = say_and_see(&mut visitor, "m2", "How long does shipping take?").await;
    assert_eq!(queued_reason(&frames), Some("max_turns"), "the greeting and one answer make two bot turns");
}

#[tokio::test]
async fn repeated_model_failures_escalate_as_bot_error_at_once() {
    let app = spawn_app_with_llm(|s| {
        s.llm.max_retries = 0;
        // No passage is confident enough for the knowledge base to answer instead.
        s.sites.iter_mut().for_each(|site| site.bot.min_confidence = 2.0);
    })
    .await;
    app.llm().push(Script::Status(500));
    app.llm().push(Script::Status(500));
    let (mut visitor, welcome) = app.connect_visitor().await;
    visitor.say("m1", "How do I return an item?").await;
    assert_eq!(visitor.next_bot_message().await["from"], "system");
    visitor.say("m2", "Hello? How do I return an item?").await;
    let frames = visitor.collect_until(|f| f["type"] == "state").await;
    assert_eq!(queued_reason(&frames), Some("bot_error"));
    assert_eq!(app.conversation(&welcome).await.counter(baton::store::Counter::BotErrors), 2);
}

#[tokio::test]
async fn the_model_calling_handoff_to_human_escalates() {
    let app = spawn_app_with_llm(|_| {}).await;
    let arguments = json!({"reason": "the visitor needs a refund exception"}).to_string();
    app.llm().push(Script::ToolCall {
        text: "Let me get a colleague.".into(),
        tool: "handoff_to_human".into(),
        arguments,
    });
    let (mut visitor, welcome) = app.connect_visitor().await;
    visitor.say("m1", "Can you make an exception to the refund policy?").await;
    assert_eq!(visitor.next_bot_message().await["text"], "Let me get a colleague.");
    let state = visitor.next_of_type("state").await;
    assert_eq!(state["reason"], "model_handoff", "the tool's escalation carries its own reason");
    let record = escalation_record(&app, &welcome).await;
    assert!(record["detail"].as_str().unwrap().contains("refund exception"), "{record}");
    let request = app.llm().requests().into_iter().next().unwrap();
    assert_eq!(request["tools"][0]["function"]["name"], "handoff_to_human");
}

#[tokio::test]
async fn token_logprobs_become_the_model_confidence_of_the_next_turn() {
    let app = spawn_app_with_llm(|s| s.llm.logprobs = true).await;
    app.llm().push(Script::WithLogprobs { pieces: pieces(&["Maybe ", "thirty ", "days?"]), logprob: -2.0 });
    let (mut visitor, welcome) = app.connect_visitor().await;
    visitor.say("m1", "How long do I have to return an item?").await;
    visitor.next_bot_message().await;
    let stored = f64::from(app.conversation(&welcome).await.records.model_confidence.unwrap());
    assert!((stored - (-2.0f64).exp()).abs() < 1e-3, "exp(mean logprob), got {stored}");
    visitor.say("m2", "And the refund?").await;
    visitor.next_bot_message().await;
    let signals = serde_json::to_value(app.conversation(&welcome).await.records.signals).unwrap();
    assert!((signals["model_confidence"].as_f64().unwrap() - stored).abs() < 1e-6, "{signals}");
    assert_eq!(app.llm().requests()[0]["logprobs"], true);
}

#[tokio::test]
async fn baton_signals_reproduces_the_live_decisions_on_the_transcript() {
    let app = spawn_app().await;
    let (mut visitor, welcome) = app.connect_visitor().await;
    let said = [
        "How do I return an item?",
        "This is terrible. Your service is awful and I'm very annoyed.",
        "Absolutely useless!!! Worst shop ever, I am furious and disgusted!!!",
    ];
    for (i, text) in said.iter().enumerate() {
        if queued_reason(&say_and_see(&mut visitor, &format!("m{i}"), text).await).is_some() {
            break;
        }
        visitor.drain(std::time::Duration::from_millis(300)).await;
    }
    let events = app.store.log.events_after(app.conversation(&welcome).await.id, 0, 1000).await.unwrap();
    // The transcript as an operator would export it, and the live verdict after each visitor turn.
    let mut turns = Vec::new();
    let mut live = Vec::new();
    for event in &events {
        let value = serde_json::to_value(event.as_ref()).unwrap();
        match (value["type"].as_str(), value["from"].as_str()) {
            (Some("message"), Some(from @ ("visitor" | "bot" | "agent"))) => {
                if from == "visitor" {
                    live.push((turns.len(), None));
                }
                turns.push(json!({"role": from, "text": value["text"]}));
            }
            (Some("state"), _) if value["state"] == "queued" => {
                live.last_mut().unwrap().1 = value["reason"].as_str().map(String::from)
            }
            _ => {}
        }
    }
    assert!(live.iter().any(|(_, reason)| reason.is_some()), "the live conversation escalated: {live:?}");
    let input = json!({"id": "live", "turns": turns}).to_string() + "\n";
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_baton"))
        .args(["signals", "--site", "demo"])
        .env("BATON_CONFIG", repo_root().join("config"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).await.unwrap();
    let output = child.wait_with_output().await.unwrap();
    assert!(output.status.success());
    let lines: Vec<Value> =
        String::from_utf8(output.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), live.len());
    let mut escalated: Option<String> = None;
    for ((turn, reason), line) in live.iter().zip(&lines) {
        escalated = escalated.or(reason.clone());
        assert_eq!(line["turn"].as_u64(), Some(*turn as u64));
        assert_eq!(line["escalate"].as_bool(), Some(escalated.is_some()), "turn {turn}: {line}");
        assert_eq!(line["reason"].as_str(), escalated.as_deref(), "turn {turn}: {line}");
    }
}

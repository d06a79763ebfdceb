use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio::sync::Semaphore;

use crate::helpers::{spawn_app, spawn_app_with_llm};
use crate::scripted_llm::{DEFAULT_REPLY, Script, pieces};

#[tokio::test]
async fn the_offline_bot_answers_a_return_question_from_the_knowledge_base_with_its_source() {
    let app = spawn_app().await;
    let (mut visitor, _) = app.connect_visitor().await;
    visitor.say("q1", "How do I return an item?").await;
    let reply = visitor.next_bot_message().await;
    assert_eq!(reply["from"], "bot");
    let text = reply["text"].as_str().unwrap().to_lowercase();
    assert!(text.contains("return"), "{text}");
    let sources = reply["sources"].as_array().unwrap();
    assert_eq!(sources.len(), 1, "it quotes one passage and cites that one: {sources:?}");
    assert!(sources[0]["url"].as_str().unwrap().contains("returns#how-to-return-an-item"), "{sources:?}");
    assert!(!sources[0]["title"].as_str().unwrap().is_empty());
}

#[tokio::test]
async fn the_offline_bot_says_plainly_when_nothing_matches_and_offers_a_person_in_the_same_message() {
    let app = spawn_app().await;
    let (mut visitor, _) = app.connect_visitor().await;
    visitor.say("q1", "What is the airspeed velocity of an unladen swallow?").await;
    let reply = visitor.next_bot_message().await;
    assert!(reply["text"].as_str().unwrap().contains("couldn't find"), "{reply}");
    assert!(reply.get("sources").is_none());
    assert_eq!(reply["actions"][0]["id"], "talk_to_person", "{reply}");
    // Choosing the quick reply is asking for a person.
    visitor.send(json!({"type": "action", "id": "talk_to_person"})).await;
    let state = visitor.next_of_type("state").await;
    assert_eq!((state["state"].as_str(), state["reason"].as_str()), (Some("queued"), Some("explicit_request")));
}

#[tokio::test]
async fn offline_replies_stream_as_deltas_completed_by_the_message() {
    let app = spawn_app().await;
    let (mut visitor, _) = app.connect_visitor().await;
    visitor.say("q1", "How do I return an item?").await;
    let frames = visitor.collect_until(|f| f["type"] == "message" && f["from"] == "bot").await;
    let reply = frames.last().unwrap();
    let deltas: String =
        frames.iter().filter(|f| f["type"] == "bot_delta").map(|f| f["text"].as_str().unwrap()).collect();
    assert!(frames.iter().filter(|f| f["type"] == "bot_delta").all(|f| f["reply_id"] == reply["id"]));
    assert_eq!(deltas, reply["text"].as_str().unwrap());
}

#[tokio::test]
async fn tokens_reach_the_visitor_while_the_model_is_still_writing() {
    let app = spawn_app_with_llm(|_| {}).await;
    let gate = Arc::new(Semaphore::new(0));
    app.llm()
        .push(Script::Gated { pieces: pieces(&["You can ", "return items ", "within 30 days."]), gate: gate.clone() });
    let (mut visitor, _) = app.connect_visitor().await;
    visitor.say("q1", "How do I return an item?").await;
    let first = visitor.next_of_type("bot_delta").await;
    // The last word of a piece waits for the next (it may be a half-written citation).
    assert_eq!(first["text"], "You can");
    // The model has not written the rest yet: nothing more can have arrived.
    visitor.assert_silent(Duration::from_millis(300)).await;
    gate.add_permits(1);
    assert_eq!(visitor.next_of_type("bot_delta").await["text"], " return items");
    gate.add_permits(1);
    let reply = visitor.next_bot_message().await;
    assert_eq!(reply["text"], "You can return items within 30 days.");
    assert_eq!(reply["id"], first["reply_id"]);
}

#[tokio::test]
async fn the_prompt_carries_the_persona_the_knowledge_and_the_transcript() {
    let app = spawn_app_with_llm(|_| {}).await;
    let (mut visitor, _) = app.connect_visitor().await;
    visitor.say("q1", "Do you ship to Canada?").await;
    visitor.next_bot_message().await;
    visitor.say("q2", "How do I return an item?").await;
    visitor.next_bot_message().await;
    let request = app.llm().requests().pop().unwrap();
    assert_eq!(request["stream"], true);
    assert_eq!(request["model"], "scripted");
    let messages = request["messages"].as_array().unwrap();
    let system = messages[0]["content"].as_str().unwrap();
    assert!(system.contains("Northwind Goods") && system.contains("Knowledge base excerpts"), "{system}");
    assert!(system.to_lowercase().contains("return"), "the returns passage is in the prompt");
    let turns: Vec<(&str, &str)> =
        messages[1..].iter().map(|m| (m["role"].as_str().unwrap(), m["content"].as_str().unwrap())).collect();
    assert_eq!(turns.last(), Some(&("user", "How do I return an item?")));
    assert!(turns.contains(&("user", "Do you ship to Canada?")));
    assert!(turns.contains(&("assistant", DEFAULT_REPLY)));
}

async fn assert_failure_then_recovery(
    script: Script,
    expected_requests: usize,
    tweak: impl FnOnce(&mut baton::config::Settings),
) {
    let app = spawn_app_with_llm(|s| {
        // No passage is confident enough for the knowledge base to answer instead.
        s.sites.iter_mut().for_each(|site| site.bot.min_confidence = 2.0);
        tweak(s);
    })
    .await;
    app.llm().push(script);
    let (mut visitor, _) = app.connect_visitor().await;
    visitor.say("q1", "How do I return an item?").await;
    let frames = visitor.collect_until(|f| f["type"] == "message" && f["from"] != "visitor").await;
    let apology = frames.last().unwrap();
    assert_eq!(apology["from"], "system");
    assert!(apology["text"].as_str().unwrap().contains("trouble"), "{apology}");
    assert_eq!(app.llm().requests().len(), expected_requests, "bounded retries");
    if let Some(delta) = frames.iter().find(|f| f["type"] == "bot_delta") {
        let cancelled = frames.iter().find(|f| f["type"] == "bot_cancelled").expect("a started reply is cut off");
        assert_eq!(cancelled["reply_id"], delta["reply_id"]);
    }
    visitor.say("q2", "And how long does a refund take?").await;
    assert_eq!(visitor.next_bot_message().await["text"], DEFAULT_REPLY);
}

#[tokio::test]
async fn a_model_timeout_tells_the_visitor_and_the_next_question_works() {
    assert_failure_then_recovery(Script::Hang, 1, |s| {
        s.llm.first_token_timeout_secs = 1;
        s.llm.max_retries = 0;
    })
    .await;
}

#[tokio::test]
async fn a_model_5xx_tells_the_visitor_after_bounded_retries_and_the_next_question_works() {
    assert_failure_then_recovery(Script::Status(500), 1, |s| s.llm.max_retries = 0).await;
}

#[tokio::test]
async fn a_broken_stream_cuts_the_reply_and_the_next_question_works() {
    assert_failure_then_recovery(Script::Break { pieces: pieces(&["You can ", "ret"]) }, 1, |_| {}).await;
}

#[tokio::test]
async fn a_transient_5xx_is_retried_before_anything_reaches_the_visitor() {
    let app = spawn_app_with_llm(|s| s.llm.max_retries = 2).await;
    app.llm().push(Script::Status(503));
    app.llm().push(Script::Status(502));
    let (mut visitor, _) = app.connect_visitor().await;
    visitor.say("q1", "How do I return an item?").await;
    assert_eq!(visitor.next_bot_message().await["text"], DEFAULT_REPLY);
    assert_eq!(app.llm().requests().len(), 3);
}

#[tokio::test]
async fn ending_the_conversation_cancels_a_streaming_reply() {
    let app = spawn_app_with_llm(|_| {}).await;
    let gate = Arc::new(Semaphore::new(0));
    app.llm().push(Script::Gated { pieces: pieces(&["Partial ", "answer"]), gate: gate.clone() });
    let (mut visitor, _) = app.connect_visitor().await;
    visitor.say("q1", "How do I return an item?").await;
    let delta = visitor.next_of_type("bot_delta").await;
    visitor.send(json!({"type": "end"})).await;
    let frames = visitor.collect_until(|f| f["type"] == "bot_cancelled").await;
    assert_eq!(frames.last().unwrap()["reply_id"], delta["reply_id"]);
    assert!(frames.iter().any(|f| f["type"] == "state" && f["state"] == "resolved"));
    // The server says the chat ended (its notice may come either side of the cancel).
    if !frames.iter().any(|f| f["from"] == "system") {
        visitor.collect_until(|f| f["from"] == "system").await;
    }
    gate.add_permits(5);
    // The rest of the model's reply never reaches the visitor, nor is it stored.
    visitor.assert_silent(Duration::from_millis(300)).await;
}

#[tokio::test]
async fn questions_sent_while_a_reply_streams_are_answered_by_one_more_reply() {
    let app = spawn_app_with_llm(|_| {}).await;
    let gate = Arc::new(Semaphore::new(0));
    app.llm().push(Script::Gated { pieces: pieces(&["First ", "answer."]), gate: gate.clone() });
    let (mut visitor, _) = app.connect_visitor().await;
    visitor.say("q1", "How do I return an item?").await;
    visitor.next_of_type("bot_delta").await;
    visitor.say("q2", "Also, do you ship to Canada?").await;
    visitor.say("q3", "And to Norway?").await;
    gate.add_permits(1);
    assert_eq!(visitor.next_bot_message().await["text"], "First answer.");
    assert_eq!(visitor.next_bot_message().await["text"], DEFAULT_REPLY);
    visitor.assert_silent(Duration::from_millis(500)).await;
    assert_eq!(app.llm().requests().len(), 2);
}

//! Issue #14 through the real socket path, against the scripted server with a real local
//! server's habits (`Behaviour`, see `docs/real-model.md`): strict chat templates, one slot,
//! `max_tokens`, 404s, tools ignored, log-probabilities that need `top_logprobs`.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::Semaphore;

use crate::helpers::{Client, TestApp, agent, spawn_app_with, spawn_app_with_llm};
use crate::scripted_llm::{Behaviour, DEFAULT_REPLY, Script, pieces, roles};

const GREETING: &str = "Hi! I'm Nori, Northwind Goods' assistant. Ask me about orders, shipping, returns or payments, \
                        or ask for a person at any time.";

/// A system message first, then user and assistant alternating from the user.
fn assert_alternates(request: &Value) {
    let roles = roles(request);
    assert_eq!(roles.first().map(String::as_str), Some("system"), "{roles:?}");
    for (i, role) in roles[1..].iter().enumerate() {
        assert_eq!(role, if i % 2 == 0 { "user" } else { "assistant" }, "{roles:?}");
    }
    assert_eq!(roles.last().map(String::as_str), Some("user"), "{roles:?}");
}

async fn strict_app(tweak: impl FnOnce(&mut baton::config::Settings)) -> TestApp {
    let app = spawn_app_with_llm(tweak).await;
    app.llm().set_behaviour(Behaviour::llama_cpp());
    app
}

fn no_confident_passage(s: &mut baton::config::Settings) {
    s.sites.iter_mut().for_each(|site| site.bot.min_confidence = 2.0);
}

/// Frames until the next `message` not from the visitor; returns them all.
async fn until_reply(visitor: &mut Client) -> Vec<Value> {
    visitor.collect_until(|f| f["type"] == "message" && f["from"] != "visitor").await
}

#[tokio::test]
async fn a_strict_template_gets_alternating_turns_after_the_greeting_an_offer_and_a_burst() {
    let app = strict_app(|_| {}).await;
    let (mut visitor, _) = app.connect_visitor().await;
    // A question the knowledge base does not cover: the answer, then the policy's offer.
    visitor.say("q1", "What is the airspeed velocity of an unladen swallow?").await;
    assert_eq!(visitor.next_bot_message().await["text"], DEFAULT_REPLY);
    let offer = visitor.next_bot_message().await;
    assert_eq!(offer["actions"][0]["id"], "talk_to_person", "{offer}");
    // Two questions while a reply streams.
    let gate = Arc::new(Semaphore::new(0));
    app.llm()
        .push(Script::Gated { pieces: pieces(&["Sure thing: returns ", "take ", "30 days."]), gate: gate.clone() });
    visitor.say("q2", "How do I return an item?").await;
    visitor.next_of_type("bot_delta").await;
    visitor.say("q3", "Do you ship to Canada?").await;
    visitor.say("q4", "And to Norway?").await;
    gate.add_permits(5);
    assert_eq!(visitor.next_bot_message().await["text"], "Sure thing: returns take 30 days.");
    assert_eq!(visitor.next_bot_message().await["text"], DEFAULT_REPLY, "answered, not the apology");
    let requests = app.llm().requests();
    assert_eq!(requests.len(), 3);
    requests.iter().for_each(assert_alternates);
    let last = requests.last().unwrap()["messages"].as_array().unwrap().clone();
    assert!(last.iter().all(|m| !m["content"].as_str().unwrap().contains("Hi! I'm Nori")), "no greeting: {last:?}");
    assert!(last.last().unwrap()["content"].as_str().unwrap().contains("Canada?\n\nAnd to Norway?"));
}

#[tokio::test]
async fn the_models_echo_of_its_prompt_never_reaches_the_visitor_and_sources_are_the_cited_ones() {
    let app = strict_app(|_| {}).await;
    let reply = format!(
        "{GREETING}\nYou can return an item within 30 days [1].\nSee https://northwind.example/help/returns#how-to-return-an-item"
    );
    app.llm().push(Script::Reply { pieces: vec![reply], delay: Duration::ZERO });
    let (mut visitor, _) = app.connect_visitor().await;
    visitor.say("q1", "How do I return an item?").await;
    let frames = until_reply(&mut visitor).await;
    let message = frames.last().unwrap();
    assert_eq!(message["text"], "You can return an item within 30 days.\nSee", "{message}");
    let deltas: String =
        frames.iter().filter(|f| f["type"] == "bot_delta").filter_map(|f| f["text"].as_str()).collect();
    assert!(!deltas.contains("Hi! I'm Nori"), "{deltas}");
    let sources = message["sources"].as_array().expect("the cited passage is the source");
    assert_eq!(sources.len(), 1, "{sources:?}");
    let system = app.llm().requests()[0]["messages"][0]["content"].as_str().unwrap().to_owned();
    assert!(system.contains("<passage 1:") && !system.contains("https://"), "fenced, without URLs: {system}");
    // An answer that cites nothing lists no sources.
    app.llm().push(Script::Reply { pieces: pieces(&["Anything else?"]), delay: Duration::ZERO });
    visitor.say("q2", "How do I return an item, again?").await;
    assert!(visitor.next_bot_message().await.get("sources").is_none());
}

#[tokio::test]
async fn an_empty_reply_or_a_pure_echo_is_asked_for_again_once() {
    let app = strict_app(|_| {}).await;
    app.llm().push(Script::Reply { pieces: vec![], delay: Duration::ZERO });
    let (mut visitor, _) = app.connect_visitor().await;
    visitor.say("q1", "How do I return an item?").await;
    assert_eq!(visitor.next_bot_message().await["text"], DEFAULT_REPLY);
    assert_eq!(app.llm().requests().len(), 2);
    app.llm().push(Script::Reply { pieces: vec![GREETING.to_owned()], delay: Duration::ZERO });
    visitor.say("q2", "And how long does a refund take?").await;
    assert_eq!(visitor.next_bot_message().await["text"], DEFAULT_REPLY);
    assert_eq!(app.llm().requests().len(), 4);
}

#[tokio::test]
async fn a_reply_cut_at_max_tokens_is_stored_marked_as_cut() {
    let app = strict_app(|s| s.sites.iter_mut().for_each(|site| site.llm.max_tokens = Some(2))).await;
    app.llm().push(Script::Reply {
        pieces: pieces(&["You can ", "return items ", "within 30 days."]),
        delay: Duration::ZERO,
    });
    let (mut visitor, _) = app.connect_visitor().await;
    visitor.say("q1", "How do I return an item?").await;
    let text = visitor.next_bot_message().await["text"].as_str().unwrap().to_owned();
    assert!(text.starts_with("You can return items") && text.contains("cut short"), "{text}");
}

#[tokio::test]
async fn a_full_endpoint_queues_the_reply_as_typing_and_its_first_token_timeout_starts_at_the_slot() {
    let app = strict_app(|s| {
        s.llm.max_concurrent = 1;
        s.llm.first_token_timeout_secs = 1;
        s.llm.timeout_secs = 5;
    })
    .await;
    // Each piece within the first-token timeout; the whole reply well past it.
    let slow = pieces(&["First ", "answer ", "takes ", "a ", "while."]);
    app.llm().push(Script::Reply { pieces: slow, delay: Duration::from_millis(500) });
    let (mut first, _) = app.connect_visitor().await;
    first.say("a1", "How do I return an item?").await;
    first.next_of_type("bot_delta").await;
    let (mut second, _) = app.connect_visitor().await;
    second.say("b1", "Do you ship to Canada?").await;
    assert_eq!(second.next_of_type("typing").await["on"], true, "the wait shows as typing");
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(app.llm().requests().len(), 1, "one request at a time");
    assert_eq!(first.next_bot_message().await["text"], "First answer takes a while.");
    assert_eq!(second.next_bot_message().await["text"], DEFAULT_REPLY, "queued, not timed out");
}

#[tokio::test]
async fn a_404_is_not_retried_and_the_knowledge_base_answers_instead_when_it_can() {
    let app = spawn_app_with_llm(|s| s.llm.max_retries = 2).await;
    app.llm().set_behaviour(Behaviour::default().not_found());
    let (mut visitor, _) = app.connect_visitor().await;
    visitor.say("q1", "How do I return an item?").await;
    let frames = until_reply(&mut visitor).await;
    let reply = frames.last().unwrap();
    assert_eq!(reply["from"], "bot", "the offline answerer, not an apology: {reply}");
    assert!(reply["text"].as_str().unwrap().contains("return"), "{reply}");
    assert_eq!(reply["sources"].as_array().map(Vec::len), Some(1));
    assert_eq!(app.llm().requests().len(), 1, "a 404 is final");
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 200, "the model's state never fails readiness");
    assert!(ready.text().await.unwrap().contains("404"));
}

#[tokio::test]
async fn one_failed_turn_that_escalates_with_nobody_there_gets_one_notice() {
    let app = spawn_app_with_llm(|s| {
        s.llm.max_retries = 0;
        no_confident_passage(s);
        s.sites.iter_mut().for_each(|site| site.escalation.max_bot_errors = 1);
    })
    .await;
    app.llm().push(Script::Status(500));
    let (mut visitor, _) = app.connect_visitor().await;
    visitor.say("q1", "How do I return an item?").await;
    visitor.next_of_type("state").await;
    let frames = visitor.drain(Duration::from_millis(700)).await;
    let notices: Vec<&Value> = frames.iter().filter(|f| f["type"] == "message" && f["from"] == "system").collect();
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert_eq!(notices[0]["actions"][0]["id"], "leave_message", "nobody is online: {}", notices[0]);
}

#[tokio::test]
async fn a_refused_connection_is_reported_and_readiness_says_so_without_failing() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let app = spawn_app_with(|s| {
        s.llm.base_url = Some(format!("http://127.0.0.1:{port}/v1"));
        s.llm.max_retries = 0;
        no_confident_passage(s);
    })
    .await;
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 200);
    assert!(ready.text().await.unwrap().contains("unreachable"));
    let (mut visitor, _) = app.connect_visitor().await;
    visitor.say("q1", "How do I return an item?").await;
    let apology = until_reply(&mut visitor).await.pop().unwrap();
    assert_eq!(apology["from"], "system");
    assert!(apology["text"].as_str().unwrap().contains("trouble"), "{apology}");
}

#[tokio::test]
async fn log_probabilities_are_asked_for_as_llama_cpp_needs_them() {
    let app = strict_app(|s| s.llm.logprobs = true).await;
    app.llm().push(Script::WithLogprobs { pieces: pieces(&["Returns ", "take 30 days."]), logprob: -0.05 });
    let (mut visitor, welcome) = app.connect_visitor().await;
    visitor.say("q1", "How do I return an item?").await;
    visitor.next_bot_message().await;
    let request = &app.llm().requests()[0];
    assert_eq!((request["logprobs"].clone(), request["top_logprobs"].clone()), (json!(true), json!(0)));
    assert!(app.conversation(&welcome).await.records.model_confidence.is_some());
}

#[tokio::test]
async fn the_handoff_tool_escalates_with_its_own_reason_in_llama_cpps_chunks() {
    let app = spawn_app_with_llm(|_| {}).await;
    app.llm().set_behaviour(Behaviour::default().llama_cpp_tool_calls());
    let arguments = json!({"reason": "wants a refund exception"}).to_string();
    app.llm().push(Script::ToolCall { text: String::new(), tool: "handoff_to_human".into(), arguments });
    let (mut visitor, welcome) = app.connect_visitor().await;
    visitor.say("q1", "Can you make an exception to the refund policy?").await;
    assert_eq!(visitor.next_of_type("state").await["reason"], "model_handoff");
    let record = app.conversation(&welcome).await.records.escalation.unwrap();
    assert!(record.detail.contains("wants a refund exception"), "{}", record.detail);
}

#[tokio::test]
async fn a_server_that_ignores_tools_still_escalates_on_the_policys_other_signals() {
    let app = strict_app(|_| {}).await;
    let (mut visitor, _) = app.connect_visitor().await;
    visitor.say("q1", "Can I talk to a real person please?").await;
    assert_eq!(visitor.next_of_type("state").await["reason"], "explicit_request");
}

/// Ana (manual routing) and a visitor who asked for a person, with the model hanging.
async fn hanging_model_and_a_queued_chat() -> (TestApp, Client, Value) {
    let app = spawn_app_with_llm(|s| {
        s.agents = vec![agent("ana", "token-ana", &["support"], 2)];
        s.sites.iter_mut().for_each(|site| site.handoff.routing = baton::config::Routing::Manual);
    })
    .await;
    for _ in 0..4 {
        app.llm().push(Script::Hang);
    }
    let (ana, _) = app.connect_agent("token-ana").await;
    let (_, welcome) = app.escalated_visitor().await;
    (app, ana, welcome)
}

#[tokio::test]
async fn views_ready_and_assigned_never_wait_on_a_slow_model() {
    let (app, mut ana, welcome) = hanging_model_and_a_queued_chat().await;
    let id = welcome["conversation_id"].clone();
    ana.send(json!({"type": "accept", "conversation_id": id})).await;
    // The model hangs (first-token timeout 20 s): the view comes at once all the same.
    let assigned = tokio::time::timeout(Duration::from_secs(5), ana.next_of_type("assigned")).await.expect("at once");
    assert_eq!(assigned["conversation"]["summary_source"], "extractive");
    // Accepting again (the window between routing and the click) is no error for its holder.
    ana.send(json!({"type": "accept", "conversation_id": id})).await;
    let frames = ana.drain(Duration::from_millis(500)).await;
    assert!(frames.iter().all(|f| f["type"] != "error"), "{frames:?}");
    let (_, ready) =
        tokio::time::timeout(Duration::from_secs(5), app.connect_agent("token-ana")).await.expect("ready at once");
    assert_eq!(ready["conversations"][0]["conversation_id"], id);
}

#[tokio::test]
async fn an_echoed_summary_falls_back_to_the_extractive_one_marked_as_such() {
    let app = spawn_app_with_llm(|s| {
        s.agents = vec![agent("ana", "token-ana", &["support"], 2)];
        s.sites.iter_mut().for_each(|site| site.handoff.routing = baton::config::Routing::Manual);
    })
    .await;
    let echo =
        "You help the support team of Northwind Goods. Summarise the conversation below for the person taking it over";
    app.llm().push(Script::Reply { pieces: vec![echo.to_owned()], delay: Duration::ZERO });
    let (mut ana, _) = app.connect_agent("token-ana").await;
    app.escalated_visitor().await;
    let summary = ana.next_of_type("summary").await;
    assert_eq!(summary["source"], "extractive", "{summary}");
    assert!(!summary["text"].as_str().unwrap().contains("Summarise"), "{summary}");
}

#[tokio::test]
async fn a_usable_model_summary_and_drafts_arrive_as_frames_marked_model() {
    let app = spawn_app_with_llm(|s| s.agents = vec![agent("ana", "token-ana", &["support"], 2)]).await;
    let (mut ana, _) = app.connect_agent("token-ana").await;
    let (mut visitor, _) = app.connect_visitor().await;
    visitor.say("q0", "How do I return an item?").await;
    visitor.next_bot_message().await;
    // The summary and the drafts are asked for at about the same time: one script fits both.
    for _ in 0..2 {
        let text = "Wants to return a parcel; calm.\nI can start one now.";
        app.llm().push(Script::Reply { pieces: vec![text.to_owned()], delay: Duration::ZERO });
    }
    visitor.send(json!({"type": "request_human"})).await;
    // They are independent: either may come first.
    let (mut summary, mut suggestions) = (None, None);
    while summary.is_none() || suggestions.is_none() {
        let frame = ana.next_frame().await;
        match frame["type"].as_str() {
            Some("summary") => summary = Some(frame),
            Some("suggestions") => suggestions = Some(frame),
            _ => {}
        }
    }
    let (summary, suggestions) = (summary.unwrap(), suggestions.unwrap());
    assert_eq!(summary["source"], "model", "{summary}");
    assert!(summary["text"].as_str().unwrap().starts_with("Wants to return a parcel"), "{summary}");
    assert_eq!(suggestions["source"], "model", "{suggestions}");
    assert_eq!(suggestions["replies"][1], "I can start one now.");
}

#[tokio::test]
async fn a_summary_cut_at_the_time_limit_keeps_what_arrived_and_is_marked_model() {
    let app = spawn_app_with_llm(|s| {
        s.llm.assist_timeout_secs = 1;
        s.agents = vec![agent("ana", "token-ana", &["support"], 2)];
        s.sites.iter_mut().for_each(|site| site.handoff.routing = baton::config::Routing::Manual);
    })
    .await;
    // Far slower than the limit: the first words arrive at once, the last ones seconds later.
    let mut words = pieces(&["Wants to return ", "a parcel; ", "calm."]);
    words.extend((0..8).map(|i| format!(" slow{i}")));
    app.llm().push(Script::Reply { pieces: words, delay: Duration::from_millis(400) });
    let (mut ana, _) = app.connect_agent("token-ana").await;
    app.escalated_visitor().await;
    let summary = ana.next_of_type("summary").await;
    assert_eq!(summary["source"], "model", "what arrived is usable: {summary}");
    let text = summary["text"].as_str().unwrap();
    assert!(text.starts_with("Wants to return"), "{summary}");
    assert!(!text.contains("slow7"), "cut at the limit, not waited out: {summary}");
}

#[tokio::test]
async fn a_summary_cut_with_only_an_echo_arrived_falls_back_marked_extractive() {
    let app = spawn_app_with_llm(|s| {
        s.llm.assist_timeout_secs = 1;
        s.agents = vec![agent("ana", "token-ana", &["support"], 2)];
        s.sites.iter_mut().for_each(|site| site.handoff.routing = baton::config::Routing::Manual);
    })
    .await;
    // The instructions parroted before the cut; the model's own words too late to count.
    let echo =
        "You help the support team of Northwind Goods. Summarise the conversation below for the person taking it over";
    let mut words = vec![echo.to_owned()];
    words.extend((0..4).map(|i| format!(" late{i}")));
    app.llm().push(Script::Reply { pieces: words, delay: Duration::from_millis(1500) });
    let (mut ana, _) = app.connect_agent("token-ana").await;
    app.escalated_visitor().await;
    let summary = ana.next_of_type("summary").await;
    assert_eq!(summary["source"], "extractive", "{summary}");
    let text = summary["text"].as_str().unwrap();
    assert!(!text.contains("late") && !text.contains("Summarise"), "{summary}");
}

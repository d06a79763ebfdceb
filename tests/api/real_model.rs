//! Against a real local model (opt-in: `scripts/test --real-model`, which starts
//! llama-cpp-python's server with Gemma 3 270M and sets `BATON_REAL_MODEL_URL` and
//! `BATON_REAL_MODEL_NAME`; see `docs/real-model.md`). Every test is `#[ignore]`d, so the
//! ordinary run and CI skip them. They assert structure (who speaks, which frames, in what
//! order, within generous bounds), never wording: the model's words vary. The bench prints
//! time to first token and per-token intervals through Baton next to a direct call.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{Client, TestApp, agent, spawn_app_with};
use crate::scripted_llm::ScriptedLlm;

/// A real model on two shared cores: a long prompt can take many seconds before its first token.
const REPLY_WAIT: Duration = Duration::from_secs(180);
const QUESTION: &str = "How do I return an item?";

fn server() -> (String, String) {
    let url = std::env::var("BATON_REAL_MODEL_URL").expect("BATON_REAL_MODEL_URL (run: scripts/test --real-model)");
    let name = std::env::var("BATON_REAL_MODEL_NAME").unwrap_or_else(|_| "gemma-3-270m".into());
    (url, name)
}

/// Settings for a one-slot local server; `base_url` is the real one or the recorder's.
fn local_model(base_url: String, model: String) -> impl FnOnce(&mut baton::config::Settings) {
    move |s| {
        s.llm.base_url = Some(base_url);
        s.llm.model = model;
        s.llm.max_concurrent = 1;
        s.llm.first_token_timeout_secs = 120;
        s.llm.timeout_secs = 120;
        s.llm.queue_timeout_secs = 300;
        s.llm.max_tokens = 60;
        s.llm.temperature = 0.0;
        s.agents = vec![agent("ana", "token-ana", &["support"], 2)];
        s.sites.iter_mut().for_each(|site| site.llm.max_tokens = Some(60));
    }
}

async fn real_app() -> TestApp {
    let (url, name) = server();
    spawn_app_with(local_model(url, name)).await
}

/// The next frame, waiting as long as a real model needs (the helpers wait 10 s).
async fn patient(client: &mut Client) -> Value {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    loop {
        let message = tokio::time::timeout(REPLY_WAIT, client.ws.next()).await.expect("a frame in time");
        match message.expect("socket open").expect("frame") {
            Message::Text(text) => return serde_json::from_str(&text).expect("JSON frame"),
            Message::Close(close) => panic!("closed: {close:?}"),
            _ => {}
        }
    }
}

async fn patient_of_type(client: &mut Client, kind: &str) -> Value {
    loop {
        let frame = patient(client).await;
        if frame["type"] == kind {
            return frame;
        }
    }
}

/// Frames until the next message from the bot or Baton.
async fn reply(visitor: &mut Client) -> Vec<Value> {
    let mut frames = Vec::new();
    loop {
        let frame = patient(visitor).await;
        let done = frame["type"] == "message" && frame["from"] != "visitor";
        frames.push(frame);
        if done {
            return frames;
        }
    }
}

#[tokio::test]
#[ignore = "needs a real local model: scripts/test --real-model"]
async fn real_model_visitor_gets_streamed_answers_not_apologies() {
    let app = real_app().await;
    let (mut visitor, _) = app.connect_visitor().await;
    visitor.say("q1", QUESTION).await;
    let frames = reply(&mut visitor).await;
    let message = frames.last().unwrap();
    assert_eq!(message["from"], "bot", "an answer, not the apology: {message}");
    assert!(!message["text"].as_str().unwrap().trim().is_empty());
    assert!(!message["text"].as_str().unwrap().contains("Hi! I'm Nori"), "no echo of the greeting: {message}");
    assert!(frames.iter().any(|f| f["type"] == "bot_delta"), "streamed token by token");
    // The next turn: the transcript now holds the greeting, a question and an answer.
    visitor.say("q2", "And how long does a refund take?").await;
    let second = reply(&mut visitor).await.pop().unwrap();
    assert_eq!(second["from"], "bot", "{second}");
}

#[tokio::test]
#[ignore = "needs a real local model: scripts/test --real-model"]
async fn real_model_questions_sent_while_a_reply_streams_are_answered_after_it() {
    let app = real_app().await;
    let (mut visitor, _) = app.connect_visitor().await;
    visitor.say("q1", QUESTION).await;
    patient_of_type(&mut visitor, "bot_delta").await;
    visitor.say("q2", "Do you ship to Canada?").await;
    visitor.say("q3", "And to Norway?").await;
    assert_eq!(reply(&mut visitor).await.pop().unwrap()["from"], "bot");
    assert_eq!(reply(&mut visitor).await.pop().unwrap()["from"], "bot", "the burst is answered, not apologised for");
}

#[tokio::test]
#[ignore = "needs a real local model: scripts/test --real-model"]
async fn real_model_agent_views_come_at_once_and_the_summary_follows() {
    let app = real_app().await;
    let (mut ana, _) = app.connect_agent("token-ana").await;
    let (mut visitor, _) = app.connect_visitor().await;
    visitor.say("q1", QUESTION).await;
    reply(&mut visitor).await;
    let asked = Instant::now();
    visitor.send(json!({"type": "request_human"})).await;
    // Routing gives Ana the chat while the model is busy writing its summary.
    let assigned = tokio::time::timeout(Duration::from_secs(10), ana.next_of_type("assigned")).await;
    let assigned = assigned.expect("the view does not wait on the model");
    println!("assigned after {:?}", asked.elapsed());
    assert_eq!(assigned["conversation"]["summary_source"], "extractive");
    let summary = patient_of_type(&mut ana, "summary").await;
    println!("summary ({}) after {:?}: {}", summary["source"], asked.elapsed(), summary["text"]);
    assert!(["model", "extractive"].contains(&summary["source"].as_str().unwrap()));
    assert!(!summary["text"].as_str().unwrap().contains("Summarise the conversation"), "never the instructions");
}

#[tokio::test]
#[ignore = "needs a real local model: scripts/test --real-model"]
async fn real_model_bench_time_to_first_token_through_baton_and_direct() {
    let (url, name) = server();
    // The exact request Baton sends for this question, recorded by the scripted server.
    let recorder = ScriptedLlm::start().await;
    let recording = spawn_app_with(local_model(recorder.base_url.clone(), name.clone())).await;
    let (mut visitor, _) = recording.connect_visitor().await;
    visitor.say("q1", QUESTION).await;
    visitor.next_bot_message().await;
    let request = recorder.requests().pop().expect("Baton's request");
    let app = real_app().await;
    direct(&url, &request).await; // warms the prompt cache for both
    let (mut baton, mut plain) = (Vec::new(), Vec::new());
    for i in 0..3 {
        plain.push(direct(&url, &request).await);
        baton.push(through_baton(&app, i).await);
    }
    for (label, runs) in [("direct", &plain), ("baton", &baton)] {
        for (ttft, gaps) in runs.iter() {
            let mean = gaps.iter().sum::<Duration>().checked_div(gaps.len().max(1) as u32).unwrap_or_default();
            let last = *ttft + gaps.iter().sum::<Duration>();
            println!(
                "BENCH {label}: first token {ttft:?}, last {last:?}, {} more pieces, mean gap {mean:?}",
                gaps.len()
            );
        }
    }
}

/// Time to the first content piece and the gaps between pieces, straight from the server.
async fn direct(url: &str, request: &Value) -> (Duration, Vec<Duration>) {
    let start = Instant::now();
    let mut response =
        reqwest::Client::new().post(format!("{url}/chat/completions")).json(request).send().await.expect("direct call");
    let (mut times, mut buffer) = (Vec::new(), String::new());
    while let Some(bytes) = response.chunk().await.expect("stream") {
        buffer.push_str(&String::from_utf8_lossy(&bytes));
        while let Some(end) = buffer.find("\n\n") {
            let event: String = buffer.drain(..end + 2).collect();
            let Some(data) = event.trim().strip_prefix("data: ") else { continue };
            let Ok(chunk) = serde_json::from_str::<Value>(data) else { continue };
            if chunk["choices"][0]["delta"]["content"].as_str().is_some_and(|c| !c.is_empty()) {
                times.push(start.elapsed());
            }
        }
    }
    timings(&times)
}

/// The same through a visitor socket: from sending the question to each `bot_delta`.
async fn through_baton(app: &TestApp, run: usize) -> (Duration, Vec<Duration>) {
    let (mut visitor, _) = app.connect_visitor().await;
    let start = Instant::now();
    visitor.say(&format!("bench{run}"), QUESTION).await;
    let mut times = Vec::new();
    loop {
        let frame = patient(&mut visitor).await;
        match frame["type"].as_str() {
            Some("bot_delta") => times.push(start.elapsed()),
            Some("message") if frame["from"] != "visitor" => break,
            _ => {}
        }
    }
    timings(&times)
}

fn timings(times: &[Duration]) -> (Duration, Vec<Duration>) {
    let first = times.first().copied().unwrap_or_default();
    (first, times.windows(2).map(|w| w[1] - w[0]).collect())
}

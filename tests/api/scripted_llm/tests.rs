//! The scripted server's strict behaviours, checked over real HTTP against what
//! `docs/real-model.md` recorded from llama-cpp-python's server.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::sync::Semaphore;

use super::*;

fn chat(roles: &[&str]) -> Value {
    let messages: Vec<Value> = roles.iter().map(|r| json!({"role": r, "content": "hi"})).collect();
    json!({"model": MODEL, "stream": true, "messages": messages})
}

async fn send(llm: &ScriptedLlm, body: &Value) -> reqwest::Response {
    let request = reqwest::Client::new().post(format!("{}/chat/completions", llm.base_url)).json(body);
    request.send().await.expect("scripted server answers")
}

async fn post(llm: &ScriptedLlm, body: &Value) -> (u16, String) {
    let response = send(llm, body).await;
    (response.status().as_u16(), response.text().await.expect("body"))
}

/// Starts a stream and reads its first chunk, so the stream holds the slot; returns the rest.
async fn first_chunk_then_rest(llm: &ScriptedLlm) -> (String, tokio::task::JoinHandle<String>) {
    let mut response = send(llm, &chat(&["user"])).await;
    let first = response.chunk().await.unwrap().expect("a first chunk");
    let first = String::from_utf8(first.to_vec()).unwrap();
    (first, tokio::spawn(async move { response.text().await.unwrap() }))
}

/// The `data:` payloads of an SSE body, `[DONE]` included.
fn events(body: &str) -> Vec<String> {
    body.lines().filter_map(|l| l.strip_prefix("data: ")).map(str::to_owned).collect()
}

fn finish_reasons(body: &str) -> Vec<String> {
    let chunks = events(body).into_iter().filter_map(|e| serde_json::from_str::<Value>(&e).ok());
    chunks.filter_map(|c| c["choices"][0]["finish_reason"].as_str().map(str::to_owned)).collect()
}

fn text(body: &str) -> String {
    let chunks = events(body).into_iter().filter_map(|e| serde_json::from_str::<Value>(&e).ok());
    chunks.filter_map(|c| c["choices"][0]["delta"]["content"].as_str().map(str::to_owned)).collect()
}

#[tokio::test]
async fn strict_roles_answer_a_greeting_first_transcript_as_llama_cpp_does() {
    let llm = ScriptedLlm::start_with(Behaviour::default().strict_roles()).await;
    let (status, body) = post(&llm, &chat(&["system", "assistant", "user"])).await;
    assert_eq!((status, body.as_str()), (200, ""), "streamed: 200 and not one event, not even [DONE]");

    let mut unstreamed = chat(&["system", "assistant", "user"]);
    unstreamed["stream"] = json!(false);
    let (status, body) = post(&llm, &unstreamed).await;
    assert_eq!(status, TEMPLATE_ERROR_STATUS);
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["error"]["message"], ALTERNATION_ERROR);
    assert_eq!(body["error"]["type"], "internal_server_error");

    let (status, body) = post(&llm, &chat(&["system", "user"])).await;
    assert_eq!((status, text(&body).as_str()), (200, DEFAULT_REPLY));
    assert_eq!(roles(&llm.requests()[0]), ["system", "assistant", "user"], "rejected requests are recorded too");
}

#[tokio::test]
async fn without_strict_roles_any_order_is_answered() {
    let llm = ScriptedLlm::start().await;
    let (status, _) = post(&llm, &chat(&["system", "assistant", "assistant", "user", "user"])).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn max_tokens_cuts_the_reply_with_finish_reason_length() {
    let llm = ScriptedLlm::start_with(Behaviour::default().honour_max_tokens()).await;
    let mut body = chat(&["user"]);
    body["max_tokens"] = json!(2);
    let (_, sse) = post(&llm, &body).await;
    assert_eq!(text(&sse), "This is the scripted ");
    assert_eq!(finish_reasons(&sse), ["length"]);

    body["max_tokens"] = json!(3);
    let (_, sse) = post(&llm, &body).await;
    assert_eq!(finish_reasons(&sse), ["stop"], "a reply that fits stops as usual");
}

#[tokio::test]
async fn a_slow_server_waits_before_the_first_piece_and_between_pieces() {
    let behaviour = Behaviour::default().slow(Duration::from_millis(200), Duration::from_millis(50));
    let llm = ScriptedLlm::start_with(behaviour).await;
    let started = Instant::now();
    let (_, sse) = post(&llm, &chat(&["user"])).await;
    assert_eq!(text(&sse), DEFAULT_REPLY);
    assert!(started.elapsed() >= Duration::from_millis(300), "200 ms, then 2 × 50 ms");
}

#[tokio::test]
async fn in_interrupt_mode_a_second_request_ends_the_first_stream_early() {
    let llm = ScriptedLlm::start_with(Behaviour::default().one_slot(SlotMode::Interrupt)).await;
    let gate = Arc::new(Semaphore::new(0));
    llm.push(Script::Gated { pieces: pieces(&["First ", "reply."]), gate: gate.clone() });
    let (first_chunk, rest) = first_chunk_then_rest(&llm).await;
    let (_, second) = post(&llm, &chat(&["user"])).await;
    let first = first_chunk + &rest.await.unwrap();
    assert_eq!(text(&first), "First ", "cut before the gated piece");
    assert!(finish_reasons(&first).is_empty(), "no finish reason, only [DONE]");
    assert_eq!(events(&first).last().map(String::as_str), Some("[DONE]"));
    assert_eq!(text(&second), DEFAULT_REPLY);
}

#[tokio::test]
async fn in_queue_mode_a_second_request_waits_for_the_first_stream() {
    let llm = ScriptedLlm::start_with(Behaviour::default().one_slot(SlotMode::Queue)).await;
    let gate = Arc::new(Semaphore::new(0));
    llm.push(Script::Gated { pieces: pieces(&["First ", "reply."]), gate: gate.clone() });
    let (first_chunk, rest) = first_chunk_then_rest(&llm).await;
    let second = tokio::spawn({
        let llm = llm.clone();
        async move { post(&llm, &chat(&["user"])).await }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!second.is_finished(), "queued behind the first");
    gate.add_permits(1);
    assert_eq!(text(&(first_chunk + &rest.await.unwrap())), "First reply.");
    assert_eq!(text(&second.await.unwrap().1), DEFAULT_REPLY);
}

#[tokio::test]
async fn llama_cpp_tool_calls_repeat_the_id_and_name_on_every_piece() {
    let llm = ScriptedLlm::start_with(Behaviour::default().llama_cpp_tool_calls()).await;
    let arguments = r#"{"reason": "asked for a person"}"#;
    llm.push(Script::ToolCall { text: String::new(), tool: "handoff".into(), arguments: arguments.into() });
    let (_, sse) = post(&llm, &chat(&["user"])).await;
    let chunks: Vec<Value> = events(&sse).iter().filter_map(|e| serde_json::from_str(e).ok()).collect();
    let calls: Vec<&Value> = chunks.iter().filter_map(|c| c["choices"][0]["delta"]["tool_calls"].get(0)).collect();
    assert!(calls.len() > 2, "one piece per few bytes of arguments");
    assert!(calls.iter().all(|c| c["function"]["name"] == "handoff" && c["id"] == calls[0]["id"]));
    assert!(chunks[0]["choices"][0]["delta"]["tool_calls"].is_null(), "a lead chunk with the role only");
    let joined: String = calls.iter().map(|c| c["function"]["arguments"].as_str().unwrap()).collect();
    assert_eq!(joined, arguments);
    assert_eq!(finish_reasons(&sse), ["tool_calls"]);
}

#[tokio::test]
async fn a_server_that_ignores_tools_streams_only_the_text() {
    let llm = ScriptedLlm::start_with(Behaviour::default().ignore_tools()).await;
    llm.push(Script::ToolCall { text: "Let me get someone.".into(), tool: "handoff".into(), arguments: "{}".into() });
    let (_, sse) = post(&llm, &chat(&["user"])).await;
    assert_eq!(text(&sse), "Let me get someone.");
    assert!(!sse.contains("tool_calls"));

    llm.push(Script::ToolCall { text: String::new(), tool: "handoff".into(), arguments: "{}".into() });
    let mut forced = chat(&["user"]);
    forced["tool_choice"] = json!({"type": "function", "function": {"name": "handoff"}});
    let (_, sse) = post(&llm, &forced).await;
    assert_eq!(finish_reasons(&sse), ["tool_calls"], "a tool_choice naming the function is obeyed");
}

#[tokio::test]
async fn logprobs_come_only_with_top_logprobs_when_the_server_needs_it() {
    let llm = ScriptedLlm::start_with(Behaviour::default().logprobs_need_top_logprobs()).await;
    let script = Script::WithLogprobs { pieces: pieces(&["Maybe."]), logprob: -2.0 };
    let mut body = chat(&["user"]);
    body["logprobs"] = json!(true);
    llm.push(script.clone());
    assert!(!post(&llm, &body).await.1.contains("\"logprob\""), "logprobs: true alone gets none");
    body["top_logprobs"] = json!(1);
    llm.push(script);
    assert!(post(&llm, &body).await.1.contains("\"logprob\":-2.0"));
}

#[tokio::test]
async fn models_lists_the_scripted_model_until_everything_answers_404() {
    let llm = ScriptedLlm::start().await;
    let models: Value = reqwest::get(format!("{}/models", llm.base_url)).await.unwrap().json().await.unwrap();
    assert_eq!(models["data"][0]["id"], MODEL);
    let root = llm.base_url.trim_end_matches("/v1");
    let response = reqwest::Client::new().post(format!("{root}/chat/completions")).json(&chat(&["user"])).send();
    assert_eq!(response.await.unwrap().status(), 404, "a base URL without /v1");

    llm.set_behaviour(Behaviour::default().not_found());
    assert_eq!(post(&llm, &chat(&["user"])).await.0, 404);
    assert_eq!(reqwest::get(format!("{}/models", llm.base_url)).await.unwrap().status(), 404);
    assert_eq!(llm.requests().len(), 2, "both chat requests recorded");
}

#[tokio::test]
async fn the_llama_cpp_preset_has_every_strict_habit() {
    let behaviour = Behaviour::llama_cpp();
    assert!(behaviour.strict_roles && behaviour.honour_max_tokens && behaviour.llama_cpp_tool_calls);
    assert!(behaviour.ignore_tools && behaviour.logprobs_need_top_logprobs);
    assert_eq!(behaviour.slot, SlotMode::Queue);
    assert!(!behaviour.not_found);
}

//! A scripted OpenAI-compatible server: real HTTP, real SSE streaming. Each request to
//! `POST /v1/chat/completions` takes the next script from the queue (or the default reply),
//! and every request body is recorded for the test to inspect.

use std::collections::VecDeque;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::web::Bytes;
use actix_web::{App, HttpResponse, HttpServer, web};
use futures_util::stream::{self, StreamExt};
use tokio::sync::Semaphore;

#[derive(Clone)]
pub enum Script {
    /// Streams these pieces with `delay` before each.
    Reply { pieces: Vec<String>, delay: Duration },
    /// Streams the first piece, then waits for the gate before each further piece.
    Gated { pieces: Vec<String>, gate: Arc<Semaphore> },
    /// Answers with this HTTP status and an OpenAI-style error body.
    Status(u16),
    /// Accepts the request and never answers.
    Hang,
    /// Streams these pieces, then breaks the connection without finishing the stream.
    Break { pieces: Vec<String> },
    /// Streams `text`, then a call to `tool` whose JSON arguments arrive in two pieces.
    ToolCall { text: String, tool: String, arguments: String },
    /// Streams these pieces, each with this token log-probability.
    WithLogprobs { pieces: Vec<String>, logprob: f32 },
}

#[derive(Clone, Default)]
pub struct ScriptedLlm {
    scripts: Arc<Mutex<VecDeque<Script>>>,
    requests: Arc<Mutex<Vec<serde_json::Value>>>,
    pub base_url: String,
}

pub const DEFAULT_REPLY: &str = "This is the scripted model's answer.";

impl ScriptedLlm {
    pub async fn start() -> ScriptedLlm {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind scripted llm");
        let port = listener.local_addr().unwrap().port();
        let llm = ScriptedLlm { base_url: format!("http://127.0.0.1:{port}/v1"), ..Default::default() };
        let state = llm.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(web::Data::new(state.clone()))
                .route("/v1/chat/completions", web::post().to(completions))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .unwrap()
        .run();
        tokio::spawn(server);
        llm
    }

    pub fn push(&self, script: Script) {
        self.scripts.lock().unwrap().push_back(script);
    }

    pub fn requests(&self) -> Vec<serde_json::Value> {
        self.requests.lock().unwrap().clone()
    }
}

pub fn pieces(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| (*w).to_owned()).collect()
}

async fn completions(body: web::Json<serde_json::Value>, llm: web::Data<ScriptedLlm>) -> HttpResponse {
    llm.requests.lock().unwrap().push(body.into_inner());
    let script = llm.scripts.lock().unwrap().pop_front();
    let script = script.unwrap_or_else(|| Script::Reply {
        pieces: pieces(&["This is ", "the scripted ", "model's answer."]),
        delay: Duration::ZERO,
    });
    match script {
        Script::Status(code) => HttpResponse::build(actix_web::http::StatusCode::from_u16(code).unwrap())
            .json(serde_json::json!({"error": {"message": "scripted failure", "type": "server_error", "param": null, "code": null}})),
        Script::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            HttpResponse::Ok().finish()
        }
        Script::Reply { pieces, delay } => sse(stream::iter(pieces).then(move |p| async move {
            tokio::time::sleep(delay).await;
            Ok::<_, std::io::Error>(chunk(&p))
        }).chain(stream::iter([Ok(done_chunk()), Ok(Bytes::from_static(b"data: [DONE]\n\n"))]))),
        Script::Gated { pieces, gate } => sse(stream::iter(pieces.into_iter().enumerate()).then(move |(i, p)| {
            let gate = gate.clone();
            async move {
                if i > 0 {
                    gate.acquire().await.unwrap().forget();
                }
                Ok::<_, std::io::Error>(chunk(&p))
            }
        }).chain(stream::iter([Ok(done_chunk()), Ok(Bytes::from_static(b"data: [DONE]\n\n"))]))),
        Script::ToolCall { text, tool, arguments } => {
            let (first, second) = arguments.split_at(arguments.len() / 2);
            let call = |name: Option<&str>, args: &str| {
                let function = match name {
                    Some(name) => serde_json::json!({"name": name, "arguments": args}),
                    None => serde_json::json!({"arguments": args}),
                };
                let delta = serde_json::json!({"tool_calls": [{"index": 0, "id": name.map(|_| "call_1"), "type": "function", "function": function}]});
                event(delta, None)
            };
            let mut frames = Vec::new();
            if !text.is_empty() {
                frames.push(chunk(&text));
            }
            frames.extend([call(Some(&tool), first), call(None, second), event(serde_json::json!({}), Some("tool_calls"))]);
            frames.push(Bytes::from_static(b"data: [DONE]\n\n"));
            sse(stream::iter(frames.into_iter().map(Ok::<_, std::io::Error>)))
        }
        Script::WithLogprobs { pieces, logprob } => {
            let mut frames: Vec<Bytes> = pieces.iter().map(|p| {
                let logprobs = serde_json::json!({"content": [{"token": p, "logprob": logprob, "bytes": null, "top_logprobs": []}]});
                event_with(serde_json::json!({"content": p}), None, Some(logprobs))
            }).collect();
            frames.extend([done_chunk(), Bytes::from_static(b"data: [DONE]\n\n")]);
            sse(stream::iter(frames.into_iter().map(Ok::<_, std::io::Error>)))
        }
        Script::Break { pieces } => sse(stream::iter(pieces).map(|p| Ok(chunk(&p))).chain(stream::once(async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            Err(std::io::Error::other("scripted break"))
        }))),
    }
}

fn sse<S: futures_util::Stream<Item = Result<Bytes, std::io::Error>> + 'static>(body: S) -> HttpResponse {
    HttpResponse::Ok().content_type("text/event-stream").insert_header(("cache-control", "no-cache")).streaming(body)
}

fn event(delta: serde_json::Value, finish_reason: Option<&str>) -> Bytes {
    event_with(delta, finish_reason, None)
}

fn event_with(delta: serde_json::Value, finish_reason: Option<&str>, logprobs: Option<serde_json::Value>) -> Bytes {
    let json = serde_json::json!({
        "id": "chatcmpl-scripted", "object": "chat.completion.chunk", "created": 0, "model": "scripted",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": logprobs}]
    });
    Bytes::from(format!("data: {json}\n\n"))
}

fn chunk(piece: &str) -> Bytes {
    let json = serde_json::json!({
        "id": "chatcmpl-scripted", "object": "chat.completion.chunk", "created": 0, "model": "scripted",
        "choices": [{"index": 0, "delta": {"role": "assistant", "content": piece}, "finish_reason": null}]
    });
    Bytes::from(format!("data: {json}\n\n"))
}

fn done_chunk() -> Bytes {
    let json = serde_json::json!({
        "id": "chatcmpl-scripted", "object": "chat.completion.chunk", "created": 0, "model": "scripted",
        "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]
    });
    Bytes::from(format!("data: {json}\n\n"))
}

//! A scripted OpenAI-compatible server: real HTTP, real SSE streaming. Each request to
//! `POST /v1/chat/completions` takes the next script from the queue (or the default reply),
//! and every request body is recorded for the test to inspect. `POST /v1/embeddings` answers
//! word-count vectors with the synonyms a test gives (`embeddings.rs`).
//!
//! By default it is as lenient as a hosted API. A [`Behaviour`] makes it as strict as
//! llama-cpp-python's server with a real model (see `docs/real-model.md`): templates that
//! reject non-alternating roles, one generation slot, `max_tokens`, slow tokens, its tool-call
//! chunks, no log-probabilities without `top_logprobs`, and a base URL that answers 404.
//!
//! ```ignore
//! let llm = ScriptedLlm::start_with(Behaviour::default().strict_roles().one_slot(SlotMode::Queue)).await;
//! // or, on the model `spawn_app_with_llm` started:
//! app.llm().set_behaviour(Behaviour::llama_cpp());
//! ```

mod embeddings;
mod frames;
mod roles;
mod slot;
#[cfg(test)]
mod tests;

use std::collections::VecDeque;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::web::Bytes;
use actix_web::{App, HttpResponse, HttpServer, web};
use futures_util::stream::{self, StreamExt};
use serde_json::{Value, json};
use tokio::sync::Semaphore;

use roles::template_error;
pub use roles::{ALTERNATION_ERROR, TEMPLATE_ERROR_STATUS};
pub use slot::SlotMode;
use slot::{Slot, SlotGuard};

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

/// Which of a real local server's habits the scripted one has. The default has none (every
/// existing test relies on that); each builder method turns one on.
#[derive(Clone, Debug, Default)]
pub struct Behaviour {
    /// Reject transcripts a strict chat template rejects (`roles.rs`) as llama-cpp-python does:
    /// a streamed request gets 200 and an event stream that ends with no event at all.
    pub strict_roles: bool,
    /// One generation slot, interrupting or queueing a second request.
    pub slot: SlotMode,
    /// Stop after the request's `max_tokens` pieces with `finish_reason: "length"`.
    pub honour_max_tokens: bool,
    /// Waited before the first piece, once the slot is free (the prompt's processing); the
    /// response headers come at once, as llama-cpp-python sends them.
    pub first_piece_delay: Duration,
    /// Waited before each piece after the first.
    pub piece_delay: Duration,
    /// Tool-call chunks in llama-cpp-python's shape (`frames::llama_cpp_tool_call`).
    pub llama_cpp_tool_calls: bool,
    /// `Script::ToolCall` streams only its text, as a chat format that ignores `tools` does.
    pub ignore_tools: bool,
    /// `Script::WithLogprobs` streams no log-probabilities unless the request set
    /// `top_logprobs`: llama-cpp-python ignores `logprobs: true` alone.
    pub logprobs_need_top_logprobs: bool,
    /// Every path answers 404, as a server does when the base URL lacks `/v1`.
    pub not_found: bool,
    /// No usage chunk even when `stream_options.include_usage` asks for one, as servers
    /// that predate it do.
    pub ignore_usage: bool,
}

impl Behaviour {
    /// All of llama-cpp-python's habits with `--chat_format gemma3-official
    /// --interrupt_requests false`, except its speed.
    pub fn llama_cpp() -> Behaviour {
        Behaviour::default()
            .strict_roles()
            .one_slot(SlotMode::Queue)
            .honour_max_tokens()
            .llama_cpp_tool_calls()
            .ignore_tools()
            .logprobs_need_top_logprobs()
    }

    pub fn strict_roles(mut self) -> Behaviour {
        self.strict_roles = true;
        self
    }

    pub fn one_slot(mut self, mode: SlotMode) -> Behaviour {
        self.slot = mode;
        self
    }

    pub fn honour_max_tokens(mut self) -> Behaviour {
        self.honour_max_tokens = true;
        self
    }

    /// `first` before the first piece, `each` before each later one.
    pub fn slow(mut self, first: Duration, each: Duration) -> Behaviour {
        self.first_piece_delay = first;
        self.piece_delay = each;
        self
    }

    pub fn llama_cpp_tool_calls(mut self) -> Behaviour {
        self.llama_cpp_tool_calls = true;
        self
    }

    pub fn ignore_tools(mut self) -> Behaviour {
        self.ignore_tools = true;
        self
    }

    pub fn logprobs_need_top_logprobs(mut self) -> Behaviour {
        self.logprobs_need_top_logprobs = true;
        self
    }

    pub fn ignore_usage(mut self) -> Behaviour {
        self.ignore_usage = true;
        self
    }

    pub fn not_found(mut self) -> Behaviour {
        self.not_found = true;
        self
    }
}

#[derive(Clone, Default)]
pub struct ScriptedLlm {
    scripts: Arc<Mutex<VecDeque<Script>>>,
    requests: Arc<Mutex<Vec<Value>>>,
    behaviour: Arc<Mutex<Behaviour>>,
    slot: Slot,
    embeddings: Arc<Mutex<embeddings::Embeddings>>,
    pub base_url: String,
}

pub const DEFAULT_REPLY: &str = "This is the scripted model's answer.";

/// The model `/v1/models` lists.
pub const MODEL: &str = "scripted";

impl ScriptedLlm {
    pub async fn start() -> ScriptedLlm {
        ScriptedLlm::start_with(Behaviour::default()).await
    }

    pub async fn start_with(behaviour: Behaviour) -> ScriptedLlm {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind scripted llm");
        let port = listener.local_addr().unwrap().port();
        let llm = ScriptedLlm { base_url: format!("http://127.0.0.1:{port}/v1"), ..Default::default() };
        llm.set_behaviour(behaviour);
        let state = llm.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(web::Data::new(state.clone()))
                .route("/v1/chat/completions", web::post().to(completions))
                .route("/v1/models", web::get().to(models))
                .route("/v1/embeddings", web::post().to(embeddings::embeddings))
                .default_service(web::to(not_found))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .unwrap()
        .run();
        tokio::spawn(server);
        llm
    }

    /// Changes how the server behaves from the next request on.
    pub fn set_behaviour(&self, behaviour: Behaviour) {
        *self.behaviour.lock().unwrap() = behaviour;
    }

    pub fn push(&self, script: Script) {
        self.scripts.lock().unwrap().push_back(script);
    }

    /// Every request body received, in order, whatever the server answered (404s too).
    pub fn requests(&self) -> Vec<Value> {
        self.requests.lock().unwrap().clone()
    }

    fn behaviour(&self) -> Behaviour {
        self.behaviour.lock().unwrap().clone()
    }
}

pub fn pieces(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| (*w).to_owned()).collect()
}

/// The roles of a recorded request's messages, in order.
pub fn roles(request: &Value) -> Vec<String> {
    let messages = request["messages"].as_array().map(Vec::as_slice).unwrap_or_default();
    messages.iter().map(|m| m["role"].as_str().unwrap_or("").to_owned()).collect()
}

async fn completions(body: web::Json<Value>, llm: web::Data<ScriptedLlm>) -> HttpResponse {
    let request = body.into_inner();
    llm.requests.lock().unwrap().push(request.clone());
    let behaviour = llm.behaviour();
    if behaviour.not_found {
        return not_found_response();
    }
    let script = llm.scripts.lock().unwrap().pop_front();
    let script = script.unwrap_or_else(|| Script::Reply {
        pieces: pieces(&["This is ", "the scripted ", "model's answer."]),
        delay: Duration::ZERO,
    });
    match script {
        Script::Status(code) => HttpResponse::build(actix_web::http::StatusCode::from_u16(code).unwrap()).json(
            json!({"error": {"message": "scripted failure", "type": "server_error", "param": null, "code": null}}),
        ),
        Script::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            HttpResponse::Ok().finish()
        }
        script => {
            let messages = request["messages"].as_array().map(Vec::as_slice).unwrap_or_default();
            let rejected = behaviour.strict_roles && roles::check_roles(messages).is_err();
            if rejected && request["stream"] != true {
                return template_error(ALTERNATION_ERROR);
            }
            let plan = if rejected { None } else { Some(plan(script, &request, &behaviour)) };
            sse(stream_when_served(plan, llm.slot.clone(), behaviour.slot, behaviour.first_piece_delay))
        }
    }
}

async fn models(llm: web::Data<ScriptedLlm>) -> HttpResponse {
    if llm.behaviour().not_found {
        return not_found_response();
    }
    // llama-cpp-python's shape, `owned_by` and all.
    HttpResponse::Ok().json(
        json!({"object": "list", "data": [{"id": MODEL, "object": "model", "owned_by": "me", "permissions": []}]}),
    )
}

async fn not_found(body: web::Bytes, llm: web::Data<ScriptedLlm>) -> HttpResponse {
    if let Ok(request) = serde_json::from_slice::<Value>(&body) {
        llm.requests.lock().unwrap().push(request);
    }
    not_found_response()
}

/// FastAPI's (llama-cpp-python's) answer for a path it has no route for.
fn not_found_response() -> HttpResponse {
    HttpResponse::NotFound().json(json!({"detail": "Not Found"}))
}

/// One generated piece: counted against `max_tokens`, and the point where a stream waits
/// (`delay`, then the gate) and where an interrupt can cut in.
struct Piece {
    frame: Bytes,
    delay: Duration,
    gate: Option<Arc<Semaphore>>,
}

/// How a stream ends once its pieces are sent.
enum End {
    Finish(&'static str),
    Break,
}

struct Plan {
    pieces: VecDeque<Piece>,
    end: End,
    /// The usage chunk sent after the finish, when the request asked for one.
    usage: Option<Bytes>,
}

/// The pieces a script streams for this request under this behaviour.
fn plan(script: Script, request: &Value, behaviour: &Behaviour) -> Plan {
    let text = |pieces: Vec<String>, delay: Duration| -> VecDeque<Piece> {
        pieces.iter().map(|p| Piece { frame: frames::text(p), delay, gate: None }).collect()
    };
    let (mut pieces, mut end) = match script {
        Script::Reply { pieces, delay } => (text(pieces, delay), End::Finish("stop")),
        Script::Gated { pieces, gate } => {
            let mut pieces = text(pieces, Duration::ZERO);
            pieces.iter_mut().skip(1).for_each(|p| p.gate = Some(gate.clone()));
            (pieces, End::Finish("stop"))
        }
        Script::Break { pieces } => (text(pieces, Duration::ZERO), End::Break),
        // Even a chat format that ignores `tools` obeys a `tool_choice` naming a function.
        Script::ToolCall { text: words, .. } if behaviour.ignore_tools && !request["tool_choice"].is_object() => {
            (text(vec![words], Duration::ZERO), End::Finish("stop"))
        }
        Script::ToolCall { text: words, tool, arguments } => {
            let mut pieces = if words.is_empty() { VecDeque::new() } else { text(vec![words], Duration::ZERO) };
            let frames = if behaviour.llama_cpp_tool_calls {
                frames::llama_cpp_tool_call(&tool, &arguments)
            } else {
                frames::openai_tool_call(&tool, &arguments)
            };
            pieces.extend(frames.into_iter().map(|frame| Piece { frame, delay: Duration::ZERO, gate: None }));
            (pieces, End::Finish("tool_calls"))
        }
        Script::WithLogprobs { pieces, .. }
            if behaviour.logprobs_need_top_logprobs && request["top_logprobs"].is_null() =>
        {
            (text(pieces, Duration::ZERO), End::Finish("stop"))
        }
        Script::WithLogprobs { pieces, logprob } => {
            let frames = pieces.iter().map(|p| frames::text_with_logprob(p, logprob));
            (frames.map(|frame| Piece { frame, delay: Duration::ZERO, gate: None }).collect(), End::Finish("stop"))
        }
        Script::Status(_) | Script::Hang => unreachable!("answered without a stream"),
    };
    let limit = request["max_tokens"].as_u64().or_else(|| request["max_completion_tokens"].as_u64());
    let limit = limit.filter(|_| behaviour.honour_max_tokens).and_then(|l| usize::try_from(l).ok());
    if let Some(limit) = limit.filter(|&limit| pieces.len() > limit) {
        pieces.truncate(limit);
        end = End::Finish("length");
    }
    pieces.iter_mut().skip(1).for_each(|p| p.delay += behaviour.piece_delay);
    let usage = (request["stream_options"]["include_usage"] == true && !behaviour.ignore_usage)
        .then(|| frames::usage(pieces.len() as u64));
    Plan { pieces, end, usage }
}

/// As llama-cpp-python's server streams: the headers at once, then, inside the stream, the
/// wait for the slot, the template (a rejected transcript ends the stream with no event at
/// all), the prompt (`first_piece_delay`), and the pieces.
fn stream_when_served(
    plan: Option<Plan>,
    slot: Slot,
    mode: SlotMode,
    first_piece_delay: Duration,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> {
    stream::once(async move {
        let guard = slot.enter(mode).await;
        let plan = plan?;
        tokio::time::sleep(first_piece_delay).await;
        Some(render(plan, guard))
    })
    .filter_map(std::future::ready)
    .flatten()
}

/// Streams the plan while holding the slot; an interrupt ends it with a bare `[DONE]`.
fn render(plan: Plan, guard: SlotGuard) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> {
    stream::unfold(Some((plan, guard)), |state| async move {
        let (mut plan, mut guard) = state?;
        let Some(piece) = plan.pieces.pop_front() else {
            return match plan.end {
                End::Finish(reason) => {
                    let usage = plan.usage.unwrap_or_default();
                    Some((Ok([frames::finish(reason).as_ref(), usage.as_ref(), frames::DONE].concat().into()), None))
                }
                End::Break => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    Some((Err(std::io::Error::other("scripted break")), None))
                }
            };
        };
        let wait = async {
            tokio::time::sleep(piece.delay).await;
            if let Some(gate) = &piece.gate {
                gate.acquire().await.unwrap().forget();
            }
        };
        let cut = tokio::select! {
            () = wait => false,
            () = guard.interrupted() => true,
        } || guard.is_interrupted();
        if cut {
            return Some((Ok(Bytes::from_static(frames::DONE)), None));
        }
        Some((Ok(piece.frame), Some((plan, guard))))
    })
}

fn sse<S: futures_util::Stream<Item = Result<Bytes, std::io::Error>> + 'static>(body: S) -> HttpResponse {
    HttpResponse::Ok().content_type("text/event-stream").insert_header(("cache-control", "no-cache")).streaming(body)
}

//! Bot streaming: a scripted OpenAI-compatible SSE server in this process (one token every
//! `interval`; each token's text is the time it was emitted), reached directly and through
//! Baton.
//!
//! - Time to first token: direct = request sent → first content chunk; through Baton =
//!   visitor `message` sent → first `bot_delta`. Added = the difference.
//! - Per-token latency: the token's emission stamp → the visitor reading its `bot_delta`.
//! - Concurrency: many visitors (one conversation each; Baton answers one reply at a time per
//!   conversation) ask at once; the model server counts streams open at the same time.

use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use actix_web::web::Bytes;
use actix_web::{App, HttpResponse, HttpServer, web};
use futures_util::{StreamExt, stream};
use hdrhistogram::Histogram;
use serde_json::json;

use crate::client::{self, Ws};
use crate::report::{self, Latency};
use crate::sys;

const QUESTION: &str = "How long does shipping take, and what does it cost?";
const STAMP: &str = "\"content\":\"<";
const DELTA_STAMP: &str = "\"text\":\"<";

/// How the scripted model answers.
#[derive(Clone, Copy)]
pub struct Script {
    pub tokens: usize,
    pub interval: Duration,
}

#[derive(Default)]
pub struct Gauge {
    active: AtomicUsize,
    pub max_active: AtomicUsize,
}

pub struct ScriptedModel {
    pub base_url: String,
    pub gauge: Arc<Gauge>,
    script: Arc<std::sync::RwLock<Script>>,
}

impl ScriptedModel {
    pub fn start(script: Script) -> anyhow::Result<ScriptedModel> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let gauge = Arc::new(Gauge::default());
        let script = Arc::new(std::sync::RwLock::new(script));
        let state = (gauge.clone(), script.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(web::Data::new(state.clone()))
                .route("/v1/chat/completions", web::post().to(completions))
        })
        .workers(1)
        .tcp_nodelay(true)
        .backlog(4096)
        .max_connections(100_000)
        .disable_signals()
        .listen(listener)?
        .run();
        tokio::spawn(server);
        Ok(ScriptedModel { base_url: format!("http://127.0.0.1:{port}/v1"), gauge, script })
    }

    pub fn set_script(&self, script: Script) {
        *self.script.write().unwrap_or_else(|p| p.into_inner()) = script;
    }

    pub fn reset_gauge(&self) {
        self.gauge.max_active.store(0, Ordering::Relaxed);
    }
}

type ModelState = (Arc<Gauge>, Arc<std::sync::RwLock<Script>>);

/// Decrements the gauge when the stream ends or the client goes away.
struct Active(Arc<Gauge>);

impl Drop for Active {
    fn drop(&mut self) {
        self.0.active.fetch_sub(1, Ordering::Relaxed);
    }
}

async fn completions(_body: Bytes, state: web::Data<ModelState>) -> HttpResponse {
    let (gauge, script) = state.get_ref().clone();
    let script = *script.read().unwrap_or_else(|p| p.into_inner());
    let now = gauge.active.fetch_add(1, Ordering::Relaxed) + 1;
    gauge.max_active.fetch_max(now, Ordering::Relaxed);
    let active = Arc::new(Active(gauge));
    let tokens = stream::iter(0..script.tokens).then(move |_| {
        let active = active.clone();
        async move {
            tokio::time::sleep(script.interval).await;
            let _keep = active;
            Ok::<_, std::io::Error>(chunk(
                &json!({"role": "assistant", "content": format!("<{}> ", sys::now_ns())}),
                None,
            ))
        }
    });
    let end = stream::iter([Ok(chunk(&json!({}), Some("stop"))), Ok(Bytes::from_static(b"data: [DONE]\n\n"))]);
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("cache-control", "no-cache"))
        .streaming(tokens.chain(end))
}

fn chunk(delta: &serde_json::Value, finish_reason: Option<&str>) -> Bytes {
    let event = json!({
        "id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 0, "model": "scripted",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}]
    });
    Bytes::from(format!("data: {event}\n\n"))
}

/// Every emission stamp after `marker` in `text`.
fn stamps<'a>(text: &'a str, marker: &'a str) -> impl Iterator<Item = u64> + 'a {
    text.match_indices(marker).filter_map(move |(at, _)| client::stamp_after(&text[at..], marker))
}

pub struct StreamRun {
    pub ttft: Latency,
    pub per_token: Latency,
    pub failed: usize,
}

/// `samples` requests straight to the model, one at a time.
pub async fn direct(model: &ScriptedModel, samples: usize) -> anyhow::Result<StreamRun> {
    let http = reqwest::Client::new();
    let url = format!("{}/chat/completions", model.base_url);
    let body =
        json!({"model": "scripted", "stream": true, "messages": [{"role": "user", "content": QUESTION}]}).to_string();
    let (mut ttft, mut per_token) = (report::histogram(), report::histogram());
    for _ in 0..samples {
        let started = Instant::now();
        let mut response = http.post(&url).header("content-type", "application/json").body(body.clone()).send().await?;
        let mut first = true;
        while let Some(bytes) = response.chunk().await? {
            let text = String::from_utf8_lossy(&bytes);
            let now = sys::now_ns();
            for stamp in stamps(&text, STAMP) {
                if first {
                    ttft.saturating_record(micros(started.elapsed()));
                    first = false;
                }
                per_token.saturating_record((now.saturating_sub(stamp) / 1_000).max(1));
            }
        }
    }
    Ok(StreamRun { ttft: Latency::from_histogram(&ttft), per_token: Latency::from_histogram(&per_token), failed: 0 })
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX).max(1)
}

/// One visitor question through Baton: TTFT and the per-token latencies of its reply.
async fn ask(ws: &mut Ws, ttft: &mut Histogram<u64>, per_token: &mut Histogram<u64>, n: usize) -> anyhow::Result<()> {
    let started = Instant::now();
    client::send(ws, json!({"type": "message", "client_id": format!("q{n}"), "text": QUESTION})).await?;
    let mut first = true;
    loop {
        let frame = client::next_json(ws).await?;
        match frame["type"].as_str() {
            Some("bot_delta") => {
                let now = sys::now_ns();
                if first {
                    ttft.saturating_record(micros(started.elapsed()));
                    first = false;
                }
                let text = frame.to_string();
                for stamp in stamps(&text, DELTA_STAMP) {
                    per_token.saturating_record((now.saturating_sub(stamp) / 1_000).max(1));
                }
            }
            Some("message") if frame["from"] == "bot" => return Ok(()),
            Some("message") if frame["from"] == "system" => anyhow::bail!("the bot failed: {}", frame["text"]),
            Some("state") => anyhow::bail!("the conversation left the bot: {frame}"),
            _ => {}
        }
    }
}

/// `samples` questions through Baton, one at a time, each from a new visitor.
pub async fn through_baton(port: u16, samples: usize) -> anyhow::Result<StreamRun> {
    let (mut ttft, mut per_token) = (report::histogram(), report::histogram());
    let mut failed = 0;
    for n in 0..samples {
        let (mut ws, _) = client::visitor(port, "demo").await?;
        if ask(&mut ws, &mut ttft, &mut per_token, n).await.is_err() {
            failed += 1;
        }
        let _ = ws.close(None).await;
    }
    Ok(StreamRun { ttft: Latency::from_histogram(&ttft), per_token: Latency::from_histogram(&per_token), failed })
}

pub struct ConcurrentRun {
    pub streams: usize,
    pub completed: usize,
    pub max_active: usize,
    pub run: StreamRun,
}

/// `streams` visitors ask at the same moment.
pub async fn concurrent(port: u16, model: &ScriptedModel, streams: usize) -> anyhow::Result<ConcurrentRun> {
    let visitors: Vec<Ws> = stream::iter(0..streams)
        .map(|_| async move { client::visitor(port, "demo").await.map(|(ws, _)| ws) })
        .buffer_unordered(128)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<anyhow::Result<_>>()?;
    model.reset_gauge();
    let go = Arc::new(tokio::sync::Barrier::new(streams));
    let tasks: Vec<_> = visitors
        .into_iter()
        .enumerate()
        .map(|(n, mut ws)| {
            let go = go.clone();
            tokio::spawn(async move {
                let (mut ttft, mut per_token) = (report::histogram(), report::histogram());
                go.wait().await;
                let ok = ask(&mut ws, &mut ttft, &mut per_token, n).await.is_ok();
                let _ = ws.close(None).await;
                (ok, ttft, per_token)
            })
        })
        .collect();
    let (mut ttft, mut per_token) = (report::histogram(), report::histogram());
    let mut completed = 0;
    for task in tasks {
        if let Ok((ok, t, p)) = task.await {
            completed += usize::from(ok);
            let _ = ttft.add(&t);
            let _ = per_token.add(&p);
        }
    }
    Ok(ConcurrentRun {
        streams,
        completed,
        max_active: model.gauge.max_active.load(Ordering::Relaxed),
        run: StreamRun {
            ttft: Latency::from_histogram(&ttft),
            per_token: Latency::from_histogram(&per_token),
            failed: streams - completed,
        },
    })
}

//! Relay: pairs of sockets exchanging stamped messages in both directions.
//!
//! - Baton: a visitor escalated with `request_human` on the `bench` site (least-busy routing)
//!   and the agent it was assigned to; visitor `message` → agent, agent `message` → visitor.
//!   An agent socket holds up to [`CHATS_PER_AGENT`] conversations, as a person would.
//! - Bare actix-ws relay and Node `ws` relay: two sockets joined by a pair id; both send the
//!   visitor's frame, byte for byte the same size.
//!
//! Each message carries its send time; the receiving side records send → receive latency.
//! Two load shapes: *saturate* (closed loop, a window of messages in flight per pair and
//! direction) finds the throughput; *paced* (open loop at a fixed total rate, stamped with
//! the scheduled time so a stall is charged to every message it delays) measures latency at a
//! given rate.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use anyhow::Context;
use futures_util::{SinkExt, StreamExt, stream};
use hdrhistogram::Histogram;
use serde_json::json;
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;

use crate::client::{self, Stream, Ws};
use crate::report::Latency;
use crate::servers::{CHATS_PER_AGENT, relay_token};
use crate::sys::{self, CpuMeter};

/// Characters of text per message.
pub const MESSAGE_CHARS: usize = 64;
const SETUP_CONCURRENCY: usize = 64;

#[derive(Clone, Copy, Debug)]
pub enum Load {
    Saturate { window: usize },
    Paced { rate: f64 },
}

pub struct RelayRun {
    pub msgs_per_sec: f64,
    pub latency: Latency,
    pub server_cpu: f64,
    /// `server_cpu` per process, in the order the pids were given.
    pub server_cpu_each: Vec<f64>,
    pub generator_cpu: f64,
}

impl RelayRun {
    /// Server CPU time per relayed message, in µs: steadier than throughput on a shared
    /// machine, because it counts work done, not the share of a core the server was given.
    pub fn cpu_us_per_msg(&self) -> f64 {
        if self.msgs_per_sec > 0.0 { self.server_cpu * 1e6 / self.msgs_per_sec } else { f64::NAN }
    }
}

/// What the readers record into; swapped for each measured phase.
struct Phase {
    start_ns: u64,
    end_ns: AtomicU64,
    received: AtomicU64,
    histogram: Mutex<Histogram<u64>>,
    /// Saturate: permits per pair and direction (`pair * 2 + direction`).
    permits: Vec<Arc<Semaphore>>,
}

struct Shared {
    phase: RwLock<Arc<Phase>>,
}

impl Shared {
    fn current(&self) -> Arc<Phase> {
        self.phase.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// A message of `pair`, `direction`, stamped `sent_ns`, has arrived.
    fn arrived(&self, pair: usize, direction: usize, sent_ns: u64) {
        let phase = self.current();
        if let Some(permits) = phase.permits.get(pair * 2 + direction) {
            permits.add_permits(1);
        }
        let now = sys::now_ns();
        let end = phase.end_ns.load(Ordering::Relaxed);
        if now >= phase.start_ns && now <= end {
            phase.received.fetch_add(1, Ordering::Relaxed);
        }
        if sent_ns >= phase.start_ns && sent_ns <= end {
            let micros = now.saturating_sub(sent_ns) / 1_000;
            phase.histogram.lock().unwrap_or_else(|p| p.into_inner()).saturating_record(micros.max(1));
        }
    }
}

/// One direction of one pair: where to write and what frame to write.
#[derive(Clone)]
struct Sender {
    writer: mpsc::UnboundedSender<String>,
    /// `Some` for a Baton agent: the conversation to write to.
    conversation_id: Option<String>,
}

/// Client ids are unique across phases: Baton acknowledges a repeated `client_id` without
/// storing or relaying the message again.
static CLIENT_IDS: AtomicU64 = AtomicU64::new(0);

impl Sender {
    fn frame(&self, sent_ns: u64) -> String {
        let counter = CLIENT_IDS.fetch_add(1, Ordering::Relaxed);
        let text = client::stamped_text(sent_ns, MESSAGE_CHARS);
        match &self.conversation_id {
            Some(id) => {
                json!({"type": "message", "conversation_id": id, "client_id": format!("a{counter}"), "text": text})
            }
            None => json!({"type": "message", "client_id": format!("v{counter}"), "text": text}),
        }
        .to_string()
    }
}

/// The connected pairs, ready for load.
pub struct Pairs {
    shared: Arc<Shared>,
    /// `pair * 2 + direction`; direction 0 = visitor → agent (a → b), 1 = agent → visitor.
    senders: Vec<Sender>,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Pairs {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

fn idle_phase() -> Arc<Phase> {
    Arc::new(Phase::new(u64::MAX, 0, Vec::new()))
}

fn spawn_writer(ws_sink: client::Sink, tasks: &mut Vec<JoinHandle<()>>) -> mpsc::UnboundedSender<String> {
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    tasks.push(tokio::spawn(async move {
        let mut sink = ws_sink;
        while let Some(text) = rx.recv().await {
            if sink.feed(Message::text(text)).await.is_err() {
                return;
            }
            while let Ok(text) = rx.try_recv() {
                if sink.feed(Message::text(text)).await.is_err() {
                    return;
                }
            }
            if sink.flush().await.is_err() {
                return;
            }
        }
    }));
    tx
}

/// Reads a socket; `route` turns a frame into (pair, direction, sent_ns) when it is a relayed
/// message for this side.
fn spawn_reader(
    mut stream: Stream,
    shared: Arc<Shared>,
    route: impl Fn(&str) -> Option<(usize, usize, u64)> + Send + 'static,
    tasks: &mut Vec<JoinHandle<()>>,
) {
    tasks.push(tokio::spawn(async move {
        while let Some(Ok(message)) = stream.next().await {
            if let Message::Text(text) = message
                && let Some((pair, direction, sent)) = route(text.as_str())
            {
                shared.arrived(pair, direction, sent);
            }
        }
    }));
}

const STAMP: &str = "\"text\":\"T";

/// Baton: agents first, then visitors that ask for a person and are assigned at once.
/// Visitors connect to `visitor_port` and agents to `agent_port` (two nodes, or the same one).
pub async fn connect_baton(visitor_port: u16, agent_port: u16, pairs: usize) -> anyhow::Result<Pairs> {
    let port = visitor_port;
    let agents = pairs.div_ceil(CHATS_PER_AGENT);
    let agent_sockets: Vec<Ws> = stream::iter(0..agents)
        .map(|i| async move { client::agent(agent_port, &relay_token(i)).await })
        .buffered(SETUP_CONCURRENCY)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<anyhow::Result<_>>()?;
    let visitors: Vec<(Ws, String)> = stream::iter(0..pairs)
        .map(|_| async move {
            let (mut ws, id) = client::visitor(port, "bench").await?;
            client::send(&mut ws, json!({"type": "request_human"})).await?;
            client::wait_for(&mut ws, client::is_state("agent")).await.context("visitor was not assigned")?;
            Ok::<_, anyhow::Error>((ws, id))
        })
        .buffer_unordered(SETUP_CONCURRENCY)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<anyhow::Result<_>>()?;
    // Which agent socket got which conversation: read each until it goes quiet.
    let assigned: Vec<(Ws, Vec<String>)> = stream::iter(agent_sockets)
        .map(|mut ws| async move {
            let mut ids = Vec::new();
            while let Ok(Some(Ok(message))) = tokio::time::timeout(Duration::from_millis(500), ws.next()).await {
                if let Message::Text(text) = message
                    && let Ok(frame) = serde_json::from_str::<serde_json::Value>(&text)
                    && frame["type"] == "assigned"
                    && let Some(id) = frame["conversation"]["conversation_id"].as_str()
                {
                    ids.push(id.to_owned());
                }
            }
            (ws, ids)
        })
        .buffer_unordered(SETUP_CONCURRENCY)
        .collect()
        .await;
    let total: usize = assigned.iter().map(|(_, ids)| ids.len()).sum();
    anyhow::ensure!(total == pairs, "{total} of {pairs} conversations reached an agent");

    let shared = Arc::new(Shared { phase: RwLock::new(idle_phase()) });
    let mut tasks = Vec::new();
    let index: HashMap<String, usize> = visitors.iter().enumerate().map(|(i, (_, id))| (id.clone(), i)).collect();
    let index = Arc::new(index);
    let mut senders: Vec<Option<Sender>> = vec![None; pairs * 2];
    for (pair, (ws, _)) in visitors.into_iter().enumerate() {
        let (sink, stream) = ws.split();
        let writer = spawn_writer(sink, &mut tasks);
        senders[pair * 2] = Some(Sender { writer, conversation_id: None });
        let route = move |frame: &str| {
            frame
                .contains("\"from\":\"agent\"")
                .then(|| client::stamp_after(frame, STAMP))
                .flatten()
                .map(|s| (pair, 1, s))
        };
        spawn_reader(stream, shared.clone(), route, &mut tasks);
    }
    for (ws, ids) in assigned {
        let (sink, stream) = ws.split();
        let writer = spawn_writer(sink, &mut tasks);
        for id in ids {
            let pair = *index.get(&id).context("assigned an unknown conversation")?;
            senders[pair * 2 + 1] = Some(Sender { writer: writer.clone(), conversation_id: Some(id) });
        }
        let index = index.clone();
        let route = move |frame: &str| {
            if !frame.contains("\"from\":\"visitor\"") {
                return None;
            }
            let sent = client::stamp_after(frame, STAMP)?;
            let at = frame.find("\"conversation_id\":\"")? + 19;
            let pair = *index.get(frame.get(at..at + 36)?)?;
            Some((pair, 0, sent))
        };
        spawn_reader(stream, shared.clone(), route, &mut tasks);
    }
    let senders = senders.into_iter().collect::<Option<Vec<_>>>().context("a pair without both ends")?;
    Ok(Pairs { shared, senders, tasks })
}

/// A pair relay (bare actix-ws or Node): two sockets per pair id.
pub async fn connect_pair_relay(port: u16, pairs: usize) -> anyhow::Result<Pairs> {
    let sockets: Vec<(Ws, Ws)> = stream::iter(0..pairs)
        .map(|pair| async move {
            let url = format!("ws://127.0.0.1:{port}/ws?pair={pair}");
            let a = client::connect(&url).await?;
            let b = client::connect(&url).await?;
            Ok::<_, anyhow::Error>((a, b))
        })
        .buffered(SETUP_CONCURRENCY)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<anyhow::Result<_>>()?;
    let shared = Arc::new(Shared { phase: RwLock::new(idle_phase()) });
    let mut tasks = Vec::new();
    let mut senders = Vec::with_capacity(pairs * 2);
    for (pair, (a, b)) in sockets.into_iter().enumerate() {
        for (direction, ws) in [a, b].into_iter().enumerate() {
            let (sink, stream) = ws.split();
            senders.push(Sender { writer: spawn_writer(sink, &mut tasks), conversation_id: None });
            // Socket a receives what b sent (direction 1), and b what a sent (direction 0).
            let arriving = 1 - direction;
            let route = move |frame: &str| client::stamp_after(frame, STAMP).map(|s| (pair, arriving, s));
            spawn_reader(stream, shared.clone(), route, &mut tasks);
        }
    }
    Ok(Pairs { shared, senders, tasks })
}

/// Drives `load` for `warmup + measure`, measuring only the second part.
/// `servers` are the processes whose CPU counts as the server's (two nodes and Redis, say).
pub async fn run(pairs: &Pairs, load: Load, warmup: Duration, measure: Duration, servers: &[u32]) -> RelayRun {
    let permits: Vec<Arc<Semaphore>> = match load {
        Load::Saturate { window } => pairs.senders.iter().map(|_| Arc::new(Semaphore::new(window))).collect(),
        Load::Paced { .. } => Vec::new(),
    };
    let start_ns = sys::now_ns() + u64::try_from(warmup.as_nanos()).unwrap_or(0);
    let phase = Arc::new(Phase::new(start_ns, u64::MAX, permits.clone()));
    *pairs.shared.phase.write().unwrap_or_else(|p| p.into_inner()) = phase.clone();
    let senders: Vec<JoinHandle<()>> = pairs
        .senders
        .iter()
        .cloned()
        .enumerate()
        .map(|(i, sender)| {
            let permit = permits.get(i).cloned();
            let count = pairs.senders.len();
            tokio::spawn(async move {
                match (load, permit) {
                    (Load::Saturate { .. }, Some(permit)) => saturate(sender, permit).await,
                    (Load::Paced { rate }, _) => paced(sender, rate / count as f64, i, count).await,
                    _ => {}
                }
            })
        })
        .collect();
    tokio::time::sleep(warmup).await;
    let server: Vec<CpuMeter> = servers.iter().map(|pid| CpuMeter::start(*pid)).collect();
    let generator = CpuMeter::start(std::process::id());
    tokio::time::sleep(measure).await;
    phase.end_ns.store(sys::now_ns(), Ordering::Relaxed);
    let server_cpu_each: Vec<f64> = server.iter().map(CpuMeter::cores).collect();
    let (server_cpu, generator_cpu) = (server_cpu_each.iter().sum(), generator.cores());
    for sender in &senders {
        sender.abort();
    }
    for permit in &permits {
        permit.close();
    }
    // Let messages in flight land (their latency counts), then stop recording.
    tokio::time::sleep(Duration::from_millis(500)).await;
    *pairs.shared.phase.write().unwrap_or_else(|p| p.into_inner()) = idle_phase();
    let received = phase.received.load(Ordering::Relaxed);
    let window = (phase.end_ns.load(Ordering::Relaxed) - start_ns) as f64 / 1e9;
    let histogram = phase.histogram.lock().unwrap_or_else(|p| p.into_inner());
    RelayRun {
        msgs_per_sec: received as f64 / window,
        latency: Latency::from_histogram(&histogram),
        server_cpu,
        server_cpu_each,
        generator_cpu,
    }
}

impl Phase {
    fn new(start_ns: u64, end_ns: u64, permits: Vec<Arc<Semaphore>>) -> Phase {
        Phase {
            start_ns,
            end_ns: AtomicU64::new(end_ns),
            received: AtomicU64::new(0),
            histogram: Mutex::new(crate::report::histogram()),
            permits,
        }
    }
}

async fn saturate(sender: Sender, permit: Arc<Semaphore>) {
    while let Ok(p) = permit.acquire().await {
        p.forget();
        if sender.writer.send(sender.frame(sys::now_ns())).is_err() {
            return;
        }
        // Let readers run between sends so the window is refilled from arrivals.
        tokio::task::yield_now().await;
    }
}

async fn paced(sender: Sender, rate: f64, index: usize, count: usize) {
    let period = Duration::from_secs_f64(1.0 / rate.max(1e-6));
    // Spread the senders evenly over one period.
    let offset = period.mul_f64(index as f64 / count as f64);
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + offset, period);
    loop {
        ticks.tick().await;
        if sender.writer.send(sender.frame(sys::now_ns())).is_err() {
            return;
        }
    }
}

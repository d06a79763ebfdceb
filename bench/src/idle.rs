//! Idle sessions: how many open sockets one server process holds, and the resident memory
//! each adds. Baton's are real visitors (`hello`, `welcome`, greeting: a stored conversation
//! each); the pair relays' are bare sockets. Every socket is read by a task of its own, so
//! heartbeats are answered and none is dropped as silent.

use std::time::Duration;

use futures_util::{StreamExt, stream};
use tokio::task::JoinHandle;

use crate::client::{self, Ws};
use crate::servers::Server;

const CONNECT_CONCURRENCY: usize = 128;
/// File descriptors the load generator keeps for itself (runtime, logs, child pipes).
const SPARE_FILES: u64 = 600;

pub struct IdleRun {
    pub sessions: usize,
    pub failed: usize,
    pub rss_bytes_per_session: f64,
    pub rss_after: u64,
}

/// Sessions to open: `wanted`, or fewer if this process's open-files limit is lower.
pub fn sessions_within_limit(wanted: usize, limit: Option<u64>) -> usize {
    match limit {
        Some(limit) => wanted.min(usize::try_from(limit.saturating_sub(SPARE_FILES)).unwrap_or(usize::MAX)),
        None => wanted,
    }
}

/// What each idle socket is.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A Baton visitor past `hello`: a conversation, a subscription, a session loop.
    Visitor,
    /// A Baton visitor socket that never says `hello`: the upgraded connection alone.
    UpgradeOnly,
    /// A pair relay's socket.
    PairRelay,
}

pub async fn run(server: &Server, kind: Kind, sessions: usize) -> IdleRun {
    let port = server.port;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let rss_before = server.rss();
    let opened: Vec<anyhow::Result<Ws>> = stream::iter(0..sessions)
        .map(|pair| async move {
            match kind {
                Kind::Visitor => client::visitor(port, "demo").await.map(|(ws, _)| ws),
                Kind::UpgradeOnly => client::connect(&format!("ws://127.0.0.1:{port}/v1/visitor/ws?site=demo")).await,
                Kind::PairRelay => client::connect(&format!("ws://127.0.0.1:{port}/ws?pair={}", pair / 2)).await,
            }
        })
        .buffer_unordered(CONNECT_CONCURRENCY)
        .collect()
        .await;
    let failed = opened.iter().filter(|r| r.is_err()).count();
    if let Some(Err(error)) = opened.iter().find(|r| r.is_err()) {
        eprintln!("idle: {failed} sockets failed on {}; first: {error:#}", server.name);
    }
    let readers: Vec<JoinHandle<()>> = opened
        .into_iter()
        .flatten()
        .map(|mut ws| tokio::spawn(async move { while let Some(Ok(_)) = ws.next().await {} }))
        .collect();
    let held = readers.len();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let alive = readers.iter().filter(|r| !r.is_finished()).count();
    let rss_after = server.rss();
    for reader in &readers {
        reader.abort();
    }
    drop(readers);
    tokio::time::sleep(Duration::from_millis(500)).await;
    IdleRun {
        sessions: alive,
        failed: failed + (held - alive),
        rss_bytes_per_session: rss_after.saturating_sub(rss_before) as f64 / alive.max(1) as f64,
        rss_after,
    }
}

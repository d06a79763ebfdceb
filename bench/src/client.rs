//! A protocol client for the load generator: sockets, typed waits for the setup phases
//! (`hello`, `auth`, escalation), and the cheap text scan the hot path uses instead of
//! parsing every frame.

use std::time::Duration;

use anyhow::Context;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;
pub type Sink = SplitSink<Ws, Message>;
pub type Stream = SplitStream<Ws>;

/// How long a setup step waits for a frame.
pub const SETUP_WAIT: Duration = Duration::from_secs(30);

/// Connects with Nagle's algorithm off, so the generator never holds a frame back.
pub async fn connect(url: &str) -> anyhow::Result<Ws> {
    let (ws, _) = tokio_tungstenite::connect_async_with_config(url, None, true)
        .await
        .with_context(|| format!("connect {url}"))?;
    Ok(ws)
}

pub async fn send(ws: &mut Ws, frame: Value) -> anyhow::Result<()> {
    ws.send(Message::text(frame.to_string())).await.context("send")
}

/// The next text frame as JSON.
pub async fn next_json(ws: &mut Ws) -> anyhow::Result<Value> {
    loop {
        let message = tokio::time::timeout(SETUP_WAIT, ws.next()).await.context("no frame in time")?;
        match message {
            Some(Ok(Message::Text(text))) => return serde_json::from_str(&text).context("frame is not JSON"),
            Some(Ok(Message::Close(frame))) => anyhow::bail!("socket closed: {frame:?}"),
            Some(Ok(_)) => continue,
            Some(Err(error)) => return Err(error).context("socket error"),
            None => anyhow::bail!("socket ended"),
        }
    }
}

/// Skips frames until one satisfies `wanted`.
pub async fn wait_for(ws: &mut Ws, wanted: impl Fn(&Value) -> bool) -> anyhow::Result<Value> {
    loop {
        let frame = next_json(ws).await?;
        if wanted(&frame) {
            return Ok(frame);
        }
    }
}

pub fn of_type<'a>(kind: &'a str) -> impl Fn(&Value) -> bool + 'a {
    move |frame| frame["type"] == kind
}

pub fn is_state(state: &str) -> impl Fn(&Value) -> bool + '_ {
    move |frame| frame["type"] == "state" && frame["state"] == state
}

/// A new visitor on `site`, past `welcome` and the greeting; returns the socket and the
/// conversation id.
pub async fn visitor(port: u16, site: &str) -> anyhow::Result<(Ws, String)> {
    let mut ws = connect(&format!("ws://127.0.0.1:{port}/v1/visitor/ws?site={site}")).await?;
    send(&mut ws, json!({"type": "hello", "locale": "en"})).await?;
    let welcome = wait_for(&mut ws, of_type("welcome")).await?;
    let last_seq = welcome["last_seq"].as_u64().unwrap_or(0);
    wait_for(&mut ws, |f| f["seq"].as_u64() == Some(last_seq)).await?;
    let id = welcome["conversation_id"].as_str().context("welcome without conversation_id")?.to_owned();
    Ok((ws, id))
}

/// An authenticated agent socket, past `ready`.
pub async fn agent(port: u16, token: &str) -> anyhow::Result<Ws> {
    let mut ws = connect(&format!("ws://127.0.0.1:{port}/v1/agent/ws")).await?;
    send(&mut ws, json!({"type": "auth", "token": token})).await?;
    wait_for(&mut ws, of_type("ready")).await?;
    Ok(ws)
}

/// Message texts carry their send time: `T<nanoseconds since the bench started>;` then padding.
pub fn stamped_text(sent_ns: u64, size: usize) -> String {
    let mut text = format!("T{sent_ns};");
    while text.len() < size {
        text.push('x');
    }
    text
}

/// The send time in a frame whose text starts with `marker` followed by digits.
pub fn stamp_after(frame: &str, marker: &str) -> Option<u64> {
    let start = frame.find(marker)? + marker.len();
    let digits = frame[start..].bytes().take_while(u8::is_ascii_digit).count();
    frame[start..start + digits].parse().ok()
}

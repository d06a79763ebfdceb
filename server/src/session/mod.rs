//! One socket's loop: reads frames, writes frames, heartbeats and limits. A session parses
//! frames into [`crate::protocol`] types and calls [`crate::conversation`] (a visitor) or
//! [`crate::agents`] (an agent); it knows nothing of storage or models. Each kind of session
//! gets a small typed context with just what it uses.

pub mod agent;
pub mod cursor;
pub mod frames;
pub mod limits;
pub mod socket;
pub mod visitor;

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use serde::Serialize;
use tokio::time::{Instant, timeout};

use tokio_util::sync::CancellationToken;

use crate::agents::desk::Desk;
use crate::attachments::Attachments;
use crate::config::Limits;
use crate::conversation::Conversations;
use crate::hub::Hub;
use crate::protocol::{Ephemeral, ErrorCode, FrameError, close as codes};
pub use frames::{Frames, Incoming, Refused};
pub use limits::{Guards, KeyedLimiter, RateLimiter, client_key};
pub use socket::{Closed, Socket};

/// What a visitor's socket works with.
pub struct VisitorContext {
    pub conversations: Conversations,
    /// Files: each `welcome` carries a token for the conversation's.
    pub attachments: Attachments,
    pub hub: Hub,
    pub limits: Limits,
    /// The limits this node's sockets share.
    pub guards: Arc<Guards>,
    /// Cancelled on shutdown: every socket closes with 1001 so clients reconnect elsewhere.
    pub shutdown: CancellationToken,
}

/// What an agent's socket works with.
pub struct AgentContext {
    pub desk: Desk,
    /// For replaying the conversations the agent follows.
    pub conversations: Conversations,
    pub hub: Hub,
    pub limits: Limits,
    pub guards: Arc<Guards>,
    pub shutdown: CancellationToken,
}

/// Closed because its send queue overflowed: the client should reconnect and resume.
pub const CLOSE_FELL_BEHIND: u16 = 1013;

/// Whether a session's loop goes on.
pub enum Flow {
    Continue,
    Stop,
}

pub fn flow(result: Result<(), Closed>) -> Flow {
    if result.is_ok() { Flow::Continue } else { Flow::Stop }
}

/// The text of a client frame, after the checks every socket makes: a close or a broken
/// stream ends the session, a refused frame closes with its code (1009 too big, 1007 not
/// UTF-8, 1002 broken), every frame (pings and binary ones too) counts against the rate, and
/// a flood is closed with 4008; pings are answered, binary frames refused.
pub async fn frame_text(
    session: &mut Socket,
    message: Option<Result<Incoming, Refused>>,
    limiter: &mut RateLimiter,
    strikes: u32,
) -> Result<String, Flow> {
    if message.is_some() {
        crate::telemetry::metrics::hot().frame_in();
    }
    let message = match message {
        None | Some(Ok(Incoming::Close(_))) => return Err(Flow::Stop),
        Some(Err(refused)) => {
            refuse(session, &refused).await;
            return Err(Flow::Stop);
        }
        Some(Ok(message)) => message,
    };
    if !limiter.allow() {
        if limiter.strikes >= strikes {
            close(session, codes::RATE_LIMITED, "rate limited: retry later").await;
            return Err(Flow::Stop);
        }
        if let Incoming::Ping(_) | Incoming::Pong = message {
            return Err(Flow::Continue);
        }
        return Err(flow(send_error(session, ErrorCode::RateLimited, "slow down").await));
    }
    match message {
        Incoming::Text(text) => Ok(text),
        Incoming::Ping(bytes) => Err(flow(session.pong(&bytes).await)),
        Incoming::Binary => {
            Err(flow(send_error(session, ErrorCode::InvalidFrame, "binary frames are not part of the protocol").await))
        }
        Incoming::Pong | Incoming::Close(_) => Err(Flow::Continue),
    }
}

/// Closes a socket whose frame was refused, with that refusal's code.
pub async fn refuse(session: &mut Socket, refused: &Refused) {
    tracing::debug!(?refused, "client frame refused");
    if let Some(code) = refused.close_code() {
        let description = match refused {
            Refused::TooBig => "frame too big",
            Refused::NotUtf8 => "text is not UTF-8",
            _ => "protocol error",
        };
        close(session, code, description).await;
    }
}

/// Sends one frame as JSON. `Err` means the socket is gone.
pub async fn send<T: Serialize>(session: &mut Socket, frame: &T) -> Result<(), Closed> {
    crate::telemetry::metrics::hot().frame_out();
    // unwrap: protocol frames are plain data and always serialise.
    session.text(&serde_json::to_string(frame).expect("frames serialise")).await
}

pub async fn send_error(session: &mut Socket, code: ErrorCode, message: impl Into<String>) -> Result<(), Closed> {
    send(session, &Ephemeral::error(code, message)).await
}

pub async fn close(session: &mut Socket, code: u16, description: &str) {
    let _ = session.close(code, description).await;
}

/// Waits for the frame a socket must open with (`hello`, `auth`) within
/// `limits.hello_timeout_secs`: `accept` returns it, `Ok(None)` for another valid frame
/// (answered "send X first"), or the parse error (answered as such). Frames before it count
/// against the rate like any other. No frame in time closes with 4000; `None` means the
/// socket is closed or gone.
pub async fn first_frame<T>(
    session: &mut Socket,
    stream: &mut Frames,
    limits: &Limits,
    name: &str,
    accept: impl Fn(&str) -> Result<Option<T>, FrameError>,
) -> Option<T> {
    let deadline = Instant::now() + limits.hello_timeout();
    let mut limiter = RateLimiter::new(limits.rate_per_sec, limits.rate_burst);
    loop {
        let message = match timeout(deadline.saturating_duration_since(Instant::now()), stream.next()).await {
            Err(_) => {
                close(session, codes::NO_HELLO, &format!("no {name} in time")).await;
                return None;
            }
            Ok(message) => message,
        };
        let text = match frame_text(session, message, &mut limiter, limits.rate_strikes).await {
            Ok(text) => text,
            Err(Flow::Continue) => continue,
            Err(Flow::Stop) => return None,
        };
        match accept(&text) {
            Ok(Some(frame)) => return Some(frame),
            Ok(None) => {
                send_error(session, ErrorCode::InvalidFrame, format!("send a {name} frame first")).await.ok()?
            }
            Err(error) => send_error(session, error.code(), error.to_string()).await.ok()?,
        }
    }
}

/// How long until the next heartbeat tick, and whether the peer has gone silent.
pub struct Liveness {
    last_heard: Instant,
    timeout: Duration,
}

impl Liveness {
    pub fn new(timeout: Duration) -> Liveness {
        Liveness { last_heard: Instant::now(), timeout }
    }
    pub fn heard(&mut self) {
        self.last_heard = Instant::now();
    }
    pub fn is_dead(&self) -> bool {
        self.last_heard.elapsed() > self.timeout
    }
}

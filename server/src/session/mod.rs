//! One socket's loop: reads frames, writes frames, heartbeats and limits. A session parses
//! frames into [`crate::protocol`] types and calls [`crate::conversation`] (a visitor) or
//! [`crate::agents`] (an agent); it knows nothing of storage or models. Each kind of session
//! gets a small typed context with just what it uses.

pub mod agent;
pub mod cursor;
pub mod visitor;

use std::time::Duration;

use actix_ws::{AggregatedMessage, AggregatedMessageStream, CloseCode, CloseReason, ProtocolError, Session};
use futures_util::StreamExt;
use serde::Serialize;
use tokio::time::{Instant, timeout};

use tokio_util::sync::CancellationToken;

use crate::agents::desk::Desk;
use crate::config::Limits;
use crate::conversation::Conversations;
use crate::hub::Hub;
use crate::protocol::{Ephemeral, ErrorCode, FrameError, close as codes};

/// What a visitor's socket works with.
pub struct VisitorContext {
    pub conversations: Conversations,
    pub hub: Hub,
    pub limits: Limits,
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
    pub shutdown: CancellationToken,
}

/// Closed because its send queue overflowed: the client should reconnect and resume.
pub const CLOSE_FELL_BEHIND: u16 = 1013;

/// Whether a session's loop goes on.
pub enum Flow {
    Continue,
    Stop,
}

pub fn flow(result: Result<(), actix_ws::Closed>) -> Flow {
    if result.is_ok() { Flow::Continue } else { Flow::Stop }
}

/// The text of a client frame, after the checks every socket makes: a close or a broken
/// stream ends the session, an oversized frame closes with 1009, pings are answered, binary
/// frames and frames over the rate are refused (and a flood closed with 4008).
pub async fn frame_text(
    session: &mut Session,
    message: Option<Result<AggregatedMessage, ProtocolError>>,
    limiter: &mut RateLimiter,
    strikes: u32,
) -> Result<String, Flow> {
    let text = match message {
        None | Some(Ok(AggregatedMessage::Close(_))) => return Err(Flow::Stop),
        Some(Err(ProtocolError::Overflow)) => {
            close(session.clone(), 1009, "frame too big").await;
            return Err(Flow::Stop);
        }
        Some(Err(_)) => return Err(Flow::Stop),
        Some(Ok(AggregatedMessage::Ping(bytes))) => return Err(flow(session.pong(&bytes).await)),
        Some(Ok(AggregatedMessage::Pong(_))) => return Err(Flow::Continue),
        Some(Ok(AggregatedMessage::Binary(_))) => {
            let sent = send_error(session, ErrorCode::InvalidFrame, "binary frames are not part of the protocol").await;
            return Err(flow(sent));
        }
        Some(Ok(AggregatedMessage::Text(text))) => text,
    };
    if !limiter.allow() {
        if limiter.strikes >= strikes {
            close(session.clone(), codes::RATE_LIMITED, "rate limited: retry later").await;
            return Err(Flow::Stop);
        }
        return Err(flow(send_error(session, ErrorCode::RateLimited, "slow down").await));
    }
    Ok(text.to_string())
}

/// A token bucket: `rate` frames per second on average, bursts up to `burst`.
pub struct RateLimiter {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
    /// Frames refused in a row.
    pub strikes: u32,
}

impl RateLimiter {
    pub fn new(rate: f64, burst: u32) -> RateLimiter {
        RateLimiter { rate, burst: f64::from(burst), tokens: f64::from(burst), last: Instant::now(), strikes: 0 }
    }

    /// Takes one token; `false` means the frame must be refused.
    pub fn allow(&mut self) -> bool {
        let now = Instant::now();
        let refill = now.duration_since(self.last).as_secs_f64() * self.rate;
        self.tokens = (self.tokens + refill).min(self.burst);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            self.strikes = 0;
            true
        } else {
            self.strikes += 1;
            false
        }
    }
}

/// Sends one frame as JSON. `Err` means the socket is gone.
pub async fn send<T: Serialize>(session: &mut Session, frame: &T) -> Result<(), actix_ws::Closed> {
    // unwrap: protocol frames are plain data and always serialise.
    session.text(serde_json::to_string(frame).expect("frames serialise")).await
}

pub async fn send_error(
    session: &mut Session,
    code: ErrorCode,
    message: impl Into<String>,
) -> Result<(), actix_ws::Closed> {
    send(session, &Ephemeral::error(code, message)).await
}

pub async fn close(session: Session, code: u16, description: &str) {
    let reason = CloseReason { code: CloseCode::from(code), description: Some(description.to_owned()) };
    let _ = session.close(Some(reason)).await;
}

/// Waits up to `limit` for the frame a socket must open with (`hello`, `auth`): `accept`
/// returns it, `Ok(None)` for another valid frame (answered "send X first"), or the parse
/// error (answered as such). No frame in time closes with 4000; `None` means the socket is gone.
pub async fn first_frame<T>(
    session: &mut Session,
    stream: &mut AggregatedMessageStream,
    limit: Duration,
    name: &str,
    accept: impl Fn(&str) -> Result<Option<T>, FrameError>,
) -> Option<T> {
    let deadline = Instant::now() + limit;
    loop {
        let message = match timeout(deadline.saturating_duration_since(Instant::now()), stream.next()).await {
            Err(_) => {
                close(session.clone(), codes::NO_HELLO, &format!("no {name} in time")).await;
                return None;
            }
            Ok(None | Some(Err(_))) => return None,
            Ok(Some(Ok(message))) => message,
        };
        let text = match message {
            AggregatedMessage::Text(text) => text,
            AggregatedMessage::Ping(bytes) => {
                session.pong(&bytes).await.ok()?;
                continue;
            }
            AggregatedMessage::Close(_) => return None,
            _ => {
                send_error(session, ErrorCode::InvalidFrame, format!("send a {name} frame first")).await.ok()?;
                continue;
            }
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

#[cfg(test)]
mod tests {
    use super::RateLimiter;

    #[tokio::test(start_paused = true)]
    async fn the_bucket_allows_a_burst_then_refills_at_the_rate() {
        let mut limiter = RateLimiter::new(2.0, 3);
        assert!((0..3).all(|_| limiter.allow()));
        assert!(!limiter.allow());
        assert_eq!(limiter.strikes, 1);
        tokio::time::advance(std::time::Duration::from_millis(500)).await;
        assert!(limiter.allow());
        assert_eq!(limiter.strikes, 0);
        assert!(!limiter.allow());
    }
}

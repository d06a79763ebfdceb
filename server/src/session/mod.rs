//! One socket's loop: reads frames, writes frames, heartbeats and limits. A session parses
//! frames into [`crate::protocol`] types and calls [`crate::conversation`]; it knows nothing
//! of storage or models.

pub mod visitor;

use std::time::Duration;

use actix_ws::{CloseCode, CloseReason, Session};
use serde::Serialize;
use tokio::time::Instant;

use crate::protocol::{Ephemeral, ErrorCode};

/// Closed because its send queue overflowed: the client should reconnect and resume.
pub const CLOSE_FELL_BEHIND: u16 = 1013;

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

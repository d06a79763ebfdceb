//! A socket's writing side, owned by its session: each frame is encoded (actix-http's
//! WebSocket framing) and written to the connection by the session's own task.
//!
//! actix-ws put a channel of 32 messages (allocated whole: 1.8 KB) and a copying task between
//! a session and its connection; for an idle visitor that was a third of what it cost. Here a
//! send returns once the kernel has taken the frame's bytes, and nothing is held between
//! frames. What must stay true:
//!
//! - **Backpressure.** A client that does not read holds up only its own session: while a
//!   write waits, the session takes no deliveries, so the hub's send queue
//!   (`limits.send_queue`) fills and kicks it (close 1013) as before.
//! - **Every write has a bound.** A write the client does not take within
//!   `limits.client_timeout_secs` ends the socket (no close frame: nobody reads it): a peer
//!   that reads nothing for that long is as gone as one that says nothing.
//! - **Frames stay whole.** Bytes not yet written stay queued in the socket, so a send whose
//!   future is dropped half-way is finished by the next one instead of corrupting the stream.
//! - **After a close** (sent, or a failed write) every send is refused with [`Closed`].

use std::time::Duration;

use actix_http::ws::{CloseCode, CloseReason, OpCode, Parser};
use actix_web::web::BytesMut;
use tokio::io::AsyncWriteExt;

use crate::http::takeover::Upgraded;

/// Control frames (close, ping, pong) carry at most this many bytes (RFC 6455 §5.5).
const MAX_CONTROL_BYTES: usize = 125;

/// The socket is closed (or broken): nothing more can be sent.
#[derive(Debug, thiserror::Error)]
#[error("the socket is closed")]
pub struct Closed;

/// One upgraded socket's writing side (see the module documentation).
pub struct Socket {
    conn: Upgraded,
    /// Encoded bytes the connection has not taken yet; no storage between frames.
    unsent: BytesMut,
    write_timeout: Duration,
    closed: bool,
}

impl Socket {
    /// The writing side of `conn`; a write the client does not take within `write_timeout`
    /// ends the socket.
    pub fn new(conn: Upgraded, write_timeout: Duration) -> Socket {
        Socket { conn, unsent: BytesMut::new(), write_timeout, closed: false }
    }

    /// Sends a text frame.
    pub async fn text(&mut self, text: &str) -> Result<(), Closed> {
        self.frame(OpCode::Text, text.as_bytes()).await
    }

    /// Pings the client (at most 125 bytes of `payload` are sent).
    pub async fn ping(&mut self, payload: &[u8]) -> Result<(), Closed> {
        self.frame(OpCode::Ping, &payload[..payload.len().min(MAX_CONTROL_BYTES)]).await
    }

    /// Answers a client's ping (at most 125 bytes of `payload` are sent).
    pub async fn pong(&mut self, payload: &[u8]) -> Result<(), Closed> {
        self.frame(OpCode::Pong, &payload[..payload.len().min(MAX_CONTROL_BYTES)]).await
    }

    /// Sends a close frame with `code` and `description` (cut to fit a control frame), then
    /// ends the connection's sending side. Every later send is refused.
    pub async fn close(&mut self, code: u16, description: &str) -> Result<(), Closed> {
        if self.closed {
            return Err(Closed);
        }
        let mut end = description.len().min(MAX_CONTROL_BYTES - 2);
        while !description.is_char_boundary(end) {
            end -= 1;
        }
        let reason = CloseReason { code: CloseCode::from(code), description: Some(description[..end].to_owned()) };
        Parser::write_close(&mut self.unsent, Some(reason), false);
        let written = self.flush().await;
        self.closed = true;
        let _ = tokio::time::timeout(self.write_timeout, self.conn.half.shutdown()).await;
        written
    }

    async fn frame(&mut self, op: OpCode, payload: &[u8]) -> Result<(), Closed> {
        if self.closed {
            return Err(Closed);
        }
        Parser::write_message(&mut self.unsent, payload, op, true, false);
        self.flush().await
    }

    /// Writes what is unsent; on success the buffer's storage is given back.
    async fn flush(&mut self) -> Result<(), Closed> {
        let written = tokio::time::timeout(self.write_timeout, self.conn.half.write_all_buf(&mut self.unsent)).await;
        match written {
            Ok(Ok(())) => {
                self.unsent = BytesMut::new();
                Ok(())
            }
            Ok(Err(error)) => {
                tracing::debug!(%error, "socket write failed");
                self.closed = true;
                Err(Closed)
            }
            Err(_) => {
                tracing::info!(timeout = ?self.write_timeout, "the client took no frame in time; dropping the socket");
                self.closed = true;
                Err(Closed)
            }
        }
    }
}

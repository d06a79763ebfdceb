//! A socket's writing side, owned by its session: each frame is written to the connection by
//! the session's own task.
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
//!
//! Most frames fit in the kernel's buffer at once: they are written straight from the
//! caller's text (header and payload in one vectored write), with no copy and no timer; only
//! what the kernel did not take is copied and waited on.

use std::io::{self, IoSlice};
use std::time::Duration;

use actix_web::web::BytesMut;
use tokio::io::AsyncWriteExt;

use crate::http::takeover::Upgraded;

/// Control frames (close, ping, pong) carry at most this many bytes (RFC 6455 §5.5).
const MAX_CONTROL_BYTES: usize = 125;

/// RFC 6455 opcodes of the frames a server sends.
const TEXT: u8 = 0x1;
const CLOSE: u8 = 0x8;
const PING: u8 = 0x9;
const PONG: u8 = 0xA;

/// The socket is closed (or broken): nothing more can be sent.
#[derive(Debug, thiserror::Error)]
#[error("the socket is closed")]
pub struct Closed;

/// One upgraded socket's writing side (see the module documentation).
pub struct Socket {
    conn: Upgraded,
    /// Bytes the connection has not taken yet; no storage between frames.
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
        self.frame(TEXT, text.as_bytes()).await
    }

    /// Pings the client (at most 125 bytes of `payload` are sent).
    pub async fn ping(&mut self, payload: &[u8]) -> Result<(), Closed> {
        self.frame(PING, &payload[..payload.len().min(MAX_CONTROL_BYTES)]).await
    }

    /// Answers a client's ping (at most 125 bytes of `payload` are sent).
    pub async fn pong(&mut self, payload: &[u8]) -> Result<(), Closed> {
        self.frame(PONG, &payload[..payload.len().min(MAX_CONTROL_BYTES)]).await
    }

    /// Sends a close frame with `code` and `description` (cut to fit a control frame), then
    /// ends the connection's sending side. Every later send is refused.
    pub async fn close(&mut self, code: u16, description: &str) -> Result<(), Closed> {
        let mut end = description.len().min(MAX_CONTROL_BYTES - 2);
        while !description.is_char_boundary(end) {
            end -= 1;
        }
        let mut payload = Vec::with_capacity(2 + end);
        payload.extend_from_slice(&code.to_be_bytes());
        payload.extend_from_slice(&description.as_bytes()[..end]);
        let sent = self.frame(CLOSE, &payload).await;
        if sent.is_ok() {
            let _ = tokio::time::timeout(self.write_timeout, self.conn.half.shutdown()).await;
        }
        self.closed = true;
        sent
    }

    async fn frame(&mut self, opcode: u8, payload: &[u8]) -> Result<(), Closed> {
        if self.closed {
            return Err(Closed);
        }
        let (head, head_len) = header(opcode, payload.len());
        let head = &head[..head_len];
        let taken = match self.unsent.is_empty() {
            true => self.write_now(head, payload)?,
            false => 0,
        };
        if taken == head.len() + payload.len() {
            return Ok(());
        }
        let (head_rest, payload_rest) = match taken < head.len() {
            true => (&head[taken..], payload),
            false => (&head[..0], &payload[taken - head.len()..]),
        };
        self.unsent.extend_from_slice(head_rest);
        self.unsent.extend_from_slice(payload_rest);
        // Boxed: a wait is rare, and its timer would otherwise sit in every session's future.
        Box::pin(self.flush()).await
    }

    /// Writes as much of the frame as the kernel takes without waiting.
    fn write_now(&mut self, head: &[u8], payload: &[u8]) -> Result<usize, Closed> {
        let mut taken = 0;
        let total = head.len() + payload.len();
        while taken < total {
            let slices = match taken < head.len() {
                true => [IoSlice::new(&head[taken..]), IoSlice::new(payload)],
                false => [IoSlice::new(&payload[taken - head.len()..]), IoSlice::new(&[])],
            };
            match self.conn.half.try_write_vectored(&slices) {
                Ok(0) => break,
                Ok(n) => taken += n,
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => break,
                Err(error) => return Err(self.broken(&error)),
            }
        }
        Ok(taken)
    }

    /// Waits until the connection has taken every unsent byte, within the write timeout; on
    /// success the buffer's storage is given back.
    async fn flush(&mut self) -> Result<(), Closed> {
        let written = tokio::time::timeout(self.write_timeout, self.conn.half.write_all_buf(&mut self.unsent)).await;
        match written {
            Ok(Ok(())) => {
                self.unsent = BytesMut::new();
                Ok(())
            }
            Ok(Err(error)) => Err(self.broken(&error)),
            Err(_) => {
                tracing::info!(timeout = ?self.write_timeout, "the client took no frame in time; dropping the socket");
                self.closed = true;
                Err(Closed)
            }
        }
    }

    fn broken(&mut self, error: &io::Error) -> Closed {
        tracing::debug!(%error, "socket write failed");
        self.closed = true;
        self.unsent.clear();
        Closed
    }
}

/// The header of a final, unmasked server frame (RFC 6455 §5.2) and its length.
fn header(opcode: u8, len: usize) -> ([u8; 10], usize) {
    let mut head = [0u8; 10];
    head[0] = 0x80 | opcode;
    match len {
        0..=125 => {
            head[1] = len as u8;
            (head, 2)
        }
        126..=0xFFFF => {
            head[1] = 126;
            head[2..4].copy_from_slice(&(len as u16).to_be_bytes());
            (head, 4)
        }
        _ => {
            head[1] = 127;
            head[2..10].copy_from_slice(&(len as u64).to_be_bytes());
            (head, 10)
        }
    }
}

#[cfg(test)]
mod tests {
    use actix_http::ws::{OpCode, Parser};

    use super::*;

    #[test]
    fn headers_are_the_ones_actix_http_writes_for_every_length_class() {
        for len in [0, 1, 125, 126, 127, 0xFFFF, 0x1_0000, 70_000] {
            let payload = vec![b'a'; len];
            let mut expected = BytesMut::new();
            Parser::write_message(&mut expected, &payload, OpCode::Text, true, false);
            let (head, head_len) = header(TEXT, len);
            let mut ours = head[..head_len].to_vec();
            ours.extend_from_slice(&payload);
            assert_eq!(ours, expected.to_vec(), "length {len}");
        }
    }
}

//! A WebSocket client that writes frames byte by byte, as a hostile client would: headers
//! that announce more than follows, fragments, bytes that are not UTF-8.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long a test waits for the server's answer before failing.
const WAIT: Duration = Duration::from_secs(10);

pub struct Raw {
    pub stream: TcpStream,
    /// Bytes read from the server and not yet parsed.
    seen: Vec<u8>,
}

/// A frame from the server (unmasked).
#[derive(Debug)]
pub enum ServerFrame {
    Text(String),
    Close(Option<u16>),
    Other,
}

/// A masked client frame header for `opcode` announcing `len` bytes (zero mask).
pub fn header(fin: bool, opcode: u8, len: u64) -> Vec<u8> {
    let mut frame = vec![if fin { 0x80 } else { 0 } | opcode];
    match len {
        0..=125 => frame.push(0x80 | len as u8),
        126..=0xFFFF => {
            frame.push(0x80 | 126);
            frame.extend_from_slice(&(len as u16).to_be_bytes());
        }
        _ => {
            frame.push(0x80 | 127);
            frame.extend_from_slice(&len.to_be_bytes());
        }
    }
    frame.extend_from_slice(&[0, 0, 0, 0]);
    frame
}

pub fn frame(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut bytes = header(fin, opcode, payload.len() as u64);
    bytes.extend_from_slice(payload);
    bytes
}

impl Raw {
    /// Opens `path` and completes the handshake; `Err` carries the HTTP status line when the
    /// upgrade was refused.
    pub async fn open(port: u16, path: &str, headers: &[(&str, &[u8])]) -> Result<Raw, String> {
        let stream = TcpStream::connect(("127.0.0.1", port)).await.expect("connect");
        Raw::handshake(stream, port, path, headers).await
    }

    /// As [`Raw::open`], with the client's receive buffer set to `bytes` (a client that reads
    /// slowly, or not at all, fills it sooner).
    pub async fn open_with_receive_buffer(port: u16, path: &str, bytes: u32) -> Result<Raw, String> {
        let socket = tokio::net::TcpSocket::new_v4().expect("a socket");
        socket.set_recv_buffer_size(bytes).expect("SO_RCVBUF");
        let stream = socket.connect(([127, 0, 0, 1], port).into()).await.expect("connect");
        Raw::handshake(stream, port, path, &[]).await
    }

    async fn handshake(mut stream: TcpStream, port: u16, path: &str, headers: &[(&str, &[u8])]) -> Result<Raw, String> {
        let mut request = format!(
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        )
        .into_bytes();
        for (name, value) in headers {
            request.extend_from_slice(name.as_bytes());
            request.extend_from_slice(b": ");
            request.extend_from_slice(value);
            request.extend_from_slice(b"\r\n");
        }
        request.extend_from_slice(b"\r\n");
        stream.write_all(&request).await.expect("send the handshake");
        let mut raw = Raw { stream, seen: Vec::new() };
        let end = raw.read_until_head().await;
        let head = String::from_utf8_lossy(&raw.seen[..end]).into_owned();
        raw.seen.drain(..end);
        if head.starts_with("HTTP/1.1 101") { Ok(raw) } else { Err(head) }
    }

    async fn read_until_head(&mut self) -> usize {
        loop {
            if let Some(i) = self.seen.windows(4).position(|w| w == b"\r\n\r\n") {
                return i + 4;
            }
            assert!(self.fill().await, "the connection ended before the response head");
        }
    }

    /// Reads more from the server; `false` when the connection has ended.
    async fn fill(&mut self) -> bool {
        let mut chunk = [0u8; 4096];
        match tokio::time::timeout(WAIT, self.stream.read(&mut chunk)).await.expect("the server answers in time") {
            Ok(0) | Err(_) => false,
            Ok(n) => {
                self.seen.extend_from_slice(&chunk[..n]);
                true
            }
        }
    }

    /// Writes, ignoring a server that has already hung up.
    pub async fn write(&mut self, bytes: &[u8]) -> bool {
        self.stream.write_all(bytes).await.is_ok()
    }

    pub async fn send_text(&mut self, text: &str) {
        assert!(self.write(&frame(true, 1, text.as_bytes())).await, "send");
    }

    /// The next server frame; `None` when the connection ended first.
    pub async fn next(&mut self) -> Option<ServerFrame> {
        loop {
            if let Some((frame, used)) = parse(&self.seen) {
                self.seen.drain(..used);
                return Some(frame);
            }
            if !self.fill().await {
                return None;
            }
        }
    }

    /// Reads until the close frame: its code (`None`: the connection ended without one).
    pub async fn close_code(&mut self) -> Option<u16> {
        loop {
            match self.next().await? {
                ServerFrame::Close(code) => return code,
                _ => continue,
            }
        }
    }

    /// Reads until a text frame containing `needle`.
    pub async fn text_containing(&mut self, needle: &str) -> String {
        loop {
            match self.next().await {
                Some(ServerFrame::Text(text)) if text.contains(needle) => return text,
                Some(_) => continue,
                None => panic!("the connection ended before a frame with {needle:?}"),
            }
        }
    }
}

/// One whole server frame at the start of `bytes`, and its length.
fn parse(bytes: &[u8]) -> Option<(ServerFrame, usize)> {
    let (first, second) = (*bytes.first()?, *bytes.get(1)?);
    let (len, start) = match second & 0x7F {
        126 => (usize::from(u16::from_be_bytes([*bytes.get(2)?, *bytes.get(3)?])), 4),
        127 => (usize::try_from(u64::from_be_bytes(bytes.get(2..10)?.try_into().ok()?)).ok()?, 10),
        short => (usize::from(short), 2),
    };
    let payload = bytes.get(start..start + len)?;
    let frame = match first & 0x0F {
        1 => ServerFrame::Text(String::from_utf8_lossy(payload).into_owned()),
        8 => ServerFrame::Close((payload.len() >= 2).then(|| u16::from_be_bytes([payload[0], payload[1]]))),
        _ => ServerFrame::Other,
    };
    Some((frame, start + len))
}

//! The client's frames, decoded with a bound on what one socket can make Baton hold.
//!
//! actix-http's decoder compares a frame's length with its limit only once the whole frame
//! has arrived, and actix-ws reads everything the socket offers before decoding: a header
//! announcing 2^40 bytes made the server buffer whatever followed it (one socket took
//! hundreds of megabytes in under a second). Here each frame's header is read first (the
//! 7-bit length, or its 16- or 64-bit extension, then the client's mask) and a frame that
//! announces more than the limit, or a fragment that would take its message past it, is
//! refused before any of its payload is read. Bytes are read from the socket only while no
//! whole frame is buffered, so a socket holds at most one frame (the limit plus its 14-byte
//! header), one read of [`crate::http::transport`]'s reader, and the fragments of one message
//! (the limit again).
//!
//! Decoding itself (masks, opcodes, close payloads, continuation order) is actix-http's
//! [`Codec`]; this stream only decides when to read and what to refuse.

use std::pin::Pin;
use std::task::{Context, Poll};

use actix_codec::Decoder;
use actix_http::Payload;
use actix_http::ws::{CloseReason, Codec, Frame, Item, ProtocolError};
use actix_web::web::{Bytes, BytesMut};
use futures_util::Stream;

/// Control frames (close, ping, pong) carry at most this many bytes (RFC 6455 §5.5).
const MAX_CONTROL_BYTES: u64 = 125;

/// One complete message from the client.
#[derive(Debug)]
pub enum Incoming {
    Text(String),
    Binary,
    Ping(Bytes),
    Pong,
    Close(Option<CloseReason>),
}

/// Why the stream stopped reading the client: each has its close code.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// A frame, or a fragmented message, over the limit: close 1009.
    TooBig,
    /// A text message that is not UTF-8: close 1007.
    NotUtf8,
    /// Anything else RFC 6455 forbids (unmasked frames, reserved bits, bad opcodes, a
    /// continuation out of order, an oversized control frame): close 1002.
    Protocol(String),
    /// The connection broke.
    Gone,
}

impl Refused {
    /// The close code the socket is closed with (`None`: nobody is left to tell).
    pub fn close_code(&self) -> Option<u16> {
        match self {
            Refused::TooBig => Some(1009),
            Refused::NotUtf8 => Some(1007),
            Refused::Protocol(_) => Some(1002),
            Refused::Gone => None,
        }
    }
}

/// The client's messages, read with the bound described in the module doc.
pub struct Frames {
    payload: Payload,
    buf: BytesMut,
    codec: Codec,
    max_frame: usize,
    /// A fragmented message under way: whether it is text, and its bytes so far.
    partial: Option<(bool, BytesMut)>,
    /// The client's side has ended (or a refusal was reported): nothing more is read.
    ended: bool,
}

impl Frames {
    /// Frames of `payload` (the upgraded socket's bytes), each at most `max_frame` bytes.
    pub fn new(payload: Payload, max_frame: usize) -> Frames {
        Frames {
            payload,
            buf: BytesMut::new(),
            codec: Codec::new().max_size(max_frame),
            max_frame,
            partial: None,
            ended: false,
        }
    }

    /// Bytes held for this socket now: the read buffer's capacity and the fragments so far
    /// (what the module doc bounds; the fuzzers check it).
    pub fn held(&self) -> usize {
        self.buf.capacity() + self.partial.as_ref().map_or(0, |(_, bytes)| bytes.capacity())
    }

    /// Changes the limit for the frames that follow (a socket allows less before `hello`).
    pub fn set_max_frame(&mut self, max_frame: usize) {
        self.max_frame = max_frame;
        let codec = std::mem::replace(&mut self.codec, Codec::new());
        self.codec = codec.max_size(max_frame);
    }

    /// Refuses the frame at the front of the buffer, if its header is there and announces
    /// too much. `Ok` also when the header has not fully arrived.
    fn check_header(&self) -> Result<(), Refused> {
        let Some(header) = Header::peek(&self.buf) else { return Ok(()) };
        if header.control {
            return match header.len > MAX_CONTROL_BYTES {
                true => Err(Refused::Protocol("control frame over 125 bytes".into())),
                false => Ok(()),
            };
        }
        let so_far = match (&self.partial, header.continuation) {
            (Some((_, bytes)), true) => bytes.len() as u64,
            _ => 0,
        };
        match so_far.saturating_add(header.len) > self.max_frame as u64 {
            true => Err(Refused::TooBig),
            false => Ok(()),
        }
    }

    /// The next message from what is buffered, if a whole one is there.
    fn decode(&mut self) -> Result<Option<Incoming>, Refused> {
        loop {
            self.check_header()?;
            let frame = match self.codec.decode(&mut self.buf) {
                Ok(Some(frame)) => frame,
                Ok(None) => return Ok(None),
                Err(ProtocolError::Overflow) => return Err(Refused::TooBig),
                Err(error) => return Err(Refused::Protocol(error.to_string())),
            };
            let message = match frame {
                Frame::Text(bytes) => Incoming::Text(text(bytes.to_vec())?),
                Frame::Binary(_) => Incoming::Binary,
                Frame::Ping(bytes) => Incoming::Ping(bytes),
                Frame::Pong(_) => Incoming::Pong,
                Frame::Close(reason) => Incoming::Close(reason),
                Frame::Continuation(item) => match self.fragment(item)? {
                    Some(message) => message,
                    None => continue,
                },
            };
            return Ok(Some(message));
        }
    }

    /// Adds a fragment to the message under way; the message once its last fragment is in.
    fn fragment(&mut self, item: Item) -> Result<Option<Incoming>, Refused> {
        let (is_text, bytes, last) = match item {
            Item::FirstText(bytes) => (true, bytes, false),
            Item::FirstBinary(bytes) => (false, bytes, false),
            Item::Continue(bytes) => (self.partial.as_ref().is_some_and(|(t, _)| *t), bytes, false),
            Item::Last(bytes) => (self.partial.as_ref().is_some_and(|(t, _)| *t), bytes, true),
        };
        let (_, assembled) = self.partial.get_or_insert_with(|| (is_text, BytesMut::new()));
        if assembled.len() + bytes.len() > self.max_frame {
            return Err(Refused::TooBig);
        }
        assembled.extend_from_slice(&bytes);
        if !last {
            return Ok(None);
        }
        // unwrap-free: `partial` was set just above.
        let Some((is_text, assembled)) = self.partial.take() else { return Ok(None) };
        Ok(Some(match is_text {
            true => Incoming::Text(text(assembled.to_vec())?),
            false => Incoming::Binary,
        }))
    }
}

fn text(bytes: Vec<u8>) -> Result<String, Refused> {
    String::from_utf8(bytes).map_err(|_| Refused::NotUtf8)
}

impl Stream for Frames {
    type Item = Result<Incoming, Refused>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if this.ended && this.buf.is_empty() {
                return Poll::Ready(None);
            }
            match this.decode() {
                Ok(Some(message)) => return Poll::Ready(Some(Ok(message))),
                Ok(None) if this.ended => {
                    this.buf = BytesMut::new();
                    return Poll::Ready(None);
                }
                Ok(None) => {}
                Err(refused) => {
                    this.ended = true;
                    this.buf = BytesMut::new();
                    this.partial = None;
                    return Poll::Ready(Some(Err(refused)));
                }
            }
            match Pin::new(&mut this.payload).poll_next(cx) {
                Poll::Ready(Some(Ok(bytes))) => this.buf.extend_from_slice(&bytes),
                Poll::Ready(Some(Err(_))) => {
                    this.ended = true;
                    this.buf = BytesMut::new();
                    return Poll::Ready(Some(Err(Refused::Gone)));
                }
                Poll::Ready(None) => this.ended = true,
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

/// What a frame's first bytes announce (RFC 6455 §5.2).
#[derive(Debug, PartialEq, Eq)]
struct Header {
    /// Close, ping or pong.
    control: bool,
    /// A continuation of a fragmented message.
    continuation: bool,
    /// The payload length the header announces.
    len: u64,
}

impl Header {
    /// The header at the start of `bytes`, once its length bytes have arrived.
    fn peek(bytes: &[u8]) -> Option<Header> {
        let (&first, &second) = (bytes.first()?, bytes.get(1)?);
        let opcode = first & 0x0F;
        let len = match second & 0x7F {
            126 => u64::from(u16::from_be_bytes([*bytes.get(2)?, *bytes.get(3)?])),
            127 => u64::from_be_bytes(bytes.get(2..10)?.try_into().ok()?),
            short => u64::from(short),
        };
        Some(Header { control: opcode & 0x08 != 0, continuation: opcode == 0, len })
    }
}

#[cfg(test)]
mod tests {
    use futures_util::StreamExt;

    use super::*;

    /// A masked client frame header for `opcode` announcing `len` bytes.
    pub(crate) fn header(fin: bool, opcode: u8, len: u64) -> Vec<u8> {
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
        frame.extend_from_slice(&[0, 0, 0, 0]); // a zero mask leaves the payload as it is
        frame
    }

    fn frame(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
        let mut bytes = header(fin, opcode, payload.len() as u64);
        bytes.extend_from_slice(payload);
        bytes
    }

    /// A stream over `chunks`, each arriving as one read.
    fn frames(chunks: Vec<Vec<u8>>, max: usize) -> Frames {
        let stream = futures_util::stream::iter(chunks.into_iter().map(|c| Ok(Bytes::from(c))));
        let boxed: actix_http::BoxedPayloadStream = Box::pin(stream);
        Frames::new(Payload::from(boxed), max)
    }

    async fn all(mut frames: Frames) -> Vec<Result<Incoming, Refused>> {
        let mut out = Vec::new();
        while let Some(item) = frames.next().await {
            out.push(item);
        }
        out
    }

    #[test]
    fn headers_announce_their_length_in_each_encoding() {
        assert_eq!(Header::peek(&header(true, 1, 5)).unwrap().len, 5);
        assert_eq!(Header::peek(&header(true, 1, 300)).unwrap().len, 300);
        assert_eq!(Header::peek(&header(true, 2, 1 << 40)).unwrap().len, 1 << 40);
        assert_eq!(Header::peek(&header(true, 2, 1 << 40)[..9]), None, "the 64-bit length is not all there");
        assert!(Header::peek(&header(true, 9, 0)).unwrap().control);
        assert!(Header::peek(&header(false, 0, 0)).unwrap().continuation);
    }

    #[tokio::test]
    async fn a_header_announcing_too_much_is_refused_before_its_payload() {
        // Only the header arrives: the refusal cannot have waited for the payload.
        let out = all(frames(vec![header(true, 1, 1 << 40)], 1024)).await;
        assert!(matches!(out.as_slice(), [Err(Refused::TooBig)]), "{out:?}");
        let out = all(frames(vec![header(true, 2, 1025)], 1024)).await;
        assert!(matches!(out.as_slice(), [Err(Refused::TooBig)]), "{out:?}");
    }

    #[tokio::test]
    async fn fragments_are_joined_and_refused_once_they_add_up_to_too_much() {
        let joined = vec![frame(false, 1, b"hel"), frame(true, 9, b"p"), frame(false, 0, b"l"), frame(true, 0, b"o")];
        let out = all(frames(joined, 1024)).await;
        assert!(matches!(&out[0], Ok(Incoming::Ping(_))), "{out:?}");
        assert!(matches!(&out[1], Ok(Incoming::Text(t)) if t == "hello"), "{out:?}");
        let big = vec![frame(false, 1, &[b'a'; 600]), header(true, 0, 600)];
        let out = all(frames(big, 1024)).await;
        assert!(matches!(out.as_slice(), [Err(Refused::TooBig)]), "{out:?}");
    }

    #[tokio::test]
    async fn text_that_is_not_utf8_and_broken_frames_are_told_apart() {
        let out = all(frames(vec![frame(true, 1, &[0xff, 0xfe])], 1024)).await;
        assert!(matches!(out.as_slice(), [Err(Refused::NotUtf8)]), "{out:?}");
        let unmasked = vec![vec![0x81, 0x01, b'a']];
        let out = all(frames(unmasked, 1024)).await;
        assert!(matches!(out.as_slice(), [Err(Refused::Protocol(_))]), "{out:?}");
        let big_ping = vec![header(true, 9, 126)];
        let out = all(frames(big_ping, 1024)).await;
        assert!(matches!(out.as_slice(), [Err(Refused::Protocol(_))]), "{out:?}");
        assert_eq!(Refused::TooBig.close_code(), Some(1009));
        assert_eq!(Refused::NotUtf8.close_code(), Some(1007));
    }

    #[tokio::test]
    async fn frames_split_across_reads_and_packed_into_one_read_all_arrive() {
        let mut bytes = frame(true, 1, b"one");
        bytes.extend(frame(true, 2, b"two"));
        bytes.extend(frame(true, 1, &[b'x'; 300]));
        let chunks: Vec<Vec<u8>> = bytes.chunks(3).map(<[u8]>::to_vec).collect();
        for input in [vec![bytes.clone()], chunks] {
            let out = all(frames(input, 1024)).await;
            assert!(matches!(&out[0], Ok(Incoming::Text(t)) if t == "one"), "{out:?}");
            assert!(matches!(&out[1], Ok(Incoming::Binary)), "{out:?}");
            assert!(matches!(&out[2], Ok(Incoming::Text(t)) if t.len() == 300), "{out:?}");
            assert_eq!(out.len(), 3);
        }
    }

    /// A small seeded generator (xorshift): the property runs the same cases every time.
    struct Seeded(u64);

    impl Seeded {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n.max(1)
        }
    }

    /// Bytes a hostile client might send: valid frames, fragments, huge headers, garbage.
    fn hostile_bytes(rng: &mut Seeded) -> Vec<u8> {
        let mut bytes = Vec::new();
        for _ in 0..rng.below(8) + 1 {
            let opcode = [0u8, 1, 2, 8, 9, 10, 3, 15][rng.below(8) as usize];
            let fin = rng.below(3) != 0;
            match rng.below(4) {
                0 => bytes.extend(header(fin, opcode, rng.next() >> rng.below(64))),
                1 => bytes.extend((0..rng.below(40)).map(|_| rng.next() as u8)),
                _ => {
                    let payload: Vec<u8> = (0..rng.below(300)).map(|_| rng.next() as u8).collect();
                    bytes.extend(frame(fin, opcode, &payload));
                }
            }
        }
        bytes
    }

    #[tokio::test]
    async fn whatever_bytes_arrive_in_whatever_reads_nothing_panics_and_nothing_over_the_limit_is_taken() {
        const MAX: usize = 256;
        let mut rng = Seeded(0x9E37_79B9_7F4A_7C15);
        for _ in 0..2_000 {
            let bytes = hostile_bytes(&mut rng);
            let mut chunks = Vec::new();
            let mut rest = &bytes[..];
            while !rest.is_empty() {
                let (chunk, tail) = rest.split_at((rng.below(64) as usize + 1).min(rest.len()));
                chunks.push(chunk.to_vec());
                rest = tail;
            }
            let mut stream = frames(chunks, MAX);
            while let Some(item) = stream.next().await {
                assert!(stream.buf.capacity() <= 2 * (MAX + 14 + 64) + 64, "buffered {}", stream.buf.capacity());
                match item {
                    Ok(Incoming::Text(text)) => assert!(text.len() <= MAX),
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
        }
    }
}

//! Clients that stop reading. A session writes its frames itself (`session::socket`): while a
//! write waits, the session takes no deliveries, so a socket that falls `limits.send_queue`
//! frames behind is closed with 1013 once it reads again, and a write that waits past
//! `limits.client_timeout_secs` ends the socket.

use std::time::Duration;

use serde_json::json;
use tokio::io::AsyncWriteExt;

use super::raw::{Raw, frame};
use crate::helpers::spawn_app_with;

const VISITOR: &str = "/v1/visitor/ws?site=demo";
/// The client's receive buffer: small, so the server's writes stall sooner.
const RECEIVE_BUFFER: u32 = 4096;
/// A ping with the most a control frame may carry: each is answered with as large a pong.
const PING: &[u8] = &[b'p'; 125];
/// A bound on what the client writes while it waits for the server to stall.
const MAX_PINGS: usize = 1_000_000;
/// Messages of 3,900 characters sent past a socket that does not read: about 6 MB of its
/// copies, more than a socket's kernel buffers take.
const SLOW_MESSAGES: usize = 1_500;

/// A visitor past `hello` (welcome read), on a socket that reads slowly.
async fn visitor(port: u16) -> (Raw, String) {
    let mut socket = Raw::open_with_receive_buffer(port, VISITOR, RECEIVE_BUFFER).await.expect("upgraded");
    socket.send_text(&json!({"type": "hello"}).to_string()).await;
    let welcome: serde_json::Value = serde_json::from_str(&socket.text_containing("\"welcome\"").await).unwrap();
    (socket, welcome["token"].as_str().unwrap().to_owned())
}

/// Limits for a client that floods: pings are answered, not refused for rate.
fn unlimited(settings: &mut baton::config::Settings) {
    settings.limits.rate_per_sec = 1e9;
    settings.limits.rate_burst = u32::MAX;
    settings.limits.rate_strikes = u32::MAX;
    settings.limits.conversation_rate_per_sec = 1e9;
    settings.limits.conversation_rate_burst = u32::MAX;
}

#[tokio::test]
async fn a_client_that_stops_reading_is_dropped_once_a_write_has_waited_for_the_client_timeout() {
    let app = spawn_app_with(|s| {
        unlimited(s);
        s.limits.heartbeat_secs = 1;
        s.limits.client_timeout_secs = 2;
    })
    .await;
    let (mut socket, _) = visitor(app.port).await;
    // The client keeps sending (so it is never silent) and reads nothing: the server's answers
    // fill both sides' buffers, its session waits on a write, and it stops reading too. What
    // ends the socket is that write, which the client never takes.
    let ping = frame(true, 9, PING);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    for sent in 0.. {
        assert!(sent < MAX_PINGS, "the server kept reading without the client reading anything");
        match tokio::time::timeout_at(deadline, socket.stream.write_all(&ping)).await {
            Ok(Ok(())) => continue,
            Ok(Err(_)) => break,
            Err(_) => panic!("after 30 s the server still holds the socket it cannot write to"),
        }
    }
    // The server goes on serving others.
    let (mut other, _) = visitor(app.port).await;
    other.send_text(&json!({"type": "message", "client_id": "c1", "text": "hello?"}).to_string()).await;
    other.text_containing("\"ack\"").await;
}

#[tokio::test]
async fn a_socket_that_falls_more_than_the_send_queue_behind_while_not_reading_is_closed_with_1013() {
    let app = spawn_app_with(|s| {
        unlimited(s);
        s.limits.send_queue = 16;
    })
    .await;
    let (mut slow, token) = visitor(app.port).await;
    let (mut reader, _) = app.resume_visitor(&token, 0).await;
    // The conversation goes on from the other socket: more than the kernel's buffers of the
    // slow socket hold (4 MiB at most here), then more events than it may queue.
    let text = "x".repeat(3_900);
    for i in 0..SLOW_MESSAGES {
        reader.say(&format!("m{i}"), &text).await;
    }
    // Once the slow socket reads again, its session finishes the write it waited on, finds it
    // was kicked, and closes it: the client resumes from its last seq.
    assert_eq!(slow.close_code().await, Some(1013));
}

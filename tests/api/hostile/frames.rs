//! Frames that announce more than Baton takes: refused at the header, closed with 1009, and
//! nothing buffered; other broken frames get their own close codes.

use serde_json::json;

use super::Process;
use super::raw::{Raw, frame, header};
use crate::helpers::spawn_app;

const VISITOR: &str = "/v1/visitor/ws?site=demo";
const ORIGIN: (&str, &[u8]) = ("Origin", b"http://localhost:3000");
/// What an attacker sends after each header (the header announces far more).
const PAYLOAD_BYTES: usize = 64 * 1024 * 1024;
/// How far the server's resident memory may rise over its peak before the attack.
const ALLOWED_GROWTH_KIB: u64 = 32 * 1024;

/// Sends a header announcing 2^40 bytes, then keeps writing payload; returns the close code.
async fn flood(mut socket: Raw) -> Option<u16> {
    let mut first = header(true, 1, 1 << 40);
    first.extend(vec![b'a'; 1024 * 1024]);
    socket.write(&first).await;
    let code = socket.close_code().await;
    let chunk = vec![b'a'; 1024 * 1024];
    for _ in 0..PAYLOAD_BYTES / chunk.len() {
        if !socket.write(&chunk).await {
            break;
        }
    }
    code
}

#[tokio::test]
async fn headers_announcing_a_terabyte_close_with_1009_at_once_and_the_server_holds_no_more_memory() {
    let server = Process::start().await;
    // Warm up: one ordinary conversation, so the baseline includes what a socket normally costs.
    let mut warm = Raw::open(server.port, VISITOR, &[ORIGIN]).await.unwrap();
    warm.send_text(&json!({"type": "hello"}).to_string()).await;
    warm.text_containing("\"welcome\"").await;
    let (rss_before, peak_before) = (server.status_kib("VmRSS"), server.status_kib("VmHWM"));

    let mut attacks = Vec::new();
    for _ in 0..2 {
        // A visitor before `hello`, and one after it.
        attacks.push(tokio::spawn(flood(Raw::open(server.port, VISITOR, &[ORIGIN]).await.unwrap())));
        let mut said_hello = Raw::open(server.port, VISITOR, &[ORIGIN]).await.unwrap();
        said_hello.send_text(&json!({"type": "hello"}).to_string()).await;
        said_hello.text_containing("\"welcome\"").await;
        attacks.push(tokio::spawn(flood(said_hello)));
        // An agent socket that never authenticates.
        attacks.push(tokio::spawn(flood(Raw::open(server.port, "/v1/agent/ws", &[]).await.unwrap())));
    }
    for attack in attacks {
        assert_eq!(attack.await.unwrap(), Some(1009));
    }
    let peak_after = server.status_kib("VmHWM");
    assert!(
        peak_after <= peak_before.max(rss_before + ALLOWED_GROWTH_KIB),
        "the server's peak memory went from {peak_before} KiB (resident {rss_before} KiB) to {peak_after} KiB"
    );
    // The server still serves.
    let mut after = Raw::open(server.port, VISITOR, &[ORIGIN]).await.unwrap();
    after.send_text(&json!({"type": "hello"}).to_string()).await;
    after.text_containing("\"welcome\"").await;
}

#[tokio::test]
async fn a_hello_bigger_than_the_first_frame_limit_closes_with_1009() {
    let app = spawn_app().await;
    let mut socket = Raw::open(app.port, VISITOR, &[ORIGIN]).await.unwrap();
    let padding = "x".repeat(9 * 1024);
    socket.send_text(&json!({"type": "hello", "locale": padding}).to_string()).await;
    assert_eq!(socket.close_code().await, Some(1009));
}

#[tokio::test]
async fn continuation_frames_adding_up_to_more_than_64_kib_close_with_1009() {
    let app = spawn_app().await;
    let mut socket = Raw::open(app.port, VISITOR, &[ORIGIN]).await.unwrap();
    socket.send_text(&json!({"type": "hello"}).to_string()).await;
    socket.text_containing("\"welcome\"").await;
    let piece = vec![b' '; 40 * 1024];
    socket.write(&frame(false, 1, &piece)).await;
    socket.write(&frame(false, 0, &piece)).await;
    assert_eq!(socket.close_code().await, Some(1009));
}

#[tokio::test]
async fn fragments_within_the_limit_make_one_message_and_a_ping_between_them_is_answered() {
    let app = spawn_app().await;
    let mut socket = Raw::open(app.port, VISITOR, &[ORIGIN]).await.unwrap();
    let hello = json!({"type": "hello"}).to_string();
    let (a, b) = hello.split_at(5);
    socket.write(&frame(false, 1, a.as_bytes())).await;
    socket.write(&frame(true, 9, b"hi")).await;
    socket.write(&frame(true, 0, b.as_bytes())).await;
    socket.text_containing("\"welcome\"").await;
}

#[tokio::test]
async fn text_that_is_not_utf8_closes_with_1007() {
    let app = spawn_app().await;
    let mut socket = Raw::open(app.port, VISITOR, &[ORIGIN]).await.unwrap();
    socket.write(&frame(true, 1, &[b'{', 0xff, 0xfe, b'}'])).await;
    assert_eq!(socket.close_code().await, Some(1007));
}

//! An agent's capacity holds however their accepts race: two sockets of one agent with
//! `max_chats = 1` each accept a different waiting chat at the same moment, 50 times, and the
//! agent never holds two. (The same across two nodes is in `cluster.rs`.)

use std::time::Duration;

use baton::config::Routing;
use baton::protocol::ConversationId;
use baton::store::Stores;
use serde_json::{Value, json};

use crate::helpers::{Client, FRAME_WAIT, agent, spawn_app_with};

const ROUNDS: usize = 50;

/// The chats `agent_id` holds now.
pub async fn held_by(store: &Stores, agent_id: &str) -> Vec<ConversationId> {
    let assignments = store.handoff.assignments().await.unwrap();
    assignments.into_iter().filter(|a| a.agent_id == agent_id).map(|a| a.conversation_id).collect()
}

/// The first `error` frame either socket gets (their other frames are skipped).
pub async fn first_error(a: &mut Client, b: &mut Client) -> Value {
    tokio::time::timeout(FRAME_WAIT, async {
        tokio::select! {
            frame = a.next_of_type("error") => frame,
            frame = b.next_of_type("error") => frame,
        }
    })
    .await
    .expect("one of the two accepts is refused")
}

/// Polls until `done` holds (the store settles after the frames that caused it).
pub async fn eventually<F: std::future::Future<Output = bool>>(what: &str, mut done: impl FnMut() -> F) {
    let deadline = tokio::time::Instant::now() + FRAME_WAIT;
    while !done().await {
        assert!(tokio::time::Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn two_sockets_of_an_agent_with_room_for_one_chat_never_take_two() {
    let app = spawn_app_with(|s| {
        s.agents = vec![agent("ana", "token-ana", &["support"], 1)];
        s.sites.iter_mut().for_each(|site| site.handoff.routing = Routing::Manual);
        (s.limits.rate_per_sec, s.limits.rate_burst) = (10_000.0, 10_000);
    })
    .await;
    let (mut first, _) = app.connect_agent("token-ana").await;
    let (mut second, _) = app.connect_agent("token-ana").await;
    for round in 0..ROUNDS {
        let (mut visitor_a, welcome_a) = app.escalated_visitor().await;
        let (mut visitor_b, welcome_b) = app.escalated_visitor().await;
        let (a, b) = (welcome_a["conversation_id"].clone(), welcome_b["conversation_id"].clone());
        first.send(json!({"type": "accept", "conversation_id": a})).await;
        second.send(json!({"type": "accept", "conversation_id": b})).await;
        let refused = first_error(&mut first, &mut second).await;
        assert_eq!(refused["code"], "forbidden", "round {round}: {refused}");
        eventually("one accept wins", || async { !held_by(&app.store, "ana").await.is_empty() }).await;
        let held = held_by(&app.store, "ana").await;
        assert_eq!(held.len(), 1, "round {round}: ana holds {held:?}");
        // Both chats close, so the next round starts from an empty desk.
        for visitor in [&mut visitor_a, &mut visitor_b] {
            visitor.send(json!({"type": "end"})).await;
        }
        eventually("ana's chat is released", || async { held_by(&app.store, "ana").await.is_empty() }).await;
    }
}

//! An agent looks at a waiting chat before taking it: the transcript, read-only; nothing
//! changes hands, and a chat that is not waiting cannot be looked into.

use baton::config::{Routing, Settings};
use serde_json::json;

use crate::helpers::{agent, spawn_app_with};

fn manual(s: &mut Settings) {
    s.agents = vec![agent("ana", "token-ana", &["support"], 2), agent("bo", "token-bo", &["support"], 2)];
    s.sites.iter_mut().for_each(|site| site.handoff.routing = Routing::Manual);
}

#[tokio::test]
async fn a_waiting_chat_can_be_previewed_without_taking_it_and_a_taken_one_cannot() {
    let app = spawn_app_with(manual).await;
    let (mut ana, _) = app.connect_agent("token-ana").await;
    let (mut bo, _) = app.connect_agent("token-bo").await;
    let (mut visitor, welcome) = app.connect_visitor().await;
    let id = welcome["conversation_id"].clone();
    visitor.send(json!({"type": "message", "client_id": "v1", "text": "Where is my parcel?"})).await;
    visitor.next_of_type("ack").await;
    visitor.send(json!({"type": "request_human"})).await;
    while visitor.next_of_type("state").await["state"] != "queued" {}

    ana.send(json!({"type": "preview", "conversation_id": id})).await;
    let preview = ana.next_of_type("preview").await;
    let view = &preview["conversation"];
    assert_eq!(view["conversation_id"], id);
    assert_eq!(view["state"], "queued");
    let said = view["events"].as_array().unwrap().iter().any(|e| e["text"] == "Where is my parcel?");
    assert!(said, "the transcript so far");

    // Still waiting: bo can take it, and after that ana can no longer look in.
    bo.send(json!({"type": "accept", "conversation_id": id})).await;
    bo.next_of_type("assigned").await;
    ana.send(json!({"type": "preview", "conversation_id": id})).await;
    assert_eq!(ana.next_of_type("error").await["code"], "forbidden");
    ana.send(json!({"type": "preview", "conversation_id": "00000000-0000-4000-8000-000000000000"})).await;
    assert_eq!(ana.next_of_type("error").await["code"], "not_found");
}

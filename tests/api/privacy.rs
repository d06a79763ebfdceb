//! `baton privacy export|erase` through the real path: a node on Redis, visitors who left
//! their email, the archive caught up; then the commands, as an operator runs them.

use std::process::Command;

use baton::archive::Archive;
use baton::archive::sql::SqlArchive;
use baton::protocol::ConversationId;
use serde_json::{Value, json};

use crate::archive::archive_matches_live;
use crate::cluster::{ClusterConfig, Node};
use crate::redis_server::{RedisServer, namespace};

/// `baton privacy ARGS` against this node's stores; its one JSON line.
fn privacy(config: &ClusterConfig, redis: &RedisServer, ns: &str, args: &[&str]) -> Value {
    let output = Command::new(env!("CARGO_BIN_EXE_baton"))
        .arg("privacy")
        .args(args)
        .env("BATON_CONFIG", &config.dir)
        .env("BATON__STORE__REDIS_URL", redis.url())
        .env("BATON__STORE__NAMESPACE", ns)
        .env("BATON__ARCHIVE__URL", archive_url(config))
        .output()
        .expect("baton privacy runs");
    assert!(output.status.success(), "baton privacy failed: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("one JSON object")
}

fn archive_url(config: &ClusterConfig) -> String {
    format!("sqlite://{}/archive.sqlite", config.dir.display())
}

/// A visitor on `node` who asked for a person and left a message for `email`.
async fn leaves_a_message(node: &Node, email: &str) -> ConversationId {
    let (mut visitor, welcome) = node.app.escalated_visitor().await;
    visitor.collect_until(|f| f["actions"][0]["id"] == "leave_message").await;
    visitor.send(json!({"type": "leave_message", "email": email, "text": "Please call me about order 1042"})).await;
    visitor.collect_until(|f| f["from"] == "system" && f["text"].as_str().is_some_and(|t| t.contains(email))).await;
    serde_json::from_value(welcome["conversation_id"].clone()).unwrap()
}

#[tokio::test]
async fn a_visitor_found_by_the_email_they_left_is_exported_then_erased_everywhere_with_an_audit_entry() {
    let redis = RedisServer::start();
    let config = ClusterConfig::new();
    let ns = namespace();
    let node = Node::start_with(&config.dir, &redis, &ns, &[("BATON__ARCHIVE__POLL_MS", "20".to_owned())]).await;
    let ann = leaves_a_message(&node, "ann@example.com").await;
    let bob = leaves_a_message(&node, "bob@example.com").await;
    let archive = SqlArchive::connect(&archive_url(&config)).await.unwrap();
    let copies = archive_matches_live(&node.app.store, &archive, &[ann, bob]).await;

    let held = privacy(&config, &redis, &ns, &["export", "--email", "Ann@Example.com"]);
    let conversations = held["conversations"].as_array().unwrap();
    assert_eq!(conversations.len(), 1, "{held}");
    assert_eq!(conversations[0]["conversation_id"], json!(ann));
    assert_eq!(conversations[0]["events"], json!(copies[0].events));
    assert_eq!(held["left_messages"][0]["email"], "ann@example.com");

    let erased = privacy(&config, &redis, &ns, &["erase", "--email", "ann@example.com"]);
    let events = copies[0].events.len() as u64;
    assert_eq!(erased["archive"], json!({"conversations": 1, "events": events}), "{erased}");
    assert_eq!(erased["live"], json!({"conversations": 1, "left_messages": 1, "visitor_index": 0}), "{erased}");
    assert!(node.app.store.log.conversation(ann).await.unwrap().is_none(), "gone from the live store");
    assert!(archive.conversation(ann).await.unwrap().is_none(), "gone from the archive");
    let left = baton::store::Handoff::left_messages(&*node.app.store.handoff).await;
    assert!(left.unwrap().iter().all(|m| m.email != "ann@example.com"));
    assert!(archive.conversation(bob).await.unwrap().is_some(), "another visitor's data stays");
    let again = privacy(&config, &redis, &ns, &["export", "--email", "ann@example.com"]);
    assert_eq!(
        (again["conversations"].as_array().unwrap().len(), again["left_messages"].as_array().unwrap().len()),
        (0, 0)
    );

    let audit = archive.audit_log().await.unwrap();
    let actions: Vec<&str> = audit.iter().map(|(_, action, _)| action.as_str()).collect();
    assert_eq!(actions, ["privacy_export", "privacy_erase", "privacy_export"]);
    assert!(audit.iter().all(|(_, _, detail)| !detail.contains("ann")), "no personal data in the audit: {audit:?}");
}

#[test]
fn a_privacy_request_names_exactly_one_visitor() {
    for args in [&["privacy", "erase"][..], &["privacy", "erase", "--email", "a@b.c", "--user-id", "u1"]] {
        let output = Command::new(env!("CARGO_BIN_EXE_baton")).args(args).output().unwrap();
        assert!(!output.status.success(), "{args:?} is refused");
    }
}

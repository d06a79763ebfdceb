//! The archive through the real path: conversations on real sockets reach the archive event
//! by event, `baton export` prints them, and nothing is lost or doubled when a node is
//! SIGKILLed and the database restarts under traffic.

use std::time::Duration;

use baton::archive::sql::SqlArchive;
use baton::archive::{Archive, ArchivedConversation};
use baton::protocol::ConversationId;
use baton::store::Stores;
use futures_util::SinkExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::cluster::{ClusterConfig, Node, agent_says, taken_across_nodes};
use crate::helpers::{Client, Next, TestApp, spawn_app};
use crate::postgres_server::PostgresServer;
use crate::redis_server::{RedisServer, namespace};

/// How long the archive may take to catch up with the live log in a test (a lapsed claim of
/// a killed node included).
const CATCH_UP: Duration = Duration::from_secs(60);

fn conversation_id(welcome: &Value) -> ConversationId {
    serde_json::from_value(welcome["conversation_id"].clone()).unwrap()
}

/// Waits until the archive holds every live event of these conversations, then checks it
/// holds exactly them, event by event, as on the wire, and returns the archived copies.
pub(crate) async fn archive_matches_live(
    stores: &Stores,
    archive: &dyn Archive,
    ids: &[ConversationId],
) -> Vec<ArchivedConversation> {
    let deadline = tokio::time::Instant::now() + CATCH_UP;
    let mut archived = Vec::new();
    for id in ids {
        let copy = loop {
            // The backlog first: a copy read before an archiver's last round finished can be
            // that round's predecessor (the events of one read, the state of an earlier one).
            let drained = stores.feed.backlog().await.unwrap() == 0;
            let live = stores.log.conversation(*id).await.unwrap().expect("live conversation");
            let copy = archive.conversation(*id).await.ok().flatten();
            let caught_up = copy.as_ref().is_some_and(|c| c.events.len() as u64 == live.last_seq);
            if caught_up && drained {
                break copy.unwrap();
            }
            assert!(tokio::time::Instant::now() < deadline, "the archive never caught up with {id}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let live = stores.log.events_after(*id, 0, 10_000).await.unwrap();
        let live: Vec<Value> = live.iter().map(|e| serde_json::to_value(&**e).unwrap()).collect();
        assert_eq!(copy.events, live, "the archive holds {id}'s events exactly once, as on the wire");
        let state = stores.log.state(*id).await.unwrap().unwrap();
        assert_eq!(json!(copy.state), json!(state));
        archived.push(copy);
    }
    archived
}

/// `baton export ARGS` against `url`; its stdout lines as JSON.
fn export(url: &str, args: &[&str]) -> Vec<Value> {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_baton"))
        .arg("export")
        .args(args)
        .env("BATON_CONFIG", crate::helpers::repo_root().join("config"))
        .env("BATON__ARCHIVE__URL", url)
        .output()
        .expect("baton export runs");
    assert!(output.status.success(), "baton export failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap().lines().map(|line| serde_json::from_str(line).unwrap()).collect()
}

fn sqlite_url(app: &TestApp) -> String {
    app._dir.as_ref().unwrap().sqlite_url()
}

#[tokio::test]
async fn a_whole_conversation_reaches_the_archive_and_baton_export_prints_it() {
    let app = spawn_app().await;
    let (mut visitor, welcome) = app.connect_visitor().await;
    visitor.say("v1", "How long do refunds take?").await;
    visitor.next_bot_message().await;
    visitor.send(json!({"type": "request_human"})).await;
    visitor.next_of_type("state").await;
    let (mut agent, _) = app.connect_agent("demo-agent-token").await;
    let id = welcome["conversation_id"].clone();
    agent.send(json!({"type": "accept", "conversation_id": id})).await;
    agent.next_of_type("assigned").await;
    agent.send(json!({"type": "note", "conversation_id": id, "text": "Refund already issued."})).await;
    agent.next_of_type("note").await;
    agent_says(&mut agent, &id, "a1", "Your refund went out yesterday.").await;
    agent.send(json!({"type": "resolve", "conversation_id": id})).await;
    visitor.next_of_type("csat_request").await;
    visitor.send(json!({"type": "csat", "score": 5, "comment": "Quick!"})).await;
    let ids = [conversation_id(&welcome)];
    let archive = app.archive.clone().unwrap();
    // The rating is a record, not an event: wait for it too.
    let deadline = tokio::time::Instant::now() + CATCH_UP;
    let copy = loop {
        let copy = archive_matches_live(&app.store, &*archive, &ids).await.remove(0);
        if copy.records.get("rating").is_some() {
            break copy;
        }
        assert!(tokio::time::Instant::now() < deadline, "the rating never reached the archive");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(copy.state, "resolved");
    assert_eq!(copy.records["rating"]["score"], 5);
    assert_eq!(copy.records["escalation"]["reason"], "explicit_request");
    let kinds: Vec<&str> = copy.events.iter().filter_map(|e| e["type"].as_str()).collect();
    assert!(kinds.contains(&"note") && kinds.contains(&"state"), "{kinds:?}");

    let lines = export(&sqlite_url(&app), &["--site", "demo"]);
    let line = lines.iter().find(|l| l["conversation_id"] == id).expect("the conversation is exported");
    assert_eq!(line["events"], json!(copy.events), "events as on the wire, notes included");
    assert_eq!((line["site"].as_str(), line["state"].as_str()), (Some("demo"), Some("resolved")));
    assert!(line["started_at"].is_string() && line["visitor"].is_object(), "{line}");
    assert!(export(&sqlite_url(&app), &["--site", "elsewhere"]).is_empty());
    assert!(export(&sqlite_url(&app), &["--since", "2999-01-01T00:00:00Z"]).is_empty());
}

#[tokio::test]
async fn a_conversation_the_visitor_never_wrote_to_is_not_archived_until_they_do() {
    let app = spawn_app().await;
    let (mut silent, silent_welcome) = app.connect_visitor().await;
    let (mut writer, writer_welcome) = app.connect_visitor().await;
    writer.say("w1", "How long do refunds take?").await;
    writer.next_bot_message().await;
    let archive = app.archive.clone().unwrap();
    // Once the written-to one is archived and nothing waits, the greeting-only one is not there.
    archive_matches_live(&app.store, &*archive, &[conversation_id(&writer_welcome)]).await;
    let silent_id = conversation_id(&silent_welcome);
    assert!(archive.conversation(silent_id).await.unwrap().is_none(), "a hello alone is not archived");
    assert!(export(&sqlite_url(&app), &[]).iter().all(|line| line["conversation_id"] != json!(silent_id)));
    // Its first message makes it a real conversation: archived whole, greeting included.
    silent.say("s1", "Do you ship to Canada?").await;
    silent.next_bot_message().await;
    let copy = archive_matches_live(&app.store, &*archive, &[silent_id]).await.remove(0);
    assert_eq!(copy.events[0]["seq"], 1, "from its first event: {:?}", copy.events[0]);
}

#[tokio::test]
async fn a_bad_export_argument_is_a_clear_error() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_baton"))
        .args(["export", "--since", "yesterday"])
        .env("BATON_CONFIG", crate::helpers::repo_root().join("config"))
        .env("BATON__ARCHIVE__URL", "sqlite:///nonexistent-dir-for-sure/x.sqlite?mode=ro")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--since"));
}

/// A visitor who chats on `node` until `messages` are sent or the node dies; returns its
/// conversation.
async fn chatty_visitor(node: &TestApp, name: &str, messages: usize) -> (ConversationId, tokio::task::JoinHandle<()>) {
    let (client, welcome) = node.connect_visitor().await;
    let name = name.to_owned();
    let task = tokio::spawn(async move { chat(client, &name, messages).await });
    (conversation_id(&welcome), task)
}

async fn chat(mut client: Client, name: &str, messages: usize) {
    for i in 0..messages {
        let frame = json!({"type": "message", "client_id": format!("{name}-{i}"), "text": format!("Question {i} about shipping")});
        if client.ws.send(Message::text(frame.to_string())).await.is_err() {
            return;
        }
        loop {
            match client.next().await {
                Next::Frame(frame) if frame["type"] == "ack" => break,
                Next::Frame(_) => continue,
                Next::Closed(_) => return,
            }
        }
        tokio::time::sleep(Duration::from_millis(15)).await;
    }
}

#[tokio::test]
async fn every_event_reaches_the_archive_once_through_a_killed_node_and_a_database_restart() {
    let redis = RedisServer::start();
    let mut postgres = tokio::task::spawn_blocking(PostgresServer::start).await.unwrap();
    let config = ClusterConfig::with("manual", 5, "[limits]\nrate_per_sec = 10000.0\nrate_burst = 10000\n");
    let ns = namespace();
    let env = [
        ("BATON__ARCHIVE__URL", postgres.url()),
        ("BATON__ARCHIVE__POLL_MS", "20".to_owned()),
        ("BATON__ARCHIVE__LEASE_SECS", "2".to_owned()),
    ];
    let mut node_a = Node::start_with(&config.dir, &redis, &ns, &env).await;
    let node_b = Node::start_with(&config.dir, &redis, &ns, &env).await;
    let mut ids = Vec::new();
    let mut tasks = Vec::new();
    for (i, node) in [&node_a, &node_b, &node_a, &node_b].into_iter().enumerate() {
        let (id, task) = chatty_visitor(&node.app, &format!("v{i}"), 40).await;
        ids.push(id);
        tasks.push(task);
    }
    // Under traffic: node A dies mid-copy, then the database goes away and comes back.
    tokio::time::sleep(Duration::from_millis(300)).await;
    node_a.kill();
    postgres = tokio::task::spawn_blocking(move || {
        postgres.kill();
        postgres
    })
    .await
    .unwrap();
    let (id, task) = chatty_visitor(&node_b.app, "during-outage", 20).await;
    ids.push(id);
    tasks.push(task);
    tokio::time::sleep(Duration::from_millis(700)).await;
    postgres = tokio::task::spawn_blocking(move || {
        postgres.restart();
        postgres
    })
    .await
    .unwrap();
    let node_c = Node::start_with(&config.dir, &redis, &ns, &env).await;
    let (_visitor, _agent, welcome) = taken_across_nodes(&node_b, &node_c).await;
    ids.push(conversation_id(&welcome));
    for task in tasks {
        let _ = task.await;
    }

    let archive = SqlArchive::connect(&postgres.url()).await.unwrap();
    let copies = archive_matches_live(&node_b.app.store, &archive, &ids).await;
    let events: usize = copies.iter().map(|c| c.events.len()).sum();
    assert!(events > 100, "traffic made {events} events");

    // The live store forgets everything; the record stays.
    drop(redis);
    let exported = export(&postgres.url(), &[]);
    for copy in &copies {
        let line = exported.iter().find(|l| l["conversation_id"] == json!(copy.conversation_id)).expect("exported");
        assert_eq!(line["events"], json!(copy.events));
    }
    drop(node_c);
}

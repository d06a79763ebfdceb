//! Several real `baton` processes on one real `redis-server`: what "behave as one service"
//! means, shown with the binary operators run. Each test starts its own Redis and nodes
//! (namespace of its own, ports picked by the OS) and kills them when it ends.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use baton::protocol::ConversationId;
use baton::store::Stores;
use baton::store::redis::RedisStore;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::helpers::{Client, Next, TestApp, repo_root};
use crate::redis_server::{RedisServer, namespace};
use crate::store_contract::redis_settings;

/// A node must be listening and ready within this (a debug build loading its knowledge).
const START_WAIT: Duration = Duration::from_secs(30);
/// `/readyz` must change within this after Redis goes away or comes back.
const READY_WAIT: Duration = Duration::from_secs(15);

/// One `baton serve` process. Killed with SIGKILL when dropped.
pub(crate) struct Node {
    child: Child,
    /// The node's HTTP port, with typed socket helpers; its `store` reads the shared Redis.
    pub(crate) app: TestApp,
}

impl Node {
    pub(crate) async fn start(config: &Path, redis: &RedisServer, namespace: &str) -> Node {
        Node::start_with(config, redis, namespace, &[]).await
    }

    /// A node with these environment variables besides (they win over the defaults here).
    pub(crate) async fn start_with(
        config: &Path,
        redis: &RedisServer,
        namespace: &str,
        env: &[(&str, String)],
    ) -> Node {
        let mut child = Command::new(env!("CARGO_BIN_EXE_baton"))
            .env("BATON_CONFIG", config)
            .env("BATON__SERVER__PORT", "0")
            .env("BATON__STORE__REDIS_URL", redis.url())
            .env("BATON__STORE__NAMESPACE", namespace)
            // Every test connects from 127.0.0.1: the per-address limits are lifted.
            .env("BATON__LIMITS__UPGRADES_PER_IP_BURST", "1000000")
            .env("BATON__LIMITS__CONVERSATIONS_PER_IP_BURST", "1000000")
            .env("BATON__LIMITS__CONVERSATIONS_PER_SITE_BURST", "1000000")
            .env("BATON__LIMITS__AUTH_FAILURES_PER_IP_BURST", "1000000")
            .env("BATON__ARCHIVE__URL", format!("sqlite://{}/archive.sqlite", config.display()))
            .env("BATON__ATTACHMENTS__PATH", config.join("attachments"))
            .env("BATON_LOG_FORMAT", "json")
            .env("RUST_LOG", "info")
            .env_remove("OPENAI_API_KEY")
            .env_remove("OPENAI_BASE_URL")
            .envs(env.iter().map(|(key, value)| (*key, value)))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the baton binary starts");
        let port = listening_port(&mut child).await;
        let store = RedisStore::connect(&redis_settings(&redis.url(), namespace), Arc::new(|_| {}))
            .await
            .expect("the test's own view of the store");
        let app = TestApp {
            port,
            llm: None,
            shutdown: CancellationToken::new(),
            store: Stores::new(Arc::new(store)),
            archive: None,
            attachments: None,
            _dir: None,
        };
        let node = Node { child, app };
        node.wait_ready(200).await;
        node
    }

    pub(crate) fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Polls `/readyz` until it answers `status`.
    async fn wait_ready(&self, status: u16) {
        let deadline = tokio::time::Instant::now() + if status == 200 { START_WAIT } else { READY_WAIT };
        loop {
            let answer = reqwest::get(self.app.url("/readyz")).await.map(|r| r.status().as_u16());
            if answer.as_ref().ok() == Some(&status) {
                return;
            }
            assert!(tokio::time::Instant::now() < deadline, "/readyz never answered {status} (last: {answer:?})");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Reads the node's JSON logs (echoing them with `TEST_LOG`) until it says where it listens.
pub async fn listening_port(child: &mut Child) -> u16 {
    listening_port_and_logs(child).await.0
}

/// Every JSON log line a node wrote so far (it keeps filling while the node runs).
pub type Logs = Arc<std::sync::Mutex<Vec<Value>>>;

/// [`listening_port`], and the node's logs as they come.
pub async fn listening_port_and_logs(child: &mut Child) -> (u16, Logs) {
    let stderr = child.stderr.take().expect("stderr is piped");
    let (tx, rx) = tokio::sync::oneshot::channel();
    let logs: Logs = Arc::default();
    let kept = logs.clone();
    std::thread::spawn(move || {
        let echo = std::env::var("TEST_LOG").is_ok();
        let mut tx = Some(tx);
        // Reads to the end so the node never blocks on a full pipe.
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if echo {
                eprintln!("{line}");
            }
            let Ok(log) = serde_json::from_str::<Value>(&line) else { continue };
            if log["fields"]["message"] == "baton listening"
                && let (Some(port), Some(tx)) = (log["fields"]["port"].as_u64(), tx.take())
            {
                let _ = tx.send(u16::try_from(port).expect("a port"));
            }
            kept.lock().unwrap().push(log);
        }
    });
    let port =
        tokio::time::timeout(START_WAIT, rx).await.expect("the node listens in time").expect("the node logs its port");
    (port, logs)
}

/// Rate limits out of the way of tests that send many frames on one socket.
const LIFTED_RATE: &str = "[limits]\nrate_per_sec = 10000.0\nrate_burst = 10000\n";

/// A configuration folder: the shipped demo site (with manual routing by default: agents
/// pick chats, so two can race) and two agents, `ana` and `bo`.
pub(crate) struct ClusterConfig {
    pub(crate) dir: PathBuf,
}

impl ClusterConfig {
    pub(crate) fn new() -> ClusterConfig {
        ClusterConfig::with("manual", 5, "")
    }

    /// The demo site with this `routing`, agents with room for `max_chats`, and `extra`
    /// settings (TOML) for the nodes.
    pub(crate) fn with(routing: &str, max_chats: u32, extra: &str) -> ClusterConfig {
        let dir = std::env::temp_dir().join(format!("baton-cluster-{}", ConversationId::new()));
        copy_dir(&repo_root().join("config/sites"), &dir.join("sites"));
        let site = dir.join("sites/demo.toml");
        let demo = std::fs::read_to_string(&site).unwrap();
        std::fs::write(&site, with_routing(&demo, routing)).unwrap();
        let agents: String = ["ana", "bo"]
            .iter()
            .map(|id| {
                let hash = crate::helpers::agent(id, &format!("token-{id}"), &["support"], 5).token_sha256;
                format!(
                    "[[agents]]\nid = \"{id}\"\nname = \"Agent {id}\"\nteams = [\"support\"]\nmax_chats = {max_chats}\ntoken_sha256 = \"{hash}\"\n\n"
                )
            })
            .collect();
        std::fs::write(dir.join("local.toml"), format!("{extra}\n{agents}")).unwrap();
        ClusterConfig { dir }
    }
}

impl Drop for ClusterConfig {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The site file with `routing = "<routing>"` in its `[handoff]` table.
fn with_routing(site: &str, routing: &str) -> String {
    let kept: Vec<&str> = site.lines().filter(|line| !line.trim_start().starts_with("routing")).collect();
    let kept = kept.join("\n");
    if kept.lines().any(|line| line.trim() == "[handoff]") {
        kept.replacen("[handoff]", &format!("[handoff]\nrouting = \"{routing}\""), 1)
    } else {
        format!("{kept}\n\n[handoff]\nrouting = \"{routing}\"\n")
    }
}

pub(crate) fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A visitor on `visitor_node` whose escalated chat `ana` on `agent_node` has taken; both
/// sockets have seen the takeover.
pub(crate) async fn taken_across_nodes(visitor_node: &Node, agent_node: &Node) -> (Client, Client, Value) {
    let (mut visitor, welcome) = visitor_node.app.escalated_visitor().await;
    let (mut ana, ready) = agent_node.app.connect_agent("token-ana").await;
    let id = welcome["conversation_id"].clone();
    assert!(ready["queue"].as_array().unwrap().iter().any(|item| item["conversation_id"] == id), "{ready}");
    ana.send(json!({"type": "accept", "conversation_id": id})).await;
    ana.next_of_type("assigned").await;
    let state = visitor.next_of_type("state").await;
    assert_eq!((state["state"].as_str(), state["agent"]["id"].as_str()), (Some("agent"), Some("ana")));
    (visitor, ana, welcome)
}

/// The agent writes; returns the `ack`.
pub(crate) async fn agent_says(agent: &mut Client, id: &Value, client_id: &str, text: &str) -> Value {
    agent.send(json!({"type": "message", "conversation_id": id, "client_id": client_id, "text": text})).await;
    agent.next_of_type("ack").await
}

/// The next `message` event from `from`.
async fn next_message_from(client: &mut Client, from: &str) -> Value {
    loop {
        let frame = client.next_of_type("message").await;
        if frame["from"] == from {
            return frame;
        }
    }
}

/// Reads until a `message` event with this text (earlier frames are skipped).
async fn message_with_text(client: &mut Client, text: &str) -> Value {
    loop {
        let frame = client.next_of_type("message").await;
        if frame["text"] == text {
            return frame;
        }
    }
}

#[tokio::test]
async fn a_visitor_and_an_agent_on_two_nodes_talk_live_and_a_killed_nodes_visitor_resumes_on_the_other() {
    let redis = RedisServer::start();
    let config = ClusterConfig::new();
    let ns = namespace();
    let mut node_a = Node::start(&config.dir, &redis, &ns).await;
    let node_b = Node::start(&config.dir, &redis, &ns).await;
    let (mut visitor, mut ana, welcome) = taken_across_nodes(&node_a, &node_b).await;
    let id = welcome["conversation_id"].clone();

    // Both ways, live, across nodes.
    let ack = agent_says(&mut ana, &id, "a1", "Hi, Ana here (node B).").await;
    let seen = next_message_from(&mut visitor, "agent").await;
    assert_eq!((seen["text"].as_str(), &seen["seq"]), (Some("Hi, Ana here (node B)."), &ack["seq"]));
    let ack = visitor.say("v1", "Hello from node A").await;
    let seen = next_message_from(&mut ana, "visitor").await;
    assert_eq!((seen["text"].as_str(), &seen["seq"]), (Some("Hello from node A"), &ack["seq"]));
    let last_seen = ack["seq"].as_u64().unwrap();
    visitor.collect_until(|f| f["seq"].as_u64() == Some(last_seen)).await;

    // Node A dies; the agent goes on writing.
    node_a.kill();
    assert!(matches!(visitor.next().await, Next::Closed(_)), "the visitor's socket dies with its node");
    let mut acked = Vec::new();
    for (client_id, text) in [("a2", "Are you still there?"), ("a3", "Your refund is on its way.")] {
        acked.push(agent_says(&mut ana, &id, client_id, text).await["seq"].as_u64().unwrap());
    }

    // The visitor reconnects to node B and gets exactly what it missed, in order, once.
    let token = welcome["token"].as_str().unwrap();
    let (mut resumed, again) = node_b.app.resume_visitor(token, last_seen).await;
    let newest = again["last_seq"].as_u64().unwrap();
    assert_eq!(newest, *acked.last().unwrap());
    let replay = resumed.collect_until(|f| f["seq"].as_u64() == Some(newest)).await;
    let replayed: Vec<&Value> = replay.iter().filter(|f| f.get("seq").is_some()).collect();
    let conversation_id: ConversationId = serde_json::from_value(id.clone()).unwrap();
    let missed: Vec<Value> = node_b
        .app
        .store
        .log
        .events_after(conversation_id, last_seen, 100)
        .await
        .unwrap()
        .iter()
        .filter(|e| !e.body.is_agent_only())
        .map(|e| serde_json::to_value(e.as_ref()).unwrap())
        .collect();
    assert_eq!(replayed.into_iter().cloned().collect::<Vec<_>>(), missed);
    let texts: Vec<&str> = missed.iter().filter_map(|e| e["text"].as_str()).collect();
    assert_eq!(texts, ["Are you still there?", "Your refund is on its way."]);

    // And the conversation goes on live on node B, with nothing repeated.
    let ack = agent_says(&mut ana, &id, "a4", "Anything else?").await;
    let next = resumed.next_frame().await;
    assert_eq!((next["text"].as_str(), &next["seq"]), (Some("Anything else?"), &ack["seq"]));
}

#[tokio::test]
async fn two_agents_on_different_nodes_race_to_accept_one_chat_and_exactly_one_wins() {
    let redis = RedisServer::start();
    let config = ClusterConfig::new();
    let ns = namespace();
    let node_a = Node::start(&config.dir, &redis, &ns).await;
    let node_b = Node::start(&config.dir, &redis, &ns).await;
    let node_c = Node::start(&config.dir, &redis, &ns).await;
    let (mut ana, _) = node_a.app.connect_agent("token-ana").await;
    let (mut bo, _) = node_b.app.connect_agent("token-bo").await;
    let mut wins = [0, 0];
    for _round in 0..3 {
        let (_visitor, welcome) = node_c.app.escalated_visitor().await;
        let id = welcome["conversation_id"].clone();
        let accept = json!({"type": "accept", "conversation_id": id});
        tokio::join!(ana.send(accept.clone()), bo.send(accept));
        let (ana_got, bo_got) = tokio::join!(outcome(&mut ana, &id), outcome(&mut bo, &id));
        match (ana_got.as_str(), bo_got.as_str()) {
            ("assigned", "already_taken") => wins[0] += 1,
            ("already_taken", "assigned") => wins[1] += 1,
            other => panic!("exactly one winner and one already_taken, got {other:?}"),
        }
        let conversation = node_c.app.conversation(&welcome).await;
        assert_eq!(conversation.state, baton::protocol::State::Agent);
        let events = node_c.app.store.log.events_after(conversation.id, 0, 100).await.unwrap();
        let takeovers = events.iter().filter(|e| e.body == agent_state(&e.body)).count();
        assert_eq!(takeovers, 1, "one `state agent` event per chat");
    }
    assert_eq!(wins[0] + wins[1], 3);
}

/// `assigned` for this chat, or the code of the `error` that refused it.
async fn outcome(agent: &mut Client, id: &Value) -> String {
    loop {
        let frame = agent.next_frame().await;
        match frame["type"].as_str() {
            Some("assigned") if frame["conversation"]["conversation_id"] == *id => return "assigned".into(),
            Some("error") => return frame["code"].as_str().unwrap_or_default().to_owned(),
            _ => continue,
        }
    }
}

/// `body` itself when it is a `state agent` event, else something that never equals it.
fn agent_state(body: &baton::protocol::EventBody) -> baton::protocol::EventBody {
    match body {
        baton::protocol::EventBody::State { state: baton::protocol::State::Agent, .. } => body.clone(),
        _ => baton::protocol::EventBody::Note {
            text: String::new(),
            author: baton::protocol::Author { name: String::new() },
        },
    }
}

#[tokio::test]
async fn redis_stopped_and_restarted_under_a_live_conversation_loses_nothing_acknowledged() {
    let mut redis = RedisServer::persistent();
    let config = ClusterConfig::new();
    let ns = namespace();
    let node_a = Node::start(&config.dir, &redis, &ns).await;
    let node_b = Node::start(&config.dir, &redis, &ns).await;
    let (mut visitor, mut ana, welcome) = taken_across_nodes(&node_a, &node_b).await;
    let id = welcome["conversation_id"].clone();
    let mut acked = vec![visitor.say("v1", "before the outage").await["seq"].as_u64().unwrap()];
    acked.push(agent_says(&mut ana, &id, "a1", "answer before the outage").await["seq"].as_u64().unwrap());

    redis.kill();
    node_a.wait_ready(503).await;
    node_b.wait_ready(503).await;
    // Nothing is acknowledged while Redis is away: both are told to send again.
    visitor.send(json!({"type": "message", "client_id": "v2", "text": "during the outage"})).await;
    assert_eq!(visitor.next_of_type("error").await["code"], "unavailable");
    ana.send(json!({"type": "message", "conversation_id": id, "client_id": "a2", "text": "agent during"})).await;
    assert_eq!(ana.next_of_type("error").await["code"], "unavailable");

    redis.restart();
    node_a.wait_ready(200).await;
    node_b.wait_ready(200).await;
    // Sent again with the same client ids, both are stored once and seen live across nodes.
    acked.push(visitor.say("v2", "during the outage").await["seq"].as_u64().unwrap());
    message_with_text(&mut ana, "during the outage").await;
    acked.push(agent_says(&mut ana, &id, "a2", "agent during").await["seq"].as_u64().unwrap());
    message_with_text(&mut visitor, "agent during").await;

    // The whole transcript, read from the other node: every acknowledged message, once, in order.
    let (mut fresh, again) = node_b.app.resume_visitor(welcome["token"].as_str().unwrap(), 0).await;
    let newest = again["last_seq"].as_u64().unwrap();
    let transcript = fresh.collect_until(|f| f["seq"].as_u64() == Some(newest)).await;
    let seqs: Vec<u64> = transcript.iter().filter_map(|f| f["seq"].as_u64()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "in order, no repeats: {seqs:?}");
    for seq in &acked {
        assert!(seqs.contains(seq), "acknowledged seq {seq} is in the transcript");
    }
    let client_ids: Vec<&str> = transcript.iter().filter_map(|f| f["client_id"].as_str()).collect();
    assert_eq!(client_ids, ["v1", "a1", "v2", "a2"]);
}

#[tokio::test]
async fn a_node_started_while_redis_is_down_is_not_ready_refuses_sockets_with_1011_and_recovers_by_itself() {
    let mut redis = RedisServer::start();
    redis.kill();
    let (url, ns) = (redis.url(), namespace());
    let app = crate::helpers::spawn_app_with(move |s| {
        s.store.redis_url = Some(url.into());
        s.store.namespace = ns;
    })
    .await;
    assert_eq!(app.get("/healthz").await.status(), 200);
    assert_eq!(app.get("/readyz").await.status(), 503);
    let mut visitor = app.open_visitor("demo", Some("http://localhost:3000")).await.expect("the socket opens");
    visitor.send(json!({"type": "hello", "locale": "en"})).await;
    assert_eq!(visitor.next_of_type("error").await["code"], "unavailable");
    assert_eq!(visitor.closed_with().await, 1011, "closed with a code that says: reconnect");
    let mut agent = app.open_agent().await;
    agent.send(json!({"type": "auth", "token": "demo-agent-token"})).await;
    assert_eq!(agent.next_of_type("error").await["code"], "unavailable");
    assert_eq!(agent.closed_with().await, 1011);

    redis.restart();
    let deadline = tokio::time::Instant::now() + READY_WAIT;
    while app.get("/readyz").await.status() != 200 {
        assert!(tokio::time::Instant::now() < deadline, "/readyz never came back");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (mut visitor, _) = app.connect_visitor().await;
    assert_eq!(visitor.say("v1", "hello again").await["seq"], 2, "after the greeting");
}

#[tokio::test]
async fn an_agent_signed_in_on_two_nodes_with_room_for_one_chat_never_takes_two() {
    let redis = RedisServer::start();
    let config = ClusterConfig::with("manual", 1, LIFTED_RATE);
    let ns = namespace();
    let node_a = Node::start(&config.dir, &redis, &ns).await;
    let node_b = Node::start(&config.dir, &redis, &ns).await;
    let (mut on_a, _) = node_a.app.connect_agent("token-ana").await;
    let (mut on_b, _) = node_b.app.connect_agent("token-ana").await;
    let store = &node_a.app.store;
    for round in 0..50 {
        let (mut visitor_a, welcome_a) = node_a.app.escalated_visitor().await;
        let (mut visitor_b, welcome_b) = node_b.app.escalated_visitor().await;
        on_a.send(json!({"type": "accept", "conversation_id": welcome_a["conversation_id"]})).await;
        on_b.send(json!({"type": "accept", "conversation_id": welcome_b["conversation_id"]})).await;
        let refused = crate::capacity::first_error(&mut on_a, &mut on_b).await;
        assert_eq!(refused["code"], "forbidden", "round {round}: {refused}");
        crate::capacity::eventually("one accept wins", || async {
            !crate::capacity::held_by(store, "ana").await.is_empty()
        })
        .await;
        let held = crate::capacity::held_by(store, "ana").await;
        assert_eq!(held.len(), 1, "round {round}: ana holds {held:?} across two nodes");
        for visitor in [&mut visitor_a, &mut visitor_b] {
            visitor.send(json!({"type": "end"})).await;
        }
        crate::capacity::eventually("ana's chat is released", || async {
            crate::capacity::held_by(store, "ana").await.is_empty()
        })
        .await;
    }
}

/// Every conversation is where its state says: with a person and assigned to the agent its
/// last `state` event names, or queued and in the queue, or with the bot and nowhere else.
/// Each conversation is read as of one `seq` (read again while a move lands between reads).
async fn assert_consistent(store: &Stores, ids: &[ConversationId]) -> (usize, usize) {
    let (mut queued, mut assigned) = (0, 0);
    for id in ids {
        let (conversation, in_queue, assignment) = loop {
            let before = store.log.conversation(*id).await.unwrap().expect("the conversation is stored");
            let in_queue = store.handoff.queue().await.unwrap().iter().any(|e| e.conversation_id == *id);
            let assignment = store.handoff.assignment(*id).await.unwrap();
            let after = store.log.conversation(*id).await.unwrap().expect("the conversation is stored");
            if before.last_seq == after.last_seq {
                break (after, in_queue, assignment);
            }
        };
        match conversation.state {
            baton::protocol::State::Agent => {
                let events = store.log.recent_events(*id, 50).await.unwrap();
                let named = events.iter().rev().find_map(|e| match &e.body {
                    baton::protocol::EventBody::State { agent, .. } => Some(agent.clone()),
                    _ => None,
                });
                let named = named.flatten().map(|a| a.id);
                assert_eq!(assignment.map(|a| a.agent_id), named, "{id}: with a person, assigned to them");
                assert!(!in_queue, "{id}: with a person and still queued");
                assigned += 1;
            }
            baton::protocol::State::Queued => {
                assert!(in_queue && assignment.is_none(), "{id}: queued but not in the queue (or assigned)");
                queued += 1;
            }
            state => assert!(!in_queue && assignment.is_none(), "{id}: {state:?} yet in the queue or assigned"),
        }
    }
    (queued, assigned)
}

#[tokio::test]
async fn a_node_killed_while_it_assigns_chats_strands_none_and_the_rest_are_assigned_by_the_survivor() {
    let redis = RedisServer::start();
    let extra = format!("{LIFTED_RATE}[handoff]\njanitor_secs = 1\npresence_grace_secs = 30\n");
    let config = ClusterConfig::with("least_busy", 40, &extra);
    let ns = namespace();
    // Kill times spread over the burst: before, during and after node A escalates and assigns.
    for (round, kill_after_ms) in [10, 40, 80, 150, 300].into_iter().enumerate() {
        let mut node_a = Node::start(&config.dir, &redis, &ns).await;
        let node_b = Node::start(&config.dir, &redis, &ns).await;
        // Ana went away at the end of the last round, and her presence outlives that node by
        // the grace period: a sign-in keeps that status unless it says otherwise.
        let mut ana = node_b.app.open_agent().await;
        ana.send(json!({"type": "auth", "token": "token-ana", "status": "online"})).await;
        ana.next_of_type("ready").await;
        let mut ids = Vec::new();
        let mut visitors = Vec::new();
        for _ in 0..30 {
            let (visitor, welcome) = node_a.app.connect_visitor().await;
            ids.push(serde_json::from_value::<ConversationId>(welcome["conversation_id"].clone()).unwrap());
            visitors.push(visitor);
        }
        for visitor in &mut visitors {
            visitor.send(json!({"type": "request_human"})).await;
        }
        // Node A escalates and assigns as the requests arrive; it dies in the middle of that.
        tokio::time::sleep(Duration::from_millis(kill_after_ms)).await;
        node_a.kill();
        let at_kill = assert_consistent(&node_b.app.store, &ids).await;
        eprintln!("round {round}: at the kill, {} queued and {} assigned of {}", at_kill.0, at_kill.1, ids.len());
        let store = &node_b.app.store;
        // Within the janitor's period the survivor assigns whatever is still waiting.
        crate::capacity::eventually("every queued chat is assigned by the surviving node", || async {
            assert_consistent(store, &ids).await.0 == 0
        })
        .await;
        let (_, assigned) = assert_consistent(store, &ids).await;
        eprintln!("round {round}: {assigned} of {} chats assigned once the survivor's janitor ran", ids.len());
        // And the agent was told of each chat they got, with its view.
        let mut told = std::collections::HashSet::new();
        while told.len() < assigned {
            let frame = ana.next_of_type("assigned").await;
            told.insert(frame["conversation"]["conversation_id"].as_str().unwrap().to_owned());
        }
        drop(visitors);
        ana.send(json!({"type": "status", "status": "away"})).await;
        for id in ids.iter().filter(|_| true) {
            ana.send(json!({"type": "resolve", "conversation_id": id})).await;
        }
        crate::capacity::eventually("the round's chats are closed", || async {
            crate::capacity::held_by(store, "ana").await.is_empty()
        })
        .await;
    }
}

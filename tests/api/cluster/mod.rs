//! Several real `baton` processes on one real `redis-server`: what "behave as one service"
//! means, shown with the binary operators run. Each test starts its own Redis and nodes
//! (namespace of its own, ports picked by the OS) and kills them when it ends.
//! This module is the harness; `live` and `faults` hold the tests.

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
use crate::redis_cluster::RedisCluster;
use crate::redis_server::{RedisServer, SharedRedis, namespace};
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
    pub(crate) async fn start(config: &Path, redis: &dyn SharedRedis, namespace: &str) -> Node {
        Node::start_with(config, redis, namespace, &[]).await
    }

    /// A node with these environment variables besides (they win over the defaults here).
    pub(crate) async fn start_with(
        config: &Path,
        redis: &dyn SharedRedis,
        namespace: &str,
        env: &[(&str, String)],
    ) -> Node {
        let mut child = Command::new(env!("CARGO_BIN_EXE_baton"))
            .env("BATON_CONFIG", config)
            .env("BATON__SERVER__PORT", "0")
            .env("BATON__STORE__REDIS_URL", redis.url())
            .env("BATON__STORE__REDIS_CLUSTER", redis.cluster().to_string())
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
        let mut settings = redis_settings(&redis.url(), namespace);
        settings.redis_cluster = redis.cluster();
        let store = RedisStore::connect(&settings, Arc::new(|_| {})).await.expect("the test's own view of the store");
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

mod actions;
mod api;
mod changes;
mod faults;
mod idle;
mod live;

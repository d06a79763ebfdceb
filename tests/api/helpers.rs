//! `spawn_app()` starts the real server on port 0 (and, when asked, a scripted model) and
//! returns a [`TestApp`] with typed helpers for sockets and HTTP.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use baton::archive::Archive;
use baton::config::{AgentConfig, Settings};
use baton::protocol::ConversationId;
use baton::startup::Application;
use baton::store::{Conversation, Stores};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use tokio_util::sync::CancellationToken;

use crate::scripted_llm::ScriptedLlm;

/// How long a test waits for a frame it expects before failing.
pub const FRAME_WAIT: Duration = Duration::from_secs(10);

pub struct TestApp {
    pub port: u16,
    pub llm: Option<ScriptedLlm>,
    pub shutdown: CancellationToken,
    pub store: Stores,
    /// The node's archive (`None` for a node in another process).
    pub archive: Option<Arc<dyn Archive>>,
    /// The node's file store (`None` for a node in another process).
    pub attachments: Option<baton::attachments::Attachments>,
    /// Removed when the app is dropped: where its SQLite archive lives.
    pub _dir: Option<TempDir>,
}

/// A folder of the temp directory, removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(what: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("baton-{what}-{}", ConversationId::new()));
        std::fs::create_dir_all(&dir).expect("create a temp folder");
        TempDir(dir)
    }

    /// A SQLite archive URL in this folder.
    pub fn sqlite_url(&self) -> String {
        format!("sqlite://{}/archive.sqlite", self.0.display())
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// An agent for test settings, with the SHA-256 of `token` as configuration keeps it.
pub fn agent(id: &str, token: &str, teams: &[&str], max_chats: u32) -> AgentConfig {
    use sha2::Digest;
    let token_sha256 = sha2::Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
    AgentConfig {
        id: id.into(),
        name: format!("Agent {id}"),
        teams: teams.iter().map(|t| (*t).to_owned()).collect(),
        sites: None,
        max_chats,
        token_sha256,
        ..AgentConfig::default()
    }
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn init_logs() {
    if std::env::var("TEST_LOG").is_ok() {
        baton::telemetry::init(true);
    }
}

/// The shipped configuration on port 0, with the offline bot.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// The shipped configuration with a scripted OpenAI-compatible model.
pub async fn spawn_app_with_llm(tweak: impl FnOnce(&mut Settings)) -> TestApp {
    let llm = ScriptedLlm::start().await;
    let base_url = llm.base_url.clone();
    let mut app = spawn_app_with(move |settings| {
        settings.llm.base_url = Some(base_url);
        settings.llm.api_key = Some("test-key".to_owned().into());
        settings.llm.model = "scripted".into();
        tweak(settings);
    })
    .await;
    app.llm = Some(llm);
    app
}

pub async fn spawn_app_with(tweak: impl FnOnce(&mut Settings)) -> TestApp {
    init_logs();
    let mut settings = Settings::load_from(&repo_root().join("config")).expect("shipped configuration loads");
    settings.server.port = 0;
    settings.llm.base_url = None;
    settings.llm.api_key = None;
    lift_address_limits(&mut settings);
    let dir = TempDir::new("archive");
    settings.archive.url = dir.sqlite_url().into();
    settings.archive.poll_ms = 20;
    settings.attachments.path = dir.0.join("attachments").display().to_string();
    tweak(&mut settings);
    let app = Application::build(settings).await.expect("app builds");
    let port = app.port();
    let shutdown = app.shutdown_token();
    let store = app.stores();
    let archive = Some(app.archive());
    let attachments = Some(app.attachments());
    tokio::spawn(app.run_until_stopped());
    TestApp { port, llm: None, shutdown, store, archive, attachments, _dir: Some(dir) }
}

/// Every test connects from 127.0.0.1: the per-address limits are lifted (the tests of those
/// limits set them back).
pub fn lift_address_limits(settings: &mut Settings) {
    let limits = &mut settings.limits;
    limits.upgrades_per_ip_burst = 1_000_000;
    limits.conversations_per_ip_burst = 1_000_000;
    limits.conversations_per_site_burst = 1_000_000;
    limits.auth_failures_per_ip_burst = 1_000_000;
}

impl TestApp {
    pub fn llm(&self) -> &ScriptedLlm {
        self.llm.as_ref().expect("spawned with a scripted model")
    }

    /// The stored conversation a `welcome` names.
    pub async fn conversation(&self, welcome: &Value) -> Conversation {
        let id: ConversationId = serde_json::from_value(welcome["conversation_id"].clone()).unwrap();
        self.store.log.conversation(id).await.unwrap().expect("conversation stored")
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        reqwest::get(self.url(path)).await.expect("GET")
    }

    /// Opens a visitor socket on `site` (no `hello` sent yet).
    pub async fn open_visitor(&self, site: &str, origin: Option<&str>) -> Result<Client, WsError> {
        let mut request =
            format!("ws://127.0.0.1:{}/v1/visitor/ws?site={site}", self.port).into_client_request().unwrap();
        if let Some(origin) = origin {
            request.headers_mut().insert("Origin", origin.parse().unwrap());
        }
        let (ws, _) = tokio_tungstenite::connect_async(request).await?;
        Ok(Client { ws })
    }

    /// A new conversation on the demo site: returns the socket (its replay, the greeting,
    /// already read) and the `welcome`.
    pub async fn connect_visitor(&self) -> (Client, Value) {
        let mut client = self.open_visitor("demo", Some("http://localhost:3000")).await.expect("visitor socket opens");
        client.send(json!({"type": "hello", "locale": "en"})).await;
        let welcome = client.next_of_type("welcome").await;
        let last_seq = welcome["last_seq"].as_u64().unwrap();
        client.collect_until(|f| f["seq"].as_u64() == Some(last_seq)).await;
        (client, welcome)
    }

    /// Opens an agent socket and authenticates; returns it with the `ready` frame.
    pub async fn connect_agent(&self, token: &str) -> (Client, Value) {
        let mut client = self.open_agent().await;
        client.send(json!({"type": "auth", "token": token})).await;
        let ready = client.next_of_type("ready").await;
        (client, ready)
    }

    pub async fn open_agent(&self) -> Client {
        let url = format!("ws://127.0.0.1:{}/v1/agent/ws", self.port);
        let (ws, _) = tokio_tungstenite::connect_async(url).await.expect("agent socket opens");
        Client { ws }
    }

    /// A visitor who asked for a person; returns the socket (past the escalation) and `welcome`.
    pub async fn escalated_visitor(&self) -> (Client, Value) {
        let (mut visitor, welcome) = self.connect_visitor().await;
        visitor.send(json!({"type": "request_human"})).await;
        let state = visitor.next_of_type("state").await;
        assert_eq!(state["state"], "queued");
        (visitor, welcome)
    }

    /// Resumes the conversation `token` names from `last_seq`.
    pub async fn resume_visitor(&self, token: &str, last_seq: u64) -> (Client, Value) {
        let mut client = self.open_visitor("demo", None).await.expect("visitor socket opens");
        client.send(json!({"type": "hello", "token": token, "last_seq": last_seq})).await;
        let welcome = client.next_of_type("welcome").await;
        (client, welcome)
    }
}

pub struct Client {
    pub ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

pub enum Next {
    Frame(Value),
    Closed(Option<CloseFrame>),
}

impl Client {
    pub async fn send(&mut self, frame: Value) {
        self.ws.send(Message::text(frame.to_string())).await.expect("send");
    }

    pub async fn send_raw(&mut self, message: Message) {
        self.ws.send(message).await.expect("send");
    }

    /// Sends a visitor message and returns its `ack`.
    pub async fn say(&mut self, client_id: &str, text: &str) -> Value {
        self.send(json!({"type": "message", "client_id": client_id, "text": text})).await;
        self.next_of_type("ack").await
    }

    /// The next text frame or the close, within [`FRAME_WAIT`].
    pub async fn next(&mut self) -> Next {
        loop {
            let message = tokio::time::timeout(FRAME_WAIT, self.ws.next()).await.expect("a frame in time");
            match message {
                Some(Ok(Message::Text(text))) => {
                    return Next::Frame(serde_json::from_str(&text).expect("frames are JSON"));
                }
                Some(Ok(Message::Close(frame))) => return Next::Closed(frame),
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return Next::Closed(None),
            }
        }
    }

    pub async fn next_frame(&mut self) -> Value {
        match self.next().await {
            Next::Frame(frame) => frame,
            Next::Closed(frame) => panic!("socket closed: {frame:?}"),
        }
    }

    /// Skips frames until one of type `kind`.
    pub async fn next_of_type(&mut self, kind: &str) -> Value {
        loop {
            let frame = self.next_frame().await;
            if frame["type"] == kind {
                return frame;
            }
        }
    }

    /// Collects frames until `stop` returns true for one (included).
    pub async fn collect_until(&mut self, stop: impl Fn(&Value) -> bool) -> Vec<Value> {
        let mut frames = Vec::new();
        loop {
            let frame = self.next_frame().await;
            let done = stop(&frame);
            frames.push(frame);
            if done {
                return frames;
            }
        }
    }

    /// The next bot `message` event (skipping deltas, typing and the rest).
    pub async fn next_bot_message(&mut self) -> Value {
        loop {
            let frame = self.next_frame().await;
            if frame["type"] == "message" && frame["from"] != "visitor" {
                return frame;
            }
        }
    }

    /// Waits for the close and returns its code.
    pub async fn closed_with(&mut self) -> u16 {
        loop {
            match self.next().await {
                Next::Frame(_) => continue,
                Next::Closed(frame) => return frame.map_or(1006, |f| f.code.into()),
            }
        }
    }

    /// Reads frames until none arrives for `quiet`; returns them.
    pub async fn drain(&mut self, quiet: Duration) -> Vec<Value> {
        let mut frames = Vec::new();
        loop {
            match tokio::time::timeout(quiet, self.ws.next()).await {
                Err(_) => return frames,
                Ok(Some(Ok(Message::Text(text)))) => frames.push(serde_json::from_str(&text).expect("frames are JSON")),
                Ok(Some(Ok(_))) => continue,
                Ok(other) => panic!("socket ended while draining: {other:?}"),
            }
        }
    }

    /// No frame (other than pings) arrives within `wait`.
    pub async fn assert_silent(&mut self, wait: Duration) {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.ws.next()).await {
                Err(_) => return,
                Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => continue,
                Ok(Some(Ok(Message::Text(text)))) => panic!("expected silence, got {text}"),
                Ok(other) => panic!("expected silence, got {other:?}"),
            }
        }
    }
}

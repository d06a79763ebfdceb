//! Typed settings: the embedded defaults (`config/default.toml`, compiled in), then the same
//! file and an optional `local.toml` from the configuration folder (`./config`, or the folder
//! `BATON_CONFIG` names), then `BATON__SECTION__KEY` environment variables. Sites are one TOML
//! file each under `sites/` (see [`site`]). Everything is validated here, at start, so a bad
//! value stops the process with the file and key named instead of failing on first use.

pub mod actions;
pub mod agent;
mod attachments;
pub mod email;
pub mod hours;
pub mod inactivity;
pub mod notices;
mod observe;
mod origin;
pub mod proactive;
pub mod site;
pub mod webhooks;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use secrecy::SecretString;
use serde::Deserialize;

pub use actions::{ActionConfig, ActionSettings};
pub use agent::{AgentConfig, AgentRole};
pub use attachments::{AttachmentSettings, KNOWN_TYPES, SiteAttachments};
pub use observe::{MetricsSettings, TracesSettings};
pub use origin::OriginPattern;
pub use site::{Routing, SiteConfig};

/// Compiled in so that the binary runs on its defaults with no configuration folder at all.
const EMBEDDED_DEFAULTS: &str = include_str!("../../../config/default.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub server: ServerSettings,
    pub store: StoreSettings,
    pub llm: LlmSettings,
    pub limits: Limits,
    pub handoff: HandoffSettings,
    pub archive: ArchiveSettings,
    pub email: email::EmailSettings,
    pub metrics: MetricsSettings,
    pub traces: TracesSettings,
    pub attachments: AttachmentSettings,
    pub api: ApiSettings,
    pub webhooks: webhooks::WebhookSettings,
    /// The operator's bounds on the sites' bot actions (`docs/actions.md`).
    #[serde(default)]
    pub actions: ActionSettings,
    #[serde(default)]
    pub agents: Vec<AgentConfig>,
    /// Filled from `sites/*.toml`, not from the settings files.
    #[serde(skip)]
    pub sites: Vec<SiteConfig>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    pub host: String,
    /// 0 picks a free port (tests do this).
    pub port: u16,
    /// How long a graceful shutdown waits for sockets to close before the process exits.
    pub shutdown_timeout_secs: u64,
    /// Browser origins, besides Baton's own (where the console is served), that may open an
    /// agent socket: patterns as in a site's `allowed_origins`.
    #[serde(default)]
    pub agent_origins: Vec<String>,
}

impl ServerSettings {
    pub fn agent_origins(&self) -> anyhow::Result<Vec<OriginPattern>> {
        self.agent_origins
            .iter()
            .map(|p| {
                OriginPattern::parse(p).map_err(|why| anyhow::anyhow!("settings key `server.agent_origins`: {why}"))
            })
            .collect()
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreSettings {
    /// Absent or empty: the in-memory store (one process).
    #[serde(default)]
    pub redis_url: Option<SecretString>,
    /// A PEM file of the certificate authorities a `rediss://` Redis's certificate must chain
    /// to, instead of the system's roots (a private CA). Unset: the system's roots.
    #[serde(default)]
    pub redis_ca_file: Option<std::path::PathBuf>,
    /// `store.redis_url` names a Redis Cluster: one or more of its nodes, comma-separated
    /// (the client finds the rest). Every Baton key then shares one hash slot, `{namespace}`.
    #[serde(default)]
    pub redis_cluster: bool,
    /// Key prefix, so several deployments (or test runs) can share one Redis.
    pub namespace: String,
    /// The most events a conversation keeps; an append beyond it is refused with `unavailable`.
    pub max_events_per_conversation: u64,
    /// Conversations idle for longer than this are forgotten.
    pub retention_hours: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LlmSettings {
    /// OpenAI-compatible base URL, e.g. `https://api.openai.com/v1` or `http://localhost:11434/v1`.
    #[serde(default)]
    pub base_url: Option<String>,
    #[serde(default)]
    pub api_key: Option<SecretString>,
    pub model: String,
    pub temperature: f32,
    pub max_tokens: u32,
    /// The whole reply must finish within this, counted from its first token (a model that
    /// is slow to start is the first-token timeout's business, a full endpoint the queue's).
    pub timeout_secs: u64,
    /// The first token must arrive within this once the request is sent (a hung server is
    /// noticed early); so must each next one.
    pub first_token_timeout_secs: u64,
    /// An agent's summary or draft replies are cut this long after their first token; what
    /// arrived by then is kept (and judged like a whole one).
    pub assist_timeout_secs: u64,
    /// Requests in flight to the model endpoint from this node (replies, summaries and
    /// suggestions together); more wait in a queue. 1 for a one-slot local server; 0: no limit.
    pub max_concurrent: usize,
    /// The longest a request waits in that queue before it fails (the visitor sees the bot
    /// typing meanwhile).
    pub queue_timeout_secs: u64,
    /// Attempts after the first, made only while nothing has been streamed to the visitor.
    pub max_retries: u32,
    /// Transcript messages (newest first) sent to the model as context.
    pub history_messages: usize,
    /// Knowledge-base passages put in the prompt.
    pub passages: usize,
    /// Offer the model a `handoff_to_human` tool (turn off for models without tool support).
    pub handoff_tool: bool,
    /// Ask for token log-probabilities, the model-confidence signal (not every server has them).
    pub logprobs: bool,
    /// An embedding model served at `{embedding_base_url or base_url}/embeddings` (Ollama,
    /// vLLM, llama.cpp's server): the knowledge base is then searched by meaning as well as
    /// by words (hybrid retrieval, `docs/knowledge-base.md`). None: BM25 alone.
    #[serde(default)]
    pub embedding_model: Option<String>,
    /// Where the embedding model is served, when not at `base_url` (a hosted chat model
    /// beside a local embedding server, or embeddings for the offline answerer).
    #[serde(default)]
    pub embedding_base_url: Option<String>,
    /// The longest a turn waits for its question's embedding; past it, the turn is searched
    /// with BM25 alone.
    pub embedding_timeout_ms: u64,
}

impl LlmSettings {
    /// An LLM is configured when an endpoint or a key is set; otherwise the offline answerer runs.
    pub fn is_configured(&self) -> bool {
        self.base_url.is_some() || self.api_key.is_some()
    }

    /// The embedding server's base URL, when an embedding model is named and a server for
    /// it is (its own, the chat model's, or OpenAI's with a key).
    pub fn embedding_endpoint(&self) -> Option<&str> {
        self.embedding_model.as_ref()?;
        match (&self.embedding_base_url, &self.base_url) {
            (Some(url), _) | (None, Some(url)) => Some(url),
            (None, None) => self.api_key.as_ref().map(|_| "https://api.openai.com/v1"),
        }
    }
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_secs)
    }
    pub fn first_token_timeout(&self) -> Duration {
        Duration::from_secs(self.first_token_timeout_secs)
    }
    pub fn queue_timeout(&self) -> Duration {
        Duration::from_secs(self.queue_timeout_secs)
    }
    pub fn assist_timeout(&self) -> Duration {
        Duration::from_secs(self.assist_timeout_secs)
    }
}

/// Per-socket limits. The frame (64 KiB) and text (4,000 characters) limits are the
/// protocol's and live in [`crate::protocol`]; these are the operator's to tune.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// A client must send `hello` / `auth` within this or be closed with 4000.
    pub hello_timeout_secs: u64,
    /// The server pings this often.
    pub heartbeat_secs: u64,
    /// A peer silent (not even a pong) for this long is dropped, and so is one that takes none
    /// of a frame's bytes for this long (`session::socket`).
    pub client_timeout_secs: u64,
    /// Frames queued for one socket; a socket that falls this far behind is closed (1013) and
    /// resumes from its last `seq` on reconnect.
    pub send_queue: usize,
    /// Token bucket per socket: sustained frames per second and burst.
    pub rate_per_sec: f64,
    pub rate_burst: u32,
    /// Frames refused for rate in a row before the socket is closed with 4008.
    pub rate_strikes: u32,
    /// The largest frame before `hello` / `auth` (after it, the protocol's 64 KiB): close 1009.
    pub first_frame_bytes: usize,
    /// Token bucket per conversation on this node: frames from all its visitor sockets together.
    pub conversation_rate_per_sec: f64,
    pub conversation_rate_burst: u32,
    /// Socket upgrades per client address and minute, and burst: past it, HTTP 429.
    pub upgrades_per_ip_per_min: u32,
    pub upgrades_per_ip_burst: u32,
    /// New conversations per client address and hour, and burst: past it, close 4008. Both
    /// this and the per-site limit are counted on each node and in the store (every node).
    pub conversations_per_ip_per_hour: u32,
    pub conversations_per_ip_burst: u32,
    /// New conversations per site and hour, and burst: past it, close 4008.
    pub conversations_per_site_per_hour: u32,
    pub conversations_per_site_burst: u32,
    /// Refused agent `auth`s per client address and minute, and burst: past it, close 4008
    /// before the token is even looked at.
    pub auth_failures_per_ip_per_min: u32,
    pub auth_failures_per_ip_burst: u32,
    /// Client addresses (and sites, conversations) each limit table tracks at most.
    pub tracked_keys: usize,
    /// The request header a trusted reverse proxy puts the client's address in (e.g.
    /// `X-Forwarded-For`, whose last entry is used, or `X-Real-IP`). Unset: the peer address.
    #[serde(default)]
    pub client_ip_header: Option<String>,
    /// Peers whose `client_ip_header` is believed (empty: every peer's, so set this unless
    /// Baton is reachable only through the proxy).
    #[serde(default)]
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

impl Limits {
    pub fn hello_timeout(&self) -> Duration {
        Duration::from_secs(self.hello_timeout_secs)
    }
    pub fn heartbeat(&self) -> Duration {
        Duration::from_secs(self.heartbeat_secs)
    }
    pub fn client_timeout(&self) -> Duration {
        Duration::from_secs(self.client_timeout_secs)
    }
}

/// The owner API's limits (see `docs/api.md`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiSettings {
    /// Requests per minute per key, on average; bursts of up to `burst`. Past it: 429.
    pub requests_per_minute: u32,
    pub burst: u32,
    /// Keys whose allowance is tracked at once (a bounded table; see `session::limits`).
    pub tracked_keys: usize,
    /// A request body larger than this is refused with 413.
    pub max_body_bytes: usize,
    /// How long a POST's response is replayed for the same `Idempotency-Key`.
    pub idempotency_hours: u64,
    /// A knowledge-base page larger than this (as uploaded) is refused with 413.
    pub max_page_bytes: usize,
    /// Pages a site's knowledge base may hold through the API (files not counted).
    pub max_pages: usize,
    /// How often each node reads the owner's change counters from the archive, catching up
    /// on a change whose pub/sub notice it missed (notices make it sooner).
    pub changes_poll_ms: u64,
}

impl ApiSettings {
    pub fn changes_poll(&self) -> Duration {
        Duration::from_millis(self.changes_poll_ms.max(10))
    }
}

/// The durable record (see `docs/data.md`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArchiveSettings {
    /// `sqlite://PATH` (relative to the working directory; the file and its folder are
    /// created) or `postgres://USER:PASSWORD@HOST/DB` (may hold a password: never printed).
    pub url: SecretString,
    /// How often an idle archiver looks for conversations to copy.
    pub poll_ms: u64,
    /// A node's claim on a conversation to copy lapses after this; another node then copies
    /// it (what a node killed mid-copy leaves is late by at most this much).
    pub lease_secs: u64,
}

impl ArchiveSettings {
    pub fn poll(&self) -> Duration {
        Duration::from_millis(self.poll_ms)
    }
    pub fn lease(&self) -> Duration {
        Duration::from_secs(self.lease_secs)
    }
}

/// Timings of the human handoff.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HandoffSettings {
    /// An agent whose sockets are all gone is still counted present this long (a reload, a
    /// tunnel); after it, their chats go back to the front of the queue.
    pub presence_grace_secs: u64,
    /// An agent who took a chat must write to the visitor within this, or it goes back to the
    /// front of the queue (0: no limit).
    pub answer_timeout_secs: u64,
    /// How often each node checks for departed agents, unanswered chats and chats to assign.
    pub janitor_secs: u64,
    /// How often each node sweeps the conversations the sites' inactivity rules are due for
    /// (`[inactivity]` in a site file).
    pub inactivity_secs: u64,
}

impl HandoffSettings {
    pub fn presence_grace(&self) -> Duration {
        Duration::from_secs(self.presence_grace_secs)
    }
}

impl Settings {
    /// Loads from `BATON_CONFIG` or `./config`.
    pub fn load() -> anyhow::Result<Settings> {
        let dir = std::env::var_os("BATON_CONFIG").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("config"));
        Settings::load_from(&dir)
    }

    /// The settings one TOML text gives over the embedded defaults, as `local.toml` would
    /// (no files, no variables, no sites), validated.
    pub fn from_toml(text: &str) -> anyhow::Result<Settings> {
        let raw = config::Config::builder()
            .add_source(config::File::from_str(EMBEDDED_DEFAULTS, config::FileFormat::Toml))
            .add_source(config::File::from_str(text, config::FileFormat::Toml))
            .build()
            .context("Failed to read the settings")?;
        let mut settings: Settings = raw.try_deserialize().context("Failed to parse the settings")?;
        settings.normalise_empty();
        settings.validate()?;
        Ok(settings)
    }

    pub fn load_from(dir: &Path) -> anyhow::Result<Settings> {
        let raw = config::Config::builder()
            .add_source(config::File::from_str(EMBEDDED_DEFAULTS, config::FileFormat::Toml))
            .add_source(config::File::from(dir.join("default.toml")).required(false))
            .add_source(config::File::from(dir.join("local.toml")).required(false))
            .add_source(
                config::Environment::with_prefix("BATON").prefix_separator("__").separator("__").try_parsing(true),
            )
            .build()
            .with_context(|| format!("Failed to read settings from {}", dir.display()))?;
        let mut settings: Settings = raw.try_deserialize().with_context(|| {
            format!(
                "Failed to parse settings (embedded defaults, {0}/default.toml, {0}/local.toml, BATON__* variables)",
                dir.display()
            )
        })?;
        settings.apply_openai_env();
        settings.normalise_empty();
        settings.validate()?;
        settings.sites = site::load_all(&dir.join("sites"))?;
        agent::validate_sites(&settings.agents, &settings.sites)?;
        for site in &settings.sites {
            settings.actions.check_site(site).map_err(|why| anyhow::anyhow!(why))?;
        }
        Ok(settings)
    }

    /// `OPENAI_API_KEY` and `OPENAI_BASE_URL` are honoured when Baton's own names are unset.
    fn apply_openai_env(&mut self) {
        if self.llm.api_key.is_none()
            && let Ok(key) = std::env::var("OPENAI_API_KEY")
        {
            self.llm.api_key = Some(key.into());
        }
        if self.llm.base_url.is_none() {
            self.llm.base_url = std::env::var("OPENAI_BASE_URL").ok();
        }
    }

    /// An empty variable (`BATON__STORE__REDIS_URL=`) means "unset", as operators expect.
    fn normalise_empty(&mut self) {
        use secrecy::ExposeSecret;
        if self.store.redis_url.as_ref().is_some_and(|url| url.expose_secret().trim().is_empty()) {
            self.store.redis_url = None;
        }
        if self.llm.api_key.as_ref().is_some_and(|key| key.expose_secret().trim().is_empty()) {
            self.llm.api_key = None;
        }
        let attachments = &mut self.attachments;
        if attachments.s3_bucket.as_deref().is_some_and(|bucket| bucket.trim().is_empty()) {
            attachments.s3_bucket = None;
        }
        if attachments.secret.as_ref().is_some_and(|key| key.expose_secret().trim().is_empty()) {
            attachments.secret = None;
        }
        if self.llm.base_url.as_deref().is_some_and(|url| url.trim().is_empty()) {
            self.llm.base_url = None;
        }
        for optional in [&mut self.llm.embedding_model, &mut self.llm.embedding_base_url] {
            if optional.as_deref().is_some_and(|value| value.trim().is_empty()) {
                *optional = None;
            }
        }
    }

    fn validate(&self) -> anyhow::Result<()> {
        use secrecy::ExposeSecret;
        let url = self.archive.url.expose_secret();
        let limits = &self.limits;
        let checks: [(&str, bool, &str); 17] = [
            ("limits.first_frame_bytes", limits.first_frame_bytes >= 256, "must be at least 256"),
            ("limits.conversation_rate_per_sec", limits.conversation_rate_per_sec > 0.0, "must be positive"),
            ("limits.tracked_keys", limits.tracked_keys > 0, "must be at least 1"),
            (
                "limits.*_burst",
                [
                    limits.conversation_rate_burst,
                    limits.upgrades_per_ip_burst,
                    limits.conversations_per_ip_burst,
                    limits.conversations_per_site_burst,
                    limits.auth_failures_per_ip_burst,
                ]
                .iter()
                .all(|burst| *burst > 0),
                "must be at least 1",
            ),
            (
                "archive.url",
                ["sqlite://", "postgres://", "postgresql://"].iter().any(|scheme| url.starts_with(scheme)),
                "must start with sqlite:// or postgres://",
            ),
            ("archive.poll_ms", self.archive.poll_ms > 0, "must be at least 1"),
            ("archive.lease_secs", self.archive.lease_secs > 0, "must be at least 1"),
            ("limits.send_queue", self.limits.send_queue > 0, "must be at least 1"),
            ("limits.rate_per_sec", self.limits.rate_per_sec > 0.0, "must be positive"),
            ("limits.rate_burst", self.limits.rate_burst > 0, "must be at least 1"),
            ("limits.heartbeat_secs", self.limits.heartbeat_secs > 0, "must be at least 1"),
            (
                "limits.client_timeout_secs",
                self.limits.client_timeout_secs > self.limits.heartbeat_secs,
                "must exceed limits.heartbeat_secs",
            ),
            ("llm.temperature", (0.0..=2.0).contains(&self.llm.temperature), "must lie in 0..=2"),
            (
                "llm.timeout_secs",
                self.llm.timeout_secs >= self.llm.first_token_timeout_secs && self.llm.first_token_timeout_secs > 0,
                "must be at least llm.first_token_timeout_secs, which must be positive",
            ),
            ("store.max_events_per_conversation", self.store.max_events_per_conversation > 0, "must be at least 1"),
            ("handoff.janitor_secs", self.handoff.janitor_secs > 0, "must be at least 1"),
            ("handoff.inactivity_secs", self.handoff.inactivity_secs > 0, "must be at least 1"),
        ];
        for (key, ok, why) in checks {
            anyhow::ensure!(ok, "settings key `{key}` {why}");
        }
        self.server.agent_origins()?;
        self.traces.validate()?;
        for (key, url) in
            [("llm.base_url", &self.llm.base_url), ("llm.embedding_base_url", &self.llm.embedding_base_url)]
        {
            if let Some(url) = url {
                anyhow::ensure!(
                    url.starts_with("http://") || url.starts_with("https://"),
                    "settings key `{key}` must be an http(s) URL, got {url:?}"
                );
            }
        }
        if self.llm.embedding_model.is_some() {
            anyhow::ensure!(
                self.llm.embedding_endpoint().is_some(),
                "settings key `llm.embedding_model` needs a server: set llm.embedding_base_url, llm.base_url or an API key"
            );
            anyhow::ensure!(
                self.llm.embedding_timeout_ms > 0,
                "settings key `llm.embedding_timeout_ms` must be at least 1"
            );
        }
        for (i, agent) in self.agents.iter().enumerate() {
            anyhow::ensure!(
                !self.agents[..i].iter().any(|other| other.id == agent.id),
                "settings key `agents[{i}].id`: {:?} is used twice",
                agent.id
            );
            let hex = agent.token_sha256.len() == 64 && agent.token_sha256.bytes().all(|b| b.is_ascii_hexdigit());
            anyhow::ensure!(hex, "settings key `agents[{i}].token_sha256` must be 64 hex digits (sha256 of the token)");
            anyhow::ensure!(agent.max_chats > 0, "settings key `agents[{i}].max_chats` must be at least 1");
        }
        Ok(())
    }

    pub fn site(&self, id: &str) -> Option<&SiteConfig> {
        self.sites.iter().find(|site| site.id == id)
    }
}

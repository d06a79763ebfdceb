//! The processes under test: the real `baton` binary, the bare actix-ws relay (this binary in
//! its `bare-relay` mode) and the Node relay on `ws`. Each runs as its own child process,
//! pinned to the server core when pinning is on, so its memory and CPU are its own.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::Context;

use crate::sys::{self, Pinning};

/// Limits raised for the load: the defaults (5 frames/s per socket, bursts of 20, 512 queued
/// frames, 60 upgrades and 30 new conversations at once per address) are protections for real
/// traffic, not what a load test from one address measures.
pub const LOAD_LIMITS: [(&str, &str); 12] = [
    ("BATON__LIMITS__RATE_PER_SEC", "1000000"),
    ("BATON__LIMITS__RATE_BURST", "1000000"),
    ("BATON__LIMITS__SEND_QUEUE", "65536"),
    ("BATON__LIMITS__RATE_STRIKES", "1000000"),
    ("BATON__LIMITS__CONVERSATION_RATE_PER_SEC", "1000000"),
    ("BATON__LIMITS__CONVERSATION_RATE_BURST", "1000000"),
    ("BATON__LIMITS__UPGRADES_PER_IP_PER_MIN", "100000000"),
    ("BATON__LIMITS__UPGRADES_PER_IP_BURST", "1000000"),
    ("BATON__LIMITS__CONVERSATIONS_PER_IP_PER_HOUR", "100000000"),
    ("BATON__LIMITS__CONVERSATIONS_PER_IP_BURST", "1000000"),
    ("BATON__LIMITS__CONVERSATIONS_PER_SITE_PER_HOUR", "100000000"),
    ("BATON__LIMITS__CONVERSATIONS_PER_SITE_BURST", "1000000"),
];

/// Relay agents' chats each (the shipped dev agent has 5).
pub const CHATS_PER_AGENT: usize = 5;
/// The takeover scenario's agent.
pub const TAKEOVER_TOKEN: &str = "bench-takeover";

pub fn relay_token(i: usize) -> String {
    format!("bench-relay-{i}")
}

/// A running server; killed when dropped.
pub struct Server {
    pub name: &'static str,
    pub port: u16,
    child: Child,
}

impl Server {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
    pub fn rss(&self) -> u64 {
        sys::rss_bytes(self.pid()).unwrap_or(0)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `target/release/baton`, built first with `cargo build --release -p baton` unless a path is
/// given. A failed build (someone else's half-finished edit) falls back to an existing binary.
pub fn locate_baton(given: Option<PathBuf>, log: &mut Vec<String>) -> anyhow::Result<PathBuf> {
    if let Some(path) = given {
        anyhow::ensure!(path.exists(), "--baton {} does not exist", path.display());
        // Absolute: the node runs in the bench folder.
        let path = path.canonicalize()?;
        log.push(format!("baton binary: {} (given)", path.display()));
        return Ok(path);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| repo_root().join("target"), PathBuf::from);
    let binary = target.join("release").join("baton");
    let built = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["build", "--release", "-p", "baton"])
        .current_dir(repo_root())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    match built {
        Ok(status) if status.success() => {
            log.push(format!("baton binary: {} (cargo build --release -p baton)", binary.display()))
        }
        _ if binary.exists() => {
            log.push(format!("baton binary: {} (build failed; using the existing binary)", binary.display()))
        }
        _ => anyhow::bail!("cargo build --release -p baton failed and {} does not exist", binary.display()),
    }
    Ok(binary)
}

/// A temporary copy of `config/` with two bench sites and the bench's agents in `local.toml`:
/// `bench` (least-busy routing: escalated chats go straight to an agent with room) and
/// `benchm` (manual routing: agents take chats from the queue), both on the demo knowledge base.
pub fn prepare_config(dir: &Path, relay_agents: usize) -> anyhow::Result<PathBuf> {
    let config = dir.join("config");
    let sites = config.join("sites");
    fs::create_dir_all(&sites).context("Failed to create the bench config folder")?;
    let source = repo_root().join("config");
    fs::copy(source.join("default.toml"), config.join("default.toml"))?;
    let demo = fs::read_to_string(source.join("sites/demo.toml"))?;
    fs::write(sites.join("demo.toml"), &demo)?;
    for (site, routing) in [("bench", "least_busy"), ("benchm", "manual")] {
        fs::write(sites.join(format!("{site}.toml")), with_routing(&demo, routing))?;
        for name in [site, "demo"] {
            let link = sites.join(name);
            if !link.exists() {
                std::os::unix::fs::symlink(source.join("sites/demo"), &link)?;
            }
        }
    }
    let mut local = String::from("# Written by baton-bench.\n");
    let mut agent = |id: &str, token: &str, max_chats: usize| {
        local.push_str(&format!(
            "[[agents]]\nid = \"{id}\"\nname = \"Bench {id}\"\nteams = [\"support\"]\nmax_chats = {max_chats}\ntoken_sha256 = \"{}\"\n\n",
            baton::conversation::hash_token(token)
        ));
    };
    agent("takeover", TAKEOVER_TOKEN, 1_000_000);
    for i in 0..relay_agents {
        agent(&format!("relay{i}"), &relay_token(i), CHATS_PER_AGENT + 1);
    }
    fs::write(config.join("local.toml"), local)?;
    Ok(config)
}

/// The demo site's file with its handoff routing set to `routing`, whatever it had.
fn with_routing(demo: &str, routing: &str) -> String {
    let line = format!("routing = \"{routing}\"");
    let mut out: Vec<String> = Vec::new();
    let mut section = String::new();
    let mut done = false;
    for l in demo.lines() {
        let trimmed = l.trim();
        if trimmed.starts_with('[') {
            section = trimmed.to_owned();
        }
        if section == "[handoff]" && trimmed.starts_with("routing") {
            out.push(line.clone());
            done = true;
            continue;
        }
        out.push(l.to_owned());
        if trimmed == "[handoff]" && !demo.contains("\nrouting") {
            out.push(line.clone());
            done = true;
        }
    }
    if !done {
        out.push(format!("\n[handoff]\n{line}"));
    }
    out.join("\n") + "\n"
}

pub struct BatonOptions<'a> {
    pub binary: &'a Path,
    pub config: &'a Path,
    pub llm_base_url: Option<&'a str>,
    pub log: &'a Path,
    pub env: &'a [(&'a str, &'a str)],
}

pub async fn start_baton(options: &BatonOptions<'_>, pinning: &Pinning) -> anyhow::Result<Server> {
    let port = sys::free_port();
    let mut command = pinning.command(options.binary);
    // The bench folder is the node's working directory, so its archive (`data/` by default)
    // and attachments land there, never in the repository.
    if let Some(folder) = options.config.parent() {
        command.current_dir(folder);
    }
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("BATON_CONFIG", options.config)
        .env("BATON__SERVER__PORT", port.to_string())
        .env("RUST_LOG", "warn")
        .envs(LOAD_LIMITS)
        .envs(options.env.iter().copied());
    if let Some(url) = options.llm_base_url {
        command
            .env("BATON__LLM__BASE_URL", url)
            .env("BATON__LLM__API_KEY", "bench-key")
            .env("BATON__LLM__MODEL", "scripted");
    }
    spawn("baton", command, port, options.log).await
}

/// This binary in its bare-relay mode: on Baton's server builder, or (`stock`) on actix-web's
/// `HttpServer`.
pub async fn start_bare_relay(pinning: &Pinning, log: &Path, stock: bool) -> anyhow::Result<Server> {
    let port = sys::free_port();
    let mut command = pinning.command(&std::env::current_exe()?);
    let (mode, name) = if stock {
        ("--serve-stock-relay", "stock actix-ws relay")
    } else {
        ("--serve-bare-relay", "bare actix-ws relay")
    };
    command.args([mode, &port.to_string()]);
    spawn(name, command, port, log).await
}

/// `node bench/node-relay/relay.js PORT`, after `npm ci` when `node_modules` is missing.
pub async fn start_node_relay(pinning: &Pinning, log: &Path) -> anyhow::Result<Server> {
    anyhow::ensure!(sys::has_command("node"), "node is not installed");
    let dir = repo_root().join("bench/node-relay");
    if !dir.join("node_modules/ws").exists() {
        let status = Command::new("npm").args(["ci", "--no-audit", "--no-fund"]).current_dir(&dir).status()?;
        anyhow::ensure!(status.success(), "npm ci failed in {}", dir.display());
    }
    let port = sys::free_port();
    let node = which("node").unwrap_or_else(|| PathBuf::from("node"));
    let mut command = pinning.command(&node);
    command.arg(dir.join("relay.js")).arg(port.to_string());
    spawn("node ws relay", command, port, log).await
}

/// A private `redis-server` on a free port, without persistence.
pub async fn start_redis(pinning: &Pinning, log: &Path) -> anyhow::Result<Server> {
    let port = sys::free_port();
    let binary = which("redis-server").context("redis-server is not installed")?;
    let mut command = pinning.command(&binary);
    command.args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]);
    spawn("redis-server", command, port, log).await
}

fn which(name: &str) -> Option<PathBuf> {
    let out = Command::new("sh").arg("-c").arg(format!("command -v {name}")).output().ok()?;
    let path = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    (!path.is_empty()).then(|| PathBuf::from(path))
}

async fn spawn(name: &'static str, mut command: Command, port: u16, log: &Path) -> anyhow::Result<Server> {
    let file = fs::OpenOptions::new().create(true).append(true).open(log)?;
    command.stdin(Stdio::null()).stdout(file.try_clone()?).stderr(file);
    let child = command.spawn().with_context(|| format!("Failed to start {name}"))?;
    let server = Server { name, port, child };
    sys::wait_for_port(port, Duration::from_secs(20))
        .await
        .with_context(|| format!("{name} did not start (log: {})", log.display()))?;
    Ok(server)
}

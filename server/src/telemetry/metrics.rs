//! Metrics in the Prometheus text format (`GET /metrics`), every name `baton_…`.
//!
//! One recorder per process (the `metrics` crate's global one), installed by the first
//! [`install`]. What the hot path touches (sockets, frames, relayed messages, appends, Redis
//! round trips) is registered once, in [`Hot`], and each event is then one atomic add on a
//! handle: no name or label lookup per message. Rare events (escalations, model failures)
//! and per-site gauges are looked up by name when they happen, which is cheap at their rate.
//!
//! Histograms keep their samples in a lock-free bucket until they are folded into the
//! buckets below; a task does that every [`UPKEEP_EVERY`], so memory stays bounded when
//! nobody scrapes.
//!
//! The names, their labels and what each means are listed in `docs/operations.md`.

use std::sync::OnceLock;
use std::time::Duration;

use metrics::{Counter, Gauge, Histogram, Unit};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// How often histogram samples are folded into their buckets.
pub const UPKEEP_EVERY: Duration = Duration::from_secs(5);
/// Bucket bounds of the store's latency (seconds): an in-memory append is microseconds, a
/// Redis round trip a fraction of a millisecond, a struggling Redis up to its 2 s timeout.
const STORE_BUCKETS: &[f64] =
    &[0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.1, 0.5, 2.0];
/// Bucket bounds of the model's time to first token (seconds), up to the default 20 s timeout.
const FIRST_TOKEN_BUCKETS: &[f64] = &[0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0];
/// Bucket bounds of an embedding request (seconds): a local model answers a turn's texts in
/// milliseconds, the turn gives up at `llm.embedding_timeout_ms` (1.5 s), a batch of
/// passages may take up to 120 s.
const EMBEDDING_BUCKETS: &[f64] = &[0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 1.5, 5.0, 30.0, 120.0];

/// The kinds of socket, a label of the socket and frame metrics.
#[derive(Clone, Copy, Debug)]
pub enum SocketKind {
    Visitor = 0,
    Agent = 1,
}

const SOCKET_KINDS: [&str; 2] = ["visitor", "agent"];

/// Who wrote a relayed message, a label of `baton_messages_relayed_total`.
#[derive(Clone, Copy, Debug)]
pub enum Sender {
    Visitor = 0,
    Bot = 1,
    Agent = 2,
    System = 3,
}

const FROMS: [&str; 4] = ["visitor", "bot", "agent", "system"];

/// The store operations timed in `baton_store_write_seconds`.
#[derive(Clone, Copy, Debug)]
pub enum Write {
    Append = 0,
    Transition = 1,
}

const WRITES: [&str; 2] = ["append", "transition"];

/// Handles of everything counted per message or per frame, registered once.
pub struct Hot {
    pub sockets_open: [Gauge; 2],
    pub frames_in: Counter,
    pub frames_out: Counter,
    pub relayed: [Counter; 4],
    pub store_write: [Histogram; 2],
    pub redis_round_trips: Counter,
}

struct Installed {
    handle: PrometheusHandle,
    hot: Hot,
}

static INSTALLED: OnceLock<Installed> = OnceLock::new();

/// Installs the process's recorder (once; later calls return the same handle) and starts the
/// upkeep task on the current Tokio runtime the first time.
pub fn install() -> PrometheusHandle {
    let installed = INSTALLED.get_or_init(|| {
        // unwrap: the matchers and bucket lists are constants, non-empty.
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full("baton_store_write_seconds".into()), STORE_BUCKETS)
            .expect("store buckets are non-empty")
            .set_buckets_for_metric(Matcher::Full("baton_llm_first_token_seconds".into()), FIRST_TOKEN_BUCKETS)
            .expect("first-token buckets are non-empty")
            .set_buckets_for_metric(Matcher::Full("baton_embedding_seconds".into()), EMBEDDING_BUCKETS)
            .expect("embedding buckets are non-empty");
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("a metrics recorder was installed before Baton's; /metrics stays empty");
        }
        describe();
        let upkeep = handle.clone();
        std::thread::Builder::new()
            .name("metrics-upkeep".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(UPKEEP_EVERY);
                    upkeep.run_upkeep();
                }
            })
            // unwrap: spawning a thread fails only when the process is out of resources at start.
            .expect("the metrics upkeep thread starts");
        Installed { handle, hot: register_hot() }
    });
    installed.handle.clone()
}

/// The hot handles; before [`install`] they count nowhere (a library used without the server).
pub fn hot() -> &'static Hot {
    static UNINSTALLED: OnceLock<Hot> = OnceLock::new();
    match INSTALLED.get() {
        Some(installed) => &installed.hot,
        None => UNINSTALLED.get_or_init(|| Hot {
            sockets_open: [Gauge::noop(), Gauge::noop()],
            frames_in: Counter::noop(),
            frames_out: Counter::noop(),
            relayed: [Counter::noop(), Counter::noop(), Counter::noop(), Counter::noop()],
            store_write: [Histogram::noop(), Histogram::noop()],
            redis_round_trips: Counter::noop(),
        }),
    }
}

fn register_hot() -> Hot {
    Hot {
        sockets_open: SOCKET_KINDS.map(|kind| metrics::gauge!("baton_sockets_open", "kind" => kind)),
        frames_in: metrics::counter!("baton_frames_received_total"),
        frames_out: metrics::counter!("baton_frames_sent_total"),
        relayed: FROMS.map(|from| metrics::counter!("baton_messages_relayed_total", "from" => from)),
        store_write: WRITES.map(|op| metrics::histogram!("baton_store_write_seconds", "op" => op)),
        redis_round_trips: metrics::counter!("baton_redis_round_trips_total"),
    }
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram};
    describe_gauge!("baton_sockets_open", "Open WebSockets on this node, by kind (visitor, agent).");
    describe_counter!("baton_frames_received_total", "WebSocket frames received from clients (pings included).");
    describe_counter!("baton_frames_sent_total", "WebSocket frames sent to clients (pings excluded).");
    describe_counter!("baton_messages_relayed_total", "Chat messages stored and passed on, by author.");
    describe_histogram!("baton_store_write_seconds", Unit::Seconds, "Store appends and transitions, by op.");
    describe_counter!("baton_store_errors_total", "Failed store calls, by kind (unavailable, full).");
    describe_counter!("baton_redis_round_trips_total", "Commands, scripts and pipelines sent to Redis.");
    describe_counter!("baton_llm_requests_total", "Requests sent to the model endpoint.");
    describe_histogram!("baton_llm_first_token_seconds", Unit::Seconds, "From a model request to its first token.");
    describe_counter!("baton_llm_failures_total", "Failed model requests, by kind.");
    describe_counter!("baton_llm_tokens_total", "Tokens used by model requests of sites with a daily budget, by site.");
    describe_histogram!("baton_embedding_seconds", Unit::Seconds, "Requests to the embedding model, answered or not.");
    describe_counter!(
        "baton_embedding_failures_total",
        "Failed embedding requests, by kind (timeout, request, malformed)."
    );
    describe_counter!("baton_escalations_total", "Conversations sent to people, by reason.");
    describe_counter!(
        "baton_queue_full_total",
        "Escalations refused because the site's queue was at handoff.max_queue."
    );
    describe_counter!(
        "baton_sla_breaches_total",
        "Chats that waited on a person past the site's inactivity.agent_sla_secs, by site (once per wait)."
    );
    describe_counter!("baton_bot_action_calls_total", "Calls of the sites' bot actions, by outcome.");
    describe_counter!("baton_idle_nudges_total", "Visitors nudged after inactivity.nudge_after_secs, by site.");
    describe_counter!("baton_idle_resolved_total", "Chats resolved after inactivity.resolve_after_secs, by site.");
    describe_counter!("baton_proactive_messages_total", "Proactive messages the server accepted, by site and trigger.");
    describe_gauge!("baton_queue_length", "Conversations waiting for a person, by site (read at scrape).");
    describe_gauge!("baton_queue_oldest_wait_seconds", "How long the longest-waiting chat has waited, by site.");
    describe_gauge!("baton_agents_online", "Agents signed in (all nodes), by status.");
    describe_gauge!("baton_archive_lag_conversations", "Conversations with changes the archive has not copied.");
    describe_counter!("baton_archive_copied_total", "Conversations copied into the archive by this node.");
    describe_gauge!("baton_webhook_backlog", "Webhook deliveries waiting (all sites, from the archive).");
    describe_counter!("baton_webhook_deliveries_total", "Webhook attempts by this node, by outcome.");
}

impl Hot {
    pub fn frame_in(&self) {
        self.frames_in.increment(1);
    }
    pub fn frame_out(&self) {
        self.frames_out.increment(1);
    }
    pub fn relayed(&self, from: Sender) {
        self.relayed[from as usize].increment(1);
    }
    pub fn store_write(&self, op: Write, took: Duration) {
        self.store_write[op as usize].record(took.as_secs_f64());
    }
}

/// Counts one open socket of its kind for as long as it lives.
pub struct OpenSocket(SocketKind);

impl OpenSocket {
    pub fn new(kind: SocketKind) -> OpenSocket {
        hot().sockets_open[kind as usize].increment(1.0);
        OpenSocket(kind)
    }
}

impl Drop for OpenSocket {
    fn drop(&mut self) {
        hot().sockets_open[self.0 as usize].decrement(1.0);
    }
}

/// A failed store call of this kind (`unavailable`, `full`, …).
pub fn store_error(kind: &'static str) {
    metrics::counter!("baton_store_errors_total", "kind" => kind).increment(1);
}

pub fn llm_request() {
    metrics::counter!("baton_llm_requests_total").increment(1);
}

pub fn llm_first_token(took: Duration) {
    metrics::histogram!("baton_llm_first_token_seconds").record(took.as_secs_f64());
}

/// Tokens a site's model request used (the server's count, or the estimate; see `bot::budget`).
pub fn llm_tokens(site: &str, tokens: u64) {
    metrics::counter!("baton_llm_tokens_total", "site" => site.to_owned()).increment(tokens);
}

/// A failed model request of this kind (`timeout`, `busy`, `connect`, …).
pub fn llm_failure(kind: &'static str) {
    metrics::counter!("baton_llm_failures_total", "kind" => kind).increment(1);
}

/// One call of a site's bot action: `answered`, `refused` (arguments the schema refuses),
/// `declined` (the visitor did not confirm), `failed`, `timeout` or `gone` (the chat left the bot).
pub fn bot_action(outcome: &'static str) {
    metrics::counter!("baton_bot_action_calls_total", "outcome" => outcome).increment(1);
}

/// A conversation went to people, for `reason` (labelled with its wire name).
pub fn escalation(reason: impl serde::Serialize) {
    let name = match serde_json::to_value(reason) {
        Ok(serde_json::Value::String(name)) => name,
        _ => "unknown".to_owned(),
    };
    metrics::counter!("baton_escalations_total", "reason" => name).increment(1);
}

/// An escalation found its site's queue at `handoff.max_queue` (the bot kept the chat).
pub fn queue_full(site: &str) {
    metrics::counter!("baton_queue_full_total", "site" => site.to_owned()).increment(1);
}

/// A chat waited on a person past its site's SLA (counted once per wait, on one node).
pub fn sla_breach(site: &str) {
    metrics::counter!("baton_sla_breaches_total", "site" => site.to_owned()).increment(1);
}

/// An inactivity rule acted: `nudge` or `resolve`.
pub fn idle_rule(site: &str, rule: &'static str) {
    let name = if rule == "nudge" { "baton_idle_nudges_total" } else { "baton_idle_resolved_total" };
    metrics::counter!(name, "site" => site.to_owned()).increment(1);
}

/// A proactive trigger's message entered a conversation.
pub fn proactive(site: &str, trigger: &str) {
    metrics::counter!("baton_proactive_messages_total", "site" => site.to_owned(), "trigger" => trigger.to_owned())
        .increment(1);
}

pub fn archive_copied() {
    metrics::counter!("baton_archive_copied_total").increment(1);
}

/// The webhook outbox's pending deliveries (read by each node's dispatcher every second).
pub fn webhook_backlog(pending: u64) {
    metrics::gauge!("baton_webhook_backlog").set(pending as f64);
}

/// One webhook attempt: `delivered`, `retried` (will be tried again) or `failed` (given up).
pub fn webhook_delivery(outcome: &'static str) {
    metrics::counter!("baton_webhook_deliveries_total", "outcome" => outcome).increment(1);
}

/// What a scrape reads from the store first (the same on every node: the store is shared).
pub struct Snapshot {
    /// Per configured site: waiting chats and the longest wait in seconds.
    pub queues: Vec<(String, usize, f64)>,
    /// Agents present, by status name.
    pub agents: Vec<(&'static str, usize)>,
    /// `None` when the store did not answer.
    pub archive_lag: Option<usize>,
}

/// Sets the gauges a scrape reads, then renders everything.
pub fn render(handle: &PrometheusHandle, snapshot: Snapshot) -> String {
    for (site, length, oldest) in snapshot.queues {
        metrics::gauge!("baton_queue_length", "site" => site.clone()).set(length as f64);
        metrics::gauge!("baton_queue_oldest_wait_seconds", "site" => site).set(oldest);
    }
    for (status, count) in snapshot.agents {
        metrics::gauge!("baton_agents_online", "status" => status).set(count as f64);
    }
    if let Some(lag) = snapshot.archive_lag {
        metrics::gauge!("baton_archive_lag_conversations").set(lag as f64);
    }
    handle.render()
}

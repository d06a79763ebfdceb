//! Each scenario against each target, repeated, with its figures recorded under the JSON keys
//! the README and BENCHMARKS.md name. A fresh server process per scenario and run, so no run
//! inherits another's memory or conversations.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::json;

use crate::relay::{Load, Pairs};
use crate::report::Report;
use crate::servers::{self, BatonOptions, Server};
use crate::streams::{Script, ScriptedModel};
use crate::sys::{self, Pinning};
use crate::{Args, idle, relay, signals, soak, streams, takeover};

/// Sizes and durations: `--quick` keeps the whole invocation under five minutes.
struct Plan {
    runs: usize,
    idle_sessions: usize,
    pairs: usize,
    warmup: Duration,
    measure: Duration,
    ttft_samples: usize,
    concurrent_streams: usize,
    takeover_samples: usize,
    signals_budget: Duration,
}

impl Plan {
    fn new(args: &Args) -> Plan {
        let quick = args.quick;
        Plan {
            runs: if quick { 1 } else { args.runs.max(1) },
            idle_sessions: 19_000,
            pairs: 1_000,
            warmup: Duration::from_secs(if quick { 1 } else { 2 }),
            measure: Duration::from_secs(if quick { 3 } else { 8 }),
            ttft_samples: if quick { 100 } else { 300 },
            concurrent_streams: 2_000,
            takeover_samples: if quick { 100 } else { 300 },
            signals_budget: Duration::from_secs(if quick { 1 } else { 3 }),
        }
    }
}

struct Bench {
    plan: Plan,
    pinning: Pinning,
    baton: PathBuf,
    config: PathBuf,
    dir: PathBuf,
    report: Report,
}

fn wanted(args: &Args, scenario: &str) -> bool {
    args.only.is_empty() || args.only.iter().any(|s| s == scenario)
}

pub fn progress(message: &str) {
    eprintln!("[{:>7.1}s] {message}", sys::now_ns() as f64 / 1e9);
}

pub async fn run_all(args: &Args, pinning: Pinning) -> anyhow::Result<Report> {
    let plan = Plan::new(args);
    let dir = std::env::temp_dir().join(format!("baton-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let mut report = Report::default();
    let baton = servers::locate_baton(args.baton.clone(), &mut report.notes)?;
    let config = servers::prepare_config(&dir, plan.pairs.div_ceil(servers::CHATS_PER_AGENT))?;
    meta(&mut report, args, &pinning, &plan);
    let mut bench = Bench { plan, pinning, baton, config, dir: dir.clone(), report };
    // `--only soak` runs no repeated scenario.
    let repeated = if args.only.is_empty() || args.only.iter().any(|s| s != "soak") { bench.plan.runs } else { 0 };
    for run in 0..repeated {
        progress(&format!("run {} of {}", run + 1, bench.plan.runs));
        if wanted(args, "idle") {
            bench.idle().await?;
        }
        if wanted(args, "relay") {
            bench.relay().await?;
        }
        if wanted(args, "streams") {
            bench.streams().await?;
        }
        if wanted(args, "takeover") {
            bench.takeover().await?;
        }
        if wanted(args, "signals") {
            bench.signals()?;
        }
        if wanted(args, "cluster")
            && let Err(error) = bench.cluster(run).await
        {
            let reason = format!("the two-node run failed: {error:#}");
            progress(&reason);
            for key in ["relay_two_nodes_msgs_per_sec", "relay_two_nodes_p99_us"] {
                bench.report.null(key, &reason);
            }
        }
    }
    // Named only: the soak takes minutes and runs once, whatever `--runs` says.
    if args.only.iter().any(|s| s == "soak") {
        bench.soak(args).await?;
    }
    bench.report.meta.insert("load_average_at_end".into(), json!(sys::load_average()));
    bench.report.notes.push(format!("server logs and the bench configuration: {}", dir.display()));
    Ok(bench.report)
}

fn meta(report: &mut Report, args: &Args, pinning: &Pinning, plan: &Plan) {
    let command = std::env::args().collect::<Vec<_>>().join(" ");
    let entries = [
        ("command", json!(command)),
        ("mode", json!(if args.quick { "quick" } else { "full" })),
        ("runs", json!(plan.runs)),
        ("cpu", json!(sys::cpu_model())),
        ("nproc", json!(sys::nproc_total())),
        ("memory", json!(sys::mem_total())),
        ("open_files_limit", json!(sys::open_files_limit())),
        ("pinning", json!(pinning.enabled)),
        ("pinning_detail", json!(pinning.reason)),
        ("load_average_at_start", json!(sys::load_average())),
        ("server_limits", json!(servers::LOAD_LIMITS.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>())),
    ];
    for (key, value) in entries {
        report.meta.insert(key.into(), value);
    }
}

impl Bench {
    fn log(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.log"))
    }

    async fn start_baton(&self, llm: Option<&str>) -> anyhow::Result<Server> {
        self.start_baton_with(llm, &[]).await
    }

    async fn start_baton_with(&self, llm: Option<&str>, env: &[(&str, &str)]) -> anyhow::Result<Server> {
        let log = self.log("baton");
        let options = BatonOptions { binary: &self.baton, config: &self.config, llm_base_url: llm, log: &log, env };
        servers::start_baton(&options, &self.pinning).await
    }

    async fn baselines(&self) -> Vec<(&'static str, anyhow::Result<Server>)> {
        vec![
            ("bare", servers::start_bare_relay(&self.pinning, &self.log("bare"), false).await),
            ("stock", servers::start_bare_relay(&self.pinning, &self.log("stock"), true).await),
            ("node", servers::start_node_relay(&self.pinning, &self.log("node")).await),
        ]
    }

    async fn idle(&mut self) -> anyhow::Result<()> {
        let sessions = idle::sessions_within_limit(self.plan.idle_sessions, sys::open_files_limit());
        progress(&format!("idle: {sessions} visitor sessions on baton"));
        let server = self.start_baton(None).await?;
        let run = idle::run(&server, idle::Kind::Visitor, sessions).await;
        drop(server);
        let r = &mut self.report;
        let section = "Idle sessions";
        r.add("idle_sessions", section, "Baton: visitor sessions held", "sessions", run.sessions as f64);
        r.add(
            "idle_rss_bytes_per_session",
            section,
            "Baton: resident memory per session",
            "bytes",
            run.rss_bytes_per_session,
        );
        r.add(
            "idle_failed",
            section,
            "Baton: sessions that failed to open or stay open",
            "sessions",
            run.failed as f64,
        );
        r.add(
            "idle_rss_total_bytes",
            section,
            "Baton: resident memory with all sessions",
            "bytes",
            run.rss_after as f64,
        );
        // Where the memory goes: the same sockets upgraded but never past `hello`.
        let server = self.start_baton_with(None, &[("BATON__LIMITS__HELLO_TIMEOUT_SECS", "300")]).await?;
        let run = idle::run(&server, idle::Kind::UpgradeOnly, sessions).await;
        drop(server);
        let r = &mut self.report;
        r.add(
            "idle_upgrade_only_rss_bytes_per_socket",
            section,
            "Baton: resident memory per socket before hello",
            "bytes",
            run.rss_bytes_per_session,
        );
        for (name, server) in self.baselines().await {
            let Ok(server) = server else {
                self.report.notes.push(format!("idle: the {name} relay did not start"));
                continue;
            };
            progress(&format!("idle: {sessions} sockets on the {name} relay"));
            let run = idle::run(&server, idle::Kind::PairRelay, sessions).await;
            let r = &mut self.report;
            r.add(
                &format!("{name}_idle_sockets"),
                section,
                &format!("{name} relay: sockets held"),
                "sockets",
                run.sessions as f64,
            );
            r.add(
                &format!("{name}_idle_rss_bytes_per_socket"),
                section,
                &format!("{name} relay: resident memory per socket"),
                "bytes",
                run.rss_bytes_per_session,
            );
        }
        Ok(())
    }

    async fn relay(&mut self) -> anyhow::Result<()> {
        let pairs = self.plan.pairs;
        progress(&format!("relay: {pairs} escalated visitor/agent pairs on baton"));
        let server = self.start_baton(None).await?;
        let connected = relay::connect_baton(server.port, server.port, pairs).await?;
        self.relay_loads("relay", "Baton", &connected, &server).await;
        drop(connected);
        drop(server);
        // The same with metrics off (no recorder installed): what counting costs.
        progress(&format!("relay: {pairs} pairs on baton with metrics off"));
        let server = self.start_baton_with(None, &[("BATON__METRICS__ENABLED", "false")]).await?;
        let connected = relay::connect_baton(server.port, server.port, pairs).await?;
        self.relay_loads("relay_nometrics", "Baton, metrics off", &connected, &server).await;
        drop(connected);
        drop(server);
        for (name, server) in self.baselines().await {
            let Ok(server) = server else {
                self.report.notes.push(format!("relay: the {name} relay did not start"));
                continue;
            };
            progress(&format!("relay: {pairs} pairs on the {name} relay"));
            let connected = relay::connect_pair_relay(server.port, pairs).await?;
            let label = match name {
                "bare" => "bare actix-ws",
                "stock" => "stock actix-ws",
                _ => "Node ws",
            };
            self.relay_loads(&format!("{name}_relay"), label, &connected, &server).await;
        }
        Ok(())
    }

    /// Saturation (closed loop, one message in flight per pair and direction), then paced
    /// 10,000/s and 50,000/s.
    async fn relay_loads(&mut self, prefix: &str, label: &str, pairs: &Pairs, server: &Server) {
        let (warmup, measure) = (self.plan.warmup, self.plan.measure);
        let section = "Relay (1,000 pairs, 64-character messages, both directions)";
        let servers = [server.pid()];
        let run = relay::run(pairs, Load::Saturate { window: 1 }, warmup, measure, &servers).await;
        let r = &mut self.report;
        r.add(
            &format!("{prefix}_msgs_per_sec"),
            section,
            &format!("{label}: saturated, messages/s"),
            "msg/s",
            run.msgs_per_sec,
        );
        r.latency(prefix, section, &format!("{label}: saturated latency"), &run.latency);
        r.add(
            &format!("{prefix}_server_cpu"),
            section,
            &format!("{label}: saturated, server CPU"),
            "cores",
            run.server_cpu,
        );
        r.add(
            &format!("{prefix}_cpu_us_per_msg"),
            section,
            &format!("{label}: saturated, server CPU per message"),
            "µs",
            run.cpu_us_per_msg(),
        );
        r.add(
            &format!("{prefix}_generator_cpu"),
            section,
            &format!("{label}: saturated, load generator CPU"),
            "cores",
            run.generator_cpu,
        );
        for rate in [10_000.0, 50_000.0] {
            let k = rate as u64 / 1000;
            let run = relay::run(pairs, Load::Paced { rate }, warmup, measure, &servers).await;
            let r = &mut self.report;
            let p = format!("{prefix}_paced_{k}k");
            r.add(
                &format!("{p}_msgs_per_sec"),
                section,
                &format!("{label}: paced {k}k/s, achieved"),
                "msg/s",
                run.msgs_per_sec,
            );
            r.latency(&p, section, &format!("{label}: paced {k}k/s latency"), &run.latency);
            r.add(
                &format!("{p}_server_cpu"),
                section,
                &format!("{label}: paced {k}k/s, server CPU"),
                "cores",
                run.server_cpu,
            );
            r.add(
                &format!("{p}_cpu_us_per_msg"),
                section,
                &format!("{label}: paced {k}k/s, server CPU per message"),
                "µs",
                run.cpu_us_per_msg(),
            );
            r.add(
                &format!("{p}_generator_cpu"),
                section,
                &format!("{label}: paced {k}k/s, load generator CPU"),
                "cores",
                run.generator_cpu,
            );
        }
    }

    async fn streams(&mut self) -> anyhow::Result<()> {
        let fast = Script { tokens: 5, interval: Duration::from_millis(10) };
        let model = ScriptedModel::start(fast)?;
        progress("streams: time to first token, direct and through baton");
        let server = self.start_baton(Some(&model.base_url)).await?;
        let samples = self.plan.ttft_samples;
        let direct = streams::direct(&model, samples).await?;
        let baton = streams::through_baton(server.port, samples).await?;
        let section = "Bot streaming (scripted model: first token after 10 ms, then one every 10 ms)";
        let r = &mut self.report;
        r.latency("ttft_direct", section, "TTFT direct", &direct.ttft);
        r.latency("ttft_baton", section, "TTFT through Baton", &baton.ttft);
        r.add("ttft_overhead_p50_us", section, "added TTFT p50", "µs", baton.ttft.p50 - direct.ttft.p50);
        r.add("ttft_overhead_p99_us", section, "added TTFT p99", "µs", baton.ttft.p99 - direct.ttft.p99);
        r.latency("token_direct", section, "per-token latency direct", &direct.per_token);
        r.latency("token_baton", section, "per-token latency through Baton", &baton.per_token);
        r.add("ttft_failed", section, "replies that failed", "replies", baton.failed as f64);
        let streams = self.plan.concurrent_streams;
        progress(&format!("streams: {streams} concurrent bot streams"));
        model.set_script(Script { tokens: 20, interval: Duration::from_millis(100) });
        let run = streams::concurrent(server.port, &model, streams).await?;
        let r = &mut self.report;
        let section = "Concurrent bot streams (20 tokens, one every 100 ms)";
        r.add(
            "concurrent_streams",
            section,
            "streams open at once and completed",
            "streams",
            run.completed.min(run.max_active) as f64,
        );
        r.add("concurrent_streams_attempted", section, "streams attempted", "streams", run.streams as f64);
        r.add("concurrent_streams_completed", section, "streams completed", "streams", run.completed as f64);
        r.add(
            "concurrent_streams_max_open",
            section,
            "most streams open at the model at once",
            "streams",
            run.max_active as f64,
        );
        r.latency("concurrent_ttft", section, "TTFT under load", &run.run.ttft);
        r.latency("concurrent_token", section, "per-token latency under load", &run.run.per_token);
        Ok(())
    }

    async fn takeover(&mut self) -> anyhow::Result<()> {
        progress("takeover");
        let server = self.start_baton(None).await?;
        let run = takeover::run(server.port, self.plan.takeover_samples).await?;
        let section = "Takeover (one agent online, one chat at a time)";
        let r = &mut self.report;
        r.latency("escalation_notify", section, "request_human → agent's queue_snapshot (manual)", &run.notified);
        r.latency("takeover", section, "accept → visitor sees state agent", &run.accepted);
        r.latency("escalation_assign", section, "request_human → agent's assigned (least busy)", &run.auto_assigned);
        Ok(())
    }

    fn signals(&mut self) -> anyhow::Result<()> {
        progress("signals");
        let run = signals::run(self.plan.signals_budget)?;
        let section = "Signals (conversation::turn::evaluate on the demo site, 9 turns of history)";
        let r = &mut self.report;
        r.add("signals_ns_per_turn", section, "mean cost per visitor turn", "ns", run.ns_per_turn);
        r.add("signals_p50_ns", section, "per turn p50", "ns", run.latency_ns.p50);
        r.add("signals_p99_ns", section, "per turn p99", "ns", run.latency_ns.p99);
        r.add("signals_turns", section, "turns judged", "turns", run.turns as f64);
        Ok(())
    }

    /// Two nodes on one Redis, when the store supports it: visitors on node A, agents on
    /// node B, so every relayed message crosses Redis.
    async fn cluster(&mut self, run: usize) -> anyhow::Result<()> {
        if let Some(reason) = cluster_unavailable(&servers::repo_root()) {
            for key in ["relay_two_nodes_msgs_per_sec", "relay_two_nodes_p99_us"] {
                self.report.null(key, &reason);
            }
            return Ok(());
        }
        let pairs = self.plan.pairs;
        progress(&format!("cluster: {pairs} pairs across two baton nodes on one redis-server"));
        let redis = servers::start_redis(&self.pinning, &self.log("redis")).await?;
        let url = format!("redis://127.0.0.1:{}/", redis.port);
        let namespace = format!("bench{}r{run}", std::process::id());
        let env = [("BATON__STORE__REDIS_URL", url.as_str()), ("BATON__STORE__NAMESPACE", namespace.as_str())];
        let a = self.start_baton_with(None, &env).await?;
        let b = self.start_baton_with(None, &env).await?;
        let connected = relay::connect_baton(a.port, b.port, pairs).await?;
        let servers = [a.pid(), b.pid(), redis.pid()];
        let (warmup, measure) = (self.plan.warmup, self.plan.measure);
        let section = "Relay across two nodes through Redis (visitors on node A, agents on node B)";
        let saturated = relay::run(&connected, Load::Saturate { window: 1 }, warmup, measure, &servers).await;
        let r = &mut self.report;
        r.add(
            "relay_two_nodes_msgs_per_sec",
            section,
            "two nodes: saturated, messages/s",
            "msg/s",
            saturated.msgs_per_sec,
        );
        r.latency("relay_two_nodes_saturated", section, "two nodes: saturated latency", &saturated.latency);
        r.add(
            "relay_two_nodes_server_cpu",
            section,
            "two nodes: saturated, CPU of both nodes and Redis",
            "cores",
            saturated.server_cpu,
        );
        for (i, process) in ["node_a", "node_b", "redis"].iter().enumerate() {
            r.add(
                &format!("relay_two_nodes_{process}_cpu"),
                section,
                &format!("two nodes: saturated, CPU of {}", process.replace('_', " ")),
                "cores",
                saturated.server_cpu_each.get(i).copied().unwrap_or(f64::NAN),
            );
        }
        r.add(
            "relay_two_nodes_cpu_us_per_msg",
            section,
            "two nodes: saturated, CPU (both nodes and Redis) per message",
            "µs",
            saturated.cpu_us_per_msg(),
        );
        for rate in [10_000.0, 25_000.0] {
            let k = rate as u64 / 1000;
            let run = relay::run(&connected, Load::Paced { rate }, warmup, measure, &servers).await;
            let r = &mut self.report;
            let p = format!("relay_two_nodes_paced_{k}k");
            r.add(
                &format!("{p}_msgs_per_sec"),
                section,
                &format!("two nodes: paced {k}k/s, achieved"),
                "msg/s",
                run.msgs_per_sec,
            );
            r.latency(&p, section, &format!("two nodes: paced {k}k/s latency"), &run.latency);
            r.add(
                &format!("{p}_cpu_us_per_msg"),
                section,
                &format!("two nodes: paced {k}k/s, CPU (both nodes and Redis) per message"),
                "µs",
                run.cpu_us_per_msg(),
            );
            if k == 25 {
                r.add("relay_two_nodes_p99_us", section, "two nodes: p99 at 25k/s", "µs", run.latency.p99);
            }
        }
        Ok(())
    }
}

/// Why the two-node scenario cannot run, if it cannot: it needs the Redis store wired into
/// startup and a `redis-server` to start.
fn cluster_unavailable(root: &Path) -> Option<String> {
    let startup = std::fs::read_to_string(root.join("server/src/startup.rs")).unwrap_or_default();
    if startup.contains("only the in-memory store") || !startup.contains("RedisStore") {
        return Some("the Redis store is not wired into server/src/startup.rs (build_store refuses store.redis_url), so two nodes cannot share conversations".into());
    }
    if !sys::has_command("redis-server") {
        return Some("redis-server is not installed".into());
    }
    None
}

impl Bench {
    /// Visitors and agents on one node with Redis for `--soak-minutes`; see [`soak`].
    async fn soak(&mut self, args: &Args) -> anyhow::Result<()> {
        let plan = soak::SoakPlan {
            duration: Duration::from_secs_f64(args.soak_minutes.max(0.1) * 60.0),
            sample_every: Duration::from_secs(args.soak_sample_secs.max(1)),
            visitors: args.soak_visitors,
            agents: args.soak_agents,
        };
        let relay_agents = self.plan.pairs.div_ceil(servers::CHATS_PER_AGENT);
        anyhow::ensure!(plan.agents <= relay_agents, "--soak-agents is at most {relay_agents}");
        progress(&format!(
            "soak: {} visitors and {} agents on one node with Redis for {:.1} min",
            plan.visitors,
            plan.agents,
            plan.duration.as_secs_f64() / 60.0
        ));
        let redis = servers::start_redis(&self.pinning, &self.log("soak-redis")).await?;
        let url = format!("redis://127.0.0.1:{}/", redis.port);
        let env = [("BATON__STORE__REDIS_URL", url.as_str()), ("BATON__STORE__NAMESPACE", "soak")];
        let node = self.start_baton_with(None, &env).await?;
        let tokens = (0..plan.agents).map(servers::relay_token).collect();
        let run = soak::run(&plan, &node, &redis, tokens).await;
        let section = "Soak (one node with Redis; growth fitted over the second half of the samples)";
        let r = &mut self.report;
        for sample in &run.samples {
            r.notes.push(soak::describe(sample));
        }
        for (name, count) in &run.totals {
            r.notes.push(format!("soak total: {count} {name}"));
        }
        r.add("soak_minutes", section, "length", "min", plan.duration.as_secs_f64() / 60.0);
        r.add("soak_visitors", section, "visitors", "", plan.visitors as f64);
        r.add("soak_agents", section, "agents", "", plan.agents as f64);
        let last = run.samples.last();
        r.add(
            "soak_rss_bytes_end",
            section,
            "node resident memory at the end",
            "B",
            last.map_or(f64::NAN, |s| s.rss as f64),
        );
        r.add("soak_rss_growth_bytes_per_hour", section, "node resident memory growth", "B/h", run.rss_per_hour);
        r.add("soak_open_files_growth_per_hour", section, "node open files growth", "/h", run.open_files_per_hour);
        r.add("soak_redis_growth_bytes_per_hour", section, "Redis used_memory growth", "B/h", run.redis_per_hour);
        let worst = run.samples.iter().map(|s| s.ack.p99).filter(|p| p.is_finite()).fold(f64::NAN, f64::max);
        r.add("soak_ack_p99_us_worst_interval", section, "message to ack, worst interval p99", "µs", worst);
        for (name, count) in &run.totals {
            let key = format!("soak_{}", name.replace(' ', "_"));
            r.add(&key, section, name, "", *count as f64);
        }
        Ok(())
    }
}

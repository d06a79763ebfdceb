//! `baton-bench`: Baton's load generator and its side-by-side baselines.
//!
//! `cargo run --release -p baton-bench -- [--quick] [--json]` builds (or locates) the real
//! `baton` binary, starts it as a child process per scenario with the bench's configuration,
//! starts the baselines (a bare actix-ws relay, which is this binary in its
//! `--serve-bare-relay` mode, on Baton's server builder; the same relay on actix-web's stock
//! `HttpServer`, `--serve-stock-relay`; and a Node relay on `ws`), and measures:
//! idle sessions and memory, relay throughput and latency, bot streaming against a scripted
//! OpenAI-compatible server, takeover, and the cost of judging a visitor turn.
//!
//! # Layout
//! - [`sys`]: clock, `/proc` readings, pinning, ports.
//! - [`servers`]: the processes under test and the bench configuration.
//! - [`client`]: the protocol client.
//! - [`idle`], [`relay`], [`streams`], [`takeover`], [`signals`], [`soak`]: the scenarios.
//! - [`scenarios`]: running each scenario against each target and recording its figures.
//! - [`report`]: statistics, tables, JSON.
//! - [`bare_relay`]: the actix-ws baseline server.

mod bare_relay;
mod client;
mod idle;
mod relay;
mod report;
mod scenarios;
mod servers;
mod signals;
mod soak;
mod streams;
mod sys;
mod takeover;

use std::path::PathBuf;

use clap::Parser;

#[derive(Debug, Parser)]
#[command(name = "baton-bench", about = "Baton's load generator and baselines")]
pub struct Args {
    /// Every scenario briefly, once (under five minutes on two cores).
    #[arg(long)]
    pub quick: bool,
    /// Print exactly one JSON object on stdout instead of tables.
    #[arg(long)]
    pub json: bool,
    /// Repetitions of each scenario in a full run (min/median/max are over these).
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
    /// The baton binary to test (default: build target/release/baton).
    #[arg(long)]
    pub baton: Option<PathBuf>,
    /// Do not pin the load generator and the servers to separate cores.
    #[arg(long)]
    pub no_pin: bool,
    /// Only these scenarios (comma-separated): idle, relay, streams, takeover, signals, cluster,
    /// and soak (never run unless named: it takes `--soak-minutes`).
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<String>,
    /// The soak's length in minutes (the published run: 10).
    #[arg(long, default_value_t = 10.0)]
    pub soak_minutes: f64,
    /// The soak's sampling interval in seconds.
    #[arg(long, default_value_t = 60)]
    pub soak_sample_secs: u64,
    /// Visitors in the soak.
    #[arg(long, default_value_t = 2_000)]
    pub soak_visitors: usize,
    /// Agents in the soak (each with room for six chats).
    #[arg(long, default_value_t = 20)]
    pub soak_agents: usize,
    /// Internal: serve the bare actix-ws relay on this port, on Baton's server builder.
    #[arg(long, hide = true)]
    pub serve_bare_relay: Option<u16>,
    /// Internal: serve the bare actix-ws relay on this port, on actix-web's `HttpServer`.
    #[arg(long, hide = true)]
    pub serve_stock_relay: Option<u16>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if let Some(port) = args.serve_bare_relay {
        return bare_relay::serve(port, bare_relay::Transport::Baton);
    }
    if let Some(port) = args.serve_stock_relay {
        return bare_relay::serve(port, bare_relay::Transport::Stock);
    }
    // Pin before any thread exists, so every thread of the generator inherits it.
    let pinning = sys::Pinning::apply(!args.no_pin);
    sys::now_ns();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let report = runtime.block_on(scenarios::run_all(&args, pinning))?;
    if args.json {
        println!("{}", serde_json::to_string(&report.json())?);
    } else {
        println!("{}", report.tables());
    }
    Ok(())
}

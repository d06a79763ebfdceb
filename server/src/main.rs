//! The `baton` binary: `baton serve` (the default) runs the server, `baton signals` replays
//! transcripts through the escalation policy, `baton export` prints the archive. Everything else lives in the library.

use baton::cli::{Cli, Command, CommandExt};
use baton::config::Settings;
use baton::startup::Application;
use baton::telemetry;
use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let settings = match Settings::load() {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("baton: bad configuration: {error:#}");
            std::process::exit(2);
        }
    };
    let serving = cli.command.is_serve();
    let traces = serving.then_some(&settings.traces);
    let _telemetry = telemetry::init_with_traces(std::env::var("TEST_LOG").is_ok() || serving, traces);
    match cli.command.unwrap_or_default() {
        Command::Serve => Application::build(settings).await?.run_until_stopped().await,
        Command::Signals(args) if args.tune => baton::cli::tune(settings, args).await,
        Command::Signals(args) => baton::cli::signals(settings, args).await,
        Command::Export(args) => baton::cli::export(settings, args).await,
        Command::Privacy(command) => baton::cli::privacy(settings, command).await,
        Command::Keys(command) => baton::cli::keys(settings, command).await,
    }
}

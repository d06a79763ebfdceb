//! Structured logs through `tracing`. `RUST_LOG` filters (default `info`); `BATON_LOG_FORMAT=json`
//! switches to one JSON object per line for log shippers.

pub mod metrics;

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber once. `enabled = false` keeps the process quiet (the
/// `signals` subcommand writes its results to stdout and must not mix logs into them).
pub fn init(enabled: bool) {
    if !enabled {
        return;
    }
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let result = if std::env::var("BATON_LOG_FORMAT").as_deref() == Ok("json") {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
    // A second init (tests start many apps in one process) keeps the first subscriber.
    let _ = result;
}

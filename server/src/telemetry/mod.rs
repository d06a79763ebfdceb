//! What an operator sees of a running node: structured logs through `tracing` (`RUST_LOG`
//! filters, default `info`; `BATON_LOG_FORMAT=json` writes one JSON object per line for log
//! shippers), [`metrics`] for `/metrics`, and, when `[traces]` is on, OpenTelemetry
//! [`traces`] of the same spans.

pub mod metrics;
pub mod traces;

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::config::TracesSettings;

/// Keeps the trace exporter alive; dropping it sends what is batched and stops it.
#[derive(Default)]
pub struct Telemetry {
    provider: Option<opentelemetry_sdk::trace::SdkTracerProvider>,
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take()
            && let Err(error) = provider.shutdown()
        {
            eprintln!("baton: traces not flushed at exit: {error}");
        }
    }
}

/// Installs the global subscriber once. `enabled = false` keeps the process quiet (the
/// `signals` subcommand writes its results to stdout and must not mix logs into them).
pub fn init(enabled: bool) {
    drop(init_with_traces(enabled, None));
}

/// As [`init`], exporting traces as `traces` says when it is given and enabled. The log
/// filter applies to the logs only, so spans that only the traces want cost nothing while
/// traces are off.
pub fn init_with_traces(enabled: bool, traces: Option<&TracesSettings>) -> Telemetry {
    if !enabled {
        return Telemetry::default();
    }
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let logs = match std::env::var("BATON_LOG_FORMAT").as_deref() == Ok("json") {
        true => logs.json().with_filter(filter).boxed(),
        false => logs.with_filter(filter).boxed(),
    };
    let (otel, provider) = match traces.filter(|t| t.enabled).map(traces::layer) {
        Some(Ok((layer, provider))) => (Some(layer), Some(provider)),
        Some(Err(error)) => {
            eprintln!("baton: traces are off: {error:#}");
            (None, None)
        }
        None => (None, None),
    };
    // A second init (tests start many apps in one process) keeps the first subscriber.
    let _ = tracing_subscriber::registry().with(logs).with(otel).try_init();
    Telemetry { provider }
}

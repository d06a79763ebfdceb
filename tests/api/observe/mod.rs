//! What an operator observes: `/metrics` scraped by a real Prometheus, and OpenTelemetry traces
//! received by a real OTLP/HTTP endpoint the test runs. Both start the `baton` binary, so the
//! process's one recorder and one tracing subscriber hold only the test's own traffic.

mod deploy;
mod metrics;
mod otlp_receiver;
mod traces;

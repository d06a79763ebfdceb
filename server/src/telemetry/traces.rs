//! OpenTelemetry traces over OTLP/HTTP (protobuf), off by default (`[traces]`).
//!
//! The `tracing` spans Baton opens become OpenTelemetry spans: a visitor message's
//! `visitor_frame` (the socket) is the root; the policy, the store calls, the bot's reply and
//! its model request are its descendants (the bot's task carries its parent along), and every
//! one of them has the `conversation_id` attribute. Only spans of Baton's own code go out,
//! with warnings and errors attached to them as span events; everything else stays in the logs.
//!
//! Spans are batched and sent by the SDK's own thread with a blocking HTTP client, so
//! nothing waits on the collector: when it is slow or down the batch queue (2,048 spans by
//! default) drops the newest spans instead of growing. The standard `OTEL_BSP_*` variables
//! tune the batching.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{Protocol, SpanExporter, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
use tracing::{Level, Metadata, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::registry::LookupSpan;

use crate::config::TracesSettings;

/// The layer that turns Baton's spans into OpenTelemetry spans, and the provider to shut
/// down (flushing what is batched) when the process ends.
pub fn layer<S>(settings: &TracesSettings) -> anyhow::Result<(impl Layer<S> + use<S>, SdkTracerProvider)>
where
    S: Subscriber + for<'span> LookupSpan<'span>,
{
    use anyhow::Context;
    let exporter = SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(settings.endpoint.clone())
        .build()
        .context("Failed to set up the OTLP span exporter")?;
    let sampler = Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(settings.sample_ratio)));
    let resource = Resource::builder().with_service_name(settings.service_name.clone()).build();
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_sampler(sampler)
        .with_resource(resource)
        .build();
    let tracer = provider.tracer("baton");
    let layer = tracing_opentelemetry::layer().with_tracer(tracer).with_filter(filter_fn(exported));
    Ok((layer, provider))
}

/// Baton's own spans at every level up to `debug`, and warnings and errors as span events.
fn exported(metadata: &Metadata<'_>) -> bool {
    let ours = metadata.target().starts_with("baton");
    if metadata.is_span() { ours && *metadata.level() <= Level::DEBUG } else { *metadata.level() <= Level::WARN }
}

//! Logging and tracing setup shared by the binaries: `tracing` JSON lines (or
//! plain text with `TAREFA_LOG_FORMAT=text`), filtered by `RUST_LOG` (default
//! `info`). Spans carry `tenant_id`, `job_id`, `kind` and `attempt`; secrets
//! and message bodies are never logged.
//!
//! With `[telemetry] otlp_endpoint` set, spans are also exported over OTLP
//! (HTTP/protobuf, `POST <endpoint>/v1/traces`) by a batch processor on its own
//! thread. Off by default: no exporter, no thread. A job's span is the child of
//! the traceparent stored on the job ([`continue_trace`]).

use opentelemetry::trace::{
    SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState, TracerProvider as _,
};
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter, Layer};

use crate::config::TelemetrySettings;

/// Keeps the trace exporter alive; flushes and stops it when dropped (hold it in `main`).
#[must_use = "dropping it stops trace export"]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Is an OTLP exporter installed?
    pub fn exporting(&self) -> bool {
        self.provider.is_some()
    }

    /// Exports every finished span now (blocks until the collector answered).
    pub fn flush(&self) {
        if let Some(p) = &self.provider {
            if let Err(e) = p.force_flush() {
                tracing::warn!(error = %e, "trace export flush failed");
            }
        }
    }
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(p) = self.provider.take() {
            let _ = p.shutdown();
        }
    }
}

/// Installs the global subscriber, logs only; call once from `main`.
pub fn init(service: &'static str) -> Telemetry {
    init_with(service, &TelemetrySettings::default())
}

/// Installs the global subscriber, with OTLP export when `settings` asks for it.
pub fn init_with(service: &'static str, settings: &TelemetrySettings) -> Telemetry {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let text = std::env::var("TAREFA_LOG_FORMAT")
        .map(|v| v == "text")
        .unwrap_or(false);
    let logs = if text {
        fmt::layer().with_writer(std::io::stderr).boxed()
    } else {
        fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_writer(std::io::stderr)
            .boxed()
    };
    let (provider, export_error) = match exporter(service, &settings.otlp_endpoint) {
        Ok(p) => (p, None),
        Err(e) => (None, Some(e)),
    };
    let otel = provider
        .as_ref()
        .map(|p| tracing_opentelemetry::layer().with_tracer(p.tracer("tarefa")));
    let res = tracing_subscriber::registry()
        .with(filter)
        .with(logs)
        .with(otel)
        .try_init();
    if res.is_ok() {
        tracing::info!(service, otlp = provider.is_some(), "logging started");
        if let Some(e) = export_error {
            tracing::error!(error = %e, "OTLP trace export disabled: exporter could not be built");
        }
    }
    Telemetry { provider }
}

/// The OTLP/HTTP protobuf exporter for `endpoint` (a base URL), or `None` when empty.
fn exporter(service: &'static str, endpoint: &str) -> Result<Option<SdkTracerProvider>, String> {
    let endpoint = endpoint.trim().trim_end_matches('/');
    if endpoint.is_empty() {
        return Ok(None);
    }
    let url = if endpoint.ends_with("/v1/traces") {
        endpoint.to_string()
    } else {
        format!("{endpoint}/v1/traces")
    };
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(url)
        .build()
        .map_err(|e| e.to_string())?;
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(
            opentelemetry_sdk::Resource::builder()
                .with_service_name(service)
                .build(),
        )
        .build();
    Ok(Some(provider))
}

/// Makes `span` (not yet entered) the child of the W3C `traceparent` when it
/// is valid, and returns the span's own id when an OpenTelemetry layer
/// records it (so what the run causes names the exported span as parent).
pub fn continue_trace(span: &tracing::Span, traceparent: Option<&str>) -> Option<String> {
    if let Some((trace, parent, flags)) = traceparent.and_then(crate::engine::trace::parse) {
        if let (Ok(t), Ok(s), Ok(f)) = (
            TraceId::from_hex(trace),
            SpanId::from_hex(parent),
            u8::from_str_radix(flags, 16),
        ) {
            let remote = SpanContext::new(t, s, TraceFlags::new(f), true, TraceState::default());
            let _ = span.set_parent(opentelemetry::Context::new().with_remote_span_context(remote));
        }
    }
    let cx = span.context();
    let id = cx.span().span_context().span_id();
    (id != SpanId::INVALID).then(|| id.to_string())
}

//! Logging setup shared by the binaries: `tracing` JSON lines (or plain text
//! with `TAREFA_LOG_FORMAT=text`), filtered by `RUST_LOG` (default `info`).
//! Spans carry `tenant_id`, `job_id`, `kind` and `attempt`; secrets and message
//! bodies are never logged.

use tracing_subscriber::{fmt, EnvFilter};

/// Installs the global subscriber; call once from `main`.
pub fn init(service: &'static str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let text = std::env::var("TAREFA_LOG_FORMAT")
        .map(|v| v == "text")
        .unwrap_or(false);
    let builder = fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let res = if text {
        builder.try_init()
    } else {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init()
    };
    if res.is_ok() {
        tracing::info!(service, "logging started");
    }
}

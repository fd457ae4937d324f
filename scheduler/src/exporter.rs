//! The scheduler's `/metrics`: Prometheus text on `scheduler.metrics_addr`
//! (empty: no listener), from the same `metrics` recorder and exporter as
//! api-lite's. Today it carries the stream gauges each consumer sets every
//! [`crate::events::LAG_EVERY`]: `tarefa_stream_lag` (entries not yet
//! delivered to the group: XINFO GROUPS `lag`), `tarefa_stream_pending`
//! (delivered, not acknowledged) and `tarefa_stream_oldest_pending_seconds`,
//! labelled `{stream, group}`. api-lite's `/metrics` cannot show them: they
//! live in the scheduler process.

use std::future::Future;
use std::sync::OnceLock;

use axum::routing::get;
use axum::Router;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use crate::events::Lag;

/// The process-wide recorder's handle, installed on first use.
pub fn handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("another metrics recorder is installed; /metrics will be empty");
            }
            handle
        })
        .clone()
}

/// Sets one stream's gauges (on the current recorder).
pub fn set_lag(stream: &str, group: &str, lag: &Lag) {
    let labels = [("stream", stream.to_string()), ("group", group.to_string())];
    metrics::gauge!("tarefa_stream_lag", &labels).set(lag.undelivered as f64);
    metrics::gauge!("tarefa_stream_pending", &labels).set(lag.pending as f64);
    metrics::gauge!("tarefa_stream_oldest_pending_seconds", &labels).set(lag.oldest_pending_secs);
}

/// Serves `GET /metrics` on `listener` until `shutdown`.
pub async fn serve(
    listener: tokio::net::TcpListener,
    handle: PrometheusHandle,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = Router::new().route(
        "/metrics",
        get(move || {
            let h = handle.clone();
            async move { h.render() }
        }),
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

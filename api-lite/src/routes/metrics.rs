//! `GET /metrics`: Prometheus text. The api-side counters come from the
//! `metrics` recorder (`tarefa_jobs_enqueued_total{kind,tenant}`); queue depth
//! and the workers' outcome counters and histograms are read from the engine
//! at scrape time and rendered by `prom.rs`; provider send outcomes are
//! counted from the notification outbox in PostgreSQL. Open like most exporters
//! unless `metrics.token` is set: then it wants `Authorization: Bearer <token>`
//! (401 `invalid_metrics_token` otherwise).

use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

use crate::error::ApiError;
use crate::keys::hashes_match;
use crate::prom;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/metrics", get(metrics))
}

/// Prometheus exposition text.
#[utoipa::path(get, path = "/metrics", tag = "health", responses((status = 200, description = "Prometheus text format", content_type = "text/plain"),
    (status = 401, description = "`metrics.token` is set and the request does not carry it", body = crate::error::ErrorBody)))]
pub async fn metrics(
    State(st): State<AppState>,
    headers: HeaderMap,
) -> Result<impl IntoResponse, ApiError> {
    check_token(&st.settings.metrics.token, &headers)?;
    let queues = st.registry.queues();
    let counts = futures::future::try_join_all(queues.iter().map(|q| st.engine.counts(q)));
    let stats = futures::future::try_join_all(queues.iter().map(|q| st.engine.stats(q)));
    let workers = futures::future::try_join_all(queues.iter().map(|q| st.engine.workers(q)));
    let slots = futures::future::try_join_all(queues.iter().map(|q| st.engine.concurrency(q)));
    let ((counts, stats, workers), slots) =
        futures::future::try_join(futures::future::try_join3(counts, stats, workers), slots)
            .await?;
    let alive: Vec<(String, usize)> = queues
        .iter()
        .cloned()
        .zip(workers.iter().map(Vec::len))
        .collect();
    let mut out = st.metrics.render();
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    prom::render_counts(&mut out, &counts);
    prom::render_stats(&mut out, &stats);
    prom::render_workers(&mut out, &alive);
    let slots: Vec<_> = queues.iter().cloned().zip(slots).collect();
    prom::render_concurrency(&mut out, &slots);
    // Provider send outcomes from the outbox; a database hiccup only drops this family.
    let outbox: Result<Vec<(String, String, String, i64)>, sqlx::Error> = sqlx::query_as(
        "select tenant_id::text, channel, status, count(*) from notifications \
         group by tenant_id, channel, status order by 1, 2, 3",
    )
    .fetch_all(&st.pool)
    .await;
    match outbox {
        Ok(rows) => prom::render_notifications(&mut out, &rows),
        Err(e) => tracing::warn!(error = %e, "metrics: outbox counts unavailable"),
    }
    match jobs::kinds::payments::sql::counts(&st.pool).await {
        Ok(rows) => prom::render_payments(&mut out, &rows),
        Err(e) => tracing::warn!(error = %e, "metrics: payment counts unavailable"),
    }
    match jobs::kinds::campaigns::metrics::prometheus(&st.pool).await {
        Ok(text) => out.push_str(&text),
        Err(e) => tracing::warn!(error = %e, "metrics: campaign gauges unavailable"),
    }
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    ))
}

/// `Ok` when no token is configured or the request bears it (compared without an early exit).
fn check_token(token: &str, headers: &HeaderMap) -> Result<(), ApiError> {
    if token.is_empty() {
        return Ok(());
    }
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    match given {
        Some(g) if hashes_match(g, token) => Ok(()),
        _ => Err(ApiError::unauthorized(
            "invalid_metrics_token",
            "GET /metrics wants Authorization: Bearer <metrics.token>",
        )),
    }
}

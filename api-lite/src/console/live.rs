//! Live numbers for the console: one snapshot per queue (counts, live
//! workers, the last hour minute by minute), served as JSON at
//! `/console/live/queues` and polled every 2 s by `console.js`, which updates
//! the `data-live` cells and redraws the sparklines.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use serde_json::json;

use jobs::engine::{EngineError, QueueCounts};

use super::html::no_store;
use super::session::Ops;
use crate::state::AppState;

#[derive(Debug, Serialize)]
pub struct QueueSnapshot {
    #[serde(flatten)]
    pub counts: QueueCounts,
    pub workers: usize,
    /// Outcomes in the last 60 minutes.
    pub last_hour: LastHour,
    /// Runs finished per minute (succeeded, retried, dead, cancelled), oldest first.
    pub throughput: Vec<u64>,
    /// Mean wait per minute in seconds (0 when nothing started), oldest first.
    pub wait: Vec<f64>,
}

#[derive(Debug, Default, Serialize)]
pub struct LastHour {
    pub succeeded: u64,
    /// Runs that failed and will run again.
    pub retried: u64,
    pub dead: u64,
}

/// Every queue's snapshot, read concurrently.
pub async fn snapshot(st: &AppState) -> Result<Vec<QueueSnapshot>, EngineError> {
    let queues = st.registry.queues();
    let now_minute = chrono::Utc::now().timestamp() / 60;
    futures::future::try_join_all(queues.iter().map(|q| async move {
        let (counts, workers, minutes) = futures::future::try_join3(
            st.engine.counts(q),
            st.engine.workers(q),
            st.engine.recent(q, 60, now_minute),
        )
        .await?;
        let last_hour = LastHour {
            succeeded: minutes.iter().map(|m| m.succeeded).sum(),
            retried: minutes.iter().map(|m| m.retried).sum(),
            dead: minutes.iter().map(|m| m.dead).sum(),
        };
        Ok(QueueSnapshot {
            counts,
            workers: workers.len(),
            last_hour,
            throughput: minutes
                .iter()
                .map(|m| m.succeeded + m.retried + m.dead + m.cancelled)
                .collect(),
            wait: minutes
                .iter()
                .map(|m| m.mean_wait_secs.unwrap_or(0.0))
                .collect(),
        })
    }))
    .await
}

pub async fn queues(State(st): State<AppState>, _ops: Ops) -> Response {
    match snapshot(&st).await {
        Ok(s) => no_store(Json(json!({ "queues": s })).into_response()),
        Err(e) => {
            tracing::error!(error = %e, "console live snapshot failed");
            (StatusCode::SERVICE_UNAVAILABLE, Json(json!({ "error": "unavailable", "message": "redis is unavailable", "details": null }))).into_response()
        }
    }
}

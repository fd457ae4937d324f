//! `/healthz` (the process answers) and `/readyz` (Redis and PostgreSQL answer
//! within `PROBE_TIMEOUT`; a 503 names the ones that do not). No auth: load
//! balancers and orchestrators call these.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::state::AppState;

/// Each dependency gets this long; the probes run concurrently, so `/readyz`
/// answers within about this long even when both are down.
pub const PROBE_TIMEOUT: Duration = Duration::from_millis(1_000);

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "health", responses((status = 200, description = "alive")))]
pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// Redis and PostgreSQL are reachable.
#[utoipa::path(get, path = "/readyz", tag = "health", responses(
    (status = 200, description = "ready"),
    (status = 503, description = "`details` names `redis` and/or `postgres` as down", body = crate::error::ErrorBody)))]
pub async fn readyz(State(st): State<AppState>) -> Result<Json<Value>, ApiError> {
    let redis = async {
        match tokio::time::timeout(PROBE_TIMEOUT, st.engine.ping()).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err("timed out".to_string()),
        }
    };
    let postgres = async {
        let q = sqlx::query_scalar::<_, i32>("select 1").fetch_one(&st.pool);
        match tokio::time::timeout(PROBE_TIMEOUT, q).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err("timed out".to_string()),
        }
    };
    let (redis, postgres) = tokio::join!(redis, postgres);
    let mut down = Vec::new();
    for (name, r) in [("redis", &redis), ("postgres", &postgres)] {
        if let Err(why) = r {
            tracing::warn!(dependency = name, error = %why, "readiness probe failed");
            down.push(name);
        }
    }
    let state = |r: &Result<(), String>| if r.is_ok() { "up" } else { "down" };
    let checks = json!({ "redis": state(&redis), "postgres": state(&postgres) });
    if down.is_empty() {
        return Ok(Json(json!({ "status": "ready", "checks": checks })));
    }
    Err(ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "not_ready",
        format!("down: {}", down.join(", ")),
    )
    .with_details(json!({ "down": down, "checks": checks })))
}

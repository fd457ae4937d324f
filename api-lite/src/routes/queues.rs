//! `/v1/queues`: jobs per state in every queue (platform-wide numbers, any
//! `jobs:read` caller), and pause/resume, which need `admin`: pausing stops
//! fetching for every worker of the queue; pushes are still accepted.

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;
use utoipa::ToSchema;

use jobs::engine::QueueCounts;

use crate::auth::{Scope, Tenant};
use crate::error::ApiError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/queues", get(list))
        .route("/v1/queues/{queue}/pause", post(pause))
        .route("/v1/queues/{queue}/resume", post(resume))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QueueList {
    pub queues: Vec<QueueCounts>,
}

/// Every queue: jobs per state, paused, age of the oldest waiting job.
#[utoipa::path(get, path = "/v1/queues", tag = "queues", security(("bearer" = [])),
    responses((status = 200, body = QueueList), (status = 403, body = crate::error::ErrorBody)))]
pub async fn list(State(st): State<AppState>, tenant: Tenant) -> Result<Json<QueueList>, ApiError> {
    tenant.require(Scope::JobsRead)?;
    let counts =
        futures::future::try_join_all(st.registry.queues().iter().map(|q| st.engine.counts(q)))
            .await?;
    Ok(Json(QueueList { queues: counts }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QueueState {
    pub queue: String,
    pub paused: bool,
}

async fn set_paused(
    st: &AppState,
    tenant: &Tenant,
    queue: String,
    paused: bool,
) -> Result<Json<QueueState>, ApiError> {
    tenant.require(Scope::Admin)?;
    if !st.registry.queues().contains(&queue) {
        return Err(ApiError::not_found(
            "unknown_queue",
            format!("no queue {queue:?}"),
        ));
    }
    st.engine.set_paused(&queue, paused).await?;
    tracing::info!(tenant_id = %tenant.id, queue, paused, "queue state changed");
    let action = if paused { "pause" } else { "resume" };
    crate::audit::record_api(&st.pool, tenant, action, &queue, serde_json::json!({})).await;
    Ok(Json(QueueState { queue, paused }))
}

/// Stop workers fetching from `queue` (admin).
#[utoipa::path(post, path = "/v1/queues/{queue}/pause", tag = "queues", security(("bearer" = [])), params(("queue" = String, Path)),
    responses((status = 200, body = QueueState), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn pause(
    State(st): State<AppState>,
    tenant: Tenant,
    Path(queue): Path<String>,
) -> Result<Json<QueueState>, ApiError> {
    set_paused(&st, &tenant, queue, true).await
}

/// Let workers fetch from `queue` again (admin).
#[utoipa::path(post, path = "/v1/queues/{queue}/resume", tag = "queues", security(("bearer" = [])), params(("queue" = String, Path)),
    responses((status = 200, body = QueueState), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn resume(
    State(st): State<AppState>,
    tenant: Tenant,
    Path(queue): Path<String>,
) -> Result<Json<QueueState>, ApiError> {
    set_paused(&st, &tenant, queue, false).await
}

//! `/v1/jobs`: enqueue one job, read one, list, cancel, retry. Every route
//! answers another tenant's job id with the same 404 as a missing one. The
//! batch route lives in `batch.rs`.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use jobs::engine::{CancelOutcome, JobInfo, JobStatus};

use crate::auth::{Scope, Tenant};
use crate::enqueue::{self, EnqueueRequest, EnqueuedJob};
use crate::error::ApiError;
use crate::extract::{AppJson, AppQuery};
use crate::state::AppState;

/// Page size when `limit` is not given, and the most one page may hold.
pub const LIST_LIMIT_DEFAULT: usize = 50;
pub const LIST_LIMIT_MAX: usize = 500;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/jobs", get(list).post(super::batch::enqueue_batch))
        // One axum route: `{kind}` (POST) and `{id}` (GET, DELETE) sit at the same segment.
        .route("/v1/jobs/{id}", get(show).delete(cancel).post(enqueue))
        .route("/v1/jobs/{id}/retry", post(retry))
}

/// Enqueue one job of `kind`.
#[utoipa::path(post, path = "/v1/jobs/{kind}", tag = "jobs", security(("bearer" = [])),
    params(
        ("kind" = String, Path, description = "job kind, e.g. `diag.noop`"),
        ("Idempotency-Key" = Option<String>, Header, description = "a replay with the same key (same tenant) returns the first job, status 200"),
    ),
    request_body = EnqueueRequest,
    responses(
        (status = 202, description = "accepted", body = EnqueuedJob),
        (status = 200, description = "idempotent replay: the first job", body = EnqueuedJob),
        (status = 400, description = "malformed JSON", body = crate::error::ErrorBody),
        (status = 404, description = "unknown kind", body = crate::error::ErrorBody),
        (status = 413, description = "body over `api.body_limit`", body = crate::error::ErrorBody),
        (status = 422, description = "payload fails the kind's schema; `details.field` names the field", body = crate::error::ErrorBody),
        (status = 429, description = "`rate_limited` (Retry-After) or `waiting_limit`: the tenant's ready jobs in this queue are at `limits.max_waiting_per_queue`; nothing enqueued", body = crate::error::ErrorBody),
    ))]
pub async fn enqueue(
    State(st): State<AppState>,
    tenant: Tenant,
    Path(kind): Path<String>,
    headers: HeaderMap,
    AppJson(req): AppJson<EnqueueRequest>,
) -> Result<(StatusCode, Json<EnqueuedJob>), ApiError> {
    tenant.require(Scope::JobsWrite)?;
    let key = match headers.get("idempotency-key") {
        Some(v) => Some(
            v.to_str()
                .map_err(|_| {
                    ApiError::bad_request(
                        "invalid_idempotency_key",
                        "Idempotency-Key must be ASCII",
                    )
                })?
                .to_string(),
        ),
        None => None,
    };
    let opts = req.options();
    let mut job = enqueue::build(
        &st.registry,
        &tenant.key(),
        &kind,
        req.payload,
        &opts,
        key,
        Utc::now(),
    )?;
    job.trace = Some(crate::traceparent::from_headers(&headers));
    let cap = crate::limits::waiting_cap(&st, &tenant);
    let pushed = st
        .engine
        .push_bulk_capped(vec![job], cap)
        .await?
        .pop()
        .ok_or_else(|| ApiError::internal("push answered no job"))?;
    if !pushed.created {
        return Ok((StatusCode::OK, Json(EnqueuedJob::new(&kind, &pushed))));
    }
    enqueue::record_enqueued(&kind, &tenant.key());
    Ok((StatusCode::ACCEPTED, Json(EnqueuedJob::new(&kind, &pushed))))
}

/// The caller's job with this id, searched in every queue; `None` for another tenant's.
async fn own_job(st: &AppState, tenant: &Tenant, id: &str) -> Result<JobInfo, ApiError> {
    if id.is_empty() || id.len() > 128 {
        return Err(ApiError::job_not_found(id));
    }
    match st.engine.find(&st.registry.queues(), id).await? {
        Some(job) if job.tenant == tenant.key() => Ok(job),
        _ => Err(ApiError::job_not_found(id)),
    }
}

/// A job: status, attempts, timestamps, last error, result, progress.
#[utoipa::path(get, path = "/v1/jobs/{id}", tag = "jobs", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = JobInfo), (status = 404, description = "no such job for this tenant", body = crate::error::ErrorBody)))]
pub async fn show(
    State(st): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> Result<Json<JobInfo>, ApiError> {
    tenant.require(Scope::JobsRead)?;
    Ok(Json(own_job(&st, &tenant, &id).await?))
}

/// Filters of `GET /v1/jobs`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only this kind (and so only its queue).
    pub kind: Option<String>,
    /// State to list; default `queued`.
    pub status: Option<JobStatus>,
    /// 1-500, default 50. A page may hold fewer jobs while `next_cursor` is not null.
    pub limit: Option<usize>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// One page of the caller's jobs.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobList {
    pub jobs: Vec<JobInfo>,
    /// Pass as `cursor` for the next page; null at the end.
    pub next_cursor: Option<String>,
}

/// The caller's jobs in one state (default `queued`), newest first, queue by queue.
#[utoipa::path(get, path = "/v1/jobs", tag = "jobs", security(("bearer" = [])), params(ListQuery),
    responses((status = 200, body = JobList), (status = 400, body = crate::error::ErrorBody), (status = 404, description = "unknown kind", body = crate::error::ErrorBody)))]
pub async fn list(
    State(st): State<AppState>,
    tenant: Tenant,
    AppQuery(q): AppQuery<ListQuery>,
) -> Result<Json<JobList>, ApiError> {
    tenant.require(Scope::JobsRead)?;
    let limit = q.limit.unwrap_or(LIST_LIMIT_DEFAULT);
    if !(1..=LIST_LIMIT_MAX).contains(&limit) {
        return Err(ApiError::bad_request(
            "invalid_query",
            format!("limit must be between 1 and {LIST_LIMIT_MAX}"),
        ));
    }
    let queues = match &q.kind {
        Some(kind) => {
            let k = st.registry.get(kind).ok_or_else(|| {
                ApiError::not_found("unknown_kind", format!("no job kind {kind:?}"))
            })?;
            vec![k.policy().queue.to_string()]
        }
        None => st.registry.queues(),
    };
    // The cursor is `<queue>~<engine cursor>`: the queue to resume in, and where in it.
    let (mut idx, mut cursor) = match q.cursor.as_deref() {
        None => (0, None),
        Some(c) => {
            let (queue, inner) = c
                .split_once('~')
                .ok_or_else(|| ApiError::bad_request("invalid_query", "bad cursor"))?;
            let idx = queues
                .iter()
                .position(|x| x == queue)
                .ok_or_else(|| ApiError::bad_request("invalid_query", "bad cursor"))?;
            (idx, Some(inner.to_string()).filter(|s| !s.is_empty()))
        }
    };
    let status = q.status.unwrap_or(JobStatus::Queued);
    let tenant_key = tenant.key();
    let mut jobs = Vec::new();
    while idx < queues.len() && jobs.len() < limit {
        let page = st
            .engine
            .list(
                &queues[idx],
                status,
                Some(&tenant_key),
                limit - jobs.len(),
                cursor.as_deref(),
            )
            .await?;
        jobs.extend(
            page.jobs
                .into_iter()
                .filter(|j| j.tenant == tenant_key && q.kind.as_ref().is_none_or(|k| &j.kind == k)),
        );
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => {
                idx += 1;
                cursor = None;
            }
        }
    }
    let next_cursor =
        (idx < queues.len()).then(|| format!("{}~{}", queues[idx], cursor.unwrap_or_default()));
    Ok(Json(JobList { jobs, next_cursor }))
}

/// What a cancel did.
#[derive(Debug, Serialize, ToSchema)]
pub struct Cancelled {
    pub id: String,
    /// `cancelled` (it had not started) or `cancel_requested` (it is running; its handler was told).
    pub outcome: CancelOutcome,
}

/// Cancel a job: not started → `cancelled`; running → its handler is told to stop.
#[utoipa::path(delete, path = "/v1/jobs/{id}", tag = "jobs", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = Cancelled), (status = 404, body = crate::error::ErrorBody),
        (status = 409, description = "already succeeded, dead or cancelled", body = crate::error::ErrorBody)))]
pub async fn cancel(
    State(st): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> Result<Json<Cancelled>, ApiError> {
    tenant.require(Scope::JobsWrite)?;
    let job = own_job(&st, &tenant, &id).await?;
    match st.engine.cancel(&job.queue, &id).await? {
        CancelOutcome::AlreadyFinal => Err(ApiError::conflict(
            "already_final",
            format!("job {id} already finished"),
        )
        .with_details(json!({ "status": job.status.as_str() }))),
        CancelOutcome::NotFound => Err(ApiError::job_not_found(&id)),
        outcome => {
            crate::audit::record_api(
                &st.pool,
                &tenant,
                "cancel",
                &id,
                json!({ "queue": job.queue, "outcome": outcome }),
            )
            .await;
            Ok(Json(Cancelled { id, outcome }))
        }
    }
}

/// The answer to a retry.
#[derive(Debug, Serialize, ToSchema)]
pub struct Retried {
    pub id: String,
    pub status: JobStatus,
}

/// Run a dead or cancelled job again, with a fresh attempt budget.
#[utoipa::path(post, path = "/v1/jobs/{id}/retry", tag = "jobs", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 202, body = Retried), (status = 404, body = crate::error::ErrorBody),
        (status = 409, description = "not dead or cancelled", body = crate::error::ErrorBody)))]
pub async fn retry(
    State(st): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Retried>), ApiError> {
    tenant.require(Scope::JobsWrite)?;
    let job = own_job(&st, &tenant, &id).await?;
    // Checked here too: no round trip for the common mistake; the engine still decides races.
    let retryable = matches!(job.status, JobStatus::Dead | JobStatus::Cancelled);
    if !retryable || !st.engine.retry(&job.queue, &id).await? {
        return Err(ApiError::conflict(
            "not_retryable",
            format!(
                "job {id} is {}, only dead or cancelled jobs can be retried",
                job.status.as_str()
            ),
        )
        .with_details(json!({ "status": job.status.as_str() })));
    }
    crate::audit::record_api(
        &st.pool,
        &tenant,
        "retry",
        &id,
        json!({ "queue": job.queue }),
    )
    .await;
    Ok((
        StatusCode::ACCEPTED,
        Json(Retried {
            id,
            status: JobStatus::Queued,
        }),
    ))
}

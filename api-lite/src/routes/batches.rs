//! `/v1/batches`: a set of jobs with progress counts and callback jobs
//! (`on_complete` once every member is final, `on_success` only if all
//! succeeded), pushed exactly once by the engine (see `engine/src/flows.rs`).
//! Every member and callback runs on one queue (the first job's): a batch
//! lives in its queue's Redis slot. Another tenant's batch is a 404 like a
//! missing one.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::{OpenApi, ToSchema};

use jobs::engine::{BatchInfo, BatchSpec, JobStatus, NewJob, Priority};

use crate::auth::{Scope, Tenant};
use crate::enqueue::{self, BatchItem, JobOptions};
use crate::error::ApiError;
use crate::extract::AppJson;
use crate::state::AppState;

/// Most members one `POST /v1/batches` may carry.
pub const BATCH_JOBS_MAX: usize = 1_000;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/batches", post(create))
        .route("/v1/batches/{id}", get(show))
        .route("/v1/batches/{id}/cancel", post(cancel))
}

#[derive(OpenApi)]
#[openapi(
    paths(create, show, cancel),
    components(schemas(CreateBatch, BatchCallback, BatchCreated, BatchMember, BatchInfo, CancelledBatch)),
    tags((name = "batches", description = "Batches of jobs with exactly-once completion callbacks"))
)]
pub struct BatchesApi;

/// A callback job: runs on the batch's queue with `batch` (id, total,
/// succeeded, dead, cancelled) added to its payload.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchCallback {
    pub kind: String,
    /// A JSON object (the engine adds `batch` to it).
    pub payload: Value,
    pub priority: Option<Priority>,
    pub max_attempts: Option<u32>,
}

/// Body of `POST /v1/batches`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateBatch {
    /// 1-1,000 jobs, all of kinds that run on the same queue.
    pub jobs: Vec<BatchItem>,
    /// Runs once when every member is final (succeeded, dead or cancelled).
    pub on_complete: Option<BatchCallback>,
    /// Runs once, with `on_complete`, only when every member succeeded.
    pub on_success: Option<BatchCallback>,
}

/// One member as created.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchMember {
    pub id: String,
    pub kind: String,
    pub status: JobStatus,
    pub run_at: DateTime<Utc>,
    /// `false` when an idempotency key matched an earlier job (not a member then).
    pub created: bool,
}

/// The answer to `POST /v1/batches`.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchCreated {
    pub batch: BatchInfo,
    pub jobs: Vec<BatchMember>,
}

/// The answer to a batch cancel.
#[derive(Debug, Serialize, ToSchema)]
pub struct CancelledBatch {
    /// Members that had not started and are cancelled now.
    pub cancelled: u64,
    pub batch: BatchInfo,
}

/// Re-roots a job-level 4xx on `jobs[i]` / `on_complete`: `details.field` names it from the body.
fn under(prefix: &str, e: ApiError) -> ApiError {
    if !e.status().is_client_error() {
        return e;
    }
    let field = match e.details.get("field").and_then(Value::as_str) {
        Some(f) => format!("{prefix}.{f}"),
        // An unknown kind is a 404 on the single route; here it is the body's field.
        None if e.code() == "unknown_kind" => format!("{prefix}.kind"),
        None => prefix.to_string(),
    };
    ApiError::invalid_field(e.code(), &field, e.message.clone())
}

fn callback(
    st: &AppState,
    tenant: &str,
    queue: &str,
    name: &str,
    cb: BatchCallback,
) -> Result<NewJob, ApiError> {
    let opts = JobOptions {
        priority: cb.priority,
        max_attempts: cb.max_attempts,
        ..Default::default()
    };
    match cb.payload.as_object() {
        Some(o) if o.contains_key("batch") => {
            return Err(ApiError::invalid_field(
                "invalid_payload",
                &format!("{name}.payload.batch"),
                "`batch` is added by the engine",
            ))
        }
        Some(_) => {}
        None => {
            return Err(ApiError::invalid_field(
                "invalid_payload",
                &format!("{name}.payload"),
                "must be a JSON object",
            ))
        }
    }
    // The kind's schema sees the payload as the callback will (with `batch`).
    let mut checked = cb.payload.clone();
    checked["batch"] = json!({ "id": "", "total": 0, "succeeded": 0, "dead": 0, "cancelled": 0 });
    let kind = cb.kind.clone();
    let job = enqueue::build(
        &st.registry,
        tenant,
        &kind,
        checked,
        &opts,
        None,
        Utc::now(),
    )
    .map_err(|e| under(name, e))?;
    if job.queue != queue {
        return Err(ApiError::invalid_field(
            "invalid_body",
            &format!("{name}.kind"),
            format!(
                "a callback runs on its batch's queue {queue:?}; {kind:?} runs on {:?}",
                job.queue
            ),
        ));
    }
    Ok(NewJob {
        payload: cb.payload,
        ..job
    })
}

/// Create a batch: its jobs are pushed and the batch sealed in one call.
#[utoipa::path(post, path = "/v1/batches", tag = "batches", security(("bearer" = [])),
    request_body = CreateBatch,
    responses(
        (status = 201, description = "created and sealed", body = BatchCreated),
        (status = 400, description = "malformed JSON", body = crate::error::ErrorBody),
        (status = 422, description = "a bad field; `details.field` names it (`jobs`, `jobs[3].kind`, `on_complete.payload.x`)", body = crate::error::ErrorBody),
    ))]
pub async fn create(
    State(st): State<AppState>,
    tenant: Tenant,
    headers: axum::http::HeaderMap,
    AppJson(body): AppJson<CreateBatch>,
) -> Result<(StatusCode, Json<BatchCreated>), ApiError> {
    tenant.require(Scope::JobsWrite)?;
    if body.jobs.is_empty() || body.jobs.len() > BATCH_JOBS_MAX {
        return Err(ApiError::invalid_field(
            "invalid_body",
            "jobs",
            format!("a batch holds 1-{BATCH_JOBS_MAX} jobs"),
        )
        .with_details(json!({ "field": "jobs", "max": BATCH_JOBS_MAX, "got": body.jobs.len() })));
    }
    let tenant_key = tenant.key();
    let trace = crate::traceparent::from_headers(&headers);
    let now = Utc::now();
    let mut jobs = Vec::with_capacity(body.jobs.len());
    let mut kinds = Vec::with_capacity(body.jobs.len());
    for (i, item) in body.jobs.into_iter().enumerate() {
        let at = format!("jobs[{i}]");
        let opts = item.options();
        let mut job = enqueue::build(
            &st.registry,
            &tenant_key,
            &item.kind,
            item.payload,
            &opts,
            item.idempotency_key,
            now,
        )
        .map_err(|e| under(&at, e))?;
        if let Some(first) = jobs.first().map(|j: &NewJob| j.queue.clone()) {
            if job.queue != first {
                return Err(ApiError::invalid_field(
                    "invalid_body",
                    &format!("{at}.kind"),
                    format!(
                        "every job of a batch runs on one queue ({first:?}, the first job's); {:?} runs on {:?}",
                        item.kind, job.queue
                    ),
                ));
            }
        }
        job.trace = Some(trace.clone());
        kinds.push(item.kind);
        jobs.push(job);
    }
    let queue = jobs[0].queue.clone();
    let on_complete = body
        .on_complete
        .map(|c| callback(&st, &tenant_key, &queue, "on_complete", c))
        .transpose()?;
    let on_success = body
        .on_success
        .map(|c| callback(&st, &tenant_key, &queue, "on_success", c))
        .transpose()?;
    let pushed = st
        .engine
        .batch_push(BatchSpec {
            id: None,
            queue: queue.clone(),
            tenant: tenant_key.clone(),
            jobs,
            on_complete,
            on_success,
        })
        .await?;
    let members = kinds
        .into_iter()
        .zip(pushed.jobs)
        .map(|(kind, p)| {
            if p.created {
                enqueue::record_enqueued(&kind, &tenant_key);
            }
            BatchMember {
                id: p.id,
                kind,
                status: p.status,
                run_at: p.run_at,
                created: p.created,
            }
        })
        .collect();
    let batch = st
        .engine
        .batch(&queue, &pushed.id)
        .await?
        .ok_or_else(|| ApiError::internal(format!("batch {} vanished", pushed.id)))?;
    Ok((
        StatusCode::CREATED,
        Json(BatchCreated {
            batch,
            jobs: members,
        }),
    ))
}

fn batch_not_found(id: &str) -> ApiError {
    ApiError::not_found("batch_not_found", format!("no batch {id}"))
}

/// The caller's batch with this id, searched in every queue.
async fn own_batch(st: &AppState, tenant: &Tenant, id: &str) -> Result<BatchInfo, ApiError> {
    match st.engine.find_batch(&st.registry.queues(), id).await? {
        Some(b) if b.tenant == tenant.key() => Ok(b),
        _ => Err(batch_not_found(id)),
    }
}

/// A batch's progress: state, counts, callback job ids.
#[utoipa::path(get, path = "/v1/batches/{id}", tag = "batches", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = BatchInfo), (status = 404, description = "no such batch for this tenant", body = crate::error::ErrorBody)))]
pub async fn show(
    State(st): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> Result<Json<BatchInfo>, ApiError> {
    tenant.require(Scope::JobsRead)?;
    Ok(Json(own_batch(&st, &tenant, &id).await?))
}

/// Cancel a batch: its members that have not started are cancelled (running
/// ones finish); `on_complete` runs once the last one is final.
#[utoipa::path(post, path = "/v1/batches/{id}/cancel", tag = "batches", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = CancelledBatch), (status = 404, description = "no such batch for this tenant", body = crate::error::ErrorBody)))]
pub async fn cancel(
    State(st): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> Result<Json<CancelledBatch>, ApiError> {
    tenant.require(Scope::JobsWrite)?;
    let b = own_batch(&st, &tenant, &id).await?;
    let cancelled = st
        .engine
        .cancel_batch(&b.queue, &id)
        .await?
        .ok_or_else(|| batch_not_found(&id))?;
    let batch = st
        .engine
        .batch(&b.queue, &id)
        .await?
        .ok_or_else(|| batch_not_found(&id))?;
    Ok(Json(CancelledBatch { cancelled, batch }))
}

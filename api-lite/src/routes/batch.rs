//! `POST /v1/jobs`: up to 1,000 jobs in one request. Each item is checked on
//! its own (a bad item gets its own error and sinks nothing else); the valid
//! ones go to the engine in ONE `push_bulk`, and results keep the input order.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::Utc;
use serde::Serialize;
use serde_json::{json, Value};
use utoipa::ToSchema;

use jobs::engine::JobStatus;

use crate::auth::{Scope, Tenant};
use crate::enqueue::{self, BatchItem};
use crate::error::ApiError;
use crate::extract::{parse_json, AppJson};
use crate::state::AppState;

/// Most items one batch may hold.
pub const BATCH_MAX: usize = 1_000;

/// One item's result: `id`… when accepted, `error`… when not.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct BatchItemResult {
    /// Position in the request.
    pub index: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<JobStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_at: Option<chrono::DateTime<Utc>>,
    /// `false` when an idempotency key matched an earlier job.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<Value>,
}

/// Per-item results, in request order.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchResponse {
    pub accepted: usize,
    pub rejected: usize,
    pub results: Vec<BatchItemResult>,
}

fn failed(index: usize, e: ApiError) -> BatchItemResult {
    BatchItemResult {
        index,
        error: Some(e.code().to_string()),
        message: Some(e.message.clone()),
        details: Some(e.details.clone()),
        ..Default::default()
    }
}

/// Enqueue a batch: a JSON array of items, or `{"jobs": [...]}`.
#[utoipa::path(post, path = "/v1/jobs", tag = "jobs", security(("bearer" = [])),
    request_body(content = Vec<BatchItem>, description = "up to 1,000 items (or the same array as `{\"jobs\": [...]}`)"),
    responses(
        (status = 200, description = "per-item results", body = BatchResponse),
        (status = 400, description = "malformed JSON", body = crate::error::ErrorBody),
        (status = 413, description = "more than 1,000 items or body over the limit", body = crate::error::ErrorBody),
        (status = 422, description = "neither an array nor `{\"jobs\": [...]}`", body = crate::error::ErrorBody),
        (status = 429, description = "`rate_limited`, or `waiting_limit`: the batch would take the tenant past `limits.max_waiting_per_queue` in a queue; nothing of that queue's items is enqueued", body = crate::error::ErrorBody),
    ))]
pub async fn enqueue_batch(
    State(st): State<AppState>,
    tenant: Tenant,
    headers: axum::http::HeaderMap,
    AppJson(body): AppJson<Value>,
) -> Result<Json<BatchResponse>, ApiError> {
    tenant.require(Scope::JobsWrite)?;
    let items = match body {
        Value::Array(items) => items,
        Value::Object(mut o) => match o.remove("jobs") {
            Some(Value::Array(items)) => items,
            _ => {
                return Err(ApiError::invalid_field(
                    "invalid_body",
                    "jobs",
                    "expected an array of jobs",
                ))
            }
        },
        _ => {
            return Err(ApiError::invalid_field(
                "invalid_body",
                "body",
                "expected an array of jobs",
            ))
        }
    };
    if items.len() > BATCH_MAX {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "batch_too_large",
            format!("at most {BATCH_MAX} jobs per batch"),
        )
        .with_details(json!({ "max": BATCH_MAX, "got": items.len() })));
    }
    let now = Utc::now();
    // One request, one trace: every job of the batch continues it.
    let trace = crate::traceparent::from_headers(&headers);
    let tenant_key = tenant.key();
    let mut results: Vec<BatchItemResult> = Vec::with_capacity(items.len());
    // (index in `results`, kind) of each job handed to the engine, in push order.
    let mut pending = Vec::new();
    let mut jobs = Vec::new();
    for (index, raw) in items.into_iter().enumerate() {
        // Re-serialising one item is cheap next to a Redis round trip, and gives field paths.
        let item: BatchItem = match serde_json::to_vec(&raw)
            .map_err(ApiError::internal)
            .and_then(|b| parse_json(&b))
        {
            Ok(item) => item,
            Err(e) => {
                results.push(failed(index, e));
                continue;
            }
        };
        let opts = item.options();
        match enqueue::build(
            &st.registry,
            &tenant_key,
            &item.kind,
            item.payload,
            &opts,
            item.idempotency_key,
            now,
        ) {
            Ok(mut job) => {
                job.trace = Some(trace.clone());
                pending.push((index, item.kind));
                jobs.push(job);
                results.push(BatchItemResult {
                    index,
                    ..Default::default()
                });
            }
            Err(e) => results.push(failed(index, e)),
        }
    }
    let pushed = if jobs.is_empty() {
        Vec::new()
    } else {
        st.engine
            .push_bulk_capped(jobs, crate::limits::waiting_cap(&st, &tenant))
            .await?
    };
    if pushed.len() != pending.len() {
        return Err(ApiError::internal(format!(
            "push_bulk answered {} results for {} jobs",
            pushed.len(),
            pending.len()
        )));
    }
    for ((index, kind), p) in pending.into_iter().zip(pushed) {
        if p.created {
            enqueue::record_enqueued(&kind, &tenant_key);
        }
        results[index] = BatchItemResult {
            index,
            id: Some(p.id),
            kind: Some(kind),
            status: Some(p.status),
            run_at: Some(p.run_at),
            created: Some(p.created),
            ..Default::default()
        };
    }
    let accepted = results.iter().filter(|r| r.id.is_some()).count();
    Ok(Json(BatchResponse {
        accepted,
        rejected: results.len() - accepted,
        results,
    }))
}

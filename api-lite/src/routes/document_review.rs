//! `POST /v1/documents/{id}/review`: a person approves a held document
//! (`needs_review`) — optionally correcting fields first, and only then are
//! the academic records written — or rejects it (`rejected`, final, nothing
//! written). The work is `jobs::kinds::documents::review` (one transaction
//! under the document's row lock, the same records write as an accepted
//! extraction); this file maps its errors to HTTP — 404 for a missing or
//! another tenant's document, 409 naming the current status when it is not
//! held, 422 naming every bad field — then queues `alerts.evaluate` for the
//! student after an approval and writes the audit row. The console's review
//! form calls [`run`] too.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::post;
use axum::{Json, Router};
use serde::Serialize;
use serde_json::{json, Value};
use utoipa::{OpenApi, ToSchema};
use uuid::Uuid;

use jobs::kinds::documents::review::{self, Change, FieldError, ReviewError, ReviewRequest};
use jobs::kinds::documents::{queue_alerts, EXTRACT};

use super::documents::DocumentView;
use crate::audit;
use crate::auth::{Scope, Tenant};
use crate::error::ApiError;
use crate::extract::AppJson;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/documents/{id}/review", post(review_document))
}

#[derive(OpenApi)]
#[openapi(
    paths(review_document),
    components(schemas(
        ReviewAnswer,
        review::ReviewRequest,
        review::Action,
        review::Corrections,
        review::StudentFix,
        review::SchoolFix,
        review::SubjectFix,
        review::TermFix,
        review::Change,
        review::FieldError
    ))
)]
pub struct DocumentReviewApi;

/// Answer to a review.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewAnswer {
    /// The document after the review: `succeeded` (approve) or `rejected`.
    pub document: DocumentView,
    /// Fields the corrections changed (`subjects[1].terms[term 2].grade`: from, to).
    pub changes: Vec<Change>,
    /// Approve: what was written (student, subjects, grades, attendance, skipped).
    #[schema(value_type = Option<Object>)]
    pub records: Option<Value>,
    /// Approve: the `alerts.evaluate` job queued for the student.
    #[schema(value_type = Option<Object>)]
    pub follow_up: Option<Value>,
}

fn not_found(id: &str) -> ApiError {
    ApiError::not_found("document_not_found", format!("no document {id}"))
}

/// `ReviewError` → our JSON errors.
pub fn api_error(id: &str, e: ReviewError) -> ApiError {
    match e {
        ReviewError::NotFound(_) => not_found(id),
        ReviewError::NotHeld { status } => ApiError::conflict(
            "document_not_in_review",
            format!("the document is {status}; only a needs_review document can be reviewed"),
        )
        .with_details(json!({ "status": status })),
        ReviewError::Invalid(errors) => invalid(errors),
        ReviewError::Db(e) => e.into(),
    }
}

fn invalid(errors: Vec<FieldError>) -> ApiError {
    let first = errors[0].clone();
    ApiError::invalid_field(
        "invalid_review",
        &first.field,
        format!("{}: {}", first.field, first.message),
    )
    .with_details(json!({ "field": first.field, "errors": errors }))
}

/// Reviews document `id` of `tenant` as `actor`, then the follow-up job
/// and the audit row (neither can undo the committed review).
pub async fn run(
    st: &AppState,
    tenant: Uuid,
    id: Uuid,
    req: &ReviewRequest,
    actor: &str,
    trace: Option<String>,
) -> Result<ReviewAnswer, ReviewError> {
    let scale = st
        .settings
        .documents
        .grade_scale_max_for(&tenant.to_string());
    let done = review::review(&st.pool, tenant, id, req, actor, scale).await?;
    let mut follow_up = None;
    if let Some(student) = done.records.as_ref().and_then(|r| r.student_id) {
        let key = format!("{EXTRACT}:review:{id}:alerts");
        follow_up = match queue_alerts(&st.engine, &tenant.to_string(), trace, student, key).await {
            Ok(f) => f,
            Err(e) => {
                tracing::error!(tenant_id = %tenant, document_id = %id, error = %e, "approved, but alerts.evaluate could not be queued");
                Some(json!({ "error": e.to_string() }))
            }
        };
    }
    let action = match req.action {
        review::Action::Approve => "document_approve",
        review::Action::Reject => "document_reject",
    };
    let target = id.to_string();
    audit::record(
        &st.pool,
        audit::NewEntry {
            actor,
            tenant_id: Some(tenant),
            action,
            target: &target,
            details: json!({
                "note": req.note,
                "changes": done.changes,
                "records": done.records,
            }),
        },
    )
    .await;
    tracing::info!(actor, tenant_id = %tenant, document_id = %id, action, changes = done.changes.len(), "document reviewed");
    Ok(ReviewAnswer {
        document: done.document.into(),
        changes: done.changes,
        records: done
            .records
            .map(|r| serde_json::to_value(r).unwrap_or_default()),
        follow_up,
    })
}

/// Approve (optionally with corrections) or reject a held document.
///
/// `corrections` is a partial result: `student` (`name`, `registration`,
/// `birth_date` dd/mm/aaaa, `class_name`), `school` (`name`, `cnpj`), `year`,
/// and `subjects[]` found by `code` (and `year` in a histórico) with `name`,
/// `terms[] {term, grade}`, `final_grade`, `absences`, `attendance_pct`,
/// `status`, or `remove: true`. Absent = keep, `null` = clear.
#[utoipa::path(post, path = "/v1/documents/{id}/review", tag = "documents", security(("bearer" = [])),
    params(("id" = String, Path)),
    request_body = ReviewRequest,
    responses(
        (status = 200, description = "reviewed: succeeded (records written) or rejected", body = ReviewAnswer),
        (status = 404, description = "no such document (or another tenant's)", body = crate::error::ErrorBody),
        (status = 409, description = "not needs_review; `details.status` is its status", body = crate::error::ErrorBody),
        (status = 422, description = "a bad correction or a draft that cannot be written as it is; `details.field`, `details.errors[]`", body = crate::error::ErrorBody),
    ))]
pub async fn review_document(
    State(st): State<AppState>,
    tenant: Tenant,
    headers: HeaderMap,
    Path(id): Path<String>,
    AppJson(req): AppJson<ReviewRequest>,
) -> Result<Json<ReviewAnswer>, ApiError> {
    tenant.require(Scope::JobsWrite)?;
    let uuid: Uuid = id.parse().map_err(|_| not_found(&id))?;
    let actor = format!("tenant:{}", tenant.id);
    let trace = Some(crate::traceparent::from_headers(&headers));
    run(&st, tenant.id, uuid, &req, &actor, trace)
        .await
        .map(Json)
        .map_err(|e| api_error(&id, e))
}

//! The documents page (`/console/documents`): one tenant's uploaded PDFs,
//! newest first, by status; it opens on `failed`, each with its reason
//! (`code: message`, as the extraction recorded it). Re-extract queues a new
//! `documents.extract` job for a document through the same
//! `intake::reextract` as `POST /v1/documents?reextract=true` (the document
//! goes back to `queued`, owned by the new job), after the CSRF check, and
//! writes one audit row.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use jobs::kinds::documents::{intake, sql, QUEUE};

use super::html::{self, csrf_field, esc, q, Refusal};
use super::pages::unavailable;
use super::session::{check_csrf, field, form, Ops};
use super::tenant;
use crate::audit;
use crate::state::AppState;

/// The document statuses (`documents.status`), and `all`.
pub const STATUSES: [&str; 7] = [
    "failed",
    "needs_review",
    "queued",
    "processing",
    "succeeded",
    "rejected",
    "all",
];
/// Documents per page.
pub const PAGE: i64 = 50;

/// Filters of the documents page.
#[derive(Debug, Default, Deserialize)]
pub struct DocumentsQuery {
    pub tenant: Option<String>,
    /// One of [`STATUSES`]; `failed` when absent.
    pub status: Option<String>,
    /// The last document of the previous page.
    pub before: Option<Uuid>,
    /// A message from the last action.
    pub done: Option<String>,
}

fn status_of(raw: Option<&str>) -> Result<&str, Refusal> {
    let s = raw.filter(|s| !s.is_empty()).unwrap_or("failed");
    if STATUSES.contains(&s) {
        Ok(s)
    } else {
        Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            format!("status must be one of {}", STATUSES.join(", ")),
        ))
    }
}

pub async fn documents(
    State(st): State<AppState>,
    ops: Ops,
    Query(f): Query<DocumentsQuery>,
) -> Response {
    let status = match status_of(f.status.as_deref()) {
        Ok(s) => s,
        Err(r) => return r.into_response(),
    };
    let choice = match tenant::choose(&st, f.tenant.as_deref()).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let docs = match choice.chosen {
        Some(t) => {
            let filter = sql::ListFilter {
                status: (status != "all").then(|| status.to_string()),
                before: f.before,
                limit: PAGE,
            };
            match sql::list(&st.pool, t, &filter).await {
                Ok(d) => d,
                Err(e) => return unavailable(e),
            }
        }
        None => Vec::new(),
    };
    let tenant_param = choice.param();
    let rows: Vec<Vec<String>> = docs
        .iter()
        .map(|d| {
            let reason = match (&d.error_code, &d.error_message) {
                (Some(code), msg) => {
                    format!("{}: {}", esc(code), esc(msg.as_deref().unwrap_or("")))
                }
                _ => String::new(),
            };
            let job = d
                .job_id
                .as_deref()
                .map(|j| format!(r#"<a href="/console/jobs/{QUEUE}/{}">{}</a>"#, q(j), esc(j)))
                .unwrap_or_default();
            let reextract = format!(
                r#"<form method="post" action="/console/documents/{}/reextract" class="inline">{}<input type="hidden" name="tenant" value="{}"><input type="hidden" name="status" value="{}"><button id="reextract-{}">Re-extract</button></form>"#,
                d.id,
                csrf_field(&ops.csrf),
                esc(&tenant_param),
                esc(status),
                d.id
            );
            let reextract = if d.status == "needs_review" {
                format!(
                    r#"<a id="review-{}" href="/console/documents/{}/review?tenant={}">Review →</a> {reextract}"#,
                    d.id,
                    d.id,
                    q(&tenant_param)
                )
            } else {
                reextract
            };
            vec![
                html::utc(Some(d.created_at)),
                format!("{}<br>{}", esc(&d.filename), d.id),
                esc(d.doc_type.as_deref().unwrap_or("")),
                esc(&d.status),
                d.attempts.to_string(),
                reason,
                job,
                reextract,
            ]
        })
        .collect();
    let filters = format!(
        r#"<form method="get" id="filters">{} <input type="hidden" name="status" value="{}"> <button id="filter">Filter</button></form>"#,
        choice.select(),
        esc(status)
    );
    let keep = format!("tenant={}", q(&tenant_param));
    let table = if rows.is_empty() {
        choice.empty_hint("documents")
    } else {
        html::table(
            "documents",
            &[
                "uploaded (UTC)",
                "file",
                "type",
                "status",
                "runs",
                "reason",
                "job",
                "",
            ],
            &rows,
        )
    };
    let next = match docs.last() {
        Some(last) if docs.len() as i64 == PAGE => format!(
            r#"<p><a id="next" href="/console/documents?{keep}&status={}&before={}">Next page →</a></p>"#,
            q(status),
            last.id
        ),
        _ => String::new(),
    };
    let body = format!(
        r#"{}<p class="hint"><a id="review-queue" href="/console/documents/review?{keep}">Review queue</a>: held documents (<code>needs_review</code>) to correct, approve or reject.</p><p class="hint">Re-extract queues a new extraction of the stored file (as <code>?reextract=true</code> does); the old result stays until the new one replaces it.</p>{filters}{}{table}{next}"#,
        html::flash(f.done.as_deref()),
        html::tabs("/console/documents", &keep, &STATUSES, status)
    );
    html::page("Documents", Some(&ops), &body)
}

pub async fn reextract(
    State(st): State<AppState>,
    ops: Ops,
    Path(id): Path<Uuid>,
    body: Bytes,
) -> Response {
    let f = form(&body);
    if let Err(r) = check_csrf(&ops, &f) {
        return r.into_response();
    }
    let tenant = match tenant::posted(field(&f, "tenant")) {
        Ok(t) => t,
        Err(r) => return r.into_response(),
    };
    let back = status_of(field(&f, "status")).unwrap_or("failed");
    let doc = match sql::get(&st.pool, tenant, id).await {
        Ok(Some(d)) => d,
        Ok(None) => return html::error_page(StatusCode::NOT_FOUND, "no such document"),
        Err(e) => return unavailable(e),
    };
    let sub = match intake::reextract(&st.pool, &st.engine, &doc, None, None).await {
        Ok(s) => s,
        Err(e) => return unavailable(e),
    };
    let actor = ops.actor();
    let target = id.to_string();
    audit::record(
        &st.pool,
        audit::NewEntry {
            actor: &actor,
            tenant_id: Some(tenant),
            action: "document_reextract",
            target: &target,
            details: json!({
                "job_id": sub.job_id, "previous_job_id": doc.job_id,
                "previous_status": doc.status, "error_code": doc.error_code,
            }),
        },
    )
    .await;
    tracing::info!(actor, tenant_id = %tenant, document_id = %id, job_id = %sub.job_id, "document re-extraction queued from the console");
    Redirect::to(&format!(
        "/console/documents?tenant={tenant}&status={}&done={}",
        q(back),
        q(&format!(
            "re-extracting {} (job {})",
            doc.filename, sub.job_id
        ))
    ))
    .into_response()
}

//! Console POST actions: bulk retry / cancel / delete (a selection, or every
//! job in a state matching the page's filters) and pause / resume. Each checks
//! the CSRF token first, then acts through the engine, then writes one audit
//! row, and redirects back (303) with what happened.
//!
//! "All matching" pages through the state's index 500 ids at a time and stops
//! at [`BULK_MAX`] jobs, so one click costs a bounded number of Redis calls;
//! ids are collected before acting because acting moves them out of the index
//! the offset cursor walks.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::json;

use jobs::engine::{CancelOutcome, EngineError, JobStatus};

use super::html::{self, q};
use super::pages::QueueQuery;
use super::session::{check_csrf, field, form, Ops};
use crate::audit;
use crate::state::AppState;

/// Most jobs one bulk action touches; run it again for more.
pub const BULK_MAX: usize = 5000;

/// Ids of every job in `f`'s state matching its filters, up to [`BULK_MAX`].
async fn matching_ids(
    st: &AppState,
    queue: &str,
    f: &QueueQuery,
) -> Result<Vec<String>, EngineError> {
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = st
            .engine
            .list(queue, f.status(), f.tenant(), 500, cursor.as_deref())
            .await?;
        ids.extend(
            page.jobs
                .iter()
                .filter(|j| f.matches(j))
                .map(|j| j.id.clone()),
        );
        match page.next_cursor {
            Some(c) if ids.len() < BULK_MAX => cursor = Some(c),
            _ => break,
        }
    }
    ids.truncate(BULK_MAX);
    Ok(ids)
}

/// Applies `action` to one job; `true` when it changed something.
async fn act(st: &AppState, queue: &str, action: &str, id: &str) -> Result<bool, EngineError> {
    Ok(match action {
        "retry" => st.engine.retry(queue, id).await?,
        "delete" => st.engine.delete(queue, id).await?,
        _ => matches!(
            st.engine.cancel(queue, id).await?,
            CancelOutcome::Cancelled | CancelOutcome::CancelRequested
        ),
    })
}

pub async fn bulk(
    State(st): State<AppState>,
    ops: Ops,
    Path(queue): Path<String>,
    body: Bytes,
) -> Response {
    let f = form(&body);
    if let Err(r) = check_csrf(&ops, &f) {
        return r.into_response();
    }
    if !st.registry.queues().contains(&queue) {
        return html::error_page(StatusCode::NOT_FOUND, "no such queue");
    }
    let action = field(&f, "action").unwrap_or("");
    if !["retry", "cancel", "delete"].contains(&action) {
        return html::error_page(
            StatusCode::BAD_REQUEST,
            "action must be retry, cancel or delete",
        );
    }
    let filter = QueueQuery {
        status: field(&f, "status").map(String::from),
        tenant: field(&f, "tenant").map(String::from),
        kind: field(&f, "kind").map(String::from),
        q: field(&f, "q").map(String::from),
        ..QueueQuery::default()
    };
    let all = field(&f, "scope") == Some("all");
    let ids: Vec<String> = if all {
        match matching_ids(&st, &queue, &filter).await {
            Ok(ids) => ids,
            Err(e) => {
                return html::error_page(StatusCode::SERVICE_UNAVAILABLE, &format!("redis: {e}"))
            }
        }
    } else {
        f.iter()
            .filter(|(k, _)| k == "ids")
            .map(|(_, v)| v.clone())
            .take(BULK_MAX)
            .collect()
    };
    let mut changed = Vec::new();
    for id in &ids {
        match act(&st, &queue, action, id).await {
            Ok(true) => changed.push(id.clone()),
            Ok(false) => {}
            Err(e) => {
                return html::error_page(
                    StatusCode::SERVICE_UNAVAILABLE,
                    &format!("redis: {e} (after {} jobs)", changed.len()),
                )
            }
        }
    }
    let name = if all || ids.len() > 1 {
        format!("bulk_{action}")
    } else {
        action.to_string()
    };
    let actor = ops.actor();
    audit::record(&st.pool, audit::NewEntry {
        actor: &actor,
        tenant_id: None,
        action: &name,
        target: &queue,
        details: json!({
            "count": changed.len(), "asked": ids.len(), "ids": changed.iter().take(100).collect::<Vec<_>>(),
            "filter": { "status": filter.status().as_str(), "tenant": filter.tenant(), "kind": filter.kind, "q": filter.q, "all": all },
        }),
    }).await;
    let verb = match action {
        "retry" => "retried",
        "cancel" => "cancelled",
        _ => "deleted",
    };
    let back_status = if action == "retry" && filter.status() == JobStatus::Dead {
        "dead"
    } else {
        filter.status().as_str()
    };
    Redirect::to(&format!(
        "/console/queues/{}?status={}&tenant={}&kind={}&q={}&done={}",
        q(&queue),
        back_status,
        q(filter.tenant().unwrap_or("")),
        q(filter.kind.as_deref().unwrap_or("")),
        q(filter.q.as_deref().unwrap_or("")),
        q(&format!("{verb} {} of {} jobs", changed.len(), ids.len()))
    ))
    .into_response()
}

async fn set_paused(st: AppState, ops: Ops, queue: String, body: Bytes, paused: bool) -> Response {
    if let Err(r) = check_csrf(&ops, &form(&body)) {
        return r.into_response();
    }
    if !st.registry.queues().contains(&queue) {
        return html::error_page(StatusCode::NOT_FOUND, "no such queue");
    }
    if let Err(e) = st.engine.set_paused(&queue, paused).await {
        return html::error_page(StatusCode::SERVICE_UNAVAILABLE, &format!("redis: {e}"));
    }
    let actor = ops.actor();
    let action = if paused { "pause" } else { "resume" };
    audit::record(
        &st.pool,
        audit::NewEntry {
            actor: &actor,
            tenant_id: None,
            action,
            target: &queue,
            details: json!({}),
        },
    )
    .await;
    tracing::info!(actor, queue, paused, "queue state changed from the console");
    Redirect::to(&format!(
        "/console/queues/{}?done={}",
        q(&queue),
        q(if paused { "paused" } else { "resumed" })
    ))
    .into_response()
}

pub async fn pause(
    State(st): State<AppState>,
    ops: Ops,
    Path(queue): Path<String>,
    body: Bytes,
) -> Response {
    set_paused(st, ops, queue, body, true).await
}

pub async fn resume(
    State(st): State<AppState>,
    ops: Ops,
    Path(queue): Path<String>,
    body: Bytes,
) -> Response {
    set_paused(st, ops, queue, body, false).await
}

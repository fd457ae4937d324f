//! The event dead letters page (`/console/events`): open dead-lettered
//! stream entries of every tenant, newest first — including those naming no
//! known tenant, which no tenant's API key can see — with their reason and
//! delivery count. Retry handles the raw entry again (after its tenant id was
//! mapped, or the cause fixed) through `jobs::kinds::events::admin`, as the
//! API does; discard closes it. Both check the CSRF token and write one audit
//! row. Field values (payloads: names, e-mails, phones) are never shown: only
//! the event type and the entry's field names.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use jobs::kinds::events::admin::{self, RetryError};

use super::html::{self, csrf_field, esc, q};
use super::pages::unavailable;
use super::session::{check_csrf, form, Ops};
use crate::audit;
use crate::state::AppState;

#[derive(Debug, Default, Deserialize)]
pub struct EventsQuery {
    /// A message from the last action.
    pub done: Option<String>,
}

pub async fn dead_letters(
    State(st): State<AppState>,
    ops: Ops,
    Query(f): Query<EventsQuery>,
) -> Response {
    let rows = match admin::dead_letters(&st.pool, None).await {
        Ok(r) => r,
        Err(e) => return unavailable(e),
    };
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|d| {
            let event_type = d.fields.get("event_type").and_then(|v| v.as_str()).unwrap_or("");
            let names: Vec<&str> = d.fields.as_object().map(|m| m.keys().map(String::as_str).collect()).unwrap_or_default();
            let action = |verb: &str, label: &str| {
                format!(
                    r#"<form method="post" action="/console/events/{}/{verb}" class="inline">{}<button id="{verb}-{}">{label}</button></form>"#,
                    d.id,
                    csrf_field(&ops.csrf),
                    d.id
                )
            };
            vec![
                html::utc(Some(d.created_at)),
                format!("{}<br>{}", esc(&d.stream), esc(&d.entry_id)),
                d.tenant_id.map(|t| esc(&t.to_string())).unwrap_or_else(|| "<i>unknown</i>".into()),
                esc(event_type),
                esc(&names.join(", ")),
                d.deliveries.to_string(),
                esc(&d.reason),
                format!("{} {}", action("retry", "Retry"), action("discard", "Discard")),
            ]
        })
        .collect();
    let table = if cells.is_empty() {
        r#"<p class="hint" id="empty">No open dead letters.</p>"#.to_string()
    } else {
        html::table(
            "dead-letters",
            &[
                "dead-lettered (UTC)",
                "stream / entry",
                "tenant",
                "event type",
                "fields",
                "deliveries",
                "reason",
                "",
            ],
            &cells,
        )
    };
    let body = format!(
        r#"{}<p class="hint">Stream entries that could not be handled: malformed, naming a tenant id mapped to no tenant (<code>tenant_external_ids</code>), or failing on every delivery. Retry handles the entry again; discard closes it. Payload values are not shown.</p>{table}"#,
        html::flash(f.done.as_deref())
    );
    html::page("Event dead letters", Some(&ops), &body)
}

pub async fn action(
    State(st): State<AppState>,
    ops: Ops,
    Path((id, verb)): Path<(Uuid, String)>,
    body: Bytes,
) -> Response {
    let f = form(&body);
    if let Err(r) = check_csrf(&ops, &f) {
        return r.into_response();
    }
    let stream: Option<String> =
        match sqlx::query_scalar("select stream from event_dead_letters where id = $1")
            .bind(id)
            .fetch_optional(&st.pool)
            .await
        {
            Ok(s) => s,
            Err(e) => return unavailable(e),
        };
    let Some(stream) = stream else {
        return html::error_page(StatusCode::NOT_FOUND, "no such dead letter");
    };
    let (done, details) = match verb.as_str() {
        "retry" => {
            let source = crate::routes::events::source_of(&st, &stream);
            match admin::retry_dead_letter(&st.pool, &st.engine, None, id, &source).await {
                Ok(r) => (
                    format!("retried: {} {}", r.outcome, r.event_id),
                    json!({"outcome": r.outcome}),
                ),
                Err(RetryError::NotFound(_)) => {
                    return html::error_page(StatusCode::NOT_FOUND, "no open dead letter")
                }
                Err(RetryError::Still(why)) => {
                    (format!("still failing: {why}"), json!({"still": why}))
                }
                Err(e) => return unavailable(e),
            }
        }
        "discard" => match admin::discard_dead_letter(&st.pool, None, id).await {
            Ok(true) => ("discarded".to_string(), json!({})),
            Ok(false) => return html::error_page(StatusCode::NOT_FOUND, "no open dead letter"),
            Err(e) => return unavailable(e),
        },
        _ => return html::error_page(StatusCode::NOT_FOUND, "no such action"),
    };
    let actor = ops.actor();
    let target = id.to_string();
    let action = if verb == "retry" {
        "event_dead_letter_retry"
    } else {
        "event_dead_letter_discard"
    };
    audit::record(
        &st.pool,
        audit::NewEntry {
            actor: &actor,
            tenant_id: None,
            action,
            target: &target,
            details,
        },
    )
    .await;
    tracing::info!(actor, dead_letter_id = %id, action, "event dead letter handled from the console");
    Redirect::to(&format!("/console/events?done={}", q(&done))).into_response()
}

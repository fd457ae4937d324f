//! The payments page (`/console/payments`): one tenant's payments, newest
//! first, by status. It opens on `needs_review`: payments the provider
//! refused in a way only ops can settle (an idempotency mismatch, a
//! "never retry" answer, an outcome still unknown after the last attempt or
//! not found by reconciliation — `jobs::kinds::payments::charge`). Nothing
//! charges them again on its own; ops check the provider's dashboard (the
//! provider ids and the calls are on the row's API page) and tell the tenant.
//! Read-only, like the API.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use jobs::kinds::payments::{sql, QUEUE};

use super::html::{self, esc, q};
use super::pages::unavailable;
use super::session::Ops;
use super::tenant;
use crate::state::AppState;

/// The payment statuses, and `all`.
pub const STATUSES: [&str; 9] = [
    "needs_review",
    "pending",
    "requires_action",
    "processing",
    "succeeded",
    "failed",
    "partially_refunded",
    "refunded",
    "all",
];
const LIMIT: i64 = 200;

#[derive(Debug, Default, Deserialize)]
pub struct PaymentsQuery {
    pub tenant: Option<String>,
    pub status: Option<String>,
}

pub async fn payments(
    State(st): State<AppState>,
    ops: Ops,
    Query(f): Query<PaymentsQuery>,
) -> Response {
    let status = f.status.as_deref().unwrap_or("needs_review");
    if !STATUSES.contains(&status) {
        return html::error_page(
            StatusCode::BAD_REQUEST,
            &format!("status must be one of {}", STATUSES.join(", ")),
        );
    }
    let choice = match tenant::choose(&st, f.tenant.as_deref()).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let rows = match choice.chosen {
        Some(t) => {
            let filter = sql::ListFilter {
                status: (status != "all").then(|| status.to_string()),
                limit: LIMIT,
                ..sql::ListFilter::default()
            };
            match sql::list(&st.pool, t, &filter).await {
                Ok(r) => r,
                Err(e) => return unavailable(e),
            }
        }
        None => Vec::new(),
    };
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|p| {
            let job = p.job_id.as_deref().unwrap_or("");
            let why = [
                p.failure_code.as_deref(),
                p.decline_code.as_deref(),
                p.failure_message.as_deref(),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" · ");
            vec![
                html::utc(Some(p.created_at)),
                format!(
                    r#"<a href="/console/jobs/{QUEUE}/{}">{}</a>"#,
                    q(job),
                    esc(&p.id.to_string())
                ),
                esc(p.reference.as_deref().unwrap_or("")),
                esc(&ptbr::format_cents(p.amount_cents)),
                esc(&p.currency.to_uppercase()),
                esc(&p.status),
                p.attempts.to_string(),
                esc(p.provider_payment_id.as_deref().unwrap_or("")),
                esc(&why),
                esc(&ptbr::format_cents(p.amount_refunded_cents)),
                html::utc(Some(p.updated_at)),
            ]
        })
        .collect();
    let filters = format!(
        r#"<form method="get" id="filters">{} <input type="hidden" name="status" value="{}"> <button id="filter">Filter</button></form>"#,
        choice.select(),
        esc(status)
    );
    let keep = format!("tenant={}", q(&choice.param()));
    let table = if cells.is_empty() {
        choice.empty_hint("payments")
    } else {
        html::table(
            "payments",
            &[
                "created (UTC)",
                "id (its charge job)",
                "reference",
                "amount",
                "currency",
                "status",
                "provider calls",
                "provider id",
                "why",
                "refunded",
                "updated (UTC)",
            ],
            &cells,
        )
    };
    let body = format!(
        r#"<p class="hint"><b>needs_review</b>: the provider refused the charge in a way only ops can settle, or its outcome stayed unknown; nothing charges it again on its own. Check the provider's dashboard for the provider id (or the metadata <code>tarefa_payment_id</code>) before telling the tenant. The newest {LIMIT} are shown.</p>
{filters}{}{table}"#,
        html::tabs("/console/payments", &keep, &STATUSES, status)
    );
    html::page("Payments", Some(&ops), &body)
}

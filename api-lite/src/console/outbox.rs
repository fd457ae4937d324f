//! The notification outbox page (`/console/outbox`): one tenant's outbox rows,
//! newest first, by status and channel. It opens on `unknown`: rows whose
//! provider call ended without an answer (a timeout, a worker stopped
//! mid-call), so the provider may or may not have the message
//! (`jobs::kinds::notify::outbox`). Nothing re-sends them, by design; ops
//! check the provider and tell the tenant. Read-only, like the API: neither
//! offers an action on a row. Recipients are masked (`mask.rs`); message
//! bodies are never shown.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use jobs::kinds::notify::{sql, ChannelName, QUEUE};

use super::html::{self, esc, q};
use super::mask::masked_text;
use super::pages::unavailable;
use super::session::Ops;
use super::tenant;
use crate::state::AppState;

/// The outbox row statuses (`Notification::status`), and `all`.
pub const STATUSES: [&str; 9] = [
    "unknown",
    "queued",
    "sending",
    "sent",
    "delivered",
    "read",
    "failed",
    "suppressed",
    "all",
];
/// Rows per page, and the most one page shows (`?limit=`; the API's bound).
pub const LIMIT_DEFAULT: i64 = 100;
pub const LIMIT_MAX: i64 = 500;

/// Filters of the outbox page.
#[derive(Debug, Default, Deserialize)]
pub struct OutboxQuery {
    pub tenant: Option<String>,
    /// One of [`STATUSES`]; `unknown` when absent.
    pub status: Option<String>,
    pub channel: Option<String>,
    pub limit: Option<i64>,
}

pub async fn outbox(
    State(st): State<AppState>,
    ops: Ops,
    Query(f): Query<OutboxQuery>,
) -> Response {
    let status = f.status.as_deref().unwrap_or("unknown");
    if !STATUSES.contains(&status) {
        return html::error_page(
            StatusCode::BAD_REQUEST,
            &format!("status must be one of {}", STATUSES.join(", ")),
        );
    }
    let channel = f.channel.as_deref().filter(|c| !c.is_empty());
    if channel.is_some_and(|c| ChannelName::parse(c).is_none()) {
        return html::error_page(
            StatusCode::BAD_REQUEST,
            "channel must be email, push, sms, whatsapp or webhook",
        );
    }
    let limit = f.limit.unwrap_or(LIMIT_DEFAULT).clamp(1, LIMIT_MAX);
    let choice = match tenant::choose(&st, f.tenant.as_deref()).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let rows = match choice.chosen {
        Some(t) => {
            let filter = sql::ListFilter {
                status: (status != "all").then(|| status.to_string()),
                channel: channel.map(String::from),
                limit,
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
        .map(|n| {
            let job = n.job_id.as_deref().unwrap_or("");
            vec![
                html::utc(Some(n.created_at)),
                format!(
                    r#"<a href="/console/jobs/{QUEUE}/{}">{}</a>"#,
                    q(job),
                    esc(&n.id.to_string())
                ),
                esc(&n.channel),
                esc(&masked_text(&n.recipient)),
                esc(&n.dedup_key),
                esc(&n.status),
                n.attempts.to_string(),
                esc(n.provider_message_id.as_deref().unwrap_or("")),
                esc(n.last_error.as_deref().unwrap_or("")),
                html::utc(Some(n.updated_at)),
            ]
        })
        .collect();
    let channels: String = ChannelName::ALL
        .iter()
        .map(|c| {
            let sel = if Some(c.as_str()) == channel {
                " selected"
            } else {
                ""
            };
            format!(r#"<option{sel}>{}</option>"#, c.as_str())
        })
        .collect();
    let filters = format!(
        r#"<form method="get" id="filters">{} <select name="channel" id="channel"><option value="">any channel</option>{channels}</select>
<input type="hidden" name="status" value="{}"> <button id="filter">Filter</button></form>"#,
        choice.select(),
        esc(status)
    );
    let keep = format!(
        "tenant={}&channel={}",
        q(&choice.param()),
        q(channel.unwrap_or(""))
    );
    let table = if cells.is_empty() {
        choice.empty_hint("outbox rows")
    } else {
        html::table(
            "notifications",
            &[
                "created (UTC)",
                "id (its notify.send job)",
                "channel",
                "recipient",
                "dedup key",
                "status",
                "attempts",
                "provider id",
                "last error",
                "updated (UTC)",
            ],
            &cells,
        )
    };
    let more = if rows.len() as i64 == limit && limit < LIMIT_MAX {
        format!(
            r#"<p><a id="more" href="/console/outbox?{keep}&status={}&limit={LIMIT_MAX}">Show up to {LIMIT_MAX} →</a></p>"#,
            q(status)
        )
    } else if rows.len() as i64 == limit {
        format!(r#"<p class="hint">The newest {limit} rows; filter by channel to narrow.</p>"#)
    } else {
        String::new()
    };
    let body = format!(
        r#"<p class="hint"><b>unknown</b>: the provider call ended without an answer (a timeout, or the worker stopped mid-call), so the message may or may not have gone out; the last error says which. It is never re-sent on its own: check the provider's log (the job's attempts, the time) before telling the tenant.</p>
{filters}{}{table}{more}"#,
        html::tabs("/console/outbox", &keep, &STATUSES, status)
    );
    html::page("Notification outbox", Some(&ops), &body)
}

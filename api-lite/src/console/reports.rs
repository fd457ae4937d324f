//! The reports page (`/console/reports`): one tenant's reports, newest
//! first, by status — type, format, parameters, progress (done/total) of
//! running renders, pages, size, and the reason of failed ones. Read-only;
//! files are downloaded through the API (`/v1/reports/{id}/file` or a
//! signed link), never from the console.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use jobs::kinds::reports::{sql, QUEUE};

use super::html::{self, esc, q};
use super::pages::unavailable;
use super::session::Ops;
use super::tenant;
use crate::state::AppState;

pub const STATUSES: [&str; 6] = ["all", "running", "queued", "failed", "done", "cancelled"];
const LIMIT: i64 = 200;

#[derive(Debug, Default, Deserialize)]
pub struct ReportsQuery {
    pub tenant: Option<String>,
    pub status: Option<String>,
}

pub async fn reports(
    State(st): State<AppState>,
    ops: Ops,
    Query(f): Query<ReportsQuery>,
) -> Response {
    let status = f.status.as_deref().unwrap_or("all");
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
            let s = (status != "all").then_some(status);
            match sql::list(&st.pool, t, s, None, LIMIT).await {
                Ok(r) => r,
                Err(e) => return unavailable(e),
            }
        }
        None => Vec::new(),
    };
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let progress = if r.progress_total > 0 {
                format!("{}/{}", r.progress_done, r.progress_total)
            } else {
                String::new()
            };
            vec![
                html::utc(Some(r.created_at)),
                format!(
                    r#"<a href="/console/jobs/{QUEUE}/{}">{}</a>"#,
                    q(r.job_id.as_deref().unwrap_or("")),
                    esc(&r.id.to_string())
                ),
                esc(&r.report_type),
                esc(&r.format),
                esc(&r.params.to_string()),
                esc(&r.status),
                progress,
                r.pages.map(|p| p.to_string()).unwrap_or_default(),
                r.size_bytes
                    .map(|b| format!("{} KB", ptbr::format_decimal(b as f64 / 1024.0, 0)))
                    .unwrap_or_default(),
                esc(r.file_name.as_deref().unwrap_or("")),
                esc(r.error.as_deref().unwrap_or("")),
                html::utc(r.finished_at),
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
        choice.empty_hint("reports")
    } else {
        html::table(
            "reports",
            &[
                "created (UTC)",
                "id (its render job)",
                "type",
                "format",
                "params",
                "status",
                "progress",
                "pages",
                "size",
                "file",
                "error",
                "finished (UTC)",
            ],
            &cells,
        )
    };
    let body = format!(
        r#"<p class="hint">Report cards, class, campaign and occupancy reports rendered by <code>reports.render</code>. <b>progress</b> is students (or steps) rendered of the total; a <b>failed</b> report names what was wrong. The newest {LIMIT} are shown.</p>
{filters}{}{table}"#,
        html::tabs("/console/reports", &keep, &STATUSES, status)
    );
    html::page("Reports", Some(&ops), &body)
}

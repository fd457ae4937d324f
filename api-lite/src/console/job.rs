//! The job page: status, attempts (each failed one with its error and time), timestamps, the last error and its reason,
//! progress, the payload and result with sensitive fields masked, and the
//! retry / cancel / delete buttons (posted to the queue's bulk action).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::html::{self, csrf_field, esc, q};
use super::mask::mask;
use super::pages::unavailable;
use super::session::Ops;
use crate::state::AppState;

pub async fn job(
    State(st): State<AppState>,
    ops: Ops,
    Path((queue, id)): Path<(String, String)>,
) -> Response {
    if !st.registry.queues().contains(&queue) {
        return html::error_page(StatusCode::NOT_FOUND, "no such queue");
    }
    let j = match st.engine.job(&queue, &id).await {
        Ok(Some(j)) => j,
        Ok(None) => return html::error_page(StatusCode::NOT_FOUND, "no such job"),
        Err(e) => return unavailable(e),
    };
    let t = |v: Option<chrono::DateTime<chrono::Utc>>| {
        v.map(|d| d.format("%d/%m/%Y %H:%M:%S").to_string())
            .unwrap_or_default()
    };
    let pretty = |v: &serde_json::Value| esc(&serde_json::to_string_pretty(v).unwrap_or_default());
    let rows = vec![
        vec![
            "status".into(),
            format!(r#"<span id="job-status">{}</span>"#, j.status.as_str()),
        ],
        vec![
            "kind / tenant".into(),
            format!("{} / {}", esc(&j.kind), esc(&j.tenant)),
        ],
        vec![
            "attempts".into(),
            format!("{} of {}", j.attempts, j.max_attempts),
        ],
        vec![
            "created · due · started · finished (UTC)".into(),
            format!(
                "{} · {} · {} · {}",
                t(Some(j.created_at)),
                t(Some(j.run_at)),
                t(j.started_at),
                t(j.finished_at)
            ),
        ],
        vec![
            "last error".into(),
            format!(
                "{} {}",
                esc(j.reason.as_deref().unwrap_or("")),
                esc(j.last_error.as_deref().unwrap_or(""))
            ),
        ],
        vec![
            "progress".into(),
            format!(
                "{}% {}",
                j.progress.unwrap_or(0),
                esc(j.progress_message.as_deref().unwrap_or(""))
            ),
        ],
        vec!["worker".into(), esc(j.worker.as_deref().unwrap_or(""))],
    ];
    let attempts: Vec<Vec<String>> = j
        .attempt_errors
        .iter()
        .map(|e| {
            vec![
                e.attempt.to_string(),
                t(chrono::DateTime::from_timestamp_millis(e.at)),
                esc(&e.reason),
                esc(&e.error),
            ]
        })
        .collect();
    let history = if attempts.is_empty() {
        String::new()
    } else {
        format!(
            "<h2>Failed attempts</h2>{}",
            html::table(
                "attempts",
                &["attempt", "failed at (UTC)", "reason", "error"],
                &attempts
            )
        )
    };
    let actions: String = ["retry", "cancel", "delete"].iter().map(|a| format!(
        r#"<form method="post" action="/console/queues/{}/bulk" class="inline">{}<input type="hidden" name="ids" value="{}"><input type="hidden" name="scope" value="selected"><input type="hidden" name="status" value="{}"><button name="action" value="{a}" id="job-{a}">{a}</button></form> "#,
        q(&queue), csrf_field(&ops.csrf), esc(&j.id), j.status.as_str()
    )).collect();
    let body = format!(
        r#"<p><a href="/console/queues/{}?status={}">← {}</a></p>{}<p>{actions}</p>{history}<h2>Payload (sensitive fields masked)</h2><pre id="payload">{}</pre><h2>Result</h2><pre id="result">{}</pre>"#,
        q(&queue),
        j.status.as_str(),
        esc(&queue),
        html::table("job", &["", ""], &rows),
        pretty(&mask(&j.payload)),
        j.result
            .as_ref()
            .map(|r| pretty(&mask(r)))
            .unwrap_or_default()
    );
    html::page(&format!("Job {}", j.id), Some(&ops), &body)
}

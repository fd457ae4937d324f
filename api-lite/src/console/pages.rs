//! The console's main pages: overview (every queue, live) and a queue (jobs
//! per state, filtered and paged, with bulk actions). The job page is `job.rs`.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use jobs::engine::{JobInfo, JobStatus, QueueCounts};

use super::html::{self, csrf_field, esc, q};
use super::live;
use super::session::Ops;
use crate::state::AppState;

pub(super) fn unavailable(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "console page failed");
    html::error_page(
        StatusCode::SERVICE_UNAVAILABLE,
        "redis or postgres is unavailable",
    )
}

fn live_cell(queue: &str, field: &str, value: impl std::fmt::Display) -> String {
    format!(r#"<span data-live="{}.{field}">{value}</span>"#, esc(queue))
}

fn pause_form(ops: &Ops, c: &QueueCounts) -> String {
    let (action, label) = if c.paused {
        ("resume", "Resume")
    } else {
        ("pause", "Pause")
    };
    format!(
        r#"<form method="post" action="/console/queues/{}/{action}" class="inline">{}<button id="{action}-{}">{label}</button></form>"#,
        q(&c.queue),
        csrf_field(&ops.csrf),
        esc(&c.queue)
    )
}

pub async fn overview(State(st): State<AppState>, ops: Ops) -> Response {
    let snap = match live::snapshot(&st).await {
        Ok(s) => s,
        Err(e) => return unavailable(e),
    };
    let rows: Vec<Vec<String>> = snap
        .iter()
        .map(|s| {
            let c = &s.counts;
            let n = |f: &str, v: u64| live_cell(&c.queue, f, v);
            vec![
                format!(r#"<a href="/console/queues/{}">{}</a>"#, q(&c.queue), esc(&c.queue)),
                n("queued", c.queued),
                n("scheduled", c.scheduled),
                n("running", c.running),
                n("retrying", c.retrying),
                n("dead", c.dead),
                format!("{} / {} / {}", n("hour_succeeded", s.last_hour.succeeded), n("hour_retried", s.last_hour.retried), n("hour_dead", s.last_hour.dead)),
                live_cell(&c.queue, "paused", if c.paused { "paused" } else { "running" }),
                n("workers", s.workers as u64),
                live_cell(&c.queue, "oldest_waiting_s", c.oldest_waiting_ms.unwrap_or(0) / 1000),
                format!(r#"<canvas class="spark" width="120" height="24" data-spark="{}.throughput"></canvas>"#, esc(&c.queue)),
                format!(r#"<canvas class="spark" width="120" height="24" data-spark="{}.wait"></canvas>"#, esc(&c.queue)),
                pause_form(&ops, c),
            ]
        })
        .collect();
    let body = format!(
        r#"<p class="hint">Updates every 2 s. Sparklines: the last 60 minutes, jobs finished per minute and mean wait (s).</p>{}"#,
        html::table(
            "queues",
            &[
                "queue",
                "queued",
                "scheduled",
                "running",
                "retrying",
                "dead",
                "last hour: ok / retried / dead",
                "state",
                "workers",
                "oldest waiting (s)",
                "throughput",
                "wait",
                ""
            ],
            &rows,
        )
    );
    html::page("Queues", Some(&ops), &body)
}

/// Filters of the queue page.
#[derive(Debug, Default, Deserialize)]
pub struct QueueQuery {
    pub status: Option<String>,
    pub tenant: Option<String>,
    pub kind: Option<String>,
    /// Text searched in id, kind, payload and last error.
    pub q: Option<String>,
    pub cursor: Option<String>,
    /// A message from the last action (`retried 3`).
    pub done: Option<String>,
}

impl QueueQuery {
    pub fn status(&self) -> JobStatus {
        self.status
            .as_deref()
            .and_then(JobStatus::parse)
            .unwrap_or(JobStatus::Dead)
    }
    fn opt(v: &Option<String>) -> Option<&str> {
        v.as_deref().map(str::trim).filter(|s| !s.is_empty())
    }
    pub fn tenant(&self) -> Option<&str> {
        Self::opt(&self.tenant)
    }
    /// Whether a job passes the kind and text filters (the tenant filter runs in the engine).
    pub fn matches(&self, j: &JobInfo) -> bool {
        let kind_ok = Self::opt(&self.kind).is_none_or(|k| j.kind == k);
        let text_ok = Self::opt(&self.q).is_none_or(|t| {
            let t = t.to_lowercase();
            j.id.to_lowercase().contains(&t)
                || j.kind.to_lowercase().contains(&t)
                || j.payload.to_string().to_lowercase().contains(&t)
                || j.last_error
                    .as_deref()
                    .unwrap_or("")
                    .to_lowercase()
                    .contains(&t)
        });
        kind_ok && text_ok
    }
}

pub async fn queue(
    State(st): State<AppState>,
    ops: Ops,
    Path(queue): Path<String>,
    Query(f): Query<QueueQuery>,
) -> Response {
    if !st.registry.queues().contains(&queue) {
        return html::error_page(StatusCode::NOT_FOUND, "no such queue");
    }
    let status = f.status();
    let (counts, page) = match futures::future::try_join(
        st.engine.counts(&queue),
        st.engine
            .list(&queue, status, f.tenant(), 50, f.cursor.as_deref()),
    )
    .await
    {
        Ok(x) => x,
        Err(e) => return unavailable(e),
    };
    let tabs: String = JobStatus::ALL
        .iter()
        .map(|s| {
            let cls = if *s == status { " class=\"on\"" } else { "" };
            format!(
                r#"<a{cls} href="/console/queues/{}?status={}&tenant={}&kind={}&q={}">{} ({})</a> "#,
                q(&queue), s.as_str(), q(f.tenant().unwrap_or("")), q(f.kind.as_deref().unwrap_or("")),
                q(f.q.as_deref().unwrap_or("")), s.as_str(), live_cell(&queue, s.as_str(), counts.count(*s))
            )
        })
        .collect();
    let rows: Vec<Vec<String>> = page
        .jobs
        .iter()
        .filter(|j| f.matches(j))
        .map(|j| {
            vec![
                format!(
                    r#"<input type="checkbox" name="ids" value="{}" form="bulk">"#,
                    esc(&j.id)
                ),
                format!(
                    r#"<a href="/console/jobs/{}/{}">{}</a>"#,
                    q(&queue),
                    q(&j.id),
                    esc(&j.id)
                ),
                esc(&j.kind),
                esc(&j.tenant),
                format!("{}/{}", j.attempts, j.max_attempts),
                esc(j.last_error.as_deref().unwrap_or("")),
                j.created_at.format("%d/%m/%Y %H:%M:%S").to_string(),
            ]
        })
        .collect();
    let filters = format!(
        r#"<form method="get" id="filters"><input type="hidden" name="status" value="{}">
<input name="tenant" placeholder="tenant id" value="{}"> <input name="kind" placeholder="kind" value="{}"> <input name="q" placeholder="text" value="{}"> <button>Filter</button></form>"#,
        status.as_str(),
        esc(f.tenant().unwrap_or("")),
        esc(f.kind.as_deref().unwrap_or("")),
        esc(f.q.as_deref().unwrap_or(""))
    );
    let bulk = format!(
        r#"<form method="post" action="/console/queues/{}/bulk" id="bulk">{}
<input type="hidden" name="status" value="{}"><input type="hidden" name="tenant" value="{}"><input type="hidden" name="kind" value="{}"><input type="hidden" name="q" value="{}">
<select name="action" id="bulk-action"><option value="retry">retry</option><option value="cancel">cancel</option><option value="delete">delete</option></select>
<button name="scope" value="selected" id="bulk-selected">Apply to selected</button>
<button name="scope" value="all" id="bulk-all" data-confirm="Apply to every {} job matching the filter?">Apply to all {} matching the filter</button></form>"#,
        q(&queue),
        csrf_field(&ops.csrf),
        status.as_str(),
        esc(f.tenant().unwrap_or("")),
        esc(f.kind.as_deref().unwrap_or("")),
        esc(f.q.as_deref().unwrap_or("")),
        status.as_str(),
        status.as_str()
    );
    let done = f
        .done
        .as_deref()
        .map(|d| format!(r#"<p class="flash" id="flash">{}</p>"#, esc(d)))
        .unwrap_or_default();
    let next = page.next_cursor.as_deref().map(|c| format!(
        r#"<p><a id="next" href="/console/queues/{}?status={}&tenant={}&kind={}&q={}&cursor={}">Next page →</a></p>"#,
        q(&queue), status.as_str(), q(f.tenant().unwrap_or("")), q(f.kind.as_deref().unwrap_or("")), q(f.q.as_deref().unwrap_or("")), q(c)
    )).unwrap_or_default();
    let body = format!(
        r#"{done}<p>State: {} {}</p><p class="tabs">{tabs}</p>{filters}{bulk}{}{next}"#,
        live_cell(
            &queue,
            "paused",
            if counts.paused { "paused" } else { "running" }
        ),
        pause_form(&ops, &counts),
        html::table(
            "jobs",
            &[
                "",
                "id",
                "kind",
                "tenant",
                "attempts",
                "last error",
                "created (UTC)"
            ],
            &rows
        )
    );
    html::page(&format!("Queue {queue}"), Some(&ops), &body)
}

//! The console's side pages: workers (alive, current jobs, last heartbeat),
//! schedules (next run in their own timezone, last fire, enable/disable, run
//! now), tenants (volume and failures per tenant, from the outcome counters)
//! and the audit trail.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::PgExecutor;
use uuid::Uuid;

use jobs::engine::NewJob;
use jobs::store::schedules::Schedule;
use jobs::store::tenants;

use super::html::{self, csrf_field, esc};
use super::session::{check_csrf, form, Ops};
use crate::audit;
use crate::state::AppState;

fn failed(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "console page failed");
    html::error_page(
        StatusCode::SERVICE_UNAVAILABLE,
        "redis or postgres is unavailable",
    )
}

fn when(t: Option<DateTime<Utc>>, tz: &str) -> String {
    match (t, tenants::parse_timezone(tz)) {
        (Some(t), Ok(z)) => t.with_timezone(&z).format("%d/%m/%Y %H:%M %Z").to_string(),
        (Some(t), Err(_)) => t.format("%d/%m/%Y %H:%M UTC").to_string(),
        (None, _) => "—".into(),
    }
}

pub async fn workers(State(st): State<AppState>, ops: Ops) -> Response {
    let queues = st.registry.queues();
    let all = match futures::future::try_join_all(queues.iter().map(|q| st.engine.workers(q))).await
    {
        Ok(w) => w,
        Err(e) => return failed(e),
    };
    let rows: Vec<Vec<String>> = all
        .into_iter()
        .flatten()
        .map(|w| {
            vec![
                esc(&w.id),
                esc(&w.queue),
                w.last_seen.format("%d/%m/%Y %H:%M:%S UTC").to_string(),
                esc(&w.running.join(", ")),
            ]
        })
        .collect();
    let body = html::table(
        "workers",
        &["worker", "queue", "last heartbeat", "running jobs"],
        &rows,
    );
    html::page("Workers", Some(&ops), &body)
}

async fn all_schedules(ex: impl PgExecutor<'_>) -> Result<Vec<Schedule>, sqlx::Error> {
    sqlx::query_as(
        "select id, tenant_id, name, cron, timezone, kind, payload, enabled, catch_up, \
         last_fired_at, next_run_at, created_at, updated_at from schedules order by tenant_id nulls first, name",
    )
    .fetch_all(ex)
    .await
}

async fn schedule_by_id(
    ex: impl PgExecutor<'_>,
    id: Uuid,
) -> Result<Option<Schedule>, sqlx::Error> {
    sqlx::query_as(
        "select id, tenant_id, name, cron, timezone, kind, payload, enabled, catch_up, \
         last_fired_at, next_run_at, created_at, updated_at from schedules where id = $1",
    )
    .bind(id)
    .fetch_optional(ex)
    .await
}

/// Enables or disables a schedule; clears its cursor like an edit does, so disabled ticks never fire.
async fn set_enabled(
    ex: impl PgExecutor<'_>,
    id: Uuid,
    enabled: bool,
) -> Result<Option<Schedule>, sqlx::Error> {
    sqlx::query_as(
        "update schedules set enabled = $2, next_run_at = null, updated_at = now() where id = $1 \
         returning id, tenant_id, name, cron, timezone, kind, payload, enabled, catch_up, \
         last_fired_at, next_run_at, created_at, updated_at",
    )
    .bind(id)
    .bind(enabled)
    .fetch_optional(ex)
    .await
}

pub async fn schedules(State(st): State<AppState>, ops: Ops) -> Response {
    let rows = match all_schedules(&st.pool).await {
        Ok(r) => r,
        Err(e) => return failed(e),
    };
    // The last tick's job has a deterministic id (`cron-<schedule>-<tick ms>`, see
    // scheduler/src/fire.rs): its status is the schedule's last outcome.
    let mut outcomes = Vec::with_capacity(rows.len());
    for s in &rows {
        let outcome = match (s.last_fired_at, st.registry.get(&s.kind)) {
            (Some(tick), Some(kind)) => {
                let id = format!("cron-{}-{}", s.id, tick.timestamp_millis());
                match st.engine.job(kind.policy().queue, &id).await {
                    Ok(Some(j)) => j.status.as_str().to_string(),
                    Ok(None) => "expired".to_string(),
                    Err(_) => "unavailable".to_string(),
                }
            }
            _ => "—".to_string(),
        };
        outcomes.push(outcome);
    }
    let rows: Vec<Vec<String>> = rows
        .iter()
        .zip(outcomes)
        .map(|(s, outcome)| {
            let toggle = if s.enabled { "disable" } else { "enable" };
            let forms: String = [toggle, "run"].iter().map(|a| format!(
                r#"<form method="post" action="/console/schedules/{}/{a}" class="inline">{}<button id="sched-{a}-{}">{a}</button></form> "#,
                s.id, csrf_field(&ops.csrf), s.id
            )).collect();
            vec![
                esc(&s.name),
                s.tenant_id.map(|t| t.to_string()).unwrap_or_else(|| "system".into()),
                format!("{} ({})", esc(&s.cron), esc(&s.timezone)),
                esc(&s.kind),
                if s.enabled { "enabled".into() } else { "disabled".into() },
                when(s.next_run_at, &s.timezone),
                when(s.last_fired_at, &s.timezone),
                forms,
                format!(r#"<span class="outcome">{}</span>"#, esc(&outcome)),
            ]
        })
        .collect();
    let body = html::table(
        "schedules",
        &[
            "name",
            "tenant",
            "cron (zone)",
            "kind",
            "state",
            "next run",
            "last fired",
            "",
            "last outcome",
        ],
        &rows,
    );
    html::page("Schedules", Some(&ops), &body)
}

pub async fn schedule_action(
    State(st): State<AppState>,
    ops: Ops,
    Path((id, action)): Path<(Uuid, String)>,
    body: Bytes,
) -> Response {
    if let Err(r) = check_csrf(&ops, &form(&body)) {
        return r.into_response();
    }
    let result = match action.as_str() {
        "enable" | "disable" => set_enabled(&st.pool, id, action == "enable")
            .await
            .map(|s| s.map(|s| (s, None))),
        "run" => match schedule_by_id(&st.pool, id).await {
            Ok(Some(s)) => match st.registry.get(&s.kind) {
                Some(k) => {
                    let policy = k.policy();
                    let mut job =
                        NewJob::new(policy.queue, &s.kind, &s.job_tenant(), s.payload.clone());
                    job.priority = policy.priority;
                    job.max_attempts = policy.max_attempts;
                    match st.engine.push(job).await {
                        Ok(p) => Ok(Some((s, Some(p.id)))),
                        Err(e) => return failed(e),
                    }
                }
                None => {
                    return html::error_page(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "the schedule's kind is unknown",
                    )
                }
            },
            other => other.map(|o| o.map(|s| (s, None))),
        },
        _ => return html::error_page(StatusCode::NOT_FOUND, "no such action"),
    };
    match result {
        Ok(Some((s, job))) => {
            let actor = ops.actor();
            let name = format!("schedule_{action}");
            audit::record(
                &st.pool,
                audit::NewEntry {
                    actor: &actor,
                    tenant_id: s.tenant_id,
                    action: &name,
                    target: &s.name,
                    details: json!({ "schedule_id": s.id, "job_id": job }),
                },
            )
            .await;
            Redirect::to("/console/schedules").into_response()
        }
        Ok(None) => html::error_page(StatusCode::NOT_FOUND, "no such schedule"),
        Err(e) => failed(e),
    }
}

pub async fn tenants(State(st): State<AppState>, ops: Ops) -> Response {
    let queues = st.registry.queues();
    let (stats, names) = match futures::future::try_join(
        futures::future::try_join_all(queues.iter().map(|q| st.engine.stats(q))),
        async {
            tenants::list(&st.pool)
                .await
                .map_err(|e| jobs::engine::EngineError::Invalid(e.to_string()))
        },
    )
    .await
    {
        Ok(x) => x,
        Err(e) => return failed(e),
    };
    let name_of: BTreeMap<String, String> = names
        .into_iter()
        .map(|t| (t.id.to_string(), t.name))
        .collect();
    // tenant -> outcome -> count, over every queue and kind.
    let mut per: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    for o in stats.iter().flat_map(|s| &s.outcomes) {
        *per.entry(o.tenant.clone())
            .or_default()
            .entry(o.outcome.clone())
            .or_default() += o.count;
    }
    let get = |m: &BTreeMap<String, u64>, k: &str| m.get(k).copied().unwrap_or(0).to_string();
    let rows: Vec<Vec<String>> = per
        .iter()
        .map(|(t, m)| {
            vec![
                esc(name_of.get(t).map(String::as_str).unwrap_or("")),
                esc(t),
                get(m, "started"),
                get(m, "succeeded"),
                (m.get("retried").copied().unwrap_or(0) + m.get("failed").copied().unwrap_or(0))
                    .to_string(),
                get(m, "dead"),
                get(m, "cancelled"),
                format!(
                    r#"<a href="/console/queues/{}?status=dead&tenant={}">dead jobs</a>{}"#,
                    html::q(queues.first().map(String::as_str).unwrap_or("")),
                    html::q(t),
                    if name_of.contains_key(t) {
                        format!(r#" · <a href="/console/outbox?tenant={t}">outbox</a> · <a href="/console/documents?tenant={t}">documents</a> · <a href="/console/alerts?tenant={t}">alerts</a>"#, t = html::q(t))
                    } else {
                        String::new()
                    }
                ),
            ]
        })
        .collect();
    let body = format!(
        r#"<p class="hint">Totals since the outcome counters began, over every queue.</p>{}"#,
        html::table(
            "tenants",
            &[
                "tenant",
                "id",
                "started",
                "succeeded",
                "retried",
                "dead",
                "cancelled",
                ""
            ],
            &rows
        )
    );
    html::page("Tenants", Some(&ops), &body)
}

pub async fn audit_page(State(st): State<AppState>, ops: Ops) -> Response {
    let rows = match audit::list(&st.pool, None, None, 200).await {
        Ok(r) => r,
        Err(e) => return failed(e),
    };
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|e| {
            vec![
                e.at.format("%d/%m/%Y %H:%M:%S UTC").to_string(),
                esc(&e.actor),
                esc(&e.action),
                esc(&e.target),
                e.tenant_id.map(|t| t.to_string()).unwrap_or_default(),
                esc(&e.details.to_string()),
            ]
        })
        .collect();
    html::page(
        "Audit trail",
        Some(&ops),
        &html::table(
            "audit",
            &["when", "who", "action", "target", "tenant", "details"],
            &rows,
        ),
    )
}

//! The academic alerts page (`/console/alerts`): one tenant's alerts, newest
//! first, by rule and status; it opens on `open`. Ack moves an open alert to
//! `acknowledged` through the same `alerts::sql::acknowledge` as
//! `POST /v1/alerts/{id}/ack` (it still resolves when its rule stops holding,
//! and a re-open clears it), after the CSRF check, with one audit row.
//! Paged by the API's keyset cursor (`opened_at` in µs, `_`, id).

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use jobs::kinds::alerts::sql::{self, Ack, AlertFilter, AlertRow};

use super::html::{self, csrf_field, esc, q, Refusal};
use super::pages::unavailable;
use super::session::{check_csrf, field, form, Ops};
use super::tenant;
use crate::audit;
use crate::state::AppState;

/// The alert statuses, and `all`.
pub const STATUSES: [&str; 4] = ["open", "acknowledged", "resolved", "all"];
/// Alerts per page.
pub const PAGE: i64 = 50;

/// Filters of the alerts page.
#[derive(Debug, Default, Deserialize)]
pub struct AlertsQuery {
    pub tenant: Option<String>,
    /// A rule id; empty = every rule.
    pub rule: Option<String>,
    /// One of [`STATUSES`]; `open` when absent.
    pub status: Option<String>,
    pub cursor: Option<String>,
    /// A message from the last action.
    pub done: Option<String>,
}

fn status_of(raw: Option<&str>) -> Result<&str, Refusal> {
    let s = raw.filter(|s| !s.is_empty()).unwrap_or("open");
    if STATUSES.contains(&s) {
        Ok(s)
    } else {
        Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            format!("status must be one of {}", STATUSES.join(", ")),
        ))
    }
}

/// `rule` as an id: empty → every rule; not an id → 400.
fn rule_of(raw: Option<&str>) -> Result<Option<Uuid>, Refusal> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => s
            .parse()
            .map(Some)
            .map_err(|_| Refusal::new(StatusCode::BAD_REQUEST, "rule must be a rule id")),
    }
}

fn cursor_of(a: &AlertRow) -> String {
    format!("{}_{}", a.opened_at.timestamp_micros(), a.id)
}

fn parse_cursor(c: &str) -> Option<(DateTime<Utc>, Uuid)> {
    let (t, id) = c.split_once('_')?;
    Some((
        DateTime::from_timestamp_micros(t.parse().ok()?)?,
        id.parse().ok()?,
    ))
}

pub async fn alerts(
    State(st): State<AppState>,
    ops: Ops,
    Query(f): Query<AlertsQuery>,
) -> Response {
    let (status, rule) = match (status_of(f.status.as_deref()), rule_of(f.rule.as_deref())) {
        (Ok(s), Ok(r)) => (s, r),
        (Err(e), _) | (_, Err(e)) => return e.into_response(),
    };
    let before = match f.cursor.as_deref().filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => match parse_cursor(c) {
            Some(b) => Some(b),
            None => return html::error_page(StatusCode::BAD_REQUEST, "not a cursor of this list"),
        },
    };
    let choice = match tenant::choose(&st, f.tenant.as_deref()).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let (rules, mut alerts) = match choice.chosen {
        Some(t) => {
            let filter = AlertFilter {
                status: (status != "all").then(|| status.to_string()),
                rule,
                before,
                limit: PAGE + 1,
                ..AlertFilter::default()
            };
            match futures::future::try_join(
                sql::list_rules(&st.pool, t),
                sql::list_alerts(&st.pool, t, &filter),
            )
            .await
            {
                Ok(x) => x,
                Err(e) => return unavailable(e),
            }
        }
        None => (Vec::new(), Vec::new()),
    };
    let next_cursor = if alerts.len() as i64 > PAGE {
        alerts.truncate(PAGE as usize);
        alerts.last().map(cursor_of)
    } else {
        None
    };
    let tenant_param = choice.param();
    let rule_param = rule.map(|r| r.to_string()).unwrap_or_default();
    let rows: Vec<Vec<String>> = alerts
        .iter()
        .map(|a| {
            let ack = if a.status == "open" {
                format!(
                    r#"<form method="post" action="/console/alerts/{}/ack" class="inline">{}<input type="hidden" name="tenant" value="{}"><input type="hidden" name="rule" value="{}"><input type="hidden" name="status" value="{}"><button id="ack-{}">Ack</button></form>"#,
                    a.id,
                    csrf_field(&ops.csrf),
                    esc(&tenant_param),
                    esc(&rule_param),
                    esc(status),
                    a.id
                )
            } else {
                String::new()
            };
            let acked = match &a.acknowledged_at {
                Some(at) => format!(
                    "{} · {}",
                    esc(a.acknowledged_by.as_deref().unwrap_or("")),
                    html::utc(Some(*at))
                ),
                None => String::new(),
            };
            vec![
                html::utc(Some(a.opened_at)),
                esc(&a.rule_name),
                format!(
                    "{} ({})",
                    esc(&a.student_name),
                    esc(&a.student_registration)
                ),
                esc(&a.scope),
                esc(&a.status),
                a.episode.to_string(),
                esc(&a.details.to_string()),
                acked,
                ack,
            ]
        })
        .collect();
    let rule_options: String = rules
        .iter()
        .map(|r| {
            let sel = if Some(r.id) == rule { " selected" } else { "" };
            let off = if r.enabled { "" } else { " (disabled)" };
            format!(
                r#"<option value="{}"{sel}>{}{off}</option>"#,
                r.id,
                esc(&r.name)
            )
        })
        .collect();
    let filters = format!(
        r#"<form method="get" id="filters">{} <select name="rule" id="rule"><option value="">every rule</option>{rule_options}</select>
<input type="hidden" name="status" value="{}"> <button id="filter">Filter</button></form>"#,
        choice.select(),
        esc(status)
    );
    let keep = format!("tenant={}&rule={}", q(&tenant_param), q(&rule_param));
    let table = if rows.is_empty() {
        choice.empty_hint("alerts")
    } else {
        html::table(
            "alerts",
            &[
                "opened (UTC)",
                "rule",
                "student (matrícula)",
                "scope",
                "status",
                "episode",
                "what the rule saw",
                "acknowledged",
                "",
            ],
            &rows,
        )
    };
    let next = next_cursor
        .map(|c| {
            format!(
                r#"<p><a id="next" href="/console/alerts?{keep}&status={}&cursor={}">Next page →</a></p>"#,
                q(status),
                q(&c)
            )
        })
        .unwrap_or_default();
    let body = format!(
        r#"{}<p class="hint">Acknowledged alerts still resolve when their rule stops holding; a re-opened alert is open again.</p>{filters}{}{table}{next}"#,
        html::flash(f.done.as_deref()),
        html::tabs("/console/alerts", &keep, &STATUSES, status)
    );
    html::page("Academic alerts", Some(&ops), &body)
}

pub async fn ack(
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
    let back_status = status_of(field(&f, "status")).unwrap_or("open");
    let back_rule = rule_of(field(&f, "rule")).ok().flatten();
    let alert = match sql::get_alert(&st.pool, tenant, id).await {
        Ok(Some(a)) => a,
        Ok(None) => return html::error_page(StatusCode::NOT_FOUND, "no such alert"),
        Err(e) => return unavailable(e),
    };
    // Who acknowledged, as the API's `by` (at most 200 characters).
    let actor = ops.actor();
    let by: String = actor.chars().take(200).collect();
    let result = match sql::acknowledge(&st.pool, tenant, id, Some(&by), Utc::now()).await {
        Ok(Ack::Done) => "acknowledged",
        Ok(Ack::AlreadyAcknowledged) => "already_acknowledged",
        Ok(Ack::Resolved) => {
            return html::error_page(
                StatusCode::CONFLICT,
                "the alert is resolved: nothing to acknowledge",
            )
        }
        Ok(Ack::NotFound) => return html::error_page(StatusCode::NOT_FOUND, "no such alert"),
        Err(e) => return unavailable(e),
    };
    let target = id.to_string();
    audit::record(
        &st.pool,
        audit::NewEntry {
            actor: &actor,
            tenant_id: Some(tenant),
            action: "alert_ack",
            target: &target,
            details: json!({
                "rule_id": alert.rule_id, "rule": alert.rule_name,
                "student_registration": alert.student_registration, "result": result,
            }),
        },
    )
    .await;
    tracing::info!(actor, tenant_id = %tenant, alert_id = %id, result, "alert acknowledged from the console");
    Redirect::to(&format!(
        "/console/alerts?tenant={tenant}&rule={}&status={}&done={}",
        back_rule.map(|r| r.to_string()).unwrap_or_default(),
        q(back_status),
        q(&format!(
            "{result}: {} — {}",
            alert.rule_name, alert.student_name
        ))
    ))
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips_and_rejects_junk() {
        let t = DateTime::from_timestamp_micros(1_770_000_000_123_456).unwrap();
        let id = Uuid::now_v7();
        assert_eq!(
            parse_cursor(&format!("{}_{}", t.timestamp_micros(), id)),
            Some((t, id))
        );
        assert_eq!(parse_cursor("nope"), None);
        assert_eq!(parse_cursor("12_not-a-uuid"), None);
    }
}

//! The campaigns page (`/console/campaigns`): one tenant's WhatsApp
//! campaigns, newest first, each with its progress, delivery/read/reply
//! rates, current throughput, ETA and cost, the reason it paused or failed,
//! and Pause / Resume / Cancel (the same guarded moves as the API; each
//! click is audited). The numbers are `jobs::kinds::campaigns::metrics`.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use jobs::kinds::campaigns::{lifecycle, metrics};

use super::html::{self, csrf_field, esc, q};
use super::pages::unavailable;
use super::session::{check_csrf, field, form, Ops};
use super::tenant;
use crate::audit;
use crate::state::AppState;

const LIMIT: i64 = 50;

#[derive(Debug, Default, Deserialize)]
pub struct CampaignsQuery {
    pub tenant: Option<String>,
    pub done: Option<String>,
}

fn pct(x: f64) -> String {
    format!("{:.1} %", x * 100.0).replace('.', ",")
}

pub async fn campaigns(
    State(st): State<AppState>,
    ops: Ops,
    Query(f): Query<CampaignsQuery>,
) -> Response {
    let choice = match tenant::choose(&st, f.tenant.as_deref()).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let mut cells = Vec::new();
    if let Some(t) = choice.chosen {
        let list = match lifecycle::list(&st.pool, t, None, LIMIT).await {
            Ok(l) => l,
            Err(e) => return unavailable(e),
        };
        for c in list {
            let tpl = match lifecycle::template_by_id(&st.pool, c.template_id).await {
                Ok(t) => t,
                Err(e) => return unavailable(e),
            };
            let m =
                match metrics::compute(&st.pool, &st.settings.campaigns, &c, &tpl.category).await {
                    Ok(m) => m,
                    Err(e) => return unavailable(e),
                };
            let actions: Vec<&str> = match c.state.as_str() {
                "running" => vec!["pause", "cancel"],
                "paused" => vec!["resume", "cancel"],
                "draft" | "scheduled" => vec!["cancel"],
                _ => vec![],
            };
            let buttons: String = actions
                .iter()
                .map(|a| {
                    format!(
                        r#"<form method="post" action="/console/campaigns/{}/{a}" class="inline">{}<input type="hidden" name="tenant" value="{t}"><button id="{a}-{}">{}</button></form>"#,
                        c.id,
                        csrf_field(&ops.csrf),
                        c.id,
                        match *a { "pause" => "Pause", "resume" => "Resume", _ => "Cancel" }
                    )
                })
                .collect();
            cells.push(vec![
                html::utc(Some(c.created_at)),
                format!("{}<br><small>{}</small>", esc(&c.name), esc(&c.id.to_string())),
                format!(
                    "{}{}",
                    esc(&c.state),
                    c.state_reason
                        .as_deref()
                        .map(|r| format!("<br><small>{}</small>", esc(r)))
                        .unwrap_or_default()
                ),
                format!(
                    r#"<progress max="100" value="{:.0}"></progress> {}<br><small>{} of {}</small>"#,
                    m.progress * 100.0,
                    pct(m.progress),
                    m.recipients - m.by_status["queued"] - m.by_status["dispatched"] - m.by_status["sending"] - m.by_status["deferred"],
                    m.recipients
                ),
                format!(
                    "sent {} · delivered {} · read {} · replied {}",
                    m.sent,
                    pct(m.delivery_rate),
                    pct(m.read_rate),
                    pct(m.reply_rate)
                ),
                format!(
                    "failed {} · skipped {} · deferred {} · unknown {}",
                    m.by_status["failed"], m.by_status["skipped"], m.by_status["deferred"], m.by_status["unknown"]
                ),
                format!("{:.1}/s (rate {}/s)", m.throughput_per_second, c.effective_rate).replace('.', ","),
                html::utc(m.eta),
                format!(
                    "{} {:.2} ({} {:.2} est.)",
                    esc(&m.cost.currency),
                    m.cost.actual,
                    esc(&m.cost.currency),
                    m.cost.estimated
                ),
                buttons,
            ]);
        }
    }
    let filters = format!(
        r#"<form method="get" id="filters">{} <button id="filter">Filter</button></form>"#,
        choice.select()
    );
    let table = if cells.is_empty() {
        choice.empty_hint("campaigns")
    } else {
        html::table(
            "campaigns",
            &[
                "created (UTC)",
                "campaign",
                "state",
                "progress",
                "rates",
                "problems",
                "throughput",
                "ETA (UTC)",
                "cost",
                "",
            ],
            &cells,
        )
    };
    let body = format!(
        r#"{}<p class="hint">WhatsApp campaigns, newest {LIMIT}. <b>unknown</b>: the provider call ended without an answer; never re-sent. Pause stops new sends within about a second; Resume continues where it stopped; Cancel marks the rest cancelled.</p>{filters}{table}"#,
        html::flash(f.done.as_deref())
    );
    html::page("Campaigns", Some(&ops), &body)
}

/// `POST /console/campaigns/{id}/{pause|resume|cancel}`.
pub async fn action(
    State(st): State<AppState>,
    ops: Ops,
    Path((id, action)): Path<(Uuid, String)>,
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
    if !["pause", "resume", "cancel"].contains(&action.as_str()) {
        return html::error_page(StatusCode::NOT_FOUND, "no such action");
    }
    let done = match lifecycle::act(&st.pool, &st.engine, tenant, id, &action).await {
        Ok(c) => format!("{} is {}", c.name, c.state),
        Err(lifecycle::CampaignError::State(s)) => format!("not done: the campaign is {s}"),
        Err(lifecycle::CampaignError::NotFound) => {
            return html::error_page(StatusCode::NOT_FOUND, "no such campaign")
        }
        Err(e) => return unavailable(e),
    };
    let actor = ops.actor();
    audit::record(
        &st.pool,
        audit::NewEntry {
            actor: &actor,
            tenant_id: Some(tenant),
            action: &format!("campaign_{action}"),
            target: &id.to_string(),
            details: json!({ "result": done }),
        },
    )
    .await;
    Redirect::to(&format!(
        "/console/campaigns?tenant={tenant}&done={}",
        q(&done)
    ))
    .into_response()
}

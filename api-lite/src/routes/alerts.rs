//! `/v1/alerts`: the alerts a tenant's rules raised, newest first and paged
//! by cursor (`status`, `student` = id or registration, `rule`, `since` =
//! opened at or after), one alert with its history, and acknowledging one
//! (`open` → `acknowledged`; it still resolves when the rule stops holding,
//! and a re-open clears it). Another tenant's alert id is the same 404.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};
use uuid::Uuid;

use jobs::kinds::alerts::sql::{self, Ack, AlertEvent, AlertFilter, AlertRow};

use crate::auth::{Scope, Tenant};
use crate::error::ApiError;
use crate::extract::{parse_json, AppQuery};
use crate::state::AppState;

/// Default and largest page.
const PAGE_DEFAULT: i64 = 50;
const PAGE_MAX: i64 = 500;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/alerts", get(list))
        .route("/v1/alerts/{id}", get(show))
        .route("/v1/alerts/{id}/ack", post(ack))
}

#[derive(OpenApi)]
#[openapi(
    paths(list, show, ack),
    components(schemas(AlertRow, AlertEvent, AlertPage, AlertWithHistory, AckBody)),
    tags((name = "alerts", description = "academic alert rules and the alerts they raise"))
)]
pub struct AlertsApi;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AlertQuery {
    /// open | acknowledged | resolved
    pub status: Option<String>,
    /// A student id, or a registration (matrícula).
    pub student: Option<String>,
    /// A rule id.
    pub rule: Option<Uuid>,
    /// Alerts opened at or after this instant (RFC 3339).
    pub since: Option<DateTime<Utc>>,
    /// 1-500, default 50.
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AlertPage {
    pub alerts: Vec<AlertRow>,
    /// Pass as `cursor` for the next page; null on the last one.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AlertWithHistory {
    #[serde(flatten)]
    pub alert: AlertRow,
    /// Oldest first.
    pub history: Vec<AlertEvent>,
}

/// Optional body of the acknowledgement.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AckBody {
    /// Who acknowledged (a name or an id from your system).
    pub by: Option<String>,
}

fn not_found(id: &str) -> ApiError {
    ApiError::not_found("alert_not_found", format!("no alert {id}"))
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

/// The caller's alerts, newest first.
#[utoipa::path(get, path = "/v1/alerts", tag = "alerts", security(("bearer" = [])), params(AlertQuery),
    responses((status = 200, body = AlertPage), (status = 400, body = crate::error::ErrorBody)))]
pub async fn list(
    State(st): State<AppState>,
    tenant: Tenant,
    AppQuery(q): AppQuery<AlertQuery>,
) -> Result<Json<AlertPage>, ApiError> {
    tenant.require(Scope::JobsRead)?;
    if let Some(s) = &q.status {
        if !["open", "acknowledged", "resolved"].contains(&s.as_str()) {
            return Err(ApiError::bad_request(
                "invalid_query",
                "status: open, acknowledged or resolved",
            ));
        }
    }
    let limit = q.limit.unwrap_or(PAGE_DEFAULT);
    if !(1..=PAGE_MAX).contains(&limit) {
        return Err(ApiError::bad_request(
            "invalid_query",
            format!("limit: 1-{PAGE_MAX}"),
        ));
    }
    let before = match &q.cursor {
        Some(c) => Some(parse_cursor(c).ok_or_else(|| {
            ApiError::bad_request("invalid_query", "cursor: not a cursor of this list")
        })?),
        None => None,
    };
    let (student, registration) = match &q.student {
        Some(s) => match s.parse::<Uuid>() {
            Ok(id) => (Some(id), None),
            Err(_) => (None, Some(s.clone())),
        },
        None => (None, None),
    };
    let filter = AlertFilter {
        status: q.status.clone(),
        student,
        registration,
        rule: q.rule,
        since: q.since,
        before,
        limit: limit + 1,
    };
    let mut alerts = sql::list_alerts(&st.pool, tenant.id, &filter).await?;
    let next_cursor = if alerts.len() as i64 > limit {
        alerts.truncate(limit as usize);
        alerts.last().map(cursor_of)
    } else {
        None
    };
    Ok(Json(AlertPage {
        alerts,
        next_cursor,
    }))
}

/// One alert with its history (opened, notified, resolved, re-opened, acknowledged).
#[utoipa::path(get, path = "/v1/alerts/{id}", tag = "alerts", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = AlertWithHistory), (status = 404, body = crate::error::ErrorBody)))]
pub async fn show(
    State(st): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> Result<Json<AlertWithHistory>, ApiError> {
    tenant.require(Scope::JobsRead)?;
    let uuid: Uuid = id.parse().map_err(|_| not_found(&id))?;
    let alert = sql::get_alert(&st.pool, tenant.id, uuid)
        .await?
        .ok_or_else(|| not_found(&id))?;
    let history = sql::alert_events(&st.pool, tenant.id, uuid).await?;
    Ok(Json(AlertWithHistory { alert, history }))
}

/// Acknowledge an open alert. Acknowledging twice is fine; a resolved alert is a 409.
#[utoipa::path(post, path = "/v1/alerts/{id}/ack", tag = "alerts", security(("bearer" = [])), params(("id" = String, Path)),
    request_body(content = Option<AckBody>, content_type = "application/json"),
    responses(
        (status = 200, body = AlertRow),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, description = "`alert_resolved`: nothing to acknowledge", body = crate::error::ErrorBody),
    ))]
pub async fn ack(
    State(st): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<AlertRow>, ApiError> {
    tenant.require(Scope::JobsWrite)?;
    let uuid: Uuid = id.parse().map_err(|_| not_found(&id))?;
    let body: AckBody = if body.iter().all(u8::is_ascii_whitespace) {
        AckBody::default()
    } else {
        parse_json(&body)?
    };
    let by = body.by.as_deref().map(str::trim).filter(|b| !b.is_empty());
    if by.is_some_and(|b| b.chars().count() > 200) {
        return Err(ApiError::invalid_field(
            "invalid_body",
            "by",
            "at most 200 characters",
        ));
    }
    match sql::acknowledge(&st.pool, tenant.id, uuid, by, Utc::now()).await? {
        Ack::NotFound => return Err(not_found(&id)),
        Ack::Resolved => {
            return Err(ApiError::conflict(
                "alert_resolved",
                "the alert is resolved: nothing to acknowledge",
            ))
        }
        Ack::Done | Ack::AlreadyAcknowledged => {}
    }
    tracing::info!(tenant_id = %tenant.id, alert_id = %uuid, "alert acknowledged");
    let alert = sql::get_alert(&st.pool, tenant.id, uuid)
        .await?
        .ok_or_else(|| not_found(&id))?;
    Ok(Json(alert))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips() {
        let t = DateTime::from_timestamp_micros(1_770_000_000_123_456).unwrap();
        let id = Uuid::now_v7();
        assert_eq!(
            parse_cursor(&format!("{}_{}", t.timestamp_micros(), id)),
            Some((t, id))
        );
        assert_eq!(parse_cursor("nope"), None);
    }
}

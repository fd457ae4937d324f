//! Reminder rules and event settings (admin scope): `GET/POST
//! /v1/reminder-rules`, `DELETE /v1/reminder-rules/{id}` (disables: rows
//! already planned still go), `GET/PUT /v1/events/settings` (the tenant's
//! labels — "Aula", "Sala" — and the event types its webhook receives).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};
use uuid::Uuid;

use jobs::kinds::events::admin::{self, RuleSpec};
use jobs::kinds::events::sql::{self, Rule};

use crate::auth::{Scope, Tenant};
use crate::error::ApiError;
use crate::extract::AppJson;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/reminder-rules", get(list).post(create))
        .route("/v1/reminder-rules/{id}", delete(disable))
        .route("/v1/events/settings", get(show_settings).put(put_settings))
}

#[derive(OpenApi)]
#[openapi(
    paths(list, create, disable, show_settings, put_settings),
    components(schemas(RuleSpec, Rule, RuleList, EventSettings)),
    tags((name = "events"))
)]
pub struct EventRulesApi;

#[derive(Debug, Serialize, ToSchema)]
// Named apart from the same-named schema of another feature (components are one namespace).
#[schema(as = ReminderRuleList)]
pub struct RuleList {
    pub rules: Vec<Rule>,
}

/// The tenant's event settings.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventSettings {
    /// Words used in messages: `booking`, `resource`, `client`, `staff` (e.g. "Aula", "Sala").
    #[serde(default)]
    pub labels: std::collections::BTreeMap<String, String>,
    /// Event types delivered to the webhook channel: `booking.created`, `booking.*`, `reminder.sent`, `reminder.failed`, `*`.
    #[serde(default)]
    pub webhook_events: Vec<String>,
}

/// The enabled reminder rules.
#[utoipa::path(get, path = "/v1/reminder-rules", tag = "events", security(("bearer" = [])),
    responses((status = 200, body = RuleList)))]
pub async fn list(State(st): State<AppState>, tenant: Tenant) -> Result<Json<RuleList>, ApiError> {
    tenant.require(Scope::JobsRead)?;
    Ok(Json(RuleList {
        rules: admin::list_rules(&st.pool, tenant.id).await?,
    }))
}

/// Add a rule; later bookings (and reschedules) are planned with it.
#[utoipa::path(post, path = "/v1/reminder-rules", tag = "events", security(("bearer" = [])),
    request_body = RuleSpec,
    responses((status = 201, body = Rule),
        (status = 422, description = "bad field; `details.field` names it", body = crate::error::ErrorBody)))]
pub async fn create(
    State(st): State<AppState>,
    tenant: Tenant,
    AppJson(spec): AppJson<RuleSpec>,
) -> Result<(StatusCode, Json<Rule>), ApiError> {
    tenant.require(Scope::Admin)?;
    let rule = spec
        .into_rule(tenant.id)
        .map_err(|f| ApiError::invalid_field("invalid_rule", &f.path, f.message))?;
    sql::insert_rule(&st.pool, &rule).await?;
    Ok((StatusCode::CREATED, Json(rule)))
}

/// Disable a rule.
#[utoipa::path(delete, path = "/v1/reminder-rules/{id}", tag = "events", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn disable(
    State(st): State<AppState>,
    tenant: Tenant,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    tenant.require(Scope::Admin)?;
    if admin::disable_rule(&st.pool, tenant.id, id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(
            "rule_not_found",
            format!("no rule {id}"),
        ))
    }
}

#[utoipa::path(get, path = "/v1/events/settings", tag = "events", security(("bearer" = [])),
    responses((status = 200, body = EventSettings)))]
pub async fn show_settings(
    State(st): State<AppState>,
    tenant: Tenant,
) -> Result<Json<EventSettings>, ApiError> {
    tenant.require(Scope::JobsRead)?;
    let labels = sql::labels(&st.pool, tenant.id).await?;
    Ok(Json(EventSettings {
        labels: serde_json::from_value(labels).unwrap_or_default(),
        webhook_events: sql::webhook_events(&st.pool, tenant.id).await?,
    }))
}

/// Replace the labels and webhook subscriptions.
#[utoipa::path(put, path = "/v1/events/settings", tag = "events", security(("bearer" = [])),
    request_body = EventSettings,
    responses((status = 200, body = EventSettings),
        (status = 422, description = "bad field; `details.field` names it", body = crate::error::ErrorBody)))]
pub async fn put_settings(
    State(st): State<AppState>,
    tenant: Tenant,
    AppJson(s): AppJson<EventSettings>,
) -> Result<Json<EventSettings>, ApiError> {
    tenant.require(Scope::Admin)?;
    for (k, v) in &s.labels {
        if !matches!(k.as_str(), "booking" | "resource" | "client" | "staff") {
            return Err(ApiError::invalid_field(
                "invalid_settings",
                &format!("labels.{k}"),
                "labels are booking, resource, client, staff",
            ));
        }
        if v.trim().is_empty() || v.len() > 50 {
            return Err(ApiError::invalid_field(
                "invalid_settings",
                &format!("labels.{k}"),
                "1-50 bytes",
            ));
        }
    }
    for (i, e) in s.webhook_events.iter().enumerate() {
        let ok = !e.is_empty()
            && e.len() <= 100
            && e.chars()
                .all(|c| c.is_ascii_lowercase() || c == '.' || c == '_' || c == '*');
        if !ok {
            return Err(ApiError::invalid_field(
                "invalid_settings",
                &format!("webhook_events[{i}]"),
                "an event type (booking.created), a prefix (booking.*) or *",
            ));
        }
    }
    let mut tx = st.pool.begin().await?;
    sql::set_labels(
        &mut *tx,
        tenant.id,
        &serde_json::to_value(&s.labels).unwrap_or_default(),
    )
    .await?;
    sql::set_webhook_events(&mut *tx, tenant.id, &s.webhook_events).await?;
    tx.commit().await?;
    Ok(Json(s))
}

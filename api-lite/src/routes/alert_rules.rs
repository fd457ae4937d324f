//! `/v1/alert-rules`: a tenant's academic alert rules (list, create, read,
//! replace, delete). A rule is checked when saved: a bad parameter is a 422
//! naming its path (`condition.conditions[1].threshold`), a template using a
//! variable its condition does not provide is a 422 on `template`. The
//! tenant's first rule also creates its daily `alerts.evaluate` schedule
//! (`alerts.daily_hour` in the tenant's zone), unless one exists. Deleting a
//! rule deletes its alerts. Another tenant's rule id is the same 404 as a
//! missing one.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};
use uuid::Uuid;

use jobs::kinds::alerts::rule::{
    Audience, Condition, RuleSpec, Scope as RuleScope, TrendOver, Urgency,
};
use jobs::kinds::alerts::sql::{self, RuleRow};
use jobs::store::tenants;

use crate::auth::{Scope, Tenant};
use crate::error::ApiError;
use crate::extract::AppJson;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/alert-rules", get(list).post(create))
        .route("/v1/alert-rules/{id}", get(show).put(update).delete(delete))
}

#[derive(OpenApi)]
#[openapi(
    paths(list, create, show, update, delete),
    components(schemas(RuleSpec, RuleRow, RuleList, Condition, RuleScope, TrendOver, Audience, Urgency)),
    tags((name = "alerts", description = "academic alert rules and the alerts they raise"))
)]
pub struct AlertRulesApi;

#[derive(Debug, Serialize, ToSchema)]
pub struct RuleList {
    pub rules: Vec<RuleRow>,
}

fn not_found(id: &str) -> ApiError {
    ApiError::not_found("alert_rule_not_found", format!("no alert rule {id}"))
}

fn parse_id(id: &str) -> Result<Uuid, ApiError> {
    id.parse().map_err(|_| not_found(id))
}

fn checked(spec: &RuleSpec) -> Result<(), ApiError> {
    spec.validate()
        .map_err(|e| ApiError::invalid_field("invalid_rule", &e.path, e.message))
}

fn name_taken(e: sqlx::Error, name: &str) -> ApiError {
    match e.as_database_error().and_then(|d| d.constraint()) {
        Some(sql::RULE_NAME_UNIQUE) => ApiError::conflict(
            "alert_rule_name_taken",
            format!("an alert rule named {name:?} already exists"),
        )
        .with_details(serde_json::json!({ "field": "name" })),
        _ => e.into(),
    }
}

/// The caller's rules, by name.
#[utoipa::path(get, path = "/v1/alert-rules", tag = "alerts", security(("bearer" = [])),
    responses((status = 200, body = RuleList), (status = 403, body = crate::error::ErrorBody)))]
pub async fn list(State(st): State<AppState>, tenant: Tenant) -> Result<Json<RuleList>, ApiError> {
    tenant.require(Scope::JobsRead)?;
    Ok(Json(RuleList {
        rules: sql::list_rules(&st.pool, tenant.id).await?,
    }))
}

/// Create a rule (and, with the tenant's first rule, its daily evaluation schedule).
#[utoipa::path(post, path = "/v1/alert-rules", tag = "alerts", security(("bearer" = [])),
    request_body = RuleSpec,
    responses(
        (status = 201, body = RuleRow),
        (status = 400, description = "malformed JSON", body = crate::error::ErrorBody),
        (status = 409, description = "name already used by this tenant", body = crate::error::ErrorBody),
        (status = 422, description = "`invalid_rule`; `details.field` names the parameter or template", body = crate::error::ErrorBody),
    ))]
pub async fn create(
    State(st): State<AppState>,
    tenant: Tenant,
    AppJson(spec): AppJson<RuleSpec>,
) -> Result<(StatusCode, Json<RuleRow>), ApiError> {
    tenant.require(Scope::JobsWrite)?;
    checked(&spec)?;
    let row = sql::create_rule(&st.pool, tenant.id, &spec)
        .await
        .map_err(|e| name_taken(e, &spec.name))?;
    let tz = tenants::get(&st.pool, tenant.id)
        .await?
        .map_or_else(|| tenants::DEFAULT_TIMEZONE.to_string(), |t| t.timezone);
    match sql::ensure_daily_schedule(&st.pool, tenant.id, &tz, st.settings.alerts.daily_hour).await
    {
        Ok(true) => {
            tracing::info!(tenant_id = %tenant.id, "daily alerts.evaluate schedule created")
        }
        Ok(false) => {}
        // The rule is saved; it still runs after each ingestion.
        Err(e) => {
            tracing::warn!(tenant_id = %tenant.id, error = %e, "could not create the daily alerts schedule")
        }
    }
    tracing::info!(tenant_id = %tenant.id, rule_id = %row.id, kind = row.condition.type_name(), "alert rule created");
    Ok((StatusCode::CREATED, Json(row)))
}

/// One rule.
#[utoipa::path(get, path = "/v1/alert-rules/{id}", tag = "alerts", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = RuleRow), (status = 404, body = crate::error::ErrorBody)))]
pub async fn show(
    State(st): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> Result<Json<RuleRow>, ApiError> {
    tenant.require(Scope::JobsRead)?;
    let row = sql::get_rule(&st.pool, tenant.id, parse_id(&id)?)
        .await?
        .ok_or_else(|| not_found(&id))?;
    Ok(Json(row))
}

/// Replace a rule; its open alerts follow the new definition at the next evaluation.
#[utoipa::path(put, path = "/v1/alert-rules/{id}", tag = "alerts", security(("bearer" = [])), params(("id" = String, Path)),
    request_body = RuleSpec,
    responses(
        (status = 200, body = RuleRow),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, description = "name already used by this tenant", body = crate::error::ErrorBody),
        (status = 422, description = "`invalid_rule`", body = crate::error::ErrorBody),
    ))]
pub async fn update(
    State(st): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
    AppJson(spec): AppJson<RuleSpec>,
) -> Result<Json<RuleRow>, ApiError> {
    tenant.require(Scope::JobsWrite)?;
    let uuid = parse_id(&id)?;
    checked(&spec)?;
    let row = sql::update_rule(&st.pool, tenant.id, uuid, &spec)
        .await
        .map_err(|e| name_taken(e, &spec.name))?
        .ok_or_else(|| not_found(&id))?;
    tracing::info!(tenant_id = %tenant.id, rule_id = %row.id, "alert rule updated");
    Ok(Json(row))
}

/// Delete a rule and its alerts.
#[utoipa::path(delete, path = "/v1/alert-rules/{id}", tag = "alerts", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn delete(
    State(st): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    tenant.require(Scope::JobsWrite)?;
    if !sql::delete_rule(&st.pool, tenant.id, parse_id(&id)?).await? {
        return Err(not_found(&id));
    }
    tracing::info!(tenant_id = %tenant.id, rule_id = %id, "alert rule deleted");
    Ok(StatusCode::NO_CONTENT)
}

//! `/v1/schedules`: a tenant's cron schedules (list, create, read, replace,
//! delete). Another tenant's schedule id is the same 404 as a missing one.
//! Bodies are `jobs::store::schedules::ScheduleSpec`; a bad cron, timezone,
//! kind or payload is a 422 naming the field. The `scheduler` process fires
//! them; `next_run_at` is null until it has seen a new or edited schedule
//! (within one of its rounds).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};
use uuid::Uuid;

use jobs::store::schedules::{self, CatchUp, Schedule, ScheduleSpec};
use jobs::store::tenants;

use crate::auth::{Scope, Tenant};
use crate::error::ApiError;
use crate::extract::AppJson;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/schedules", get(list).post(create))
        .route("/v1/schedules/{id}", get(show).put(update).delete(delete))
}

/// This file's part of the OpenAPI document (merged by `openapi.rs`).
#[derive(OpenApi)]
#[openapi(
    paths(list, create, show, update, delete),
    components(schemas(ScheduleSpec, ScheduleOut, ScheduleList, CatchUp)),
    tags((name = "schedules", description = "cron schedules that enqueue jobs"))
)]
pub struct SchedulesApi;

/// A schedule as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScheduleOut {
    pub id: Uuid,
    pub name: String,
    pub cron: String,
    pub timezone: String,
    pub kind: String,
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    pub enabled: bool,
    pub catch_up: CatchUp,
    /// The latest tick enqueued.
    pub last_fired_at: Option<DateTime<Utc>>,
    /// The next tick; null until the scheduler has seen the latest change.
    pub next_run_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Schedule> for ScheduleOut {
    fn from(s: Schedule) -> ScheduleOut {
        ScheduleOut {
            id: s.id,
            name: s.name,
            cron: s.cron,
            timezone: s.timezone,
            kind: s.kind,
            payload: s.payload,
            enabled: s.enabled,
            catch_up: s.catch_up,
            last_fired_at: s.last_fired_at,
            next_run_at: s.next_run_at,
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ScheduleList {
    pub schedules: Vec<ScheduleOut>,
}

fn not_found(id: &str) -> ApiError {
    ApiError::not_found("schedule_not_found", format!("no schedule {id}"))
}

/// A path id that is not a UUID names no schedule: the same 404.
fn parse_id(id: &str) -> Result<Uuid, ApiError> {
    id.parse().map_err(|_| not_found(id))
}

/// Checks the spec and resolves its zone (default: the tenant's).
async fn checked(st: &AppState, tenant: &Tenant, spec: &ScheduleSpec) -> Result<String, ApiError> {
    spec.validate(&st.registry)
        .map_err(|e| ApiError::invalid_field("invalid_schedule", &e.path, e.message))?;
    if let Some(tz) = &spec.timezone {
        return Ok(tz.clone());
    }
    let row = tenants::get(&st.pool, tenant.id).await?;
    Ok(row.map_or_else(|| tenants::DEFAULT_TIMEZONE.to_string(), |t| t.timezone))
}

/// A second schedule with the same name is a 409.
fn name_taken(e: sqlx::Error, name: &str) -> ApiError {
    match e.as_database_error().and_then(|d| d.constraint()) {
        Some(schedules::UNIQUE_NAME) => ApiError::conflict(
            "schedule_name_taken",
            format!("a schedule named {name:?} already exists"),
        )
        .with_details(serde_json::json!({ "field": "name" })),
        _ => e.into(),
    }
}

/// The caller's schedules, by name.
#[utoipa::path(get, path = "/v1/schedules", tag = "schedules", security(("bearer" = [])),
    responses((status = 200, body = ScheduleList), (status = 403, body = crate::error::ErrorBody)))]
pub async fn list(
    State(st): State<AppState>,
    tenant: Tenant,
) -> Result<Json<ScheduleList>, ApiError> {
    tenant.require(Scope::JobsRead)?;
    let rows = schedules::list(&st.pool, tenant.id).await?;
    Ok(Json(ScheduleList {
        schedules: rows.into_iter().map(Into::into).collect(),
    }))
}

/// Create a schedule.
#[utoipa::path(post, path = "/v1/schedules", tag = "schedules", security(("bearer" = [])),
    request_body = ScheduleSpec,
    responses(
        (status = 201, body = ScheduleOut),
        (status = 400, description = "malformed JSON", body = crate::error::ErrorBody),
        (status = 409, description = "name already used by this tenant", body = crate::error::ErrorBody),
        (status = 422, description = "bad cron, timezone, kind or payload; `details.field` names it", body = crate::error::ErrorBody),
    ))]
pub async fn create(
    State(st): State<AppState>,
    tenant: Tenant,
    AppJson(spec): AppJson<ScheduleSpec>,
) -> Result<(StatusCode, Json<ScheduleOut>), ApiError> {
    tenant.require(Scope::JobsWrite)?;
    let tz = checked(&st, &tenant, &spec).await?;
    let row = schedules::create(&st.pool, tenant.id, &spec, &tz, Utc::now())
        .await
        .map_err(|e| name_taken(e, &spec.name))?;
    tracing::info!(tenant_id = %tenant.id, schedule_id = %row.id, kind = %row.kind, "schedule created");
    Ok((StatusCode::CREATED, Json(row.into())))
}

/// One schedule.
#[utoipa::path(get, path = "/v1/schedules/{id}", tag = "schedules", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = ScheduleOut), (status = 404, body = crate::error::ErrorBody)))]
pub async fn show(
    State(st): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> Result<Json<ScheduleOut>, ApiError> {
    tenant.require(Scope::JobsRead)?;
    let row = schedules::get(&st.pool, tenant.id, parse_id(&id)?)
        .await?
        .ok_or_else(|| not_found(&id))?;
    Ok(Json(row.into()))
}

/// Replace a schedule's definition; ticks count from now on.
#[utoipa::path(put, path = "/v1/schedules/{id}", tag = "schedules", security(("bearer" = [])), params(("id" = String, Path)),
    request_body = ScheduleSpec,
    responses(
        (status = 200, body = ScheduleOut),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, description = "name already used by this tenant", body = crate::error::ErrorBody),
        (status = 422, description = "bad cron, timezone, kind or payload; `details.field` names it", body = crate::error::ErrorBody),
    ))]
pub async fn update(
    State(st): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
    AppJson(spec): AppJson<ScheduleSpec>,
) -> Result<Json<ScheduleOut>, ApiError> {
    tenant.require(Scope::JobsWrite)?;
    let uuid = parse_id(&id)?;
    let tz = checked(&st, &tenant, &spec).await?;
    let row = schedules::update(&st.pool, tenant.id, uuid, &spec, &tz, Utc::now())
        .await
        .map_err(|e| name_taken(e, &spec.name))?
        .ok_or_else(|| not_found(&id))?;
    tracing::info!(tenant_id = %tenant.id, schedule_id = %row.id, "schedule updated");
    Ok(Json(row.into()))
}

/// Delete a schedule; ticks already enqueued stay.
#[utoipa::path(delete, path = "/v1/schedules/{id}", tag = "schedules", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn delete(
    State(st): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    tenant.require(Scope::JobsWrite)?;
    if !schedules::delete(&st.pool, tenant.id, parse_id(&id)?).await? {
        return Err(not_found(&id));
    }
    tracing::info!(tenant_id = %tenant.id, schedule_id = %id, "schedule deleted");
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openapi_part_documents_every_route() {
        let doc = serde_json::to_value(SchedulesApi::openapi()).unwrap();
        for (path, method) in [
            ("/v1/schedules", "get"),
            ("/v1/schedules", "post"),
            ("/v1/schedules/{id}", "put"),
            ("/v1/schedules/{id}", "delete"),
        ] {
            assert!(doc["paths"][path][method].is_object(), "{method} {path}");
        }
        assert!(doc["components"]["schemas"]["ScheduleSpec"]["properties"]["cron"].is_object());
    }
}

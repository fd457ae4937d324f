//! `/v1/notification-templates`: a tenant's minijinja message templates per
//! name, channel and locale (pt-BR default). A syntax error or a variable
//! outside the declared `variables` is a 422 naming the part (`subject`,
//! `body`, `html`) when the template is saved, never a failure at send time.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use utoipa::OpenApi;
use uuid::Uuid;

use jobs::kinds::notify::templates::{self, TemplateRow, TemplateSpec};

use crate::auth::{Scope, Tenant};
use crate::error::ApiError;
use crate::extract::AppJson;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/notification-templates",
            get(list_templates).post(create_template),
        )
        .route(
            "/v1/notification-templates/{id}",
            get(show_template)
                .put(update_template)
                .delete(delete_template),
        )
}

#[derive(OpenApi)]
#[openapi(
    paths(list_templates, create_template, show_template, update_template, delete_template),
    components(schemas(TemplateSpec, TemplateRow)),
    tags((name = "notification settings", description = "channels, templates, opt-outs, quiet hours"))
)]
pub struct NotificationTemplatesApi;

fn template_not_found(id: &str) -> ApiError {
    ApiError::not_found("template_not_found", format!("no template {id}"))
}

fn template_taken(e: sqlx::Error) -> ApiError {
    match e.as_database_error().and_then(|d| d.constraint()) {
        Some(templates::TEMPLATE_UNIQUE) => ApiError::conflict(
            "template_exists",
            "a template with this name, channel and locale exists",
        )
        .with_details(serde_json::json!({ "field": "name" })),
        _ => e.into(),
    }
}

fn checked(t: &TemplateSpec) -> Result<(), ApiError> {
    t.validate()
        .map_err(|e| ApiError::invalid_field("invalid_template", &e.path, e.message))
}

#[utoipa::path(get, path = "/v1/notification-templates", tag = "notification settings", security(("bearer" = [])),
    responses((status = 200, body = Vec<TemplateRow>)))]
pub async fn list_templates(
    State(st): State<AppState>,
    tenant: Tenant,
) -> Result<Json<Vec<TemplateRow>>, ApiError> {
    tenant.require(Scope::JobsRead)?;
    Ok(Json(templates::list_templates(&st.pool, tenant.id).await?))
}

/// Save a template; a syntax error or an undeclared variable is a 422 naming the part.
#[utoipa::path(post, path = "/v1/notification-templates", tag = "notification settings", security(("bearer" = [])),
    request_body = TemplateSpec,
    responses((status = 201, body = TemplateRow), (status = 409, body = crate::error::ErrorBody),
        (status = 422, description = "syntax error or unknown variable; `details.field` = subject|body|html", body = crate::error::ErrorBody)))]
pub async fn create_template(
    State(st): State<AppState>,
    tenant: Tenant,
    AppJson(t): AppJson<TemplateSpec>,
) -> Result<(StatusCode, Json<TemplateRow>), ApiError> {
    tenant.require(Scope::JobsWrite)?;
    checked(&t)?;
    let row = templates::create_template(&st.pool, tenant.id, &t)
        .await
        .map_err(template_taken)?;
    Ok((StatusCode::CREATED, Json(row)))
}

#[utoipa::path(get, path = "/v1/notification-templates/{id}", tag = "notification settings", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = TemplateRow), (status = 404, body = crate::error::ErrorBody)))]
pub async fn show_template(
    State(st): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> Result<Json<TemplateRow>, ApiError> {
    tenant.require(Scope::JobsRead)?;
    let uuid: Uuid = id.parse().map_err(|_| template_not_found(&id))?;
    templates::get_template(&st.pool, tenant.id, uuid)
        .await?
        .map(Json)
        .ok_or_else(|| template_not_found(&id))
}

#[utoipa::path(put, path = "/v1/notification-templates/{id}", tag = "notification settings", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = TemplateSpec,
    responses((status = 200, body = TemplateRow), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn update_template(
    State(st): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
    AppJson(t): AppJson<TemplateSpec>,
) -> Result<Json<TemplateRow>, ApiError> {
    tenant.require(Scope::JobsWrite)?;
    let uuid: Uuid = id.parse().map_err(|_| template_not_found(&id))?;
    checked(&t)?;
    templates::update_template(&st.pool, tenant.id, uuid, &t)
        .await
        .map_err(template_taken)?
        .map(Json)
        .ok_or_else(|| template_not_found(&id))
}

#[utoipa::path(delete, path = "/v1/notification-templates/{id}", tag = "notification settings", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn delete_template(
    State(st): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    tenant.require(Scope::JobsWrite)?;
    let uuid: Uuid = id.parse().map_err(|_| template_not_found(&id))?;
    if !templates::delete_template(&st.pool, tenant.id, uuid).await? {
        return Err(template_not_found(&id));
    }
    Ok(StatusCode::NO_CONTENT)
}

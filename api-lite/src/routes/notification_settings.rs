//! A tenant's notification setup: channel settings (`/v1/notification-channels/{channel}`,
//! admin scope; secrets only as env var names), opt-outs (`/v1/notification-opt-outs`), quiet hours
//! (`/v1/notification-policy`, admin) and notices (`/v1/notification-notices`).
//! Templates are in `notification_templates.rs`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

use jobs::kinds::notify::admin::{self, ChannelRow, Notice, OptOut, Policy};
use jobs::kinds::notify::ChannelName;

use crate::auth::{Scope, Tenant};
use crate::error::ApiError;
use crate::extract::AppJson;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/notification-channels", get(list_channels))
        .route(
            "/v1/notification-channels/{channel}",
            get(show_channel).put(put_channel).delete(delete_channel),
        )
        .route(
            "/v1/notification-opt-outs",
            get(list_opt_outs).post(add_opt_out),
        )
        .route(
            "/v1/notification-opt-outs/{channel}/{recipient}",
            delete(delete_opt_out),
        )
        .route("/v1/notification-policy", get(show_policy).put(put_policy))
        .route("/v1/notification-notices", get(list_notices))
}

#[derive(OpenApi)]
#[openapi(
    paths(list_channels, show_channel, put_channel, delete_channel, list_opt_outs, add_opt_out, delete_opt_out, show_policy, put_policy, list_notices),
    components(schemas(ChannelRow, ChannelBody, OptOut, Policy, Notice)),
    tags((name = "notification settings", description = "channels, templates, opt-outs, quiet hours"))
)]
pub struct NotificationSettingsApi;

/// `PUT /v1/notification-channels/{channel}`.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChannelBody {
    /// Addresses and ids; secrets as `<name>_env` = the NAME of an env var on the workers.
    #[schema(value_type = Object)]
    pub settings: serde_json::Value,
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn yes() -> bool {
    true
}

fn channel_of(s: &str) -> Result<ChannelName, ApiError> {
    ChannelName::parse(s)
        .ok_or_else(|| ApiError::not_found("channel_not_found", format!("no channel {s}")))
}

#[utoipa::path(get, path = "/v1/notification-channels", tag = "notification settings", security(("bearer" = [])),
    responses((status = 200, body = Vec<ChannelRow>)))]
pub async fn list_channels(
    State(st): State<AppState>,
    tenant: Tenant,
) -> Result<Json<Vec<ChannelRow>>, ApiError> {
    tenant.require(Scope::JobsRead)?;
    Ok(Json(admin::list_channels(&st.pool, tenant.id).await?))
}

#[utoipa::path(get, path = "/v1/notification-channels/{channel}", tag = "notification settings", security(("bearer" = [])),
    params(("channel" = String, Path)), responses((status = 200, body = ChannelRow), (status = 404, body = crate::error::ErrorBody)))]
pub async fn show_channel(
    State(st): State<AppState>,
    tenant: Tenant,
    Path(ch): Path<String>,
) -> Result<Json<ChannelRow>, ApiError> {
    tenant.require(Scope::JobsRead)?;
    let c = channel_of(&ch)?;
    let row = admin::get_channel(&st.pool, tenant.id, c.as_str()).await?;
    row.map(Json).ok_or_else(|| {
        ApiError::not_found("channel_not_configured", format!("{ch} is not configured"))
    })
}

/// Create or replace a channel's settings; saving re-enables a disabled channel.
#[utoipa::path(put, path = "/v1/notification-channels/{channel}", tag = "notification settings", security(("bearer" = [])),
    params(("channel" = String, Path)), request_body = ChannelBody,
    responses((status = 200, body = ChannelRow), (status = 422, description = "missing field or a secret in plain text", body = crate::error::ErrorBody)))]
pub async fn put_channel(
    State(st): State<AppState>,
    tenant: Tenant,
    Path(ch): Path<String>,
    AppJson(body): AppJson<ChannelBody>,
) -> Result<Json<ChannelRow>, ApiError> {
    tenant.require(Scope::Admin)?;
    let c = channel_of(&ch)?;
    admin::check_channel_settings(c, &body.settings)
        .map_err(|e| ApiError::invalid_field("invalid_channel_settings", &e.path, e.message))?;
    let row = admin::put_channel(
        &st.pool,
        tenant.id,
        c.as_str(),
        &body.settings,
        body.enabled,
    )
    .await?;
    tracing::info!(tenant_id = %tenant.id, channel = c.as_str(), "notification channel saved");
    Ok(Json(row))
}

#[utoipa::path(delete, path = "/v1/notification-channels/{channel}", tag = "notification settings", security(("bearer" = [])),
    params(("channel" = String, Path)), responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn delete_channel(
    State(st): State<AppState>,
    tenant: Tenant,
    Path(ch): Path<String>,
) -> Result<StatusCode, ApiError> {
    tenant.require(Scope::Admin)?;
    let c = channel_of(&ch)?;
    if !admin::delete_channel(&st.pool, tenant.id, c.as_str()).await? {
        return Err(ApiError::not_found(
            "channel_not_configured",
            format!("{ch} is not configured"),
        ));
    }
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/v1/notification-opt-outs", tag = "notification settings", security(("bearer" = [])),
    responses((status = 200, body = Vec<OptOut>)))]
pub async fn list_opt_outs(
    State(st): State<AppState>,
    tenant: Tenant,
) -> Result<Json<Vec<OptOut>>, ApiError> {
    tenant.require(Scope::JobsRead)?;
    Ok(Json(admin::list_opt_outs(&st.pool, tenant.id, None).await?))
}

/// Record that a recipient does not want messages on a channel.
#[utoipa::path(post, path = "/v1/notification-opt-outs", tag = "notification settings", security(("bearer" = [])),
    request_body = OptOut, responses((status = 201, body = OptOut), (status = 422, body = crate::error::ErrorBody)))]
pub async fn add_opt_out(
    State(st): State<AppState>,
    tenant: Tenant,
    AppJson(o): AppJson<OptOut>,
) -> Result<(StatusCode, Json<OptOut>), ApiError> {
    tenant.require(Scope::JobsWrite)?;
    if ChannelName::parse(&o.channel).is_none() {
        return Err(ApiError::invalid_field(
            "invalid_opt_out",
            "channel",
            "one of email, push, sms, whatsapp, webhook",
        ));
    }
    if o.recipient.trim().is_empty() {
        return Err(ApiError::invalid_field(
            "invalid_opt_out",
            "recipient",
            "required",
        ));
    }
    Ok((
        StatusCode::CREATED,
        Json(admin::add_opt_out(&st.pool, tenant.id, &o).await?),
    ))
}

#[utoipa::path(delete, path = "/v1/notification-opt-outs/{channel}/{recipient}", tag = "notification settings", security(("bearer" = [])),
    params(("channel" = String, Path), ("recipient" = String, Path)), responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn delete_opt_out(
    State(st): State<AppState>,
    tenant: Tenant,
    Path((channel, recipient)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    tenant.require(Scope::JobsWrite)?;
    if !admin::delete_opt_out(&st.pool, tenant.id, &channel, &recipient).await? {
        return Err(ApiError::not_found("opt_out_not_found", "no such opt-out"));
    }
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/v1/notification-policy", tag = "notification settings", security(("bearer" = [])),
    responses((status = 200, body = Policy)))]
pub async fn show_policy(
    State(st): State<AppState>,
    tenant: Tenant,
) -> Result<Json<Policy>, ApiError> {
    tenant.require(Scope::JobsRead)?;
    Ok(Json(admin::get_policy(&st.pool, tenant.id).await?))
}

/// Quiet hours (`"22:00"`–`"07:00"`) in the tenant's timezone; both null turns them off.
#[utoipa::path(put, path = "/v1/notification-policy", tag = "notification settings", security(("bearer" = [])),
    request_body = Policy, responses((status = 200, body = Policy), (status = 422, body = crate::error::ErrorBody)))]
pub async fn put_policy(
    State(st): State<AppState>,
    tenant: Tenant,
    AppJson(p): AppJson<Policy>,
) -> Result<Json<Policy>, ApiError> {
    tenant.require(Scope::Admin)?;
    let window = p
        .minutes()
        .map_err(|e| ApiError::invalid_field("invalid_policy", &e.path, e.message))?;
    admin::put_policy(&st.pool, tenant.id, window).await?;
    Ok(Json(admin::get_policy(&st.pool, tenant.id).await?))
}

#[utoipa::path(get, path = "/v1/notification-notices", tag = "notification settings", security(("bearer" = [])),
    responses((status = 200, body = Vec<Notice>)))]
pub async fn list_notices(
    State(st): State<AppState>,
    tenant: Tenant,
) -> Result<Json<Vec<Notice>>, ApiError> {
    tenant.require(Scope::JobsRead)?;
    Ok(Json(admin::list_notices(&st.pool, tenant.id).await?))
}

//! `/v1/keys`: a tenant's API keys, for an `admin` credential. List them
//! (never the secret), create one (shown once; optional `expires_at`), revoke
//! one. Rotation without downtime: create the new key, move the clients over
//! while both work, then revoke the old one. A revocation bumps the Redis auth
//! epoch, so every api-lite replica refuses the key within a second.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};
use uuid::Uuid;

use jobs::store::api_keys::{self, ApiKey};

use crate::auth::{Scope, Tenant};
use crate::error::ApiError;
use crate::extract::AppJson;
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(paths(list, create, revoke), tags((name = "keys")))]
pub struct KeysApi;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/keys", get(list).post(create))
        .route("/v1/keys/{id}", delete(revoke))
}

/// A key as the API shows it: never the key itself nor its hash.
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyInfo {
    pub id: Uuid,
    pub name: String,
    /// The lookup prefix: the key reads `tfk_<prefix>_…`.
    pub prefix: String,
    pub scopes: Vec<String>,
    pub created_at: DateTime<Utc>,
    /// Updated at most once a minute.
    pub last_used_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<ApiKey> for KeyInfo {
    fn from(k: ApiKey) -> KeyInfo {
        KeyInfo {
            id: k.id,
            name: k.name,
            prefix: k.prefix,
            scopes: k.scopes,
            created_at: k.created_at,
            last_used_at: k.last_used_at,
            expires_at: k.expires_at,
            revoked_at: k.revoked_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct KeyList {
    pub keys: Vec<KeyInfo>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewKey {
    /// Free text, e.g. "backend 2026-12".
    #[serde(default)]
    pub name: String,
    /// Default `["jobs:write", "jobs:read"]`; any of jobs:write, jobs:read, admin.
    pub scopes: Option<Vec<String>>,
    /// Refused from then on (RFC 3339, in the future); absent = never expires.
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedKey {
    /// The key: shown this once, stored only as a hash.
    pub api_key: String,
    #[serde(flatten)]
    pub info: KeyInfo,
}

/// The tenant's API keys, oldest first (admin).
#[utoipa::path(get, path = "/v1/keys", tag = "keys", security(("bearer" = [])),
    responses((status = 200, body = KeyList), (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)))]
pub async fn list(State(st): State<AppState>, tenant: Tenant) -> Result<Json<KeyList>, ApiError> {
    tenant.require(Scope::Admin)?;
    let keys = api_keys::list(&st.pool, tenant.id).await?;
    Ok(Json(KeyList {
        keys: keys.into_iter().map(KeyInfo::from).collect(),
    }))
}

/// A new API key for the caller's tenant (admin); the key is in the answer only.
#[utoipa::path(post, path = "/v1/keys", tag = "keys", security(("bearer" = [])), request_body = NewKey,
    responses((status = 201, body = CreatedKey), (status = 400, body = crate::error::ErrorBody),
        (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody),
        (status = 422, description = "unknown scope, empty scopes, expiry in the past, name over 200 characters", body = crate::error::ErrorBody)))]
pub async fn create(
    State(st): State<AppState>,
    tenant: Tenant,
    AppJson(req): AppJson<NewKey>,
) -> Result<(StatusCode, Json<CreatedKey>), ApiError> {
    tenant.require(Scope::Admin)?;
    let scopes = req
        .scopes
        .unwrap_or_else(|| vec!["jobs:write".into(), "jobs:read".into()]);
    if scopes.is_empty() {
        return Err(ApiError::invalid_field(
            "invalid_scopes",
            "scopes",
            "a key needs at least one scope",
        ));
    }
    if let Some(bad) = scopes.iter().find(|s| Scope::parse(s).is_none()) {
        return Err(ApiError::invalid_field(
            "invalid_scopes",
            "scopes",
            format!("unknown scope {bad:?} (jobs:write, jobs:read, admin)"),
        ));
    }
    if req.name.chars().count() > 200 {
        return Err(ApiError::invalid_field(
            "invalid_name",
            "name",
            "at most 200 characters",
        ));
    }
    if req.expires_at.is_some_and(|t| t <= Utc::now()) {
        return Err(ApiError::invalid_field(
            "invalid_expires_at",
            "expires_at",
            "must be in the future",
        ));
    }
    let mut conn = st.pool.acquire().await?;
    let (row, key) =
        crate::cli::create_key_expiring(&mut conn, tenant.id, &scopes, &req.name, req.expires_at)
            .await
            .map_err(|e| match e {
                crate::cli::CliError::Db(e) => ApiError::from(e),
                e => ApiError::internal(e),
            })?;
    drop(conn);
    crate::audit::record_api(
        &st.pool,
        &tenant,
        "key_created",
        &row.id.to_string(),
        serde_json::json!({ "scopes": row.scopes }),
    )
    .await;
    Ok((
        StatusCode::CREATED,
        Json(CreatedKey {
            api_key: key,
            info: row.into(),
        }),
    ))
}

/// Revokes one of the tenant's keys (admin); every replica refuses it within a second.
/// Revoking an already revoked key answers the same row.
#[utoipa::path(delete, path = "/v1/keys/{id}", tag = "keys", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = KeyInfo), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 404, description = "no such key for this tenant", body = crate::error::ErrorBody)))]
pub async fn revoke(
    State(st): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> Result<Json<KeyInfo>, ApiError> {
    tenant.require(Scope::Admin)?;
    let not_found = || ApiError::not_found("key_not_found", format!("no API key {id}"));
    let uuid = Uuid::parse_str(&id).map_err(|_| not_found())?;
    let row = api_keys::revoke_for_tenant(&st.pool, tenant.id, uuid)
        .await?
        .ok_or_else(not_found)?;
    announce_revocation(&st).await?;
    crate::audit::record_api(&st.pool, &tenant, "key_revoked", &id, serde_json::json!({})).await;
    Ok(Json(row.into()))
}

/// Drops this replica's key cache and bumps the Redis epoch the others poll.
pub async fn announce_revocation(st: &AppState) -> Result<(), ApiError> {
    st.key_cache.clear();
    st.engine.bump_auth_epoch().await?;
    Ok(())
}

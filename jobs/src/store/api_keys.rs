//! API key rows: the key's lookup prefix, the SHA-256 of the whole key, its
//! scopes, and its life (last used, expiry, revoked). Generating and hashing keys is
//! the intake's job (`api-lite/src/keys.rs`); this file only stores them.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

/// Scopes a key may carry (the `api_keys.scopes` check constraint lists the same).
pub const SCOPES: [&str; 3] = ["jobs:write", "jobs:read", "admin"];

/// A row of `api_keys`.
#[derive(Clone, Debug, PartialEq, sqlx::FromRow, serde::Serialize)]
pub struct ApiKey {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub prefix: String,
    #[serde(skip)]
    pub key_hash: String,
    pub scopes: Vec<String>,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// Refused from then on; `None` = never expires.
    pub expires_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str =
    "id, tenant_id, prefix, key_hash, scopes, name, created_at, last_used_at, revoked_at, expires_at";

pub async fn create(
    ex: impl PgExecutor<'_>,
    tenant_id: Uuid,
    prefix: &str,
    key_hash: &str,
    scopes: &[String],
    name: &str,
    expires_at: Option<DateTime<Utc>>,
) -> Result<ApiKey, sqlx::Error> {
    sqlx::query_as(&format!(
        "insert into api_keys (id, tenant_id, prefix, key_hash, scopes, name, expires_at) \
         values ($1, $2, $3, $4, $5, $6, $7) returning {COLUMNS}"
    ))
    .bind(Uuid::now_v7())
    .bind(tenant_id)
    .bind(prefix)
    .bind(key_hash)
    .bind(scopes)
    .bind(name)
    .bind(expires_at)
    .fetch_one(ex)
    .await
}

/// The key with this prefix, revoked or not (the caller tells them apart).
pub async fn by_prefix(
    ex: impl PgExecutor<'_>,
    prefix: &str,
) -> Result<Option<ApiKey>, sqlx::Error> {
    sqlx::query_as(&format!("select {COLUMNS} from api_keys where prefix = $1"))
        .bind(prefix)
        .fetch_optional(ex)
        .await
}

pub async fn list(ex: impl PgExecutor<'_>, tenant_id: Uuid) -> Result<Vec<ApiKey>, sqlx::Error> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from api_keys where tenant_id = $1 order by created_at"
    ))
    .bind(tenant_id)
    .fetch_all(ex)
    .await
}

/// Marks a key used; writes at most once a minute per key so busy keys stay cheap.
pub async fn touch(ex: impl PgExecutor<'_>, id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update api_keys set last_used_at = now() \
         where id = $1 and (last_used_at is null or last_used_at < now() - interval '1 minute')",
    )
    .bind(id)
    .execute(ex)
    .await?;
    Ok(())
}

/// Revokes a key; `false` if there is no such key or it was already revoked.
pub async fn revoke(ex: impl PgExecutor<'_>, id: Uuid) -> Result<bool, sqlx::Error> {
    let r =
        sqlx::query("update api_keys set revoked_at = now() where id = $1 and revoked_at is null")
            .bind(id)
            .execute(ex)
            .await?;
    Ok(r.rows_affected() == 1)
}

/// Revokes `tenant_id`'s key `id`; `None` when the tenant has no such key,
/// else the row (already revoked ones keep their first `revoked_at`).
pub async fn revoke_for_tenant(
    ex: impl PgExecutor<'_>,
    tenant_id: Uuid,
    id: Uuid,
) -> Result<Option<ApiKey>, sqlx::Error> {
    sqlx::query_as(&format!(
        "update api_keys set revoked_at = coalesce(revoked_at, now()) \
         where id = $1 and tenant_id = $2 returning {COLUMNS}"
    ))
    .bind(id)
    .bind(tenant_id)
    .fetch_optional(ex)
    .await
}

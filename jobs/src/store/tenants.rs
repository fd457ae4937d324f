//! Tenant rows: create, look up (by id or slug), list, and the per-tenant JWT
//! settings. Timezones are IANA names checked here, in Rust, with chrono-tz.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

/// Every tenant gets this zone unless told otherwise.
pub const DEFAULT_TIMEZONE: &str = "America/Sao_Paulo";

/// A row of `tenants`.
#[derive(Clone, Debug, PartialEq, sqlx::FromRow, serde::Serialize)]
pub struct Tenant {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
    pub timezone: String,
    pub plan: String,
    pub quotas: serde_json::Value,
    pub jwt_rs256_public_key: Option<String>,
    /// Name of the env var holding the HS256 secret, never the secret.
    pub jwt_hs256_secret_env: Option<String>,
    pub jwt_tenant_claim: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// What `create` needs; `timezone` must already have passed [`parse_timezone`].
#[derive(Clone, Debug)]
pub struct NewTenant {
    pub name: String,
    pub slug: String,
    pub timezone: String,
    pub plan: String,
}

/// Checks an IANA zone name (`America/Sao_Paulo`, `Europe/Lisbon`).
pub fn parse_timezone(name: &str) -> Result<chrono_tz::Tz, String> {
    name.parse::<chrono_tz::Tz>()
        .map_err(|_| format!("{name:?} is not an IANA timezone (e.g. America/Sao_Paulo)"))
}

/// `"Escola Estadual São João"` → `"escola-estadual-sao-joao"`: the pt-BR
/// slug ([`ptbr::slug`]), which fits 0001's check on `tenants.slug`.
pub fn slugify(name: &str) -> String {
    ptbr::slug(name)
}

const COLUMNS: &str = "id, name, slug, timezone, plan, quotas, jwt_rs256_public_key, \
                       jwt_hs256_secret_env, jwt_tenant_claim, created_at";

pub async fn create(ex: impl PgExecutor<'_>, t: &NewTenant) -> Result<Tenant, sqlx::Error> {
    sqlx::query_as(&format!(
        "insert into tenants (id, name, slug, timezone, plan) values ($1, $2, $3, $4, $5) returning {COLUMNS}"
    ))
    .bind(Uuid::now_v7())
    .bind(&t.name)
    .bind(&t.slug)
    .bind(&t.timezone)
    .bind(&t.plan)
    .fetch_one(ex)
    .await
}

pub async fn get(ex: impl PgExecutor<'_>, id: Uuid) -> Result<Option<Tenant>, sqlx::Error> {
    sqlx::query_as(&format!("select {COLUMNS} from tenants where id = $1"))
        .bind(id)
        .fetch_optional(ex)
        .await
}

pub async fn by_slug(ex: impl PgExecutor<'_>, slug: &str) -> Result<Option<Tenant>, sqlx::Error> {
    sqlx::query_as(&format!("select {COLUMNS} from tenants where slug = $1"))
        .bind(slug)
        .fetch_optional(ex)
        .await
}

pub async fn list(ex: impl PgExecutor<'_>) -> Result<Vec<Tenant>, sqlx::Error> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from tenants order by created_at"
    ))
    .fetch_all(ex)
    .await
}

/// Claim names tenants configured for their JWTs (besides the global one).
pub async fn jwt_claim_names(ex: impl PgExecutor<'_>) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "select distinct jwt_tenant_claim from tenants where jwt_tenant_claim is not null",
    )
    .fetch_all(ex)
    .await
}

/// Per-tenant JWT settings; `None` clears a field (the global setting applies).
pub async fn set_jwt(
    ex: impl PgExecutor<'_>,
    id: Uuid,
    rs256_public_key: Option<&str>,
    hs256_secret_env: Option<&str>,
    tenant_claim: Option<&str>,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "update tenants set jwt_rs256_public_key = $2, jwt_hs256_secret_env = $3, jwt_tenant_claim = $4 \
         where id = $1",
    )
    .bind(id)
    .bind(rs256_public_key)
    .bind(hs256_secret_env)
    .bind(tenant_claim)
    .execute(ex)
    .await?;
    Ok(r.rows_affected() == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slug_drops_accents_and_punctuation() {
        assert_eq!(
            slugify("Escola Estadual São João"),
            "escola-estadual-sao-joao"
        );
        assert_eq!(slugify("  Ação & Cia.  "), "acao-cia");
    }

    #[test]
    fn timezone_must_be_iana() {
        assert!(parse_timezone("America/Sao_Paulo").is_ok());
        assert!(parse_timezone("Brasil/Paulo").is_err());
    }
}

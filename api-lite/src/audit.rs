//! The audit trail: every ops action (retry, delete, cancel, pause, resume,
//! bulk actions, key created or revoked, console login) as one `audit_log`
//! row with who, when, what. Recording never fails the action it describes:
//! a failed insert is logged and the action's answer stands.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::PgExecutor;
use utoipa::ToSchema;
use uuid::Uuid;

/// One row of `audit_log`.
#[derive(Clone, Debug, Serialize, sqlx::FromRow, ToSchema)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    /// `ops:<email>`, `tenant:<id>` (an API credential) or `cli`.
    pub actor: String,
    pub tenant_id: Option<Uuid>,
    /// `retry`, `delete`, `cancel`, `pause`, `resume`, `bulk_retry`, `key_created`, `login`, ...
    pub action: String,
    pub target: String,
    pub details: Value,
}

/// What to write; `tenant_id` is the acting credential's tenant (API) or the touched job's.
#[derive(Clone, Debug)]
pub struct NewEntry<'a> {
    pub actor: &'a str,
    pub tenant_id: Option<Uuid>,
    pub action: &'a str,
    pub target: &'a str,
    pub details: Value,
}

pub async fn insert(ex: impl PgExecutor<'_>, e: &NewEntry<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into audit_log (actor, tenant_id, action, target, details) values ($1, $2, $3, $4, $5)",
    )
    .bind(e.actor)
    .bind(e.tenant_id)
    .bind(e.action)
    .bind(e.target)
    .bind(&e.details)
    .execute(ex)
    .await
    .map(|_| ())
}

/// Inserts `e`; a failure is logged, not returned (see the module doc).
pub async fn record(pool: &sqlx::PgPool, e: NewEntry<'_>) {
    if let Err(err) = insert(pool, &e).await {
        tracing::error!(error = %err, action = e.action, target = e.target, "could not write the audit trail");
    }
}

/// A tenant credential acted through the JSON API.
pub async fn record_api(
    pool: &sqlx::PgPool,
    tenant: &crate::auth::Tenant,
    action: &str,
    target: &str,
    details: Value,
) {
    let actor = format!("tenant:{}", tenant.id);
    record(
        pool,
        NewEntry {
            actor: &actor,
            tenant_id: Some(tenant.id),
            action,
            target,
            details,
        },
    )
    .await
}

/// Newest first, `before` an id (for paging), optionally one tenant's only.
pub async fn list(
    ex: impl PgExecutor<'_>,
    tenant_id: Option<Uuid>,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<AuditEntry>, sqlx::Error> {
    sqlx::query_as(
        "select id, at, actor, tenant_id, action, target, details from audit_log \
         where ($1::uuid is null or tenant_id = $1) and ($2::bigint is null or id < $2) \
         order by id desc limit $3",
    )
    .bind(tenant_id)
    .bind(before)
    .bind(limit)
    .fetch_all(ex)
    .await
}

//! SQL of `tenant_data_keys` (migrations/0023): wrapped data keys per tenant.

use sqlx::PgExecutor;
use uuid::Uuid;

/// One wrapped data key.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct WrappedKey {
    pub tenant_id: Uuid,
    pub key_id: i32,
    pub master_key_id: String,
    pub wrapped: Vec<u8>,
}

/// The tenant's newest data key (the one that seals).
pub async fn current(
    db: impl PgExecutor<'_>,
    tenant: Uuid,
) -> Result<Option<WrappedKey>, sqlx::Error> {
    sqlx::query_as(
        "select tenant_id, key_id, master_key_id, wrapped from tenant_data_keys \
         where tenant_id = $1 order by key_id desc limit 1",
    )
    .bind(tenant)
    .fetch_optional(db)
    .await
}

/// Data key `key_id` of the tenant.
pub async fn get(
    db: impl PgExecutor<'_>,
    tenant: Uuid,
    key_id: i32,
) -> Result<Option<WrappedKey>, sqlx::Error> {
    sqlx::query_as(
        "select tenant_id, key_id, master_key_id, wrapped from tenant_data_keys \
         where tenant_id = $1 and key_id = $2",
    )
    .bind(tenant)
    .bind(key_id)
    .fetch_optional(db)
    .await
}

/// Stores a new data key unless one with that id exists (two processes may
/// create a tenant's first key at once: the first insert wins, both then read it).
pub async fn insert(db: impl PgExecutor<'_>, k: &WrappedKey) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into tenant_data_keys (tenant_id, key_id, master_key_id, wrapped) \
         values ($1, $2, $3, $4) on conflict do nothing",
    )
    .bind(k.tenant_id)
    .bind(k.key_id)
    .bind(&k.master_key_id)
    .bind(&k.wrapped)
    .execute(db)
    .await?;
    Ok(())
}

/// Every data key not wrapped by `master_key_id`.
pub async fn not_under(
    db: impl PgExecutor<'_>,
    master_key_id: &str,
) -> Result<Vec<WrappedKey>, sqlx::Error> {
    sqlx::query_as(
        "select tenant_id, key_id, master_key_id, wrapped from tenant_data_keys \
         where master_key_id <> $1 order by tenant_id, key_id",
    )
    .bind(master_key_id)
    .fetch_all(db)
    .await
}

/// How many data keys `master_key_id` wraps.
pub async fn count_under(db: impl PgExecutor<'_>, master_key_id: &str) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("select count(*) from tenant_data_keys where master_key_id = $1")
        .bind(master_key_id)
        .fetch_one(db)
        .await
}

/// Replaces a key's wrapping if it is still `from` (so two rotations cannot
/// interleave); false when someone else re-wrapped it first.
pub async fn rewrap(
    db: impl PgExecutor<'_>,
    k: &WrappedKey,
    from: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "update tenant_data_keys set master_key_id = $3, wrapped = $4, rewrapped_at = now() \
         where tenant_id = $1 and key_id = $2 and master_key_id = $5",
    )
    .bind(k.tenant_id)
    .bind(k.key_id)
    .bind(&k.master_key_id)
    .bind(&k.wrapped)
    .bind(from)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

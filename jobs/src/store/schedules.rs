//! The `schedules` table: per-tenant cron schedules (CRUD for `/v1/schedules`)
//! and system schedules mirrored from `config/schedules.toml` (`tenant_id` null).
//!
//! `next_run_at` is the scheduler's cursor: every tick before it has been
//! handled (enqueued or dropped by `catch_up`). Creating or editing a schedule
//! clears it; the scheduler then counts ticks from `updated_at`, so ticks
//! during which a schedule was disabled or had another expression never fire.
//! Scheduler replicas take due rows with `for update skip locked` ([`claim_due`]),
//! so one replica handles a given row at a time.

pub mod spec;

pub use spec::{parse_cron, CatchUp, ScheduleSpec};

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

/// Unique (tenant_id, name): a second schedule with the same name is a 409.
pub const UNIQUE_NAME: &str = "schedules_tenant_id_name_key";

/// The tenant string system (file) schedules enqueue their jobs under.
pub const SYSTEM_TENANT: &str = "system";

/// A row of `schedules`.
#[derive(Clone, Debug, PartialEq, sqlx::FromRow, serde::Serialize)]
pub struct Schedule {
    pub id: Uuid,
    /// `None` for system schedules from `config/schedules.toml`.
    pub tenant_id: Option<Uuid>,
    pub name: String,
    pub cron: String,
    pub timezone: String,
    pub kind: String,
    pub payload: serde_json::Value,
    pub enabled: bool,
    #[sqlx(try_from = "String")]
    pub catch_up: CatchUp,
    /// The latest tick enqueued.
    pub last_fired_at: Option<DateTime<Utc>>,
    /// The first tick not handled yet; `None` until the scheduler has seen the row.
    pub next_run_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Schedule {
    /// The tenant its jobs are enqueued under (the engine's tenant string).
    pub fn job_tenant(&self) -> String {
        self.tenant_id
            .map_or_else(|| SYSTEM_TENANT.to_string(), |t| t.to_string())
    }
}

const COLUMNS: &str = "id, tenant_id, name, cron, timezone, kind, payload, enabled, catch_up, \
                       last_fired_at, next_run_at, created_at, updated_at";

/// Inserts a tenant's schedule; `spec` must have passed `validate`, `timezone` is the resolved zone.
pub async fn create(
    ex: impl PgExecutor<'_>,
    tenant_id: Uuid,
    spec: &ScheduleSpec,
    timezone: &str,
    now: DateTime<Utc>,
) -> Result<Schedule, sqlx::Error> {
    let sql = format!(
        "insert into schedules (id, tenant_id, name, cron, timezone, kind, payload, enabled, catch_up, created_at, updated_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)
         returning {COLUMNS}"
    );
    sqlx::query_as(&sql)
        .bind(Uuid::now_v7())
        .bind(tenant_id)
        .bind(&spec.name)
        .bind(spec.cron.trim())
        .bind(timezone)
        .bind(&spec.kind)
        .bind(&spec.payload)
        .bind(spec.enabled)
        .bind(spec.catch_up.as_str())
        .bind(now)
        .fetch_one(ex)
        .await
}

/// One of the tenant's schedules; another tenant's id is `None`.
pub async fn get(
    ex: impl PgExecutor<'_>,
    tenant_id: Uuid,
    id: Uuid,
) -> Result<Option<Schedule>, sqlx::Error> {
    let sql = format!("select {COLUMNS} from schedules where tenant_id = $1 and id = $2");
    sqlx::query_as(&sql)
        .bind(tenant_id)
        .bind(id)
        .fetch_optional(ex)
        .await
}

/// The tenant's schedules, by name.
pub async fn list(ex: impl PgExecutor<'_>, tenant_id: Uuid) -> Result<Vec<Schedule>, sqlx::Error> {
    let sql = format!("select {COLUMNS} from schedules where tenant_id = $1 order by name, id");
    sqlx::query_as(&sql).bind(tenant_id).fetch_all(ex).await
}

/// Replaces a schedule's definition and clears its cursor (see the module doc).
pub async fn update(
    ex: impl PgExecutor<'_>,
    tenant_id: Uuid,
    id: Uuid,
    spec: &ScheduleSpec,
    timezone: &str,
    now: DateTime<Utc>,
) -> Result<Option<Schedule>, sqlx::Error> {
    let sql = format!(
        "update schedules set name = $3, cron = $4, timezone = $5, kind = $6, payload = $7,
                enabled = $8, catch_up = $9, next_run_at = null, updated_at = $10
         where tenant_id = $1 and id = $2
         returning {COLUMNS}"
    );
    sqlx::query_as(&sql)
        .bind(tenant_id)
        .bind(id)
        .bind(&spec.name)
        .bind(spec.cron.trim())
        .bind(timezone)
        .bind(&spec.kind)
        .bind(&spec.payload)
        .bind(spec.enabled)
        .bind(spec.catch_up.as_str())
        .bind(now)
        .fetch_optional(ex)
        .await
}

/// Deletes one of the tenant's schedules; `false` when there was none.
pub async fn delete(
    ex: impl PgExecutor<'_>,
    tenant_id: Uuid,
    id: Uuid,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("delete from schedules where tenant_id = $1 and id = $2")
        .bind(tenant_id)
        .bind(id)
        .execute(ex)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Every enabled schedule, system and tenant ones.
pub async fn list_enabled(ex: impl PgExecutor<'_>) -> Result<Vec<Schedule>, sqlx::Error> {
    let sql = format!("select {COLUMNS} from schedules where enabled order by id");
    sqlx::query_as(&sql).fetch_all(ex).await
}

/// Locks up to `limit` enabled schedules that are due at `now` (or not seen
/// yet), skipping rows another scheduler replica holds. Call inside a transaction.
pub async fn claim_due(
    ex: impl PgExecutor<'_>,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<Schedule>, sqlx::Error> {
    let sql = format!(
        "select {COLUMNS} from schedules
         where enabled and (next_run_at is null or next_run_at <= $1)
         order by next_run_at nulls first, id
         limit $2
         for update skip locked"
    );
    sqlx::query_as(&sql)
        .bind(now)
        .bind(limit)
        .fetch_all(ex)
        .await
}

/// Moves a schedule's cursor after a tick; `fired` is the latest tick enqueued, if any.
pub async fn record_tick(
    ex: impl PgExecutor<'_>,
    id: Uuid,
    next_run_at: Option<DateTime<Utc>>,
    fired: Option<DateTime<Utc>>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update schedules set next_run_at = $2, last_fired_at = greatest(last_fired_at, $3)
         where id = $1",
    )
    .bind(id)
    .bind(next_run_at)
    .bind(fired)
    .execute(ex)
    .await?;
    Ok(())
}

/// Inserts or updates the system schedule named `spec.name`. Its cursor is
/// kept when cron, timezone and enabled are unchanged, so a restart neither
/// repeats nor loses ticks; otherwise it is cleared like an API edit.
pub async fn upsert_system(
    ex: impl PgExecutor<'_>,
    spec: &ScheduleSpec,
    timezone: &str,
    now: DateTime<Utc>,
) -> Result<Schedule, sqlx::Error> {
    let sql = format!(
        "insert into schedules (id, tenant_id, name, cron, timezone, kind, payload, enabled, catch_up, created_at, updated_at)
         values ($1, null, $2, $3, $4, $5, $6, $7, $8, $9, $9)
         on conflict (name) where tenant_id is null do update set
             cron = excluded.cron, timezone = excluded.timezone, kind = excluded.kind,
             payload = excluded.payload, enabled = excluded.enabled, catch_up = excluded.catch_up,
             next_run_at = case when (schedules.cron, schedules.timezone, schedules.enabled)
                                     = (excluded.cron, excluded.timezone, excluded.enabled)
                                then schedules.next_run_at end,
             updated_at = case when (schedules.cron, schedules.timezone, schedules.kind,
                                     schedules.payload, schedules.enabled, schedules.catch_up)
                                     = (excluded.cron, excluded.timezone, excluded.kind,
                                        excluded.payload, excluded.enabled, excluded.catch_up)
                              then schedules.updated_at else excluded.updated_at end
         returning {COLUMNS}"
    );
    sqlx::query_as(&sql)
        .bind(Uuid::now_v7())
        .bind(&spec.name)
        .bind(spec.cron.trim())
        .bind(timezone)
        .bind(&spec.kind)
        .bind(&spec.payload)
        .bind(spec.enabled)
        .bind(spec.catch_up.as_str())
        .bind(now)
        .fetch_one(ex)
        .await
}

/// Deletes the system schedules whose names are not in `keep` (removed from the file).
pub async fn delete_system_except(
    ex: impl PgExecutor<'_>,
    keep: &[String],
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("delete from schedules where tenant_id is null and name <> all($1)")
        .bind(keep)
        .execute(ex)
        .await?;
    Ok(done.rows_affected())
}

//! Migration 0014's `reports` rows: insert (or reuse an identical recent
//! request), read, list, delete, and the render job's forward-only moves
//! queued → running → done | failed | cancelled.

use sqlx::{PgExecutor, PgPool};
use uuid::Uuid;

use super::model::{Report, ValidRequest};

const COLUMNS: &str = "id, tenant_id, report_type, format, params, status, progress_done, \
     progress_total, pages, size_bytes, blob_key, file_name, error, job_id, deliver_to, \
     delivered_at, created_at, started_at, finished_at";

/// Inserts the report, unless the tenant asked for the same one (same hash)
/// less than `window_secs` ago and it has not failed or been cancelled: then
/// that one is returned (`false`). One transaction-scoped advisory lock per
/// tenant and hash makes two concurrent identical requests one report.
pub async fn insert_or_reuse(
    pg: &PgPool,
    tenant: Uuid,
    req: &ValidRequest,
    window_secs: i64,
    deliver_to: &[String],
) -> Result<(Report, bool), sqlx::Error> {
    let hash = req.hash();
    let mut tx = pg.begin().await?;
    sqlx::query("select pg_advisory_xact_lock(hashtextextended($1, 14))")
        .bind(format!("{tenant}:{hash}"))
        .execute(&mut *tx)
        .await?;
    let found: Option<Report> = sqlx::query_as(&format!(
        "select {COLUMNS} from reports
          where tenant_id = $1 and params_hash = $2 and deliver_to = $4
            and status in ('queued', 'running', 'done')
            and created_at > now() - make_interval(secs => $3)
          order by created_at desc limit 1"
    ))
    .bind(tenant)
    .bind(&hash)
    .bind(window_secs as f64)
    .bind(deliver_to)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(r) = found {
        tx.commit().await?;
        return Ok((r, false));
    }
    let params = serde_json::to_value(&req.params).expect("params serialise");
    let r: Report = sqlx::query_as(&format!(
        "insert into reports (id, tenant_id, report_type, format, params, params_hash, deliver_to)
         values ($1, $2, $3, $4, $5, $6, $7) returning {COLUMNS}"
    ))
    .bind(Uuid::now_v7())
    .bind(tenant)
    .bind(req.report_type.as_str())
    .bind(req.format.as_str())
    .bind(params)
    .bind(&hash)
    .bind(deliver_to)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok((r, true))
}

pub async fn set_job(pg: impl PgExecutor<'_>, id: Uuid, job_id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("update reports set job_id = $2 where id = $1 and job_id is null")
        .bind(id)
        .bind(job_id)
        .execute(pg)
        .await?;
    Ok(())
}

/// One report of a tenant (another tenant's is `None`).
pub async fn get(
    pg: impl PgExecutor<'_>,
    tenant: Uuid,
    id: Uuid,
) -> Result<Option<Report>, sqlx::Error> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from reports where tenant_id = $1 and id = $2"
    ))
    .bind(tenant)
    .bind(id)
    .fetch_optional(pg)
    .await
}

/// Newest first; `before` is the id of the last report of the previous page.
pub async fn list(
    pg: impl PgExecutor<'_>,
    tenant: Uuid,
    status: Option<&str>,
    before: Option<Uuid>,
    limit: i64,
) -> Result<Vec<Report>, sqlx::Error> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from reports
          where tenant_id = $1 and ($2::text is null or status = $2)
            and ($3::uuid is null or id < $3)
          order by id desc limit $4"
    ))
    .bind(tenant)
    .bind(status)
    .bind(before)
    .bind(limit)
    .fetch_all(pg)
    .await
}

/// Deletes the row; returns it (for cancelling its job), `None` if absent.
pub async fn delete(
    pg: impl PgExecutor<'_>,
    tenant: Uuid,
    id: Uuid,
) -> Result<Option<Report>, sqlx::Error> {
    sqlx::query_as(&format!(
        "delete from reports where tenant_id = $1 and id = $2 returning {COLUMNS}"
    ))
    .bind(tenant)
    .bind(id)
    .fetch_optional(pg)
    .await
}

/// queued|running → running (a retry re-runs). `None`: deleted, finished or cancelled.
pub async fn start(pg: impl PgExecutor<'_>, id: Uuid) -> Result<Option<Report>, sqlx::Error> {
    sqlx::query_as(&format!(
        "update reports set status = 'running', started_at = now(), progress_done = 0, error = null
          where id = $1 and status in ('queued', 'running') returning {COLUMNS}"
    ))
    .bind(id)
    .fetch_optional(pg)
    .await
}

pub async fn progress(
    pg: impl PgExecutor<'_>,
    id: Uuid,
    done: i32,
    total: i32,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update reports set progress_done = $2, progress_total = $3
          where id = $1 and status = 'running'",
    )
    .bind(id)
    .bind(done)
    .bind(total)
    .execute(pg)
    .await?;
    Ok(())
}

/// What a finished render produced.
#[derive(Debug, Clone)]
pub struct Finished {
    pub pages: Option<i32>,
    pub size_bytes: i64,
    pub blob_key: String,
    pub file_name: String,
}

/// running → done, with the stored file. `false` if it was no longer running.
pub async fn finish(pg: impl PgExecutor<'_>, id: Uuid, f: &Finished) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "update reports set status = 'done', pages = $2, size_bytes = $3, blob_key = $4,
                file_name = $5, progress_done = progress_total, finished_at = now()
          where id = $1 and status = 'running'",
    )
    .bind(id)
    .bind(f.pages)
    .bind(f.size_bytes)
    .bind(&f.blob_key)
    .bind(&f.file_name)
    .execute(pg)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// → failed (or cancelled), with the reason; never touches a done report.
/// Puts a running report back to `queued` (its worker gave the job up at a
/// shutdown or lost its lease; the released job renders it again).
pub async fn requeue(pg: impl PgExecutor<'_>, id: Uuid) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "update reports set status = 'queued', started_at = null, progress_done = 0
          where id = $1 and status = 'running'",
    )
    .bind(id)
    .execute(pg)
    .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn fail(
    pg: impl PgExecutor<'_>,
    id: Uuid,
    status: &str,
    error: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update reports set status = $2, error = $3, finished_at = now()
          where id = $1 and status in ('queued', 'running')",
    )
    .bind(id)
    .bind(status)
    .bind(error)
    .execute(pg)
    .await?;
    Ok(())
}

/// The tenant's display name (report headers).
pub async fn tenant_name(pg: impl PgExecutor<'_>, tenant: Uuid) -> Result<String, sqlx::Error> {
    let n: Option<(String,)> = sqlx::query_as("select name from tenants where id = $1")
        .bind(tenant)
        .fetch_optional(pg)
        .await?;
    Ok(n.map(|n| n.0).unwrap_or_default())
}

/// The tenant a report belongs to, whoever asks (signed links carry no key;
/// the signature is then checked against this tenant).
pub async fn tenant_of(pg: impl PgExecutor<'_>, id: Uuid) -> Result<Option<Uuid>, sqlx::Error> {
    let r: Option<(Uuid,)> = sqlx::query_as("select tenant_id from reports where id = $1")
        .bind(id)
        .fetch_optional(pg)
        .await?;
    Ok(r.map(|r| r.0))
}

pub async fn mark_delivered(pg: impl PgExecutor<'_>, id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("update reports set delivered_at = now() where id = $1")
        .bind(id)
        .execute(pg)
        .await?;
    Ok(())
}

/// Any tenant's report by id (the render job knows only the id).
pub async fn get_any(pg: impl PgExecutor<'_>, id: Uuid) -> Result<Option<Report>, sqlx::Error> {
    sqlx::query_as(&format!("select {COLUMNS} from reports where id = $1"))
        .bind(id)
        .fetch_optional(pg)
        .await
}

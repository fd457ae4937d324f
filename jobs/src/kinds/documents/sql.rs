//! The `documents` table's queries: create-or-find by `(tenant, sha256)`,
//! reads and the listing, the extraction's state moves and the review's. Every query is
//! scoped by tenant or guarded by the job id that owns the extraction, so a
//! superseded job (after `?reextract=true`) can never overwrite a newer one.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgExecutor;
use uuid::Uuid;

/// One row of `documents`.
#[derive(Clone, Debug, sqlx::FromRow, Serialize)]
pub struct Document {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub sha256: String,
    pub size_bytes: i64,
    pub filename: String,
    pub content_type: String,
    pub student_id: Option<Uuid>,
    pub doc_type: Option<String>,
    pub status: String,
    pub pages: Option<i32>,
    pub method: Option<String>,
    pub confidence: Option<f32>,
    pub result: Option<serde_json::Value>,
    pub records_student_id: Option<Uuid>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub job_id: Option<String>,
    pub attempts: i32,
    pub extracted_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The review's trail (migration 0019; see [`super::review`]).
    pub review: Option<serde_json::Value>,
    pub reviewed_by: Option<String>,
    pub reviewed_at: Option<DateTime<Utc>>,
}

const COLS: &str = "id, tenant_id, sha256, size_bytes, filename, content_type, student_id, doc_type, \
    status, pages, method, confidence, result, records_student_id, error_code, error_message, job_id, \
    attempts, extracted_at, created_at, updated_at, review, reviewed_by, reviewed_at";

/// A document about to be created.
#[derive(Clone, Debug)]
pub struct NewDocument {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub sha256: String,
    pub size_bytes: i64,
    pub filename: String,
    pub content_type: String,
    pub student_id: Option<Uuid>,
    pub doc_type: Option<String>,
    pub job_id: String,
}

/// Inserts `d`; when the tenant already has this file, returns that row and `false`.
pub async fn insert_or_get(
    ex: &mut sqlx::PgConnection,
    d: &NewDocument,
) -> Result<(Document, bool), sqlx::Error> {
    let inserted: Option<Document> = sqlx::query_as(&format!(
        "insert into documents (id, tenant_id, sha256, size_bytes, filename, content_type, student_id, doc_type, job_id) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         on conflict (tenant_id, sha256) do nothing returning {COLS}"
    ))
    .bind(d.id)
    .bind(d.tenant_id)
    .bind(&d.sha256)
    .bind(d.size_bytes)
    .bind(&d.filename)
    .bind(&d.content_type)
    .bind(d.student_id)
    .bind(&d.doc_type)
    .bind(&d.job_id)
    .fetch_optional(&mut *ex)
    .await?;
    if let Some(row) = inserted {
        return Ok((row, true));
    }
    let row = by_sha256(&mut *ex, d.tenant_id, &d.sha256)
        .await?
        .ok_or(sqlx::Error::RowNotFound)?;
    Ok((row, false))
}

pub async fn by_sha256(
    ex: impl PgExecutor<'_>,
    tenant: Uuid,
    sha256: &str,
) -> Result<Option<Document>, sqlx::Error> {
    sqlx::query_as(&format!(
        "select {COLS} from documents where tenant_id = $1 and sha256 = $2"
    ))
    .bind(tenant)
    .bind(sha256)
    .fetch_optional(ex)
    .await
}

pub async fn get(
    ex: impl PgExecutor<'_>,
    tenant: Uuid,
    id: Uuid,
) -> Result<Option<Document>, sqlx::Error> {
    sqlx::query_as(&format!(
        "select {COLS} from documents where tenant_id = $1 and id = $2"
    ))
    .bind(tenant)
    .bind(id)
    .fetch_optional(ex)
    .await
}

/// Removes a row whose job could not be queued (the upload answers 503).
pub async fn delete(ex: impl PgExecutor<'_>, tenant: Uuid, id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("delete from documents where tenant_id = $1 and id = $2")
        .bind(tenant)
        .bind(id)
        .execute(ex)
        .await
        .map(|_| ())
}

/// Filters of `GET /v1/documents`.
#[derive(Clone, Debug, Default)]
pub struct ListFilter {
    pub status: Option<String>,
    /// Only documents older than this one (the previous page's last id).
    pub before: Option<Uuid>,
    pub limit: i64,
}

/// The tenant's documents, newest first.
pub async fn list(
    ex: impl PgExecutor<'_>,
    tenant: Uuid,
    f: &ListFilter,
) -> Result<Vec<Document>, sqlx::Error> {
    sqlx::query_as(&format!(
        "select {COLS} from documents d where tenant_id = $1 \
         and ($2::text is null or status = $2) \
         and ($3::uuid is null or (created_at, id) < \
              (select created_at, id from documents where tenant_id = $1 and id = $3)) \
         order by created_at desc, id desc limit $4"
    ))
    .bind(tenant)
    .bind(&f.status)
    .bind(f.before)
    .bind(f.limit)
    .fetch_all(ex)
    .await
}

/// `?reextract=true`: a new job owns the document; the old result stays
/// readable until the new one replaces it. Hints given again replace the old ones.
pub async fn requeue(
    ex: impl PgExecutor<'_>,
    tenant: Uuid,
    id: Uuid,
    job_id: &str,
    student_id: Option<Uuid>,
    doc_type: Option<&str>,
) -> Result<Option<Document>, sqlx::Error> {
    sqlx::query_as(&format!(
        "update documents set status = 'queued', job_id = $3, error_code = null, error_message = null, \
         student_id = coalesce($4, student_id), doc_type = coalesce($5, doc_type), updated_at = now() \
         where tenant_id = $1 and id = $2 returning {COLS}"
    ))
    .bind(tenant)
    .bind(id)
    .bind(job_id)
    .bind(student_id)
    .bind(doc_type)
    .fetch_optional(ex)
    .await
}

/// The run of job `job_id` starts: `processing`, one more attempt. `None`
/// when the document is gone or another job owns it now, or when a person
/// reviewed it since (a re-delivered job must not undo an approval or a
/// rejection; `?reextract=true` puts it back to `queued` first).
pub async fn start(
    ex: impl PgExecutor<'_>,
    tenant: Uuid,
    id: Uuid,
    job_id: &str,
) -> Result<Option<Document>, sqlx::Error> {
    sqlx::query_as(&format!(
        "update documents set status = 'processing', attempts = attempts + 1, updated_at = now() \
         where tenant_id = $1 and id = $2 and job_id = $3 \
         and (reviewed_at is null or status in ('queued', 'processing')) returning {COLS}"
    ))
    .bind(tenant)
    .bind(id)
    .bind(job_id)
    .fetch_optional(ex)
    .await
}

/// The extraction of job `job_id` succeeded; `result` is the stored JSON.
#[allow(clippy::too_many_arguments)]
pub async fn succeed(
    ex: impl PgExecutor<'_>,
    id: Uuid,
    job_id: &str,
    result: &serde_json::Value,
    pages: i32,
    method: &str,
    confidence: f32,
    records_student_id: Option<Uuid>,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "update documents set status = 'succeeded', result = $3, pages = $4, method = $5, \
         confidence = $6, records_student_id = $7, error_code = null, error_message = null, \
         extracted_at = now(), updated_at = now() where id = $1 and job_id = $2",
    )
    .bind(id)
    .bind(job_id)
    .bind(result)
    .bind(pages)
    .bind(method)
    .bind(confidence)
    .bind(records_student_id)
    .execute(ex)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// The extraction of job `job_id` is held for review (issue 14): the draft
/// is kept as `result`, nothing was written to the records, `needs_review`.
pub async fn hold_for_review(
    ex: impl PgExecutor<'_>,
    id: Uuid,
    job_id: &str,
    result: &serde_json::Value,
    pages: i32,
    method: &str,
    confidence: f32,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "update documents set status = 'needs_review', result = $3, pages = $4, method = $5, \
         confidence = $6, records_student_id = null, error_code = null, error_message = null, \
         extracted_at = now(), updated_at = now() where id = $1 and job_id = $2",
    )
    .bind(id)
    .bind(job_id)
    .bind(result)
    .bind(pages)
    .bind(method)
    .bind(confidence)
    .execute(ex)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// The run of job `job_id` failed: `failed` for good (`last` = no retry
/// will come), else back to `queued` with the reason kept for the reader.
pub async fn fail(
    ex: impl PgExecutor<'_>,
    id: Uuid,
    job_id: &str,
    code: &str,
    message: &str,
    last: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update documents set status = case when $5 then 'failed' else 'queued' end, \
         error_code = $3, error_message = $4, updated_at = now() where id = $1 and job_id = $2",
    )
    .bind(id)
    .bind(job_id)
    .bind(code)
    .bind(message)
    .bind(last)
    .execute(ex)
    .await
    .map(|_| ())
}

/// The document, locked until the transaction ends: two reviews of one
/// document run one after the other, the second sees the first's status.
pub async fn lock(
    ex: &mut sqlx::PgConnection,
    tenant: Uuid,
    id: Uuid,
) -> Result<Option<Document>, sqlx::Error> {
    sqlx::query_as(&format!(
        "select {COLS} from documents where tenant_id = $1 and id = $2 for update"
    ))
    .bind(tenant)
    .bind(id)
    .fetch_optional(ex)
    .await
}

/// A held document was reviewed: `succeeded` with the approved `result` and
/// the records' student, or `rejected` (`result` unchanged, nothing
/// written). Only from `needs_review`; `false` when it was not.
pub async fn reviewed(
    ex: impl PgExecutor<'_>,
    id: Uuid,
    approved: Option<(&serde_json::Value, Option<Uuid>)>,
    review: &serde_json::Value,
    reviewed_by: &str,
) -> Result<bool, sqlx::Error> {
    let (result, student) = approved.map_or((None, None), |(r, s)| (Some(r), s));
    let r = sqlx::query(
        "update documents set status = case when $2 then 'succeeded' else 'rejected' end, \
         result = coalesce($3, result), records_student_id = $4, review = $5, reviewed_by = $6, \
         reviewed_at = now(), updated_at = now() where id = $1 and status = 'needs_review'",
    )
    .bind(id)
    .bind(approved.is_some())
    .bind(result)
    .bind(student)
    .bind(review)
    .bind(reviewed_by)
    .execute(ex)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Does `student` belong to `tenant`? (The upload's `student_id` hint.)
pub async fn student_exists(
    ex: impl PgExecutor<'_>,
    tenant: Uuid,
    student: Uuid,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("select exists (select 1 from students where tenant_id = $1 and id = $2)")
        .bind(tenant)
        .bind(student)
        .fetch_one(ex)
        .await
}

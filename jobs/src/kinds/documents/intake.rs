//! Taking a file in: store the blob, create (or find) the document row, queue
//! its `documents.extract` job. `POST /v1/documents` calls these after its own
//! checks (size, `documents::inspect`); tests call them directly.
//!
//! Order matters: the blob is written before the row (a row never points at a
//! missing file), and the job is pushed after the row (the job always finds
//! its document). A push that fails removes the row it just made, so a retried
//! upload starts clean instead of finding a document no job will ever extract.

use serde_json::json;
use uuid::Uuid;

use super::sql::{self, Document, NewDocument};
use super::{Extract, EXTRACT, QUEUE};
use crate::blobs::{self, BlobError, BlobStore};
use crate::engine::{new_job_id, Engine, EngineError, NewJob};
use crate::kinds::JobKind;

/// A file to take in.
#[derive(Clone, Debug)]
pub struct Upload {
    pub bytes: Vec<u8>,
    pub filename: String,
    pub content_type: String,
    /// Hint: the student it is about (must be the tenant's; checked by the caller).
    pub student_id: Option<Uuid>,
    /// Hint: `boletim` or `historico`.
    pub doc_type: Option<String>,
}

/// What the intake did.
#[derive(Clone, Debug)]
pub struct Submitted {
    pub document: Document,
    /// The job extracting (or that extracted) the document.
    pub job_id: String,
    /// false: the tenant already had this file.
    pub created: bool,
    /// true: a new extraction job was queued by this call.
    pub queued: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    #[error("postgres: {0}")]
    Db(#[from] sqlx::Error),
    #[error("queue: {0}")]
    Engine(#[from] EngineError),
    #[error("{0}")]
    Blob(#[from] BlobError),
}

fn job(tenant: Uuid, document: Uuid, job_id: &str) -> NewJob {
    let mut j = NewJob::new(
        QUEUE,
        EXTRACT,
        &tenant.to_string(),
        json!({ "document_id": document }),
    );
    j.id = Some(job_id.to_string());
    j.max_attempts = Extract::policy().max_attempts;
    j
}

/// Stores `upload` (whose SHA-256 is `sha256`) and queues its extraction; a
/// file the tenant already has returns that document, untouched.
pub async fn create(
    pool: &sqlx::PgPool,
    engine: &Engine,
    store: &BlobStore,
    tenant: Uuid,
    sha256: &str,
    upload: Upload,
) -> Result<Submitted, IntakeError> {
    let key = blobs::key(&tenant.to_string(), sha256)
        .ok_or_else(|| BlobError::Config(format!("bad blob key for {sha256:?}")))?;
    let size = upload.bytes.len() as i64;
    // Sealed under the tenant's data key when encryption at rest is on.
    store
        .put_sealed(engine.cipher(), &key, upload.bytes)
        .await?;
    let job_id = new_job_id();
    let new = NewDocument {
        id: Uuid::now_v7(),
        tenant_id: tenant,
        sha256: sha256.to_string(),
        size_bytes: size,
        filename: upload.filename.chars().take(255).collect(),
        content_type: upload.content_type,
        student_id: upload.student_id,
        doc_type: upload.doc_type,
        job_id: job_id.clone(),
    };
    let (document, created) = {
        let mut conn = pool.acquire().await?;
        sql::insert_or_get(&mut conn, &new).await?
    };
    if !created {
        let job_id = document.job_id.clone().unwrap_or_default();
        return Ok(Submitted {
            document,
            job_id,
            created: false,
            queued: false,
        });
    }
    if let Err(e) = engine.push(job(tenant, document.id, &job_id)).await {
        if let Err(d) = sql::delete(pool, tenant, document.id).await {
            tracing::error!(document_id = %document.id, error = %d, "could not remove a document whose job was not queued");
        }
        return Err(e.into());
    }
    Ok(Submitted {
        document,
        job_id,
        created: true,
        queued: true,
    })
}

/// `?reextract=true`: a new job extracts `doc` again (hints given again replace the old).
pub async fn reextract(
    pool: &sqlx::PgPool,
    engine: &Engine,
    doc: &Document,
    student_id: Option<Uuid>,
    doc_type: Option<&str>,
) -> Result<Submitted, IntakeError> {
    let job_id = new_job_id();
    let document = sql::requeue(pool, doc.tenant_id, doc.id, &job_id, student_id, doc_type)
        .await?
        .ok_or(sqlx::Error::RowNotFound)?;
    engine.push(job(doc.tenant_id, doc.id, &job_id)).await?;
    Ok(Submitted {
        document,
        job_id,
        created: false,
        queued: true,
    })
}

//! `/v1/documents`: upload a PDF (boletim, histórico escolar) to be read into
//! grades, then read the document with its extraction, or list them.
//!
//! An upload is content-addressed: the same bytes twice for one tenant are the
//! same document and queue nothing new unless `?reextract=true`. Limits, in
//! the order they are checked: `documents.max_upload_bytes` while the body
//! streams in (413), then `documents::inspect` — a PDF at all, not empty, not
//! a decompression bomb, at most `documents.max_pages` pages (422 naming the
//! reason). The blob, row and job are made by `jobs::kinds::documents::intake`.
//! Another tenant's id is the same 404 as a missing one.

use axum::extract::multipart::{Field, MultipartRejection};
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, OpenApi, ToSchema};
use uuid::Uuid;

use jobs::blobs::{sha256_hex, BlobStore};
use jobs::kinds::documents::intake::{self, IntakeError, Upload};
use jobs::kinds::documents::sql::{self, Document};

use crate::auth::{Scope, Tenant};
use crate::error::ApiError;
use crate::extract::AppQuery;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/documents", get(list).post(upload))
        .route("/v1/documents/{id}", get(show))
        // `api.body_limit` (JSON bodies) does not apply: uploads are bounded
        // by `documents.max_upload_bytes`, counted as the parts stream in.
        .layer(DefaultBodyLimit::disable())
}

/// This file's part of the OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    paths(upload, show, list),
    components(schemas(UploadForm, UploadAccepted, DocumentView, DocumentError, DocumentList,
        documents::Extraction, documents::Method, documents::DocType, documents::Student,
        documents::School, documents::SubjectResult, documents::TermGrade, documents::YearRecord,
        documents::Warning, documents::PageInfo)),
    tags((name = "documents", description = "PDF report cards and transcripts read into grades"))
)]
pub struct DocumentsApi;

/// The multipart form of `POST /v1/documents`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct UploadForm {
    /// The PDF.
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
    /// The student it is about (one of the tenant's students); else matched by matrícula.
    pub student_id: Option<Uuid>,
    /// `boletim` or `historico`; detected when absent.
    pub doc_type: Option<String>,
}

/// Answer to an upload.
#[derive(Debug, Serialize, ToSchema)]
pub struct UploadAccepted {
    pub document_id: Uuid,
    /// The job extracting it (for a known file without `reextract`: the last one).
    pub job_id: String,
    /// queued | processing | succeeded | failed | needs_review
    pub status: String,
    /// true: the tenant already had this file; nothing new was stored.
    pub deduplicated: bool,
    /// true: this call queued an extraction.
    pub queued: bool,
}

/// Why the last extraction failed.
#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentError {
    /// `not_pdf`, `empty`, `corrupt`, `encrypted`, `too_many_pages`,
    /// `decompression_bomb`, `needs_ocr`, `timeout`, `cpu_limit`, `crashed`, ...
    pub code: String,
    pub message: String,
}

/// A document and what its extraction found.
#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentView {
    pub document_id: Uuid,
    /// queued | processing | succeeded | failed | needs_review | rejected
    pub status: String,
    pub filename: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    /// The upload's hints.
    pub student_id: Option<Uuid>,
    pub doc_type: Option<String>,
    pub job_id: Option<String>,
    /// Extraction runs so far.
    pub attempts: i32,
    pub pages: Option<i32>,
    /// text | ocr | mixed
    pub method: Option<String>,
    pub confidence: Option<f32>,
    /// The student whose academic records were written from this document.
    pub records_student_id: Option<Uuid>,
    /// The extraction, with `document_id` (present once succeeded).
    #[schema(value_type = Option<documents::Extraction>)]
    pub result: Option<serde_json::Value>,
    /// Set when the last run failed (also while a retry is pending, with status `queued`).
    pub error: Option<DocumentError>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub extracted_at: Option<DateTime<Utc>>,
    /// After `POST /v1/documents/{id}/review`: action, by, at, note, the
    /// corrections, each field changed (`changes[]`: field, from, to), the
    /// reasons the draft was held for, and the draft as the reader left it.
    #[schema(value_type = Option<Object>)]
    pub review: Option<serde_json::Value>,
    /// `tenant:<id>` (API) or `ops:<email>` (console).
    pub reviewed_by: Option<String>,
    pub reviewed_at: Option<DateTime<Utc>>,
}

impl From<Document> for DocumentView {
    fn from(d: Document) -> DocumentView {
        let error = match (d.error_code, d.error_message) {
            (Some(code), message) => Some(DocumentError {
                code,
                message: message.unwrap_or_default(),
            }),
            _ => None,
        };
        DocumentView {
            document_id: d.id,
            status: d.status,
            filename: d.filename,
            content_type: d.content_type,
            size_bytes: d.size_bytes,
            sha256: d.sha256,
            student_id: d.student_id,
            doc_type: d.doc_type,
            job_id: d.job_id,
            attempts: d.attempts,
            pages: d.pages,
            method: d.method,
            confidence: d.confidence,
            records_student_id: d.records_student_id,
            result: d.result,
            error,
            created_at: d.created_at,
            updated_at: d.updated_at,
            extracted_at: d.extracted_at,
            review: d.review,
            reviewed_by: d.reviewed_by,
            reviewed_at: d.reviewed_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentList {
    pub documents: Vec<DocumentView>,
    /// Pass as `before` for the next page; absent on the last page.
    pub next_before: Option<Uuid>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// Extract a known file again (a new job; the old result stays until replaced).
    pub reextract: Option<bool>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// queued | processing | succeeded | failed | needs_review | rejected
    pub status: Option<String>,
    /// A document id from the previous page (`next_before`): only older ones.
    pub before: Option<Uuid>,
    /// 1-200, default 50.
    pub limit: Option<i64>,
}

const STATUSES: [&str; 6] = [
    "queued",
    "processing",
    "succeeded",
    "failed",
    "needs_review",
    "rejected",
];
const DOC_TYPES: [&str; 2] = ["boletim", "historico"];

fn not_found(id: &str) -> ApiError {
    ApiError::not_found("document_not_found", format!("no document {id}"))
}

fn too_large(max: u64) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "file_too_large",
        format!("the upload is over the limit of {max} bytes"),
    )
    .with_details(json!({ "max_bytes": max }))
}

fn malformed(e: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request(
        "malformed_multipart",
        format!("unreadable multipart body: {e}"),
    )
}

/// The form's parts, read with one byte budget for the whole body.
#[derive(Default)]
struct Form {
    file: Option<(Vec<u8>, String, String)>,
    student_id: Option<String>,
    doc_type: Option<String>,
}

/// Reads one part, failing with 413 once the whole body passes `max`.
async fn read_part(field: &mut Field<'_>, used: &mut u64, max: u64) -> Result<Vec<u8>, ApiError> {
    let mut data = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(malformed)? {
        *used += chunk.len() as u64;
        if *used > max {
            return Err(too_large(max));
        }
        data.extend_from_slice(&chunk);
    }
    Ok(data)
}

async fn read_form(mut mp: Multipart, max_file: u64) -> Result<Form, ApiError> {
    // The file plus a little for the hints and part headers.
    let max = max_file + 16 * 1024;
    let mut used = 0u64;
    let mut form = Form::default();
    while let Some(mut field) = mp.next_field().await.map_err(malformed)? {
        let name = field.name().unwrap_or("").to_string();
        match name.as_str() {
            "file" => {
                let filename = field.file_name().unwrap_or("").to_string();
                let ctype = field
                    .content_type()
                    .unwrap_or("application/octet-stream")
                    .to_string();
                let before = used;
                let bytes = read_part(&mut field, &mut used, max).await?;
                if used - before > max_file {
                    return Err(too_large(max_file));
                }
                form.file = Some((bytes, filename, ctype));
            }
            "student_id" | "doc_type" => {
                let bytes = read_part(&mut field, &mut used, max).await?;
                let text = String::from_utf8(bytes)
                    .map_err(|_| ApiError::invalid_field("invalid_field", &name, "not UTF-8"))?;
                let text = text.trim().to_string();
                let value = (!text.is_empty()).then_some(text);
                if name == "student_id" {
                    form.student_id = value;
                } else {
                    form.doc_type = value;
                }
            }
            other => {
                return Err(ApiError::bad_request(
                    "unknown_field",
                    format!("unknown form field {other:?}; expected file, student_id, doc_type"),
                ))
            }
        }
    }
    Ok(form)
}

fn intake_error(e: IntakeError) -> ApiError {
    match e {
        IntakeError::Db(e) => e.into(),
        IntakeError::Engine(e) => e.into(),
        IntakeError::Blob(e) => ApiError::unavailable("the blob store", e),
    }
}

/// The stable code of an `inspect` refusal.
fn refusal_code(code: &str) -> &'static str {
    match code {
        "not_pdf" => "not_pdf",
        "empty" => "empty",
        "corrupt" => "corrupt",
        "encrypted" => "encrypted",
        "too_many_pages" => "too_many_pages",
        "decompression_bomb" => "decompression_bomb",
        _ => "invalid_document",
    }
}

/// Upload a PDF; its extraction runs as a `documents.extract` job.
#[utoipa::path(post, path = "/v1/documents", tag = "documents", security(("bearer" = [])),
    params(UploadQuery),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses(
        (status = 202, description = "stored (or already known) and queued", body = UploadAccepted),
        (status = 400, description = "not multipart, or no `file` part", body = crate::error::ErrorBody),
        (status = 413, description = "over `documents.max_upload_bytes`", body = crate::error::ErrorBody),
        (status = 422, description = "not a PDF, empty, corrupt, too many pages, bad hint; `details.reason`", body = crate::error::ErrorBody),
        (status = 429, description = "`upload_quota_exceeded`: over the tenant's `limits.upload_bytes_per_day` (Retry-After: until midnight UTC), or `rate_limited`", body = crate::error::ErrorBody),
    ))]
pub async fn upload(
    State(st): State<AppState>,
    tenant: Tenant,
    headers: axum::http::HeaderMap,
    AppQuery(q): AppQuery<UploadQuery>,
    mp: Result<Multipart, MultipartRejection>,
) -> Result<(StatusCode, Json<UploadAccepted>), ApiError> {
    tenant.require(Scope::JobsWrite)?;
    let cfg = &st.settings.documents;
    let mp = mp.map_err(|e| {
        ApiError::bad_request(
            "malformed_multipart",
            format!("expected multipart/form-data: {}", e.body_text()),
        )
    })?;
    let form = read_form(mp, cfg.max_upload_bytes).await?;
    let Some((bytes, filename, content_type)) = form.file else {
        return Err(ApiError::bad_request(
            "missing_file",
            "the form has no `file` part",
        ));
    };
    if bytes.is_empty() {
        return Err(
            ApiError::invalid_field("empty", "file", "the file is empty")
                .with_details(json!({ "field": "file", "reason": "empty" })),
        );
    }
    crate::limits::charge_upload(&st, &tenant, bytes.len() as u64).await?;
    let student_id = match form.student_id {
        None => None,
        Some(s) => {
            let id: Uuid = s.parse().map_err(|_| {
                ApiError::invalid_field("invalid_field", "student_id", "not a UUID")
            })?;
            if !sql::student_exists(&st.pool, tenant.id, id).await? {
                return Err(ApiError::invalid_field(
                    "student_not_found",
                    "student_id",
                    format!("no student {id}"),
                ));
            }
            Some(id)
        }
    };
    if let Some(t) = &form.doc_type {
        if !DOC_TYPES.contains(&t.as_str()) {
            return Err(ApiError::invalid_field(
                "invalid_field",
                "doc_type",
                "boletim or historico",
            ));
        }
    }
    let sha = sha256_hex(&bytes);
    let trace = Some(crate::traceparent::from_headers(&headers));
    if let Some(doc) = sql::by_sha256(&st.pool, tenant.id, &sha).await? {
        let sub = if q.reextract.unwrap_or(false) {
            jobs::engine::trace::scope(
                trace,
                intake::reextract(
                    &st.pool,
                    &st.engine,
                    &doc,
                    student_id,
                    form.doc_type.as_deref(),
                ),
            )
            .await
            .map_err(intake_error)?
        } else {
            intake::Submitted {
                job_id: doc.job_id.clone().unwrap_or_default(),
                document: doc,
                created: false,
                queued: false,
            }
        };
        return Ok(accepted(sub));
    }
    let opts = cfg.options_for(&tenant.key(), None);
    let (bytes, checked) = tokio::task::spawn_blocking(move || {
        let r = documents::inspect(&bytes, &opts);
        (bytes, r)
    })
    .await
    .map_err(ApiError::internal)?;
    if let Err(e) = checked {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            refusal_code(&e.code),
            e.message,
        )
        .with_details(json!({ "field": "file", "reason": e.code })));
    }
    let store =
        BlobStore::from_settings(cfg).map_err(|e| ApiError::unavailable("the blob store", e))?;
    let upload = Upload {
        bytes,
        filename,
        content_type,
        student_id,
        doc_type: form.doc_type,
    };
    let sub = jobs::engine::trace::scope(
        trace,
        intake::create(&st.pool, &st.engine, &store, tenant.id, &sha, upload),
    )
    .await
    .map_err(intake_error)?;
    tracing::info!(tenant_id = %tenant.id, document_id = %sub.document.id, job_id = %sub.job_id, created = sub.created, "document uploaded");
    Ok(accepted(sub))
}

fn accepted(sub: intake::Submitted) -> (StatusCode, Json<UploadAccepted>) {
    (
        StatusCode::ACCEPTED,
        Json(UploadAccepted {
            document_id: sub.document.id,
            job_id: sub.job_id,
            status: sub.document.status,
            deduplicated: !sub.created,
            queued: sub.queued,
        }),
    )
}

/// One document: status, the extraction (`result`) or why it failed (`error`).
#[utoipa::path(get, path = "/v1/documents/{id}", tag = "documents", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = DocumentView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn show(
    State(st): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> Result<Json<DocumentView>, ApiError> {
    tenant.require(Scope::JobsRead)?;
    let uuid: Uuid = id.parse().map_err(|_| not_found(&id))?;
    let doc = sql::get(&st.pool, tenant.id, uuid)
        .await?
        .ok_or_else(|| not_found(&id))?;
    Ok(Json(doc.into()))
}

/// The caller's documents, newest first, a page at a time.
#[utoipa::path(get, path = "/v1/documents", tag = "documents", security(("bearer" = [])),
    params(ListQuery),
    responses((status = 200, body = DocumentList), (status = 422, body = crate::error::ErrorBody)))]
pub async fn list(
    State(st): State<AppState>,
    tenant: Tenant,
    AppQuery(q): AppQuery<ListQuery>,
) -> Result<Json<DocumentList>, ApiError> {
    tenant.require(Scope::JobsRead)?;
    if let Some(s) = &q.status {
        if !STATUSES.contains(&s.as_str()) {
            return Err(ApiError::invalid_field(
                "invalid_query",
                "status",
                format!("one of {}", STATUSES.join(", ")),
            ));
        }
    }
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::invalid_field(
            "invalid_query",
            "limit",
            "between 1 and 200",
        ));
    }
    let f = sql::ListFilter {
        status: q.status,
        before: q.before,
        limit,
    };
    let docs = sql::list(&st.pool, tenant.id, &f).await?;
    let next_before = (docs.len() as i64 == limit)
        .then(|| docs.last().map(|d| d.id))
        .flatten();
    Ok(Json(DocumentList {
        documents: docs.into_iter().map(DocumentView::from).collect(),
        next_before,
    }))
}

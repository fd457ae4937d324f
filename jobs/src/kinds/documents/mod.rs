//! Documents: `documents.extract` reads an uploaded PDF (boletim, histórico
//! escolar) into structured grades, on the `documents` queue.
//!
//! A run, start to end:
//! 1. The document row moves to `processing` — only if this job still owns
//!    it (`?reextract=true` hands a document to a newer job; an older one then
//!    stops with a `superseded` result).
//! 2. The blob comes from the blob store ([`crate::blobs`]): the stored file
//!    itself, or a temp copy when the store is remote.
//! 3. The extractor runs as a subprocess under memory, CPU and wall-clock
//!    limits ([`extractor`]); the worker never parses a PDF itself.
//! 4. Precision first (issue 14): the extractor refuses what is not a
//!    boletim/histórico (`not_a_transcript`, a permanent failure), and a
//!    result with any doubt ([`documents::review::assess`], re-run here on
//!    the subprocess's answer) is kept as a draft with status `needs_review`
//!    and writes NO academic record and queues no follow-up.
//! 5. Success: in ONE transaction, the tenant's academic records are upserted
//!    ([`records`]) and the document gets its result; after the commit,
//!    `alerts.evaluate` is queued for the student if this build knows that
//!    kind (idempotency key per job, so a retry does not queue it twice).
//!    The job's result is the extraction plus `records` and `follow_up`.
//! 6. Failure: the extractor's verdict on the file (`not_pdf`, `encrypted`,
//!    `decompression_bomb`, `too_many_pages`, `needs_ocr`...) is permanent:
//!    the same bytes fail the same way. A crash, a limit or a timeout is
//!    retryable ONCE (the kind's 2 attempts): a loaded machine can make a
//!    good file time out, but a file that kills the extractor twice is not
//!    worth more worker time. Either way the reason, as `code: message`, is
//!    on the job and on the document (`error_code`, `error_message`).
//!
//! 7. Optional LLM fallback (`[documents.llm]`, off by default): between 4
//!    and 5, a result the rules would hold, or `no_grades`, is offered to an
//!    LLM endpoint ([`llm`]); a usable answer becomes the draft, always held.
//!
//! After a hold, a person approves (optionally correcting fields) or rejects
//! the draft ([`review`]); approval writes the records through the same
//! [`records::upsert`] and queues the same follow-up ([`queue_alerts`]).
//!
//! Layout: `settings` (`[documents]`), `intake` (upload → blob, row, job),
//! `extractor` (the subprocess), `records` (academic records), `review`
//! (approve/reject a held draft), `llm` (the fallback), `sql`.

pub mod extractor;
pub mod intake;
pub mod llm;
pub mod records;
pub mod review;
pub mod settings;
pub mod sql;

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use self::extractor::{Limits, RunError};
use self::sql::Document;
use super::{JobContext, JobError, JobKind, KindPolicy, Registry};
use crate::blobs::{self, BlobError, BlobStore};

pub use settings::DocumentsSettings;

/// The queue of `documents.extract`: slow jobs, kept off the others' queues.
pub const QUEUE: &str = "documents";
pub const EXTRACT: &str = "documents.extract";
/// The follow-up queued for the student after a successful extraction.
pub const ALERTS_EVALUATE: &str = "alerts.evaluate";
/// Highest `documents.extract_timeout_secs`; the kind's own timeout is above it.
pub const MAX_EXTRACT_SECS: u64 = 1_800;

/// `documents.extract`.
pub struct Extract;

/// Payload of `documents.extract`: a document created by `POST /v1/documents`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtractPayload {
    pub document_id: Uuid,
}

impl JobKind for Extract {
    const NAME: &'static str = EXTRACT;
    type Payload = ExtractPayload;

    fn policy() -> KindPolicy {
        KindPolicy {
            // Above the longest extraction allowed plus blob download and the
            // records transaction: the subprocess's own timeout fires first.
            timeout: Duration::from_secs(MAX_EXTRACT_SECS + 300),
            // One retry for crashes and timeouts; see the module doc.
            max_attempts: 2,
            backoff_base: Duration::from_secs(5),
            backoff_cap: Duration::from_secs(60),
            // Personal data (the result is a transcript: names and grades): sealed at rest.
            encrypt: true,
            ..KindPolicy::new(QUEUE)
        }
    }

    async fn run(p: ExtractPayload, ctx: JobContext) -> Result<serde_json::Value, JobError> {
        process(p.document_id, &ctx).await
    }
}

/// Why a run failed: code and message for the document, and whether to retry.
struct Failure {
    code: String,
    message: String,
    retryable: bool,
}

impl Failure {
    fn new(code: &str, message: impl Into<String>, retryable: bool) -> Failure {
        Failure {
            code: code.to_string(),
            message: message.into(),
            retryable,
        }
    }
}

fn doc_type_hint(s: Option<&str>) -> Option<documents::DocType> {
    match s {
        Some("boletim") => Some(documents::DocType::Boletim),
        Some("historico") => Some(documents::DocType::Historico),
        _ => None,
    }
}

/// The extractor program: `documents.extractor_bin`, else this executable.
fn extractor_bin(s: &DocumentsSettings) -> Result<PathBuf, Failure> {
    if !s.extractor_bin.is_empty() {
        return Ok(PathBuf::from(&s.extractor_bin));
    }
    std::env::current_exe()
        .map_err(|e| Failure::new("internal", format!("cannot find own executable: {e}"), true))
}

/// The rules' result and, when the LLM fallback is on, each page's text.
async fn extract(
    doc: &Document,
    ctx: &JobContext,
) -> Result<(documents::Extraction, Vec<String>), Result<Failure, JobError>> {
    let s = &ctx.resources.settings.documents;
    let store = BlobStore::from_settings(s)
        .map_err(|e| Ok(Failure::new("blob_store", e.to_string(), true)))?;
    let key = blobs::key(&ctx.tenant, &doc.sha256)
        .ok_or_else(|| Ok(Failure::new("internal", "bad blob key", false)))?;
    let file = store
        .to_local_opened(ctx.resources.engine.cipher(), &key, &std::env::temp_dir())
        .await
        .map_err(|e| {
            Ok(match e {
                BlobError::NotFound(_) => Failure::new(
                    "blob_missing",
                    "the uploaded file is gone from the blob store",
                    false,
                ),
                e => Failure::new("blob_store", e.to_string(), true),
            })
        })?;
    let bin = extractor_bin(s).map_err(Ok)?;
    let opts = s.options_for(&ctx.tenant, doc_type_hint(doc.doc_type.as_deref()));
    let limits = Limits {
        timeout: s.extract_timeout(),
        cpu_secs: s.extract_cpu_secs,
        memory_bytes: s.extractor_memory_mb * 1024 * 1024,
    };
    ctx.progress(10, "extracting").await;
    let page_text = s.llm.enabled.then_some(s.llm.max_chars);
    let ex = extractor::run_with_text(&bin, &opts, file.path(), &limits, &ctx.cancel, page_text)
        .await
        .map_err(|e| match e {
            RunError::Extract(e) => Ok(Failure::new(&e.code, e.message, false)),
            RunError::Crashed { code, message } => Ok(Failure::new(code, message, true)),
            RunError::Start(m) => Ok(Failure::new("internal", m, true)),
            RunError::Cancelled => Err(JobError::Cancelled),
        })?;
    Ok(ex)
}

/// A readable PDF in which no subject or grade was found (a blank or
/// damaged page, another kind of document) fails with `no_grades` rather
/// than succeeding with an empty result nobody would notice.
fn check_has_grades(ex: &documents::Extraction) -> Result<(), Failure> {
    if !ex.subjects.is_empty() || ex.years.iter().any(|y| !y.subjects.is_empty()) {
        return Ok(());
    }
    let method = match ex.method {
        documents::Method::Text => "text",
        documents::Method::Ocr => "OCR",
        documents::Method::Mixed => "text and OCR",
    };
    Err(Failure::new(
        "no_grades",
        format!(
            "no subject or grade was found in the document ({} page(s) read by {method}, confidence {:.0}); is it a boletim or histórico, and is it complete?",
            ex.pages, ex.confidence
        ),
        false,
    ))
}

/// Queues `alerts.evaluate` for `student` of `tenant` when this build has
/// that kind: after an extraction's records are written, and after a
/// reviewer's approval writes them ([`review`]). `idempotency_key` makes a
/// retry queue nothing new. `Ok(None)`: the kind is not in this build.
pub async fn queue_alerts(
    engine: &crate::engine::Engine,
    tenant: &str,
    trace: Option<String>,
    student: Uuid,
    idempotency_key: String,
) -> Result<Option<serde_json::Value>, crate::engine::EngineError> {
    let registry = Registry::builtin();
    let Some(kind) = registry.get(ALERTS_EVALUATE) else {
        return Ok(None);
    };
    let payload = json!({ "student_ids": [student] });
    if let Err(e) = kind.validate(&payload) {
        tracing::warn!(error = %e, "alerts.evaluate refuses our payload; not chained");
        return Ok(None);
    }
    let policy = kind.policy();
    let mut job = crate::engine::NewJob::new(policy.queue, ALERTS_EVALUATE, tenant, payload);
    job.trace = trace;
    job.max_attempts = policy.max_attempts;
    job.priority = policy.priority;
    job.idempotency_key = Some(idempotency_key);
    let pushed = engine.push(job).await?;
    Ok(Some(
        json!({ "kind": ALERTS_EVALUATE, "queue": policy.queue, "job_id": pushed.id }),
    ))
}

async fn follow_up(ctx: &JobContext, student: Uuid) -> Result<Option<serde_json::Value>, JobError> {
    queue_alerts(
        &ctx.resources.engine,
        &ctx.tenant,
        ctx.traceparent_for_child(),
        student,
        format!("{EXTRACT}:{}:alerts", ctx.id),
    )
    .await
    .map_err(|e| JobError::retryable(format!("queueing alerts.evaluate: {e}")))
}

/// Records `f` on the document and ends the run with it.
async fn fail(
    pg: &sqlx::PgPool,
    id: Uuid,
    ctx: &JobContext,
    f: Failure,
) -> Result<serde_json::Value, JobError> {
    let last = !f.retryable || ctx.attempt >= ctx.max_attempts;
    sql::fail(pg, id, &ctx.id, &f.code, &f.message, last)
        .await
        .map_err(|e| JobError::retryable(format!("postgres: {e}")))?;
    tracing::warn!(job_id = %ctx.id, document_id = %id, code = %f.code, last, "document extraction failed");
    let reason = format!("{}: {}", f.code, f.message);
    Err(if f.retryable {
        JobError::retryable(reason)
    } else {
        JobError::permanent(reason)
    })
}

/// One run of `documents.extract` (steps in the module doc).
async fn process(id: Uuid, ctx: &JobContext) -> Result<serde_json::Value, JobError> {
    let pg = ctx
        .resources
        .pg
        .clone()
        .ok_or_else(|| JobError::permanent("documents.extract needs PostgreSQL"))?;
    let tenant: Uuid = ctx
        .tenant
        .parse()
        .map_err(|_| JobError::permanent("tenant is not a UUID"))?;
    let db = |e: sqlx::Error| JobError::retryable(format!("postgres: {e}"));
    let Some(doc) = sql::start(&pg, tenant, id, &ctx.id).await.map_err(db)? else {
        return match sql::get(&pg, tenant, id).await.map_err(db)? {
            None => Err(JobError::permanent(format!("document {id} does not exist"))),
            Some(d) => Ok(json!({
                "document_id": id,
                "superseded_by": d.job_id,
            })),
        };
    };
    tracing::info!(job_id = %ctx.id, tenant_id = %tenant, document_id = %id, attempt = ctx.attempt, "extracting document");
    let (mut ex, page_text) = match extract(&doc, ctx).await {
        Ok(ex) => ex,
        Err(Err(cancelled)) => {
            let r = sql::fail(&pg, id, &ctx.id, "cancelled", "the job was cancelled", true).await;
            if let Err(e) = r {
                tracing::warn!(document_id = %id, error = %e, "could not record the cancellation");
            }
            return Err(cancelled);
        }
        Err(Ok(f)) => return fail(&pg, id, ctx, f).await,
    };
    ex.document_id = Some(id.to_string());
    let method = serde_json::to_value(ex.method)
        .ok()
        .and_then(|m| m.as_str().map(str::to_string))
        .unwrap_or_else(|| "text".into());
    let settings = &ctx.resources.settings.documents;
    let scale = settings.grade_scale_max_for(&ctx.tenant);

    // Precision first: the subprocess's own verdict plus the same checks
    // again here (a configured `extractor_bin` may be an older build).
    let mut no_grades = check_has_grades(&ex).err();
    let mut reasons = ex.review_reasons.clone();
    if no_grades.is_none() {
        for r in documents::review::assess(&ex, scale) {
            if !reasons.contains(&r) {
                reasons.push(r);
            }
        }
    }
    // The LLM fallback, when on, for what the rules would hold or found
    // nothing in (see `llm`'s module doc); its draft is always held.
    let mut llm_note = None;
    let mut rules_draft = None;
    if settings.llm.enabled && (no_grades.is_some() || !reasons.is_empty()) {
        ctx.progress(70, "asking the LLM fallback").await;
        match llm::structure(&settings.llm, &page_text, &ex, scale).await {
            Ok(mut draft) => {
                tracing::info!(job_id = %ctx.id, document_id = %id, reasons = draft.review_reasons.len(), "LLM fallback proposed a draft; held for review");
                draft.document_id = ex.document_id.clone();
                draft
                    .review_reasons
                    .insert(0, llm::always_review(&settings.llm));
                reasons = draft.review_reasons.clone();
                rules_draft = Some(std::mem::replace(&mut ex, draft));
                no_grades = None;
                llm_note = Some(
                    json!({ "used": true, "provider": settings.llm.provider, "model": settings.llm.model }),
                );
            }
            Err(why) => {
                tracing::warn!(job_id = %ctx.id, document_id = %id, error = %why, "LLM fallback unusable; the rules' result stands");
                llm_note = Some(
                    json!({ "used": false, "provider": settings.llm.provider, "model": settings.llm.model, "error": why }),
                );
            }
        }
    }
    if let Some(mut f) = no_grades {
        if let Some(why) = llm_note.as_ref().and_then(|n| n["error"].as_str()) {
            f.message = format!("{} (LLM fallback: {why})", f.message);
        }
        return fail(&pg, id, ctx, f).await;
    }
    let result = serde_json::to_value(&ex)
        .map_err(|e| JobError::permanent(format!("result does not serialise: {e}")))?;
    if !reasons.is_empty() {
        ex.needs_review = true;
        ex.review_reasons = reasons;
        let mut result = serde_json::to_value(&ex)
            .map_err(|e| JobError::permanent(format!("result does not serialise: {e}")))?;
        if let Some(note) = llm_note {
            result["llm"] = note;
        }
        if let Some(rules) = rules_draft {
            result["source"] = json!("llm");
            result["rules_draft"] = serde_json::to_value(&rules).unwrap_or_default();
        }
        let owned = sql::hold_for_review(
            &pg,
            id,
            &ctx.id,
            &result,
            i32::try_from(ex.pages).unwrap_or(i32::MAX),
            &method,
            ex.confidence,
        )
        .await
        .map_err(db)?;
        if !owned {
            return Ok(json!({ "document_id": id, "superseded": true }));
        }
        tracing::info!(job_id = %ctx.id, document_id = %id, reasons = ex.review_reasons.len(), "document held for review; no records written");
        result["records"] = serde_json::Value::Null;
        result["follow_up"] = serde_json::Value::Null;
        return Ok(result);
    }

    let mut tx = pg.begin().await.map_err(db)?;
    let outcome = records::upsert(&mut tx, tenant, id, doc.student_id, &ex, scale)
        .await
        .map_err(db)?;
    let owned = sql::succeed(
        &mut *tx,
        id,
        &ctx.id,
        &result,
        i32::try_from(ex.pages).unwrap_or(i32::MAX),
        &method,
        ex.confidence,
        outcome.student_id,
    )
    .await
    .map_err(db)?;
    if !owned {
        // A newer job took the document while we ran: its result wins.
        tx.rollback().await.map_err(db)?;
        return Ok(json!({ "document_id": id, "superseded": true }));
    }
    tx.commit().await.map_err(db)?;

    let follow = match outcome.student_id {
        Some(student) => follow_up(ctx, student).await?,
        None => None,
    };
    tracing::info!(job_id = %ctx.id, document_id = %id, grades = outcome.grades, "document extracted");
    let mut out = result;
    out["records"] = serde_json::to_value(&outcome).unwrap_or_default();
    out["follow_up"] = follow.unwrap_or(serde_json::Value::Null);
    Ok(out)
}

//! The `reports.render` job: marks the report running, renders it by type
//! and format (progress on the row and the job, cancellation between
//! batches; a worker shutdown puts it back to queued instead), stores the
//! finished file in the blob store and only then marks the report done. A
//! failure marks it failed with the reason; a database error is retried (the
//! row stays running) until the last attempt.

use std::sync::Arc;

use chrono::Utc;
use futures::future::BoxFuture;
use futures::FutureExt;
use serde_json::json;
use sha2::Digest;
use uuid::Uuid;

use jobs::blobs::{self, BlobStore};
use jobs::kinds::reports::{branding, deliver, sql, Format, Renderer, ReportType};
use jobs::kinds::{JobContext, JobError};

use crate::output::{Output, Progress, RenderCtx, RenderError};

/// The renderer the worker registers (`RenderKind::with_renderer`).
pub struct ReportRenderer;

impl Renderer for ReportRenderer {
    fn render(
        &self,
        report_id: Uuid,
        ctx: JobContext,
    ) -> BoxFuture<'static, Result<serde_json::Value, JobError>> {
        run(report_id, ctx).boxed()
    }
}

/// Renders `r` (any type, any format) with `ctx`.
pub async fn render_report(
    ctx: &RenderCtx,
    kind: ReportType,
    format: Format,
    params: &jobs::kinds::reports::Params,
) -> Result<Output, RenderError> {
    match kind {
        ReportType::StudentReportCard => {
            crate::types::report_card::render(ctx, params, format).await
        }
        ReportType::ClassReport => crate::types::class_report::render(ctx, params, format).await,
        ReportType::CampaignReport => crate::types::campaign::render(ctx, params, format).await,
        ReportType::OccupancyReport => crate::types::occupancy::render(ctx, params, format).await,
    }
}

/// The tenant's name and time zone.
pub async fn tenant(
    pg: &sqlx::PgPool,
    tenant: Uuid,
) -> Result<(String, chrono_tz::Tz), sqlx::Error> {
    let row: Option<(String, String)> =
        sqlx::query_as("select name, timezone from tenants where id = $1")
            .bind(tenant)
            .fetch_optional(pg)
            .await?;
    let (name, tz) = row.unwrap_or_default();
    Ok((name, tz.parse().unwrap_or(chrono_tz::America::Sao_Paulo)))
}

async fn run(id: Uuid, job: JobContext) -> Result<serde_json::Value, JobError> {
    let pg = job
        .resources
        .pg
        .clone()
        .ok_or_else(|| JobError::permanent("no database configured"))?;
    let db = |e: sqlx::Error| JobError::retryable(format!("postgres: {e}"));
    let Some(report) = sql::start(&pg, id).await.map_err(db)? else {
        // Deleted, cancelled or already finished; a done report whose
        // e-mails could not be queued (the previous attempt failed there) gets them now.
        return match sql::get_any(&pg, id).await.map_err(db)? {
            Some(r)
                if r.status == "done" && !r.deliver_to.is_empty() && r.delivered_at.is_none() =>
            {
                let settings = job.resources.settings.clone();
                let store = BlobStore::from_settings(&settings.documents)
                    .map_err(|e| JobError::permanent(format!("blob store: {e}")))?;
                let key = r.blob_key.clone().unwrap_or_default();
                let bytes = store
                    .get_opened(job.resources.engine.cipher(), &key)
                    .await
                    .map_err(|e| JobError::retryable(format!("blob store: {e}")))?;
                let (school, _) = tenant(&pg, r.tenant_id).await.map_err(db)?;
                send(&pg, &job, &school, &r, &bytes).await
            }
            _ => Ok(json!({ "report_id": id, "skipped": true })),
        };
    };
    let (Some(kind), Some(format)) = (report.kind(), report.file_format()) else {
        let reason = format!(
            "unknown report type or format {}/{}",
            report.report_type, report.format
        );
        let _ = sql::fail(&pg, id, "failed", &reason).await;
        return Err(JobError::permanent(reason));
    };
    let tenant_id = report.tenant_id;
    let (school, tz) = tenant(&pg, tenant_id).await.map_err(db)?;
    let branding = branding::load(&pg, tenant_id).await.map_err(db)?;
    let settings = job.resources.settings.clone();
    let now = Utc::now().with_timezone(&tz);
    let progress: Progress = {
        let (pg, job) = (pg.clone(), job.clone());
        Arc::new(move |done, total| {
            let (pg, job) = (pg.clone(), job.clone());
            async move {
                if let Err(e) = sql::progress(&pg, id, done as i32, total as i32).await {
                    tracing::warn!(report_id = %id, error = %e, "could not record progress");
                }
                let pct = (done * 100).checked_div(total).unwrap_or(0) as u8;
                job.progress(pct, &format!("{done}/{total}")).await;
            }
            .boxed()
        })
    };
    let ctx = RenderCtx {
        pg: pg.clone(),
        tenant: tenant_id,
        school: if school.is_empty() {
            "Escola".into()
        } else {
            school
        },
        today: now.date_naive(),
        generated: now.format("%d/%m/%Y %H:%M").to_string(),
        tz,
        primary: branding.primary,
        accent: branding.accent,
        logo: branding.logo.map(Arc::new),
        campaigns: settings.campaigns.clone(),
        batch_size: settings.reports.batch_size,
        max_students: settings.reports.max_students,
        cancel: job.cancel.clone(),
        progress,
    };
    let rendered = render_report(&ctx, kind, format, &report.params()).await;
    let out = match rendered {
        Ok(out) => out,
        Err(RenderError::Cancelled) => return Err(stopped(&pg, &job, id).await),
        Err(RenderError::Db(e)) if job.attempt < job.max_attempts => return Err(db(e)),
        Err(e) => {
            let reason = e.to_string();
            let _ = sql::fail(&pg, id, "failed", &reason).await;
            return Err(JobError::permanent(reason));
        }
    };
    // Only a complete file reaches the store, under its content hash; the
    // row points at it only after the store has it.
    let bytes = tokio::fs::read(out.file.path())
        .await
        .map_err(|e| JobError::retryable(format!("reading the rendered file: {e}")))?;
    let sha = hex::encode(sha2::Sha256::digest(&bytes));
    let key = blobs::key(&tenant_id.to_string(), &sha)
        .ok_or_else(|| JobError::permanent("bad blob key"))?;
    let size = bytes.len() as i64;
    let store = BlobStore::from_settings(&settings.documents)
        .map_err(|e| JobError::permanent(format!("blob store: {e}")))?;
    store
        .put_sealed(job.resources.engine.cipher(), &key, bytes)
        .await
        .map_err(|e| JobError::retryable(format!("blob store: {e}")))?;
    let finished = sql::Finished {
        pages: out.pages.map(|p| p as i32),
        size_bytes: size,
        blob_key: key,
        file_name: out.file_name.clone(),
    };
    let moved = sql::finish(&pg, id, &finished).await.map_err(db)?;
    if moved && !report.deliver_to.is_empty() {
        let done = sql::get_any(&pg, id)
            .await
            .map_err(db)?
            .ok_or_else(|| JobError::permanent("the report was deleted"))?;
        let bytes = tokio::fs::read(out.file.path())
            .await
            .map_err(|e| JobError::retryable(format!("reading the rendered file: {e}")))?;
        send(&pg, &job, &ctx.school, &done, &bytes).await?;
    }
    Ok(json!({
        "report_id": id,
        "done": moved,
        "pages": out.pages,
        "size_bytes": size,
        "file_name": out.file_name,
    }))
}

/// The render stopped on the job's cancel token, which fires on a cancel
/// request but also at the end of a worker's shutdown grace or on a lost
/// lease. Only a cancel asked of the job (the engine records it on the job)
/// ends the report `cancelled`; otherwise the report goes back to `queued`
/// and the job is snoozed (no attempt spent), so it renders again.
async fn stopped(pg: &sqlx::PgPool, job: &JobContext, id: Uuid) -> JobError {
    let asked = match job.resources.engine.job(&job.queue, &job.id).await {
        Ok(Some(info)) => info.cancel_requested || info.status.is_final(),
        // The job is gone: nothing will run it again.
        Ok(None) => true,
        Err(e) => {
            tracing::warn!(report_id = %id, error = %e, "could not read the job; not a cancel");
            false
        }
    };
    if asked {
        let _ = sql::fail(pg, id, "cancelled", "the job was cancelled").await;
        return JobError::Cancelled;
    }
    if let Err(e) = sql::requeue(pg, id).await {
        tracing::warn!(report_id = %id, error = %e, "could not put the report back to queued");
    }
    JobError::Snooze {
        delay: std::time::Duration::from_secs(1),
    }
}

/// E-mails a done report to its `deliver_to` (scheduled reports).
async fn send(
    pg: &sqlx::PgPool,
    job: &JobContext,
    school: &str,
    r: &jobs::kinds::reports::Report,
    bytes: &[u8],
) -> Result<serde_json::Value, JobError> {
    let settings = &job.resources.settings.reports;
    let n = deliver::deliver(pg, &job.resources.engine, settings, school, r, bytes)
        .await
        .map_err(|e| JobError::retryable(format!("e-mailing the report: {e}")))?;
    Ok(json!({ "report_id": r.id, "emails": n }))
}

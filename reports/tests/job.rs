//! The `reports.render` job end to end, in-process as the worker runs it:
//! the report goes queued → running → done with progress done/total, and its
//! file lands in the blob store; missing data fails with the reason and no
//! file; a cancel stops the render between batches and leaves no file.

mod common;

use common::*;
use jobs::engine::JobStatus;
use jobs::kinds::reports::{self, sql, Report, ReportRequest};
use jobs::testing::{eventually, Bed};
use serde_json::json;
use sqlx::PgPool;

async fn bed(pool: PgPool, dir: &std::path::Path, batch: usize) -> Bed {
    let mut bed = Bed::new(pool).await;
    bed.settings.documents.blob_dir = dir.to_string_lossy().to_string();
    bed.settings.reports.batch_size = batch;
    bed
}

async fn submit(bed: &Bed, body: serde_json::Value) -> Report {
    let req: ReportRequest = serde_json::from_value(body).unwrap();
    let (r, new) = reports::submit(
        &bed.pool,
        &bed.engine,
        &bed.settings.reports,
        bed.tenant,
        &req,
        &[],
        None,
    )
    .await
    .unwrap();
    assert!(new);
    r
}

async fn row(bed: &Bed, r: &Report) -> Report {
    sql::get(&bed.pool, bed.tenant, r.id)
        .await
        .unwrap()
        .unwrap()
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn a_report_renders_to_the_blob_store_with_progress(pool: PgPool) {
    let dir = tempfile::tempdir().unwrap();
    let bed = bed(pool, dir.path(), 4).await;
    school(&bed.pool, bed.tenant, "9A-2026", 10, 5, 4).await;
    let _w = bed.worker_with(reports::QUEUE, 1, ::reports::registry());
    let r = submit(
        &bed,
        json!({"type": "student_report_card", "format": "pdf",
                                 "params": {"year": YEAR, "class": "9A-2026"}}),
    )
    .await;
    let job = bed
        .wait_final(reports::QUEUE, r.job_id.as_deref().unwrap())
        .await;
    assert_eq!(job.status, JobStatus::Succeeded, "{job:?}");
    let done = row(&bed, &r).await;
    assert_eq!(done.status, "done");
    assert_eq!((done.progress_done, done.progress_total), (10, 10));
    assert_eq!(done.pages, Some(10));
    assert_eq!(done.file_name.as_deref(), Some("boletins-9a-2026.pdf"));
    let key = done.blob_key.clone().unwrap();
    let store = jobs::blobs::BlobStore::from_settings(&bed.settings.documents).unwrap();
    let bytes = store.get(&key).await.unwrap();
    assert!(bytes.starts_with(b"%PDF"));
    assert_eq!(bytes.len() as i64, done.size_bytes.unwrap());
    assert!(key.starts_with(&bed.tenant.to_string()));
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn missing_data_fails_the_report_with_the_reason(pool: PgPool) {
    let dir = tempfile::tempdir().unwrap();
    let bed = bed(pool, dir.path(), 4).await;
    let _w = bed.worker_with(reports::QUEUE, 1, ::reports::registry());
    let r = submit(
        &bed,
        json!({"type": "class_report", "format": "xlsx",
                                 "params": {"year": YEAR, "class": "NOPE"}}),
    )
    .await;
    let job = bed
        .wait_final(reports::QUEUE, r.job_id.as_deref().unwrap())
        .await;
    assert_eq!(job.status, JobStatus::Dead, "permanent: not retried");
    let failed = row(&bed, &r).await;
    assert_eq!(failed.status, "failed");
    assert_eq!(failed.error.as_deref(), Some("no class with code \"NOPE\""));
    assert_eq!(failed.blob_key, None);
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn cancel_stops_the_render_between_batches(pool: PgPool) {
    let dir = tempfile::tempdir().unwrap();
    let bed = bed(pool, dir.path(), 1).await;
    school(&bed.pool, bed.tenant, "9A-2026", 60, 3, 2).await;
    let _w = bed.worker_with(reports::QUEUE, 1, ::reports::registry());
    let r = submit(
        &bed,
        json!({"type": "student_report_card", "format": "pdf",
                                 "params": {"year": YEAR, "class": "9A-2026"}}),
    )
    .await;
    eventually(|| async { Some(row(&bed, &r).await) })
        .until(|r: &Report| r.progress_done >= 1)
        .await;
    bed.engine
        .cancel(reports::QUEUE, r.job_id.as_deref().unwrap())
        .await
        .unwrap();
    let job = bed
        .wait_final(reports::QUEUE, r.job_id.as_deref().unwrap())
        .await;
    assert_eq!(job.status, JobStatus::Cancelled);
    let cancelled = row(&bed, &r).await;
    assert_eq!(cancelled.status, "cancelled");
    assert!(
        cancelled.progress_done < 60,
        "stopped early: {}",
        cancelled.progress_done
    );
    assert_eq!(cancelled.blob_key, None);
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no file in the store"
    );
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn a_scheduled_report_is_emailed_attached_or_linked_by_size(pool: PgPool) {
    use jobs::engine::NewJob;
    let dir = tempfile::tempdir().unwrap();
    let mut bed = bed(pool, dir.path(), 25).await;
    Bed::set_env("TAREFA_REPORTS_URL_SECRET", "scheduled-secret");
    bed.settings.reports.public_base_url = "https://tarefa.example.com".into();
    school(&bed.pool, bed.tenant, "9A-2026", 3, 3, 2).await;
    let from = json!({"from": "secretaria@escola.com.br", "from_name": "Secretaria"});
    jobs::kinds::notify::admin::put_channel(&bed.pool, bed.tenant, "email", &from, true)
        .await
        .unwrap();
    let _w = bed.worker_with(reports::QUEUE, 1, ::reports::registry());
    let _n = bed.worker(jobs::kinds::notify::QUEUE, 1);
    // What a tenant schedule pushes on its cron.
    let push = |format: &str| {
        NewJob::new(
            reports::QUEUE,
            reports::SCHEDULED,
            &bed.tenant.to_string(),
            json!({"report": {"type": "class_report", "format": format,
                              "params": {"year": YEAR, "class": "9A-2026"}},
                   "recipients": ["coordenacao@escola.com.br", "direcao@escola.com.br"]}),
        )
    };
    bed.engine.push(push("csv")).await.unwrap();
    let mails = bed.smtp.wait_for(2).await;
    let to: Vec<&str> = mails
        .iter()
        .flat_map(|m| m.to.iter().map(String::as_str))
        .collect();
    assert!(to.contains(&"coordenacao@escola.com.br") && to.contains(&"direcao@escola.com.br"));
    assert!(
        mails[0].data.contains("relatorio-turma-9a-2026.csv"),
        "attached"
    );

    // Over the attachment limit: a signed link instead.
    _w.stop().await;
    bed.settings.reports.attach_max_bytes = 10;
    let _w = bed.worker_with(reports::QUEUE, 1, ::reports::registry());
    bed.engine.push(push("xlsx")).await.unwrap();
    let mails = bed.smtp.wait_for(4).await;
    // Undo quoted-printable soft breaks and `=` escapes.
    let linked = mails[2].data.replace("=\r\n", "").replace("=3D", "=");
    assert!(
        linked.contains("https://tarefa.example.com/v1/reports/"),
        "a link: {linked}"
    );
    assert!(!linked.contains("Content-Disposition: attachment"));
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn a_shutdown_puts_the_report_back_to_queued_not_cancelled(pool: PgPool) {
    use jobs::kinds::reports::Renderer;
    use jobs::kinds::JobError;
    let dir = tempfile::tempdir().unwrap();
    let bed = bed(pool, dir.path(), 1).await;
    school(&bed.pool, bed.tenant, "9A-2026", 5, 3, 2).await;
    let r = submit(
        &bed,
        json!({"type": "student_report_card", "format": "pdf",
                                 "params": {"year": YEAR, "class": "9A-2026"}}),
    )
    .await;
    // The token fires as at the end of a worker's shutdown grace: no cancel
    // was asked of the job.
    let mut ctx = bed.ctx(r.job_id.as_deref().unwrap(), 1);
    ctx.queue = reports::QUEUE.into();
    ctx.kind = reports::RENDER.into();
    ctx.cancel.cancel();
    let err = jobs::store::scope::as_tenant(
        bed.tenant,
        ::reports::render::ReportRenderer.render(r.id, ctx.clone()),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, JobError::Snooze { .. }), "{err:?}");
    let back = row(&bed, &r).await;
    assert_eq!(back.status, "queued", "{:?}", back.error);
    assert_eq!(back.blob_key, None);
    // The released job renders it again, to the end.
    let mut again = bed.ctx(r.job_id.as_deref().unwrap(), 1);
    again.queue = reports::QUEUE.into();
    jobs::store::scope::as_tenant(
        bed.tenant,
        ::reports::render::ReportRenderer.render(r.id, again),
    )
    .await
    .unwrap();
    assert_eq!(row(&bed, &r).await.status, "done");
    // A cancel asked of the job still ends it cancelled.
    let r2 = submit(
        &bed,
        json!({"type": "class_report", "format": "pdf",
                                 "params": {"year": YEAR, "class": "9A-2026"}}),
    )
    .await;
    bed.engine
        .cancel(reports::QUEUE, r2.job_id.as_deref().unwrap())
        .await
        .unwrap();
    let mut ctx = bed.ctx(r2.job_id.as_deref().unwrap(), 1);
    ctx.queue = reports::QUEUE.into();
    ctx.cancel.cancel();
    let _ = jobs::store::scope::as_tenant(
        bed.tenant,
        ::reports::render::ReportRenderer.render(r2.id, ctx),
    )
    .await;
    let st = row(&bed, &r2).await.status;
    assert!(st == "cancelled", "{st}");
}

/// A 1×1 PNG.
const PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";

/// The render job's file for report `r` (run in-process to the end).
async fn render_to_bytes(bed: &Bed, r: &Report) -> Vec<u8> {
    use jobs::kinds::reports::Renderer;
    let mut ctx = bed.ctx(r.job_id.as_deref().unwrap(), 1);
    ctx.queue = reports::QUEUE.into();
    jobs::store::scope::as_tenant(
        bed.tenant,
        ::reports::render::ReportRenderer.render(r.id, ctx),
    )
    .await
    .unwrap();
    let done = row(bed, r).await;
    assert_eq!(done.status, "done", "{:?}", done.error);
    let store = jobs::blobs::BlobStore::from_settings(&bed.settings.documents).unwrap();
    store.get(&done.blob_key.unwrap()).await.unwrap().to_vec()
}

fn image_xobjects(pdf: &[u8]) -> usize {
    let doc = lopdf::Document::load_mem(pdf).unwrap();
    doc.objects
        .values()
        .filter_map(|o| o.as_stream().ok())
        .filter(|s| {
            s.dict
                .get(b"Subtype")
                .and_then(|t| t.as_name())
                .is_ok_and(|t| t == b"Image")
        })
        .count()
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn the_tenants_logo_and_colours_are_on_its_reports(pool: PgPool) {
    use jobs::kinds::reports::branding::{self, BrandingRequest};
    let dir = tempfile::tempdir().unwrap();
    let bed = bed(pool, dir.path(), 4).await;
    school(&bed.pool, bed.tenant, "9A-2026", 3, 3, 2).await;
    let params = json!({"year": YEAR, "class": "9A-2026"});
    // Without branding: no image in the PDF, the default header colour.
    let plain = submit(
        &bed,
        json!({"type": "class_report", "format": "pdf", "params": params}),
    )
    .await;
    assert_eq!(image_xobjects(&render_to_bytes(&bed, &plain).await), 0);
    let req: BrandingRequest = serde_json::from_value(json!({
        "primary_color": "#8b1e3f", "accent_color": "#3c6e71", "logo": PNG,
    }))
    .unwrap();
    branding::put(&bed.pool, bed.tenant, &req.validate().unwrap())
        .await
        .unwrap();
    let card = submit(
        &bed,
        json!({"type": "student_report_card", "format": "pdf", "params": params}),
    )
    .await;
    let pdf = render_to_bytes(&bed, &card).await;
    assert!(image_xobjects(&pdf) >= 1, "the logo is an image XObject");
    let xlsx = submit(
        &bed,
        json!({"type": "class_report", "format": "xlsx", "params": params}),
    )
    .await;
    let bytes = render_to_bytes(&bed, &xlsx).await;
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut styles = String::new();
    std::io::Read::read_to_string(&mut zip.by_name("xl/styles.xml").unwrap(), &mut styles).unwrap();
    assert!(
        styles.to_uppercase().contains("8B1E3F"),
        "the header fill is the tenant's primary colour"
    );
    assert!(!styles.to_uppercase().contains("1F4E79"));
}

//! The ops console in a real headless Chromium (WebDriver via chromedriver):
//! sign in, bulk-retry dead jobs matching a filter, pause and resume a queue,
//! live numbers updating without a reload, a masked payload field; the
//! per-tenant pages: the outbox filtered to its `unknown` rows and then to
//! `sent`, a failed document re-extracted, an open alert acknowledged.

mod common;
mod console_support;
mod webdriver;

use serde_json::json;
use sqlx::PgPool;

use jobs::engine::{JobStatus, NewJob};

use common::Ctx;
use console_support::*;
use webdriver::Browser;

async fn signed_in(ctx: &Ctx) -> (Browser, String) {
    ops_user(&ctx.state).await;
    let base = serve(ctx.app.clone()).await;
    let b = Browser::start().await;
    b.goto(&format!("{base}/console")).await;
    assert!(
        b.url().await.ends_with("/console/login"),
        "unauthenticated → login page"
    );
    b.type_into("#email", OPS_EMAIL).await;
    b.type_into("#password", OPS_PASSWORD).await;
    b.click("#signin").await;
    b.find("#queues").await;
    assert!(b.url().await.ends_with("/console"));
    (b, base)
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn login_bulk_retry_of_dead_jobs_and_pause_resume(pool: PgPool) {
    let ctx = Ctx::new(pool).await;
    let (a, b_tenant) = (ctx.a.id.to_string(), ctx.b.id.to_string());
    let mut dead = Vec::new();
    for _ in 0..3 {
        dead.push(push_failing(&ctx.state, &a).await);
    }
    let other = push_failing(&ctx.state, &b_tenant).await;
    let worker = worker(&ctx.state, "diag");
    let mut all = dead.clone();
    all.push(other.clone());
    wait_status(&ctx.state, &all, JobStatus::Dead).await;
    worker.stop().await;

    let (b, base) = signed_in(&ctx).await;
    assert_eq!(b.text("[data-live=\"diag.dead\"]").await, "4");
    // The last hour's outcomes come from the workers' per-minute buckets.
    b.wait_text("[data-live=\"diag.hour_dead\"]", |t| t == "4")
        .await;

    // Every dead job of tenant A, through the filter and "apply to all matching".
    b.goto(&format!(
        "{base}/console/queues/diag?status=dead&tenant={a}"
    ))
    .await;
    b.find("#jobs").await;
    let listed = b.source().await.matches(r#"name="ids""#).count();
    assert_eq!(listed, 3, "the tenant filter lists only A's dead jobs");
    b.click_and_confirm("#bulk-all").await;
    let flash = b.wait_text("#flash", |t| !t.is_empty()).await;
    assert_eq!(flash, "retried 3 of 3 jobs");
    let counts = ctx.state.engine.counts("diag").await.unwrap();
    assert_eq!(
        (counts.dead, counts.queued),
        (1, 3),
        "tenant B's dead job stays dead"
    );
    for id in &dead {
        assert_eq!(
            ctx.state
                .engine
                .job("diag", id)
                .await
                .unwrap()
                .unwrap()
                .status,
            JobStatus::Queued
        );
    }
    assert_eq!(
        ctx.state
            .engine
            .job("diag", &other)
            .await
            .unwrap()
            .unwrap()
            .status,
        JobStatus::Dead
    );

    // Pause, then resume, from the queue page.
    b.goto(&format!("{base}/console/queues/diag")).await;
    b.click("#pause-diag").await;
    b.wait_text("#flash", |t| t == "paused").await;
    assert!(ctx.state.engine.is_paused("diag").await.unwrap());
    b.goto(&format!("{base}/console")).await;
    assert_eq!(b.text("[data-live=\"diag.paused\"]").await, "paused");
    b.click("#resume-diag").await;
    b.wait_text("#flash", |t| t == "resumed").await;
    assert!(!ctx.state.engine.is_paused("diag").await.unwrap());
    b.quit().await;

    let actions: Vec<String> = audit_actions(&ctx.state)
        .await
        .into_iter()
        .filter(|(who, _, _)| who == "ops:ops@tarefa.dev")
        .map(|(_, a, _)| a)
        .collect();
    assert_eq!(actions, ["login", "bulk_retry", "pause", "resume"]);
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn job_page_masks_sensitive_fields_and_overview_updates_live(pool: PgPool) {
    let ctx = Ctx::new(pool).await;
    let payload = json!({ "student": "Ana Júlia", "guardian_phone": "+5511987654321", "guardian": { "email": "mae@escola.com.br" } });
    let id = ctx
        .state
        .engine
        .push(NewJob::new(
            "diag",
            "diag.noop",
            &ctx.a.id.to_string(),
            payload,
        ))
        .await
        .unwrap()
        .id;
    let (b, base) = signed_in(&ctx).await;

    b.goto(&format!("{base}/console/jobs/diag/{id}")).await;
    let shown = b.text("#payload").await;
    assert!(shown.contains("Ana Júlia"), "{shown}");
    assert!(
        shown.contains("•••••21") && shown.contains("•••••br"),
        "{shown}"
    );
    assert!(
        !shown.contains("987654") && !shown.contains("mae@"),
        "sensitive values leaked: {shown}"
    );

    // The overview's numbers follow the queue without a reload.
    b.goto(&format!("{base}/console")).await;
    assert_eq!(b.text("[data-live=\"diag.queued\"]").await, "1");
    for _ in 0..4 {
        ctx.state
            .engine
            .push(NewJob::new("diag", "diag.noop", "t", json!({})))
            .await
            .unwrap();
    }
    b.wait_text("[data-live=\"diag.queued\"]", |t| t == "5")
        .await;
    b.quit().await;
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn outbox_page_picks_a_tenant_and_switches_status(pool: PgPool) {
    let ctx = Ctx::new(pool).await;
    let a = ctx.a.id;
    let unknown = outbox_row(
        &ctx.state,
        a,
        "reuniao-1",
        "maria@example.com",
        "unknown",
        Some("provider timed out after 30 s"),
    )
    .await;
    let sent = outbox_row(&ctx.state, a, "reuniao-2", "joao@example.com", "sent", None).await;
    let (b, base) = signed_in(&ctx).await;

    // From the nav, choose tenant A: the page opens on its unknown rows.
    b.click(r#"nav a[href="/console/outbox"]"#).await;
    b.click(&format!(r#"#tenant option[value="{a}"]"#)).await;
    b.click("#filter").await;
    b.find("#notifications").await;
    assert!(b
        .url()
        .await
        .starts_with(&format!("{base}/console/outbox?tenant={a}")));
    let src = b.source().await;
    assert!(src.contains(&unknown.to_string()) && src.contains("provider timed out after 30 s"));
    assert!(!src.contains(&sent.to_string()), "a sent row under unknown");
    b.click("#tab-sent").await;
    b.wait_text("#notifications", |t| t.contains("msg-0001"))
        .await;
    assert!(!b.source().await.contains(&unknown.to_string()));
    b.quit().await;
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn documents_page_re_extracts_a_failed_document(pool: PgPool) {
    let ctx = Ctx::new(pool).await;
    let a = ctx.a.id;
    let doc = document(
        &ctx.state,
        a,
        "boletim-ana.pdf",
        Some(("needs_ocr", "the pages are images and OCR is off")),
    )
    .await;
    let (b, base) = signed_in(&ctx).await;
    b.goto(&format!("{base}/console/documents?tenant={a}"))
        .await;
    let table = b.text("#documents").await;
    assert!(
        table.contains("needs_ocr: the pages are images and OCR is off"),
        "{table}"
    );
    b.click(&format!("#reextract-{}", doc.id)).await;
    let flash = b.wait_text("#flash", |t| !t.is_empty()).await;
    assert!(
        flash.starts_with("re-extracting boletim-ana.pdf (job "),
        "{flash}"
    );
    let now = jobs::kinds::documents::sql::get(&ctx.pool, a, doc.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(now.status, "queued");
    let job = now.job_id.unwrap();
    assert_ne!(Some(&job), doc.job_id.as_ref());
    assert!(flash.contains(&job), "{flash}");
    let pushed = ctx.state.engine.job("documents", &job).await.unwrap();
    assert_eq!(pushed.map(|j| j.status), Some(JobStatus::Queued));
    assert!(
        !b.exists(&format!("#reextract-{}", doc.id)).await,
        "no longer failed"
    );
    b.quit().await;
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn alerts_page_acknowledges_an_open_alert_of_one_rule(pool: PgPool) {
    let ctx = Ctx::new(pool).await;
    let (_, critical) = alerts_of_a(&ctx).await;
    let caio = alert_id(&ctx, critical, "2026003").await;
    let a = ctx.a.id;
    let (b, _) = signed_in(&ctx).await;

    b.click(r#"nav a[href="/console/alerts"]"#).await;
    b.click(&format!(r#"#tenant option[value="{a}"]"#)).await;
    b.click("#filter").await;
    b.click(&format!(r#"#rule option[value="{critical}"]"#))
        .await;
    b.click("#filter").await;
    // The new page: its rule option is selected in the HTML itself.
    b.find(&format!(r#"#rule option[value="{critical}"][selected]"#))
        .await;
    let open = b.source().await.matches(r#"id="ack-"#).count();
    assert_eq!(open, 2, "rule crítica holds for Caio and Dora");
    b.click(&format!("#ack-{caio}")).await;
    let flash = b.wait_text("#flash", |t| !t.is_empty()).await;
    assert_eq!(flash, "acknowledged: frequência crítica — Caio Reis");
    assert!(!b.exists(&format!("#ack-{caio}")).await);
    let alert = jobs::kinds::alerts::sql::get_alert(&ctx.pool, a, caio)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(alert.status, "acknowledged");
    b.quit().await;
    assert!(audit_actions(&ctx.state)
        .await
        .iter()
        .any(|(who, action, d)| who == "ops:ops@tarefa.dev"
            && action == "alert_ack"
            && d["rule"] == "frequência crítica"));
}

//! `/console/campaigns` over plain HTTP: needs a session; lists a tenant's
//! campaigns with state, progress and rates; Pause and Resume (with the CSRF
//! token) move the campaign and are audited; a refused move says the state.

mod common;
mod console_support;

use axum::http::{header, StatusCode};
use serde_json::json;
use sqlx::PgPool;

use common::Ctx;
use console_support::*;
use jobs::kinds::campaigns::{contacts, lifecycle, model};

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn campaigns_page_shows_progress_and_pauses_and_resumes(pool: PgPool) {
    let ctx = Ctx::new(pool.clone()).await;
    let r = raw(&ctx.app, get("/console/campaigns", None)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.headers[header::LOCATION], "/console/login");
    ops_user(&ctx.state).await;
    let (cookie, csrf) = login(&ctx.app).await;

    let t = ctx.a.id;
    let tpl: model::TemplateInput = serde_json::from_value(json!({
        "name": "promo", "category": "marketing", "body": "Olá {{1}}", "parameters": ["first_name"]}))
    .unwrap();
    lifecycle::put_template(&pool, t, &tpl).await.unwrap();
    let rows: Vec<model::ContactInput> = (0..4)
        .map(|i| {
            serde_json::from_value(
                json!({"external_id": format!("c{i}"), "name": format!("Cliente <{i}>"),
                "phone": format!("+55119{:08}", 10_000_000 + i)}),
            )
            .unwrap()
        })
        .collect();
    contacts::upsert(&pool, t, &rows).await.unwrap();
    let input: model::CampaignInput = serde_json::from_value(json!({
        "name": "Natal <b>2026</b>", "sender_phone_number_id": "1055", "template": "promo",
        "parameters": {"first_name": {"source": "first_name"}}, "audience": {"type": "all"}}))
    .unwrap();
    let c = lifecycle::create(&pool, t, &input).await.unwrap();
    lifecycle::start(&pool, &ctx.state.engine, t, c.id)
        .await
        .unwrap();

    let page = raw(
        &ctx.app,
        get(&format!("/console/campaigns?tenant={t}"), Some(&cookie)),
    )
    .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains("Natal &lt;b&gt;2026&lt;/b&gt;"),
        "names are escaped"
    );
    assert!(page.body.contains("running"));
    assert!(page.body.contains("of 4"), "{}", page.body);
    assert!(page.body.contains(&format!(r#"id="pause-{}""#, c.id)));
    let nav = raw(&ctx.app, get("/console", Some(&cookie))).await;
    assert!(nav.body.contains(r#"href="/console/campaigns""#));

    let tenant = t.to_string();
    let act = |a: &str| format!("/console/campaigns/{}/{a}", c.id);
    let bad = raw(
        &ctx.app,
        post_form(
            &act("pause"),
            Some(&cookie),
            &[("csrf", "nope"), ("tenant", &tenant)],
        ),
    )
    .await;
    assert_ne!(
        bad.status,
        StatusCode::SEE_OTHER,
        "a wrong CSRF token is refused"
    );
    let r = raw(
        &ctx.app,
        post_form(
            &act("pause"),
            Some(&cookie),
            &[("csrf", &csrf), ("tenant", &tenant)],
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        lifecycle::get(&pool, t, c.id).await.unwrap().unwrap().state,
        "paused"
    );
    let again = raw(
        &ctx.app,
        post_form(
            &act("pause"),
            Some(&cookie),
            &[("csrf", &csrf), ("tenant", &tenant)],
        ),
    )
    .await;
    let to = again.headers[header::LOCATION]
        .to_str()
        .unwrap()
        .to_string();
    assert!(to.contains("paused"), "{to}");
    let r = raw(
        &ctx.app,
        post_form(
            &act("resume"),
            Some(&cookie),
            &[("csrf", &csrf), ("tenant", &tenant)],
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        lifecycle::get(&pool, t, c.id).await.unwrap().unwrap().state,
        "running"
    );
    let audit = audit_actions(&ctx.state).await;
    assert!(audit.iter().any(|a| a.1 == "campaign_pause"), "{audit:?}");
    assert!(audit.iter().any(|a| a.1 == "campaign_resume"), "{audit:?}");
}

//! `/console/forecasting` over plain HTTP: needs a session; shows the chosen tenant's datasets
//! (names escaped) and not another tenant's; the nav links it.

mod common;
mod console_support;

use axum::http::{header, StatusCode};
use sqlx::PgPool;
use uuid::Uuid;

use common::Ctx;
use console_support::*;
use forecasting::{sql, table::ReadOptions};

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn forecasting_page_lists_the_tenants_datasets_only(pool: PgPool) {
    let ctx = Ctx::new(pool.clone()).await;
    let r = raw(&ctx.app, get("/console/forecasting", None)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.headers[header::LOCATION], "/console/login");
    ops_user(&ctx.state).await;
    let (cookie, _csrf) = login(&ctx.app).await;

    let csv = b"data;vendas\n01/01/2026;10\n02/01/2026;12\n";
    sql::insert_dataset(
        &pool,
        ctx.a.id,
        Uuid::now_v7(),
        "Vendas <loja 1>",
        &ReadOptions::default(),
        csv,
    )
    .await
    .unwrap();
    sql::insert_dataset(
        &pool,
        ctx.b.id,
        Uuid::now_v7(),
        "Outra escola",
        &ReadOptions::default(),
        csv,
    )
    .await
    .unwrap();

    let page = raw(
        &ctx.app,
        get(
            &format!("/console/forecasting?tenant={}", ctx.a.id),
            Some(&cookie),
        ),
    )
    .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("Vendas &lt;loja 1&gt;"), "{}", page.body);
    assert!(page.body.contains("pending"), "{}", page.body);
    assert!(!page.body.contains("Outra escola"));
    let nav = raw(&ctx.app, get("/console", Some(&cookie))).await;
    assert!(nav.body.contains(r#"href="/console/forecasting""#));
}

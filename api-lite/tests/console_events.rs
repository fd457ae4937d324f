//! The console's event dead letters page over plain HTTP: it needs a session,
//! lists every tenant's open dead letters (an unknown tenant's too) without
//! payload values, and retry (after the tenant id is mapped) / discard need the
//! CSRF token, close the letter and are audited.

mod common;
mod console_support;

use axum::http::StatusCode;
use serde_json::json;
use sqlx::PgPool;

use common::Ctx;
use console_support::*;
use jobs::kinds::events::{admin, sql};

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn dead_letters_are_listed_and_retried_or_discarded_from_the_console(pool: PgPool) {
    let ctx = Ctx::new(pool.clone()).await;
    let r = raw(&ctx.app, get("/console/events", None)).await;
    assert_ne!(r.status, StatusCode::OK, "needs a session");
    ops_user(&ctx.state).await;
    let (cookie, csrf) = login(&ctx.app).await;
    let entry = json!({"event_type": "booking.created", "metadata": "{\"tenant_id\": \"nova\"}",
        "payload": "{\"booking_id\": \"b1\", \"start_time\": \"2099-03-10T13:00:00Z\", \"client\": {\"email\": \"ana@example.com\"}}"});
    sql::insert_dead_letter(
        &pool,
        "booking-events",
        "7-0",
        None,
        &entry,
        "unknown tenant: booking \"nova\"",
        1,
    )
    .await
    .unwrap();
    sql::insert_dead_letter(
        &pool,
        "booking-events",
        "7-1",
        Some(ctx.b.id),
        &json!({"event_type": "x"}),
        "malformed entry: payload: required",
        1,
    )
    .await
    .unwrap();
    let page = raw(&ctx.app, get("/console/events", Some(&cookie))).await;
    assert_eq!(page.status, StatusCode::OK);
    let row = row_with(&page.body, "7-0");
    assert_eq!(row[2], "<i>unknown</i>");
    assert_eq!(row[3], "booking.created");
    assert!(row[6].contains("unknown tenant"));
    assert!(
        !page.body.contains("ana@example.com"),
        "payload values are not shown"
    );
    let letters = admin::dead_letters(&pool, None).await.unwrap();
    let id = |entry: &str| letters.iter().find(|d| d.entry_id == entry).unwrap().id;
    let retry = format!("/console/events/{}/retry", id("7-0"));
    // No CSRF token: refused.
    let r = raw(&ctx.app, post_form(&retry, Some(&cookie), &[])).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Still unknown: stays open with the reason.
    let r = raw(
        &ctx.app,
        post_form(&retry, Some(&cookie), &[("csrf", &csrf)]),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(admin::dead_letters(&pool, None).await.unwrap().len(), 2);
    // Mapped, then retried: recorded for tenant A and closed.
    sql::map_external(&pool, "booking", "nova", ctx.a.id)
        .await
        .unwrap();
    let r = raw(
        &ctx.app,
        post_form(&retry, Some(&cookie), &[("csrf", &csrf)]),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(sql::booking(&pool, ctx.a.id, "b1", false)
        .await
        .unwrap()
        .is_some());
    let discard = format!("/console/events/{}/discard", id("7-1"));
    let r = raw(
        &ctx.app,
        post_form(&discard, Some(&cookie), &[("csrf", &csrf)]),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(admin::dead_letters(&pool, None).await.unwrap().is_empty());
    let actions: Vec<String> = audit_actions(&ctx.state)
        .await
        .into_iter()
        .map(|a| a.1)
        .collect();
    assert!(
        actions.contains(&"event_dead_letter_retry".to_string()),
        "{actions:?}"
    );
    assert!(
        actions.contains(&"event_dead_letter_discard".to_string()),
        "{actions:?}"
    );
    let page = raw(&ctx.app, get("/console/events", Some(&cookie))).await;
    assert!(page.body.contains(r#"id="empty""#));
}

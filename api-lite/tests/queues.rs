//! `/v1/queues`: counts per state, and pause/resume (admin only, unknown queue 404).

mod common;

use axum::http::{Method, StatusCode};
use common::*;
use serde_json::Value;
use sqlx::PgPool;

fn diag(body: &Value) -> Value {
    body["queues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["queue"] == "diag")
        .cloned()
        .expect("diag queue listed")
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn queues_show_counts_and_pause_state(pool: PgPool) {
    let ctx = Ctx::new(pool).await;
    ctx.enqueue_noop(&ctx.a.key).await;
    ctx.enqueue_noop(&ctx.b.key).await;
    let (status, body) = ctx
        .req(Method::GET, "/v1/queues", Some(&ctx.a.key), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let q = diag(&body);
    assert_eq!(
        (q["queued"].as_u64(), q["paused"].as_bool()),
        (Some(2), Some(false)),
        "{q}"
    );
    assert!(q["oldest_waiting_ms"].is_u64(), "{q}");

    let (status, body) = ctx
        .req(
            Method::POST,
            "/v1/queues/diag/pause",
            Some(&ctx.a.key),
            None,
        )
        .await;
    assert_eq!(
        (status, body["paused"].as_bool()),
        (StatusCode::OK, Some(true)),
        "{body}"
    );
    let (_, body) = ctx
        .req(Method::GET, "/v1/queues", Some(&ctx.a.key), None)
        .await;
    assert_eq!(diag(&body)["paused"], true);

    let (status, body) = ctx
        .req(
            Method::POST,
            "/v1/queues/diag/resume",
            Some(&ctx.a.key),
            None,
        )
        .await;
    assert_eq!(
        (status, body["paused"].as_bool()),
        (StatusCode::OK, Some(false)),
        "{body}"
    );
    let (_, body) = ctx
        .req(Method::GET, "/v1/queues", Some(&ctx.a.key), None)
        .await;
    assert_eq!(diag(&body)["paused"], false);
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn pausing_an_unknown_queue_is_404(pool: PgPool) {
    let ctx = Ctx::new(pool).await;
    let (status, body) = ctx
        .req(
            Method::POST,
            "/v1/queues/nope/pause",
            Some(&ctx.a.key),
            None,
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::NOT_FOUND, Some("unknown_queue")),
        "{body}"
    );
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn pause_needs_admin_and_listing_needs_read(pool: PgPool) {
    let ctx = Ctx::new(pool).await;
    let reader = ctx.key(ctx.a.id, &["jobs:read"]).await;
    let writer = ctx.key(ctx.a.id, &["jobs:write"]).await;
    let (status, _) = ctx
        .req(Method::GET, "/v1/queues", Some(&reader), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = ctx
        .req(Method::GET, "/v1/queues", Some(&writer), None)
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::FORBIDDEN, Some("insufficient_scope")),
        "{body}"
    );
    for uri in ["/v1/queues/diag/pause", "/v1/queues/diag/resume"] {
        let (status, body) = ctx.req(Method::POST, uri, Some(&reader), None).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::FORBIDDEN, Some("insufficient_scope")),
            "{uri}: {body}"
        );
    }
    let (_, body) = ctx
        .req(Method::GET, "/v1/queues", Some(&reader), None)
        .await;
    assert_eq!(
        diag(&body)["paused"],
        false,
        "a refused pause changed nothing"
    );
}

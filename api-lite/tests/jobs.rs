//! Reading, listing, cancelling and retrying jobs, and tenant isolation: on
//! every job route another tenant's job is a 404, exactly like a missing one.

mod common;

use std::collections::HashSet;

use axum::http::{Method, StatusCode};
use common::*;
use serde_json::json;
use sqlx::PgPool;

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn other_tenants_job_is_404_on_every_route(pool: PgPool) {
    let ctx = Ctx::new(pool).await;
    let id = ctx.enqueue_noop(&ctx.a.key).await;
    let b = Some(ctx.b.key.as_str());
    for (method, uri) in [
        (Method::GET, format!("/v1/jobs/{id}")),
        (Method::DELETE, format!("/v1/jobs/{id}")),
        (Method::POST, format!("/v1/jobs/{id}/retry")),
    ] {
        let (status, body) = ctx.req(method.clone(), &uri, b, None).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::NOT_FOUND, Some("job_not_found")),
            "{method} {uri}: {body}"
        );
    }
    let (status, body) = ctx
        .req(Method::GET, "/v1/jobs?status=queued", b, None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["jobs"], json!([]));
    // B's attempts changed nothing: A still sees its queued job.
    let (status, body) = ctx
        .req(
            Method::GET,
            &format!("/v1/jobs/{id}"),
            Some(&ctx.a.key),
            None,
        )
        .await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("queued")),
        "{body}"
    );
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn missing_job_is_404(pool: PgPool) {
    let ctx = Ctx::new(pool).await;
    let (status, body) = ctx
        .req(
            Method::GET,
            "/v1/jobs/01J0000000000000000000000",
            Some(&ctx.a.key),
            None,
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::NOT_FOUND, Some("job_not_found")),
        "{body}"
    );
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn cancelling_a_queued_job_cancels_it_once(pool: PgPool) {
    let ctx = Ctx::new(pool).await;
    let id = ctx.enqueue_noop(&ctx.a.key).await;
    let uri = format!("/v1/jobs/{id}");
    let (status, body) = ctx.req(Method::DELETE, &uri, Some(&ctx.a.key), None).await;
    assert_eq!(
        (status, body["outcome"].as_str()),
        (StatusCode::OK, Some("cancelled")),
        "{body}"
    );
    let (_, job) = ctx.req(Method::GET, &uri, Some(&ctx.a.key), None).await;
    assert_eq!(job["status"], "cancelled");
    let (status, body) = ctx.req(Method::DELETE, &uri, Some(&ctx.a.key), None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::CONFLICT, Some("already_final")),
        "{body}"
    );
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn retry_requeues_a_cancelled_job_but_not_a_queued_one(pool: PgPool) {
    let ctx = Ctx::new(pool).await;
    let id = ctx.enqueue_noop(&ctx.a.key).await;
    let retry = format!("/v1/jobs/{id}/retry");
    let (status, body) = ctx.req(Method::POST, &retry, Some(&ctx.a.key), None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::CONFLICT, Some("not_retryable")),
        "{body}"
    );
    assert_eq!(body["details"]["status"], "queued");

    let (status, _) = ctx
        .req(
            Method::DELETE,
            &format!("/v1/jobs/{id}"),
            Some(&ctx.a.key),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = ctx.req(Method::POST, &retry, Some(&ctx.a.key), None).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::ACCEPTED, Some("queued")),
        "{body}"
    );
    let (_, job) = ctx
        .req(
            Method::GET,
            &format!("/v1/jobs/{id}"),
            Some(&ctx.a.key),
            None,
        )
        .await;
    assert_eq!(job["status"], "queued");
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn list_pages_through_only_the_callers_jobs(pool: PgPool) {
    let ctx = Ctx::new(pool).await;
    let mut mine = HashSet::new();
    for _ in 0..3 {
        mine.insert(ctx.enqueue_noop(&ctx.a.key).await);
    }
    ctx.enqueue_noop(&ctx.b.key).await;

    let mut seen = HashSet::new();
    let mut uri = "/v1/jobs?kind=diag.noop&limit=2".to_string();
    for _ in 0..10 {
        let (status, body) = ctx.req(Method::GET, &uri, Some(&ctx.a.key), None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let jobs = body["jobs"].as_array().unwrap();
        assert!(jobs.len() <= 2);
        seen.extend(jobs.iter().map(|j| j["id"].as_str().unwrap().to_string()));
        match body["next_cursor"].as_str() {
            Some(c) => uri = format!("/v1/jobs?kind=diag.noop&limit=2&cursor={}", urlencode(c)),
            None => break,
        }
    }
    assert_eq!(seen, mine);
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn list_refuses_bad_filters(pool: PgPool) {
    let ctx = Ctx::new(pool).await;
    for (uri, status, code) in [
        (
            "/v1/jobs?status=sleeping",
            StatusCode::BAD_REQUEST,
            "invalid_query",
        ),
        ("/v1/jobs?limit=0", StatusCode::BAD_REQUEST, "invalid_query"),
        (
            "/v1/jobs?cursor=nowhere",
            StatusCode::BAD_REQUEST,
            "invalid_query",
        ),
        (
            "/v1/jobs?kind=diag.nope",
            StatusCode::NOT_FOUND,
            "unknown_kind",
        ),
    ] {
        let (s, body) = ctx.req(Method::GET, uri, Some(&ctx.a.key), None).await;
        assert_eq!(
            (s, body["error"].as_str()),
            (status, Some(code)),
            "{uri}: {body}"
        );
    }
}

/// Percent-encodes what a cursor may hold that a query string may not.
fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

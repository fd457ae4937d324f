//! Posting jobs: one (202, readable afterwards), with bad input (400, 404,
//! 413, 422 with the field path), idempotent replays, and batches where bad
//! items fail alone.

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::*;
use serde_json::{json, Value};
use sqlx::PgPool;

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn enqueued_job_is_accepted_and_readable(pool: PgPool) {
    let ctx = Ctx::new(pool).await;
    let (status, body) = ctx
        .req(
            Method::POST,
            "/v1/jobs/diag.sleep",
            Some(&ctx.a.key),
            Some(json!({ "payload": { "ms": 5 } })),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(
        (body["kind"].as_str(), body["status"].as_str()),
        (Some("diag.sleep"), Some("queued"))
    );
    assert!(body["run_at"].is_string());
    let id = body["id"].as_str().unwrap();
    let (status, job) = ctx
        .req(
            Method::GET,
            &format!("/v1/jobs/{id}"),
            Some(&ctx.a.key),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{job}");
    assert_eq!(job["payload"], json!({ "ms": 5 }));
    assert_eq!(job["tenant"], ctx.a.id.to_string());
    assert_eq!(job["attempts"], 0);
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn delayed_job_is_scheduled_for_later(pool: PgPool) {
    let ctx = Ctx::new(pool).await;
    let before = chrono::Utc::now();
    let (status, body) = ctx
        .req(
            Method::POST,
            "/v1/jobs/diag.noop",
            Some(&ctx.a.key),
            Some(json!({ "payload": {}, "delay_ms": 60_000, "priority": "high" })),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["status"], "scheduled");
    let run_at: chrono::DateTime<chrono::Utc> = body["run_at"].as_str().unwrap().parse().unwrap();
    assert!(run_at >= before + chrono::Duration::seconds(59), "{run_at}");
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn payload_failing_validation_names_the_field(pool: PgPool) {
    let ctx = Ctx::new(pool).await;
    let (status, body) = ctx
        .req(
            Method::POST,
            "/v1/jobs/diag.sleep",
            Some(&ctx.a.key),
            Some(json!({ "payload": { "ms": 9_999_999 } })),
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_payload")),
        "{body}"
    );
    assert_eq!(body["details"]["field"], "payload.ms");
    let (status, body) = ctx
        .req(
            Method::POST,
            "/v1/jobs/diag.sleep",
            Some(&ctx.a.key),
            Some(json!({ "payload": { "ms": "soon" } })),
        )
        .await;
    assert_eq!(
        (status, body["details"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("payload.ms")),
        "{body}"
    );
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn bad_options_name_the_field(pool: PgPool) {
    let ctx = Ctx::new(pool).await;
    let (status, body) = ctx
        .req(
            Method::POST,
            "/v1/jobs/diag.noop",
            Some(&ctx.a.key),
            Some(json!({ "payload": {}, "priority": "urgent" })),
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_body")),
        "{body}"
    );
    assert_eq!(body["details"]["field"], "priority");
    let (status, body) = ctx
        .req(
            Method::POST,
            "/v1/jobs/diag.noop",
            Some(&ctx.a.key),
            Some(json!({ "payload": {}, "max_attempts": 0 })),
        )
        .await;
    assert_eq!(
        (status, body["details"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("max_attempts")),
        "{body}"
    );
}

fn raw_post(uri: &str, key: &str, body: impl Into<Body>) -> Request<Body> {
    Request::post(uri)
        .header("authorization", format!("Bearer {key}"))
        .header("content-type", "application/json")
        .body(body.into())
        .unwrap()
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn malformed_json_is_a_400_in_our_shape(pool: PgPool) {
    let ctx = Ctx::new(pool).await;
    let (status, body) = ctx
        .call(raw_post(
            "/v1/jobs/diag.noop",
            &ctx.a.key,
            "{\"payload\": {",
        ))
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("malformed_json")),
        "{body}"
    );
    assert!(body["message"].is_string());
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn body_over_the_limit_is_413(pool: PgPool) {
    let ctx = Ctx::with(pool, |s| s.api.body_limit = 1024).await;
    let big = json!({ "payload": { "ms": 1, "pad": "x".repeat(4096) } }).to_string();
    let (status, body) = ctx
        .call(raw_post("/v1/jobs/diag.sleep", &ctx.a.key, big))
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("body_too_large")),
        "{body}"
    );
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn unknown_kind_is_404(pool: PgPool) {
    let ctx = Ctx::new(pool).await;
    let (status, body) = ctx
        .req(
            Method::POST,
            "/v1/jobs/diag.nope",
            Some(&ctx.a.key),
            Some(json!({ "payload": {} })),
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::NOT_FOUND, Some("unknown_kind")),
        "{body}"
    );
    assert_eq!(body["details"]["kind"], "diag.nope");
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn replayed_idempotency_key_returns_the_first_job(pool: PgPool) {
    let ctx = Ctx::new(pool).await;
    let post = |key: &str| {
        Request::post("/v1/jobs/diag.noop")
            .header("authorization", format!("Bearer {key}"))
            .header("content-type", "application/json")
            .header("idempotency-key", "charge-2024-07-01-aluno-42")
            .body(Body::from(json!({ "payload": {} }).to_string()))
            .unwrap()
    };
    let (first, body1) = ctx.call(post(&ctx.a.key)).await;
    let (second, body2) = ctx.call(post(&ctx.a.key)).await;
    assert_eq!(
        (first, second),
        (StatusCode::ACCEPTED, StatusCode::OK),
        "{body1} {body2}"
    );
    assert_eq!(body1["id"], body2["id"]);
    // The same key from another tenant is another job.
    let (other, body3) = ctx.call(post(&ctx.b.key)).await;
    assert_eq!(other, StatusCode::ACCEPTED, "{body3}");
    assert_ne!(body3["id"], body1["id"]);
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn batch_accepts_good_items_and_reports_bad_ones(pool: PgPool) {
    let ctx = Ctx::new(pool).await;
    let items = json!([
        { "kind": "diag.noop", "payload": {} },
        { "kind": "diag.nope", "payload": {} },
        { "kind": "diag.sleep", "payload": { "ms": "x" } },
        { "payload": {} },
        { "kind": "diag.sleep", "payload": { "ms": 1 }, "delay_ms": 1000, "idempotency_key": "k1" },
        { "kind": "diag.sleep", "payload": { "ms": 1 }, "idempotency_key": "k1" },
    ]);
    let (status, body) = ctx
        .req(Method::POST, "/v1/jobs", Some(&ctx.a.key), Some(items))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (body["accepted"].as_u64(), body["rejected"].as_u64()),
        (Some(3), Some(3)),
        "{body}"
    );
    let r = body["results"].as_array().unwrap();
    assert!(r.iter().enumerate().all(|(i, x)| x["index"] == i));
    assert_eq!(r[0]["status"], "queued");
    assert_eq!(r[1]["error"], "unknown_kind");
    assert_eq!(
        (r[2]["error"].as_str(), r[2]["details"]["field"].as_str()),
        (Some("invalid_payload"), Some("payload.ms"))
    );
    assert_eq!(r[3]["error"], "invalid_body");
    // Item 5 replays item 4's idempotency key: the same job, not a new one.
    assert_eq!(r[4]["status"], "scheduled");
    assert_eq!(
        (r[5]["created"].as_bool(), &r[5]["id"]),
        (Some(false), &r[4]["id"])
    );
    let id = r[0]["id"].as_str().unwrap();
    let (status, _) = ctx
        .req(
            Method::GET,
            &format!("/v1/jobs/{id}"),
            Some(&ctx.a.key),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn batch_may_be_wrapped_and_has_a_size_cap(pool: PgPool) {
    let ctx = Ctx::new(pool).await;
    let wrapped = json!({ "jobs": [{ "kind": "diag.noop", "payload": {} }] });
    let (status, body) = ctx
        .req(Method::POST, "/v1/jobs", Some(&ctx.a.key), Some(wrapped))
        .await;
    assert_eq!(
        (status, body["accepted"].as_u64()),
        (StatusCode::OK, Some(1)),
        "{body}"
    );
    let too_many: Vec<Value> = (0..1001)
        .map(|_| json!({ "kind": "diag.noop", "payload": {} }))
        .collect();
    let (status, body) = ctx
        .req(
            Method::POST,
            "/v1/jobs",
            Some(&ctx.a.key),
            Some(Value::Array(too_many)),
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("batch_too_large")),
        "{body}"
    );
}

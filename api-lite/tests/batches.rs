//! `/v1/batches` over HTTP: create (jobs + callbacks), progress, cancel,
//! another tenant's batch as a 404, bad input as a 422 naming its field.

mod common;
mod console_support;

use axum::http::{Method, StatusCode};
use common::*;
use serde_json::{json, Value};
use sqlx::PgPool;
use std::sync::Arc;

use jobs::engine::testing::{eventually, WorkerHandle};
use jobs::kinds::{KindHandler, Resources};

async fn create(ctx: &Ctx, body: Value) -> (StatusCode, Value) {
    ctx.req(Method::POST, "/v1/batches", Some(&ctx.a.key), Some(body))
        .await
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn a_batch_runs_and_its_callbacks_run_once_with_its_counts(pool: PgPool) {
    let ctx = Ctx::new(pool).await;
    let (status, body) = create(
        &ctx,
        json!({
            "jobs": [
                { "kind": "diag.sleep", "payload": { "ms": 1 } },
                { "kind": "diag.noop", "payload": {} },
                { "kind": "diag.sleep", "payload": { "permanent": true } },
            ],
            "on_complete": { "kind": "diag.batch_done", "payload": { "note": "all ended" } },
            "on_success": { "kind": "diag.batch_done", "payload": {} },
        }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["batch"]["id"].as_str().unwrap().to_string();
    assert_eq!(body["batch"]["total"], 3);
    assert_eq!(body["batch"]["state"], "sealed");
    assert_eq!(body["jobs"].as_array().unwrap().len(), 3);
    assert_eq!(body["jobs"][1]["kind"], "diag.noop");
    let on_complete = body["batch"]["on_complete"].as_str().unwrap().to_string();
    let on_success = body["batch"]["on_success"].as_str().unwrap().to_string();

    let resources = Resources {
        engine: ctx.state.engine.clone(),
        pg: Some(ctx.state.pool.clone()),
        settings: ctx.state.settings.clone(),
    };
    let handler = KindHandler::new(Arc::new(api_lite::state::registry()), resources);
    let w = WorkerHandle::spawn(ctx.state.engine.clone(), "diag", 4, handler);
    let done = eventually(|| async {
        let (s, b) = ctx
            .req(
                Method::GET,
                &format!("/v1/batches/{id}"),
                Some(&ctx.a.key),
                None,
            )
            .await;
        (s == StatusCode::OK).then_some(b)
    })
    .until(|b: &Value| b["state"] == "done")
    .await;
    assert_eq!(
        (
            &done["succeeded"],
            &done["dead"],
            &done["cancelled"],
            &done["pending"]
        ),
        (&json!(2), &json!(1), &json!(0), &json!(0))
    );
    let (_, cb) = eventually(|| async {
        let r = ctx
            .req(
                Method::GET,
                &format!("/v1/jobs/{on_complete}"),
                Some(&ctx.a.key),
                None,
            )
            .await;
        (r.0 == StatusCode::OK).then_some(r)
    })
    .until(|(_, j): &(StatusCode, Value)| j["status"] == "succeeded")
    .await;
    assert_eq!(
        cb["result"],
        json!({ "batch": { "id": id, "total": 3, "succeeded": 2, "dead": 1, "cancelled": 0 }, "note": "all ended" })
    );
    // Not every member succeeded: no on_success job.
    let (s, _) = ctx
        .req(
            Method::GET,
            &format!("/v1/jobs/{on_success}"),
            Some(&ctx.a.key),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // Another tenant sees no such batch.
    let (s, e) = ctx
        .req(
            Method::GET,
            &format!("/v1/batches/{id}"),
            Some(&ctx.b.key),
            None,
        )
        .await;
    assert_eq!(
        (s, e["error"].as_str()),
        (StatusCode::NOT_FOUND, Some("batch_not_found"))
    );
    let (s, _) = ctx
        .req(
            Method::POST,
            &format!("/v1/batches/{id}/cancel"),
            Some(&ctx.b.key),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    w.stop().await;
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn cancelling_a_batch_cancels_its_waiting_jobs(pool: PgPool) {
    let ctx = Ctx::new(pool).await;
    let (status, body) = create(
        &ctx,
        json!({
            "jobs": [
                { "kind": "diag.noop", "payload": {}, "delay_ms": 60000 },
                { "kind": "diag.noop", "payload": {}, "delay_ms": 60000 },
            ],
            "on_complete": { "kind": "diag.batch_done", "payload": {} },
        }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["batch"]["id"].as_str().unwrap();
    let (s, c) = ctx
        .req(
            Method::POST,
            &format!("/v1/batches/{id}/cancel"),
            Some(&ctx.a.key),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{c}");
    assert_eq!(c["cancelled"], 2);
    assert_eq!(
        (c["batch"]["state"].as_str(), &c["batch"]["cancelled"]),
        (Some("done"), &json!(2))
    );
    assert_eq!(c["batch"]["cancel_requested"], true);
    let member = body["jobs"][0]["id"].as_str().unwrap();
    let (_, j) = ctx
        .req(
            Method::GET,
            &format!("/v1/jobs/{member}"),
            Some(&ctx.a.key),
            None,
        )
        .await;
    assert_eq!(
        (j["status"].as_str(), j["batch"].as_str()),
        (Some("cancelled"), Some(id))
    );
    // The callback was pushed (queued) at the cancel.
    let cb = c["batch"]["on_complete"].as_str().unwrap();
    let (_, j) = ctx
        .req(
            Method::GET,
            &format!("/v1/jobs/{cb}"),
            Some(&ctx.a.key),
            None,
        )
        .await;
    assert_eq!(j["status"], "queued");
    assert_eq!(j["payload"]["batch"]["cancelled"], 2);
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn bad_batches_are_refused_naming_the_field(pool: PgPool) {
    let ctx = Ctx::new(pool).await;
    let cases = [
        (json!({ "jobs": [] }), "jobs"),
        (
            json!({ "jobs": [{ "kind": "diag.noop", "payload": {} }, { "kind": "diag.sleep", "payload": { "ms": "x" } }] }),
            "jobs[1].payload.ms",
        ),
        (
            json!({ "jobs": [{ "kind": "diag.noop", "payload": {} }, { "kind": "no.such", "payload": {} }] }),
            "jobs[1].kind",
        ),
        (
            json!({ "jobs": [{ "kind": "diag.noop", "payload": {} }], "on_complete": { "kind": "diag.batch_done", "payload": [] } }),
            "on_complete.payload",
        ),
        (
            json!({ "jobs": [{ "kind": "diag.noop", "payload": {} }], "on_success": { "kind": "diag.noop", "payload": {} } }),
            "on_success.payload.batch",
        ),
        (
            json!({ "jobs": [{ "kind": "diag.noop", "payload": {} }], "on_complete": { "kind": "diag.batch_done", "payload": { "batch": 1 } } }),
            "on_complete.payload.batch",
        ),
    ];
    for (body, field) in cases {
        let (s, e) = create(&ctx, body.clone()).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body} → {e}");
        assert_eq!(e["details"]["field"], field, "{body} → {e}");
    }
    let many: Vec<Value> = (0..1001)
        .map(|_| json!({ "kind": "diag.noop", "payload": {} }))
        .collect();
    let (s, e) = create(&ctx, json!({ "jobs": many })).await;
    assert_eq!(
        (s, &e["details"]["field"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &json!("jobs"))
    );
    assert_eq!(e["details"]["max"], 1000);
    // Nothing was created by the refused requests.
    let counts = ctx.state.engine.counts("diag").await.unwrap();
    assert_eq!(counts.queued + counts.scheduled, 0);
    let (s, _) = ctx
        .req(Method::GET, "/v1/batches/nope", Some(&ctx.a.key), None)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn the_console_shows_batches_and_concurrency_slots(pool: PgPool) {
    let ctx = Ctx::new(pool).await;
    let (status, body) = create(
        &ctx,
        json!({ "jobs": [{ "kind": "diag.noop", "payload": {} }, { "kind": "diag.noop", "payload": {} }] }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["batch"]["id"].as_str().unwrap();
    ctx.state
        .engine
        .set_concurrency_limit("diag", "provider:slow", 5)
        .await
        .unwrap();
    let page = console_support::get("/console/batches", None);
    let r = console_support::raw(&ctx.app, page).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "needs a session");
    console_support::ops_user(&ctx.state).await;
    let (cookie, _) = console_support::login(&ctx.app).await;
    let r = console_support::raw(
        &ctx.app,
        console_support::get("/console/batches", Some(&cookie)),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    let row = console_support::row_with(&r.body, id);
    assert!(row.iter().any(|c| c.contains("0/2")), "{row:?}");
    assert!(row.iter().any(|c| c == "sealed"), "{row:?}");
    let limit = console_support::row_with(&r.body, "provider:slow");
    assert_eq!(limit[2], "5", "{limit:?}");
}

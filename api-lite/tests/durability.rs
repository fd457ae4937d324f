//! `engine.durability = "replicated"` over HTTP: on a Redis with no replica to
//! confirm a push, the routes that push jobs answer 503 `not_replicated` with
//! `Retry-After: 1`, and `/openapi.json` documents that response on them.

mod common;

use axum::http::{Method, StatusCode};
use common::*;
use jobs::engine::servers::own_server;
use jobs::engine::Durability;
use serde_json::{json, Value};
use sqlx::PgPool;
use tower::ServiceExt;

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn an_unconfirmed_push_is_a_503_not_replicated_the_spec_documents(pool: PgPool) {
    // A standalone server of the test's own: no replica can ever confirm.
    let (server, dir) = own_server();
    let url = server.url();
    let ctx = Ctx::with(pool, |s| {
        s.redis.url = url;
        s.engine.durability = Durability::Replicated;
        s.engine.replica_wait_ms = 100;
    })
    .await;
    let (_, doc) = ctx.req(Method::GET, "/openapi.json", None, None).await;

    let noop = json!({ "kind": "diag.noop", "payload": {} });
    for (path, spec_path, body) in [
        (
            "/v1/jobs/diag.noop",
            "/v1/jobs/{kind}",
            json!({ "payload": {} }),
        ),
        ("/v1/jobs", "/v1/jobs", json!([noop.clone()])),
        (
            "/v1/batches",
            "/v1/batches",
            json!({ "jobs": [noop], "on_complete": { "kind": "diag.batch_done", "payload": {} } }),
        ),
    ] {
        let res = ctx
            .app
            .clone()
            .oneshot(request(Method::POST, path, Some(&ctx.a.key), Some(body)))
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE, "{path}");
        assert_eq!(
            res.headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok()),
            Some("1"),
            "{path}"
        );
        let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .unwrap();
        let err: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(err["error"], "not_replicated", "{path}: {err}");
        assert_eq!(
            err["details"],
            json!({ "queue": "diag", "waited_ms": 100 }),
            "{path}"
        );
        let documented = &doc["paths"][spec_path]["post"]["responses"]["503"];
        assert!(
            documented["description"]
                .as_str()
                .is_some_and(|d| d.contains("not_replicated")),
            "POST {spec_path} does not document 503 not_replicated: {documented}"
        );
    }

    // The same server with async durability takes the push: only the missing replica failed it.
    let plain = Ctx::with(ctx.pool.clone(), |s| s.redis.url = server.url()).await;
    let (status, body) = plain
        .req(
            Method::POST,
            "/v1/jobs/diag.noop",
            Some(&plain.a.key),
            Some(json!({ "payload": {} })),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    drop(server);
    let _ = std::fs::remove_dir_all(dir);
}

//! Issue 21: per-tenant limits (request rate per key and tenant, waiting jobs
//! per queue, upload bytes per day) and their isolation between tenants; the
//! API key cache (revocation seen by another replica, expiry, rotation,
//! `last_used_at`); console security headers and cookie flags; the `/metrics`
//! token. Outcomes are counted, never timed.

mod common;

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use common::*;
use jobs::engine::Engine;
use jobs::limits::LimitOverrides;
use jobs::testing::eventually;
use serde_json::{json, Value};
use sqlx::PgPool;
use tower::ServiceExt;

/// Status, headers and JSON body of one request through `app`.
async fn full(app: &axum::Router, req: Request<Body>) -> (StatusCode, HeaderMap, Value) {
    let res = app.clone().oneshot(req).await.unwrap();
    let (parts, body) = res.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    let v = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()));
    (parts.status, parts.headers, v)
}

fn enqueue(key: &str) -> Request<Body> {
    request(
        Method::POST,
        "/v1/jobs/diag.noop",
        Some(key),
        Some(json!({ "payload": {} })),
    )
}

fn header(h: &HeaderMap, name: &str) -> Option<String> {
    h.get(name).and_then(|v| v.to_str().ok()).map(String::from)
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn a_tenant_at_its_rate_limit_does_not_deny_another(pool: PgPool) {
    let ctx = Ctx::with(pool, |s| {
        // 0.001/s: no refill during the test; the burst is the whole allowance.
        s.limits.key_per_second = 0.001;
        s.limits.key_burst = 5;
        s.limits.tenant_per_second = 0.001;
        s.limits.tenant_burst = 8;
    })
    .await;
    let mut a = std::collections::BTreeMap::<u16, u32>::new();
    let mut last_429 = None;
    for _ in 0..12 {
        let (status, headers, body) = full(&ctx.app, enqueue(&ctx.a.key)).await;
        *a.entry(status.as_u16()).or_default() += 1;
        assert!(
            header(&headers, "ratelimit-limit").is_some(),
            "{status} {body}"
        );
        assert!(header(&headers, "ratelimit-remaining").is_some());
        assert!(header(&headers, "ratelimit-reset").is_some());
        if status == StatusCode::TOO_MANY_REQUESTS {
            last_429 = Some((headers, body));
        }
    }
    assert_eq!(
        a,
        [(202, 5), (429, 7)].into_iter().collect(),
        "tenant A: {a:?}"
    );
    let (headers, body) = last_429.unwrap();
    assert_eq!(body["error"], "rate_limited");
    assert_eq!(body["details"]["limit"], "key_rate");
    let retry: u64 = header(&headers, "retry-after").unwrap().parse().unwrap();
    assert!(retry >= 1);
    assert_eq!(
        header(&headers, "ratelimit-remaining").as_deref(),
        Some("0")
    );

    // Tenant B, same instant, same replica: its whole burst goes through.
    let mut b = std::collections::BTreeMap::<u16, u32>::new();
    for i in 0..5 {
        let (status, headers, _) = full(&ctx.app, enqueue(&ctx.b.key)).await;
        *b.entry(status.as_u16()).or_default() += 1;
        assert_eq!(
            header(&headers, "ratelimit-remaining"),
            Some((4 - i).to_string())
        );
    }
    assert_eq!(b, [(202, 5)].into_iter().collect(), "tenant B: {b:?}");

    // A second key of tenant A has its own key bucket but shares the tenant's 8.
    let a2 = ctx.key(ctx.a.id, &["jobs:write"]).await;
    let mut a2n = std::collections::BTreeMap::<u16, u32>::new();
    for _ in 0..5 {
        let (status, _, body) = full(&ctx.app, enqueue(&a2)).await;
        *a2n.entry(status.as_u16()).or_default() += 1;
        if status == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(body["details"]["limit"], "tenant_rate");
        }
    }
    assert_eq!(a2n, [(202, 3), (429, 2)].into_iter().collect(), "{a2n:?}");

    // Rejections are counted per tenant.
    let (_, _, text) = full(&ctx.app, request(Method::GET, "/metrics", None, None)).await;
    let text = text.as_str().unwrap().to_string();
    let rejections = |tenant: uuid::Uuid, limit: &str| -> Option<String> {
        text.lines()
            .find(|l| {
                l.starts_with("tarefa_api_rejections_total{")
                    && l.contains(&format!("tenant=\"{tenant}\""))
                    && l.contains(&format!("limit=\"{limit}\""))
            })
            .and_then(|l| l.rsplit(' ').next())
            .map(String::from)
    };
    assert_eq!(rejections(ctx.a.id, "key_rate").as_deref(), Some("7"));
    assert_eq!(rejections(ctx.a.id, "tenant_rate").as_deref(), Some("2"));
    assert_eq!(
        rejections(ctx.b.id, "key_rate"),
        None,
        "tenant B was refused"
    );
    assert_eq!(
        rejections(ctx.b.id, "tenant_rate"),
        None,
        "tenant B was refused"
    );
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn the_waiting_cap_is_per_tenant_and_overridable(pool: PgPool) {
    let mut ctx = Ctx::new(pool.clone()).await;
    let a = ctx.a.id;
    // Rebuild with tenant A capped at 2 waiting jobs per queue (others: the default).
    let mut settings = (*ctx.state.settings).clone();
    settings.limits.tenants.insert(
        a.to_string(),
        LimitOverrides {
            max_waiting_per_queue: Some(2),
            ..Default::default()
        },
    );
    ctx.state = api_lite::AppState::new(pool, ctx.state.engine.clone(), settings);
    ctx.app = api_lite::app(ctx.state.clone());
    let mut codes = Vec::new();
    for _ in 0..3 {
        let (status, _, body) = full(&ctx.app, enqueue(&ctx.a.key)).await;
        codes.push((status.as_u16(), body["error"].as_str().map(String::from)));
    }
    assert_eq!(
        codes,
        vec![
            (202, None),
            (202, None),
            (429, Some("waiting_limit".into()))
        ]
    );
    // A batch over the cap enqueues nothing of it.
    let (status, _, body) = full(
        &ctx.app,
        request(
            Method::POST,
            "/v1/jobs",
            Some(&ctx.a.key),
            Some(json!([{ "kind": "diag.noop", "payload": {} }])),
        ),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("waiting_limit"))
    );
    assert_eq!(body["details"]["limit"], 2);
    assert_eq!(ctx.state.engine.counts("diag").await.unwrap().queued, 2);
    for _ in 0..3 {
        let (status, _, _) = full(&ctx.app, enqueue(&ctx.b.key)).await;
        assert_eq!(status, StatusCode::ACCEPTED);
    }
    assert_eq!(ctx.state.engine.counts("diag").await.unwrap().queued, 5);
}

fn csv_upload(key: &str, body: &str) -> Request<Body> {
    Request::builder()
        .method(Method::POST)
        .uri("/v1/datasets?name=vendas.csv")
        .header("authorization", format!("Bearer {key}"))
        .header("content-type", "text/csv")
        .body(Body::from(body.to_string()))
        .unwrap()
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn uploads_past_the_daily_bytes_are_refused_for_that_tenant_only(pool: PgPool) {
    let mut csv = String::from("data;vendas\n");
    for d in 1..=28 {
        csv.push_str(&format!("{d:02}/01/2026;{d},5\n"));
    }
    let len = csv.len() as u64;
    let ctx = Ctx::with(pool, |s| s.limits.upload_bytes_per_day = len * 2 + len / 2).await;
    let mut codes = Vec::new();
    let mut refused = None;
    for _ in 0..3 {
        let (status, headers, body) = full(&ctx.app, csv_upload(&ctx.a.key, &csv)).await;
        codes.push(status.as_u16());
        if status == StatusCode::TOO_MANY_REQUESTS {
            refused = Some((headers, body));
        }
    }
    assert_eq!(codes, vec![202, 202, 429]);
    let (headers, body) = refused.unwrap();
    assert_eq!(body["error"], "upload_quota_exceeded");
    assert_eq!(body["details"]["used"], len * 2);
    assert!(
        header(&headers, "retry-after")
            .unwrap()
            .parse::<u64>()
            .unwrap()
            >= 1
    );
    let datasets: i64 =
        sqlx::query_scalar("select count(*) from forecast_datasets where tenant_id = $1")
            .bind(ctx.a.id)
            .fetch_one(&ctx.pool)
            .await
            .unwrap();
    assert_eq!(datasets, 2, "the refused upload stored nothing");
    let (status, _, _) = full(&ctx.app, csv_upload(&ctx.b.key, &csv)).await;
    assert_eq!(status, StatusCode::ACCEPTED);
}

async fn probe(app: &axum::Router, key: &str) -> (StatusCode, Value) {
    let (s, _, b) = full(
        app,
        request(Method::GET, "/v1/jobs?kind=diag.noop", Some(key), None),
    )
    .await;
    (s, b)
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn a_key_revoked_on_one_replica_is_refused_by_another_within_the_window(pool: PgPool) {
    let ctx = Ctx::new(pool.clone()).await;
    // A second replica: its own state and key cache, the same Redis prefix and database.
    let engine2 = Engine::connect(ctx.state.settings.engine_config())
        .await
        .unwrap();
    let other = api_lite::AppState::new(pool, engine2, (*ctx.state.settings).clone());
    let app2 = api_lite::app(other.clone());
    let (status, _, created) = full(
        &ctx.app,
        request(
            Method::POST,
            "/v1/keys",
            Some(&ctx.a.key),
            Some(json!({ "name": "backend", "scopes": ["jobs:read"] })),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let key = created["api_key"].as_str().unwrap().to_string();
    assert!(created.get("key_hash").is_none());
    // Both replicas accept (and cache) it.
    for _ in 0..3 {
        assert_eq!(probe(&ctx.app, &key).await.0, StatusCode::OK);
        assert_eq!(probe(&app2, &key).await.0, StatusCode::OK);
    }
    let id = created["id"].as_str().unwrap();
    let (status, _, revoked) = full(
        &ctx.app,
        request(
            Method::DELETE,
            &format!("/v1/keys/{id}"),
            Some(&ctx.a.key),
            None,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{revoked}");
    assert!(revoked["revoked_at"].is_string());
    // The revoking replica refuses at once; the other once it reads the epoch (≤ 250 ms).
    assert_eq!(probe(&ctx.app, &key).await.1["error"], "revoked_api_key");
    let refused = eventually(|| async { Some(probe(&app2, &key).await) })
        .until(|(s, _)| *s == StatusCode::UNAUTHORIZED)
        .await;
    assert_eq!(refused.1["error"], "revoked_api_key");
    // Another tenant cannot revoke A's keys, nor see them.
    let (status, _, body) = full(
        &ctx.app,
        request(
            Method::DELETE,
            &format!("/v1/keys/{id}"),
            Some(&ctx.b.key),
            None,
        ),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::NOT_FOUND, Some("key_not_found"))
    );
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn rotation_keeps_both_keys_valid_until_the_old_one_is_revoked(pool: PgPool) {
    let ctx = Ctx::new(pool).await;
    let old = ctx.key(ctx.a.id, &["jobs:read", "admin"]).await;
    assert_eq!(probe(&ctx.app, &old).await.0, StatusCode::OK);
    let expires = (chrono::Utc::now() + chrono::Duration::days(90)).to_rfc3339();
    let (status, _, new) = full(
        &ctx.app,
        request(Method::POST, "/v1/keys", Some(&old), Some(json!({ "name": "rotated", "scopes": ["jobs:read", "admin"], "expires_at": expires }))),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{new}");
    let new_key = new["api_key"].as_str().unwrap().to_string();
    assert!(new["expires_at"].is_string());
    // Overlap: both work.
    assert_eq!(probe(&ctx.app, &old).await.0, StatusCode::OK);
    assert_eq!(probe(&ctx.app, &new_key).await.0, StatusCode::OK);
    let (_, _, list) = full(
        &ctx.app,
        request(Method::GET, "/v1/keys", Some(&new_key), None),
    )
    .await;
    let old_id = list["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| old.starts_with(&format!("tfk_{}_", k["prefix"].as_str().unwrap())))
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, _, _) = full(
        &ctx.app,
        request(
            Method::DELETE,
            &format!("/v1/keys/{old_id}"),
            Some(&new_key),
            None,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(probe(&ctx.app, &old).await.1["error"], "revoked_api_key");
    assert_eq!(probe(&ctx.app, &new_key).await.0, StatusCode::OK);
    // last_used_at: written once for the first use, not again within the minute.
    let used = |id: String| {
        let pool = ctx.pool.clone();
        async move {
            sqlx::query_scalar::<_, Option<chrono::DateTime<chrono::Utc>>>(
                "select last_used_at from api_keys where id = $1::uuid",
            )
            .bind(id)
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    let new_id = new["id"].as_str().unwrap().to_string();
    let first = eventually(|| used(new_id.clone())).some().await;
    for _ in 0..3 {
        assert_eq!(probe(&ctx.app, &new_key).await.0, StatusCode::OK);
    }
    assert_eq!(used(new_id.clone()).await, Some(first));
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn expired_keys_are_refused_and_expiries_must_be_future(pool: PgPool) {
    let ctx = Ctx::new(pool).await;
    let mut conn = ctx.pool.acquire().await.unwrap();
    let past = chrono::Utc::now() - chrono::Duration::seconds(1);
    let (_, key) = api_lite::cli::create_key_expiring(
        &mut conn,
        ctx.a.id,
        &["jobs:read".into()],
        "old",
        Some(past),
    )
    .await
    .unwrap();
    drop(conn);
    let (status, body) = probe(&ctx.app, &key).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("expired_api_key"))
    );
    let (status, _, body) = full(
        &ctx.app,
        request(
            Method::POST,
            "/v1/keys",
            Some(&ctx.a.key),
            Some(json!({ "expires_at": past.to_rfc3339() })),
        ),
    )
    .await;
    assert_eq!(
        (status, body["details"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("expires_at"))
    );
    let (status, _, body) = full(
        &ctx.app,
        request(
            Method::POST,
            "/v1/keys",
            Some(&ctx.a.key),
            Some(json!({ "scopes": ["root"] })),
        ),
    )
    .await;
    assert_eq!(
        (status, body["details"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("scopes"))
    );
    // Only admin keys manage keys.
    let reader = ctx.key(ctx.a.id, &["jobs:read"]).await;
    let (status, _, _) = full(
        &ctx.app,
        request(Method::GET, "/v1/keys", Some(&reader), None),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn console_answers_carry_security_headers_and_secure_cookies_off_loopback(pool: PgPool) {
    let ctx = Ctx::new(pool.clone()).await;
    let (status, h, _) = full(&ctx.app, request(Method::GET, "/console/login", None, None)).await;
    assert_eq!(status, StatusCode::OK);
    let csp = header(&h, "content-security-policy").unwrap();
    assert!(
        csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"),
        "{csp}"
    );
    assert_eq!(
        header(&h, "referrer-policy").as_deref(),
        Some("no-referrer")
    );
    assert_eq!(
        header(&h, "x-content-type-options").as_deref(),
        Some("nosniff")
    );
    // Loopback listen (the test default): no Secure, so plain-HTTP local use works.
    let cookie = header(&h, "set-cookie").unwrap();
    assert!(!cookie.contains("Secure"), "{cookie}");
    // Anywhere else, Secure by default.
    let public = Ctx::with(pool, |s| s.api.listen = "0.0.0.0:8080".into()).await;
    let (_, h, _) = full(
        &public.app,
        request(Method::GET, "/console/login", None, None),
    )
    .await;
    let cookie = header(&h, "set-cookie").unwrap();
    assert!(cookie.ends_with("; Secure"), "{cookie}");
    // The JSON API is not the console: no CSP there.
    let (_, h, _) = full(&public.app, request(Method::GET, "/healthz", None, None)).await;
    assert!(header(&h, "content-security-policy").is_none());
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn metrics_want_the_token_when_one_is_set(pool: PgPool) {
    let ctx = Ctx::with(pool, |s| s.metrics.token = "scrape-secret-0123".into()).await;
    let (status, _, body) = full(&ctx.app, request(Method::GET, "/metrics", None, None)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_metrics_token"))
    );
    let (status, _, _) = full(
        &ctx.app,
        request(Method::GET, "/metrics", Some("wrong"), None),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _, body) = full(
        &ctx.app,
        request(Method::GET, "/metrics", Some("scrape-secret-0123"), None),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.as_str().unwrap().contains("tarefa_queue_jobs"));
}

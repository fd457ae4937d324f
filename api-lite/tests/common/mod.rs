//! Helpers for api-lite's HTTP tests: an `AppState` over the test's fresh
//! database (`#[sqlx::test]`, needs `DATABASE_URL`, e.g.
//! `postgres://postgres@127.0.0.1:5432/postgres`) and the real Redis under a
//! random key prefix (the test kit's `RedisPrefix`: removed on drop, even
//! after a panic), two tenants with admin keys, request helpers and JWT signers.
#![allow(dead_code)]

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use axum::Router;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use sqlx::PgPool;
use tower::ServiceExt;
use uuid::Uuid;

use api_lite::AppState;
use jobs::engine::Engine;
pub use jobs::testing::RedisPrefix;
use jobs::Settings;

pub const RS256_A_PRIVATE: &[u8] = include_bytes!("../fixtures/jwt_rs256_a_private.der");
pub const RS256_A_PUBLIC: &str = include_str!("../fixtures/jwt_rs256_a_public.pem");
pub const RS256_B_PRIVATE: &[u8] = include_bytes!("../fixtures/jwt_rs256_b_private.der");

/// Default settings on `keys`' Redis and prefix.
pub fn test_settings(keys: &RedisPrefix) -> Settings {
    let mut s = Settings::default();
    s.redis.url = keys.url.clone();
    s.redis.prefix = keys.prefix.clone();
    s
}

pub struct TestTenant {
    pub id: Uuid,
    /// Holds admin, jobs:write and jobs:read.
    pub key: String,
}

pub struct Ctx {
    pub app: Router,
    pub state: AppState,
    pub pool: PgPool,
    /// "Escola Alfa"
    pub a: TestTenant,
    /// "Escola Beta"
    pub b: TestTenant,
    /// The test's Redis keys, removed when the context drops.
    pub keys: RedisPrefix,
}

impl Ctx {
    pub async fn new(pool: PgPool) -> Ctx {
        Ctx::with(pool, |_| {}).await
    }

    /// A context whose settings `f` may change first (body limit, JWT keys, Redis URL).
    pub async fn with(pool: PgPool, f: impl FnOnce(&mut Settings)) -> Ctx {
        Ctx::build(pool, f, None).await
    }

    /// A context with encryption at rest on: its engine seals the personal-data
    /// kinds under the tenants' data keys, wrapped by master key `masters`
    /// (`TAREFA_MASTER_KEYS` syntax).
    #[allow(dead_code)]
    pub async fn sealed(pool: PgPool, masters: &str, f: impl FnOnce(&mut Settings)) -> Ctx {
        Ctx::build(pool, f, Some(masters)).await
    }

    async fn build(pool: PgPool, f: impl FnOnce(&mut Settings), masters: Option<&str>) -> Ctx {
        let keys = RedisPrefix::new();
        let mut settings = test_settings(&keys);
        f(&mut settings);
        let mut engine = Engine::connect(settings.engine_config())
            .await
            .expect("redis");
        if let Some(m) = masters {
            let ring = jobs::crypt::Keyring::new(
                pool.clone(),
                jobs::crypt::MasterKeys::parse(m).expect("master keys"),
                jobs::crypt::sealed_kinds(&api_lite::state::registry()),
            );
            engine = engine.with_cipher(std::sync::Arc::new(ring));
        }
        let a = tenant(&pool, "Escola Alfa").await;
        let b = tenant(&pool, "Escola Beta").await;
        let state = AppState::new(pool.clone(), engine, settings);
        Ctx {
            app: api_lite::app(state.clone()),
            state,
            pool,
            a,
            b,
            keys,
        }
    }

    /// A new key of `tenant` with exactly `scopes`.
    pub async fn key(&self, tenant: Uuid, scopes: &[&str]) -> String {
        let scopes: Vec<String> = scopes.iter().map(|s| s.to_string()).collect();
        let mut conn = self.pool.acquire().await.unwrap();
        api_lite::cli::create_key(&mut conn, tenant, &scopes, "test")
            .await
            .unwrap()
            .1
    }

    pub async fn call(&self, req: Request<Body>) -> (StatusCode, Value) {
        send(&self.app, req).await
    }

    /// `method uri` with a bearer credential and an optional JSON body.
    pub async fn req(
        &self,
        method: Method,
        uri: &str,
        bearer: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        self.call(request(method, uri, bearer, body)).await
    }

    /// Enqueues `diag.noop` for the tenant holding `key`; returns the job id.
    pub async fn enqueue_noop(&self, key: &str) -> String {
        let (status, body) = self
            .req(
                Method::POST,
                "/v1/jobs/diag.noop",
                Some(key),
                Some(json!({ "payload": {} })),
            )
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        body["id"].as_str().unwrap().to_string()
    }
}

pub async fn tenant(pool: &PgPool, name: &str) -> TestTenant {
    let (t, key) = api_lite::cli::create_tenant(pool, name, "America/Sao_Paulo", None, "standard")
        .await
        .unwrap();
    TestTenant { id: t.id, key }
}

pub fn request(
    method: Method,
    uri: &str,
    bearer: Option<&str>,
    body: Option<Value>,
) -> Request<Body> {
    let mut b = Request::builder().method(method).uri(uri);
    if let Some(t) = bearer {
        b = b.header("authorization", format!("Bearer {t}"));
    }
    match body {
        Some(v) => b
            .header("content-type", "application/json")
            .body(Body::from(v.to_string()))
            .unwrap(),
        None => b.body(Body::empty()).unwrap(),
    }
}

/// Sends through the router; the body as JSON (or as a JSON string when it is not JSON).
pub async fn send(app: &Router, req: Request<Body>) -> (StatusCode, Value) {
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    let body = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()));
    (status, body)
}

/// Seconds since the epoch, shifted by `offset`.
pub fn epoch(offset: i64) -> i64 {
    chrono::Utc::now().timestamp() + offset
}

pub fn hs256(secret: &str, claims: Value) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

pub fn rs256(private_der: &[u8], claims: Value) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::RS256),
        &claims,
        &EncodingKey::from_rsa_der(private_der),
    )
    .unwrap()
}

//! Health, readiness (503 naming Redis or PostgreSQL when down), metrics, the
//! OpenAPI document and Swagger UI, and one run of the real server over TCP.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use axum::http::{Method, StatusCode};
use common::*;
use serde_json::json;
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn healthz_and_readyz_answer_200_when_all_is_up(pool: PgPool) {
    let ctx = Ctx::new(pool).await;
    let (status, body) = ctx.req(Method::GET, "/healthz", None, None).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("ok"))
    );
    let (status, body) = ctx.req(Method::GET, "/readyz", None, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["checks"], json!({ "redis": "up", "postgres": "up" }));
}

/// A TCP relay to Redis that can be cut, to take "Redis" away from one state.
struct Relay {
    addr: SocketAddr,
    tasks: JoinSet<()>,
}

impl Relay {
    async fn start() -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let target = jobs::testing::redis_url()
            .trim_start_matches("redis://")
            .trim_end_matches('/')
            .to_string();
        let mut tasks = JoinSet::new();
        tasks.spawn(async move {
            let mut conns = JoinSet::new();
            // Dropping this task (on cut) drops the listener and every relayed connection.
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    return;
                };
                let target = target.clone();
                conns.spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        });
        Relay { addr, tasks }
    }

    async fn cut(mut self) {
        self.tasks.shutdown().await;
    }
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn readyz_is_503_naming_redis_when_redis_is_unreachable(pool: PgPool) {
    let relay = Relay::start().await;
    let url = format!("redis://{}", relay.addr);
    let ctx = Ctx::with(pool, |s| s.redis.url = url).await;
    let (status, _) = ctx.req(Method::GET, "/readyz", None, None).await;
    assert_eq!(status, StatusCode::OK, "reachable through the relay first");

    relay.cut().await;
    let started = std::time::Instant::now();
    let (status, body) = ctx.req(Method::GET, "/readyz", None, None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, Some("not_ready")),
        "{body}"
    );
    assert_eq!(body["details"]["down"], json!(["redis"]));
    assert_eq!(body["details"]["checks"]["postgres"], "up");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "answered in {:?}",
        started.elapsed()
    );
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn readyz_is_503_naming_postgres_when_postgres_is_unreachable(pool: PgPool) {
    let ctx = Ctx::new(pool).await;
    let dead = PgPoolOptions::new()
        .acquire_timeout(Duration::from_millis(300))
        .connect_lazy("postgres://postgres@127.0.0.1:1/nowhere")
        .unwrap();
    let state = api_lite::AppState::new(
        dead,
        ctx.state.engine.clone(),
        (*ctx.state.settings).clone(),
    );
    let (status, body) = send(
        &api_lite::app(state),
        request(Method::GET, "/readyz", None, None),
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["details"]["down"], json!(["postgres"]));
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn metrics_expose_enqueues_and_queue_depth(pool: PgPool) {
    let ctx = Ctx::new(pool).await;
    ctx.enqueue_noop(&ctx.a.key).await;
    let (status, body) = ctx.req(Method::GET, "/metrics", None, None).await;
    assert_eq!(status, StatusCode::OK);
    let text = body.as_str().expect("text body");
    let enqueued = format!(
        "tarefa_jobs_enqueued_total{{kind=\"diag.noop\",tenant=\"{}\"}} 1\n",
        ctx.a.id
    );
    assert!(text.contains(&enqueued), "{text}");
    assert!(
        !text.lines().any(|l| l.contains("} ") && l.contains("# ")),
        "one sample per line: {text}"
    );
    assert!(
        text.contains("tarefa_queue_jobs{queue=\"diag\",state=\"queued\"} 1"),
        "{text}"
    );
    assert!(text.contains("# TYPE tarefa_jobs_total counter"), "{text}");
    assert!(
        text.contains("# TYPE tarefa_job_run_seconds histogram"),
        "{text}"
    );
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn openapi_document_and_docs_are_served(pool: PgPool) {
    let ctx = Ctx::new(pool).await;
    let (status, doc) = ctx.req(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    for path in [
        "/v1/jobs/{kind}",
        "/v1/jobs",
        "/v1/jobs/{id}",
        "/v1/queues",
        "/readyz",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} missing");
    }
    assert!(doc["components"]["schemas"]["diag.sleep"].is_object());
    let (status, page) = ctx.req(Method::GET, "/docs/", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.as_str().unwrap().contains("swagger"), "{page}");
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn unknown_route_is_a_json_404(pool: PgPool) {
    let ctx = Ctx::new(pool).await;
    let (status, body) = ctx.req(Method::GET, "/v2/nothing", None, None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::NOT_FOUND, Some("no_route"))
    );
}

/// The database URL of this test's fresh database.
pub fn database_url(pool: &PgPool) -> String {
    let base = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    let db = pool
        .connect_options()
        .get_database()
        .expect("database name")
        .to_string();
    format!("{}/{db}", &base[..base.rfind('/').unwrap()])
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn server_runs_over_tcp_and_stops_on_shutdown(pool: PgPool) {
    let t = tenant(&pool, "Escola Gama").await;
    let keys = RedisPrefix::new();
    let mut settings = test_settings(&keys);
    settings.database.url = database_url(&pool);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(api_lite::run(settings, listener, async move {
        let _ = stopped.await;
    }));

    let body = json!({ "payload": {} }).to_string();
    let raw = format!(
        "POST /v1/jobs/diag.noop HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {}\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{body}",
        t.key,
        body.len()
    );
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(raw.as_bytes()).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 202"), "{answer}");
    assert!(answer.contains("\"status\":\"queued\""), "{answer}");

    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn cors_allows_only_configured_origins(pool: PgPool) {
    use tower::ServiceExt;
    let ctx = Ctx::with(pool, |s| {
        s.api.cors_origins = vec!["https://app.escola.com.br".into()]
    })
    .await;
    let preflight = |origin: &str| {
        axum::http::Request::builder()
            .method(Method::OPTIONS)
            .uri("/v1/jobs/diag.noop")
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization,content-type",
            )
            .body(axum::body::Body::empty())
            .unwrap()
    };
    let allowed = ctx
        .app
        .clone()
        .oneshot(preflight("https://app.escola.com.br"))
        .await
        .unwrap();
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://app.escola.com.br"
    );
    let refused = ctx
        .app
        .clone()
        .oneshot(preflight("https://evil.example"))
        .await
        .unwrap();
    assert!(refused
        .headers()
        .get("access-control-allow-origin")
        .is_none());
}

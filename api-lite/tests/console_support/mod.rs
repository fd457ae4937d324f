//! Helpers for the console tests: an ops user, the server over TCP on port 0,
//! a signed-in session through the router (cookie + CSRF token read from the
//! HTML), an in-process worker, and a known workload of dead jobs.
#![allow(dead_code)]

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use serde_json::{json, Value};
use tower::ServiceExt;

use api_lite::AppState;
use jobs::engine::{JobStatus, NewJob};
use jobs::kinds::Registry;
use jobs::testing::WorkerHandle;

pub const OPS_EMAIL: &str = "ops@tarefa.dev";
pub const OPS_PASSWORD: &str = "s3nha-de-plantao";

pub async fn ops_user(st: &AppState) {
    let hash = api_lite::console::users::hash_password(OPS_PASSWORD).unwrap();
    api_lite::console::users::upsert(&st.pool, OPS_EMAIL, &hash)
        .await
        .unwrap();
}

/// Serves the app on 127.0.0.1:0; returns its base URL. The task ends with the test runtime.
pub async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

/// The value of the first `name="csrf"` hidden field in `html`.
pub fn csrf_in(html: &str) -> String {
    let at =
        html.find(r#"name="csrf" value=""#).expect("a csrf field") + r#"name="csrf" value=""#.len();
    html[at..].split('"').next().unwrap().to_string()
}

pub struct Raw {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

pub async fn raw(app: &Router, req: Request<Body>) -> Raw {
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    Raw {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into(),
    }
}

pub fn get(uri: &str, cookie: Option<&str>) -> Request<Body> {
    let mut b = Request::builder().uri(uri);
    if let Some(c) = cookie {
        b = b.header(header::COOKIE, c);
    }
    b.body(Body::empty()).unwrap()
}

pub fn post_form(uri: &str, cookie: Option<&str>, form: &[(&str, &str)]) -> Request<Body> {
    let mut b = Request::builder()
        .method("POST")
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(c) = cookie {
        b = b.header(header::COOKIE, c);
    }
    b.body(Body::from(serde_urlencoded::to_string(form).unwrap()))
        .unwrap()
}

/// `name=value` of the Set-Cookie for `name`.
pub fn set_cookie(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|v| v.split(';').next().unwrap().to_string())
}

/// Signs in through the router; returns (session cookie, CSRF token of the session).
pub async fn login(app: &Router) -> (String, String) {
    let form = raw(app, get("/console/login", None)).await;
    let pre = set_cookie(&form.headers, "tarefa_login_csrf").unwrap();
    let csrf = csrf_in(&form.body);
    let res = raw(
        app,
        post_form(
            "/console/login",
            Some(&pre),
            &[
                ("csrf", &csrf),
                ("email", OPS_EMAIL),
                ("password", OPS_PASSWORD),
            ],
        ),
    )
    .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let cookie = set_cookie(&res.headers, "tarefa_console").unwrap();
    let page = raw(app, get("/console", Some(&cookie))).await;
    assert_eq!(page.status, StatusCode::OK);
    (cookie, csrf_in(&page.body))
}

/// Serves `queue` in-process with the builtin kinds (the test kit's worker).
pub fn worker(st: &AppState, queue: &str) -> WorkerHandle {
    jobs::testing::worker(&st.engine, queue, 4, Registry::builtin())
}

/// Pushes a `diag.sleep` that fails permanently, for `tenant`.
pub async fn push_failing(st: &AppState, tenant: &str) -> String {
    let job = NewJob::new(
        "diag",
        "diag.sleep",
        tenant,
        json!({ "ms": 0, "permanent": true }),
    );
    st.engine.push(job).await.unwrap().id
}

/// Polls (10 ms) until every job in `ids` has `status`.
pub async fn wait_status(st: &AppState, ids: &[String], status: JobStatus) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let mut all = true;
        for id in ids {
            let j = st.engine.job("diag", id).await.unwrap();
            all &= j.map(|j| j.status) == Some(status);
        }
        if all {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "jobs did not all become {}",
            status.as_str()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Audit actions recorded so far, oldest first.
pub async fn audit_actions(st: &AppState) -> Vec<(String, String, Value)> {
    let rows = api_lite::audit::list(&st.pool, None, None, 500)
        .await
        .unwrap();
    rows.into_iter()
        .rev()
        .map(|e| (e.actor, e.action, e.details))
        .collect()
}

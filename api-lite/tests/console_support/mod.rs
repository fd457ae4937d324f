//! Helpers for the console tests: an ops user, the server over TCP on port 0,
//! a signed-in session through the router (cookie + CSRF token read from the
//! HTML), an in-process worker, a known workload of dead jobs, and the
//! per-tenant pages' data: outbox rows in a given status, documents (failed
//! with a reason), alerts raised by two rules.
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
    // As the CLI does it: operators are the system's, not a tenant's.
    jobs::store::scope::as_system(api_lite::console::users::upsert(&st.pool, OPS_EMAIL, &hash))
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
    // Across tenants, as the console reads it.
    let rows = jobs::store::scope::as_system(api_lite::audit::list(&st.pool, None, None, 500))
        .await
        .unwrap();
    rows.into_iter()
        .rev()
        .map(|e| (e.actor, e.action, e.details))
        .collect()
}

/// An e-mail outbox row of `tenant`, queued like `POST /v1/notifications`,
/// then moved as `notify.send` moves it: `queued` (left), `sent` (claimed,
/// provider id `msg-0001`) or `unknown` (claimed, then `reason`).
pub async fn outbox_row(
    st: &AppState,
    tenant: uuid::Uuid,
    dedup_key: &str,
    recipient: &str,
    status: &str,
    reason: Option<&str>,
) -> uuid::Uuid {
    use jobs::kinds::notify::{outbox, sql, NotificationRequest};
    let req: NotificationRequest = serde_json::from_value(json!({
        "channel": "email", "recipient": recipient, "dedup_key": dedup_key,
        "message": { "subject": "Aviso", "text": "Reunião de pais sexta às 19h" },
    }))
    .unwrap();
    // Written as the tenant's request and job would (row-level security).
    jobs::store::scope::as_tenant(tenant, async {
        let rows = outbox::enqueue(&st.pool, &st.engine, tenant, &req)
            .await
            .unwrap();
        let id = rows[0].row.id;
        match status {
            "queued" => {}
            "sent" => {
                sql::claim(&st.pool, id).await.unwrap().expect("claimed");
                sql::mark_sent(&st.pool, id, Some("msg-0001"))
                    .await
                    .unwrap();
            }
            "unknown" => {
                sql::claim(&st.pool, id).await.unwrap().expect("claimed");
                assert!(sql::set_status(&st.pool, id, "sending", "unknown", reason)
                    .await
                    .unwrap());
            }
            other => panic!("outbox_row: no way to {other}"),
        }
        id
    })
    .await
}

/// A document row of `tenant` (no blob: the pages and re-extract never read
/// it), `queued`, or `failed` for good with `(code, message)` after one run.
pub async fn document(
    st: &AppState,
    tenant: uuid::Uuid,
    filename: &str,
    failed: Option<(&str, &str)>,
) -> jobs::kinds::documents::sql::Document {
    use jobs::kinds::documents::sql;
    let job_id = jobs::engine::new_job_id();
    let new = sql::NewDocument {
        id: uuid::Uuid::now_v7(),
        tenant_id: tenant,
        sha256: format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        ),
        size_bytes: 48_213,
        filename: filename.to_string(),
        content_type: "application/pdf".into(),
        student_id: None,
        doc_type: Some("boletim".into()),
        job_id: job_id.clone(),
    };
    // Written as the tenant's request and job would (row-level security).
    jobs::store::scope::as_tenant(tenant, async {
        let mut conn = st.pool.acquire().await.unwrap();
        let (doc, created) = sql::insert_or_get(&mut conn, &new).await.unwrap();
        assert!(created);
        if let Some((code, message)) = failed {
            sql::start(&st.pool, tenant, doc.id, &job_id)
                .await
                .unwrap()
                .expect("owned by its job");
            sql::fail(&st.pool, doc.id, &job_id, code, message, true)
                .await
                .unwrap();
        }
        sql::get(&st.pool, tenant, doc.id).await.unwrap().unwrap()
    })
    .await
}

/// Tenant A's attendance alerts, evaluated: rule "frequência" (below 75 %)
/// holds for Ana (72 %), Caio (50 %) and Dora (40 %, a name with markup),
/// rule "frequência crítica" (below 60 %) for Caio and Dora; Bruno (80 %)
/// has none. Returns the two rules' ids.
pub async fn alerts_of_a(ctx: &crate::common::Ctx) -> (uuid::Uuid, uuid::Uuid) {
    use axum::http::Method;
    let key = Some(ctx.a.key.as_str());
    let (s, body) = ctx.req(Method::POST, "/v1/academic/students", key, Some(json!([
        {"registration": "2026001", "name": "Ana Souza", "guardians": [{"name": "Maria", "email": "maria@example.com"}]},
        {"registration": "2026002", "name": "Bruno Lima", "guardians": [{"name": "Carla", "email": "carla@example.com"}]},
        {"registration": "2026003", "name": "Caio Reis", "guardians": [{"name": "Rosa"}]},
        {"registration": "2026004", "name": "Dora <b>Reis</b>", "guardians": [{"name": "Lúcia"}]},
    ]))).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let year = chrono::Datelike::year(&chrono::Utc::now());
    let rows: Vec<Value> = [
        ("2026001", 28),
        ("2026002", 20),
        ("2026003", 50),
        ("2026004", 60),
    ]
    .iter()
    .map(|(r, absences)| {
        json!({"registration": r, "subject": "Matemática", "year": year, "term": 1,
                                   "classes_given": 100, "absences": absences})
    })
    .collect();
    let (s, body) = ctx
        .req(
            Method::POST,
            "/v1/academic/attendance",
            key,
            Some(json!(rows)),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let mut ids = Vec::new();
    for (name, min) in [("frequência", 75), ("frequência crítica", 60)] {
        let rule = json!({"name": name, "condition": {"type": "attendance_below", "min_pct": min},
                          "audience": ["guardians"], "channels": ["email"]});
        let (s, body) = ctx
            .req(Method::POST, "/v1/alert-rules", key, Some(rule))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{body}");
        ids.push(body["id"].as_str().unwrap().parse().unwrap());
    }
    let out = jobs::kinds::alerts::run(
        &ctx.pool,
        &ctx.state.engine,
        ctx.a.id,
        &Default::default(),
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    assert_eq!(out.opened, 5);
    (ids[0], ids[1])
}

/// The id of tenant A's alert of `rule` for the student with `registration`.
pub async fn alert_id(
    ctx: &crate::common::Ctx,
    rule: uuid::Uuid,
    registration: &str,
) -> uuid::Uuid {
    let filter = jobs::kinds::alerts::sql::AlertFilter {
        rule: Some(rule),
        registration: Some(registration.into()),
        limit: 10,
        ..Default::default()
    };
    let found = jobs::kinds::alerts::sql::list_alerts(&ctx.pool, ctx.a.id, &filter)
        .await
        .unwrap();
    assert_eq!(found.len(), 1, "{registration}");
    found[0].id
}

/// The cells (inner HTML of each `<td>`) of the first table row containing `needle`.
pub fn row_with(html: &str, needle: &str) -> Vec<String> {
    let row = html
        .split("<tr>")
        .find(|r| r.contains(needle))
        .unwrap_or_else(|| panic!("no row with {needle:?} in {html}"));
    let row = row.split("</tr>").next().unwrap();
    row.split("<td>")
        .skip(1)
        .map(|c| c.split("</td>").next().unwrap().to_string())
        .collect()
}

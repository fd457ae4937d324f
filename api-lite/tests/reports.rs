//! `/v1/reports` over HTTP (no renderer here: api-lite does not link the
//! reports crate): bad requests are a 422 naming the field, an identical
//! request within the window is the same report, another tenant's report is
//! a 404, the file is a 409 until done, and signed links work for their own
//! report only, until they expire.

mod common;
mod console_support;

use axum::http::{Method, StatusCode};
use common::*;
use jobs::blobs::{self, BlobStore};
use jobs::kinds::reports::{link, sql};
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

const SECRET: &str = "test-report-link-secret";

async fn ctx(pool: PgPool, dir: &std::path::Path) -> Ctx {
    jobs::testing::Bed::set_env("TAREFA_REPORTS_URL_SECRET", SECRET);
    let dir = dir.to_string_lossy().to_string();
    Ctx::with(pool, move |s| {
        s.documents.blob_dir = dir;
        s.reports.public_base_url = "https://api.example.com".into();
    })
    .await
}

fn card() -> Value {
    json!({"type": "student_report_card", "format": "pdf", "params": {"year": 2026, "class": "9A-2026"}})
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn bad_requests_name_the_field(pool: PgPool) {
    let dir = tempfile::tempdir().unwrap();
    let c = ctx(pool, dir.path()).await;
    for (body, field) in [
        (
            json!({"type": "boletim", "format": "pdf", "params": {}}),
            "type",
        ),
        (
            json!({"type": "class_report", "format": "docx", "params": {"year": 2026, "class": "9A"}}),
            "format",
        ),
        (
            json!({"type": "class_report", "format": "pdf", "params": {"class": "9A"}}),
            "params.year",
        ),
        (
            json!({"type": "class_report", "format": "pdf", "params": {"year": 2026}}),
            "params.class",
        ),
        (
            json!({"type": "class_report", "format": "zip", "params": {"year": 2026, "class": "9A"}}),
            "format",
        ),
        (
            json!({"type": "student_report_card", "format": "pdf", "params": {"year": 2026, "klass": "9A"}}),
            "params.klass",
        ),
        (
            json!({"type": "campaign_report", "format": "csv", "params": {"from": "2026-12-01", "to": "2026-11-01"}}),
            "params.to",
        ),
        (
            json!({"type": "occupancy_report", "format": "xlsx", "params": {"from": "ontem", "to": "2026-11-01"}}),
            "params.from",
        ),
        (
            json!({"type": "campaign_report", "format": "pdf", "params": {"campaign": "nope"}}),
            "params.campaign",
        ),
        (
            json!({"type": "campaign_report", "format": "pdf", "params": {"campaign": "6f1c7a52-8a1e-4a8e-9a43-0d6f1b0f3c11", "from": "2026-11-01"}}),
            "params.from",
        ),
        (
            json!({"type": "occupancy_report", "format": "pdf", "params": {"campaign": "6f1c7a52-8a1e-4a8e-9a43-0d6f1b0f3c11", "from": "2026-11-01", "to": "2026-11-02"}}),
            "params.campaign",
        ),
    ] {
        let (status, b) = c
            .req(
                Method::POST,
                "/v1/reports",
                Some(&c.a.key),
                Some(body.clone()),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {b}");
        assert_eq!(b["details"]["field"], field, "{body}: {b}");
    }
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn an_identical_request_is_the_same_report_and_others_cannot_see_it(pool: PgPool) {
    let dir = tempfile::tempdir().unwrap();
    let c = ctx(pool, dir.path()).await;
    let (s1, r1) = c
        .req(Method::POST, "/v1/reports", Some(&c.a.key), Some(card()))
        .await;
    assert_eq!(s1, StatusCode::ACCEPTED, "{r1}");
    assert_eq!(r1["status"], "queued");
    assert_eq!(r1["job_id"], r1["id"]);
    let (s2, r2) = c
        .req(Method::POST, "/v1/reports", Some(&c.a.key), Some(card()))
        .await;
    assert_eq!((s2, &r2["id"]), (StatusCode::OK, &r1["id"]));
    // Another format is another report; another tenant's identical request too.
    let mut xlsx = card();
    xlsx["format"] = json!("xlsx");
    let (s3, r3) = c
        .req(Method::POST, "/v1/reports", Some(&c.a.key), Some(xlsx))
        .await;
    assert_eq!(s3, StatusCode::ACCEPTED);
    assert_ne!(r3["id"], r1["id"]);
    let (sb, rb) = c
        .req(Method::POST, "/v1/reports", Some(&c.b.key), Some(card()))
        .await;
    assert_eq!(sb, StatusCode::ACCEPTED);
    assert_ne!(rb["id"], r1["id"]);

    let id = r1["id"].as_str().unwrap();
    let (s, got) = c
        .req(
            Method::GET,
            &format!("/v1/reports/{id}"),
            Some(&c.a.key),
            None,
        )
        .await;
    assert_eq!(
        (s, &got["type"]),
        (StatusCode::OK, &json!("student_report_card"))
    );
    let (s, _) = c
        .req(
            Method::GET,
            &format!("/v1/reports/{id}"),
            Some(&c.b.key),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = c
        .req(
            Method::GET,
            &format!("/v1/reports/{id}/file"),
            Some(&c.b.key),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, list) = c
        .req(Method::GET, "/v1/reports", Some(&c.a.key), None)
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(list["reports"].as_array().unwrap().len(), 2);
    let (s, b) = c
        .req(
            Method::GET,
            "/v1/reports?status=weird",
            Some(&c.a.key),
            None,
        )
        .await;
    assert_eq!(
        (s, &b["details"]["field"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &json!("status"))
    );

    // Not rendered yet: the file is a 409.
    let (s, b) = c
        .req(
            Method::GET,
            &format!("/v1/reports/{id}/file"),
            Some(&c.a.key),
            None,
        )
        .await;
    assert_eq!(
        (s, &b["error"]),
        (StatusCode::CONFLICT, &json!("report_not_ready"))
    );

    // Cancel, then a new identical request renders again (a cancelled report is not reused).
    let (s, b) = c
        .req(
            Method::POST,
            &format!("/v1/reports/{id}/cancel"),
            Some(&c.a.key),
            None,
        )
        .await;
    assert_eq!((s, &b["status"]), (StatusCode::OK, &json!("cancelled")));
    let (s, again) = c
        .req(Method::POST, "/v1/reports", Some(&c.a.key), Some(card()))
        .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    assert_ne!(again["id"], r1["id"]);

    let (s, _) = c
        .req(
            Method::DELETE,
            &format!("/v1/reports/{id}"),
            Some(&c.b.key),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = c
        .req(
            Method::DELETE,
            &format!("/v1/reports/{id}"),
            Some(&c.a.key),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = c
        .req(
            Method::GET,
            &format!("/v1/reports/{id}"),
            Some(&c.a.key),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

/// Marks report `id` done with `bytes` as its file, as the render job would.
async fn finish(c: &Ctx, dir: &std::path::Path, tenant: Uuid, id: Uuid, bytes: &[u8]) {
    let key = blobs::key(&tenant.to_string(), &blobs::sha256_hex(bytes)).unwrap();
    BlobStore::Local(dir.to_path_buf())
        .put(&key, bytes.to_vec())
        .await
        .unwrap();
    assert!(sql::start(&c.pool, id).await.unwrap().is_some());
    let f = sql::Finished {
        pages: Some(1),
        size_bytes: bytes.len() as i64,
        blob_key: key,
        file_name: "boletins-9a-2026.pdf".into(),
    };
    assert!(sql::finish(&c.pool, id, &f).await.unwrap());
}

async fn raw_get(c: &Ctx, uri: &str, key: Option<&str>) -> (StatusCode, Vec<u8>, String) {
    use tower::ServiceExt;
    let res = c
        .app
        .clone()
        .oneshot(request(Method::GET, uri, key, None))
        .await
        .unwrap();
    let status = res.status();
    let ctype = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, bytes.to_vec(), ctype)
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn files_download_with_the_key_or_a_signed_link_bound_to_tenant_and_expiry(pool: PgPool) {
    let dir = tempfile::tempdir().unwrap();
    let c = ctx(pool, dir.path()).await;
    let (_, a) = c
        .req(Method::POST, "/v1/reports", Some(&c.a.key), Some(card()))
        .await;
    let (_, b) = c
        .req(Method::POST, "/v1/reports", Some(&c.b.key), Some(card()))
        .await;
    let a_id: Uuid = a["id"].as_str().unwrap().parse().unwrap();
    let b_id: Uuid = b["id"].as_str().unwrap().parse().unwrap();
    finish(&c, dir.path(), c.a.id, a_id, b"%PDF-1.7 report a").await;
    finish(&c, dir.path(), c.b.id, b_id, b"%PDF-1.7 report b").await;

    let (s, bytes, ctype) = raw_get(&c, &format!("/v1/reports/{a_id}/file"), Some(&c.a.key)).await;
    assert_eq!(
        (s, bytes.as_slice(), ctype.as_str()),
        (StatusCode::OK, &b"%PDF-1.7 report a"[..], "application/pdf")
    );

    let (s, l) = c
        .req(
            Method::POST,
            &format!("/v1/reports/{a_id}/link"),
            Some(&c.a.key),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{l}");
    let url = l["url"].as_str().unwrap();
    let path = url
        .strip_prefix("https://api.example.com")
        .expect("public base URL");
    let (s, bytes, _) = raw_get(&c, path, None).await;
    assert_eq!(
        (s, bytes.as_slice()),
        (StatusCode::OK, &b"%PDF-1.7 report a"[..])
    );

    // The same signature on tenant B's report: refused.
    let other = path.replace(&a_id.to_string(), &b_id.to_string());
    let (s, _, _) = raw_get(&c, &other, None).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // A link signed for A's tenant but naming B's report: refused too.
    let forged = link::path(SECRET.as_bytes(), c.a.id, b_id, epoch(600));
    let (s, _, _) = raw_get(&c, &forged, None).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // Expired.
    let old = link::path(SECRET.as_bytes(), c.a.id, a_id, epoch(-1));
    let (s, body, _) = raw_get(&c, &old, None).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(String::from_utf8_lossy(&body).contains("link_expired"));
    // A longer expiry than signed: refused.
    let stretched = path.replace("expires=", "expires=9");
    let (s, _, _) = raw_get(&c, &stretched, None).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // No such report.
    let missing = link::path(SECRET.as_bytes(), c.a.id, Uuid::new_v4(), epoch(600));
    let (s, _, _) = raw_get(&c, &missing, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn the_render_kind_is_known_to_the_intake(pool: PgPool) {
    let dir = tempfile::tempdir().unwrap();
    let c = ctx(pool, dir.path()).await;
    let (s, doc) = c.req(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        doc["paths"]["/v1/reports"]["post"].is_object(),
        "reports in the OpenAPI document"
    );
    assert!(doc["paths"]["/v1/reports/{id}/download"]["get"].is_object());
    assert!(c.state.registry.get("reports.render").is_some());
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn the_console_lists_a_tenants_reports_with_progress_and_errors(pool: PgPool) {
    use console_support::{get, login, ops_user, raw};
    let dir = tempfile::tempdir().unwrap();
    let c = ctx(pool, dir.path()).await;
    let r = raw(&c.app, get("/console/reports", None)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "needs a session");
    ops_user(&c.state).await;
    let (cookie, _) = login(&c.app).await;
    let (_, a) = c
        .req(Method::POST, "/v1/reports", Some(&c.a.key), Some(card()))
        .await;
    let (_, b) = c
        .req(Method::POST, "/v1/reports", Some(&c.b.key), Some(card()))
        .await;
    let a_id: Uuid = a["id"].as_str().unwrap().parse().unwrap();
    sql::start(&c.pool, a_id).await.unwrap();
    sql::progress(&c.pool, a_id, 12, 40).await.unwrap();
    sql::fail(&c.pool, a_id, "failed", "no class with code \"<9A>\"")
        .await
        .unwrap();
    let page = raw(
        &c.app,
        get(
            &format!("/console/reports?tenant={}", c.a.id),
            Some(&cookie),
        ),
    )
    .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(&a_id.to_string()));
    assert!(page.body.contains("12/40"));
    assert!(
        page.body
            .contains("no class with code &quot;&lt;9A&gt;&quot;"),
        "escaped: {}",
        page.body
    );
    assert!(
        !page.body.contains(b["id"].as_str().unwrap()),
        "another tenant's report"
    );
    let done = raw(
        &c.app,
        get(
            &format!("/console/reports?tenant={}&status=done", c.a.id),
            Some(&cookie),
        ),
    )
    .await;
    assert!(!done.body.contains(&a_id.to_string()));
    let bad = raw(&c.app, get("/console/reports?status=weird", Some(&cookie))).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let home = raw(&c.app, get("/console", Some(&cookie))).await;
    assert!(home.body.contains(r#"href="/console/reports""#));
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn branding_is_checked_naming_the_field_and_stored_per_tenant(pool: PgPool) {
    let dir = tempfile::tempdir().unwrap();
    let c = ctx(pool, dir.path()).await;
    let png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";
    let gif = "R0lGODlhAQABAIAAAAAAAP///ywAAAAAAQABAAACAUwAOw==";
    // Valid base64 of 300,000 zero bytes: over the limit.
    let big = "A".repeat(400_000);
    for (body, field) in [
        (
            json!({"primary_color": "azul", "accent_color": "#123456"}),
            "primary_color",
        ),
        (
            json!({"primary_color": "#123456", "accent_color": "#12345"}),
            "accent_color",
        ),
        (
            json!({"primary_color": "#123456", "accent_color": "#654321", "logo": gif}),
            "logo",
        ),
        (
            json!({"primary_color": "#123456", "accent_color": "#654321", "logo": big}),
            "logo",
        ),
        (
            json!({"primary_color": "#123456", "accent_color": "#654321", "logo": "%%%"}),
            "logo",
        ),
    ] {
        let (status, b) = c
            .req(
                Method::PUT,
                "/v1/report-branding",
                Some(&c.a.key),
                Some(body.clone()),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {b}");
        assert_eq!(b["details"]["field"], field, "{body}: {b}");
    }
    let (status, _) = c
        .req(Method::GET, "/v1/report-branding", Some(&c.a.key), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, b) = c
        .req(
            Method::PUT,
            "/v1/report-branding",
            Some(&c.a.key),
            Some(json!({"primary_color": "#8B1E3F", "accent_color": "#3c6e71", "logo": png})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{b}");
    assert_eq!(b["primary_color"], "#8b1e3f");
    assert_eq!(b["logo_format"], "png");
    assert_eq!(b["logo_bytes"], 70);
    // Another tenant has none.
    let (status, _) = c
        .req(Method::GET, "/v1/report-branding", Some(&c.b.key), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = c
        .req(Method::DELETE, "/v1/report-branding", Some(&c.a.key), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = c
        .req(Method::GET, "/v1/report-branding", Some(&c.a.key), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

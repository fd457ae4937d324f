//! Hostile bodies (issue 21): oversized, deeply nested and malformed JSON,
//! CSV and multipart get a 4xx JSON error, never a 5xx, a crash or a hang.
//! Every request here must answer; a hang would trip the test runner's timeout.

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::*;
use serde_json::Value;
use sqlx::PgPool;

fn raw(uri: &str, key: &str, content_type: &str, body: impl Into<Vec<u8>>) -> Request<Body> {
    Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header("authorization", format!("Bearer {key}"))
        .header("content-type", content_type)
        .body(Body::from(body.into()))
        .unwrap()
}

#[track_caller]
fn assert_4xx(what: &str, r: &(StatusCode, Value)) {
    assert!(r.0.is_client_error(), "{what}: {} {}", r.0, r.1);
    assert!(
        r.1["error"].is_string(),
        "{what}: not our error shape: {}",
        r.1
    );
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn hostile_json_bodies_get_4xx(pool: PgPool) {
    let ctx = Ctx::with(pool, |s| s.api.body_limit = 64 * 1024).await;
    let key = ctx.a.key.clone();
    let json = "application/json";
    let nested = format!(
        "{{\"payload\": {}{}}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let deep_object = format!("{}1{}", "{\"a\":".repeat(50_000), "}".repeat(50_000));
    let huge = format!("{{\"payload\": {{\"s\": \"{}\"}}}}", "x".repeat(200 * 1024));
    let cases: Vec<(&str, &str, Vec<u8>)> = vec![
        (
            "/v1/jobs/diag.noop",
            "nested arrays",
            nested.clone().into_bytes(),
        ),
        (
            "/v1/jobs/diag.noop",
            "nested objects",
            deep_object.clone().into_bytes(),
        ),
        ("/v1/jobs/diag.noop", "over body_limit", huge.into_bytes()),
        (
            "/v1/jobs/diag.noop",
            "truncated",
            b"{\"payload\": {\"ms\": 1".to_vec(),
        ),
        (
            "/v1/jobs/diag.noop",
            "not UTF-8",
            vec![0x7b, 0xff, 0xfe, 0x7d],
        ),
        (
            "/v1/jobs/diag.noop",
            "NUL bytes",
            b"{\"payload\": \"\0\0\"}".to_vec(),
        ),
        ("/v1/jobs/diag.noop", "wrong type", b"[1,2,3]".to_vec()),
        (
            "/v1/jobs/diag.noop",
            "huge number",
            format!("{{\"payload\": {{}}, \"delay_ms\": 1{}}}", "0".repeat(400)).into_bytes(),
        ),
        ("/v1/jobs", "nested batch", nested.into_bytes()),
        ("/v1/jobs", "empty body", Vec::new()),
        (
            "/v1/academic/students",
            "nested ingest",
            deep_object.into_bytes(),
        ),
        (
            "/v1/keys",
            "unknown field",
            b"{\"name\": \"x\", \"admin\": true}".to_vec(),
        ),
        ("/v1/alert-rules", "garbage", b"\x00\x01\x02".to_vec()),
        (
            "/v1/events",
            "lone surrogate",
            b"{\"type\": \"\\ud800\"}".to_vec(),
        ),
        // PostgreSQL's text and jsonb cannot hold NUL: an escaped one must be a 4xx,
        // not a 500 from deep inside the insert.
        (
            "/v1/whatsapp-templates",
            "escaped NUL in a string",
            br#"{"name": "a\u0000b", "category": "marketing", "body": "Ola {{1}}", "parameters": ["nome"]}"#.to_vec(),
        ),
        (
            "/v1/contacts",
            "escaped NUL in an attribute",
            br#"{"contacts": [{"external_id": "c1", "phone": "11987654321", "attributes": {"k": "\u0000"}}]}"#.to_vec(),
        ),
        // jsonb keeps f64::MAX as an exact numeric that does not read back: the row
        // would fail every later list of templates.
        (
            "/v1/whatsapp-templates",
            "a number jsonb cannot give back",
            br#"{"name": "t", "category": "utility", "components": [{"a": 1.7976931348623157e308}]}"#.to_vec(),
        ),
        (
            "/v1/events",
            "escaped NUL in a key",
            br#"{"type": "booking.created", "data": {"a\u0000": 1}}"#.to_vec(),
        ),
    ];
    for (uri, what, body) in cases {
        let r = ctx.call(raw(uri, &key, json, body)).await;
        assert_4xx(&format!("{uri} {what}"), &r);
    }
    // Still serving afterwards.
    ctx.enqueue_noop(&key).await;
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn a_nul_in_the_path_or_query_is_a_400(pool: PgPool) {
    let ctx = Ctx::new(pool).await;
    let key = ctx.a.key.clone();
    for uri in [
        "/v1/contacts/a%00b",
        "/v1/jobs?kind=diag%00noop",
        "/v1/bookings/b%00/reminders",
    ] {
        let (status, body) = ctx.req(Method::GET, uri, Some(&key), None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {body}");
        assert_eq!(body["error"], "invalid_uri", "{uri}: {body}");
    }
    ctx.enqueue_noop(&key).await;
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn hostile_csv_bodies_get_4xx(pool: PgPool) {
    let ctx = Ctx::with(pool, |s| s.alerts.ingest_body_limit = 256 * 1024).await;
    let key = ctx.a.key.clone();
    let csv = "text/csv";
    let wide = format!("{}\n", vec!["c"; 100_000].join(","));
    let long_field = format!("registration,name\n1,\"{}\n", "a".repeat(100_000));
    let big = "registration,name\n".to_string() + &"2026001,Ana\n".repeat(40_000);
    let cases: Vec<(&str, &str, Vec<u8>)> = vec![
        (
            "/v1/academic/students",
            "over ingest_body_limit",
            big.clone().into_bytes(),
        ),
        (
            "/v1/academic/students",
            "100k columns",
            wide.clone().into_bytes(),
        ),
        (
            "/v1/academic/students",
            "unterminated quote",
            long_field.into_bytes(),
        ),
        (
            "/v1/academic/students",
            "binary",
            vec![0xff, 0x00, 0xfe, 0x0a, 0x00],
        ),
        (
            "/v1/academic/students",
            "header only, no rows",
            b"registration,name\n".to_vec(),
        ),
        (
            "/v1/academic/grades",
            "ragged rows",
            b"registration,subject,grade\n1\n2,x,8,5,9\n".to_vec(),
        ),
        ("/v1/academic/students", "empty", Vec::new()),
        (
            "/v1/datasets",
            "datasets: binary",
            vec![0xff, 0xfe, 0x00, 0x0a],
        ),
        ("/v1/datasets", "datasets: 100k columns", wide.into_bytes()),
        (
            "/v1/datasets",
            "datasets: no value column",
            b"data\n01/01/2026\n".to_vec(),
        ),
        (
            "/v1/datasets",
            "datasets: ragged",
            b"data;vendas\n01/01/2026;1;2;3\n02/01/2026\n".to_vec(),
        ),
        (
            "/v1/academic/students",
            "NUL inside a field",
            b"registration,name\n2026001,A\0na\n".to_vec(),
        ),
        (
            "/v1/contacts",
            "contacts: NUL inside a field",
            b"external_id,name,phone\nc1,A\0na,11987654321\n".to_vec(),
        ),
        (
            "/v1/datasets",
            "datasets: NUL in the header",
            b"data;ven\0das\n01/01/2026;1\n02/01/2026;2\n".to_vec(),
        ),
        (
            "/v1/campaigns/00000000-0000-0000-0000-000000000000/recipients",
            "a method the route lacks (405)",
            big.into_bytes(),
        ),
    ];
    for (uri, what, body) in cases {
        let r = ctx.call(raw(uri, &key, csv, body)).await;
        assert_4xx(&format!("{uri} {what}"), &r);
    }
    ctx.enqueue_noop(&key).await;
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn hostile_multipart_bodies_get_4xx(pool: PgPool) {
    let ctx = Ctx::with(pool, |s| s.documents.max_upload_bytes = 64 * 1024).await;
    let key = ctx.a.key.clone();
    let mp = "multipart/form-data; boundary=XyZ";
    let part = |name: &str, body: &[u8]| {
        let mut v = format!(
            "--XyZ\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"a.pdf\"\r\nContent-Type: application/pdf\r\n\r\n"
        )
        .into_bytes();
        v.extend_from_slice(body);
        v.extend_from_slice(b"\r\n");
        v
    };
    let mut oversized = part("file", &vec![b'%'; 200 * 1024]);
    oversized.extend_from_slice(b"--XyZ--\r\n");
    let truncated = part("file", b"%PDF-1.4 trunc");
    let mut many = Vec::new();
    for i in 0..2_000 {
        many.extend(part(&format!("f{i}"), b"x"));
    }
    many.extend_from_slice(b"--XyZ--\r\n");
    let mut not_pdf = part("file", b"hello, not a pdf");
    not_pdf.extend_from_slice(b"--XyZ--\r\n");
    let mut bad_student = part("file", b"%PDF-1.4\n%%EOF");
    bad_student.extend(b"--XyZ\r\nContent-Disposition: form-data; name=\"student_id\"\r\n\r\n\xff\xfe\r\n--XyZ--\r\n");
    let cases: Vec<(&str, &str, &str, Vec<u8>)> = vec![
        ("/v1/documents", "oversized file", mp, oversized.clone()),
        (
            "/v1/documents",
            "truncated (no closing boundary)",
            mp,
            truncated.clone(),
        ),
        ("/v1/documents", "2,000 parts", mp, many),
        ("/v1/documents", "not a PDF", mp, not_pdf),
        ("/v1/documents", "non-UTF-8 field", mp, bad_student),
        (
            "/v1/documents",
            "no boundary",
            "multipart/form-data",
            oversized.clone(),
        ),
        (
            "/v1/documents",
            "wrong boundary",
            "multipart/form-data; boundary=Other",
            truncated.clone(),
        ),
        ("/v1/documents", "garbage", mp, vec![0u8; 1024]),
        (
            "/v1/documents",
            "JSON instead",
            "application/json",
            b"{}".to_vec(),
        ),
        ("/v1/datasets", "datasets: truncated", mp, truncated),
        (
            "/v1/datasets",
            "datasets: oversized garbage",
            mp,
            vec![b'-'; 300 * 1024],
        ),
    ];
    for (uri, what, ct, body) in cases {
        let r = ctx.call(raw(uri, &key, ct, body)).await;
        assert_4xx(&format!("{uri} {what}"), &r);
    }
    ctx.enqueue_noop(&key).await;
}

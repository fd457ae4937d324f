//! `/v1/documents` over the real PostgreSQL and Redis, blobs in a temp
//! directory: an upload is stored by SHA-256 and queues `documents.extract`;
//! the same file twice is one document (again only with `?reextract=true`);
//! 413 over the size limit, 422 naming why a file is not a usable PDF, 400
//! for a form without `file`; scopes, tenant isolation, the read shapes.

mod common;

#[path = "../../worker/tests/documents_support/mod.rs"]
mod pdfs;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::*;
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

const BOUNDARY: &str = "tarefa-test-boundary-7";

/// A part: name, file name (a file part) and bytes.
type Part<'a> = (&'a str, Option<&'a str>, &'a [u8]);

fn form(parts: &[Part]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, filename, data) in parts {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        match filename {
            Some(f) => body.extend_from_slice(
                format!(
                    "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\n\
                     Content-Type: application/pdf\r\n\r\n"
                )
                .as_bytes(),
            ),
            None => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
            ),
        }
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

fn upload_req(uri: &str, key: Option<&str>, body: Vec<u8>) -> Request<Body> {
    let mut b = Request::builder().method(Method::POST).uri(uri).header(
        "content-type",
        format!("multipart/form-data; boundary={BOUNDARY}"),
    );
    if let Some(k) = key {
        b = b.header("authorization", format!("Bearer {k}"));
    }
    b.body(Body::from(body)).unwrap()
}

struct Docs {
    c: Ctx,
    blobs: tempfile::TempDir,
}

impl Docs {
    async fn new(pool: PgPool) -> Docs {
        Docs::with(pool, |_| {}).await
    }

    async fn with(pool: PgPool, f: impl FnOnce(&mut jobs::Settings)) -> Docs {
        let blobs = tempfile::tempdir().unwrap();
        let dir = blobs.path().to_str().unwrap().to_string();
        let c = Ctx::with(pool, |s| {
            s.documents.blob_dir = dir;
            f(s)
        })
        .await;
        Docs { c, blobs }
    }

    async fn upload(&self, key: &str, query: &str, parts: &[Part<'_>]) -> (StatusCode, Value) {
        self.c
            .call(upload_req(
                &format!("/v1/documents{query}"),
                Some(key),
                form(parts),
            ))
            .await
    }

    async fn upload_pdf(&self, key: &str, bytes: &[u8]) -> (StatusCode, Value) {
        self.upload(key, "", &[("file", Some("boletim.pdf"), bytes)])
            .await
    }

    async fn get(&self, key: &str, uri: &str) -> (StatusCode, Value) {
        self.c.req(Method::GET, uri, Some(key), None).await
    }
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn documents_upload_stores_the_blob_and_queues_an_extraction(pool: PgPool) {
    let d = Docs::new(pool).await;
    let pdf = pdfs::boletim("2024000111");
    let (s, body) = d
        .upload(
            &d.c.a.key,
            "",
            &[
                ("doc_type", None, b"boletim"),
                ("file", Some("boletim-maria.pdf"), &pdf),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["status"], "queued");
    assert_eq!(
        (body["deduplicated"].as_bool(), body["queued"].as_bool()),
        (Some(false), Some(true))
    );
    let id = body["document_id"].as_str().unwrap().to_string();
    let job_id = body["job_id"].as_str().unwrap();

    let job =
        d.c.state
            .engine
            .job("documents", job_id)
            .await
            .unwrap()
            .expect("a documents.extract job");
    assert_eq!(job.kind, "documents.extract");
    assert_eq!(job.tenant, d.c.a.id.to_string());
    assert_eq!(job.payload, json!({ "document_id": id }));
    assert_eq!(job.max_attempts, 2);

    let sha = jobs::blobs::sha256_hex(&pdf);
    let blob = d
        .blobs
        .path()
        .join(d.c.a.id.to_string())
        .join(&sha[..2])
        .join(&sha);
    assert_eq!(std::fs::read(&blob).unwrap(), pdf, "content-addressed blob");

    let (s, doc) = d.get(&d.c.a.key, &format!("/v1/documents/{id}")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(doc["document_id"], id.as_str());
    assert_eq!(doc["status"], "queued");
    assert_eq!(doc["sha256"], sha.as_str());
    assert_eq!(doc["filename"], "boletim-maria.pdf");
    assert_eq!(doc["doc_type"], "boletim");
    assert_eq!(doc["size_bytes"], pdf.len());
    assert_eq!(doc["job_id"], job_id);
    assert!(doc["result"].is_null() && doc["error"].is_null(), "{doc}");
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn documents_same_file_twice_is_one_document_until_reextract(pool: PgPool) {
    let d = Docs::new(pool).await;
    let pdf = pdfs::boletim("2024000222");
    let (_, first) = d.upload_pdf(&d.c.a.key, &pdf).await;
    let (s, again) = d.upload_pdf(&d.c.a.key, &pdf).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{again}");
    assert_eq!(again["document_id"], first["document_id"]);
    assert_eq!(again["job_id"], first["job_id"]);
    assert_eq!(
        (again["deduplicated"].as_bool(), again["queued"].as_bool()),
        (Some(true), Some(false))
    );
    let counts = d.c.state.engine.counts("documents").await.unwrap();
    assert_eq!(counts.queued, 1, "no second extraction");

    let (s, re) = d
        .upload(
            &d.c.a.key,
            "?reextract=true",
            &[("file", Some("b.pdf"), &pdf)],
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{re}");
    assert_eq!(re["document_id"], first["document_id"]);
    assert_ne!(re["job_id"], first["job_id"]);
    assert_eq!(re["queued"], true);
    let counts = d.c.state.engine.counts("documents").await.unwrap();
    assert_eq!(counts.queued, 2);
    let (_, doc) = d
        .get(
            &d.c.a.key,
            &format!("/v1/documents/{}", first["document_id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(
        doc["job_id"], re["job_id"],
        "the newest job owns the document"
    );

    // Another tenant with the same bytes gets a document of its own.
    let (s, other) = d.upload_pdf(&d.c.b.key, &pdf).await;
    assert_eq!(s, StatusCode::ACCEPTED);
    assert_ne!(other["document_id"], first["document_id"]);
    assert_eq!(other["deduplicated"], false);
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn documents_over_the_size_limit_is_413(pool: PgPool) {
    let d = Docs::with(pool, |s| s.documents.max_upload_bytes = 2_000).await;
    let big = pdfs::pages(40);
    assert!(big.len() > 2_000);
    let (s, body) = d.upload_pdf(&d.c.a.key, &big).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(body["error"], "file_too_large");
    assert_eq!(body["details"]["max_bytes"], 2_000);
    let (s, _) = d.upload_pdf(&d.c.a.key, &pdfs::pages(1)).await;
    assert_eq!(s, StatusCode::ACCEPTED, "a small file still goes through");
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn documents_unusable_files_are_422_with_the_reason(pool: PgPool) {
    let d = Docs::with(pool, |s| s.documents.max_pages = 3).await;
    let cases: [(&str, Vec<u8>, &str); 3] = [
        ("not a pdf", b"Nome;Nota\nMaria;8,5\n".to_vec(), "not_pdf"),
        ("empty", Vec::new(), "empty"),
        ("too many pages", pdfs::pages(4), "too_many_pages"),
    ];
    for (what, bytes, reason) in cases {
        let (s, body) = d.upload_pdf(&d.c.a.key, &bytes).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{what}: {body}");
        assert_eq!(body["error"], reason, "{what}: {body}");
        assert_eq!(body["details"]["reason"], reason, "{what}");
        assert!(!body["message"].as_str().unwrap().is_empty());
    }
    let (s, body) = d.upload_pdf(&d.c.a.key, &pdfs::pages(3)).await;
    assert_eq!(s, StatusCode::ACCEPTED, "at the limit is fine: {body}");
    let (_, list) = d.get(&d.c.a.key, "/v1/documents").await;
    assert_eq!(
        list["documents"].as_array().unwrap().len(),
        1,
        "refused files leave no row"
    );
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn documents_bad_forms_are_400_and_bad_hints_422(pool: PgPool) {
    let d = Docs::new(pool).await;
    let (s, body) = d
        .upload(&d.c.a.key, "", &[("doc_type", None, b"boletim")])
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], "missing_file");

    let (s, body) =
        d.c.req(
            Method::POST,
            "/v1/documents",
            Some(&d.c.a.key),
            Some(json!({"file": "x"})),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], "malformed_multipart");

    let mut broken = form(&[("file", Some("a.pdf"), &pdfs::pages(1))]);
    broken.truncate(broken.len() - 30);
    let (s, body) =
        d.c.call(upload_req("/v1/documents", Some(&d.c.a.key), broken))
            .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], "malformed_multipart");

    let pdf = pdfs::pages(1);
    let (s, body) = d
        .upload(
            &d.c.a.key,
            "",
            &[
                ("doc_type", None, b"diploma"),
                ("file", Some("a.pdf"), &pdf),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["details"]["field"], "doc_type");

    let ghost = Uuid::now_v7().to_string();
    let (s, body) = d
        .upload(
            &d.c.a.key,
            "",
            &[
                ("student_id", None, ghost.as_bytes()),
                ("file", Some("a.pdf"), &pdf),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"], "student_not_found");

    // A student of the tenant is a valid hint; another tenant's is not.
    let student = Uuid::now_v7();
    sqlx::query("insert into students (id, tenant_id, registration, name) values ($1, $2, '77', 'Pedro Alves')")
        .bind(student)
        .bind(d.c.a.id)
        .execute(&d.c.pool)
        .await
        .unwrap();
    let sid = student.to_string();
    let (s, body) = d
        .upload(
            &d.c.b.key,
            "",
            &[
                ("student_id", None, sid.as_bytes()),
                ("file", Some("a.pdf"), &pdf),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (s, body) = d
        .upload(
            &d.c.a.key,
            "",
            &[
                ("student_id", None, sid.as_bytes()),
                ("file", Some("a.pdf"), &pdf),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{body}");
    let (_, doc) = d
        .get(
            &d.c.a.key,
            &format!("/v1/documents/{}", body["document_id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(doc["student_id"], sid.as_str());
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn documents_need_credentials_and_scopes(pool: PgPool) {
    let d = Docs::new(pool).await;
    let pdf = pdfs::pages(1);
    let (s, body) =
        d.c.call(upload_req(
            "/v1/documents",
            None,
            form(&[("file", Some("a.pdf"), &pdf)]),
        ))
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["error"], "missing_credentials");

    let reader = d.c.key(d.c.a.id, &["jobs:read"]).await;
    let (s, body) = d.upload_pdf(&reader, &pdf).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"], "insufficient_scope");

    let writer = d.c.key(d.c.a.id, &["jobs:write"]).await;
    let (s, up) = d.upload_pdf(&writer, &pdf).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{up}");
    let uri = format!("/v1/documents/{}", up["document_id"].as_str().unwrap());
    let (s, _) = d.get(&reader, &uri).await;
    assert_eq!(s, StatusCode::OK);
    let (s, body) = d.get(&writer, &uri).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{body}");
    let (s, _) = d.c.req(Method::GET, &uri, None, None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn documents_of_another_tenant_are_404_and_unlisted(pool: PgPool) {
    let d = Docs::new(pool).await;
    let (_, up) = d.upload_pdf(&d.c.a.key, &pdfs::pages(1)).await;
    let id = up["document_id"].as_str().unwrap();
    let (s, body) = d.get(&d.c.b.key, &format!("/v1/documents/{id}")).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["error"], "document_not_found");
    let (s, missing) = d
        .get(&d.c.a.key, &format!("/v1/documents/{}", Uuid::now_v7()))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(
        missing["error"], body["error"],
        "missing and foreign look the same"
    );
    let (s, _) = d.get(&d.c.a.key, "/v1/documents/not-a-uuid").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (_, list) = d.get(&d.c.b.key, "/v1/documents").await;
    assert_eq!(list["documents"], json!([]));
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn documents_list_pages_newest_first_and_filters_by_status(pool: PgPool) {
    let d = Docs::new(pool).await;
    let mut ids = Vec::new();
    for n in 1..=5 {
        let (s, up) = d.upload_pdf(&d.c.a.key, &pdfs::pages(n)).await;
        assert_eq!(s, StatusCode::ACCEPTED, "{up}");
        ids.push(up["document_id"].as_str().unwrap().to_string());
    }
    ids.reverse();
    let (s, page1) = d.get(&d.c.a.key, "/v1/documents?limit=2").await;
    assert_eq!(s, StatusCode::OK, "{page1}");
    let got: Vec<&str> = page1["documents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["document_id"].as_str().unwrap())
        .collect();
    assert_eq!(got, ids[..2]);
    let next = page1["next_before"].as_str().unwrap();
    let (_, page2) = d
        .get(&d.c.a.key, &format!("/v1/documents?limit=2&before={next}"))
        .await;
    assert_eq!(page2["documents"][0]["document_id"], ids[2].as_str());
    let (_, page3) = d
        .get(
            &d.c.a.key,
            &format!(
                "/v1/documents?limit=2&before={}",
                page2["next_before"].as_str().unwrap()
            ),
        )
        .await;
    assert_eq!(page3["documents"].as_array().unwrap().len(), 1);
    assert!(page3["next_before"].is_null());

    sqlx::query("update documents set status = 'failed', error_code = 'corrupt', error_message = 'xref ilegível' where id = $1")
        .bind(Uuid::parse_str(&ids[1]).unwrap())
        .execute(&d.c.pool)
        .await
        .unwrap();
    let (_, failed) = d.get(&d.c.a.key, "/v1/documents?status=failed").await;
    let failed = failed["documents"].as_array().unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["document_id"], ids[1].as_str());
    assert_eq!(
        failed[0]["error"],
        json!({"code": "corrupt", "message": "xref ilegível"})
    );
    let (s, body) = d.get(&d.c.a.key, "/v1/documents?status=lost").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (s, _) = d.get(&d.c.a.key, "/v1/documents?limit=0").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn documents_are_in_the_openapi_document(pool: PgPool) {
    let d = Docs::new(pool).await;
    let (s, doc) = d.c.req(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(s, StatusCode::OK);
    let post = &doc["paths"]["/v1/documents"]["post"];
    assert!(
        post["requestBody"]["content"]["multipart/form-data"].is_object(),
        "{post}"
    );
    for code in ["202", "400", "413", "422"] {
        assert!(post["responses"][code].is_object(), "{code}");
    }
    assert!(doc["paths"]["/v1/documents/{id}"]["get"].is_object());
    assert!(doc["components"]["schemas"]["Extraction"].is_object());
    assert!(doc["components"]["schemas"]["DocumentView"]["properties"]["result"].is_object());
}

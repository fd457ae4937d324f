//! Encryption at rest through the API (real PostgreSQL and Redis, blobs in a
//! temp directory): a personal-data job is ciphertext in Redis, reads in
//! clear for its tenant, 404 for another; an uploaded document is
//! ciphertext on disk and opens with the tenant's key.

mod common;

#[path = "../../worker/tests/documents_support/mod.rs"]
mod pdfs;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::*;
use serde_json::json;
use sqlx::PgPool;

fn masters() -> String {
    jobs::crypt::master::new_entry("k1")
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn a_sealed_job_reads_in_clear_for_its_tenant_and_404_for_another(pool: PgPool) {
    let c = Ctx::sealed(pool, &masters(), |_| {}).await;
    let payload = json!({
        "channel": "email",
        "recipients": [
            {"recipient": "maria.souza@example.com", "dedup_key": "r1"},
            {"recipient": "joao.lima@example.com", "dedup_key": "r2"}
        ],
        "message": {"subject": "Reunião", "text": "Reunião de pais sexta às 19h"}
    });
    let (s, body) = c
        .req(
            Method::POST,
            "/v1/jobs/notify.fanout",
            Some(&c.a.key),
            Some(json!({ "payload": payload })),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{body}");
    let id = body["id"].as_str().unwrap().to_string();

    let dump = c.keys.dump().await;
    assert!(dump.contains(&id), "the job is in the dump");
    for secret in ["maria.souza", "joao.lima", "Reunião"] {
        assert!(!dump.contains(secret), "{secret} in Redis: {dump}");
    }

    let (s, job) = c
        .req(Method::GET, &format!("/v1/jobs/{id}"), Some(&c.a.key), None)
        .await;
    assert_eq!(s, StatusCode::OK, "{job}");
    assert_eq!(job["payload"], payload);
    let (s, other) = c
        .req(Method::GET, &format!("/v1/jobs/{id}"), Some(&c.b.key), None)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{other}");
    assert!(!other.to_string().contains("maria"));

    // A caller cannot plant an envelope of its own.
    let (s, e) = c
        .req(
            Method::POST,
            "/v1/jobs/diag.noop",
            Some(&c.a.key),
            Some(json!({ "payload": { "$enc": "v1:1:AAAA" } })),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
}

const BOUNDARY: &str = "tarefa-crypt-boundary";

fn upload(key: &str, pdf: &[u8]) -> Request<Body> {
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"boletim.pdf\"\r\n\
         Content-Type: application/pdf\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(pdf);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    Request::builder()
        .method(Method::POST)
        .uri("/v1/documents")
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .header("authorization", format!("Bearer {key}"))
        .body(Body::from(body))
        .unwrap()
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn an_uploaded_document_is_ciphertext_in_the_blob_store(pool: PgPool) {
    let blobs = tempfile::tempdir().unwrap();
    let dir = blobs.path().to_str().unwrap().to_string();
    let c = Ctx::sealed(pool, &masters(), |s| s.documents.blob_dir = dir).await;
    let pdf = pdfs::boletim("2024000999");
    assert!(
        pdf.windows(17).any(|w| w == b"Maria Clara Souza"),
        "the fixture holds the name in clear"
    );
    let (s, body) = c.call(upload(&c.a.key, &pdf)).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{body}");

    let sha = jobs::blobs::sha256_hex(&pdf);
    let key = jobs::blobs::key(&c.a.id.to_string(), &sha).unwrap();
    let stored = std::fs::read(blobs.path().join(&key)).unwrap();
    assert!(stored.starts_with(jobs::blobs::SEALED_MAGIC));
    assert!(!stored.windows(17).any(|w| w == b"Maria Clara Souza"));
    assert!(!stored.windows(4).any(|w| w == b"%PDF"));

    let store = jobs::blobs::BlobStore::Local(blobs.path().to_path_buf());
    let cipher = c.state.engine.cipher();
    assert_eq!(store.get_opened(cipher, &key).await.unwrap(), pdf);
    let local = store
        .to_local_opened(cipher, &key, blobs.path())
        .await
        .unwrap();
    assert_eq!(std::fs::read(local.path()).unwrap(), pdf);
    // Without the key it does not open; under another tenant's key name it does not either.
    assert!(store.get_opened(None, &key).await.is_err());
    let moved = jobs::blobs::key(&c.b.id.to_string(), &sha).unwrap();
    store.put(&moved, stored).await.unwrap();
    assert!(store.get_opened(cipher, &moved).await.is_err());
}

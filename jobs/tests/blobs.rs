//! The blob store's S3 path (`documents.blob_store = "s3"`) against a small
//! local fake S3 that speaks the real wire format for PutObject, GetObject
//! and HeadObject (path-style URLs, SigV4 `Authorization` checked for the
//! access key, ETag and Last-Modified headers, the XML `NoSuchKey` error).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use jobs::blobs::{key, sha256_hex, BlobError, BlobStore};
use jobs::kinds::documents::settings::{BlobStoreKind, DocumentsSettings};

#[derive(Clone, Default)]
struct FakeS3 {
    objects: Arc<Mutex<HashMap<String, Vec<u8>>>>,
    /// (method, path) of every request, in order.
    log: Arc<Mutex<Vec<(String, String)>>>,
}

const ACCESS_KEY: &str = "AKIATAREFATEST";

fn no_such_key(path: &str) -> Response {
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code>\
         <Message>The specified key does not exist.</Message><Key>{path}</Key></Error>"
    );
    (
        StatusCode::NOT_FOUND,
        [("content-type", "application/xml")],
        xml,
    )
        .into_response()
}

async fn object(
    State(s3): State<FakeS3>,
    method: Method,
    Path(path): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    s3.log
        .lock()
        .unwrap()
        .push((method.to_string(), path.clone()));
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !auth.starts_with(&format!("AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/"))
        || headers.get("x-amz-date").is_none()
    {
        return (
            StatusCode::FORBIDDEN,
            "<Error><Code>AccessDenied</Code></Error>",
        )
            .into_response();
    }
    let etag = |data: &[u8]| format!("\"{}\"", &sha256_hex(data)[..32]);
    let modified = "Sun, 22 Nov 2026 12:00:00 GMT";
    match method {
        Method::PUT => {
            let tag = etag(&body);
            s3.objects.lock().unwrap().insert(path, body.to_vec());
            (StatusCode::OK, [("etag", tag)]).into_response()
        }
        Method::GET | Method::HEAD => {
            let Some(data) = s3.objects.lock().unwrap().get(&path).cloned() else {
                return if method == Method::HEAD {
                    StatusCode::NOT_FOUND.into_response()
                } else {
                    no_such_key(&path)
                };
            };
            let headers = [
                ("etag", etag(&data)),
                ("last-modified", modified.to_string()),
                ("content-length", data.len().to_string()),
                ("content-type", "application/pdf".to_string()),
            ];
            let body = if method == Method::HEAD {
                Body::empty()
            } else {
                Body::from(data)
            };
            (StatusCode::OK, headers, body).into_response()
        }
        _ => StatusCode::METHOD_NOT_ALLOWED.into_response(),
    }
}

async fn start() -> (FakeS3, String) {
    let s3 = FakeS3::default();
    let app = Router::new()
        .route("/{*path}", any(object))
        .with_state(s3.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (s3, format!("http://{addr}"))
}

fn settings(endpoint: &str) -> DocumentsSettings {
    DocumentsSettings {
        blob_store: BlobStoreKind::S3,
        s3_bucket: "tarefa-docs".into(),
        s3_endpoint: endpoint.into(),
        s3_region: "sa-east-1".into(),
        s3_allow_http: true,
        s3_access_key_id: Some(ACCESS_KEY.into()),
        s3_secret_access_key: Some("segredo-de-teste".into()),
        ..DocumentsSettings::default()
    }
}

#[tokio::test]
async fn s3_store_puts_once_and_reads_back_through_the_wire_format() {
    let (s3, endpoint) = start().await;
    let store = BlobStore::from_settings(&settings(&endpoint)).unwrap();
    let bytes = b"%PDF-1.4\n% boletim de teste\n".to_vec();
    let sha = sha256_hex(&bytes);
    let k = key("0190a1b2-0000-7000-8000-000000000001", &sha).unwrap();

    assert!(!store.exists(&k).await.unwrap());
    assert!(matches!(store.get(&k).await, Err(BlobError::NotFound(_))));
    store.put(&k, bytes.clone()).await.unwrap();
    store.put(&k, bytes.clone()).await.unwrap();
    assert!(store.exists(&k).await.unwrap());
    assert_eq!(store.get(&k).await.unwrap(), bytes);

    let tmp = tempfile::tempdir().unwrap();
    let local = store.to_local_file(&k, tmp.path()).await.unwrap();
    assert_eq!(std::fs::read(local.path()).unwrap(), bytes);
    let path = local.path().to_path_buf();
    drop(local);
    assert!(!path.exists(), "the temp copy is removed on drop");

    let stored = s3.objects.lock().unwrap().clone();
    assert_eq!(stored.len(), 1);
    assert_eq!(
        stored[&format!("tarefa-docs/{k}")],
        bytes,
        "path-style, bucket first"
    );
    let puts = s3
        .log
        .lock()
        .unwrap()
        .iter()
        .filter(|(m, _)| m == "PUT")
        .count();
    assert_eq!(puts, 1, "the second put saw the object and skipped");
}

#[tokio::test]
async fn s3_store_with_wrong_credentials_fails_without_panicking() {
    let (_s3, endpoint) = start().await;
    let mut s = settings(&endpoint);
    s.s3_access_key_id = Some("AKIAOUTRA".into());
    let store = BlobStore::from_settings(&s).unwrap();
    let k = key("t", &sha256_hex(b"x")).unwrap();
    let err = store.put(&k, b"x".to_vec()).await.unwrap_err();
    assert!(matches!(err, BlobError::Remote(_)), "{err:?}");
}

/// One bucket client per process and settings: jobs and requests share its
/// connection pool instead of building a client each.
#[tokio::test]
async fn the_same_settings_share_one_bucket_client() {
    let (s3, endpoint) = start().await;
    let client = |store: &BlobStore| match store {
        BlobStore::Remote(r) => std::sync::Arc::as_ptr(r) as *const (),
        BlobStore::Local(_) => panic!("expected a bucket"),
    };
    let a = BlobStore::from_settings(&settings(&endpoint)).unwrap();
    let b = BlobStore::from_settings(&settings(&endpoint)).unwrap();
    assert_eq!(client(&a), client(&b));
    let mut other = settings(&endpoint);
    other.s3_secret_access_key = Some("outro-segredo".into());
    let c = BlobStore::from_settings(&other).unwrap();
    assert_ne!(client(&a), client(&c));
    // The shared client works for both users.
    a.put("t1/ab/abcd", b"um".to_vec()).await.unwrap();
    assert_eq!(b.get("t1/ab/abcd").await.unwrap(), b"um".to_vec());
    assert!(!s3.objects.lock().unwrap().is_empty());
}

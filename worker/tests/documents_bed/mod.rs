//! The bed of the documents tests run over worker processes
//! (worker/tests/documents.rs, documents_llm.rs): a tenant, a blob directory,
//! the engine, and documents taken in as `POST /v1/documents` takes them.
//! Each test file adds the worker it starts and how it waits.

use jobs::blobs::{sha256_hex, BlobStore};
use jobs::kinds::documents::intake::{self, Upload};
use sqlx::PgPool;
use uuid::Uuid;

use crate::common::Fleet;

/// A tenant, a blob directory, the engine, and worker processes to run.
pub struct Bed {
    pub t: Fleet,
    pub pool: PgPool,
    pub tenant: Uuid,
    pub blobs: tempfile::TempDir,
    pub store: BlobStore,
}

impl Bed {
    pub async fn new(pool: PgPool) -> Bed {
        let t = Fleet::new(|_| {}).await;
        let tenant = Uuid::now_v7();
        sqlx::query(
            "insert into tenants (id, name, slug) values ($1, 'Escola Monteiro Lobato', $2)",
        )
        .bind(tenant)
        .bind(format!("monteiro-{}", tenant.simple()))
        .execute(&pool)
        .await
        .unwrap();
        let blobs = tempfile::tempdir().unwrap();
        let store = BlobStore::Local(blobs.path().to_path_buf());
        Bed {
            t,
            pool,
            tenant,
            blobs,
            store,
        }
    }

    /// Takes `bytes` in as `name` (blob, row, job); returns (document id, job id).
    pub async fn submit(&self, name: &str, bytes: Vec<u8>) -> (Uuid, String) {
        let sha = sha256_hex(&bytes);
        let upload = Upload {
            bytes,
            filename: name.into(),
            content_type: "application/pdf".into(),
            student_id: None,
            doc_type: None,
        };
        let sub = intake::create(
            &self.pool,
            &self.t.engine,
            &self.store,
            self.tenant,
            &sha,
            upload,
        )
        .await
        .unwrap();
        assert!(sub.created && sub.queued);
        (sub.document.id, sub.job_id)
    }
}

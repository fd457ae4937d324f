//! The logs of a sealed kind's whole life (push, claim, run, ack, inspection),
//! at TRACE level for every target, hold none of its personal data. Its own
//! binary: it installs the process's global subscriber.

mod crypt_common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use crypt_common::{engine, keyring, master_entry, pii, registry, NAME, PHONE, QUEUE};
use jobs::engine::JobStatus;
use jobs::testing::{create_tenant, wait_job, RedisPrefix};
use sqlx::PgPool;

/// Collects every log line in memory.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn logs_of_a_sealed_run_hold_no_payload_plaintext(pool: PgPool) {
    let logs = Capture::default();
    let sink = logs.clone();
    tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::TRACE)
        .with_current_span(true)
        .with_span_list(true)
        .with_writer(move || sink.clone())
        .init();

    let keys = RedisPrefix::new();
    let t = create_tenant(&pool, "Escola Alfa").await.id.to_string();
    let ring = keyring(&pool, &master_entry("k1", &jobs::crypt::aead::random_key()));
    let e = engine(&keys, Some(ring)).await;
    let id = e.push(pii(&t, NAME)).await.unwrap().id;
    let w = jobs::testing::worker(&e, QUEUE, 2, registry());
    let j = wait_job(&e, QUEUE, &id, |j| j.status.is_final()).await;
    w.stop().await;
    assert_eq!(j.status, JobStatus::Succeeded);
    assert_eq!(j.payload["phone"], PHONE);

    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    // The run was logged (with its job id), so the capture is not empty by accident.
    assert!(
        text.contains("job succeeded") && text.contains(&id),
        "{text}"
    );
    assert!(
        !text.contains(NAME) && !text.contains("988887777"),
        "{text}"
    );
}

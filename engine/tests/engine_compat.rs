//! The job hash stores no field at its default (`pr` normal, `ma` 5, `r` due
//! at creation): every reader defaults them, and hashes written the old way
//! (every field present) still read and run.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use chrono::Utc;
use common::*;
use redis::AsyncCommands;
use serde_json::json;
use tarefa_engine::keys::QueueKeys;
use tarefa_engine::{JobStatus, Priority};

async fn raw_hash(t: &TestEngine, queue: &str, id: &str) -> HashMap<String, String> {
    let client = redis::Client::open(redis_url()).unwrap();
    let mut c = client.get_multiplexed_async_connection().await.unwrap();
    c.hgetall(QueueKeys::new(&t.prefix, queue).job(id))
        .await
        .unwrap()
}

/// What a test needs to write a job the way an older engine did: the queue's
/// keys, a new id, now (ms) and a direct connection.
async fn raw_job(t: &TestEngine) -> (QueueKeys, String, i64, redis::aio::MultiplexedConnection) {
    let client = redis::Client::open(redis_url()).unwrap();
    let c = client.get_multiplexed_async_connection().await.unwrap();
    (
        QueueKeys::new(&t.prefix, "test"),
        tarefa_engine::new_job_id(),
        Utc::now().timestamp_millis(),
        c,
    )
}

/// A `test.flaky` job of `tenant-a` with an empty payload, plus `more` fields.
fn flaky_job_fields(more: &[(&'static str, String)]) -> Vec<(&'static str, String)> {
    let mut fields = vec![
        ("k", "test.flaky".to_string()),
        ("t", "tenant-a".to_string()),
        ("p", "{}".to_string()),
    ];
    fields.extend_from_slice(more);
    fields
}

#[tokio::test]
async fn default_fields_are_left_out_and_read_back_as_defaults() {
    let t = TestEngine::new().await;
    let plain = t
        .engine
        .push(t.job("test", "test.flaky", json!({ "fail": 1 })))
        .await
        .unwrap();
    let mut custom = t.job("test", "test.flaky", json!({}));
    custom.priority = Priority::High;
    custom.max_attempts = 3;
    let custom = t.engine.push(custom).await.unwrap();

    let h = raw_hash(&t, "test", &plain.id).await;
    for f in ["pr", "ma", "r"] {
        assert!(!h.contains_key(f), "{f} stored for a default job: {h:?}");
    }
    let h = raw_hash(&t, "test", &custom.id).await;
    assert_eq!(h.get("pr").map(String::as_str), Some("high"));
    assert_eq!(h.get("ma").map(String::as_str), Some("3"));

    let info = t.engine.job("test", &plain.id).await.unwrap().unwrap();
    assert_eq!(info.priority, Priority::Normal);
    assert_eq!(info.max_attempts, 5);
    assert_eq!(info.run_at, info.created_at);
    assert_eq!(info.status, JobStatus::Queued);
    let info = t.engine.job("test", &custom.id).await.unwrap().unwrap();
    assert_eq!((info.priority, info.max_attempts), (Priority::High, 3));

    // Claim, retry (promotion back to its default-priority list) and ack.
    let w = t.worker("test", 4, test_registry());
    let done = t.wait_final("test", &plain.id).await;
    assert_eq!(done.status, JobStatus::Succeeded);
    assert_eq!(done.attempts, 2);
    assert_eq!(done.result, Some(json!({ "attempt": 2 })));
    assert_eq!(
        t.wait_final("test", &custom.id).await.status,
        JobStatus::Succeeded
    );
    w.stop().await;
}

#[tokio::test]
async fn a_scheduled_default_job_can_be_cancelled_retried_and_run() {
    let t = TestEngine::new().await;
    let mut job = t.job("test", "test.flaky", json!({}));
    job.run_at = Some(Utc::now() + chrono::Duration::seconds(3600));
    let p = t.engine.push(job).await.unwrap();
    assert_eq!(p.status, JobStatus::Scheduled);
    assert!(raw_hash(&t, "test", &p.id).await.contains_key("r"));
    assert_eq!(
        t.engine.cancel("test", &p.id).await.unwrap(),
        tarefa_engine::CancelOutcome::Cancelled
    );
    // Retry puts it on its (default) priority's ready list.
    assert!(t.engine.retry("test", &p.id).await.unwrap());
    assert_eq!(t.engine.counts("test").await.unwrap().queued, 1);
    let w = t.worker("test", 2, test_registry());
    let done = t.wait_final("test", &p.id).await;
    assert_eq!(done.status, JobStatus::Succeeded);
    assert_eq!(done.priority, Priority::Normal);
    w.stop().await;
}

#[tokio::test]
async fn a_job_hash_written_with_every_field_still_reads_and_runs() {
    let t = TestEngine::new().await;
    let (keys, id, now, mut c) = raw_job(&t).await;
    // What the previous push.lua stored for a normal job with 5 attempts.
    let _: () = redis::pipe()
        .hset_multiple(
            keys.job(&id),
            &flaky_job_fields(&[
                ("pr", "normal".to_string()),
                ("ma", "5".to_string()),
                ("c", now.to_string()),
                ("s", "queued".to_string()),
            ]),
        )
        .rpush(keys.tenant_list("normal", "tenant-a"), &id)
        .rpush(keys.ring("normal"), "tenant-a")
        .hincr(keys.meta(), "queued", 1)
        .query_async(&mut c)
        .await
        .unwrap();
    let info = t.engine.job("test", &id).await.unwrap().unwrap();
    assert_eq!((info.priority, info.max_attempts), (Priority::Normal, 5));
    let w = t.worker("test", 2, test_registry());
    let done = t.wait_final("test", &id).await;
    assert_eq!(done.status, JobStatus::Succeeded);
    assert_eq!(done.attempts, 1);
    w.stop().await;
    tokio::time::sleep(Duration::from_millis(10)).await;
}

/// A job running under a per-job lease (`<id>|<worker>|<attempt>`, before
/// leases covered a whole claim) whose worker is gone is still rescued and
/// re-run once its lease expires.
#[tokio::test]
async fn a_job_under_an_expired_per_job_lease_is_rescued_and_run() {
    let t = TestEngine::new().await;
    let (keys, id, now, mut c) = raw_job(&t).await;
    let _: () = redis::pipe()
        .hset_multiple(
            keys.job(&id),
            &flaky_job_fields(&[
                ("c", (now - 5_000).to_string()),
                ("s", "running".to_string()),
                ("st", (now - 4_000).to_string()),
                ("a", "1".to_string()),
                ("w", "9".to_string()),
            ]),
        )
        .zadd(keys.leases(), format!("{id}|gone-worker|1"), now - 1_000)
        .query_async(&mut c)
        .await
        .unwrap();
    let w = t.worker("test", 2, test_registry());
    let done = t.wait_final("test", &id).await;
    assert_eq!((done.status, done.attempts), (JobStatus::Succeeded, 2));
    let counts = t.engine.counts("test").await.unwrap();
    assert_eq!((counts.running, counts.queued), (0, 0), "{counts:?}");
    let left: i64 = c.zcard(keys.leases()).await.unwrap();
    assert_eq!(left, 0);
    w.stop().await;
}

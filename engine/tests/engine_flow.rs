//! Enqueue → claim → run → ack over the real Redis: outcomes, retries,
//! timeouts, panics, priorities, idempotency, scheduling.

mod common;

use std::time::Duration;

use chrono::Utc;
use common::*;
use serde_json::json;
use tarefa_engine::{JobStatus, Priority};

#[tokio::test]
async fn a_pushed_job_runs_and_succeeds_with_its_result() {
    let t = TestEngine::new().await;
    let w = t.worker("test", 4, test_registry());
    let p = t
        .engine
        .push(t.job("test", "test.flaky", json!({})))
        .await
        .unwrap();
    assert!(p.created);
    assert_eq!(p.status, JobStatus::Queued);
    let j = t.wait_final("test", &p.id).await;
    assert_eq!(j.status, JobStatus::Succeeded);
    assert_eq!(j.attempts, 1);
    assert_eq!(j.result, Some(json!({ "attempt": 1 })));
    assert_eq!(j.progress, Some(100));
    assert!(j.started_at.is_some() && j.finished_at.is_some());
    w.stop().await;
}

#[tokio::test]
async fn retryable_failures_are_retried_until_success() {
    let t = TestEngine::new().await;
    let w = t.worker("test", 4, test_registry());
    let p = t
        .engine
        .push(t.job("test", "test.flaky", json!({ "fail": 2 })))
        .await
        .unwrap();
    let j = t.wait_final("test", &p.id).await;
    assert_eq!(j.status, JobStatus::Succeeded);
    assert_eq!(j.attempts, 3);
    w.stop().await;
}

#[tokio::test]
async fn exhausted_attempts_end_dead_with_the_last_error() {
    let t = TestEngine::new().await;
    let w = t.worker("test", 4, test_registry());
    let mut job = t.job("test", "test.flaky", json!({ "fail": 10 }));
    job.max_attempts = 3;
    let p = t.engine.push(job).await.unwrap();
    let j = t.wait_final("test", &p.id).await;
    assert_eq!(j.status, JobStatus::Dead);
    assert_eq!(j.attempts, 3);
    assert_eq!(j.reason.as_deref(), Some("attempts_exhausted"));
    assert_eq!(j.last_error.as_deref(), Some("failing attempt 3"));
    // Every failed attempt is kept with its error, reason and time.
    let history: Vec<(u32, &str, &str)> = j
        .attempt_errors
        .iter()
        .map(|e| (e.attempt, e.reason.as_str(), e.error.as_str()))
        .collect();
    assert_eq!(
        history,
        vec![
            (1, "error", "failing attempt 1"),
            (2, "error", "failing attempt 2"),
            (3, "attempts_exhausted", "failing attempt 3"),
        ]
    );
    assert!(j.attempt_errors.windows(2).all(|w| w[0].at <= w[1].at));
    assert!(j.attempt_errors[0].at >= j.created_at.timestamp_millis());
    w.stop().await;
}

#[tokio::test]
async fn permanent_failure_is_not_retried() {
    let t = TestEngine::new().await;
    let w = t.worker("diag", 4, test_registry());
    let p = t
        .engine
        .push(t.job("diag", "diag.sleep", json!({ "permanent": true })))
        .await
        .unwrap();
    let j = t.wait_final("diag", &p.id).await;
    assert_eq!(j.status, JobStatus::Dead);
    assert_eq!(j.attempts, 1);
    assert_eq!(j.reason.as_deref(), Some("permanent"));
    w.stop().await;
}

#[tokio::test]
async fn timeout_stops_the_handler_and_counts_as_retryable() {
    let t = TestEngine::new().await;
    let w = t.worker("test", 4, test_registry());
    let mut job = t.job("test", "test.flaky", json!({ "sleep_ms": 5000 }));
    job.max_attempts = 2;
    let p = t.engine.push(job).await.unwrap();
    let j = t.wait_final("test", &p.id).await;
    assert_eq!(j.status, JobStatus::Dead);
    assert_eq!(j.attempts, 2);
    assert_eq!(j.reason.as_deref(), Some("timeout"));
    w.stop().await;
}

#[tokio::test]
async fn a_panicking_handler_fails_alone_and_the_worker_keeps_going() {
    let t = TestEngine::new().await;
    let w = t.worker("test", 2, test_registry());
    let mut bad = t.job("test", "test.flaky", json!({ "panic": true }));
    bad.max_attempts = 1;
    let bad = t.engine.push(bad).await.unwrap();
    let good = t
        .engine
        .push(t.job("test", "test.flaky", json!({})))
        .await
        .unwrap();
    let b = t.wait_final("test", &bad.id).await;
    assert_eq!(b.status, JobStatus::Dead);
    assert!(b.last_error.unwrap().contains("panicked"));
    assert_eq!(
        t.wait_final("test", &good.id).await.status,
        JobStatus::Succeeded
    );
    w.stop().await;
}

#[tokio::test]
async fn retry_after_from_the_handler_is_honoured() {
    let t = TestEngine::new().await;
    let w = t.worker("test", 2, test_registry());
    let p = t
        .engine
        .push(t.job(
            "test",
            "test.flaky",
            json!({ "fail": 1, "retry_after_ms": 400 }),
        ))
        .await
        .unwrap();
    let failed = t.wait_status("test", &p.id, JobStatus::Retrying).await;
    let j = t.wait_final("test", &p.id).await;
    assert_eq!(j.status, JobStatus::Succeeded);
    // The second run started no earlier than retry_after after the failure.
    let gap = j.started_at.unwrap() - failed.started_at.unwrap();
    assert!(
        gap >= chrono::Duration::milliseconds(400),
        "retried after {gap}"
    );
    w.stop().await;
}

#[tokio::test]
async fn a_scheduled_job_waits_for_its_time() {
    let t = TestEngine::new().await;
    let w = t.worker("test", 2, test_registry());
    let mut job = t.job("test", "test.flaky", json!({}));
    let at = Utc::now() + chrono::Duration::milliseconds(300);
    job.run_at = Some(at);
    let p = t.engine.push(job).await.unwrap();
    assert_eq!(p.status, JobStatus::Scheduled);
    let j = t.wait_final("test", &p.id).await;
    assert!(
        j.started_at.unwrap() >= at - chrono::Duration::milliseconds(1),
        "started {:?} before {at}",
        j.started_at
    );
    w.stop().await;
}

#[tokio::test]
async fn high_priority_is_fetched_before_normal() {
    let t = TestEngine::new().await;
    let mut ids = Vec::new();
    for i in 0..20 {
        let mut j = t.job("test", "test.flaky", json!({}));
        if i == 19 {
            j.priority = Priority::High;
        }
        ids.push(t.engine.push(j).await.unwrap().id);
    }
    let w = t.worker("test", 1, test_registry());
    let high = t.wait_final("test", &ids[19]).await;
    let first_normal = t.wait_final("test", &ids[0]).await;
    assert!(high.started_at <= first_normal.started_at);
    w.stop().await;
}

#[tokio::test]
async fn idempotency_key_returns_the_first_job_and_creates_nothing() {
    let t = TestEngine::new().await;
    let mut a = t.job("test", "test.flaky", json!({}));
    a.idempotency_key = Some("order-42".into());
    let first = t.engine.push(a.clone()).await.unwrap();
    let second = t.engine.push(a).await.unwrap();
    assert!(first.created && !second.created);
    assert_eq!(first.id, second.id);
    assert_eq!(t.engine.counts("test").await.unwrap().queued, 1);
    // The same key for another tenant is another job.
    let mut b = t.job("test", "test.flaky", json!({}));
    b.tenant = "tenant-b".into();
    b.idempotency_key = Some("order-42".into());
    assert!(t.engine.push(b).await.unwrap().created);
}

#[tokio::test]
async fn a_caller_chosen_duplicate_id_creates_nothing() {
    let t = TestEngine::new().await;
    let mut a = t.job("test", "test.flaky", json!({ "fail": 0 }));
    a.id = Some("01J0000000000000000000TEST".into());
    assert!(t.engine.push(a.clone()).await.unwrap().created);
    assert!(!t.engine.push(a).await.unwrap().created);
    assert_eq!(t.engine.counts("test").await.unwrap().queued, 1);
}

#[tokio::test]
async fn bulk_push_of_a_thousand_keeps_order_and_runs_all() {
    let t = TestEngine::new().await;
    let jobs: Vec<_> = (0..1000)
        .map(|_| t.job("diag", "diag.noop", json!({})))
        .collect();
    let pushed = t.engine.push_bulk(jobs).await.unwrap();
    assert_eq!(pushed.len(), 1000);
    assert!(
        pushed.windows(2).all(|w| w[0].id < w[1].id),
        "ULIDs in input order"
    );
    assert_eq!(t.engine.counts("diag").await.unwrap().queued, 1000);
    let w = t.worker("diag", 16, test_registry());
    for p in &pushed {
        assert_eq!(
            t.wait_final("diag", &p.id).await.status,
            JobStatus::Succeeded
        );
    }
    let c = t.engine.counts("diag").await.unwrap();
    assert_eq!((c.queued, c.succeeded, c.running), (0, 1000, 0));
    w.stop().await;
}

#[tokio::test]
async fn invalid_ids_are_refused_before_redis() {
    let t = TestEngine::new().await;
    let mut a = t.job("test", "test.flaky", json!({}));
    a.id = Some("bad|id".into());
    assert!(t.engine.push(a).await.is_err());
    let _ = Duration::ZERO;
}

#[tokio::test]
async fn a_snoozed_job_waits_without_spending_an_attempt() {
    let t = TestEngine::new().await;
    let w = t.worker("test", 2, record_registry());
    let mut job = t.job("test", "test.snooze", json!({}));
    job.max_attempts = 1;
    let p = t.engine.push(job).await.unwrap();
    let j = t.wait_final("test", &p.id).await;
    assert_eq!(j.status, JobStatus::Succeeded);
    // Both runs were attempt 1: the snooze did not count.
    assert_eq!(
        *RECORDED.lock().unwrap(),
        vec!["1".to_string(), "1".to_string()]
    );
    assert_eq!(j.result, Some(json!({ "attempt": 1 })));
    w.stop().await;
}

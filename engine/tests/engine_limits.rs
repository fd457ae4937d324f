//! Intake limits over the real Redis: GCRA buckets per key and tenant, the
//! waiting-jobs cap in the push script, daily byte quotas, the auth epoch.

mod common;

use common::*;
use serde_json::json;
use tarefa_engine::limits::Rate;
use tarefa_engine::{EngineError, NewJob};

fn rate(bucket: &str, per_second: f64, burst: u64) -> Rate {
    Rate {
        bucket: bucket.into(),
        per_second,
        burst,
    }
}

#[tokio::test]
async fn a_bucket_admits_its_burst_then_refuses_without_consuming() {
    let t = TestEngine::new().await;
    // 0.01/s: no refill worth a request during the test.
    let rates = [rate("k:a", 0.01, 3), rate("t", 0.01, 100)];
    let mut remaining = Vec::new();
    for _ in 0..3 {
        let d = t.engine.rate("tenant-a", &rates).await.unwrap();
        assert!(d.allowed());
        remaining.push(d.buckets[0].1.remaining);
    }
    assert_eq!(remaining, vec![2, 1, 0]);
    let refused = t.engine.rate("tenant-a", &rates).await.unwrap();
    assert!(!refused.allowed());
    let (bucket, state) = refused.tightest().unwrap();
    assert_eq!(bucket, "k:a");
    assert!(state.retry_after_ms > 0);
    // The tenant bucket was not charged for the refused request: 97 left, not 96.
    assert_eq!(refused.buckets[1].1.remaining, 97);
    // Another key of the same tenant still has its own burst.
    let other = t
        .engine
        .rate("tenant-a", &[rate("k:b", 0.01, 3), rate("t", 0.01, 100)])
        .await
        .unwrap();
    assert!(other.allowed());
    assert_eq!(other.buckets[1].1.remaining, 96);
    // Another tenant is untouched.
    let b = t.engine.rate("tenant-b", &rates).await.unwrap();
    assert!(b.allowed());
    assert_eq!(b.buckets[0].1.remaining, 2);
}

fn job(queue: &str, tenant: &str) -> NewJob {
    NewJob::new(queue, "test.noop", tenant, json!({}))
}

#[tokio::test]
async fn the_waiting_cap_refuses_a_whole_batch_and_spares_other_tenants() {
    let t = TestEngine::new().await;
    let first: Vec<NewJob> = (0..3).map(|_| job("test", "ta")).collect();
    t.engine.push_bulk_capped(first, Some(4)).await.unwrap();
    let two: Vec<NewJob> = (0..2).map(|_| job("test", "ta")).collect();
    match t.engine.push_bulk_capped(two, Some(4)).await {
        Err(EngineError::WaitingLimit {
            tenant,
            waiting,
            limit,
            queue,
        }) => assert_eq!(
            (tenant.as_str(), waiting, limit, queue.as_str()),
            ("ta", 3, 4, "test")
        ),
        other => panic!("expected WaitingLimit, got {other:?}"),
    }
    assert_eq!(t.engine.counts("test").await.unwrap().queued, 3);
    // One more fits exactly; another tenant has its own allowance.
    t.engine
        .push_bulk_capped(vec![job("test", "ta")], Some(4))
        .await
        .unwrap();
    let tb: Vec<NewJob> = (0..4).map(|_| job("test", "tb")).collect();
    t.engine.push_bulk_capped(tb, Some(4)).await.unwrap();
    assert_eq!(t.engine.counts("test").await.unwrap().queued, 8);
    // Scheduled jobs are not waiting yet; no cap means no check.
    let mut later = job("test", "ta");
    later.run_at = Some(chrono::Utc::now() + chrono::Duration::hours(1));
    t.engine
        .push_bulk_capped(vec![later], Some(4))
        .await
        .unwrap();
    t.engine.push_bulk(vec![job("test", "ta")]).await.unwrap();
    assert_eq!(t.engine.counts("test").await.unwrap().queued, 9);
}

#[tokio::test]
async fn a_daily_quota_refuses_what_would_pass_it_and_counts_nothing_then() {
    let t = TestEngine::new().await;
    let a = t
        .engine
        .charge_quota("ta", "20261205", 600, 1000)
        .await
        .unwrap();
    assert!(a.charged);
    let b = t
        .engine
        .charge_quota("ta", "20261205", 500, 1000)
        .await
        .unwrap();
    assert_eq!((b.charged, b.used), (false, 600));
    let c = t
        .engine
        .charge_quota("ta", "20261205", 400, 1000)
        .await
        .unwrap();
    assert_eq!((c.charged, c.used), (true, 1000));
    let next_day = t
        .engine
        .charge_quota("ta", "20261206", 900, 1000)
        .await
        .unwrap();
    assert!(next_day.charged);
    let other = t
        .engine
        .charge_quota("tb", "20261205", 1000, 1000)
        .await
        .unwrap();
    assert!(other.charged);
}

#[tokio::test]
async fn the_auth_epoch_moves_on_every_bump() {
    let t = TestEngine::new().await;
    assert_eq!(t.engine.auth_epoch().await.unwrap(), 0);
    t.engine.bump_auth_epoch().await.unwrap();
    assert_eq!(t.engine.auth_epoch().await.unwrap(), 1);
}

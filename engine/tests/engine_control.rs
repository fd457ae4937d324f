//! Control, inspection, fairness, rate limits and retention over the real Redis.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::*;
use serde_json::json;
use tarefa_engine::{CancelOutcome, JobStatus, NewJob};

#[tokio::test]
async fn cancel_before_start_makes_it_cancelled_and_it_never_runs() {
    let t = TestEngine::new().await;
    let p = t
        .engine
        .push(t.job("test", "test.flaky", json!({})))
        .await
        .unwrap();
    assert_eq!(
        t.engine.cancel("test", &p.id).await.unwrap(),
        CancelOutcome::Cancelled
    );
    assert_eq!(
        t.engine.cancel("test", &p.id).await.unwrap(),
        CancelOutcome::AlreadyFinal
    );
    let other = t
        .engine
        .push(t.job("test", "test.flaky", json!({})))
        .await
        .unwrap();
    let w = t.worker("test", 2, test_registry());
    assert_eq!(
        t.wait_final("test", &other.id).await.status,
        JobStatus::Succeeded
    );
    let j = t.engine.job("test", &p.id).await.unwrap().unwrap();
    assert_eq!((j.status, j.attempts), (JobStatus::Cancelled, 0));
    let c = t.engine.counts("test").await.unwrap();
    assert_eq!((c.queued, c.cancelled, c.succeeded), (0, 1, 1));
    w.stop().await;
}

#[tokio::test]
async fn cancelling_a_running_job_fires_its_token() {
    let t = TestEngine::new().await;
    let w = t.worker("diag", 2, test_registry());
    let p = t
        .engine
        .push(t.job("diag", "diag.sleep", json!({ "ms": 60000 })))
        .await
        .unwrap();
    t.wait_status("diag", &p.id, JobStatus::Running).await;
    assert_eq!(
        t.engine.cancel("diag", &p.id).await.unwrap(),
        CancelOutcome::CancelRequested
    );
    let j = t.wait_final("diag", &p.id).await;
    assert_eq!(j.status, JobStatus::Cancelled);
    w.stop().await;
}

#[tokio::test]
async fn a_dead_job_can_be_retried_with_a_fresh_budget_and_deleted() {
    let t = TestEngine::new().await;
    let w = t.worker("test", 2, test_registry());
    let mut job = t.job("test", "test.flaky", json!({ "fail": 1 }));
    job.max_attempts = 1;
    let p = t.engine.push(job).await.unwrap();
    assert_eq!(t.wait_final("test", &p.id).await.status, JobStatus::Dead);
    assert!(!t.engine.retry("test", "no-such-job").await.unwrap());
    assert!(t.engine.retry("test", &p.id).await.unwrap());
    // attempt counter restarted: attempt 1 fails again → dead once more with attempts = 1
    let j = t.wait_final("test", &p.id).await;
    assert_eq!((j.status, j.attempts), (JobStatus::Dead, 1));
    assert!(t.engine.delete("test", &p.id).await.unwrap());
    assert!(t.engine.job("test", &p.id).await.unwrap().is_none());
    assert_eq!(t.engine.counts("test").await.unwrap().dead, 0);
    w.stop().await;
}

#[tokio::test]
async fn a_paused_queue_accepts_jobs_but_runs_none_until_resumed() {
    let t = TestEngine::new().await;
    t.engine.set_paused("test", true).await.unwrap();
    let w = t.worker("test", 2, test_registry());
    let p = t
        .engine
        .push(t.job("test", "test.flaky", json!({})))
        .await
        .unwrap();
    // Give the worker several chances to (wrongly) fetch.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        t.engine.job("test", &p.id).await.unwrap().unwrap().status,
        JobStatus::Queued
    );
    assert!(t.engine.counts("test").await.unwrap().paused);
    t.engine.set_paused("test", false).await.unwrap();
    assert_eq!(
        t.wait_final("test", &p.id).await.status,
        JobStatus::Succeeded
    );
    w.stop().await;
}

#[tokio::test]
async fn counts_and_pages_reflect_each_state_newest_first() {
    let t = TestEngine::new().await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let mut j = t.job("test", "test.flaky", json!({ "n": i }));
        if i == 4 {
            j.tenant = "tenant-b".into();
        }
        ids.push(t.engine.push(j).await.unwrap().id);
    }
    let mut later = t.job("test", "test.flaky", json!({}));
    later.run_at = Some(chrono::Utc::now() + chrono::Duration::hours(1));
    let later = t.engine.push(later).await.unwrap();
    let c = t.engine.counts("test").await.unwrap();
    assert_eq!((c.queued, c.scheduled, c.running), (5, 1, 0));
    assert!(c.oldest_waiting_ms.is_some());

    let page = t
        .engine
        .list("test", JobStatus::Queued, None, 2, None)
        .await
        .unwrap();
    assert_eq!(
        page.jobs.iter().map(|j| j.id.clone()).collect::<Vec<_>>(),
        vec![ids[4].clone(), ids[3].clone()]
    );
    let next = t
        .engine
        .list(
            "test",
            JobStatus::Queued,
            None,
            2,
            page.next_cursor.as_deref(),
        )
        .await
        .unwrap();
    assert_eq!(next.jobs[0].id, ids[2]);
    let b = t
        .engine
        .list("test", JobStatus::Queued, Some("tenant-b"), 10, None)
        .await
        .unwrap();
    assert_eq!(b.jobs.len(), 1);
    assert_eq!(b.jobs[0].tenant, "tenant-b");
    let s = t
        .engine
        .list("test", JobStatus::Scheduled, None, 10, None)
        .await
        .unwrap();
    assert_eq!(s.jobs[0].id, later.id);
    // `find` searches several queues.
    let found = t
        .engine
        .find(&["nope".to_string(), "test".to_string()], &ids[0])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.queue, "test");
}

#[tokio::test]
async fn workers_are_listed_with_their_running_jobs() {
    let t = TestEngine::new().await;
    let w = t.worker("diag", 2, test_registry());
    let p = t
        .engine
        .push(t.job("diag", "diag.sleep", json!({ "ms": 60000 })))
        .await
        .unwrap();
    t.wait_status("diag", &p.id, JobStatus::Running).await;
    let workers = t.engine.workers("diag").await.unwrap();
    assert_eq!(workers.len(), 1);
    assert_eq!(workers[0].running, vec![p.id.clone()]);
    t.engine.cancel("diag", &p.id).await.unwrap();
    t.wait_final("diag", &p.id).await;
    w.stop().await;
}

#[tokio::test]
async fn a_huge_tenant_backlog_delays_another_tenant_by_one_batch_at_most() {
    let t = TestEngine::new().await;
    let big: Vec<NewJob> = (0..100_000)
        .map(|_| t.job("test", "test.record", json!({})))
        .collect();
    for chunk in big.chunks(10_000) {
        t.engine.push_bulk(chunk.to_vec()).await.unwrap();
    }
    let mut small = t.job("test", "test.record", json!({}));
    small.tenant = "tenant-small".into();
    let small = t.engine.push(small).await.unwrap();
    let concurrency = 8;
    let w = t.worker("test", concurrency, record_registry());
    assert_eq!(
        t.wait_final("test", &small.id).await.status,
        JobStatus::Succeeded
    );
    w.stop().await;
    let order = RECORDED.lock().unwrap().clone();
    let position = order
        .iter()
        .position(|t| t == "tenant-small")
        .expect("small tenant ran");
    // The first claim takes at most one batch (= the worker's free slots) and
    // splits it between both tenants, so at most one batch of the big tenant runs first.
    assert!(
        position < concurrency,
        "{position} big-tenant jobs ran before the small tenant's"
    );
}

#[tokio::test]
async fn a_rate_limited_queue_spaces_its_jobs() {
    let t = TestEngine::new().await;
    t.engine
        .set_rate_limit("test", "*", 20, Duration::from_secs(1))
        .await
        .unwrap();
    let jobs: Vec<_> = (0..10)
        .map(|_| t.job("test", "test.flaky", json!({})))
        .collect();
    let pushed = t.engine.push_bulk(jobs).await.unwrap();
    let w = t.worker("test", 8, test_registry());
    let mut starts = Vec::new();
    for p in &pushed {
        starts.push(t.wait_final("test", &p.id).await.started_at.unwrap());
    }
    w.stop().await;
    starts.sort();
    let span = *starts.last().unwrap() - starts[0];
    // 10 jobs at 20/s: the last starts ≥ 9 × 50 ms after the first.
    assert!(
        span >= chrono::Duration::milliseconds(440),
        "10 jobs took only {span}"
    );
}

#[tokio::test]
async fn per_tenant_rate_keys_limit_each_tenant_separately() {
    let t = TestEngine::new().await;
    t.engine
        .set_rate_limit("test", "wa", 10, Duration::from_secs(1))
        .await
        .unwrap();
    let mut jobs = Vec::new();
    for tenant in ["t1", "t2"] {
        for _ in 0..4 {
            let mut j = t.job("test", "test.flaky", json!({}));
            j.tenant = tenant.into();
            j.rate_key = Some(format!("wa:{tenant}"));
            jobs.push(j);
        }
    }
    let pushed = t.engine.push_bulk(jobs).await.unwrap();
    let w = t.worker("test", 8, test_registry());
    let mut by_tenant: HashMap<String, Vec<_>> = HashMap::new();
    for p in &pushed {
        let j = t.wait_final("test", &p.id).await;
        by_tenant
            .entry(j.tenant.clone())
            .or_default()
            .push(j.started_at.unwrap());
    }
    w.stop().await;
    for (tenant, mut s) in by_tenant {
        s.sort();
        let span = *s.last().unwrap() - s[0];
        assert!(
            span >= chrono::Duration::milliseconds(290),
            "{tenant}: 4 jobs at 10/s took {span}"
        );
    }
}

#[tokio::test]
async fn retention_removes_old_finished_jobs_even_when_raced() {
    let t = TestEngine::new().await;
    let jobs: Vec<_> = (0..300)
        .map(|_| t.job("diag", "diag.noop", json!({})))
        .collect();
    let pushed = t.engine.push_bulk(jobs).await.unwrap();
    let mut dead = t.job("diag", "diag.sleep", json!({ "permanent": true }));
    dead.max_attempts = 1;
    let dead = t.engine.push(dead).await.unwrap();
    let w = t.worker("diag", 8, test_registry());
    for p in &pushed {
        t.wait_final("diag", &p.id).await;
    }
    t.wait_final("diag", &dead.id).await;
    w.stop().await;
    // Default retention (24 h / 30 d) keeps them.
    assert_eq!(t.engine.apply_retention("diag").await.unwrap(), 0);
    let cutoff = chrono::Utc::now().timestamp_millis() + 1;
    let (a, b) = tokio::join!(
        t.engine.apply_retention_before("diag", cutoff, cutoff),
        t.engine.apply_retention_before("diag", cutoff, cutoff)
    );
    assert_eq!(a.unwrap() + b.unwrap(), 301);
    let c = t.engine.counts("diag").await.unwrap();
    assert_eq!((c.succeeded, c.dead), (0, 0));
    assert!(t.engine.job("diag", &pushed[0].id).await.unwrap().is_none());
}

#[tokio::test]
async fn a_running_job_names_its_worker() {
    let t = TestEngine::new().await;
    let w = t.worker("diag", 2, test_registry());
    let p = t
        .engine
        .push(t.job("diag", "diag.sleep", json!({ "ms": 60000 })))
        .await
        .unwrap();
    t.wait_status("diag", &p.id, JobStatus::Running).await;
    let j = t.engine.job("diag", &p.id).await.unwrap().unwrap();
    let workers = t.engine.workers("diag").await.unwrap();
    assert_eq!(j.worker.as_deref(), Some(workers[0].id.as_str()));
    t.engine.cancel("diag", &p.id).await.unwrap();
    assert_eq!(t.wait_final("diag", &p.id).await.worker, j.worker);
    w.stop().await;
}

/// A running job is shown running (attempt, start, the worker's id), listed
/// among the running, cannot be deleted, and keeps that start and worker
/// once it succeeded.
#[tokio::test]
async fn a_running_job_shows_its_attempt_start_and_worker_and_keeps_them_when_done() {
    let t = TestEngine::new().await;
    let w = t.worker("diag", 2, test_registry());
    let p = t
        .engine
        .push(t.job("diag", "diag.sleep", json!({ "ms": 1500 })))
        .await
        .unwrap();
    let running = t.wait_status("diag", &p.id, JobStatus::Running).await;
    assert_eq!(running.attempts, 1);
    let started = running.started_at.expect("a running job has a start");
    let worker = running
        .worker
        .clone()
        .expect("a running job names its worker");
    assert!(
        worker.contains("-diag-"),
        "the worker id, not its alias: {worker}"
    );
    let page = t
        .engine
        .list("diag", JobStatus::Running, None, 10, None)
        .await
        .unwrap();
    assert_eq!(
        page.jobs.iter().map(|j| j.id.as_str()).collect::<Vec<_>>(),
        vec![p.id.as_str()]
    );
    assert!(
        !t.engine.delete("diag", &p.id).await.unwrap(),
        "a running job is not deleted"
    );

    let done = t.wait_final("diag", &p.id).await;
    assert_eq!(done.status, JobStatus::Succeeded);
    assert_eq!(
        (done.attempts, done.started_at, done.worker.as_deref()),
        (1, Some(started), Some(worker.as_str()))
    );
    w.stop().await;
}

/// A ready job's list entry stays in place when it is cancelled or deleted
/// (the claim that pops it drops it): however often it was cancelled and
/// retried, or deleted and pushed again under its id, it runs exactly once.
#[tokio::test]
async fn a_waiting_job_cancelled_retried_or_deleted_and_pushed_again_runs_once() {
    let t = TestEngine::new().await;
    let twice = t
        .engine
        .push(NewJob::new(
            "test",
            "test.record",
            "tenant-twice",
            json!({}),
        ))
        .await
        .unwrap();
    for _ in 0..2 {
        assert_eq!(
            t.engine.cancel("test", &twice.id).await.unwrap(),
            CancelOutcome::Cancelled
        );
        assert!(t.engine.retry("test", &twice.id).await.unwrap());
    }
    let mut gone = NewJob::new("test", "test.record", "tenant-gone", json!({}));
    gone.id = Some(tarefa_engine::new_job_id());
    let first = t.engine.push(gone.clone()).await.unwrap();
    assert!(t.engine.delete("test", &first.id).await.unwrap());
    let again = t.engine.push(gone).await.unwrap();
    assert_eq!(again.id, first.id);
    let cancelled = t
        .engine
        .push(NewJob::new(
            "test",
            "test.record",
            "tenant-never",
            json!({}),
        ))
        .await
        .unwrap();
    assert_eq!(
        t.engine.cancel("test", &cancelled.id).await.unwrap(),
        CancelOutcome::Cancelled
    );
    // Each waiting job is listed and counted once.
    let page = t
        .engine
        .list("test", JobStatus::Queued, None, 10, None)
        .await
        .unwrap();
    let mut listed: Vec<&str> = page.jobs.iter().map(|j| j.id.as_str()).collect();
    listed.sort();
    let mut want = vec![twice.id.as_str(), again.id.as_str()];
    want.sort();
    assert_eq!(listed, want);
    assert_eq!(t.engine.counts("test").await.unwrap().queued, 2);

    let w = t.worker("test", 2, record_registry());
    for id in [&twice.id, &again.id] {
        let j = t.wait_final("test", id).await;
        assert_eq!((j.status, j.attempts), (JobStatus::Succeeded, 1));
    }
    // Nothing else is left to run: the stale entries were dropped, not run.
    tokio::time::sleep(Duration::from_millis(200)).await;
    w.stop().await;
    let ran = RECORDED.lock().unwrap().clone();
    let runs = |tenant: &str| ran.iter().filter(|t| *t == tenant).count();
    assert_eq!(
        (
            runs("tenant-twice"),
            runs("tenant-gone"),
            runs("tenant-never")
        ),
        (1, 1, 0)
    );
    let c = t.engine.counts("test").await.unwrap();
    assert_eq!((c.queued, c.succeeded, c.cancelled), (0, 2, 1));
    assert_eq!(
        t.engine
            .job("test", &cancelled.id)
            .await
            .unwrap()
            .unwrap()
            .status,
        JobStatus::Cancelled
    );
}

#[tokio::test]
async fn prefetched_jobs_are_claimed_not_running_and_start_when_their_handler_does() {
    let t = TestEngine::new().await;
    let jobs: Vec<NewJob> = (0..3)
        .map(|_| t.job("diag", "diag.sleep", json!({ "ms": 300 })))
        .collect();
    let ids: Vec<String> = t
        .engine
        .push_bulk(jobs)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.id)
        .collect();
    // Concurrency 1: one runs, the worker holds the other two claimed ahead.
    let w = t.worker("diag", 1, test_registry());
    let c = tarefa_engine::testing::eventually(|| async { t.engine.counts("diag").await.ok() })
        .until(|c| c.running == 1 && c.claimed == 2)
        .await;
    assert_eq!((c.queued, c.running, c.claimed), (0, 1, 2), "{c:?}");
    let mut infos = Vec::new();
    for id in &ids {
        infos.push(t.engine.job("diag", id).await.unwrap().unwrap());
    }
    let claimed: Vec<_> = infos
        .iter()
        .filter(|j| j.status == JobStatus::Claimed)
        .collect();
    assert_eq!(claimed.len(), 2, "{infos:?}");
    assert!(
        claimed
            .iter()
            .all(|j| j.started_at.is_none() && j.attempts == 1),
        "a claimed job has not started: {claimed:?}"
    );
    let page = t
        .engine
        .list("diag", JobStatus::Claimed, None, 10, None)
        .await
        .unwrap();
    assert_eq!(page.jobs.len(), 2);
    let workers = t.engine.workers("diag").await.unwrap();
    assert_eq!(workers[0].running.len(), 1, "only the running one");

    // Each started when its handler did: one after the other's 300 ms sleep,
    // not all three at the claim.
    let mut done = Vec::new();
    for id in &ids {
        done.push(t.wait_final("diag", id).await);
    }
    let mut starts: Vec<_> = done.iter().map(|j| j.started_at.unwrap()).collect();
    starts.sort();
    for pair in starts.windows(2) {
        let gap = (pair[1] - pair[0]).num_milliseconds();
        assert!(gap >= 295, "starts {starts:?}: {gap} ms apart");
    }
    for j in &done {
        assert_eq!(j.status, JobStatus::Succeeded);
        assert!(j.finished_at.unwrap() >= j.started_at.unwrap());
    }
    let c = t.engine.counts("diag").await.unwrap();
    assert_eq!((c.running, c.claimed, c.succeeded), (0, 0, 3), "{c:?}");
    w.stop().await;
}

#[tokio::test]
async fn a_job_cancelled_while_claimed_never_starts() {
    let t = TestEngine::new().await;
    let first = t.job("diag", "diag.sleep", json!({ "ms": 400 }));
    let second = t.job("diag", "diag.sleep", json!({ "ms": 0 }));
    let pushed = t.engine.push_bulk(vec![first, second]).await.unwrap();
    let w = t.worker("diag", 1, test_registry());
    t.wait_status("diag", &pushed[1].id, JobStatus::Claimed)
        .await;
    assert_eq!(
        t.engine.cancel("diag", &pushed[1].id).await.unwrap(),
        CancelOutcome::CancelRequested
    );
    let j = t.wait_final("diag", &pushed[1].id).await;
    assert_eq!(j.status, JobStatus::Cancelled, "{j:?}");
    assert_eq!(j.started_at, None, "it never started: {j:?}");
    assert_eq!(j.result, None);
    let first = t.wait_final("diag", &pushed[0].id).await;
    assert_eq!(first.status, JobStatus::Succeeded);
    let c = t.engine.counts("diag").await.unwrap();
    assert_eq!((c.running, c.claimed, c.cancelled), (0, 0, 1), "{c:?}");
    w.stop().await;
}

#[tokio::test]
async fn a_failed_attempt_is_retrying_not_final_and_failed_is_its_old_name() {
    let t = TestEngine::new().await;
    let w = t.worker("test", 2, test_registry());
    let p = t
        .engine
        .push(t.job(
            "test",
            "test.flaky",
            json!({ "fail": 1, "retry_after_ms": 1500 }),
        ))
        .await
        .unwrap();
    let j = t.wait_status("test", &p.id, JobStatus::Retrying).await;
    assert!(!j.status.is_final());
    assert_eq!(serde_json::to_value(j.status).unwrap(), json!("retrying"));
    let c = t.engine.counts("test").await.unwrap();
    assert_eq!(c.retrying, 1, "{c:?}");
    // `failed` still names it, in a query and in JSON.
    let old = JobStatus::parse("failed").unwrap();
    let page = t.engine.list("test", old, None, 10, None).await.unwrap();
    assert_eq!(page.jobs.len(), 1);
    assert_eq!(
        serde_json::from_value::<JobStatus>(json!("failed")).unwrap(),
        JobStatus::Retrying
    );
    assert_eq!(
        t.wait_final("test", &p.id).await.status,
        JobStatus::Succeeded
    );
    w.stop().await;
}

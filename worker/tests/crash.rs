//! Real worker processes dying under the engine: a SIGKILLed process loses
//! no job (its leases expire and another process re-runs them), a job that
//! aborts its process ends `dead/crashed` without taking its neighbours with
//! it, and a Redis restart (AOF on) neither kills a worker nor loses a job.

mod common;

use std::os::unix::process::ExitStatusExt;

use common::*;
use jobs::engine::{JobStatus, NewJob};
use serde_json::json;

fn sleep_job(ms: u64) -> NewJob {
    NewJob::new("diag", "diag.sleep", "tenant-a", json!({ "ms": ms }))
}

#[tokio::test]
async fn sigkill_mid_job_loses_nothing() {
    let t = Fleet::new(|s| s.lease_ttl_ms = 2_000).await;
    let mut a = t.spawn("diag", 8);
    let mut b = t.spawn("diag", 8);
    let a_id = t.registered("diag", &a).await;
    t.registered("diag", &b).await;

    // 200 jobs of 50-200 ms: ~1.6 s of work for the 16 slots.
    let ids = t
        .push_all((0..200).map(|i| sleep_job(50 + (i * 37) % 151)).collect())
        .await;
    wait_until!(t
        .engine
        .workers("diag")
        .await
        .unwrap()
        .iter()
        .any(|w| w.id == a_id && !w.running.is_empty()));
    let status = a.kill().await;
    assert_eq!(status.signal(), Some(libc::SIGKILL));

    // What A held when it died: its leases stay in Redis until they expire.
    let orphans = t
        .engine
        .workers("diag")
        .await
        .unwrap()
        .into_iter()
        .find(|w| w.id == a_id)
        .map(|w| w.running)
        .unwrap_or_default();
    assert!(!orphans.is_empty(), "A held no job when it was killed");

    let all = t.wait_final("diag", &ids).await;
    let not_ok: Vec<_> = all
        .iter()
        .filter(|j| j.status != JobStatus::Succeeded)
        .map(|j| (&j.id, j.status, &j.reason))
        .collect();
    assert!(not_ok.is_empty(), "jobs that did not succeed: {not_ok:?}");
    for id in &orphans {
        let j = all.iter().find(|j| &j.id == id).expect("orphan is ours");
        assert!(
            j.attempts >= 2,
            "job {id} held by the killed worker was not re-run: {j:?}"
        );
        assert_ne!(j.worker.as_deref(), Some(a_id.as_str()));
    }
    let c = t.engine.counts("diag").await.unwrap();
    assert_eq!(
        (
            c.succeeded,
            c.queued,
            c.running,
            c.scheduled,
            c.retrying,
            c.dead
        ),
        (200, 0, 0, 0, 0, 0),
        "{c:?}"
    );

    assert!(b.alive());
    b.sigterm();
    assert!(b.wait().await.success());
}

#[tokio::test]
async fn a_job_that_crashes_its_worker_ends_dead_crashed() {
    let t = Fleet::new(|s| {
        s.lease_ttl_ms = 2_000;
        s.max_deliveries = 2;
    })
    .await;
    let sup = Supervisor::start(t.spec("diag", 8), 2);

    // The poison job sits in the middle of ordinary work pushed with it.
    let mut jobs: Vec<NewJob> = (0..20).map(|_| sleep_job(100)).collect();
    jobs.insert(
        10,
        NewJob::new("diag", "diag.sleep", "tenant-a", json!({ "abort": true })),
    );
    let ids = t.push_all(jobs).await;
    let poison = ids[10].clone();

    let all = t.wait_final("diag", &ids).await;
    let p = all.iter().find(|j| j.id == poison).unwrap();
    assert_eq!(p.status, JobStatus::Dead, "{p:?}");
    assert_eq!(p.reason.as_deref(), Some("crashed"), "{p:?}");
    assert_eq!(p.attempts, 2, "{p:?}");
    let others: Vec<_> = all
        .iter()
        .filter(|j| j.id != poison && j.status != JobStatus::Succeeded)
        .map(|j| (&j.id, j.status, &j.reason, j.attempts))
        .collect();
    assert!(
        others.is_empty(),
        "ordinary jobs that did not succeed: {others:?}"
    );

    // Exactly one process aborted per delivery of the poison job.
    let exits = sup.stop().await;
    assert_eq!(exits.len(), 2, "{exits:?}");
    assert!(
        exits.iter().all(|e| e.signal() == Some(libc::SIGABRT)),
        "{exits:?}"
    );
}

#[tokio::test]
async fn worker_survives_a_redis_restart() {
    let mut redis = OwnRedis::start().await;
    let t = Fleet::on(&redis.url(), |_| {}).await;
    let mut w = t.spawn("diag", 4);
    t.registered("diag", &w).await;

    // 40 jobs of 50 ms on 4 slots: ~0.5 s of work, cut in the middle.
    let mut ids = t.push_all((0..40).map(|_| sleep_job(50)).collect()).await;
    wait_until!(t.engine.counts("diag").await.unwrap().succeeded >= 8);
    let warnings = |w: &WorkerProc| w.log_text().matches("WARN").count();
    let before = warnings(&w);
    redis.stop().await;
    // Down until the worker has felt it (a Redis call failed and it said so).
    wait_until!(warnings(&w) > before);
    redis.restart().await;
    assert!(w.alive(), "the worker exited while Redis was down");
    wait_until!(t.engine.ping().await.is_ok());
    // The AOF brought back every job accepted before the restart (`jobs` fails on a missing one).
    assert_eq!(t.jobs("diag", &ids).await.len(), 40);

    ids.extend(t.push_all((0..40).map(|_| sleep_job(10)).collect()).await);
    let all = t.wait_final("diag", &ids).await;
    let not_ok: Vec<_> = all
        .iter()
        .filter(|j| j.status != JobStatus::Succeeded)
        .map(|j| (&j.id, j.status, &j.reason))
        .collect();
    assert!(not_ok.is_empty(), "jobs that did not succeed: {not_ok:?}");
    assert_eq!(t.engine.counts("diag").await.unwrap().succeeded, 80);

    assert!(w.alive());
    w.sigterm();
    assert!(w.wait().await.success());
}

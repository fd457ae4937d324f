//! Queue control seen by several real worker processes: a pause holds every
//! process, a shared rate limit holds across processes, and a worker serves
//! only the queues it was given.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::*;
use jobs::engine::{JobStatus, NewJob};
use serde_json::json;

fn noop(queue: &str) -> NewJob {
    NewJob::new(queue, "diag.noop", "tenant-a", json!({}))
}

/// The processes among `procs` whose workers ran the jobs.
fn ran_by(procs: &[&WorkerProc], jobs: &[jobs::engine::JobInfo]) -> BTreeSet<u32> {
    jobs.iter()
        .filter_map(|j| {
            let w = j.worker.as_deref()?;
            procs.iter().find(|p| p.owns(w, "diag")).map(|p| p.pid)
        })
        .collect()
}

#[tokio::test]
async fn pause_is_seen_by_every_process() {
    let t = Fleet::new(|_| {}).await;
    let mut a = t.spawn("diag", 4);
    let mut b = t.spawn("diag", 4);
    t.registered("diag", &a).await;
    t.registered("diag", &b).await;

    t.engine.set_paused("diag", true).await.unwrap();
    let ids = t
        .push_all(
            (0..16)
                .map(|_| NewJob::new("diag", "diag.sleep", "tenant-a", json!({ "ms": 100 })))
                .collect(),
        )
        .await;
    // The push woke both idle workers and each looks again at least every
    // second: over 1.5 s both see the pause, and nothing may start.
    for _ in 0..15 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let c = t.engine.counts("diag").await.unwrap();
        assert!(c.paused);
        assert_eq!((c.queued, c.running, c.succeeded), (16, 0, 0), "{c:?}");
        for w in t.engine.workers("diag").await.unwrap() {
            assert!(w.running.is_empty(), "{w:?}");
        }
    }
    for j in t.jobs("diag", &ids).await {
        assert_eq!((j.status, j.attempts), (JobStatus::Queued, 0), "{j:?}");
    }

    t.engine.set_paused("diag", false).await.unwrap();
    let all = t.wait_final("diag", &ids).await;
    assert!(all.iter().all(|j| j.status == JobStatus::Succeeded));
    // Both processes were live and serving: each ran jobs once resumed.
    assert_eq!(ran_by(&[&a, &b], &all).len(), 2);

    for p in [&mut a, &mut b] {
        p.sigterm();
        assert!(p.wait().await.success());
    }
}

#[tokio::test]
async fn rate_limit_holds_across_two_processes() {
    let t = Fleet::new(|_| {}).await;
    let mut a = t.spawn("diag", 8);
    let mut b = t.spawn("diag", 8);
    t.registered("diag", &a).await;
    t.registered("diag", &b).await;

    t.engine
        .set_rate_limit("diag", "*", 50, Duration::from_secs(1))
        .await
        .unwrap();
    let ids = t.push_all((0..300).map(|_| noop("diag")).collect()).await;
    let all = t.wait_final("diag", &ids).await;
    assert!(all.iter().all(|j| j.status == JobStatus::Succeeded));
    assert_eq!(
        ran_by(&[&a, &b], &all).len(),
        2,
        "one process ran everything"
    );

    // The engine's property: starts spaced 1/50 s apart, whoever claims them.
    let mut starts: Vec<i64> = all
        .iter()
        .map(|j| j.started_at.expect("started").timestamp_millis())
        .collect();
    starts.sort_unstable();
    let span_secs = (starts[starts.len() - 1] - starts[0]) as f64 / 1000.0;
    let rate = (starts.len() - 1) as f64 / span_secs;
    eprintln!("achieved {rate:.2} jobs/s over {span_secs:.3} s");
    assert!(
        (rate - 50.0).abs() <= 50.0 * 0.05,
        "achieved {rate:.2} jobs/s over {span_secs:.3} s, want 50 ± 5%"
    );

    for p in [&mut a, &mut b] {
        p.sigterm();
        assert!(p.wait().await.success());
    }
}

#[tokio::test]
async fn worker_serves_only_its_queues() {
    let t = Fleet::new(|_| {}).await;
    let mut w = t.spawn("diag", 4);
    t.registered("diag", &w).await;

    // Jobs of a queue the worker was not given go first, then its own.
    let other = t.push_all((0..5).map(|_| noop("other")).collect()).await;
    let mine = t.push_all((0..5).map(|_| noop("diag")).collect()).await;
    let done = t.wait_final("diag", &mine).await;
    assert!(done.iter().all(|j| j.status == JobStatus::Succeeded));

    for j in t.jobs("other", &other).await {
        assert_eq!((j.status, j.attempts), (JobStatus::Queued, 0), "{j:?}");
    }
    let c = t.engine.counts("other").await.unwrap();
    assert_eq!((c.queued, c.running, c.succeeded), (5, 0, 0), "{c:?}");
    assert!(t.engine.workers("other").await.unwrap().is_empty());
    w.sigterm();
    assert!(w.wait().await.success());

    // An unknown queue is refused at start, by name.
    let out = t
        .spec("nope", 1)
        .command()
        .output()
        .await
        .expect("run worker");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("\"nope\""), "stderr: {stderr}");
}

//! SIGTERM on a real worker process: it stops fetching, lets in-flight jobs
//! finish within `shutdown_grace_ms`, releases the rest back to the queue
//! with their attempt not counted, writes every finished job's ack, and exits 0.

mod common;

use std::time::Instant;

use common::*;
use jobs::engine::{JobStatus, NewJob};
use serde_json::json;

fn sleep_job(ms: u64) -> NewJob {
    NewJob::new("diag", "diag.sleep", "tenant-a", json!({ "ms": ms }))
}

#[tokio::test]
async fn sigterm_drains_and_releases() {
    let t = Fleet::new(|s| s.shutdown_grace_ms = 500).await;
    let mut w = t.spawn("diag", 6);
    t.registered("diag", &w).await;

    // Six slots: two jobs far longer than the grace, four that end inside it.
    let long = t.push_all(vec![sleep_job(3_000), sleep_job(3_000)]).await;
    let short = t.push_all((0..4).map(|_| sleep_job(300)).collect()).await;
    let running = [long.clone(), short.clone()].concat();
    wait_until!(t
        .jobs("diag", &running)
        .await
        .iter()
        .all(|j| j.status == JobStatus::Running));
    // More work behind them: claimed into the worker's buffer or still waiting.
    let extra = t
        .push_all(
            (0..4)
                .map(|_| NewJob::new("diag", "diag.noop", "tenant-a", json!({})))
                .collect(),
        )
        .await;

    let asked = Instant::now();
    w.sigterm();
    let status = w.wait().await;
    let took = asked.elapsed();
    assert!(status.success(), "worker exited with {status}");
    // Grace is 0.5 s; a drain that waited for the 3 s jobs would also have
    // run them to `succeeded` (checked below). This bound only catches a hang.
    assert!(took.as_millis() < 2_500, "exit took {took:?}");

    for j in t.jobs("diag", &short).await {
        assert_eq!(j.status, JobStatus::Succeeded, "ack dropped? {j:?}");
        assert_eq!(j.attempts, 1);
    }
    for j in t.jobs("diag", &long).await {
        assert_eq!(j.status, JobStatus::Queued, "not released: {j:?}");
        assert_eq!(j.attempts, 0, "released attempt was counted: {j:?}");
    }
    for j in t.jobs("diag", &extra).await {
        // Either it ran inside the grace, or it went back untouched.
        let back = j.status == JobStatus::Queued && j.attempts == 0;
        assert!(j.status == JobStatus::Succeeded || back, "{j:?}");
    }
    let c = t.engine.counts("diag").await.unwrap();
    assert_eq!(c.running, 0, "leases left behind: {c:?}");

    // A new worker picks the released jobs up at once (no lease to wait for).
    let mut w2 = t.spawn("diag", 6);
    let all_ids = [running, extra].concat();
    let all = t.wait_final("diag", &all_ids).await;
    for j in &all {
        assert_eq!(j.status, JobStatus::Succeeded, "{j:?}");
    }
    for j in all.iter().filter(|j| long.contains(&j.id)) {
        assert_eq!(j.attempts, 1, "{j:?}");
    }
    w2.sigterm();
    assert!(w2.wait().await.success());
}

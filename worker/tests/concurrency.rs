//! Global concurrency limits across three real `worker` processes: jobs of
//! limited keys, more than the limits and fewer than the processes' slots,
//! never run more at once than their key allows — measured from the start and
//! finish times the engine records on each job — yet do reach the limit, and
//! every job finishes with every slot given back.

mod common;

use std::collections::HashSet;

use common::*;
use jobs::engine::{JobInfo, JobStatus, NewJob};
use serde_json::json;

/// Slots of each process on `diag`: one process alone could run every key's
/// whole limit at once (3 + 2 + 2 < 8), three of them 24 jobs, so only the
/// global limits can hold the runs down.
const SLOTS: usize = 8;

/// Jobs of each key, and how long each sleeps.
const PER_KEY: usize = 24;
const RUN_MS: u64 = 100;

fn keyed(key: &str, tenant: &str) -> NewJob {
    let mut j = NewJob::new("diag", "diag.sleep", tenant, json!({ "ms": RUN_MS }));
    j.concurrency_key = Some(key.to_string());
    j
}

/// Most of `runs` running at one instant, from their recorded `started_at` and
/// `finished_at` (ms). A slot is released in the script that writes the
/// finish, and the next holder starts after its claim, so a run that ends in
/// the millisecond another starts does not overlap it (ends sort first).
fn max_overlap(runs: &[&JobInfo]) -> usize {
    let mut edges: Vec<(i64, i32)> = Vec::new();
    for j in runs {
        let start = j.started_at.expect("started_at").timestamp_millis();
        let end = j.finished_at.expect("finished_at").timestamp_millis();
        assert!(start <= end, "{j:?}");
        edges.push((start, 1));
        edges.push((end, -1));
    }
    edges.sort_unstable();
    let (mut cur, mut max) = (0i32, 0i32);
    for (_, d) in edges {
        cur += d;
        max = max.max(cur);
    }
    max as usize
}

#[tokio::test]
async fn global_limits_hold_across_three_worker_processes() {
    let t = Fleet::new(|_| {}).await;
    // `provider:slow` itself at most 3; each `ocr:<tenant>` at most 2 (the limit of `ocr`).
    t.engine
        .set_concurrency_limit("diag", "provider:slow", 3)
        .await
        .unwrap();
    t.engine
        .set_concurrency_limit("diag", "ocr", 2)
        .await
        .unwrap();
    let mut procs: Vec<WorkerProc> = (0..3).map(|_| t.spawn("diag", SLOTS)).collect();
    for p in &procs {
        t.registered("diag", p).await;
    }

    let mut jobs = Vec::new();
    for i in 0..PER_KEY {
        jobs.push(keyed("provider:slow", &format!("tenant-{}", i % 4)));
        jobs.push(keyed("ocr:tenant-a", "tenant-a"));
        jobs.push(keyed("ocr:tenant-b", "tenant-b"));
    }
    let ids = t.push_all(jobs).await;
    let all = t.wait_final("diag", &ids).await;

    let not_ok: Vec<_> = all
        .iter()
        .filter(|j| j.status != JobStatus::Succeeded || j.attempts != 1)
        .map(|j| (&j.id, j.status, j.attempts, &j.reason))
        .collect();
    assert!(
        not_ok.is_empty(),
        "jobs not run once with success: {not_ok:?}"
    );
    for (key, limit) in [
        ("provider:slow", 3),
        ("ocr:tenant-a", 2),
        ("ocr:tenant-b", 2),
    ] {
        let runs: Vec<&JobInfo> = all
            .iter()
            .filter(|j| j.concurrency_key.as_deref() == Some(key))
            .collect();
        assert_eq!(runs.len(), PER_KEY, "{key}");
        let seen = max_overlap(&runs);
        assert!(seen <= limit, "{key}: {seen} ran at once, limit {limit}");
        assert_eq!(seen, limit, "{key} never reached its limit of {limit}");
    }

    // The work was shared: jobs ran in more than one process (the engine
    // records each run's worker id, `<host>-<pid>-<queue>-<ulid>`).
    let ran_in: HashSet<usize> = all
        .iter()
        .map(|j| {
            let w = j
                .worker
                .as_deref()
                .unwrap_or_else(|| panic!("no worker on {j:?}"));
            procs
                .iter()
                .position(|p| p.owns(w, "diag"))
                .unwrap_or_else(|| panic!("job {} ran in an unknown worker {w}", j.id))
        })
        .collect();
    assert!(
        ran_in.len() >= 2,
        "every job ran in one process: {ran_in:?}"
    );

    // Every slot came back and nothing waits parked.
    let uses = t.engine.concurrency("diag").await.unwrap();
    assert!(
        uses.iter().all(|u| u.in_use == 0 && u.parked == 0),
        "{uses:?}"
    );
    for p in &mut procs {
        p.sigterm();
        assert!(p.wait().await.success());
    }
}

//! Real `worker` processes on a Redis Cluster the test starts itself (3
//! masters, 3 replicas on loopback, `engine::servers`): one process is
//! SIGKILLed mid-run and started again, and no job of three queues living on
//! three different shards is lost; a batch whose members the killed process
//! held gets its `on_complete` and `on_success` callbacks pushed once and run
//! once.
//!
//! The jobs are `diag.sleep` (no PostgreSQL needed) pushed straight to the
//! engine into three of the registry's queues: a worker runs whatever
//! registered kind it claims from the queues it serves.

mod common;

use std::collections::HashSet;
use std::os::unix::process::ExitStatusExt;

use common::*;
use jobs::engine::servers::OwnCluster;
use jobs::engine::{BatchSpec, BatchState, JobInfo, JobStatus, NewJob};
use serde_json::json;

/// Queues the workers serve; the test's prefix puts each on its own master.
const QUEUES: [&str; 3] = ["diag", "alerts", "events"];
/// Slots of each process on each queue.
const SLOTS: usize = 4;
/// Batch members (on `diag`, where batches of `diag` kinds live) and plain jobs per other queue.
const MEMBERS: usize = 60;
const PLAIN: usize = 60;

fn sleep_job(queue: &str, ms: u64) -> NewJob {
    NewJob::new(queue, "diag.sleep", "tenant-a", json!({ "ms": ms }))
}

fn callback(note: &str) -> NewJob {
    NewJob::new(
        "diag",
        "diag.batch_done",
        "tenant-a",
        json!({ "note": note }),
    )
}

/// A fresh key prefix under which [`QUEUES`] hash to three different masters.
fn prefix_over_three_shards(cluster: &OwnCluster) -> RedisPrefix {
    loop {
        let keys = RedisPrefix::on(&cluster.url());
        let masters: HashSet<u16> = QUEUES
            .iter()
            .map(|q| cluster.master_of(&format!("{{{}:{q}}}:", keys.prefix)))
            .collect();
        if masters.len() == QUEUES.len() {
            return keys;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_sigkilled_on_a_cluster_loses_no_job_and_batch_callbacks_run_once() {
    let cluster = OwnCluster::start(3);
    let t = Fleet::under(prefix_over_three_shards(&cluster), |s| {
        s.lease_ttl_ms = 2_000;
    })
    .await;
    let spec = t.spec(&QUEUES.join(","), SLOTS);
    let mut victim = spec.spawn();
    let mut others = vec![spec.spawn(), spec.spawn()];
    let victim_ids = {
        let mut ids = Vec::new();
        for q in QUEUES {
            ids.push(t.registered(q, &victim).await);
        }
        ids
    };
    for p in &others {
        for q in QUEUES {
            t.registered(q, p).await;
        }
    }

    // The batch: 60 members of 100-300 ms on `diag` (~3 s of work for its 12 slots).
    let batch = t
        .engine
        .batch_push(BatchSpec {
            id: None,
            queue: "diag".into(),
            tenant: "tenant-a".into(),
            jobs: (0..MEMBERS as u64)
                .map(|i| sleep_job("diag", 100 + (i * 37) % 201))
                .collect(),
            on_complete: Some(callback("complete")),
            on_success: Some(callback("success")),
        })
        .await
        .expect("batch");
    let members: Vec<String> = batch.jobs.iter().map(|p| p.id.clone()).collect();
    let on_complete = batch.on_complete.clone().expect("on_complete id");
    let on_success = batch.on_success.clone().expect("on_success id");
    // Plain jobs on the two other shards.
    let mut plain = Vec::new();
    for q in &QUEUES[1..] {
        let jobs = (0..PLAIN as u64)
            .map(|i| sleep_job(q, 50 + (i * 53) % 151))
            .collect();
        plain.push((q.to_string(), t.push_all(jobs).await));
    }

    // Kill the victim while it runs members of the batch.
    let member_set: HashSet<&String> = members.iter().collect();
    wait_until!(t
        .engine
        .workers("diag")
        .await
        .unwrap()
        .iter()
        .any(|w| w.id == victim_ids[0] && w.running.iter().any(|id| member_set.contains(id))));
    let status = victim.kill().await;
    assert_eq!(status.signal(), Some(libc::SIGKILL));
    // What it held when it died: its leases stay until they expire.
    let mut orphans: Vec<(String, String)> = Vec::new();
    for (q, id) in QUEUES.iter().zip(&victim_ids) {
        if let Some(w) = t
            .engine
            .workers(q)
            .await
            .unwrap()
            .into_iter()
            .find(|w| &w.id == id)
        {
            orphans.extend(w.running.into_iter().map(|j| (q.to_string(), j)));
        }
    }
    assert!(
        orphans.iter().any(|(_, j)| member_set.contains(j)),
        "the victim held no batch member when it died: {orphans:?}"
    );
    // Started again, as a supervisor would.
    let restarted = spec.spawn();
    for q in QUEUES {
        t.registered(q, &restarted).await;
    }
    others.push(restarted);

    // (a) Every job of every queue succeeded; the orphans ran again elsewhere.
    let mut everything: Vec<JobInfo> = Vec::new();
    for (q, ids) in &plain {
        everything.extend(t.wait_final(q, ids).await);
    }
    everything.extend(t.wait_final("diag", &members).await);
    let not_ok: Vec<_> = everything
        .iter()
        .filter(|j| j.status != JobStatus::Succeeded)
        .map(|j| (&j.queue, &j.id, j.status, &j.reason))
        .collect();
    assert!(not_ok.is_empty(), "jobs that did not succeed: {not_ok:?}");
    for (q, id) in &orphans {
        let j = everything
            .iter()
            .find(|j| &j.queue == q && &j.id == id)
            .expect("orphan is ours");
        assert!(
            j.attempts >= 2,
            "{q}/{id} held by the killed worker was not re-run: {j:?}"
        );
        assert!(
            !victim_ids
                .iter()
                .any(|v| j.worker.as_deref() == Some(v.as_str())),
            "{j:?}"
        );
    }

    // (b) The batch completed once: both callbacks were pushed once and ran once.
    wait_until!(t
        .engine
        .batch("diag", &batch.id)
        .await
        .unwrap()
        .is_some_and(|b| b.state == BatchState::Done));
    let info = t.engine.batch("diag", &batch.id).await.unwrap().unwrap();
    assert_eq!(
        (
            info.total,
            info.pending,
            info.succeeded,
            info.dead,
            info.cancelled
        ),
        (MEMBERS as u64, 0, MEMBERS as u64, 0, 0),
        "{info:?}"
    );
    assert_eq!(info.on_complete.as_deref(), Some(on_complete.as_str()));
    assert_eq!(info.on_success.as_deref(), Some(on_success.as_str()));
    let callbacks = t
        .wait_final("diag", &[on_complete.clone(), on_success.clone()])
        .await;
    for (cb, note) in callbacks.iter().zip(["complete", "success"]) {
        assert_eq!(
            (cb.status, cb.attempts),
            (JobStatus::Succeeded, 1),
            "{cb:?}"
        );
        let counts = json!({ "id": batch.id, "total": MEMBERS, "succeeded": MEMBERS, "dead": 0, "cancelled": 0 });
        assert_eq!(
            cb.result,
            Some(json!({ "batch": counts, "note": note })),
            "{cb:?}"
        );
    }
    // No third callback job: `diag` holds the members and these two, nothing else.
    let page = t
        .engine
        .list("diag", JobStatus::Succeeded, None, 500, None)
        .await
        .unwrap();
    let callback_jobs: HashSet<&str> = page
        .jobs
        .iter()
        .filter(|j| j.kind == "diag.batch_done")
        .map(|j| j.id.as_str())
        .collect();
    assert_eq!(
        callback_jobs,
        HashSet::from([on_complete.as_str(), on_success.as_str()])
    );
    // Each callback's handler ran once, in whichever process (killed ones' logs included).
    let logs = t.log_lines();
    for id in [&on_complete, &on_success] {
        let runs = logs
            .iter()
            .filter(|l| l.contains("batch done") && l.contains(id.as_str()))
            .count();
        assert_eq!(runs, 1, "callback {id} ran {runs} times");
    }

    // Nothing left behind on any shard.
    for (q, n) in [
        ("diag", MEMBERS + 2),
        (QUEUES[1], PLAIN),
        (QUEUES[2], PLAIN),
    ] {
        let c = t.engine.counts(q).await.unwrap();
        assert_eq!(
            (
                c.succeeded,
                c.queued,
                c.claimed,
                c.running,
                c.scheduled,
                c.retrying,
                c.dead
            ),
            (n as u64, 0, 0, 0, 0, 0, 0),
            "{q}: {c:?}"
        );
    }
    for p in &mut others {
        assert!(p.alive());
        p.sigterm();
        assert!(p.wait().await.success());
    }
}

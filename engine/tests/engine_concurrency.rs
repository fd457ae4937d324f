//! Global concurrency limits over the real Redis: never exceeded across three
//! worker engines (measured from the handlers' start/end times), a vanished
//! worker's slot comes back with its lease, and a job over its limit waits
//! in Redis without holding a worker slot or blocking other keys' jobs.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};
use tarefa_engine::testing::{eventually, FnHandler};
use tarefa_engine::{Engine, JobStatus, KindPolicy, NewJob};
use tokio::sync::Notify;

/// (concurrency key, start, end) of each run.
type Runs = Arc<Mutex<Vec<(String, Instant, Instant)>>>;

/// Most runs of `key` that overlapped at any instant.
fn max_overlap(runs: &[(String, Instant, Instant)], key: &str) -> usize {
    let mut edges: Vec<(Instant, i32)> = Vec::new();
    for (_, s, e) in runs.iter().filter(|r| r.0 == key) {
        edges.push((*s, 1));
        edges.push((*e, -1));
    }
    // Ends before starts at the same instant: touching runs do not overlap.
    edges.sort_by_key(|&(t, d)| (t, d));
    let (mut cur, mut max) = (0i32, 0i32);
    for (_, d) in edges {
        cur += d;
        max = max.max(cur);
    }
    max as usize
}

fn recording(runs: Runs, ms: u64) -> Arc<dyn tarefa_engine::Handler> {
    FnHandler::new()
        .kind("lim.work", KindPolicy::new("lim"), move |d| {
            let runs = runs.clone();
            async move {
                let key = d.payload["key"].as_str().unwrap_or("").to_string();
                let start = Instant::now();
                tokio::time::sleep(Duration::from_millis(ms)).await;
                runs.lock().unwrap().push((key, start, Instant::now()));
                Ok(Value::Null)
            }
        })
        .build()
}

fn keyed(queue: &str, key: Option<&str>, tenant: &str) -> NewJob {
    let mut j = NewJob::new(
        queue,
        "lim.work",
        tenant,
        json!({ "key": key.unwrap_or("") }),
    );
    j.concurrency_key = key.map(str::to_string);
    j
}

#[tokio::test]
async fn limits_hold_across_three_worker_engines() {
    let t = TestEngine::new().await;
    // `ocr` limits each `ocr:<tenant>` key to 2; `provider:slow` itself to 3.
    t.engine
        .set_concurrency_limit("lim", "ocr", 2)
        .await
        .unwrap();
    t.engine
        .set_concurrency_limit("lim", "provider:slow", 3)
        .await
        .unwrap();
    let runs: Runs = Arc::default();
    let mut workers = Vec::new();
    for _ in 0..3 {
        let e = Engine::connect(t.config.clone()).await.unwrap();
        workers.push(tarefa_engine::testing::WorkerHandle::spawn(
            e,
            "lim",
            4,
            recording(runs.clone(), 40),
        ));
    }
    let mut jobs = Vec::new();
    for i in 0..16 {
        jobs.push(keyed("lim", Some("ocr:tenant-a"), "tenant-a"));
        jobs.push(keyed("lim", Some("ocr:tenant-b"), "tenant-b"));
        jobs.push(keyed("lim", Some("provider:slow"), &format!("t{}", i % 4)));
        jobs.push(keyed("lim", None, "tenant-c"));
    }
    let pushed = t.engine.push_bulk(jobs).await.unwrap();
    for p in &pushed {
        assert_eq!(
            t.wait_final("lim", &p.id).await.status,
            JobStatus::Succeeded
        );
    }
    let runs = runs.lock().unwrap().clone();
    assert_eq!(runs.len(), 64);
    for (key, limit) in [
        ("ocr:tenant-a", 2),
        ("ocr:tenant-b", 2),
        ("provider:slow", 3),
    ] {
        let seen = max_overlap(&runs, key);
        assert!(seen <= limit, "{key}: {seen} ran at once, limit {limit}");
        assert!(seen >= 1, "{key} ran");
    }
    // Unlimited jobs ran beside them (12 worker slots in all).
    assert!(
        max_overlap(&runs, "") >= 2,
        "unlimited jobs were not serialised"
    );
    // Every slot came back.
    let uses = t.engine.concurrency("lim").await.unwrap();
    assert!(
        uses.iter().all(|u| u.in_use == 0 && u.parked == 0),
        "{uses:?}"
    );
    for w in workers {
        w.stop().await;
    }
}

#[tokio::test]
async fn a_vanished_workers_slot_comes_back_when_its_lease_expires() {
    let t = TestEngine::new().await;
    t.engine
        .set_concurrency_limit("lim", "ocr", 1)
        .await
        .unwrap();
    let a = t
        .engine
        .push(keyed("lim", Some("ocr:t1"), "t1"))
        .await
        .unwrap();
    let b = t
        .engine
        .push(keyed("lim", Some("ocr:t1"), "t1"))
        .await
        .unwrap();
    let before = chrono::Utc::now();
    // A worker claims `a` and dies: nobody renews, starts or acks it.
    let claimed = t.claim_and_vanish("lim", 10).await;
    assert_eq!(claimed, vec![a.id.clone()], "only one slot: `b` was parked");
    let uses = t.engine.concurrency("lim").await.unwrap();
    let ocr = uses.iter().find(|u| u.key == "ocr:t1").unwrap();
    assert_eq!(
        (ocr.in_use, ocr.parked, ocr.limit),
        (1, 1, Some(1)),
        "{uses:?}"
    );
    assert_eq!(ocr.holders[0].job, a.id);

    let runs: Runs = Arc::default();
    let w = t.serve("lim", 4, recording(runs.clone(), 10));
    let jb = t.wait_final("lim", &b.id).await;
    let ja = t.wait_final("lim", &a.id).await;
    assert_eq!(
        (ja.status, jb.status),
        (JobStatus::Succeeded, JobStatus::Succeeded)
    );
    // `a` was rescued (its crash recorded) and ran again.
    assert_eq!(ja.attempts, 2);
    assert_eq!(ja.attempt_errors[0].reason, "crashed");
    // `b` could not start before the dead worker's lease ran out.
    let lease = t.config.settings.lease_ttl_ms as i64;
    let started = jb.started_at.unwrap().timestamp_millis();
    assert!(
        started >= before.timestamp_millis() + lease - 5,
        "b started {} ms after the claim, lease {lease} ms",
        started - before.timestamp_millis()
    );
    assert_eq!(max_overlap(&runs.lock().unwrap(), "ocr:t1"), 1);
    let uses = t.engine.concurrency("lim").await.unwrap();
    assert!(
        uses.iter().all(|u| u.in_use == 0 && u.parked == 0),
        "{uses:?}"
    );
    w.stop().await;
}

#[tokio::test]
async fn a_job_over_its_limit_waits_in_redis_and_blocks_no_other_key() {
    let t = TestEngine::new().await;
    t.engine
        .set_concurrency_limit("lim", "provider:slow", 1)
        .await
        .unwrap();
    let gate = Arc::new(Notify::new());
    let g = gate.clone();
    let handler = FnHandler::new()
        .kind("lim.gated", KindPolicy::new("lim"), move |_d| {
            let g = g.clone();
            async move {
                g.notified().await;
                Ok(json!("opened"))
            }
        })
        .kind("lim.quick", KindPolicy::new("lim"), |_d| async {
            Ok(Value::Null)
        })
        .build();
    // One worker with 2 slots: the slow key's first job takes one slot.
    let w = t.serve("lim", 2, handler);
    let gated = |tenant: &str| {
        let mut j = NewJob::new("lim", "lim.gated", tenant, json!({}));
        j.concurrency_key = Some("provider:slow".into());
        j
    };
    let s1 = t.engine.push(gated("t1")).await.unwrap();
    t.wait_status("lim", &s1.id, JobStatus::Running).await;
    let s2 = t.engine.push(gated("t1")).await.unwrap();
    // Other keys' jobs, behind `s2` in the same tenant list, all run.
    let mut quick = Vec::new();
    for _ in 0..6 {
        let p = t
            .engine
            .push(NewJob::new("lim", "lim.quick", "t1", json!({})))
            .await
            .unwrap();
        quick.push(p.id);
    }
    for id in &quick {
        assert_eq!(t.wait_final("lim", id).await.status, JobStatus::Succeeded);
    }
    // `s2` was never claimed: it waits parked in Redis, holding no worker slot.
    let j2 = t.engine.job("lim", &s2.id).await.unwrap().unwrap();
    assert_eq!((j2.status, j2.attempts), (JobStatus::Queued, 0), "{j2:?}");
    let uses = t.engine.concurrency("lim").await.unwrap();
    let slow = uses.iter().find(|u| u.key == "provider:slow").unwrap();
    assert_eq!((slow.in_use, slow.parked), (1, 1), "{uses:?}");
    assert_eq!(t.engine.counts("lim").await.unwrap().queued, 1);

    // s1 ends → its slot goes to s2.
    gate.notify_one();
    t.wait_status("lim", &s1.id, JobStatus::Succeeded).await;
    t.wait_status("lim", &s2.id, JobStatus::Running).await;
    gate.notify_one();
    let j2 = t.wait_final("lim", &s2.id).await;
    assert_eq!((j2.status, j2.attempts), (JobStatus::Succeeded, 1));
    let counts = t.engine.counts("lim").await.unwrap();
    assert_eq!((counts.queued, counts.running, counts.claimed), (0, 0, 0));
    w.stop().await;
}

#[tokio::test]
async fn a_queue_cap_limits_the_whole_queue_and_raising_a_limit_unparks() {
    let t = TestEngine::new().await;
    t.engine.set_concurrency_limit("lim", "*", 2).await.unwrap();
    t.engine.set_concurrency_limit("lim", "k", 1).await.unwrap();
    let runs: Runs = Arc::default();
    let w = t.serve("lim", 8, recording(runs.clone(), 30));
    let mut jobs: Vec<NewJob> = (0..10).map(|_| keyed("lim", None, "t1")).collect();
    jobs.extend((0..4).map(|_| keyed("lim", Some("k"), "t2")));
    let pushed = t.engine.push_bulk(jobs).await.unwrap();
    for p in &pushed {
        t.wait_final("lim", &p.id).await;
    }
    let all = runs.lock().unwrap().clone();
    let mut everything = all.clone();
    for r in &mut everything {
        r.0 = "any".into();
    }
    assert!(max_overlap(&everything, "any") <= 2, "queue cap exceeded");
    assert!(max_overlap(&all, "k") <= 1);
    w.stop().await;

    // Parked jobs leave at once when their limit is raised.
    t.engine.set_concurrency_limit("lim", "*", 0).await.unwrap();
    let a = t.engine.push(keyed("lim", Some("k"), "t1")).await.unwrap();
    let b = t.engine.push(keyed("lim", Some("k"), "t1")).await.unwrap();
    let taken = t.claim_and_vanish("lim", 10).await;
    assert_eq!(taken, vec![a.id.clone()]);
    t.engine.set_concurrency_limit("lim", "k", 2).await.unwrap();
    let taken = t.claim_and_vanish("lim", 10).await;
    assert_eq!(
        taken,
        vec![b.id.clone()],
        "raised to 2: b unparked and claimed"
    );
    let uses = eventually(|| async { t.engine.concurrency("lim").await.ok() })
        .some()
        .await;
    let k = uses.iter().find(|u| u.key == "k").unwrap();
    assert_eq!((k.in_use, k.parked, k.limit), (2, 0, Some(2)));
}

//! The engine on a Redis Cluster the test starts itself (3 masters, 3
//! replicas on loopback ports): queues spread over the shards run pushes,
//! claims, retries, dead letters, schedules, idempotency, cancels, batches,
//! chains, concurrency limits and lease rescues; a master SIGKILLed mid-run
//! is replaced by its replica and every job is counted (async: losses
//! measured; replicated: none); a busy queue's slot migrates to another
//! master mid-run.

mod common;
#[path = "common/topology.rs"]
mod topology;

use std::time::Duration;

use serde_json::json;
use tarefa_engine::servers::OwnCluster;
use tarefa_engine::testing::{eventually, test_settings, RedisPrefix, TestEngine};
use tarefa_engine::{
    BatchSpec, BatchState, CancelOutcome, Durability, EngineSettings, JobStatus, NewJob,
};
use topology::*;

/// Queue names (`c0`, `c1`, …) whose slots land on `n` different masters.
fn queues_on_distinct_masters(cluster: &OwnCluster, prefix: &str, n: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut masters = Vec::new();
    for i in 0.. {
        let q = format!("c{i}");
        let m = cluster.master_of(&format!("{{{prefix}:{q}}}:"));
        if !masters.contains(&m) {
            masters.push(m);
            out.push(q);
        }
        if out.len() == n {
            return out;
        }
    }
    unreachable!()
}

async fn cluster_engine(cluster: &OwnCluster, settings: EngineSettings) -> TestEngine {
    TestEngine::on(RedisPrefix::on(&cluster.url()), settings).await
}

fn work(q: &str, payload: serde_json::Value) -> NewJob {
    NewJob::new(q, "c.work", "tenant-a", payload)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_engine_runs_on_a_cluster_with_queues_on_every_shard() {
    let cluster = OwnCluster::start(3);
    let t = cluster_engine(&cluster, test_settings()).await;
    let queues = queues_on_distinct_masters(&cluster, &t.prefix, 3);
    let runs = Runs::default();
    let workers: Vec<_> = queues
        .iter()
        .map(|q| t.serve(q, 8, counting_handler(runs.clone())))
        .collect();

    // One bulk push naming every queue (grouped per queue, each its own slot),
    // a third of the jobs failing once (retried).
    let mut jobs = Vec::new();
    for n in 0..300 {
        jobs.push(work(&queues[n % 3], json!({ "n": n, "fail": n % 3 == 0 })));
    }
    let pushed = t.engine.push_bulk(jobs).await.expect("bulk push");
    assert_eq!(pushed.len(), 300);
    for (n, p) in pushed.iter().enumerate() {
        let j = t.wait_final(&queues[n % 3], &p.id).await;
        assert_eq!(j.status, JobStatus::Succeeded, "{j:?}");
        assert_eq!(j.attempts, if n % 3 == 0 { 2 } else { 1 });
    }
    // A lookup across queues pipelines keys of three slots.
    let found = t
        .engine
        .find(&queues, &pushed[4].id)
        .await
        .unwrap()
        .expect("found");
    assert_eq!(found.queue, queues[1]);

    // Dead letters, schedules, idempotency, cancel.
    let q = &queues[2];
    let mut dead = work(q, json!({ "dead": true }));
    dead.max_attempts = 2;
    let dead = t.engine.push(dead).await.unwrap();
    assert_eq!(t.wait_final(q, &dead.id).await.status, JobStatus::Dead);
    let mut later = work(q, json!({}));
    later.run_at = Some(chrono::Utc::now() + chrono::Duration::milliseconds(300));
    let later = t.engine.push(later).await.unwrap();
    assert_eq!(later.status, JobStatus::Scheduled);
    assert_eq!(
        t.wait_final(q, &later.id).await.status,
        JobStatus::Succeeded
    );
    let mut once = work(q, json!({}));
    once.idempotency_key = Some("k1".into());
    let first = t.engine.push(once.clone()).await.unwrap();
    let again = t.engine.push(once).await.unwrap();
    assert!(first.created && !again.created);
    assert_eq!(first.id, again.id);
    let long = t
        .engine
        .push(work(q, json!({ "ms": 60_000 })))
        .await
        .unwrap();
    t.wait_status(q, &long.id, JobStatus::Running).await;
    assert_eq!(
        t.engine.cancel(q, &long.id).await.unwrap(),
        CancelOutcome::CancelRequested
    );
    assert_eq!(t.wait_final(q, &long.id).await.status, JobStatus::Cancelled);

    // A batch with its callback, and a chain, on the queue of another shard.
    let q = &queues[0];
    let b = t
        .engine
        .batch_push(BatchSpec {
            id: None,
            queue: q.clone(),
            tenant: "tenant-a".into(),
            jobs: (0..5)
                .map(|n| work(q, json!({ "n": n, "fail": n == 2 })))
                .collect(),
            on_complete: Some(NewJob::new(q, "c.done", "tenant-a", json!({}))),
            on_success: None,
        })
        .await
        .expect("batch");
    let info = eventually(|| async { t.engine.batch(q, &b.id).await.ok().flatten() })
        .until(|i| i.state == BatchState::Done)
        .await;
    assert_eq!((info.total, info.succeeded), (5, 5));
    let cb = b.on_complete.expect("callback id");
    assert_eq!(t.wait_final(q, &cb).await.status, JobStatus::Succeeded);
    let parent = t.engine.push(work(q, json!({ "n": "p" }))).await.unwrap();
    let mut child = work(q, json!({ "n": "c" }));
    child.after = Some(parent.id.clone());
    let child = t.engine.push(child).await.unwrap();
    let c = t.wait_final(q, &child.id).await;
    assert_eq!(c.status, JobStatus::Succeeded);
    assert_eq!(c.result.expect("result")["parent"]["n"], "p");

    // A global concurrency limit: never more than 2 of the key at once.
    let q = &queues[1];
    t.engine.set_concurrency_limit(q, "slow", 2).await.unwrap();
    let mut ids = Vec::new();
    for _ in 0..6 {
        let mut j = work(q, json!({ "ms": 150 }));
        j.concurrency_key = Some("slow".into());
        ids.push(t.engine.push(j).await.unwrap().id);
    }
    let mut spans = Vec::new();
    for id in &ids {
        let j = t.wait_final(q, id).await;
        assert_eq!(j.status, JobStatus::Succeeded);
        spans.push((j.started_at.unwrap(), j.finished_at.unwrap()));
    }
    for (s, _) in &spans {
        let overlapping = spans.iter().filter(|(a, b)| a <= s && s < b).count();
        assert!(overlapping <= 2, "{overlapping} ran at once");
    }

    // A worker that vanished after its claim: the lease expires, the job runs.
    let q = &queues[2];
    // Stop this queue's worker so the vanishing claim gets the job.
    let mut workers = workers;
    let w = workers.remove(2);
    w.stop().await;
    let lonely = t.engine.push(work(q, json!({}))).await.unwrap();
    let taken = t.claim_and_vanish(q, 10).await;
    assert_eq!(taken, vec![lonely.id.clone()]);
    let _w = t.serve(q, 4, counting_handler(runs.clone()));
    assert_eq!(
        t.wait_final(q, &lonely.id).await.status,
        JobStatus::Succeeded
    );

    // Each queue's keys sit on its own master.
    for q in &queues {
        let m = cluster.master_of(&format!("{{{}:{q}}}:", t.prefix));
        let here = tarefa_engine::servers::redis_cmd(
            m,
            &["--scan", "--pattern", &format!("{{{}:{q}}}:*", t.prefix)],
        )
        .unwrap();
        assert!(here.lines().count() > 3, "{q} on {m}: {here}");
    }
}

/// Runs a producer over three queues on three shards, SIGKILLs the master of
/// the first queue's slot mid-run, and counts every accepted job.
async fn failover_run(durability: Durability) -> Tally {
    let mut cluster = OwnCluster::start(3);
    let settings = EngineSettings {
        durability,
        replica_wait_ms: 500,
        ..test_settings()
    };
    let t = cluster_engine(&cluster, settings).await;
    let queues = queues_on_distinct_masters(&cluster, &t.prefix, 3);
    let runs = Runs::default();
    let _workers: Vec<_> = queues
        .iter()
        .map(|q| t.serve(q, 8, counting_handler(runs.clone())))
        .collect();
    let producer = Producer::start(t.engine.clone(), queues.clone());
    accepted_more(&producer, 600).await;
    let victim = format!("{{{}:{}}}:", t.prefix, queues[0]);
    let old = cluster.kill_master_of(&victim);
    cluster.wait_promoted(&victim, old);
    // Workers and producer carry on after the failover (with `replicated`,
    // the promoted master refuses writes until it has a replica again).
    accepted_more(&producer, 300).await;
    // The killed node comes back as the new master's replica.
    cluster.node(old).start();
    cluster.wait_healthy();
    accepted_more(&producer, 600).await;
    let before_end = producer.accepted_len();
    let (accepted, refused) = producer.stop().await;
    quiet(&t.engine, &queues).await;
    let tally = tally(&t.engine, &accepted, &runs).await;
    eprintln!(
        "{durability:?}: {tally:?}, refused pushes {refused}, accepted before stop {before_end}"
    );
    // Every accepted job that survived succeeded; nothing is left half-done.
    assert!(tally.other.is_empty(), "{:?}", tally.other);
    assert_eq!(tally.never_ran, 0);
    assert_eq!(tally.succeeded + tally.lost, tally.accepted);
    // The jobs accepted after the failover, on the failed-over queue too, all ran.
    let after: Vec<_> = accepted[accepted.len() - 300..].to_vec();
    assert!(after.iter().any(|(q, _)| q == &queues[0]));
    let late = tally_of(&t, &after, &runs).await;
    assert_eq!(late.succeeded, after.len(), "{late:?}");
    tally
}

async fn tally_of(t: &TestEngine, accepted: &[(String, String)], runs: &Runs) -> Tally {
    tally(&t.engine, accepted, runs).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_master_is_replaced_and_every_job_is_counted_async() {
    let tally = failover_run(Durability::Async).await;
    // Asynchronous replication may lose the last writes: measured, not hidden.
    assert!(tally.lost < tally.accepted / 4, "{tally:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicated_durability_loses_no_accepted_job_across_a_master_failover() {
    let tally = failover_run(Durability::Replicated).await;
    assert_eq!(tally.lost, 0, "{tally:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_queues_slot_migrates_to_another_master_mid_run() {
    let cluster = OwnCluster::start(3);
    let t = cluster_engine(&cluster, test_settings()).await;
    let queues = queues_on_distinct_masters(&cluster, &t.prefix, 2);
    let runs = Runs::default();
    let _workers: Vec<_> = queues
        .iter()
        .map(|q| t.serve(q, 8, counting_handler(runs.clone())))
        .collect();
    let producer = Producer::start(t.engine.clone(), queues.clone());
    accepted_more(&producer, 500).await;
    let key = format!("{{{}:{}}}:", t.prefix, queues[0]);
    let from = cluster.master_of(&key);
    let to = cluster.master_of(&format!("{{{}:{}}}:", t.prefix, queues[1]));
    let moved = cluster.migrate_slot(tarefa_engine::conn::slot(&key), from, to);
    assert!(moved > 0, "the busy slot had keys to move");
    assert_eq!(cluster.master_of(&key), to);
    accepted_more(&producer, 500).await;
    let (accepted, _) = producer.stop().await;
    quiet(&t.engine, &queues).await;
    let tally = tally(&t.engine, &accepted, &runs).await;
    eprintln!("reshard: {tally:?}, {moved} keys moved");
    assert_eq!(tally.lost, 0, "{tally:?}");
    assert!(tally.other.is_empty(), "{:?}", tally.other);
    assert_eq!(tally.succeeded, tally.accepted);
    assert_eq!(tally.never_ran, 0);
    let _ = Duration::ZERO;
}

/// A failover under `async` replication can lose an outcome batch the worker
/// saw acknowledged: the promoted replica still shows the job `running`. The
/// ack of its claim's last job finds it and expires the claim's lease, so the
/// rescuer runs it again instead of leaving it `running` with no lease.
#[tokio::test]
async fn an_outcome_lost_in_a_failover_is_run_again_not_stuck() {
    use std::sync::Arc;
    use tarefa_engine::keys::QueueKeys;
    use tarefa_engine::testing::FnHandler;
    use tarefa_engine::KindPolicy;

    let t = TestEngine::new().await;
    let runs = Runs::default();
    let release = Arc::new(tokio::sync::Notify::new());
    let (r1, r2, gate) = (runs.clone(), runs.clone(), release.clone());
    let handler = FnHandler::new()
        .kind("o.fast", KindPolicy::new("o"), move |d| {
            let runs = r1.clone();
            async move {
                *runs.lock().unwrap().entry(d.id.clone()).or_default() += 1;
                Ok(serde_json::Value::Null)
            }
        })
        .kind("o.slow", KindPolicy::new("o"), move |d| {
            let (runs, gate) = (r2.clone(), gate.clone());
            async move {
                *runs.lock().unwrap().entry(d.id.clone()).or_default() += 1;
                gate.notified().await;
                Ok(serde_json::Value::Null)
            }
        })
        .build();
    // Both in one claim: pushed before the worker starts.
    let pushed = t
        .engine
        .push_bulk(vec![
            NewJob::new("o", "o.slow", "tenant-a", json!({})),
            NewJob::new("o", "o.fast", "tenant-a", json!({})),
        ])
        .await
        .unwrap();
    let (slow, fast) = (pushed[0].id.clone(), pushed[1].id.clone());
    let _w = t.serve("o", 2, handler);
    assert_eq!(t.wait_final("o", &fast).await.status, JobStatus::Succeeded);
    t.wait_status("o", &slow, JobStatus::Running).await;
    // What the promoted replica would show had it missed the fast job's outcome.
    let k = QueueKeys::new(&t.prefix, "o");
    let mut conn = t.engine.redis();
    let _: () = redis::pipe()
        .hset(k.job(&fast), "s", "running")
        .hdel(k.job(&fast), "f")
        .lrem(k.succeeded(), 0, &fast)
        .hincr(k.meta(), "running", 1)
        .query_async(&mut conn)
        .await
        .unwrap();
    release.notify_one();
    assert_eq!(t.wait_final("o", &slow).await.status, JobStatus::Succeeded);
    let again = t
        .wait_for("o", &fast, |j| j.status == JobStatus::Succeeded)
        .await;
    assert_eq!(runs.lock().unwrap()[&fast], 2, "{again:?}");
    let c = t.engine.counts("o").await.unwrap();
    assert_eq!((c.running, c.claimed, c.queued), (0, 0, 0));
}

/// The cluster client sends a command again when its node fails before it
/// answers; a claim whose first run had replicated then runs twice under one
/// lease. The lease keeps both runs' jobs, so when it expires the rescuer
/// re-queues all of them (none stays `claimed` with no lease).
#[tokio::test]
async fn a_claim_sent_twice_keeps_both_runs_jobs_under_its_lease() {
    let t = TestEngine::new().await;
    let a = t.engine.push(work("o2", json!({}))).await.unwrap();
    let b = t.engine.push(work("o2", json!({}))).await.unwrap();
    let taken = t.claim_twice_and_vanish("o2", 1).await;
    assert_eq!(taken, vec![a.id.clone(), b.id.clone()]);
    let runs = Runs::default();
    let _w = t.serve("o2", 2, counting_handler(runs.clone()));
    for id in [&a.id, &b.id] {
        assert_eq!(t.wait_final("o2", id).await.status, JobStatus::Succeeded);
    }
}

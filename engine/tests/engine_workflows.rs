//! Workflows over the real Redis: batch callbacks exactly once (members
//! retried, dead, cancelled, or held by a worker that vanished), the batch's
//! counts, cancel-the-batch, open/add/seal, and chains (the child gets its
//! parent's result; a failed parent cancels its descendants).

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use serde_json::{json, Value};
use tarefa_engine::testing::{eventually, FnHandler};
use tarefa_engine::{BatchSpec, BatchState, Engine, JobError, JobStatus, KindPolicy, NewJob};

/// Payloads each callback kind ran with.
type Calls = Arc<Mutex<Vec<(String, Value)>>>;

/// `wf.work` (payload `fail`: `"once"` | `"always"` | absent; `n` echoed),
/// `wf.done` and `wf.ok` (callbacks: record their payload).
fn handler(calls: Calls) -> Arc<dyn tarefa_engine::Handler> {
    let (c1, c2) = (calls.clone(), calls);
    let policy = KindPolicy {
        backoff_base: Duration::from_millis(10),
        backoff_cap: Duration::from_millis(20),
        ..KindPolicy::new("wf")
    };
    FnHandler::new()
        .kind("wf.work", policy, |d| async move {
            match d.payload["fail"].as_str() {
                Some("once") if d.attempt == 1 => Err(JobError::retryable("first try fails")),
                Some("always") => Err(JobError::permanent("never works")),
                _ => Ok(json!({ "n": d.payload["n"], "parent": d.payload.get("parent_result") })),
            }
        })
        .kind("wf.done", KindPolicy::new("wf"), move |d| {
            let c = c1.clone();
            async move {
                c.lock().unwrap().push(("done".into(), d.payload.clone()));
                Ok(Value::Null)
            }
        })
        .kind("wf.ok", KindPolicy::new("wf"), move |d| {
            let c = c2.clone();
            async move {
                c.lock().unwrap().push(("ok".into(), d.payload.clone()));
                Ok(Value::Null)
            }
        })
        .build()
}

fn work(payload: Value) -> NewJob {
    NewJob::new("wf", "wf.work", "tenant-a", payload)
}

fn spec(jobs: Vec<NewJob>) -> BatchSpec {
    BatchSpec {
        id: None,
        queue: "wf".into(),
        tenant: "tenant-a".into(),
        jobs,
        on_complete: Some(NewJob::new(
            "wf",
            "wf.done",
            "tenant-a",
            json!({ "report": "r1" }),
        )),
        on_success: Some(NewJob::new("wf", "wf.ok", "tenant-a", json!({}))),
    }
}

/// Waits until the queue has nothing left to run.
async fn drained(t: &TestEngine) {
    eventually(|| async { t.engine.counts("wf").await.ok() })
        .until(|c| c.queued + c.claimed + c.running + c.retrying + c.scheduled == 0)
        .await;
}

async fn wait_done(t: &TestEngine, id: &str) -> tarefa_engine::BatchInfo {
    eventually(|| async { t.engine.batch("wf", id).await.ok().flatten() })
        .until(|b| b.state == BatchState::Done)
        .await
}

#[tokio::test]
async fn callbacks_run_once_with_counts_when_members_retry_and_die() {
    let t = TestEngine::new().await;
    let calls: Calls = Arc::default();
    let w = t.serve("wf", 4, handler(calls.clone()));
    let mut jobs: Vec<NewJob> = (0..3).map(|n| work(json!({ "n": n }))).collect();
    jobs.push(work(json!({ "n": 3, "fail": "once" })));
    jobs.push(work(json!({ "n": 4, "fail": "always" })));
    jobs.push(work(json!({ "n": 5, "fail": "always" })));
    let b = t.engine.batch_push(spec(jobs)).await.unwrap();
    assert_eq!(b.jobs.len(), 6);
    let info = wait_done(&t, &b.id).await;
    assert_eq!(
        (
            info.total,
            info.pending,
            info.succeeded,
            info.dead,
            info.cancelled
        ),
        (6, 0, 4, 2, 0)
    );
    let done = t.wait_final("wf", b.on_complete.as_ref().unwrap()).await;
    assert_eq!(done.status, JobStatus::Succeeded);
    drained(&t).await;
    let calls = calls.lock().unwrap().clone();
    assert_eq!(
        calls.len(),
        1,
        "on_complete once, on_success never: {calls:?}"
    );
    assert_eq!(calls[0].0, "done");
    assert_eq!(
        calls[0].1,
        json!({ "batch": { "id": b.id, "total": 6, "succeeded": 4, "dead": 2, "cancelled": 0 }, "report": "r1" })
    );
    // on_success was never created.
    let ok = t
        .engine
        .job("wf", b.on_success.as_ref().unwrap())
        .await
        .unwrap();
    assert!(ok.is_none());
    // Members know their batch.
    let member = t.engine.job("wf", &b.jobs[0].id).await.unwrap().unwrap();
    assert_eq!(member.batch.as_deref(), Some(b.id.as_str()));
    w.stop().await;
}

#[tokio::test]
async fn a_batch_that_all_succeeds_runs_both_callbacks_once() {
    let t = TestEngine::new().await;
    let calls: Calls = Arc::default();
    let w = t.serve("wf", 8, handler(calls.clone()));
    let jobs: Vec<NewJob> = (0..50).map(|n| work(json!({ "n": n }))).collect();
    let b = t.engine.batch_push(spec(jobs)).await.unwrap();
    wait_done(&t, &b.id).await;
    t.wait_final("wf", b.on_success.as_ref().unwrap()).await;
    t.wait_final("wf", b.on_complete.as_ref().unwrap()).await;
    drained(&t).await;
    let mut kinds: Vec<String> = calls.lock().unwrap().iter().map(|c| c.0.clone()).collect();
    kinds.sort();
    assert_eq!(kinds, vec!["done", "ok"]);
    for (_, p) in calls.lock().unwrap().iter() {
        assert_eq!(p["batch"]["succeeded"], 50);
        assert_eq!(p["batch"]["total"], 50);
    }
    w.stop().await;
}

#[tokio::test]
async fn members_of_a_vanished_worker_are_counted_once_after_its_lease() {
    // One lost delivery is one too many: the rescuer dead-letters them.
    let t = TestEngine::with(|s| s.max_deliveries = 1).await;
    let calls: Calls = Arc::default();
    let jobs: Vec<NewJob> = (0..6).map(|n| work(json!({ "n": n }))).collect();
    let b = t.engine.batch_push(spec(jobs)).await.unwrap();
    // A worker takes two members and dies mid-run.
    let lost = t.claim_and_vanish("wf", 2).await;
    assert_eq!(lost.len(), 2);
    let w = t.serve("wf", 4, handler(calls.clone()));
    let info = wait_done(&t, &b.id).await;
    assert_eq!((info.succeeded, info.dead, info.pending), (4, 2, 0));
    for id in &lost {
        let j = t.engine.job("wf", id).await.unwrap().unwrap();
        assert_eq!(
            (j.status, j.reason.as_deref()),
            (JobStatus::Dead, Some("crashed"))
        );
    }
    t.wait_final("wf", b.on_complete.as_ref().unwrap()).await;
    drained(&t).await;
    assert_eq!(
        calls.lock().unwrap().len(),
        1,
        "{:?}",
        calls.lock().unwrap()
    );
    w.stop().await;

    // With re-delivery allowed, the lost members run again and count once.
    let t = TestEngine::new().await;
    let calls: Calls = Arc::default();
    let jobs: Vec<NewJob> = (0..6).map(|n| work(json!({ "n": n }))).collect();
    let b = t.engine.batch_push(spec(jobs)).await.unwrap();
    let lost = t.claim_and_vanish("wf", 3).await;
    let w = t.serve("wf", 4, handler(calls.clone()));
    let info = wait_done(&t, &b.id).await;
    assert_eq!((info.total, info.succeeded, info.dead), (6, 6, 0));
    for id in &lost {
        let j = t.wait_final("wf", id).await;
        assert_eq!((j.status, j.attempts), (JobStatus::Succeeded, 2));
    }
    t.wait_final("wf", b.on_success.as_ref().unwrap()).await;
    t.wait_final("wf", b.on_complete.as_ref().unwrap()).await;
    drained(&t).await;
    assert_eq!(
        calls.lock().unwrap().len(),
        2,
        "{:?}",
        calls.lock().unwrap()
    );
    w.stop().await;
}

#[tokio::test]
async fn cancelling_a_batch_cancels_waiting_members_and_completes_it() {
    let t = TestEngine::new().await;
    let calls: Calls = Arc::default();
    let jobs: Vec<NewJob> = (0..4).map(|n| work(json!({ "n": n }))).collect();
    let b = t.engine.batch_push(spec(jobs)).await.unwrap();
    assert_eq!(t.engine.cancel_batch("wf", &b.id).await.unwrap(), Some(4));
    let info = t.engine.batch("wf", &b.id).await.unwrap().unwrap();
    assert_eq!(
        (info.state, info.cancelled, info.pending),
        (BatchState::Done, 4, 0)
    );
    assert!(info.cancel_requested);
    // Cancelling again changes nothing; an unknown batch is None.
    assert_eq!(t.engine.cancel_batch("wf", &b.id).await.unwrap(), Some(0));
    assert_eq!(t.engine.cancel_batch("wf", "nope").await.unwrap(), None);
    let w = t.serve("wf", 4, handler(calls.clone()));
    t.wait_final("wf", b.on_complete.as_ref().unwrap()).await;
    drained(&t).await;
    let calls = calls.lock().unwrap().clone();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].1["batch"]["cancelled"], 4);
    for p in &b.jobs {
        let j = t.engine.job("wf", &p.id).await.unwrap().unwrap();
        assert_eq!(j.status, JobStatus::Cancelled);
    }
    w.stop().await;
}

#[tokio::test]
async fn an_open_batch_waits_for_its_seal_and_a_sealed_one_takes_no_member() {
    let t = TestEngine::new().await;
    let calls: Calls = Arc::default();
    let w = t.serve("wf", 4, handler(calls.clone()));
    let done = NewJob::new("wf", "wf.done", "tenant-a", json!({}));
    let (id, oc, _) = t
        .engine
        .open_batch("wf", "tenant-a", None, Some(&done), None)
        .await
        .unwrap();
    let first = t
        .engine
        .add_to_batch("wf", &id, vec![work(json!({ "n": 1 }))])
        .await
        .unwrap();
    t.wait_final("wf", &first[0].id).await;
    // Its only member finished, but the batch is open: no callback yet.
    let info = t.engine.batch("wf", &id).await.unwrap().unwrap();
    assert_eq!(
        (info.state, info.succeeded, info.pending),
        (BatchState::Open, 1, 0)
    );
    assert!(t
        .engine
        .job("wf", oc.as_ref().unwrap())
        .await
        .unwrap()
        .is_none());
    t.engine
        .add_to_batch("wf", &id, vec![work(json!({ "n": 2 }))])
        .await
        .unwrap();
    t.engine.seal_batch("wf", &id).await.unwrap();
    let info = wait_done(&t, &id).await;
    assert_eq!((info.total, info.succeeded), (2, 2));
    // Sealed: adding fails and writes nothing; so does another queue.
    let err = t
        .engine
        .add_to_batch("wf", &id, vec![work(json!({}))])
        .await;
    assert!(err.is_err());
    let other = NewJob::new("other", "wf.work", "tenant-a", json!({}));
    assert!(t.engine.add_to_batch("wf", &id, vec![other]).await.is_err());
    assert_eq!(t.engine.batch_members("wf", &id).await.unwrap().len(), 2);
    t.wait_final("wf", oc.as_ref().unwrap()).await;
    drained(&t).await;
    assert_eq!(calls.lock().unwrap().len(), 1);
    // An empty batch completes at its seal.
    let b = t.engine.batch_push(spec(Vec::new())).await.unwrap();
    let info = t.engine.batch("wf", &b.id).await.unwrap().unwrap();
    assert_eq!((info.state, info.total), (BatchState::Done, 0));
    w.stop().await;
}

#[tokio::test]
async fn a_chain_passes_the_result_and_a_dead_parent_cancels_its_descendants() {
    let t = TestEngine::new().await;
    let calls: Calls = Arc::default();
    let parent = t.engine.push(work(json!({ "n": 42 }))).await.unwrap();
    let mut child = work(json!({ "n": 43 }));
    child.after = Some(parent.id.clone());
    let child = t.engine.push(child).await.unwrap();
    assert_eq!(child.status, JobStatus::Scheduled);
    let waiting = t.engine.job("wf", &child.id).await.unwrap().unwrap();
    assert_eq!(waiting.status, JobStatus::Scheduled);
    assert!(waiting.awaiting_parent);
    assert_eq!(waiting.after.as_deref(), Some(parent.id.as_str()));
    let w = t.serve("wf", 4, handler(calls.clone()));
    let c = t.wait_final("wf", &child.id).await;
    assert_eq!(c.status, JobStatus::Succeeded);
    assert_eq!(
        c.result,
        Some(json!({ "n": 43, "parent": { "n": 42, "parent": null } }))
    );
    assert_eq!(
        c.payload["parent_result"],
        json!({ "n": 42, "parent": null })
    );
    // A child pushed after its parent succeeded runs at once with the result.
    let mut late = work(json!({ "n": 44 }));
    late.after = Some(parent.id.clone());
    let late = t.engine.push(late).await.unwrap();
    let l = t.wait_final("wf", &late.id).await;
    assert_eq!(l.result.unwrap()["parent"]["n"], 42);

    // A parent that dies: its child and grandchild are cancelled with a reason.
    let bad = t
        .engine
        .push(work(json!({ "fail": "always" })))
        .await
        .unwrap();
    let mut kid = work(json!({}));
    kid.after = Some(bad.id.clone());
    let kid = t.engine.push(kid).await.unwrap();
    let mut grandkid = work(json!({}));
    grandkid.after = Some(kid.id.clone());
    let grandkid = t.engine.push(grandkid).await.unwrap();
    assert_eq!(t.wait_final("wf", &bad.id).await.status, JobStatus::Dead);
    let k = t.wait_final("wf", &kid.id).await;
    assert_eq!(
        (k.status, k.reason.as_deref()),
        (JobStatus::Cancelled, Some("parent_dead"))
    );
    assert!(k.last_error.unwrap().contains(&bad.id));
    let g = t.wait_final("wf", &grandkid.id).await;
    assert_eq!(
        (g.status, g.reason.as_deref()),
        (JobStatus::Cancelled, Some("parent_cancelled"))
    );
    // After a dead parent, a new child is cancelled at once; no parent, an error.
    let mut orphan = work(json!({}));
    orphan.after = Some(bad.id.clone());
    let o = t.engine.push(orphan).await.unwrap();
    assert_eq!(o.status, JobStatus::Cancelled);
    let o = t.engine.job("wf", &o.id).await.unwrap().unwrap();
    assert_eq!(
        (o.status, o.reason.as_deref()),
        (JobStatus::Cancelled, Some("parent_dead"))
    );
    let mut lost = work(json!({}));
    lost.after = Some("no-such-job".into());
    assert!(t.engine.push(lost).await.is_err());
    drained(&t).await;
    w.stop().await;
}

#[tokio::test]
async fn a_chain_inside_a_batch_counts_the_cancelled_child() {
    let t = TestEngine::new().await;
    let calls: Calls = Arc::default();
    let engine: &Engine = &t.engine;
    let (id, oc, _) = engine
        .open_batch(
            "wf",
            "tenant-a",
            Some("report-cards-1".into()),
            Some(&NewJob::new("wf", "wf.done", "tenant-a", json!({}))),
            None,
        )
        .await
        .unwrap();
    assert_eq!(id, "report-cards-1");
    let first = engine
        .add_to_batch("wf", &id, vec![work(json!({ "fail": "always" }))])
        .await
        .unwrap();
    let mut then = work(json!({}));
    then.after = Some(first[0].id.clone());
    engine.add_to_batch("wf", &id, vec![then]).await.unwrap();
    engine.seal_batch("wf", &id).await.unwrap();
    let w = t.serve("wf", 2, handler(calls.clone()));
    let info = wait_done(&t, &id).await;
    assert_eq!(
        (info.total, info.dead, info.cancelled, info.succeeded),
        (2, 1, 1, 0)
    );
    t.wait_final("wf", oc.as_ref().unwrap()).await;
    drained(&t).await;
    assert_eq!(calls.lock().unwrap().len(), 1);
    w.stop().await;
}

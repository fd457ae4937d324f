//! Shared by the cluster and Sentinel tests: a counting handler, a producer
//! that pushes until told to stop (retrying what Redis refuses), and the
//! final accounting of every accepted job.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use tarefa_engine::testing::{eventually, FnHandler};
use tarefa_engine::{Engine, JobError, JobStatus, KindPolicy, NewJob};

/// Job id → how many times its handler ran.
pub type Runs = Arc<Mutex<HashMap<String, u32>>>;

/// `c.work`: counts its run, sleeps `ms` (payload), fails once when `fail` is
/// set, returns `{n, parent}`; `c.done`: a callback, counted like any job.
pub fn counting_handler(runs: Runs) -> Arc<dyn tarefa_engine::Handler> {
    let r2 = runs.clone();
    let policy = KindPolicy {
        backoff_base: Duration::from_millis(10),
        backoff_cap: Duration::from_millis(50),
        ..KindPolicy::new("c")
    };
    FnHandler::new()
        .kind("c.work", policy.clone(), move |d| {
            let runs = runs.clone();
            async move {
                *runs.lock().unwrap().entry(d.id.clone()).or_default() += 1;
                if let Some(ms) = d.payload["ms"].as_u64() {
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_millis(ms)) => {}
                        _ = d.cancel.cancelled() => return Err(JobError::Cancelled),
                    }
                }
                if d.payload["fail"] == json!(true) && d.attempt == 1 {
                    return Err(JobError::retryable("first attempt fails"));
                }
                if d.payload["dead"] == json!(true) {
                    return Err(JobError::permanent("never works"));
                }
                Ok(json!({ "n": d.payload["n"], "parent": d.payload.get("parent_result") }))
            }
        })
        .kind("c.done", policy, move |d| {
            let runs = r2.clone();
            async move {
                *runs.lock().unwrap().entry(d.id.clone()).or_default() += 1;
                Ok(Value::Null)
            }
        })
        .build()
}

/// Pushes one `c.work` job per queue in turn until `stop`; an error is
/// counted and the push tried again later (the caller saw it: not accepted).
pub struct Producer {
    pub accepted: Arc<Mutex<Vec<(String, String)>>>,
    pub refused: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Producer {
    /// One pushing task per queue, so a queue whose shard refuses writes
    /// does not slow the others.
    pub fn start(engine: Engine, queues: Vec<String>) -> Producer {
        let accepted: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
        let refused = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let tasks = queues
            .into_iter()
            .map(|q| {
                let (a, r, s, engine) = (
                    accepted.clone(),
                    refused.clone(),
                    stop.clone(),
                    engine.clone(),
                );
                tokio::spawn(async move {
                    let mut n = 0u64;
                    while !s.load(Ordering::Relaxed) {
                        n += 1;
                        let job = NewJob::new(&q, "c.work", "tenant-a", json!({ "n": n }));
                        match engine.push(job).await {
                            Ok(p) => a.lock().unwrap().push((q.clone(), p.id)),
                            Err(_) => {
                                r.fetch_add(1, Ordering::Relaxed);
                                tokio::time::sleep(Duration::from_millis(20)).await;
                            }
                        }
                        tokio::time::sleep(Duration::from_millis(3)).await;
                    }
                })
            })
            .collect();
        Producer {
            accepted,
            refused,
            stop,
            tasks,
        }
    }

    pub fn accepted_len(&self) -> usize {
        self.accepted.lock().unwrap().len()
    }

    /// Stops and returns every accepted (queue, id).
    pub async fn stop(self) -> (Vec<(String, String)>, u64) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.tasks {
            t.await.expect("producer");
        }
        let a = self.accepted.lock().unwrap().clone();
        (a, self.refused.load(Ordering::Relaxed))
    }
}

/// Waits until `n` more jobs were accepted.
pub async fn accepted_more(p: &Producer, n: usize) {
    let base = p.accepted_len();
    eventually(|| async { Some(p.accepted_len()) })
        .until(|len| *len >= base + n)
        .await;
}

/// Waits until none of `queues` has anything left to run.
pub async fn quiet(engine: &Engine, queues: &[String]) {
    for q in queues {
        eventually(|| async { engine.counts(q).await.ok() })
            .every(Duration::from_millis(100))
            .until(|c| c.queued + c.claimed + c.running + c.retrying + c.scheduled == 0)
            .await;
    }
}

/// Where every accepted job ended.
#[derive(Debug, Default)]
pub struct Tally {
    pub accepted: usize,
    pub succeeded: usize,
    /// Accepted, and gone from Redis (the failover lost its push).
    pub lost: usize,
    /// Accepted, present, not succeeded (must stay 0).
    pub other: Vec<(String, JobStatus)>,
    /// Succeeded jobs whose handler ran more than once (at-least-once).
    pub ran_twice: usize,
    /// Succeeded jobs whose handler never ran here (must stay 0).
    pub never_ran: usize,
}

pub async fn tally(engine: &Engine, accepted: &[(String, String)], runs: &Runs) -> Tally {
    let runs = runs.lock().unwrap().clone();
    let mut t = Tally {
        accepted: accepted.len(),
        ..Tally::default()
    };
    for (q, id) in accepted {
        match engine.job(q, id).await.expect("redis") {
            None => t.lost += 1,
            Some(j) if j.status == JobStatus::Succeeded => {
                t.succeeded += 1;
                match runs.get(id).copied().unwrap_or(0) {
                    0 => t.never_ran += 1,
                    1 => {}
                    _ => t.ran_twice += 1,
                }
            }
            Some(j) => t.other.push((id.clone(), j.status)),
        }
    }
    t
}

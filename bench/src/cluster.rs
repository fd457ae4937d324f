//! `bench cluster`: the engine on a 3-master Redis Cluster against one Redis
//! (with a replica, like each cluster master), in the same run, and the
//! `replicated` durability against `async` on both. The bench starts every
//! server itself on loopback ports (the engine's test-support topologies) and
//! removes them at the end.
//!
//! Per topology × durability: (1) enqueue: `producers` tasks push single jobs
//! round-robin over `queues` queues (each push one script call, plus a WAIT
//! with `replicated`); (2) bulk enqueue: one `push_bulk` of 500 jobs at a
//! time per queue, concurrently; (3) drain: one in-process worker per queue
//! (concurrency `concurrency`) runs every job (no-op). Besides jobs/s, the CPU
//! the Redis servers and this process used per job (from /proc), which says
//! what one core buys when the box is the bottleneck.
//!
//! Then (4) failover loss: on a fresh cluster, one `push_bulk` of 100 jobs at
//! a time per queue as fast as it goes; after 2 s the master of the first
//! queue's slot is SIGKILLed, its replica takes over, pushes go on for 2 s;
//! then every accepted job id is looked up: the ones missing were accepted
//! and lost. Once with `async`, once with `replicated`.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use clap::Args;
use tarefa_engine::keys::QueueKeys;
use tarefa_engine::servers::{Node, OwnCluster, OwnSentinels};
use tarefa_engine::{
    Delivery, Durability, Engine, EngineConfig, EngineSettings, Handler, JobError, KindPolicy,
    NewJob,
};

#[derive(Args)]
pub struct ClusterArgs {
    /// Jobs of each phase.
    #[arg(long, default_value_t = 20_000)]
    jobs: usize,
    /// Queues the jobs spread over (their hash tags spread them over the shards).
    #[arg(long, default_value_t = 6)]
    queues: usize,
    /// Concurrent single-job pushers of the enqueue phase.
    #[arg(long, default_value_t = 16)]
    producers: usize,
    /// Worker concurrency per queue in the drain.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
}

struct Noop;

impl Handler for Noop {
    fn policy(&self, _kind: &str) -> Option<KindPolicy> {
        Some(KindPolicy::new("bench"))
    }
    fn run(
        &self,
        _job: Delivery,
    ) -> Pin<Box<dyn Future<Output = Result<serde_json::Value, JobError>> + Send + 'static>> {
        Box::pin(async { Ok(serde_json::Value::Null) })
    }
}

/// user+system CPU seconds of a process so far (/proc/<pid>/stat).
fn cpu_secs(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // Fields 14 and 15 of the line; `after` starts at field 3.
    (ticks(11) + ticks(12)) / 100.0
}

struct Cpu {
    redis: Vec<u32>,
}

impl Cpu {
    fn take(&self) -> (f64, f64) {
        (
            self.redis.iter().map(|p| cpu_secs(*p)).sum(),
            cpu_secs(std::process::id()),
        )
    }
}

#[derive(Default)]
struct Row {
    name: String,
    enqueue: f64,
    bulk: f64,
    drain: f64,
    /// Redis and bench CPU µs per job (each job pushed once and run once).
    redis_us: f64,
    bench_us: f64,
}

async fn run_one(
    name: &str,
    url: &str,
    durability: Durability,
    cpu: &Cpu,
    a: &ClusterArgs,
) -> Result<Row> {
    // Every run on fresh keys (the servers go away at the end).
    let engine = Engine::connect(EngineConfig {
        redis_url: url.into(),
        prefix: format!("tbc{}", ulid_like()),
        settings: EngineSettings {
            durability,
            replica_wait_ms: 2_000,
            ..EngineSettings::default()
        },
    })
    .await?;
    let queues: Vec<String> = (0..a.queues).map(|i| format!("q{i}")).collect();
    let n = a.jobs;
    let (r0, b0) = cpu.take();
    // (1) single pushes.
    let next = Arc::new(AtomicUsize::new(0));
    let t = Instant::now();
    let tasks: Vec<_> = (0..a.producers)
        .map(|_| {
            let (engine, next, queues) = (engine.clone(), next.clone(), queues.clone());
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n {
                        return Ok::<(), anyhow::Error>(());
                    }
                    let q = &queues[i % queues.len()];
                    engine
                        .push(NewJob::new(q, q, "t1", serde_json::json!({ "i": i })))
                        .await?;
                }
            })
        })
        .collect();
    for t in tasks {
        t.await??;
    }
    let enqueue = n as f64 / t.elapsed().as_secs_f64();
    // (2) bulk pushes, one task per queue.
    let t = Instant::now();
    let per = n / queues.len();
    let tasks: Vec<_> = queues
        .iter()
        .map(|q| {
            let (engine, q) = (engine.clone(), q.clone());
            tokio::spawn(async move {
                let mut left = per;
                while left > 0 {
                    let k = left.min(500);
                    let jobs = (0..k)
                        .map(|i| NewJob::new(&q, &q, "t1", serde_json::json!({ "i": i })))
                        .collect();
                    engine.push_bulk(jobs).await?;
                    left -= k;
                }
                Ok::<(), anyhow::Error>(())
            })
        })
        .collect();
    for t in tasks {
        t.await??;
    }
    let bulk = (per * queues.len()) as f64 / t.elapsed().as_secs_f64();
    // (3) drain everything pushed.
    let total = (n + per * queues.len()) as u64;
    let t = Instant::now();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let workers: Vec<_> = queues
        .iter()
        .map(|q| {
            let (engine, q, mut stop) = (engine.clone(), q.clone(), stop_rx.clone());
            let conc = a.concurrency;
            tokio::spawn(async move {
                tarefa_engine::run_queue(engine, &q, conc, Arc::new(Noop), async move {
                    let _ = stop.wait_for(|v| *v).await;
                })
                .await
            })
        })
        .collect();
    loop {
        let mut done = 0;
        for q in &queues {
            done += engine.counts(q).await?.succeeded;
        }
        if done >= total {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let drain = total as f64 / t.elapsed().as_secs_f64();
    let _ = stop_tx.send(true);
    for w in workers {
        let _ = w.await;
    }
    let (r1, b1) = cpu.take();
    // Each job was pushed once and run once.
    let jobs3 = 2.0 * total as f64;
    Ok(Row {
        name: format!("{name}, {durability:?}").to_lowercase(),
        enqueue,
        bulk,
        drain,
        redis_us: (r1 - r0) / jobs3 * 1e6,
        bench_us: (b1 - b0) / jobs3 * 1e6,
    })
}

/// (accepted on the failed-over queue, lost of those, accepted in all, refused calls).
async fn failover_loss(durability: Durability) -> Result<(usize, usize, usize, usize)> {
    let mut cluster = tokio::task::spawn_blocking(|| OwnCluster::start(3)).await?;
    let prefix = format!("tbf{}", ulid_like());
    let engine = Engine::connect(EngineConfig {
        redis_url: cluster.url(),
        prefix: prefix.clone(),
        settings: EngineSettings {
            durability,
            replica_wait_ms: 2_000,
            ..EngineSettings::default()
        },
    })
    .await?;
    let queues: Vec<String> = (0..3).map(|i| format!("f{i}")).collect();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let refused = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = queues
        .iter()
        .map(|q| {
            let (engine, q, stop, refused) =
                (engine.clone(), q.clone(), stop.clone(), refused.clone());
            tokio::spawn(async move {
                let mut ids: Vec<String> = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let jobs = (0..100)
                        .map(|i| NewJob::new(&q, &q, "t1", serde_json::json!({ "i": i })))
                        .collect();
                    match engine.push_bulk(jobs).await {
                        Ok(p) => ids.extend(p.into_iter().map(|p| p.id)),
                        Err(_) => {
                            refused.fetch_add(1, Ordering::Relaxed);
                            tokio::time::sleep(Duration::from_millis(20)).await;
                        }
                    }
                }
                ids
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let victim = format!("{{{prefix}:{}}}:", queues[0]);
    let cluster = tokio::task::spawn_blocking(move || {
        let old = cluster.kill_master_of(&victim);
        cluster.wait_promoted(&victim, old);
        cluster
    })
    .await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop.store(true, Ordering::Relaxed);
    let mut all = Vec::new();
    for t in tasks {
        all.push(t.await?);
    }
    let keys = QueueKeys::new(&prefix, &queues[0]);
    let mut conn = engine.redis();
    let mut lost = 0;
    for chunk in all[0].chunks(1_000) {
        let mut pipe = redis::pipe();
        for id in chunk {
            pipe.exists(keys.job(id));
        }
        let found: Vec<bool> = pipe.query_async(&mut conn).await?;
        lost += found.iter().filter(|f| !**f).count();
    }
    drop(cluster);
    Ok((
        all[0].len(),
        lost,
        all.iter().map(Vec::len).sum(),
        refused.load(Ordering::Relaxed),
    ))
}

fn ulid_like() -> String {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    format!("{:x}", t.as_nanos())
}

fn pids<'a>(nodes: impl Iterator<Item = &'a Node>) -> Vec<u32> {
    nodes.filter_map(Node::pid).collect()
}

pub async fn run(a: ClusterArgs) -> Result<()> {
    eprintln!("starting one Redis with a replica and a 3-master/3-replica cluster…");
    let pair = tokio::task::spawn_blocking(OwnSentinels::start).await?;
    let cluster = tokio::task::spawn_blocking(|| OwnCluster::start(3)).await?;
    let single_cpu = Cpu {
        redis: pids([&pair.master, &pair.replica].into_iter()),
    };
    let cluster_cpu = Cpu {
        redis: pids(cluster.nodes.iter()),
    };
    let mut rows = Vec::new();
    // Alternate the topologies so both see the same machine load.
    for d in [Durability::Async, Durability::Replicated] {
        let r = run_one(
            "one redis + replica",
            &pair.master.url(),
            d,
            &single_cpu,
            &a,
        )
        .await?;
        eprintln!(
            "{}: {:.0} / {:.0} / {:.0}",
            r.name, r.enqueue, r.bulk, r.drain
        );
        rows.push(r);
        let r = run_one("3-master cluster", &cluster.url(), d, &cluster_cpu, &a).await?;
        eprintln!(
            "{}: {:.0} / {:.0} / {:.0}",
            r.name, r.enqueue, r.bulk, r.drain
        );
        rows.push(r);
    }
    println!("| topology, durability | enqueue jobs/s ({} single pushers) | bulk enqueue jobs/s (500/call) | drain jobs/s | Redis CPU µs/job | bench CPU µs/job |", a.producers);
    println!("|---|---:|---:|---:|---:|---:|");
    for r in &rows {
        println!(
            "| {} | {:.0} | {:.0} | {:.0} | {:.1} | {:.1} |",
            r.name, r.enqueue, r.bulk, r.drain, r.redis_us, r.bench_us
        );
    }
    println!(
        "\n{} jobs per phase over {} queues, drain with one in-process worker per queue at concurrency {}; Redis CPU = user+system of every redis-server of the topology (replicas included) over the three phases, per job handled",
        a.jobs, a.queues, a.concurrency
    );
    drop(pair);
    drop(cluster);
    println!("\n| failover (master of the first queue SIGKILLed mid-push) | accepted on that queue | accepted there and lost | accepted on all 3 queues | refused push calls |");
    println!("|---|---:|---:|---:|---:|");
    for d in [Durability::Async, Durability::Replicated] {
        let (on_victim, lost, all, refused) = failover_loss(d).await?;
        eprintln!("failover {d:?}: {lost} of {on_victim} lost");
        println!(
            "| {} | {on_victim} | {lost} | {all} | {refused} |",
            format!("{d:?}").to_lowercase()
        );
    }
    Ok(())
}

//! `bench workflows`: what batches and global concurrency keys cost per job.
//! In one process on the real Redis, rounds alternate three variants of the
//! same N no-op jobs: plain (`push_bulk`, the baseline), as one batch
//! (`batch_push` with an `on_complete` callback), and with a concurrency key
//! under a limit high enough never to park (the claim and ack bookkeeping
//! alone). Each round pushes, then drains with an in-process worker; the
//! report gives push and drain jobs/s and the overhead against the baseline.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Args;
use std::future::Future;
use std::pin::Pin;

use jobs::config::EngineSettings;
use jobs::engine::{
    BatchSpec, Delivery, Engine, EngineConfig, Handler, JobError, KindPolicy, NewJob,
};

#[derive(Args)]
pub struct WorkflowsArgs {
    #[arg(
        long,
        env = "TAREFA__REDIS__URL",
        default_value = "redis://127.0.0.1:6379"
    )]
    redis_url: String,
    /// Jobs per round.
    #[arg(long, default_value_t = 20_000)]
    jobs: usize,
    /// Rounds of each variant (alternated).
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Worker concurrency of the drains.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
}

const QUEUE: &str = "wfbench";

struct Noop;

impl Handler for Noop {
    fn policy(&self, _kind: &str) -> Option<KindPolicy> {
        Some(KindPolicy::new(QUEUE))
    }
    fn run(
        &self,
        _job: Delivery,
    ) -> Pin<Box<dyn Future<Output = Result<serde_json::Value, JobError>> + Send + 'static>> {
        Box::pin(async { Ok(serde_json::Value::Null) })
    }
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Variant {
    Plain,
    Batch,
    Keyed,
}

fn job(i: usize, v: Variant) -> NewJob {
    let mut j = NewJob::new(QUEUE, "bench.noop", "t1", serde_json::json!({ "i": i }));
    if v == Variant::Keyed {
        j.concurrency_key = Some(format!("provider:p{}", i % 4));
    }
    j
}

/// Every key of this run goes, then the limit comes back: each round starts empty.
async fn reset(url: &str, prefix: &str, engine: &Engine) -> Result<()> {
    let mut conn = crate::rx::connect(url).await?;
    crate::rx::delete_matching(&mut conn, &crate::rx::run_pattern(prefix)).await?;
    engine
        .set_concurrency_limit(QUEUE, "provider", 1_000_000)
        .await?;
    Ok(())
}

/// One round: (push seconds, drain seconds).
async fn round(engine: &Engine, n: usize, v: Variant, concurrency: usize) -> Result<(f64, f64)> {
    let jobs: Vec<NewJob> = (0..n).map(|i| job(i, v)).collect();
    let t = Instant::now();
    let callback = match v {
        Variant::Batch => {
            let b = engine
                .batch_push(BatchSpec {
                    id: None,
                    queue: QUEUE.into(),
                    tenant: "t1".into(),
                    jobs,
                    on_complete: Some(NewJob::new(
                        QUEUE,
                        "bench.noop",
                        "t1",
                        serde_json::json!({}),
                    )),
                    on_success: None,
                })
                .await?;
            b.on_complete
        }
        _ => {
            engine.push_bulk(jobs).await?;
            None
        }
    };
    let push = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let e = engine.clone();
    let worker = tokio::spawn(async move {
        jobs::engine::run_queue(e, QUEUE, concurrency, Arc::new(Noop), async move {
            let _ = rx.await;
        })
        .await
    });
    let expect = n as u64 + u64::from(callback.is_some());
    loop {
        let c = engine.counts(QUEUE).await?;
        if c.succeeded >= expect {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let drain = t.elapsed().as_secs_f64();
    let _ = tx.send(());
    worker.await.context("worker task")??;
    Ok((push, drain))
}

pub async fn run(args: WorkflowsArgs) -> Result<()> {
    let prefix = format!("tbwf{}", std::process::id());
    let engine = Engine::connect(EngineConfig {
        redis_url: args.redis_url.clone(),
        prefix: prefix.clone(),
        settings: EngineSettings::default(),
    })
    .await?;
    let variants = [Variant::Plain, Variant::Batch, Variant::Keyed];
    let mut times: Vec<(Variant, f64, f64)> = Vec::new();
    let result = async {
        for r in 0..args.rounds {
            for v in variants {
                reset(&args.redis_url, &prefix, &engine).await?;
                let (p, d) = round(&engine, args.jobs, v, args.concurrency).await?;
                eprintln!("round {r} {v:?}: push {p:.3} s, drain {d:.3} s");
                times.push((v, p, d));
            }
        }
        Ok::<_, anyhow::Error>(())
    }
    .await;
    let mut conn = crate::rx::connect(&args.redis_url).await?;
    crate::rx::delete_matching(&mut conn, &crate::rx::run_pattern(&prefix)).await?;
    result?;
    let median = |v: Variant, f: fn(&(Variant, f64, f64)) -> f64| {
        let mut xs: Vec<f64> = times.iter().filter(|t| t.0 == v).map(f).collect();
        xs.sort_by(|a, b| a.total_cmp(b));
        xs[xs.len() / 2]
    };
    let n = args.jobs as f64;
    let (bp, bd) = (
        median(Variant::Plain, |t| t.1),
        median(Variant::Plain, |t| t.2),
    );
    println!("| variant | push jobs/s | drain jobs/s | push µs/job over plain | drain µs/job over plain |");
    println!("|---|---:|---:|---:|---:|");
    for v in variants {
        let (p, d) = (median(v, |t| t.1), median(v, |t| t.2));
        println!(
            "| {} | {:.0} | {:.0} | {:+.1} | {:+.1} |",
            match v {
                Variant::Plain => "plain `push_bulk` (baseline)",
                Variant::Batch => "one batch (`batch_push` + on_complete)",
                Variant::Keyed => "concurrency key, limit never reached",
            },
            n / p,
            n / d,
            (p - bp) / n * 1e6,
            (d - bd) / n * 1e6
        );
    }
    println!(
        "\n{} jobs per round, {} rounds per variant (alternated, medians), worker concurrency {}, one in-process worker",
        args.jobs, args.rounds, args.concurrency
    );
    Ok(())
}

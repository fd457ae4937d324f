//! `bench crypt`: what encryption at rest costs per job (issue 21 item 2).
//! In one process on the real Redis and a throw-away PostgreSQL database,
//! rounds alternate two variants of the same N jobs carrying a
//! notification-sized payload with personal data (name, phone, message):
//! plain (the baseline) and sealed (the engine with Tarefa's keyring:
//! AES-256-GCM under the tenant's data key, payload sealed at push, opened
//! before the run, the result sealed at ack). Each round pushes, then drains
//! with an in-process worker whose handler echoes a small result; the report
//! gives push and drain jobs/s and the cost per job against the baseline.
//! The tenant's data key is created and unwrapped once before the rounds (a
//! process does that once per tenant), so the rounds measure the steady state.

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Args;
use jobs::config::EngineSettings;
use jobs::crypt::{Keyring, MasterKeys};
use jobs::engine::{Delivery, Engine, EngineConfig, Handler, JobError, KindPolicy, NewJob};
use jobs::store::tenants;

#[derive(Args)]
pub struct CryptArgs {
    #[arg(
        long,
        env = "TAREFA__REDIS__URL",
        default_value = "redis://127.0.0.1:6379"
    )]
    redis_url: String,
    /// A database the run may connect to, to create (and drop) `tarefa_bench_crypt`.
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    admin_url: String,
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

const QUEUE: &str = "crbench";
const KIND: &str = "bench.pii";
const DB: &str = "tarefa_bench_crypt";

/// Echoes a small result naming the recipient (so the sealed variant seals it).
struct Echo;

impl Handler for Echo {
    fn policy(&self, _kind: &str) -> Option<KindPolicy> {
        Some(KindPolicy {
            encrypt: true,
            ..KindPolicy::new(QUEUE)
        })
    }
    fn run(
        &self,
        job: Delivery,
    ) -> Pin<Box<dyn Future<Output = Result<serde_json::Value, JobError>> + Send + 'static>> {
        let to = job.payload["to"].clone();
        Box::pin(async move {
            Ok(serde_json::json!({ "delivered_to": to, "provider_id": "wamid.HBgN" }))
        })
    }
}

fn job(tenant: &str, i: usize) -> NewJob {
    NewJob::new(
        QUEUE,
        KIND,
        tenant,
        serde_json::json!({
            "channel": "whatsapp",
            "to": format!("+55119{:08}", i),
            "name": format!("Responsável {i}"),
            "student": "Ana Beatriz Souza",
            "message": "Olá! A nota de Matemática do 2º bimestre foi lançada: 8,5. Acesse o portal para ver o boletim completo.",
        }),
    )
}

/// One round: (push seconds, drain seconds).
async fn round(engine: &Engine, tenant: &str, n: usize, concurrency: usize) -> Result<(f64, f64)> {
    let jobs: Vec<NewJob> = (0..n).map(|i| job(tenant, i)).collect();
    let t = Instant::now();
    engine.push_bulk(jobs).await?;
    let push = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let e = engine.clone();
    let worker = tokio::spawn(async move {
        jobs::engine::run_queue(e, QUEUE, concurrency, Arc::new(Echo), async move {
            let _ = rx.await;
        })
        .await
    });
    loop {
        let c = engine.counts(QUEUE).await?;
        if c.succeeded >= n as u64 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let drain = t.elapsed().as_secs_f64();
    let _ = tx.send(());
    worker.await.context("worker task")??;
    Ok((push, drain))
}

pub async fn run(args: CryptArgs) -> Result<()> {
    let db = crate::db::BenchDb::create(&args.admin_url, DB, 4).await?;
    let prefix = format!("tbcr{}", std::process::id());
    let result = measure(&args, &db.pool, &prefix).await;
    let mut conn = crate::rx::connect(&args.redis_url).await?;
    crate::rx::delete_matching(&mut conn, &crate::rx::run_pattern(&prefix)).await?;
    db.drop().await?;
    result
}

async fn measure(args: &CryptArgs, pool: &sqlx::PgPool, prefix: &str) -> Result<()> {
    let tenant = tenants::create(
        pool,
        &tenants::NewTenant {
            name: "Escola Bench".into(),
            slug: "escola-bench".into(),
            timezone: "America/Sao_Paulo".into(),
            plan: "standard".into(),
        },
    )
    .await?
    .id
    .to_string();
    let plain = Engine::connect(EngineConfig {
        redis_url: args.redis_url.clone(),
        prefix: prefix.to_string(),
        settings: EngineSettings::default(),
    })
    .await?;
    // A fixed bench-only master key: nothing it wraps outlives the run.
    let master = MasterKeys::parse("bench:QmVuY2hPbmx5QmVuY2hPbmx5QmVuY2hPbmx5ISEhISE=")
        .map_err(anyhow::Error::msg)?;
    let ring = Arc::new(Keyring::new(
        pool.clone(),
        master,
        HashSet::from([KIND.to_string()]),
    ));
    let t = Instant::now();
    ring.current_key(tenant.parse()?).await?;
    let first_key_ms = t.elapsed().as_secs_f64() * 1e3;
    let sealed = plain.clone().with_cipher(ring);

    let mut times: Vec<(bool, f64, f64)> = Vec::new();
    for r in 0..args.rounds {
        for (is_sealed, engine) in [(false, &plain), (true, &sealed)] {
            let mut conn = crate::rx::connect(&args.redis_url).await?;
            crate::rx::delete_matching(&mut conn, &crate::rx::run_pattern(prefix)).await?;
            let (p, d) = round(engine, &tenant, args.jobs, args.concurrency).await?;
            eprintln!("round {r} sealed={is_sealed}: push {p:.3} s, drain {d:.3} s");
            times.push((is_sealed, p, d));
        }
    }
    // A sealed job really is sealed in Redis (the bench measures what it claims).
    let probe = sealed.push(job(&tenant, 0)).await?;
    let raw = plain.job(QUEUE, &probe.id).await?.context("probe job")?;
    anyhow::ensure!(
        jobs::engine::cipher::token(&raw.payload).is_some(),
        "the sealed variant stored a plaintext payload"
    );

    let median = |s: bool, f: fn(&(bool, f64, f64)) -> f64| {
        let mut xs: Vec<f64> = times.iter().filter(|t| t.0 == s).map(f).collect();
        xs.sort_by(|a, b| a.total_cmp(b));
        xs[xs.len() / 2]
    };
    let n = args.jobs as f64;
    let (bp, bd) = (median(false, |t| t.1), median(false, |t| t.2));
    println!("| variant | push jobs/s | drain jobs/s | push µs/job over plain | drain µs/job over plain |");
    println!("|---|---:|---:|---:|---:|");
    for s in [false, true] {
        let (p, d) = (median(s, |t| t.1), median(s, |t| t.2));
        println!(
            "| {} | {:.0} | {:.0} | {:+.1} | {:+.1} |",
            if s {
                "sealed (AES-256-GCM payload + result)"
            } else {
                "plain (baseline)"
            },
            n / p,
            n / d,
            (p - bp) / n * 1e6,
            (d - bd) / n * 1e6
        );
    }
    println!(
        "\n{} jobs per round ({}-byte payload), {} rounds per variant (alternated, medians), worker concurrency {}, one in-process worker; the tenant's first data key (create, wrap, store, unwrap): {:.1} ms, once per tenant and process",
        args.jobs,
        serde_json::to_string(&job(&tenant, 0).payload)?.len(),
        args.rounds,
        args.concurrency,
        first_key_ms
    );
    Ok(())
}

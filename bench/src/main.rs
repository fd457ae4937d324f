//! `bench`: Tarefa's benchmarks (issue 2's engine bench, issue 3's HTTP bench).
//!
//! `bench run` drives real `worker` and `api-lite` processes from the
//! release build against the machine's Redis under a run-unique key prefix
//! (`tb<base36 of time and pid>`), measures each figure beside a raw-Redis
//! baseline taken in the same run, prints a markdown section on stdout
//! (progress goes to stderr) and deletes every key of the prefix at the end.
//! It never FLUSHes anything. `bench cleanup --prefix P` deletes a prefix's
//! keys left by an interrupted run. `bench/run.sh` builds, prepares
//! PostgreSQL and appends the section to `bench/RESULTS.md`.
//!
//! `bench alerts` measures academic alerts (issue 5): see [`alerts`].
//! `bench events` measures booking events and reminders (issue 16): see [`events`].
//! `bench campaigns` measures WhatsApp campaigns (issue 15): see [`campaigns`].
//! `bench cluster` measures the engine on a Redis Cluster and `replicated` durability (issue 20): see [`cluster`].
//! `bench crypt` measures encryption at rest per job (issue 21): see [`crypt`].
//!
//! Modules: [`engine`] (a)-(e), [`http`] (end to end through api-lite),
//! [`rx`] (Redis INFO and key helpers), [`procs`] (child processes),
//! [`load`] (CPU other processes took during each phase),
//! [`report`] (the markdown), [`stats`] (percentiles).

mod alerts;
mod campaign_callbacks;
mod campaigns;
mod cluster;
mod crypt;
mod db;
mod engine;
mod events;
mod forecasting;
mod http;
mod load;
mod procs;
mod report;
mod rx;
mod stats;
mod workflows;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use jobs::config::EngineSettings;
use jobs::engine::keys::QueueKeys;
use jobs::engine::{Engine, EngineConfig};

#[derive(Parser)]
#[command(
    name = "bench",
    about = "Tarefa benchmarks: the engine vs raw Redis, and HTTP end to end"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the benches and print a markdown section on stdout.
    Run(RunArgs),
    /// Academic alerts: ingestion rows/s and evaluation time for 10,000 and 100,000 students.
    Alerts(alerts::AlertsArgs),
    /// Booking events: a stream backlog consumed (events/s vs plain XREADGROUP+XACK) and reminders due in one minute (lateness).
    Events(events::EventsArgs),
    /// WhatsApp campaigns: preview and freeze of 100,000 contacts, sustained send rate vs the configured one against a local API stand-in.
    Campaigns(campaigns::CampaignsArgs),
    /// Forecasting: 1,000 daily series × 2 years validated, trained, predicted; statsforecast's AutoETS beside.
    Forecasting(forecasting::ForecastingArgs),
    /// Batches and concurrency keys: push and drain cost per job against plain jobs in the same run.
    Workflows(workflows::WorkflowsArgs),
    /// Redis Cluster (3 masters) vs one Redis, `async` vs `replicated`: enqueue and drain, servers started by the bench.
    Cluster(cluster::ClusterArgs),
    /// Encryption at rest: push and drain cost per job of sealed payloads and results against plain ones in the same run.
    Crypt(crypt::CryptArgs),
    /// Delete every key of a run prefix (after an interrupted run).
    Cleanup {
        #[arg(long)]
        prefix: String,
        #[arg(
            long,
            env = "TAREFA__REDIS__URL",
            default_value = "redis://127.0.0.1:6379"
        )]
        redis_url: String,
    },
}

#[derive(Parser, Clone)]
struct RunArgs {
    #[arg(
        long,
        env = "TAREFA__REDIS__URL",
        default_value = "redis://127.0.0.1:6379"
    )]
    redis_url: String,
    /// Key prefix of this run (default: `tb<base36 of time and pid>`, as short as the production `tarefa`).
    #[arg(long)]
    prefix: Option<String>,
    /// Where `worker` and `api-lite` are (the release build).
    #[arg(long, default_value = "target/release")]
    bin_dir: PathBuf,
    /// The `config/` directory the processes load.
    #[arg(long, default_value = "config")]
    config_dir: PathBuf,
    /// PostgreSQL of the HTTP bench (migrated `tarefa_bench`).
    #[arg(
        long,
        env = "BENCH_DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/tarefa_bench"
    )]
    database_url: String,
    /// API key of a tenant in that database (`api-lite tenants create`); without it the HTTP bench is skipped.
    #[arg(long, env = "BENCH_API_KEY", hide_env_values = true)]
    api_key: Option<String>,
    /// Phases to run, comma separated: enqueue, drain, latency, backlog, http.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "enqueue,drain,latency,backlog,http"
    )]
    only: Vec<String>,
    /// Jobs per round of (a).
    #[arg(long, default_value_t = 100_000)]
    enqueue_jobs: usize,
    #[arg(long, default_value_t = 3)]
    enqueue_rounds: usize,
    /// Waiting jobs of each drain in (b)/(d).
    #[arg(long, default_value_t = 100_000)]
    drain_jobs: usize,
    /// Jobs/s of (c).
    #[arg(long, default_value_t = 500)]
    latency_rate: u32,
    /// Measured seconds of (c) (after 1 s of warm-up).
    #[arg(long, default_value_t = 10)]
    latency_secs: u32,
    /// Waiting jobs of (e).
    #[arg(long, default_value_t = 1_000_000)]
    backlog_jobs: usize,
    /// Wait up to this long for other processes to leave the machine (mostly) idle before starting.
    #[arg(long, default_value_t = 300)]
    wait_idle_secs: u64,
    /// Skip the extra 1-worker drains (concurrency 64, info logs).
    #[arg(long)]
    no_variants: bool,
    #[arg(long, default_value_t = 20_000)]
    http_singles: usize,
    #[arg(long, default_value_t = 16)]
    http_clients: usize,
    /// Batches of 1,000 in each HTTP batch phase.
    #[arg(long, default_value_t = 50)]
    http_batches: usize,
}

#[tokio::main]
async fn main() -> Result<()> {
    match Cli::parse().command {
        Cmd::Cleanup { prefix, redis_url } => {
            let mut conn = rx::connect(&redis_url).await?;
            let n = rx::delete_matching(&mut conn, &rx::run_pattern(&prefix)).await?;
            eprintln!("bench: deleted {n} keys of {prefix}");
            Ok(())
        }
        Cmd::Run(args) => run(args).await,
        Cmd::Alerts(args) => alerts::run(args).await,
        Cmd::Events(args) => events::run(args).await,
        Cmd::Campaigns(args) => campaigns::run(args).await,
        Cmd::Forecasting(args) => forecasting::run(args).await,
        Cmd::Workflows(args) => workflows::run(args).await,
        Cmd::Cluster(args) => cluster::run(args).await,
        Cmd::Crypt(args) => crypt::run(args).await,
    }
}

async fn run(args: RunArgs) -> Result<()> {
    let prefix = args.prefix.clone().unwrap_or_else(|| {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        // Short, like the production prefix `tarefa`: key names count in the bytes kept per job.
        format!(
            "tb{}",
            base36(t * 100_000 + u64::from(std::process::id()) % 100_000)
        )
    });
    if prefix.contains(['{', '}', '*', '?', '[']) {
        bail!("prefix must not contain braces or glob characters");
    }
    let phases = |p: &str| args.only.iter().any(|x| x == p);
    let mut conn = rx::connect(&args.redis_url).await?;
    let version = rx::version(&mut conn).await?;
    let idle_share = load::wait_idle(
        &mut conn,
        IDLE_THRESHOLD,
        Duration::from_secs(args.wait_idle_secs),
    )
    .await?;
    let background = rx::background_commands(&mut conn, Duration::from_secs(1)).await?;
    let engine = Engine::connect(EngineConfig {
        redis_url: args.redis_url.clone(),
        prefix: prefix.clone(),
        settings: EngineSettings::default(),
    })
    .await
    .context("engine connect")?;
    let spawner = procs::Spawner {
        bin_dir: std::fs::canonicalize(&args.bin_dir)
            .with_context(|| format!("bin dir {}", args.bin_dir.display()))?,
        config_dir: std::fs::canonicalize(&args.config_dir)
            .with_context(|| format!("config dir {}", args.config_dir.display()))?,
        log_dir: procs::log_dir(&prefix)?,
        redis_url: args.redis_url.clone(),
        prefix: prefix.clone(),
        database_url: args.database_url.clone(),
    };
    // The settings the spawned workers will load (same config dir, same env).
    std::env::set_var("TAREFA_CONFIG_DIR", &spawner.config_dir);
    std::env::remove_var("TAREFA_ENV");
    let settings = jobs::Settings::load().context("loading the workers' settings")?;
    let mut ctx = engine::Ctx {
        conn,
        engine,
        keys: QueueKeys::new(&prefix, "diag"),
        raw_key: format!("{{{prefix}:raw}}:q"),
        spawner,
        sizes: engine::Sizes {
            enqueue_jobs: args.enqueue_jobs,
            enqueue_rounds: args.enqueue_rounds.max(1),
            drain_jobs: args.drain_jobs,
            latency_rate: args.latency_rate,
            latency_secs: args.latency_secs,
            backlog_jobs: args.backlog_jobs,
            worker_concurrency: settings.worker.concurrency_for("diag"),
            claim_batch: settings.engine.claim_batch as usize,
            variants: !args.no_variants,
        },
        direct_bulk_rate: f64::NAN,
    };
    eprintln!(
        "bench: prefix {prefix}, Redis {version}, logs in {}",
        ctx.spawner.log_dir.display()
    );
    let started = Instant::now();
    let mut report = report::Report::default();
    let result = phases_run(&mut ctx, &args, &mut report, &phases).await;
    // Whatever happened, leave nothing of this run in Redis.
    let left = ctx.cleanup().await.unwrap_or(0);
    result?;

    report.note(format!("Redis {version} on {}; key prefix `{prefix}` (all its keys deleted afterwards: {left} were left at the end)", args.redis_url));
    report.note(format!(
        "server activity from other clients before the run: {background} commands in 1 s{}",
        if background > 50 {
            " — **not idle**: the per-job command and CPU figures include others' load"
        } else {
            " (idle)"
        }
    ));
    report.note(format!(
        "other processes' CPU when the run started: {:.0}% of the machine{}",
        idle_share * 100.0,
        if idle_share >= IDLE_THRESHOLD {
            " — **the machine was busy** (waited the whole --wait-idle-secs); figures are pessimistic"
        } else {
            ""
        }
    ));
    report.note(format!(
        "whole bench: {:.0} s",
        started.elapsed().as_secs_f64()
    ));
    print!("{}", report.markdown());
    Ok(())
}

/// Other processes' share of the machine above which a phase is flagged.
const IDLE_THRESHOLD: f64 = 0.10;
/// Runs of one phase before its figures are kept even though disturbed.
const PHASE_ATTEMPTS: usize = 3;

async fn phases_run(
    ctx: &mut engine::Ctx,
    args: &RunArgs,
    report: &mut report::Report,
    phases: &dyn Fn(&str) -> bool,
) -> Result<()> {
    let mut loads: Vec<(&str, f64, usize)> = Vec::new();
    let all: [&str; 5] = ["enqueue", "drain", "latency", "backlog", "http"];
    for name in all {
        let wanted = phases(name) || (name == "enqueue" && phases("http"));
        if !wanted || (name == "http" && args.api_key.is_none()) {
            continue;
        }
        // A phase disturbed by other processes (the machine is shared) is
        // redone after the machine calms down, up to PHASE_ATTEMPTS times.
        for attempt in 1..=PHASE_ATTEMPTS {
            if attempt > 1 {
                load::wait_idle(
                    &mut ctx.conn,
                    IDLE_THRESHOLD,
                    Duration::from_secs(args.wait_idle_secs),
                )
                .await?;
            }
            let mut part = report::Report::default();
            let before = load::LoadSnap::take(&mut ctx.conn).await?;
            match name {
                "enqueue" => engine::enqueue(ctx, &mut part).await?,
                "drain" => engine::drain(ctx, &mut part).await?,
                "latency" => engine::latency(ctx, &mut part).await?,
                "backlog" => engine::backlog(ctx, &mut part).await?,
                _ => {
                    let sizes = http::HttpSizes {
                        singles: args.http_singles,
                        clients: args.http_clients.max(1),
                        batches: args.http_batches.max(1),
                        api_key: args.api_key.clone().unwrap_or_default(),
                    };
                    http::run(ctx, &sizes, &mut part).await?;
                }
            }
            let share = load::LoadSnap::take(&mut ctx.conn)
                .await?
                .foreign_since(&before);
            if share < IDLE_THRESHOLD || attempt == PHASE_ATTEMPTS {
                report.merge(part);
                loads.push((name, share, attempt));
                break;
            }
            eprintln!(
                "bench: phase {name} disturbed: other processes took {:.0}% of the machine; redoing it",
                share * 100.0
            );
        }
    }
    if phases("http") && args.api_key.is_none() {
        report.note("HTTP bench skipped: no --api-key / BENCH_API_KEY");
    }
    report.note(format!(
        "CPU taken by other processes during each phase (busy CPU − Redis − the bench and its workers/api-lite), share of the {} CPUs: {}",
        load::cpus(),
        loads
            .iter()
            .map(|(n, s, attempt)| format!(
                "{n} {:.0}%{}{}",
                s * 100.0,
                if *s >= IDLE_THRESHOLD { " (**busy**)" } else { "" },
                if *attempt > 1 { format!(" (attempt {attempt}; earlier ones were disturbed)") } else { String::new() }
            ))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    Ok(())
}

fn base36(mut n: u64) -> String {
    let digits = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    loop {
        out.push(digits[(n % 36) as usize]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).expect("ascii")
}

//! The engine benches of issue 2, each beside a raw-Redis baseline measured
//! in the same run, against the same server:
//!
//! - (a) bulk enqueue: `Engine::push_bulk` (1,000 jobs per call) vs a
//!   pipeline of 1,000 `LPUSH` per round trip, one caller each.
//! - (b) drain of a waiting backlog of `diag.noop` jobs by one and by two real
//!   `worker` processes (rate = jobs / (last `f` − first `st`) read from the
//!   job hashes) vs 8 connections each doing `BRPOP` one job per round trip
//!   (no ack).
//! - (c) enqueue→start latency (`st − c` of each job hash, both Redis ms) at a
//!   steady rate of single pushes with one worker process, vs raw `LPUSH` →
//!   `BRPOP` latency at the same rate.
//! - (d) Redis commands per job (commandstats, calls made inside Lua
//!   included), Redis CPU per job (`used_cpu_sys + used_cpu_user` delta of
//!   INFO cpu, the whole server) and bytes kept per finished job
//!   (`used_memory` delta), measured over the 1-worker drain run from the
//!   first push to the last ack.
//! - (e) a backlog of 1,000,000 waiting jobs drained by two workers.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use jobs::engine::keys::QueueKeys;
use jobs::engine::{new_job_id, Engine, NewJob};
use redis::aio::MultiplexedConnection;
use serde_json::json;

use crate::procs::{Proc, Spawner};
use crate::report::{Report, Row, Verdict};
use crate::rx::{self, CmdStats, JobTimes, Probe, Snap};
use crate::stats::{median, ratio, summarize, thousands, Summary};

/// Jobs pushed per `push_bulk` call and LPUSHes per raw pipeline.
pub const CHUNK: usize = 1_000;
/// Connections of the raw drain and latency baselines.
pub const RAW_CONNS: usize = 8;
/// Tenant of the jobs the engine benches push.
pub const TENANT: &str = "bench";

/// How much work each phase does.
#[derive(Clone, Debug)]
pub struct Sizes {
    pub enqueue_jobs: usize,
    pub enqueue_rounds: usize,
    pub drain_jobs: usize,
    pub latency_rate: u32,
    pub latency_secs: u32,
    pub backlog_jobs: usize,
    /// `worker.concurrency` of the `diag` queue in the config the workers load.
    pub worker_concurrency: usize,
    /// `engine.claim_batch` of the config the workers load.
    pub claim_batch: usize,
    /// Extra 1-worker drains: bigger concurrency, info-level logs.
    pub variants: bool,
}

/// What the engine benches share.
pub struct Ctx {
    pub conn: MultiplexedConnection,
    pub engine: Engine,
    pub keys: QueueKeys,
    pub raw_key: String,
    pub spawner: Spawner,
    pub sizes: Sizes,
    /// Median direct `push_bulk` rate from (a), for the HTTP comparison.
    pub direct_bulk_rate: f64,
}

impl Ctx {
    pub async fn cleanup(&mut self) -> Result<u64> {
        rx::delete_matching(&mut self.conn, &rx::run_pattern(&self.spawner.prefix)).await
    }

    /// Waits until `n` workers heartbeat on the queue.
    async fn wait_ready(&mut self, procs: &mut [Proc]) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let n: usize = redis::cmd("ZCARD")
                .arg(self.keys.workers())
                .query_async(&mut self.conn)
                .await?;
            if n >= procs.len() {
                // Let the feeders reach their first BLPOP.
                tokio::time::sleep(Duration::from_millis(300)).await;
                return Ok(());
            }
            for p in procs.iter_mut() {
                p.check_alive()?;
            }
            if Instant::now() > deadline {
                bail!("workers did not heartbeat within 30 s");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Polls until `n` jobs are final (succeeded or dead); counts its own calls in `probe`.
    async fn wait_done(&mut self, n: usize, procs: &mut [Proc], probe: &mut Probe) -> Result<()> {
        let timeout = Duration::from_secs(120 + (n / 2_000) as u64);
        let deadline = Instant::now() + timeout;
        let mut last_report = Instant::now();
        loop {
            let (ok, dead): (usize, usize) = redis::pipe()
                .cmd("LLEN")
                .arg(self.keys.succeeded())
                .cmd("ZCARD")
                .arg(self.keys.dead())
                .query_async(&mut self.conn)
                .await?;
            probe.count("llen", 1);
            probe.count("zcard", 1);
            if ok + dead >= n {
                return Ok(());
            }
            for p in procs.iter_mut() {
                p.check_alive()?;
            }
            if Instant::now() > deadline {
                bail!("only {ok} succeeded and {dead} dead of {n} after {timeout:?}");
            }
            if last_report.elapsed() > Duration::from_secs(15) {
                eprintln!("bench:   … {ok} of {n} done");
                last_report = Instant::now();
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn workers(&self, n: usize, env: &[(String, String)]) -> Result<Vec<Proc>> {
        (1..=n).map(|i| self.spawner.worker(i, env)).collect()
    }
}

async fn stop_all(procs: Vec<Proc>) -> Result<()> {
    for p in procs {
        p.stop(Duration::from_secs(30)).await?;
    }
    Ok(())
}

fn noop_job(tenant: &str) -> NewJob {
    NewJob::new("diag", "diag.noop", tenant, json!({}))
}

/// Pushes `n` `diag.noop` jobs, 1,000 per call; returns their ids and the time it took.
pub(crate) async fn push_bulk_n(
    engine: &Engine,
    n: usize,
    tenant: &str,
) -> Result<(Vec<String>, Duration)> {
    let mut ids = Vec::with_capacity(n);
    let t = Instant::now();
    let mut left = n;
    while left > 0 {
        let k = left.min(CHUNK);
        let pushed = engine
            .push_bulk((0..k).map(|_| noop_job(tenant)).collect())
            .await?;
        ids.extend(pushed.into_iter().map(|p| p.id));
        left -= k;
    }
    Ok((ids, t.elapsed()))
}

/// A raw job: roughly what a Sidekiq-style client would LPUSH for a no-op.
fn raw_payload() -> String {
    format!(
        r#"{{"id":"{}","kind":"diag.noop","tenant":"{TENANT}","payload":{{}},"created":{}}}"#,
        new_job_id(),
        rx::now_ms()
    )
}

/// LPUSHes `n` raw jobs, 1,000 per pipelined round trip.
async fn raw_fill(conn: &mut MultiplexedConnection, key: &str, n: usize) -> Result<Duration> {
    let t = Instant::now();
    let mut left = n;
    while left > 0 {
        let k = left.min(CHUNK);
        let mut pipe = redis::pipe();
        for _ in 0..k {
            pipe.cmd("LPUSH").arg(key).arg(raw_payload()).ignore();
        }
        pipe.query_async::<()>(conn).await?;
        left -= k;
    }
    Ok(t.elapsed())
}

async fn raw_conns(url: &str, n: usize) -> Result<Vec<MultiplexedConnection>> {
    let mut v = Vec::with_capacity(n);
    for _ in 0..n {
        v.push(rx::connect(url).await?);
    }
    Ok(v)
}

/// 8 connections BRPOP the list one job per round trip until `n` were taken;
/// returns the time from the start to the last pop.
async fn raw_drain(url: &str, key: &str, n: usize) -> Result<Duration> {
    let conns = raw_conns(url, RAW_CONNS).await?;
    let popped = Arc::new(AtomicUsize::new(0));
    let end: Arc<Mutex<Option<Instant>>> = Arc::default();
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for mut c in conns {
        let (popped, end, key) = (popped.clone(), end.clone(), key.to_string());
        tasks.spawn(async move {
            while popped.load(Ordering::Relaxed) < n {
                let r: Option<(String, String)> = redis::cmd("BRPOP")
                    .arg(&key)
                    .arg(0.2)
                    .query_async(&mut c)
                    .await?;
                if r.is_some() && popped.fetch_add(1, Ordering::Relaxed) + 1 == n {
                    *end.lock().expect("end lock") = Some(Instant::now());
                }
            }
            Ok::<(), redis::RedisError>(())
        });
    }
    while let Some(r) = tasks.join_next().await {
        r??;
    }
    let end = end
        .lock()
        .expect("end lock")
        .context("raw drain never finished")?;
    Ok(end - start)
}

/// (a) bulk enqueue.
pub async fn enqueue(ctx: &mut Ctx, report: &mut Report) -> Result<()> {
    let n = ctx.sizes.enqueue_jobs;
    let (mut raw_rates, mut eng_rates) = (Vec::new(), Vec::new());
    // Warm-up (not counted): loads the script, grows Redis' tables once.
    ctx.cleanup().await?;
    raw_fill(&mut ctx.conn, &ctx.raw_key.clone(), n / 10).await?;
    push_bulk_n(&ctx.engine, n / 10, TENANT).await?;
    for round in 1..=ctx.sizes.enqueue_rounds {
        ctx.cleanup().await?;
        let raw = raw_fill(&mut ctx.conn, &ctx.raw_key.clone(), n).await?;
        ctx.cleanup().await?;
        let (_, eng) = push_bulk_n(&ctx.engine, n, TENANT).await?;
        ctx.cleanup().await?;
        let (r, e) = (n as f64 / raw.as_secs_f64(), n as f64 / eng.as_secs_f64());
        eprintln!("bench: (a) round {round}: raw LPUSH {r:.0}/s, push_bulk {e:.0}/s");
        raw_rates.push(r);
        eng_rates.push(e);
    }
    let (raw, eng) = (median(&raw_rates), median(&eng_rates));
    ctx.direct_bulk_rate = eng;
    let x = eng / raw;
    report.row(Row {
        id: "a".into(),
        measure: "bulk enqueue, jobs/s (1,000 per round trip, 1 caller)".into(),
        tarefa: format!("{} (`push_bulk`)", thousands(eng)),
        baseline: format!(
            "{} (pipelined LPUSH; the issue quoted ~340k)",
            thousands(raw)
        ),
        ratio: ratio(x),
        target: "≥ 0.25×".into(),
        verdict: Verdict::from(x >= 0.25),
    });
    let fmt = |v: &[f64]| {
        v.iter()
            .map(|r| thousands(*r))
            .collect::<Vec<_>>()
            .join(", ")
    };
    report.detail(
        "(a) bulk enqueue",
        format!(
            "{} rounds of {} jobs each after an uncounted warm-up, raw and Tarefa alternating, medians above; raw LPUSH rounds: {}; push_bulk rounds: {}",
            ctx.sizes.enqueue_rounds,
            thousands(n as f64),
            fmt(&raw_rates),
            fmt(&eng_rates)
        ),
    );
    report.detail(
        "(a) bulk enqueue",
        "raw: one pipeline of 1,000 `LPUSH <list> <~130-byte JSON job>` per round trip; Tarefa: `Engine::push_bulk` of 1,000 `diag.noop` jobs (one EVALSHA of push.lua) per round trip; both build their payloads and ULIDs inside the timed loop",
    );
    Ok(())
}

/// One raw drain: fill `n`, drain with 8 BRPOP connections; server cost measured.
struct RawDrain {
    rate: f64,
    cmds: CmdStats,
    cpu_us_per_job: f64,
}

async fn raw_drain_run(ctx: &mut Ctx, n: usize) -> Result<RawDrain> {
    ctx.cleanup().await?;
    let key = ctx.raw_key.clone();
    let mut probe = Probe::default();
    rx::reset_stats(&mut ctx.conn).await?;
    let s0 = Snap::take(&mut ctx.conn, &mut probe).await?;
    raw_fill(&mut ctx.conn, &key, n).await?;
    let took = raw_drain(&ctx.spawner.redis_url, &key, n).await?;
    let s1 = Snap::take(&mut ctx.conn, &mut Probe::default()).await?;
    ctx.cleanup().await?;
    let cmds = s1.cmd.since(&s0.cmd).without(&probe);
    Ok(RawDrain {
        rate: n as f64 / took.as_secs_f64(),
        cpu_us_per_job: (s1.cpu_secs - s0.cpu_secs) * 1e6 / n as f64,
        cmds,
    })
}

/// One engine drain: push `n`, start `workers` processes, wait until all are final.
#[derive(Debug, Default)]
struct EngineDrain {
    n: usize,
    push_secs: f64,
    /// jobs / (last finish − first start), from the job hashes.
    rate: f64,
    /// Spawn of the first worker → the poller saw the last job final.
    wall_secs: f64,
    succeeded: usize,
    not_succeeded: usize,
    cmds_push: CmdStats,
    cmds_drain: CmdStats,
    cpu_push_secs: f64,
    cpu_drain_secs: f64,
    bytes_per_job: f64,
    sampled_bytes_per_job: f64,
    worker_cpu_secs: f64,
    worker_peak_rss: u64,
}

async fn engine_drain_run(
    ctx: &mut Ctx,
    n: usize,
    workers: usize,
    env: &[(String, String)],
) -> Result<EngineDrain> {
    ctx.cleanup().await?;
    tokio::time::sleep(Duration::from_millis(200)).await;
    // The queue is paused while the backlog is pushed and the workers boot,
    // then resumed (which wakes them): every worker starts on the backlog at
    // once, as the raw baseline's 8 connections do, and the drain rate is not
    // diluted by one process booting while another already drains.
    ctx.engine.set_paused("diag", true).await?;
    rx::reset_stats(&mut ctx.conn).await?;
    let s0 = Snap::take(&mut ctx.conn, &mut Probe::default()).await?;
    let (ids, push) = push_bulk_n(&ctx.engine, n, TENANT).await?;
    let s1_push = Snap::take(&mut ctx.conn, &mut Probe::default()).await?;
    let mut procs = ctx.workers(workers, env)?;
    let spawned = Instant::now();
    ctx.wait_ready(&mut procs).await?;
    // Booting (alias, first heartbeat, paused claims) is not per-job work.
    let s1 = Snap::take(&mut ctx.conn, &mut Probe::default()).await?;
    ctx.engine.set_paused("diag", false).await?;
    // The bench's own calls: s0's INFO lands in (s0, s1]; s1's INFO and the polls in (s1, s2].
    let mut probe_push = Probe::default();
    probe_push.count("info", 1);
    let mut probe_drain = Probe::default();
    probe_drain.count("info", 1);
    // The resume: HDEL paused, RPUSH wake tokens, LTRIM.
    for c in ["hdel", "rpush", "ltrim"] {
        probe_drain.count(c, 1);
    }
    ctx.wait_done(n, &mut procs, &mut probe_drain).await?;
    let wall = spawned.elapsed();
    let s2 = Snap::take(&mut ctx.conn, &mut Probe::default()).await?;
    let worker_cpu_secs = procs.iter().map(Proc::cpu_secs).sum();
    let worker_peak_rss = procs.iter().map(Proc::peak_rss).max().unwrap_or(0);
    stop_all(procs).await?;
    let s3 = Snap::take(&mut ctx.conn, &mut Probe::default()).await?;
    let times = rx::job_times(&mut ctx.conn, &ctx.keys, &ids).await?;
    let (rate, succeeded) = drain_rate(&times);
    let sampled = sampled_bytes(ctx, &ids).await?;
    Ok(EngineDrain {
        n,
        push_secs: push.as_secs_f64(),
        rate,
        wall_secs: wall.as_secs_f64(),
        succeeded,
        not_succeeded: n - succeeded,
        cmds_push: s1_push.cmd.since(&s0.cmd).without(&probe_push),
        cmds_drain: s2.cmd.since(&s1.cmd).without(&probe_drain),
        cpu_push_secs: s1_push.cpu_secs - s0.cpu_secs,
        cpu_drain_secs: s2.cpu_secs - s1.cpu_secs,
        bytes_per_job: (s3.used_memory as f64 - s0.used_memory as f64) / n as f64,
        sampled_bytes_per_job: sampled,
        worker_cpu_secs,
        worker_peak_rss,
    })
}

/// jobs / (last `f` − first `st`) in jobs/s, and how many ended `succeeded`.
fn drain_rate(times: &[JobTimes]) -> (f64, usize) {
    let first = times.iter().filter_map(|t| t.started).min();
    let last = times.iter().filter_map(|t| t.finished).max();
    let ok = times
        .iter()
        .filter(|t| t.status.as_deref() == Some("succeeded"))
        .count();
    let rate = match (first, last) {
        (Some(a), Some(b)) => times.len() as f64 / ((b - a).max(1) as f64 / 1000.0),
        _ => f64::NAN,
    };
    (rate, ok)
}

/// Bytes per finished job from MEMORY USAGE: a sample of job hashes plus the `ok` list's share.
async fn sampled_bytes(ctx: &mut Ctx, ids: &[String]) -> Result<f64> {
    if ids.is_empty() {
        return Ok(f64::NAN);
    }
    let step = (ids.len() / 500).max(1);
    let mut pipe = redis::pipe();
    let mut k = 0;
    for id in ids.iter().step_by(step) {
        pipe.cmd("MEMORY")
            .arg("USAGE")
            .arg(ctx.keys.job(id))
            .arg("SAMPLES")
            .arg(0);
        k += 1;
    }
    let sizes: Vec<Option<u64>> = pipe.query_async(&mut ctx.conn).await?;
    let avg = sizes.iter().flatten().sum::<u64>() as f64 / k as f64;
    let ok: Option<u64> = redis::cmd("MEMORY")
        .arg("USAGE")
        .arg(ctx.keys.succeeded())
        .arg("SAMPLES")
        .arg(0)
        .query_async(&mut ctx.conn)
        .await?;
    Ok(avg + ok.unwrap_or(0) as f64 / ids.len() as f64)
}

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// (b) drain and (d) per-job costs.
pub async fn drain(ctx: &mut Ctx, report: &mut Report) -> Result<()> {
    let n = ctx.sizes.drain_jobs;
    let mut raws = Vec::new();
    for round in 1..=2 {
        let r = raw_drain_run(ctx, n).await?;
        eprintln!("bench: (b) raw BRPOP drain round {round}: {:.0}/s", r.rate);
        raws.push(r);
    }
    let raw_rate = median(&raws.iter().map(|r| r.rate).collect::<Vec<_>>());
    let raw = raws.pop().expect("two rounds");

    eprintln!("bench: (b) drain of {n} by 1 worker…");
    let one = engine_drain_run(ctx, n, 1, &[]).await?;
    eprintln!("bench: (b)   1 worker: {:.0}/s", one.rate);
    eprintln!("bench: (b) drain of {n} by 2 workers…");
    let two = engine_drain_run(ctx, n, 2, &[]).await?;
    eprintln!("bench: (b)   2 workers: {:.0}/s", two.rate);

    for (label, d) in [("1 worker process", &one), ("2 worker processes", &two)] {
        let x = d.rate / raw_rate;
        report.row(Row {
            id: "b".into(),
            measure: format!(
                "drain of {} waiting `diag.noop`, {label}, jobs/s",
                thousands(n as f64)
            ),
            tarefa: thousands(d.rate),
            baseline: format!(
                "{} (8 conns × BRPOP, no ack; the issue quoted ~23k; Sidekiq ~4.4k, BullMQ ~4.6k, apalis-redis ~16k)",
                thousands(raw_rate)
            ),
            ratio: ratio(x),
            target: "≥ 1.0×".into(),
            verdict: Verdict::from(x >= 1.0 && d.not_succeeded == 0),
        });
    }
    for (label, d) in [("1 worker", &one), ("2 workers", &two)] {
        report.detail(
            "(b) drain",
            format!(
                "{label}: {} jobs/s first start → last finish; spawn → last seen final {:.2} s; {} succeeded, {} not; backlog pushed in {:.2} s; worker CPU {:.1} µs/job (all processes), peak worker RSS {:.1} MiB",
                thousands(d.rate),
                d.wall_secs,
                thousands(d.succeeded as f64),
                d.not_succeeded,
                d.push_secs,
                d.worker_cpu_secs * 1e6 / d.n as f64,
                d.worker_peak_rss as f64 / 1_048_576.0
            ),
        );
    }
    report.detail(
        "(b) drain",
        format!(
            "raw BRPOP rounds: {} jobs/s (median {}); each of 8 connections pops one job per round trip and does nothing else (no ack)",
            raws.iter().chain(std::iter::once(&raw)).map(|r| thousands(r.rate)).collect::<Vec<_>>().join(", "),
            thousands(raw_rate)
        ),
    );
    report.detail(
        "(b) drain",
        format!(
            "workers run with the config in `config/` (`worker.concurrency` for `diag` = {}; a worker keeps twice that many claimed ahead, deeper — up to `engine.claim_batch` = {} — only while it runs dry between claims), `RUST_LOG=warn`; the bench, Redis and the workers share the 2 cores; the queue is paused while the backlog is pushed and the workers boot, and resumed once every worker heartbeats (the rate runs from the first job started to the last finished)",
            ctx.sizes.worker_concurrency, ctx.sizes.claim_batch
        ),
    );

    if ctx.sizes.variants {
        for (label, e) in [
            (
                "1 worker, `TAREFA__WORKER__CONCURRENCY__DIAG=64`",
                env(&[("TAREFA__WORKER__CONCURRENCY__DIAG", "64")]),
            ),
            (
                "1 worker, `RUST_LOG=info` (one JSON log line per job)",
                env(&[("RUST_LOG", "info")]),
            ),
        ] {
            eprintln!("bench: (b) variant: {label}…");
            let d = engine_drain_run(ctx, n, 1, &e).await?;
            eprintln!("bench: (b)   {:.0}/s", d.rate);
            report.detail(
                "(b) drain",
                format!(
                    "variant, {label}: {} jobs/s ({} vs raw), Redis {:.2} commands/job, {:.1} µs Redis CPU/job, worker CPU {:.1} µs/job",
                    thousands(d.rate),
                    ratio(d.rate / raw_rate),
                    d.cmds_push.plus(&d.cmds_drain).calls() as f64 / n as f64,
                    (d.cpu_push_secs + d.cpu_drain_secs) * 1e6 / n as f64,
                    d.worker_cpu_secs * 1e6 / n as f64,
                ),
            );
        }
    }

    per_job_costs(report, n, &one, &two, &raw);
    Ok(())
}

/// (d): commands, CPU and bytes per job, from the drain runs.
fn per_job_costs(
    report: &mut Report,
    n: usize,
    one: &EngineDrain,
    two: &EngineDrain,
    raw: &RawDrain,
) {
    let nf = n as f64;
    let total = one.cmds_push.plus(&one.cmds_drain);
    let cmds = total.calls() as f64 / nf;
    let raw_cmds = raw.cmds.calls() as f64 / nf;
    report.row(Row {
        id: "d".into(),
        measure: "Redis commands per job, enqueue → ack (commandstats, Lua-internal calls counted)"
            .into(),
        tarefa: format!("{cmds:.2}"),
        baseline: format!("{raw_cmds:.2} (LPUSH + BRPOP); apalis-redis 1.0: 14"),
        ratio: ratio(cmds / raw_cmds),
        target: "≤ 8".into(),
        verdict: Verdict::from(cmds <= 8.0),
    });
    let cpu = (one.cpu_push_secs + one.cpu_drain_secs) * 1e6 / nf;
    report.row(Row {
        id: "d".into(),
        measure:
            "Redis CPU µs per job, enqueue → ack (INFO cpu `used_cpu_sys+used_cpu_user` delta)"
                .into(),
        tarefa: format!("{cpu:.1}"),
        baseline: format!("{:.1} (LPUSH + BRPOP)", raw.cpu_us_per_job),
        ratio: ratio(cpu / raw.cpu_us_per_job),
        target: "≤ 40".into(),
        verdict: Verdict::from(cpu <= 40.0),
    });
    report.row(Row {
        id: "d".into(),
        measure: "Redis bytes kept per finished job (used_memory delta ÷ N, before retention)"
            .into(),
        tarefa: format!(
            "{:.0} (MEMORY USAGE sample: {:.0})",
            one.bytes_per_job, one.sampled_bytes_per_job
        ),
        baseline: "0 (raw list is empty once drained); apalis-redis 1.0: ~520".into(),
        ratio: "".into(),
        target: "≤ 300".into(),
        verdict: Verdict::from(one.bytes_per_job <= 300.0),
    });
    let sec = "(d) Redis cost per job";
    report.detail(
        sec,
        format!(
            "measured over the 1-worker drain run: CONFIG RESETSTAT, then {} `push_bulk` jobs, then the worker drains them; the bench's own INFO and completion polls (LLEN/ZCARD) are subtracted",
            thousands(nf)
        ),
    );
    report.detail(
        sec,
        format!(
            "enqueue phase: {:.2} commands/job ({}), {:.1} µs CPU/job",
            one.cmds_push.calls() as f64 / nf,
            one.cmds_push.per_job_breakdown(nf, 8),
            one.cpu_push_secs * 1e6 / nf
        ),
    );
    report.detail(
        sec,
        format!(
            "drain phase (claim + ack + the worker's heartbeats, rescues, stats flushes, idle BLPOPs): {:.2} commands/job ({}), {:.1} µs CPU/job",
            one.cmds_drain.calls() as f64 / nf,
            one.cmds_drain.per_job_breakdown(nf, 14),
            one.cpu_drain_secs * 1e6 / nf
        ),
    );
    report.detail(
        sec,
        format!(
            "where Redis' command time goes (commandstats usec per job; calls inside Lua carry their own usec, which EVALSHA's usec also includes): enqueue: {}; drain: {}",
            one.cmds_push.usec_breakdown(nf, 6),
            one.cmds_drain.usec_breakdown(nf, 10),
        ),
    );
    report.detail(
        sec,
        format!(
            "Lua overhead (EVALSHA usec minus the usec of the commands it ran, ≈): enqueue {:.1} µs/job, drain {:.1} µs/job",
            one.cmds_push.lua_overhead_usec() / nf,
            one.cmds_drain.lua_overhead_usec() / nf,
        ),
    );
    report.detail(
        sec,
        format!(
            "script time: EVALSHA usec (script bodies, their inner calls included) {:.1} µs/job of the {:.1} µs CPU/job",
            total.usec_of("evalsha") as f64 / nf,
            cpu
        ),
    );
    let two_total = two.cmds_push.plus(&two.cmds_drain);
    report.detail(
        sec,
        format!(
            "same numbers over the 2-worker run: {:.2} commands/job, {:.1} µs CPU/job, {:.0} bytes/job",
            two_total.calls() as f64 / nf,
            (two.cpu_push_secs + two.cpu_drain_secs) * 1e6 / nf,
            two.bytes_per_job
        ),
    );
    report.detail(
        sec,
        format!(
            "raw baseline: {:.2} commands/job ({}), {:.1} µs CPU/job",
            raw_cmds,
            raw.cmds.per_job_breakdown(nf, 4),
            raw.cpu_us_per_job
        ),
    );
}

/// (c) enqueue → start latency at a steady rate.
pub async fn latency(ctx: &mut Ctx, report: &mut Report) -> Result<()> {
    let rate = ctx.sizes.latency_rate;
    let warm = rate as usize;
    let measured = (rate * ctx.sizes.latency_secs) as usize;
    let interval = Duration::from_secs_f64(1.0 / rate as f64);

    ctx.cleanup().await?;
    let mut procs = ctx.workers(1, &[])?;
    ctx.wait_ready(&mut procs).await?;
    eprintln!("bench: (c) {} single pushes at {rate}/s…", warm + measured);
    let mut ids = Vec::with_capacity(measured);
    let mut max_lag = Duration::ZERO;
    let start = tokio::time::Instant::now() + Duration::from_millis(50);
    for i in 0..warm + measured {
        let at = start + interval * i as u32;
        tokio::time::sleep_until(at).await;
        max_lag = max_lag.max(tokio::time::Instant::now() - at);
        let p = ctx.engine.push(noop_job(TENANT)).await?;
        if i >= warm {
            ids.push(p.id);
        }
    }
    ctx.wait_done(warm + measured, &mut procs, &mut Probe::default())
        .await?;
    stop_all(procs).await?;
    let times = rx::job_times(&mut ctx.conn, &ctx.keys, &ids).await?;
    let start_lat = summarize(
        times
            .iter()
            .filter_map(|t| Some((t.started? - t.created?) as f64))
            .collect(),
    );
    let done_lat = summarize(
        times
            .iter()
            .filter_map(|t| Some((t.finished? - t.created?) as f64))
            .collect(),
    );
    ctx.cleanup().await?;

    eprintln!("bench: (c) raw LPUSH → BRPOP at {rate}/s…");
    let raw = raw_latency(ctx, rate, warm, measured).await?;
    ctx.cleanup().await?;

    report.row(Row {
        id: "c".into(),
        measure: format!("enqueue → start latency at {rate} jobs/s, 1 worker, p50 / p99 ms"),
        tarefa: format!("{:.0} / {:.0}", start_lat.p50, start_lat.p99),
        baseline: format!(
            "{:.2} / {:.2} (LPUSH → BRPOP); the issue quoted raw p99 2.7, Sidekiq 5.3, BullMQ 17",
            raw.p50, raw.p99
        ),
        ratio: "".into(),
        target: "p99 ≤ 5 ms".into(),
        verdict: Verdict::from(start_lat.p99 <= 5.0 && start_lat.n == measured),
    });
    let sec = "(c) latency";
    report.detail(
        sec,
        format!(
            "{} measured single `Engine::push` calls paced at {rate}/s after {warm} warm-up ones (max pacing lag {:.1} ms); latency = `st − c` of each job hash (Redis TIME, whole ms, so 0 means < 1 ms)",
            thousands(measured as f64),
            max_lag.as_secs_f64() * 1e3
        ),
    );
    report.detail(
        sec,
        format!("enqueue → start: {}", fmt_summary(&start_lat, "ms", 0)),
    );
    report.detail(
        sec,
        format!(
            "enqueue → done (`f − c`): {}",
            fmt_summary(&done_lat, "ms", 0)
        ),
    );
    report.detail(
        sec,
        format!(
            "raw baseline: LPUSH of a µs timestamp at the same pace, 8 connections BRPOP and take `now − pushed`: {}",
            fmt_summary(&raw, "ms", 2)
        ),
    );
    Ok(())
}

fn fmt_summary(s: &Summary, unit: &str, decimals: usize) -> String {
    format!(
        "n = {}, p50 {:.d$} {unit}, p99 {:.d$} {unit}, max {:.d$} {unit}, mean {:.2} {unit}",
        s.n,
        s.p50,
        s.p99,
        s.max,
        s.mean,
        d = decimals
    )
}

async fn raw_latency(ctx: &mut Ctx, rate: u32, warm: usize, measured: usize) -> Result<Summary> {
    let key = ctx.raw_key.clone();
    let total = warm + measured;
    let conns = raw_conns(&ctx.spawner.redis_url, RAW_CONNS).await?;
    let popped = Arc::new(AtomicUsize::new(0));
    let lats: Arc<Mutex<Vec<f64>>> = Arc::default();
    let mut tasks = tokio::task::JoinSet::new();
    for mut c in conns {
        let (popped, lats, key) = (popped.clone(), lats.clone(), key.clone());
        tasks.spawn(async move {
            while popped.load(Ordering::Relaxed) < total {
                let r: Option<(String, String)> = redis::cmd("BRPOP")
                    .arg(&key)
                    .arg(0.2)
                    .query_async(&mut c)
                    .await?;
                if let Some((_, v)) = r {
                    let now = rx::now_us();
                    popped.fetch_add(1, Ordering::Relaxed);
                    if let Some((i, at)) = v.split_once(':') {
                        let (i, at): (usize, i64) =
                            (i.parse().unwrap_or(0), at.parse().unwrap_or(now));
                        if i >= warm {
                            lats.lock().expect("lats").push((now - at) as f64 / 1000.0);
                        }
                    }
                }
            }
            Ok::<(), redis::RedisError>(())
        });
    }
    let interval = Duration::from_secs_f64(1.0 / rate as f64);
    let start = tokio::time::Instant::now() + Duration::from_millis(50);
    for i in 0..total {
        tokio::time::sleep_until(start + interval * i as u32).await;
        redis::cmd("LPUSH")
            .arg(&key)
            .arg(format!("{i}:{}", rx::now_us()))
            .query_async::<()>(&mut ctx.conn)
            .await?;
    }
    while let Some(r) = tasks.join_next().await {
        r??;
    }
    let v = std::mem::take(&mut *lats.lock().expect("lats"));
    Ok(summarize(v))
}

/// (e) a backlog of 1,000,000 waiting jobs, drained by two workers.
pub async fn backlog(ctx: &mut Ctx, report: &mut Report) -> Result<()> {
    let n = ctx.sizes.backlog_jobs;
    ctx.cleanup().await?;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let m0 = Snap::take(&mut ctx.conn, &mut Probe::default()).await?;

    // Samples used_memory / RSS every 250 ms for the whole phase.
    let peak = Arc::new(Mutex::new((0u64, 0u64)));
    let mut sampler_conn = rx::connect(&ctx.spawner.redis_url).await?;
    let sampler_peak = peak.clone();
    let sampler = tokio::spawn(async move {
        loop {
            if let Ok(s) = Snap::take(&mut sampler_conn, &mut Probe::default()).await {
                let mut p = sampler_peak.lock().expect("peak");
                p.0 = p.0.max(s.used_memory);
                p.1 = p.1.max(s.used_memory_rss);
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    });

    eprintln!("bench: (e) pushing a backlog of {n}…");
    let (ids, push) = push_bulk_n(&ctx.engine, n, TENANT).await?;
    let m1 = Snap::take(&mut ctx.conn, &mut Probe::default()).await?;
    eprintln!(
        "bench: (e) pushed in {:.1} s; draining with 2 workers…",
        push.as_secs_f64()
    );
    let mut procs = ctx.workers(2, &[])?;
    let spawned = Instant::now();
    ctx.wait_done(n, &mut procs, &mut Probe::default()).await?;
    let wall = spawned.elapsed();
    let worker_rss: Vec<u64> = procs.iter().map(Proc::peak_rss).collect();
    stop_all(procs).await?;
    sampler.abort();
    let m2 = Snap::take(&mut ctx.conn, &mut Probe::default()).await?;
    let (dead, leases, queued): (u64, u64, Option<i64>) = redis::pipe()
        .cmd("ZCARD")
        .arg(ctx.keys.dead())
        .cmd("ZCARD")
        .arg(ctx.keys.leases())
        .cmd("HGET")
        .arg(ctx.keys.meta())
        .arg("queued")
        .query_async(&mut ctx.conn)
        .await?;
    let times = rx::job_times(&mut ctx.conn, &ctx.keys, &ids).await?;
    let (rate, succeeded) = drain_rate(&times);
    let single_start = times.iter().all(|t| t.started.is_some());
    let t = Instant::now();
    let deleted = ctx.cleanup().await?;
    let cleanup = t.elapsed();
    let (peak_mem, peak_rss) = *peak.lock().expect("peak");
    eprintln!("bench: (e) drained: {rate:.0}/s, {succeeded} succeeded");

    let ok = succeeded == n && dead == 0 && leases == 0 && queued.unwrap_or(0) == 0 && single_start;
    report.row(Row {
        id: "e".into(),
        measure: format!(
            "backlog of {} waiting jobs, drained by 2 workers",
            thousands(n as f64)
        ),
        tarefa: format!(
            "{:.1} s, {} jobs/s, {} succeeded, {dead} dead",
            wall.as_secs_f64(),
            thousands(rate),
            thousands(succeeded as f64)
        ),
        baseline: "".into(),
        ratio: "".into(),
        target: "drained without error".into(),
        verdict: Verdict::from(ok),
    });
    let mib = |b: u64| b as f64 / 1_048_576.0;
    let sec = "(e) 1M backlog";
    report.detail(
        sec,
        format!(
            "pushed with `push_bulk` in {:.1} s ({} jobs/s) while nothing consumed; Redis used_memory {:.0} MiB → {:.0} MiB with the backlog waiting ({:.0} bytes/waiting job)",
            push.as_secs_f64(),
            thousands(n as f64 / push.as_secs_f64()),
            mib(m0.used_memory),
            mib(m1.used_memory),
            (m1.used_memory as f64 - m0.used_memory as f64) / n as f64
        ),
    );
    report.detail(
        sec,
        format!(
            "drained by 2 worker processes: spawn → last job final {:.1} s; first start → last finish {} jobs/s; afterwards: {} succeeded, {dead} dead, {leases} leases left, meta `queued` = {}",
            wall.as_secs_f64(),
            thousands(rate),
            thousands(succeeded as f64),
            queued.unwrap_or(0)
        ),
    );
    report.detail(
        sec,
        format!(
            "memory: peak used_memory {:.0} MiB (RSS {:.0} MiB), {:.0} MiB after the drain ({:.0} bytes kept per finished job until retention); peak worker RSS {} MiB",
            mib(peak_mem),
            mib(peak_rss),
            mib(m2.used_memory),
            (m2.used_memory as f64 - m0.used_memory as f64) / n as f64,
            worker_rss.iter().map(|b| format!("{:.1}", mib(*b))).collect::<Vec<_>>().join(" / ")
        ),
    );
    report.detail(
        sec,
        format!(
            "cleanup: {} keys deleted in {:.1} s",
            thousands(deleted as f64),
            cleanup.as_secs_f64()
        ),
    );
    Ok(())
}

//! `bench campaigns`: WhatsApp campaigns (issue 15). In a fresh database
//! (`tarefa_bench_campaigns`, created, migrated and dropped by the run) and
//! under a run-unique Redis prefix (deleted at the end):
//!
//! 1. N contacts (default 100,000); the preview's counts over all of them
//!    (median of 3) beside a plain `count(*)` of the same rows;
//! 2. the start: audience frozen into N recipients (one `insert … select`
//!    with the exclusion rules) beside a plain `insert … select` of the same
//!    rows into a copy of the recipients table (same indexes);
//! 3. the send: an in-process `campaigns` worker (concurrency 32) against a
//!    minimal local WhatsApp Cloud API stand-in (answers 200 with a wamid at
//!    once), the campaign at `--rate` msgs/s; sustained rate over `--secs`
//!    after 5 s of warm-up, beside the configured rate; PostgreSQL commits
//!    and Redis commands per message (both servers shared: upper bounds) and
//!    the estimated cost per message from the price table;
//! 4. unless `--no-callbacks`: Meta's status webhooks, three per accepted
//!    message, posted in bursts to a real `api-lite` process (the release
//!    build in `--bin-dir`) while the campaign sends — see
//!    [`crate::campaign_callbacks`] — with api-lite's and the bench's
//!    resident memory every 10 s (is it flat?).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use chrono::Utc;
use serde_json::json;
use sqlx::PgPool;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

use jobs::config::EngineSettings;
use jobs::engine::{Engine, EngineConfig};
use jobs::kinds::campaigns::{audience, lifecycle, model};
use jobs::kinds::{KindHandler, Registry, Resources};
use jobs::store::tenants;

use crate::events::{commits, redis_commands, self_cpu_secs};
use crate::{campaign_callbacks, rx, stats};

#[derive(clap::Parser, Clone)]
pub struct CampaignsArgs {
    #[arg(
        long,
        env = "TAREFA__REDIS__URL",
        default_value = "redis://127.0.0.1:6379"
    )]
    pub redis_url: String,
    /// A database the run may connect to, to create (and drop) `tarefa_bench_campaigns`.
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    pub admin_url: String,
    #[arg(long, default_value_t = 100_000)]
    pub contacts: usize,
    /// The campaign's rate, msgs/s (80 = a standard number's throughput).
    #[arg(long, default_value_t = 80)]
    pub rate: u32,
    /// Measured seconds of sending (after 5 s of warm-up).
    #[arg(long, default_value_t = 60)]
    pub secs: u64,
    /// Skip the status webhooks (three per message) posted to a real `api-lite`.
    #[arg(long)]
    pub no_callbacks: bool,
    /// Concurrent connections posting the status webhooks (Meta posts
    /// concurrently; each connection waits for its answer before the next).
    #[arg(long, default_value_t = 64)]
    pub callback_connections: usize,
    /// Where `api-lite` is (the release build).
    #[arg(long, default_value = "target/release")]
    pub bin_dir: std::path::PathBuf,
    /// The `config/` directory api-lite loads.
    #[arg(long, default_value = "config")]
    pub config_dir: std::path::PathBuf,
}

const DB: &str = "tarefa_bench_campaigns";

pub async fn run(args: CampaignsArgs) -> Result<()> {
    let db = crate::db::BenchDb::create(&args.admin_url, DB, 40).await?;
    let pool = db.pool.clone();
    let prefix = format!("tbcp{}", std::process::id());
    let result = measure(&args, &pool, &db.url, &prefix).await;
    let mut conn = rx::connect(&args.redis_url).await?;
    rx::delete_matching(&mut conn, &format!("*{prefix}*")).await?;
    db.drop().await?;
    result
}

/// A minimal WhatsApp Cloud API: every POST answers 200 with a new wamid (HTTP/1.1 keep-alive);
/// each accepted (wamid, to) goes to `accepted` when given (for the status webhooks).
async fn fake_whatsapp(
    accepted: Option<mpsc::UnboundedSender<(String, String)>>,
) -> Result<(String, Arc<AtomicU64>)> {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = l.local_addr()?;
    let n = Arc::new(AtomicU64::new(0));
    let counter = n.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            let counter = counter.clone();
            let accepted = accepted.clone();
            tokio::spawn(async move {
                let mut buf = Vec::with_capacity(4096);
                let mut chunk = [0u8; 4096];
                loop {
                    // One request: headers, then Content-Length bytes of body.
                    let (head, len) = loop {
                        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            let mut headers = [httparse::EMPTY_HEADER; 32];
                            let mut req = httparse::Request::new(&mut headers);
                            let _ = req.parse(&buf[..i + 4]);
                            let len = req
                                .headers
                                .iter()
                                .find(|h| h.name.eq_ignore_ascii_case("content-length"))
                                .and_then(|h| {
                                    std::str::from_utf8(h.value).ok()?.trim().parse().ok()
                                })
                                .unwrap_or(0usize);
                            break (i + 4, len);
                        }
                        match s.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(k) => buf.extend_from_slice(&chunk[..k]),
                        }
                    };
                    while buf.len() < head + len {
                        match s.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(k) => buf.extend_from_slice(&chunk[..k]),
                        }
                    }
                    let to = serde_json::from_slice::<serde_json::Value>(&buf[head..head + len])
                        .ok()
                        .and_then(|v| v["to"].as_str().map(str::to_string))
                        .unwrap_or_default();
                    buf.drain(..head + len);
                    let k = counter.fetch_add(1, Ordering::Relaxed);
                    if let Some(tx) = &accepted {
                        let _ = tx.send((format!("wamid.BENCH{k}"), to));
                    }
                    let body = format!(
                        r#"{{"messaging_product":"whatsapp","contacts":[{{"input":"x","wa_id":"x"}}],"messages":[{{"id":"wamid.BENCH{k}"}}]}}"#
                    );
                    let res = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    if s.write_all(res.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    Ok((format!("http://{addr}"), n))
}

async fn sent(pool: &PgPool) -> Result<i64> {
    Ok(
        // sent, delivered or read: the status webhooks move recipients past `sent`.
        sqlx::query_scalar("select count(*) from campaign_recipients where sent_at is not null")
            .fetch_one(pool)
            .await?,
    )
}

/// Rows inserted, updated and deleted so far in this database (the bench's own).
async fn rows_written(pool: &PgPool) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "select tup_inserted + tup_updated + tup_deleted from pg_stat_database where datname = current_database()",
    )
    .fetch_one(pool)
    .await?)
}

async fn measure(args: &CampaignsArgs, pool: &PgPool, db_url: &str, prefix: &str) -> Result<()> {
    let n = args.contacts;
    let t = tenants::create(
        pool,
        &tenants::NewTenant {
            name: "Loja Bench".into(),
            slug: "loja-bench".into(),
            timezone: "America/Sao_Paulo".into(),
            plan: "standard".into(),
        },
    )
    .await?;
    std::env::set_var("BENCH_WA_TOKEN", "EAAG-bench");
    jobs::kinds::notify::admin::put_channel(
        pool,
        t.id,
        "whatsapp",
        &json!({"phone_number_id": "1055", "access_token_env": "BENCH_WA_TOKEN"}),
        true,
    )
    .await?;
    let tpl: model::TemplateInput = serde_json::from_value(json!({
        "name": "promo", "category": "marketing", "body": "Olá {{1}}, seu cupom é {{2}}",
        "parameters": ["first_name", "coupon"]}))?;
    lifecycle::put_template(pool, t.id, &tpl).await?;
    eprintln!("bench campaigns: {n} contacts");
    sqlx::query(
        "insert into contacts (id, tenant_id, external_id, name, phone, tags, attributes) \
         select gen_random_uuid(), $1, 'c' || g, 'Cliente ' || g, '+55119' || lpad((10000000 + g)::text, 8, '0'), \
           case when g % 2 = 0 then '{vip}'::text[] else '{}' end, jsonb_build_object('coupon', 'C' || g) \
         from generate_series(1, $2) g",
    )
    .bind(t.id)
    .bind(n as i64)
    .execute(pool)
    .await?;
    sqlx::query("analyze contacts").execute(pool).await?;

    // 1. preview
    let mut pre = Vec::new();
    let mut base = Vec::new();
    for _ in 0..3 {
        let s = Instant::now();
        let c = audience::count(pool, t.id, &model::Audience::All, true).await?;
        pre.push(s.elapsed().as_secs_f64() * 1000.0);
        anyhow::ensure!(c.eligible == n as i64, "preview counted {c:?}");
        let s = Instant::now();
        let _: i64 = sqlx::query_scalar("select count(*) from contacts where tenant_id = $1")
            .bind(t.id)
            .fetch_one(pool)
            .await?;
        base.push(s.elapsed().as_secs_f64() * 1000.0);
    }
    pre.sort_by(f64::total_cmp);
    base.sort_by(f64::total_cmp);

    // 2. freeze: baseline first (a plain copy into a same-shaped table)
    sqlx::query(
        "create table bench_copy (like campaign_recipients including defaults including generated including indexes) \
         with (fillfactor = 60)",
    )
    .execute(pool)
    .await?;
    let s = Instant::now();
    sqlx::query(
        "insert into bench_copy (id, campaign_id, tenant_id, contact_id, phone) \
         select gen_random_uuid(), gen_random_uuid(), tenant_id, id, phone from contacts where tenant_id = $1",
    )
    .bind(t.id)
    .execute(pool)
    .await?;
    let copy_secs = s.elapsed().as_secs_f64();
    let input: model::CampaignInput = serde_json::from_value(json!({
        "name": "Bench", "sender_phone_number_id": "1055", "template": "promo",
        "parameters": {"first_name": {"source": "first_name"}, "coupon": {"source": "attributes.coupon"}},
        "audience": {"type": "all"}, "rate_per_second": args.rate, "throughput": if args.rate > 80 { 1000 } else { 80 }}))?;
    let c = lifecycle::create(pool, t.id, &input).await?;
    let engine = Engine::connect(EngineConfig {
        redis_url: args.redis_url.clone(),
        prefix: prefix.to_string(),
        settings: EngineSettings::default(),
    })
    .await?;
    let s = Instant::now();
    let started = lifecycle::start(pool, &engine, t.id, c.id).await?;
    let start_secs = s.elapsed().as_secs_f64();
    eprintln!(
        "bench campaigns: frozen {} recipients in {start_secs:.2} s",
        started.recipients_count
    );

    // 3. sending, and (unless --no-callbacks) Meta's status webhooks into a real api-lite
    let (status_tx, status_rx) = mpsc::unbounded_channel();
    let (fake, accepted) = fake_whatsapp((!args.no_callbacks).then_some(status_tx)).await?;
    let callbacks = if args.no_callbacks {
        None
    } else {
        Some(start_callbacks(args, db_url, prefix, status_rx).await?)
    };
    let mut settings = jobs::Settings::default();
    settings.redis.prefix = prefix.to_string();
    settings.notifications.whatsapp_base_url = fake;
    let price = settings.campaigns.price("BR", "marketing");
    let currency = settings.campaigns.prices_currency.clone();
    let prices_date = settings.campaigns.prices_date.clone();
    let resources = Resources {
        engine: engine.clone(),
        pg: Some(pool.clone()),
        settings: Arc::new(settings),
    };
    let handler = KindHandler::new(Arc::new(Registry::builtin()), resources);
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let worker = tokio::spawn(jobs::engine::run_queue(
        engine.clone(),
        "campaigns",
        32,
        handler,
        async move {
            let _ = stop_rx.await;
        },
    ));
    tokio::time::sleep(Duration::from_secs(5)).await;
    let mut conn = rx::connect(&args.redis_url).await?;
    let rows0 = rows_written(pool).await?;
    let load0 = crate::load::loadavg();
    let (sent0, commits0, cmds0, cpu0) = (
        sent(pool).await?,
        commits(pool).await?,
        redis_commands(&mut conn).await?,
        self_cpu_secs(),
    );
    let servers0 = server_cpu(callbacks.as_ref());
    let t0 = Instant::now();
    let mut per_10s = Vec::new();
    let mut last = sent0;
    let answered0 = callbacks.as_ref().map(|c| {
        c.intake.take_latencies();
        c.intake.take_delays();
        c.intake.answered.load(Ordering::Relaxed)
    });
    let mut rss = vec![(
        callbacks.as_ref().map(|c| c.api.proc.rss()).unwrap_or(0),
        crate::procs::status_bytes(std::process::id(), "VmRSS:"),
    )];
    let mut cb_per_10s = Vec::new();
    let mut cb_last = answered0.unwrap_or(0);
    while t0.elapsed() < Duration::from_secs(args.secs) {
        tokio::time::sleep(Duration::from_secs(10)).await;
        let now = sent(pool).await?;
        per_10s.push((now - last) as f64 / 10.0);
        last = now;
        if let Some(c) = &callbacks {
            let a = c.intake.answered.load(Ordering::Relaxed);
            cb_per_10s.push((a - cb_last) as f64 / 10.0);
            cb_last = a;
            rss.push((
                c.api.proc.rss(),
                crate::procs::status_bytes(std::process::id(), "VmRSS:"),
            ));
        }
    }
    let secs = t0.elapsed().as_secs_f64();
    let servers1 = server_cpu(callbacks.as_ref());
    let cb_window = callbacks.as_ref().map(|c| {
        (
            c.intake.answered.load(Ordering::Relaxed) - answered0.unwrap_or(0),
            c.intake.take_latencies(),
            c.intake.take_delays(),
            c.intake.backlog(),
        )
    });
    let rows1 = rows_written(pool).await?;
    let load1 = crate::load::loadavg();
    let (sent1, commits1, cmds1, cpu1) = (
        sent(pool).await?,
        commits(pool).await?,
        redis_commands(&mut conn).await?,
        self_cpu_secs(),
    );
    lifecycle::act(pool, &engine, t.id, c.id, "pause").await?;
    let _ = stop_tx.send(());
    let _ = tokio::time::timeout(Duration::from_secs(30), worker).await;
    let msgs = (sent1 - sent0) as f64;
    let rate = msgs / secs;
    let dupes: i64 = sqlx::query_scalar(
        "select count(*) from (select phone from campaign_recipients where sent_at is not null group by phone having count(*) > 1) d",
    )
    .fetch_one(pool)
    .await?;

    println!(
        "## {} — campaigns (issue 15)\n",
        Utc::now().format("%Y-%m-%d %H:%M UTC")
    );
    println!(
        "- command: `bench campaigns --contacts {n} --rate {} --secs {}{}`; machine: {} CPUs; release build\n",
        args.rate,
        args.secs,
        if args.no_callbacks {
            " --no-callbacks".to_string()
        } else {
            format!(" --callback-connections {}", args.callback_connections)
        },
        crate::load::cpus()
    );
    println!("- load average (1, 5, 15 min) when the measured window opened; when it closed: {load0}; {load1}\n");
    println!("| measure | Tarefa | baseline (same run) | ratio |\n|---|---|---|---|");
    println!(
        "| preview of {n} contacts (counts + exclusions), median of 3, ms | {:.0} | {:.0} (`count(*)` of the same rows) | {:.1}× |",
        pre[1], base[1], pre[1] / base[1].max(0.001)
    );
    println!(
        "| start: audience frozen into {} recipients, s | {:.2} (preview counts + one `insert … select` with the exclusion rules) | {:.2} (plain `insert … select` into a same-shaped table) | {:.2}× |",
        started.recipients_count, start_secs, copy_secs, start_secs / copy_secs.max(0.001)
    );
    println!(
        "| sustained send rate over {secs:.0} s (after 5 s warm-up), msgs/s | {} ({} sent; per 10 s: {}) | {} (configured) | {:.3}× |",
        stats::thousands(rate),
        msgs,
        per_10s.iter().map(|r| format!("{r:.1}")).collect::<Vec<_>>().join(", "),
        args.rate,
        rate / args.rate as f64
    );
    println!(
        "| cost per message | {:.2} PostgreSQL commits and {:.1} rows written (this database only: the worker and api-lite); {:.1} Redis commands (INFO totals, shared server: an upper bound); {:.0} µs bench-process CPU (worker + fake) | | |",
        (commits1 - commits0) as f64 / msgs.max(1.0),
        (rows1 - rows0) as f64 / msgs.max(1.0),
        (cmds1 - cmds0) as f64 / msgs.max(1.0),
        (cpu1 - cpu0) * 1e6 / msgs.max(1.0)
    );
    let per_msg = |a: f64, b: f64| (b - a) * 1e6 / msgs.max(1.0);
    let (pg_us, redis_us, api_us) = (
        per_msg(servers0.0, servers1.0),
        per_msg(servers0.1, servers1.1),
        per_msg(servers0.2, servers1.2),
    );
    let total_us = pg_us + redis_us + api_us + (cpu1 - cpu0) * 1e6 / msgs.max(1.0);
    println!(
        "| CPU per message, µs: PostgreSQL (all `postgres` processes); Redis; api-lite (status webhooks); total with the bench process | {pg_us:.0}; {redis_us:.0}; {api_us:.0}; **{total_us:.0}** → at most {} msgs/s per fully used core | | |",
        stats::thousands(1e6 / total_us.max(1.0))
    );
    println!(
        "| price per message (Brazil, marketing, {prices_date}) | {currency} {price}; the {n} recipients: {currency} {:.2} | | |",
        price * n as f64
    );
    println!(
        "| contacts sent twice | {dupes} (fake accepted {} calls) | | |\n",
        accepted.load(Ordering::Relaxed)
    );
    if let (Some(c), Some((answered, lat, delays, backlog))) = (callbacks, cb_window) {
        report_callbacks(
            pool,
            c,
            answered,
            (lat, delays),
            backlog,
            secs,
            rate,
            &cb_per_10s,
            &rss,
        )
        .await?;
    }
    Ok(())
}

/// CPU seconds so far of every `postgres` and `redis-server` process, and of api-lite (when running).
/// The servers are shared with whatever else runs on the machine: upper bounds.
fn server_cpu(callbacks: Option<&Callbacks>) -> (f64, f64, f64) {
    (
        crate::load::cpu_of_processes("postgres"),
        crate::load::cpu_of_processes("redis-server"),
        callbacks.map(|c| c.api.proc.cpu_secs()).unwrap_or(0.0),
    )
}

/// api-lite serving `POST /v1/callbacks/whatsapp` and the posters feeding it.
struct Callbacks {
    api: crate::http::Api,
    intake: Arc<campaign_callbacks::Intake>,
}

const APP_SECRET: &str = "bench-meta-app-secret";

async fn start_callbacks(
    args: &CampaignsArgs,
    db_url: &str,
    prefix: &str,
    accepted: mpsc::UnboundedReceiver<(String, String)>,
) -> Result<Callbacks> {
    let spawner = crate::procs::Spawner {
        bin_dir: std::fs::canonicalize(&args.bin_dir)
            .with_context(|| format!("bin dir {}", args.bin_dir.display()))?,
        config_dir: std::fs::canonicalize(&args.config_dir)
            .with_context(|| format!("config dir {}", args.config_dir.display()))?,
        log_dir: crate::procs::log_dir(prefix)?,
        redis_url: args.redis_url.clone(),
        prefix: prefix.to_string(),
        database_url: db_url.to_string(),
    };
    // api-lite inherits the bench's environment: the secret it checks signatures with.
    std::env::set_var("TAREFA__NOTIFICATIONS__WHATSAPP_APP_SECRET", APP_SECRET);
    let api = crate::http::start_api(&spawner, "none").await?;
    let intake = campaign_callbacks::start(
        api.addr,
        APP_SECRET.to_string(),
        args.callback_connections,
        accepted,
    )
    .await?;
    Ok(Callbacks { api, intake })
}

#[allow(clippy::too_many_arguments)]
async fn report_callbacks(
    pool: &PgPool,
    c: Callbacks,
    answered: u64,
    (lat, delays): (Vec<f64>, Vec<f64>),
    backlog: usize,
    secs: f64,
    send_rate: f64,
    per_10s: &[f64],
    rss: &[(u64, u64)],
) -> Result<()> {
    // Drain what was offered, then check every sent message reached `read`.
    let drain = Instant::now();
    while c.intake.backlog() > 0 && drain.elapsed() < Duration::from_secs(120) {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let drained_secs = drain.elapsed().as_secs_f64();
    let (read, with_wamid): (i64, i64) = loop {
        let r: (i64, i64) = sqlx::query_as(
            "select count(*) filter (where status = 'read'), count(*) filter (where wamid is not null) from campaign_recipients",
        )
        .fetch_one(pool)
        .await?;
        if r.0 == r.1 || drain.elapsed() > Duration::from_secs(150) {
            break r;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    c.intake.stop();
    let errors = c.intake.errors.load(Ordering::Relaxed);
    let offered = c.intake.offered.load(Ordering::Relaxed);
    let peak = c.api.proc.peak_rss();
    c.api.proc.stop(Duration::from_secs(10)).await?;
    let mib = |b: u64| b as f64 / 1048576.0;
    let rate = answered as f64 / secs;
    let over_1s = lat.iter().filter(|&&ms| ms > 1000.0).count() as f64 / lat.len().max(1) as f64;
    let s = stats::summarize(lat);
    let d = stats::summarize(delays);
    println!(
        "| status webhooks answered by api-lite over the same {secs:.0} s, /s | {} (per 10 s: {}) | {} (3 × the measured send rate) | {:.3}× |",
        stats::thousands(rate),
        per_10s.iter().map(|r| format!("{r:.0}")).collect::<Vec<_>>().join(", "),
        stats::thousands(3.0 * send_rate),
        rate / (3.0 * send_rate).max(0.001)
    );
    println!(
        "| webhook answer time (signature check + the status statement), ms | p50 {:.1}, p99 {:.1}, max {:.1}; {:.2} % over 1 s | Meta's standard: p50 ≤ 250, under 1 % over 1 s | |",
        s.p50, s.p99, s.max, over_1s * 100.0
    );
    println!(
        "| time from offer to answer (the bench's queue included), ms | p50 {:.1}, p99 {:.1}, max {:.1} | | |",
        d.p50, d.p99, d.max
    );
    println!(
        "| webhooks refused or failed | {errors} of {offered} offered; backlog when the window closed: {backlog}, drained in {drained_secs:.1} s | 0 | |"
    );
    println!(
        "| recipients at `read` after the drain | {read} of {with_wamid} sent (10 % had their statuses out of order) | {with_wamid} | |"
    );
    println!(
        "| resident memory every 10 s, MiB: api-lite; bench process (worker + fake + posters) | {}; {} (api-lite peak {:.0}) | | |\n",
        rss.iter().map(|r| format!("{:.0}", mib(r.0))).collect::<Vec<_>>().join(", "),
        rss.iter().map(|r| format!("{:.0}", mib(r.1))).collect::<Vec<_>>().join(", "),
        mib(peak)
    );
    Ok(())
}

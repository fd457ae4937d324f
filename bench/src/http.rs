//! The HTTP bench of issue 3 (point 10): `diag.noop` end to end through a
//! real `api-lite` process (PostgreSQL for keys, the run's Redis prefix) and a
//! real `worker` process, to `succeeded`:
//!
//! - single requests (`POST /v1/jobs/diag.noop`) from concurrent keep-alive
//!   clients, with a worker running: intake rate, rate to `succeeded`, and
//!   enqueue→done latency (client send time → the job hash's `f`);
//! - batches of 1,000 (`POST /v1/jobs`): intake alone (no worker), in rounds
//!   alternating with direct `push_bulk` of the same jobs for the same tenant
//!   (the issue's target: HTTP ≥ 50% of direct), then end to end with a
//!   worker running.
//!
//! The client is a minimal HTTP/1.1 keep-alive client over tokio's TcpStream
//! with `httparse` (already in the tree through hyper), so the bench adds no
//! HTTP client crate and spends little CPU of its own on the shared 2 cores.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::engine::{push_bulk_n, Ctx};
use crate::load::cpu_of_processes;
use crate::procs::{free_port, Proc, Spawner};
use crate::report::{Report, Row, Verdict};
use crate::rx;
use crate::stats::{median, ratio, summarize, thousands, Summary};

/// How much HTTP work to do.
#[derive(Clone, Debug)]
pub struct HttpSizes {
    pub singles: usize,
    pub clients: usize,
    pub batches: usize,
    pub api_key: String,
}

/// Alternating rounds of direct `push_bulk` and HTTP batch intake.
const INTAKE_ROUNDS: usize = 3;

/// One keep-alive HTTP/1.1 connection.
pub struct HttpConn {
    stream: TcpStream,
    buf: Vec<u8>,
    host: String,
    auth: String,
}

impl HttpConn {
    pub async fn connect(addr: SocketAddr, api_key: &str) -> Result<HttpConn> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(HttpConn {
            stream,
            buf: Vec::with_capacity(64 * 1024),
            host: addr.to_string(),
            auth: format!("Bearer {api_key}"),
        })
    }

    /// Sends one request and reads its response: (status, body).
    pub async fn request(
        &mut self,
        method: &str,
        path: &str,
        body: Option<&[u8]>,
    ) -> Result<(u16, Vec<u8>)> {
        self.request_with(method, path, body, &[]).await
    }

    /// [`HttpConn::request`] with extra headers (e.g. a provider's signature).
    pub async fn request_with(
        &mut self,
        method: &str,
        path: &str,
        body: Option<&[u8]>,
        headers: &[(&str, &str)],
    ) -> Result<(u16, Vec<u8>)> {
        let mut out = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: {}\r\nAccept: application/json\r\n",
            self.host, self.auth
        );
        for (k, v) in headers {
            out.push_str(&format!("{k}: {v}\r\n"));
        }
        if let Some(b) = body {
            out.push_str(&format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n",
                b.len()
            ));
        }
        out.push_str("\r\n");
        let mut bytes = out.into_bytes();
        if let Some(b) = body {
            bytes.extend_from_slice(b);
        }
        self.stream.write_all(&bytes).await?;
        loop {
            let parsed = {
                let mut headers = [httparse::EMPTY_HEADER; 32];
                let mut resp = httparse::Response::new(&mut headers);
                match resp.parse(&self.buf)? {
                    httparse::Status::Complete(head) => {
                        let mut len = None;
                        for h in resp.headers.iter() {
                            if h.name.eq_ignore_ascii_case("content-length") {
                                len = std::str::from_utf8(h.value)
                                    .ok()
                                    .and_then(|v| v.trim().parse::<usize>().ok());
                            }
                            if h.name.eq_ignore_ascii_case("transfer-encoding") {
                                bail!("chunked responses are not supported by the bench client");
                            }
                        }
                        Some((head, resp.code.unwrap_or(0), len.unwrap_or(0)))
                    }
                    httparse::Status::Partial => None,
                }
            };
            match parsed {
                Some((head, code, len)) => {
                    while self.buf.len() < head + len {
                        self.read_more().await?;
                    }
                    let body = self.buf[head..head + len].to_vec();
                    self.buf.drain(..head + len);
                    return Ok((code, body));
                }
                None => self.read_more().await?,
            }
        }
    }

    async fn read_more(&mut self) -> Result<()> {
        self.buf.reserve(64 * 1024);
        let n = self.stream.read_buf(&mut self.buf).await?;
        if n == 0 {
            bail!("server closed the connection");
        }
        Ok(())
    }
}

/// A started api-lite and the address it serves.
pub struct Api {
    pub proc: Proc,
    pub addr: SocketAddr,
}

/// Starts `api-lite` on a free loopback port and waits for `/readyz`.
pub async fn start_api(spawner: &Spawner, api_key: &str) -> Result<Api> {
    let addr: SocketAddr = format!("127.0.0.1:{}", free_port()?).parse()?;
    let mut proc = spawner.api_lite(&addr.to_string())?;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        proc.check_alive()?;
        if let Ok(mut c) = HttpConn::connect(addr, api_key).await {
            if let Ok((200, _)) = c.request("GET", "/readyz", None).await {
                return Ok(Api { proc, addr });
            }
        }
        if Instant::now() > deadline {
            bail!("api-lite not ready within 30 s on {addr}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// One accepted job: its id and when the client sent the request (µs since the epoch).
struct Sent {
    id: String,
    sent_us: i64,
}

struct Singles {
    sent: Vec<Sent>,
    req_lat_ms: Vec<f64>,
    rejected: usize,
    wall: Duration,
}

/// `n` single POSTs from `clients` keep-alive connections.
async fn post_singles(addr: SocketAddr, key: &str, n: usize, clients: usize) -> Result<Singles> {
    let next = Arc::new(AtomicUsize::new(0));
    let mut conns = Vec::new();
    for _ in 0..clients {
        conns.push(HttpConn::connect(addr, key).await?);
    }
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for mut c in conns {
        let next = next.clone();
        tasks.spawn(async move {
            let (mut sent, mut lat, mut rejected) = (Vec::new(), Vec::new(), 0usize);
            while next.fetch_add(1, Ordering::Relaxed) < n {
                let sent_us = rx::now_us();
                let t = Instant::now();
                let (code, body) = c
                    .request("POST", "/v1/jobs/diag.noop", Some(br#"{"payload":{}}"#))
                    .await?;
                lat.push(t.elapsed().as_secs_f64() * 1e3);
                let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
                match (code, v["id"].as_str()) {
                    (202, Some(id)) => sent.push(Sent {
                        id: id.to_string(),
                        sent_us,
                    }),
                    _ => rejected += 1,
                }
            }
            Ok::<_, anyhow::Error>((sent, lat, rejected))
        });
    }
    let (mut sent, mut req_lat_ms, mut rejected) = (Vec::new(), Vec::new(), 0);
    while let Some(r) = tasks.join_next().await {
        let (s, l, x) = r??;
        sent.extend(s);
        req_lat_ms.extend(l);
        rejected += x;
    }
    let wall = start.elapsed();
    Ok(Singles {
        sent,
        req_lat_ms,
        rejected,
        wall,
    })
}

/// The body of one batch: 1,000 `diag.noop` items.
fn batch_body() -> Vec<u8> {
    let items: Vec<serde_json::Value> = (0..1_000)
        .map(|_| serde_json::json!({ "kind": "diag.noop", "payload": {} }))
        .collect();
    serde_json::to_vec(&items).expect("json")
}

struct Batches {
    sent: Vec<Sent>,
    req_lat_ms: Vec<f64>,
    rejected: usize,
    wall: Duration,
}

/// `n` batches of 1,000 from one client, one after the other.
async fn post_batches(addr: SocketAddr, key: &str, n: usize) -> Result<Batches> {
    let body = batch_body();
    let mut c = HttpConn::connect(addr, key).await?;
    let mut out = Batches {
        sent: Vec::with_capacity(n * 1_000),
        req_lat_ms: Vec::with_capacity(n),
        rejected: 0,
        wall: Duration::ZERO,
    };
    let start = Instant::now();
    for _ in 0..n {
        let sent_us = rx::now_us();
        let t = Instant::now();
        let (code, resp) = c.request("POST", "/v1/jobs", Some(&body)).await?;
        out.req_lat_ms.push(t.elapsed().as_secs_f64() * 1e3);
        if code != 200 {
            bail!("batch answered {code}: {}", String::from_utf8_lossy(&resp));
        }
        let v: serde_json::Value = serde_json::from_slice(&resp).context("batch response")?;
        for r in v["results"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            match r["id"].as_str() {
                Some(id) => out.sent.push(Sent {
                    id: id.to_string(),
                    sent_us,
                }),
                None => out.rejected += 1,
            }
        }
    }
    out.wall = start.elapsed();
    Ok(out)
}

/// Rate to `succeeded` (first send → last `f`) and send → `f` latency, ms.
async fn to_done(ctx: &mut Ctx, sent: &[Sent]) -> Result<(f64, Summary, usize)> {
    let ids: Vec<String> = sent.iter().map(|s| s.id.clone()).collect();
    let times = rx::job_times(&mut ctx.conn, &ctx.keys, &ids).await?;
    let ok = times
        .iter()
        .filter(|t| t.status.as_deref() == Some("succeeded"))
        .count();
    let lat: Vec<f64> = sent
        .iter()
        .zip(&times)
        .filter_map(|(s, t)| Some((t.finished? * 1000 - s.sent_us) as f64 / 1000.0))
        .collect();
    let first = sent.iter().map(|s| s.sent_us).min().unwrap_or(0);
    let last = times.iter().filter_map(|t| t.finished).max().unwrap_or(0) * 1000;
    let rate = sent.len() as f64 / ((last - first).max(1) as f64 / 1e6);
    Ok((rate, summarize(lat), ok))
}

async fn worker_ready(ctx: &mut Ctx) -> Result<Vec<Proc>> {
    let mut p = ctx.spawner.worker(1, &[])?;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let n: usize = redis::cmd("ZCARD")
            .arg(ctx.keys.workers())
            .query_async(&mut ctx.conn)
            .await?;
        if n >= 1 {
            tokio::time::sleep(Duration::from_millis(300)).await;
            return Ok(vec![p]);
        }
        p.check_alive()?;
        if Instant::now() > deadline {
            bail!("worker did not heartbeat within 30 s");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn wait_succeeded(ctx: &mut Ctx, n: usize) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(120 + (n / 2_000) as u64);
    loop {
        let (ok, dead): (usize, usize) = redis::pipe()
            .cmd("LLEN")
            .arg(ctx.keys.succeeded())
            .cmd("ZCARD")
            .arg(ctx.keys.dead())
            .query_async(&mut ctx.conn)
            .await?;
        if ok + dead >= n {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("only {ok} of {n} finished");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn stop(procs: Vec<Proc>) -> Result<()> {
    for p in procs {
        p.stop(Duration::from_secs(30)).await?;
    }
    Ok(())
}

/// Runs the HTTP benches; needs (a)'s direct rate in `ctx.direct_bulk_rate`.
pub async fn run(ctx: &mut Ctx, sizes: &HttpSizes, report: &mut Report) -> Result<()> {
    ctx.cleanup().await?;
    let api = start_api(&ctx.spawner, &sizes.api_key).await?;
    let key = sizes.api_key.as_str();
    let sec = "HTTP (issue 3, point 10)";

    // Singles, end to end with one worker.
    let workers = worker_ready(ctx).await?;
    eprintln!(
        "bench: http: {} single requests from {} clients…",
        sizes.singles, sizes.clients
    );
    let cpu0 = (api.proc.cpu_secs(), cpu_of_processes("postgres"));
    let s = post_singles(api.addr, key, sizes.singles, sizes.clients).await?;
    let s_cpu = (
        (api.proc.cpu_secs() - cpu0.0) * 1e6 / sizes.singles as f64,
        (cpu_of_processes("postgres") - cpu0.1) * 1e6 / sizes.singles as f64,
    );
    wait_succeeded(ctx, s.sent.len()).await?;
    stop(workers).await?;
    let (s_rate, s_lat, s_ok) = to_done(ctx, &s.sent).await?;
    let s_req = summarize(s.req_lat_ms.clone());
    let s_intake = s.sent.len() as f64 / s.wall.as_secs_f64();
    eprintln!("bench: http:   singles {s_intake:.0} req/s, {s_rate:.0} jobs/s to succeeded");
    ctx.cleanup().await?;

    // Batch intake alone (nothing consumes) against direct `push_bulk` of the same
    // jobs for the same tenant, alternating, same shape as (a): one caller, 1,000 per round trip.
    let warm = post_batches(api.addr, key, 1).await?;
    let tenant: String = redis::cmd("HGET")
        .arg(
            ctx.keys.job(
                &warm
                    .sent
                    .first()
                    .context("warm-up batch accepted nothing")?
                    .id,
            ),
        )
        .arg("t")
        .query_async(&mut ctx.conn)
        .await?;
    let jobs_n = sizes.batches * 1_000;
    let (mut direct_rates, mut http_rates, mut b_lat) = (Vec::new(), Vec::new(), Vec::new());
    let mut b_rejected = 0;
    let (mut b_api_cpu, mut b_pg_cpu) = (0.0, 0.0);
    for round in 1..=INTAKE_ROUNDS {
        ctx.cleanup().await?;
        let (_, d) = push_bulk_n(&ctx.engine, jobs_n, &tenant).await?;
        direct_rates.push(jobs_n as f64 / d.as_secs_f64());
        ctx.cleanup().await?;
        let cpu0 = (api.proc.cpu_secs(), cpu_of_processes("postgres"));
        let b = post_batches(api.addr, key, sizes.batches).await?;
        b_api_cpu += api.proc.cpu_secs() - cpu0.0;
        b_pg_cpu += cpu_of_processes("postgres") - cpu0.1;
        http_rates.push(b.sent.len() as f64 / b.wall.as_secs_f64());
        b_lat.extend(b.req_lat_ms);
        b_rejected += b.rejected;
        eprintln!(
            "bench: http: intake round {round}: direct push_bulk {:.0}/s, HTTP batches {:.0}/s",
            direct_rates.last().unwrap_or(&0.0),
            http_rates.last().unwrap_or(&0.0)
        );
    }
    ctx.cleanup().await?;
    // Two callers at once, each half the jobs.
    let t = Instant::now();
    let (e1, e2) = (ctx.engine.clone(), ctx.engine.clone());
    let (t1, t2) = (tenant.clone(), tenant.clone());
    let (r1, r2) = tokio::join!(
        push_bulk_n(&e1, jobs_n / 2, &t1),
        push_bulk_n(&e2, jobs_n / 2, &t2)
    );
    r1?;
    r2?;
    let direct2 = (jobs_n / 2 * 2) as f64 / t.elapsed().as_secs_f64();
    ctx.cleanup().await?;
    let t = Instant::now();
    let (h1, h2) = tokio::join!(
        post_batches(api.addr, key, sizes.batches / 2),
        post_batches(api.addr, key, sizes.batches / 2)
    );
    let http2 = (h1?.sent.len() + h2?.sent.len()) as f64 / t.elapsed().as_secs_f64();
    ctx.cleanup().await?;
    let (direct, b_intake) = (median(&direct_rates), median(&http_rates));
    let b_req = summarize(b_lat);

    // Batches end to end with one worker.
    let workers = worker_ready(ctx).await?;
    eprintln!(
        "bench: http: {} batches of 1,000 with a worker running…",
        sizes.batches
    );
    let be = post_batches(api.addr, key, sizes.batches).await?;
    wait_succeeded(ctx, be.sent.len()).await?;
    stop(workers).await?;
    let (be_rate, be_lat, be_ok) = to_done(ctx, &be.sent).await?;
    let be_intake = be.sent.len() as f64 / be.wall.as_secs_f64();
    ctx.cleanup().await?;
    api.proc.stop(Duration::from_secs(30)).await?;

    let x = b_intake / direct;
    report.row(Row {
        id: "http".into(),
        measure: "batch intake (`POST /v1/jobs`, 1,000 per request, 1 client), jobs/s".into(),
        tarefa: thousands(b_intake),
        baseline: format!(
            "{} (direct `push_bulk`, same tenant, alternating rounds)",
            thousands(direct)
        ),
        ratio: ratio(x),
        target: "≥ 0.50×".into(),
        verdict: Verdict::from(x >= 0.5 && b_rejected == 0),
    });
    report.row(Row {
        id: "http".into(),
        measure: "batches end to end (1 client, 1 worker) to `succeeded`, jobs/s".into(),
        tarefa: thousands(be_rate),
        baseline: "".into(),
        ratio: "".into(),
        target: "".into(),
        verdict: Verdict::Info,
    });
    report.row(Row {
        id: "http".into(),
        measure: format!(
            "single requests ({} clients, 1 worker) to `succeeded`, jobs/s; enqueue→done p50 / p99 ms",
            sizes.clients
        ),
        tarefa: format!("{}; {:.1} / {:.1}", thousands(s_rate), s_lat.p50, s_lat.p99),
        baseline: "".into(),
        ratio: "".into(),
        target: "".into(),
        verdict: Verdict::Info,
    });
    report.detail(
        sec,
        format!(
            "singles: {} `POST /v1/jobs/diag.noop` from {} keep-alive clients in {:.2} s = {} req/s accepted ({} rejected); request latency p50 {:.2} ms, p99 {:.2} ms; {} of {} ended `succeeded`",
            thousands(sizes.singles as f64),
            sizes.clients,
            s.wall.as_secs_f64(),
            thousands(s_intake),
            s.rejected,
            s_req.p50,
            s_req.p99,
            thousands(s_ok as f64),
            thousands(s.sent.len() as f64),
        ),
    );
    report.detail(
        sec,
        format!(
            "singles enqueue→done (client send → job hash `f`): p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; first send → last finish {} jobs/s",
            s_lat.p50, s_lat.p99, s_lat.max, thousands(s_rate)
        ),
    );
    report.detail(
        sec,
        format!(
            "single-request intake vs direct `push_bulk`: {} (a single push costs one HTTP request, one PostgreSQL key lookup + an async `last_used` UPDATE, one EVALSHA); CPU per request: api-lite {:.0} µs, PostgreSQL {:.0} µs",
            ratio(s_intake / direct),
            s_cpu.0,
            s_cpu.1
        ),
    );
    let list = |v: &[f64]| {
        v.iter()
            .map(|r| thousands(*r))
            .collect::<Vec<_>>()
            .join(", ")
    };
    report.detail(
        sec,
        format!(
            "batch intake only (no worker), {INTAKE_ROUNDS} alternating rounds of {} jobs: HTTP {} jobs/s, direct `push_bulk` {} jobs/s (medians {} vs {}; (a) measured {}); request latency p50 {:.1} ms, p99 {:.1} ms; {} items rejected; HTTP overhead ≈ {:.1} µs/job ({:.0}% of the direct rate kept)",
            thousands(jobs_n as f64),
            list(&http_rates),
            list(&direct_rates),
            thousands(b_intake),
            thousands(direct),
            thousands(ctx.direct_bulk_rate),
            b_req.p50,
            b_req.p99,
            b_rejected,
            (1.0 / b_intake - 1.0 / direct) * 1e6,
            x * 100.0
        ),
    );
    report.detail(
        sec,
        format!(
            "batch intake CPU per job: api-lite {:.1} µs, PostgreSQL {:.2} µs",
            b_api_cpu * 1e6 / (INTAKE_ROUNDS * jobs_n) as f64,
            b_pg_cpu * 1e6 / (INTAKE_ROUNDS * jobs_n) as f64
        ),
    );
    report.detail(
        sec,
        format!(
            "two callers at once: HTTP {} jobs/s vs direct `push_bulk` {} jobs/s ({})",
            thousands(http2),
            thousands(direct2),
            ratio(http2 / direct2)
        ),
    );
    report.detail(
        sec,
        format!(
            "batches with a worker running: intake {} jobs/s; first send → last finish {} jobs/s; {} of {} `succeeded`; send→done p50 {:.0} ms, p99 {:.0} ms (a backlog builds while intake outruns the worker, so this latency is queueing time)",
            thousands(be_intake),
            thousands(be_rate),
            thousands(be_ok as f64),
            thousands(be.sent.len() as f64),
            be_lat.p50,
            be_lat.p99
        ),
    );
    report.detail(
        sec,
        "api-lite and the worker run from the release build with `RUST_LOG=warn`; API keys are checked against PostgreSQL (`tarefa_bench`) on every request",
    );
    Ok(())
}

//! Raw Redis helpers for the benches: connections with bench-sized timeouts,
//! server snapshots (INFO commandstats + cpu + memory in one call), key
//! cleanup by prefix, and bulk reads of job-hash fields.
//!
//! Commands issued by the bench itself while a phase is measured (its INFO
//! snapshots and completion polls) are counted by [`Probe`] so the report can
//! subtract them from the server's numbers.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use anyhow::{Context, Result};
use redis::aio::MultiplexedConnection;

/// A multiplexed connection whose replies may take long (big pipelines, DELs).
pub async fn connect(url: &str) -> Result<MultiplexedConnection> {
    let client = redis::Client::open(url)?;
    let cfg = redis::AsyncConnectionConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(5)))
        .set_response_timeout(Some(Duration::from_secs(300)));
    client
        .get_multiplexed_async_connection_with_config(&cfg)
        .await
        .with_context(|| format!("connecting to {url}"))
}

/// `INFO <sections>` as a flat map.
pub async fn info(
    conn: &mut MultiplexedConnection,
    sections: &[&str],
) -> Result<HashMap<String, String>> {
    let mut cmd = redis::cmd("INFO");
    for s in sections {
        cmd.arg(*s);
    }
    let text: String = cmd.query_async(conn).await?;
    Ok(text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect())
}

/// Calls and µs per command name (`cmdstat_<name>`), commands run inside Lua included.
#[derive(Clone, Debug, Default)]
pub struct CmdStats {
    pub by_cmd: BTreeMap<String, (u64, u64)>,
}

impl CmdStats {
    fn parse(info: &HashMap<String, String>) -> CmdStats {
        let mut by_cmd = BTreeMap::new();
        for (k, v) in info {
            let Some(name) = k.strip_prefix("cmdstat_") else {
                continue;
            };
            let mut calls = 0;
            let mut usec = 0;
            for part in v.split(',') {
                match part.split_once('=') {
                    Some(("calls", x)) => calls = x.parse().unwrap_or(0),
                    Some(("usec", x)) => usec = x.parse().unwrap_or(0),
                    _ => {}
                }
            }
            by_cmd.insert(name.to_string(), (calls, usec));
        }
        CmdStats { by_cmd }
    }

    /// What happened between `before` and `self`.
    pub fn since(&self, before: &CmdStats) -> CmdStats {
        let by_cmd = self
            .by_cmd
            .iter()
            .map(|(k, (c, u))| {
                let (c0, u0) = before.by_cmd.get(k).copied().unwrap_or((0, 0));
                (k.clone(), (c.saturating_sub(c0), u.saturating_sub(u0)))
            })
            .filter(|(_, (c, _))| *c > 0)
            .collect();
        CmdStats { by_cmd }
    }

    /// Adds two diffs (e.g. the enqueue phase and the drain phase).
    pub fn plus(&self, other: &CmdStats) -> CmdStats {
        let mut by_cmd = self.by_cmd.clone();
        for (k, (c, u)) in &other.by_cmd {
            let e = by_cmd.entry(k.clone()).or_insert((0, 0));
            e.0 += c;
            e.1 += u;
        }
        CmdStats { by_cmd }
    }

    /// Removes the bench's own calls (see [`Probe`]).
    pub fn without(&self, probe: &Probe) -> CmdStats {
        let mut by_cmd = self.by_cmd.clone();
        for (k, n) in &probe.calls {
            if let Some(e) = by_cmd.get_mut(k) {
                e.0 = e.0.saturating_sub(*n);
            }
        }
        by_cmd.retain(|_, (c, _)| *c > 0);
        CmdStats { by_cmd }
    }

    pub fn calls(&self) -> u64 {
        self.by_cmd.values().map(|(c, _)| c).sum()
    }

    pub fn usec_of(&self, cmd: &str) -> u64 {
        self.by_cmd.get(cmd).map(|(_, u)| *u).unwrap_or(0)
    }

    /// `hset 5.1 µs, hmget 2.0 µs, …` per job, most time first, EVALSHA itself left out.
    pub fn usec_breakdown(&self, jobs: f64, top: usize) -> String {
        let mut v: Vec<(&String, &(u64, u64))> = self
            .by_cmd
            .iter()
            .filter(|(k, _)| *k != "evalsha")
            .collect();
        v.sort_by(|a, b| b.1 .1.cmp(&a.1 .1).then(a.0.cmp(b.0)));
        v.iter()
            .take(top)
            .map(|(k, (_, u))| format!("{k} {:.2} µs", *u as f64 / jobs))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// EVALSHA usec minus the usec of every other command except those only
    /// ever sent directly (BLPOP/BRPOP waits, stats HINCRBYFLOAT, INFO, CONFIG):
    /// roughly the time spent in the Lua interpreter and argument handling.
    pub fn lua_overhead_usec(&self) -> f64 {
        let direct = |k: &str| {
            matches!(k, "evalsha" | "blpop" | "brpop" | "hincrbyfloat" | "info")
                || k.starts_with("config")
                || k.starts_with("script")
        };
        let nested: u64 = self
            .by_cmd
            .iter()
            .filter(|(k, _)| !direct(k))
            .map(|(_, (_, u))| u)
            .sum();
        self.usec_of("evalsha") as f64 - nested as f64
    }

    /// `evalsha 1.2, hset 2.0, …` per job, most called first.
    pub fn per_job_breakdown(&self, jobs: f64, top: usize) -> String {
        let mut v: Vec<(&String, &(u64, u64))> = self.by_cmd.iter().collect();
        v.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then(a.0.cmp(b.0)));
        v.iter()
            .take(top)
            .map(|(k, (c, _))| format!("{k} {:.3}", *c as f64 / jobs))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The bench's own commands during a measured phase, by commandstats name.
#[derive(Clone, Debug, Default)]
pub struct Probe {
    pub calls: BTreeMap<String, u64>,
}

impl Probe {
    pub fn count(&mut self, cmd: &str, n: u64) {
        *self.calls.entry(cmd.to_string()).or_default() += n;
    }
}

/// Server counters at one instant.
#[derive(Clone, Debug, Default)]
pub struct Snap {
    pub cmd: CmdStats,
    /// used_cpu_sys + used_cpu_user, seconds (the whole server process).
    pub cpu_secs: f64,
    pub used_memory: u64,
    pub used_memory_rss: u64,
}

impl Snap {
    pub async fn take(conn: &mut MultiplexedConnection, probe: &mut Probe) -> Result<Snap> {
        let i = info(conn, &["commandstats", "cpu", "memory"]).await?;
        probe.count("info", 1);
        let f = |k: &str| i.get(k).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
        Ok(Snap {
            cmd: CmdStats::parse(&i),
            cpu_secs: f("used_cpu_sys") + f("used_cpu_user"),
            used_memory: f("used_memory") as u64,
            used_memory_rss: f("used_memory_rss") as u64,
        })
    }
}

/// `CONFIG RESETSTAT` (commandstats back to zero; other clients' stats too).
pub async fn reset_stats(conn: &mut MultiplexedConnection) -> Result<()> {
    redis::cmd("CONFIG")
        .arg("RESETSTAT")
        .query_async::<()>(conn)
        .await?;
    Ok(())
}

/// Commands the whole server processed in `window` (to see whether it is idle).
pub async fn background_commands(
    conn: &mut MultiplexedConnection,
    window: Duration,
) -> Result<u64> {
    let total = |i: &HashMap<String, String>| {
        i.get("total_commands_processed")
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let a = total(&info(conn, &["stats"]).await?);
    tokio::time::sleep(window).await;
    let b = total(&info(conn, &["stats"]).await?);
    // Our own second INFO is counted.
    Ok(b.saturating_sub(a).saturating_sub(1))
}

/// Deletes every key of `pattern` (SCAN + DEL, not UNLINK, so memory is
/// freed before the next measurement). Returns how many were deleted.
pub async fn delete_matching(conn: &mut MultiplexedConnection, pattern: &str) -> Result<u64> {
    let mut cursor: u64 = 0;
    let mut deleted = 0;
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(pattern)
            .arg("COUNT")
            .arg(10_000)
            .query_async(conn)
            .await?;
        for chunk in keys.chunks(1_000) {
            let n: u64 = redis::cmd("DEL").arg(chunk).query_async(conn).await?;
            deleted += n;
        }
        if next == 0 {
            return Ok(deleted);
        }
        cursor = next;
    }
}

/// Every key of one bench run: the engine's `{<prefix>:<queue>}:…` and the raw baselines' `{<prefix>:raw}:…`.
pub fn run_pattern(prefix: &str) -> String {
    format!("{{{prefix}:*")
}

/// Fields of a job hash as integers (ms timestamps) plus its status.
#[derive(Clone, Debug, Default)]
pub struct JobTimes {
    pub status: Option<String>,
    pub created: Option<i64>,
    pub started: Option<i64>,
    pub finished: Option<i64>,
}

/// Reads `s`, `c`, `st`, `f` of many job hashes, 2,000 per pipeline.
pub async fn job_times(
    conn: &mut MultiplexedConnection,
    keys: &jobs::engine::keys::QueueKeys,
    ids: &[String],
) -> Result<Vec<JobTimes>> {
    use jobs::engine::keys::field;
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(2_000) {
        let mut pipe = redis::pipe();
        for id in chunk {
            pipe.cmd("HMGET")
                .arg(keys.job(id))
                .arg(field::STATUS)
                .arg(field::CREATED)
                .arg(field::STARTED)
                .arg(field::FINISHED);
        }
        type Row = (Option<String>, Option<i64>, Option<i64>, Option<i64>);
        let rows: Vec<Row> = pipe.query_async(conn).await?;
        out.extend(rows.into_iter().map(|(s, c, st, f)| JobTimes {
            status: s,
            created: c,
            started: st,
            finished: f,
        }));
    }
    Ok(out)
}

/// Redis version string.
pub async fn version(conn: &mut MultiplexedConnection) -> Result<String> {
    let i = info(conn, &["server"]).await?;
    Ok(i.get("redis_version")
        .cloned()
        .unwrap_or_else(|| "?".into()))
}

/// Milliseconds since the Unix epoch (the clock Redis' TIME also reads on this machine).
pub fn now_ms() -> i64 {
    now_us() / 1000
}

pub fn now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

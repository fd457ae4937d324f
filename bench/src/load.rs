//! How much of the machine other processes took during a phase.
//!
//! The machine is shared (other sessions compile and run tests on it), so each
//! phase reports the CPU that was neither Redis' nor the bench's own:
//! busy time of all CPUs (`/proc/stat`) minus Redis' `used_cpu_sys +
//! used_cpu_user` minus this process and its reaped children (`/proc/self/stat`
//! utime + stime + cutime + cstime) minus PostgreSQL's backends (api-lite's
//! key lookups are ours; another session's queries would be hidden too).
//! Phases end after their worker and api-lite processes were stopped and
//! reaped, so their CPU is counted as ours.

use std::time::{Duration, Instant};

use anyhow::Result;
use redis::aio::MultiplexedConnection;

use crate::rx;

/// Counters at one instant.
#[derive(Clone, Copy, Debug)]
pub struct LoadSnap {
    at: Instant,
    busy_secs: f64,
    own_secs: f64,
    redis_secs: f64,
}

fn hz() -> f64 {
    // SAFETY: sysconf has no preconditions.
    (unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64).max(1.0)
}

pub fn cpus() -> f64 {
    // SAFETY: sysconf has no preconditions.
    (unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) } as f64).max(1.0)
}

/// The 1-, 5- and 15-minute load averages (`/proc/loadavg`), as written there.
pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Busy seconds of all CPUs since boot: user + nice + system + irq + softirq + steal.
fn machine_busy() -> f64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let Some(line) = stat.lines().find(|l| l.starts_with("cpu ")) else {
        return f64::NAN;
    };
    let v: Vec<f64> = line
        .split_whitespace()
        .skip(1)
        .map(|x| x.parse().unwrap_or(0.0))
        .collect();
    let at = |i: usize| v.get(i).copied().unwrap_or(0.0);
    (at(0) + at(1) + at(2) + at(5) + at(6) + at(7)) / hz()
}

/// CPU seconds of every live process whose command name is `name`.
pub fn cpu_of_processes(name: &str) -> f64 {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0.0;
    };
    let mut ticks = 0.0;
    for e in dir.flatten() {
        let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else {
            continue;
        };
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        if &stat[open + 1..close] != name {
            continue;
        }
        let f: Vec<f64> = stat[close + 1..]
            .split_whitespace()
            .map(|x| x.parse().unwrap_or(0.0))
            .collect();
        ticks += f.get(11).copied().unwrap_or(0.0) + f.get(12).copied().unwrap_or(0.0);
    }
    ticks / hz()
}

/// This process plus its reaped children, seconds.
fn own() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return f64::NAN;
    };
    let f: Vec<f64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0.0))
        .collect();
    // Fields 14-17 (utime, stime, cutime, cstime) are 11-14 after the `)`.
    let at = |i: usize| f.get(i).copied().unwrap_or(0.0);
    (at(11) + at(12) + at(13) + at(14)) / hz()
}

impl LoadSnap {
    pub async fn take(conn: &mut MultiplexedConnection) -> Result<LoadSnap> {
        let i = rx::info(conn, &["cpu"]).await?;
        let f = |k: &str| i.get(k).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
        Ok(LoadSnap {
            at: Instant::now(),
            busy_secs: machine_busy(),
            own_secs: own() + cpu_of_processes("postgres"),
            redis_secs: f("used_cpu_sys") + f("used_cpu_user"),
        })
    }

    /// Share of the whole machine (0..1) other processes used since `before`.
    pub fn foreign_since(&self, before: &LoadSnap) -> f64 {
        let wall = (self.at - before.at).as_secs_f64().max(1e-3);
        let busy = self.busy_secs - before.busy_secs;
        let ours = (self.own_secs - before.own_secs) + (self.redis_secs - before.redis_secs);
        ((busy - ours) / (wall * cpus())).max(0.0)
    }
}

/// Waits (up to `max_wait`) for a 2-second window in which other processes
/// use less than `threshold` of the machine and other Redis clients send
/// fewer than 50 commands/s; returns the last CPU share seen.
pub async fn wait_idle(
    conn: &mut MultiplexedConnection,
    threshold: f64,
    max_wait: Duration,
) -> Result<f64> {
    let deadline = Instant::now() + max_wait;
    loop {
        let a = LoadSnap::take(conn).await?;
        let c0 = total_commands(conn).await?;
        tokio::time::sleep(Duration::from_secs(2)).await;
        // Our own calls in the window: this INFO stats and the LoadSnap INFO below.
        let others = total_commands(conn).await?.saturating_sub(c0 + 1) as f64 / 2.0;
        let share = LoadSnap::take(conn).await?.foreign_since(&a);
        if (share < threshold && others < 50.0) || Instant::now() >= deadline {
            return Ok(share);
        }
        eprintln!(
            "bench: other processes use {:.0}% of the machine and send {others:.0} Redis commands/s; waiting for quiet…",
            share * 100.0
        );
    }
}

async fn total_commands(conn: &mut MultiplexedConnection) -> Result<u64> {
    let i = rx::info(conn, &["stats"]).await?;
    Ok(i.get("total_commands_processed")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0))
}

//! Prometheus text rendering of the engine's numbers: queue depth gauges from
//! `counts()` and the cumulative outcome counters and latency histograms from
//! `stats()`. Pure: numbers in, exposition text out. Families are written
//! whole (every queue's samples under one HELP/TYPE), as the format requires.

use std::fmt::Write;

use jobs::engine::{JobStatus, KindHistogram, QueueCounts, QueueStats};

/// `\`, `"` and newlines escaped for a label value.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn labels(pairs: &[(&str, &str)]) -> String {
    let inner: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
        .collect();
    format!("{{{}}}", inner.join(","))
}

fn num(v: f64) -> String {
    if v.is_infinite() {
        if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        }
    } else {
        format!("{v}")
    }
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

fn sample(out: &mut String, name: &str, pairs: &[(&str, &str)], value: f64) {
    let _ = writeln!(out, "{name}{} {}", labels(pairs), num(value));
}

/// `tarefa_queue_jobs{queue,state}`, `tarefa_queue_paused`, `tarefa_queue_oldest_waiting_seconds`.
pub fn render_counts(out: &mut String, counts: &[QueueCounts]) {
    family(
        out,
        "tarefa_queue_jobs",
        "gauge",
        "Jobs in each state, per queue.",
    );
    for c in counts {
        for s in JobStatus::ALL {
            sample(
                out,
                "tarefa_queue_jobs",
                &[("queue", &c.queue), ("state", s.as_str())],
                c.count(s) as f64,
            );
        }
    }
    family(
        out,
        "tarefa_queue_paused",
        "gauge",
        "1 when the queue is paused.",
    );
    for c in counts {
        sample(
            out,
            "tarefa_queue_paused",
            &[("queue", &c.queue)],
            if c.paused { 1.0 } else { 0.0 },
        );
    }
    family(
        out,
        "tarefa_queue_oldest_waiting_seconds",
        "gauge",
        "Age of the oldest due job no worker has taken yet (0 when none).",
    );
    for c in counts {
        let age = c.oldest_waiting_ms.unwrap_or(0) as f64 / 1000.0;
        sample(
            out,
            "tarefa_queue_oldest_waiting_seconds",
            &[("queue", &c.queue)],
            age,
        );
    }
}

/// `tarefa_workers_alive{queue}`: workers that heartbeated recently (the "no live worker" alert).
pub fn render_workers(out: &mut String, alive: &[(String, usize)]) {
    family(
        out,
        "tarefa_workers_alive",
        "gauge",
        "Workers of the queue that heartbeated within three lease periods.",
    );
    for (queue, n) in alive {
        sample(out, "tarefa_workers_alive", &[("queue", queue)], *n as f64);
    }
}

/// `tarefa_concurrency_in_use{queue,key}` and `tarefa_concurrency_parked{queue,key}`:
/// global concurrency slots held and jobs waiting for one (engine `concurrency`).
pub fn render_concurrency(out: &mut String, uses: &[(String, Vec<jobs::engine::ConcurrencyUse>)]) {
    family(
        out,
        "tarefa_concurrency_in_use",
        "gauge",
        "Global concurrency slots held (claimed or running jobs) per queue and key.",
    );
    for (queue, us) in uses {
        for u in us {
            sample(
                out,
                "tarefa_concurrency_in_use",
                &[("queue", queue), ("key", &u.key)],
                u.in_use as f64,
            );
        }
    }
    family(
        out,
        "tarefa_concurrency_parked",
        "gauge",
        "Jobs waiting in Redis for a free slot of their concurrency key.",
    );
    for (queue, us) in uses {
        for u in us {
            sample(
                out,
                "tarefa_concurrency_parked",
                &[("queue", queue), ("key", &u.key)],
                u.parked as f64,
            );
        }
    }
}

/// `tarefa_notifications{tenant,channel,status}`: outbox rows per provider
/// send outcome (`sent`, `delivered`, `failed`, `unknown`, ...).
pub fn render_notifications(out: &mut String, rows: &[(String, String, String, i64)]) {
    family(
        out,
        "tarefa_notifications",
        "gauge",
        "Notifications in the outbox by tenant, channel and send status.",
    );
    for (tenant, channel, status, n) in rows {
        sample(
            out,
            "tarefa_notifications",
            &[("tenant", tenant), ("channel", channel), ("status", status)],
            *n as f64,
        );
    }
}

/// `tarefa_payments{tenant,status}` and `tarefa_payments_amount_cents{tenant,status}`:
/// payments by outcome (`succeeded`, `failed`, `needs_review`, …) and their sums.
pub fn render_payments(out: &mut String, rows: &[(uuid::Uuid, String, i64, i64)]) {
    family(
        out,
        "tarefa_payments",
        "gauge",
        "Payments by tenant and status.",
    );
    for (tenant, status, n, _) in rows {
        let t = tenant.to_string();
        sample(
            out,
            "tarefa_payments",
            &[("tenant", &t), ("status", status)],
            *n as f64,
        );
    }
    family(
        out,
        "tarefa_payments_amount_cents",
        "gauge",
        "Sum of the payments' amounts (integer cents) by tenant and status.",
    );
    for (tenant, status, _, cents) in rows {
        let t = tenant.to_string();
        sample(
            out,
            "tarefa_payments_amount_cents",
            &[("tenant", &t), ("status", status)],
            *cents as f64,
        );
    }
}

/// `tarefa_jobs_total{queue,kind,tenant,outcome}` and the wait/run histograms.
pub fn render_stats(out: &mut String, stats: &[QueueStats]) {
    family(
        out,
        "tarefa_jobs_total",
        "counter",
        "Job outcomes (started, succeeded, failed, dead, cancelled) per kind and tenant.",
    );
    for s in stats {
        for o in &s.outcomes {
            let pairs = [
                ("queue", s.queue.as_str()),
                ("kind", &o.kind),
                ("tenant", &o.tenant),
                ("outcome", &o.outcome),
            ];
            sample(out, "tarefa_jobs_total", &pairs, o.count as f64);
        }
    }
    let hist =
        |out: &mut String, name: &str, help: &str, pick: fn(&QueueStats) -> &Vec<KindHistogram>| {
            family(out, name, "histogram", help);
            for s in stats {
                for h in pick(s) {
                    histogram(out, name, &s.queue, h);
                }
            }
        };
    hist(
        out,
        "tarefa_job_wait_seconds",
        "Enqueue (or due time) to start, per kind.",
        |s| &s.wait,
    );
    hist(
        out,
        "tarefa_job_run_seconds",
        "Start to finish, per kind.",
        |s| &s.run,
    );
}

/// One kind's histogram; the engine's per-bucket counts become cumulative `le` buckets.
fn histogram(out: &mut String, name: &str, queue: &str, h: &KindHistogram) {
    let bucket = format!("{name}_bucket");
    let mut cumulative = 0u64;
    for (i, bound) in h
        .bounds_secs
        .iter()
        .enumerate()
        .filter(|(_, b)| b.is_finite())
    {
        cumulative += h.counts.get(i).copied().unwrap_or(0);
        sample(
            out,
            &bucket,
            &[("queue", queue), ("kind", &h.kind), ("le", &num(*bound))],
            cumulative as f64,
        );
    }
    let total = h.count.max(h.counts.iter().sum());
    sample(
        out,
        &bucket,
        &[("queue", queue), ("kind", &h.kind), ("le", "+Inf")],
        total as f64,
    );
    sample(
        out,
        &format!("{name}_sum"),
        &[("queue", queue), ("kind", &h.kind)],
        h.sum_secs,
    );
    sample(
        out,
        &format!("{name}_count"),
        &[("queue", queue), ("kind", &h.kind)],
        total as f64,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use jobs::engine::OutcomeCount;

    #[test]
    fn histogram_buckets_are_cumulative_and_end_with_inf() {
        let stats = QueueStats {
            queue: "diag".into(),
            outcomes: vec![OutcomeCount {
                kind: "diag.noop".into(),
                tenant: "t\"1".into(),
                outcome: "succeeded".into(),
                count: 7,
            }],
            wait: vec![KindHistogram {
                kind: "diag.noop".into(),
                bounds_secs: vec![0.1, 1.0],
                counts: vec![2, 3, 1],
                sum_secs: 2.5,
                count: 6,
            }],
            run: vec![],
        };
        let mut out = String::new();
        render_stats(&mut out, &[stats]);
        assert!(out.contains("tarefa_jobs_total{queue=\"diag\",kind=\"diag.noop\",tenant=\"t\\\"1\",outcome=\"succeeded\"} 7\n"), "{out}");
        assert!(out.contains(
            "tarefa_job_wait_seconds_bucket{queue=\"diag\",kind=\"diag.noop\",le=\"0.1\"} 2\n"
        ));
        assert!(out.contains(
            "tarefa_job_wait_seconds_bucket{queue=\"diag\",kind=\"diag.noop\",le=\"1\"} 5\n"
        ));
        assert!(out.contains(
            "tarefa_job_wait_seconds_bucket{queue=\"diag\",kind=\"diag.noop\",le=\"+Inf\"} 6\n"
        ));
        assert!(
            out.contains("tarefa_job_wait_seconds_count{queue=\"diag\",kind=\"diag.noop\"} 6\n")
        );
        assert_eq!(
            out.matches("# TYPE tarefa_job_run_seconds histogram")
                .count(),
            1
        );
    }

    #[test]
    fn counts_render_one_gauge_per_state() {
        let c = QueueCounts {
            queue: "diag".into(),
            queued: 4,
            paused: true,
            oldest_waiting_ms: Some(1500),
            ..Default::default()
        };
        let mut out = String::new();
        render_counts(&mut out, &[c]);
        assert!(out.contains("tarefa_queue_jobs{queue=\"diag\",state=\"queued\"} 4\n"));
        assert!(out.contains("tarefa_queue_paused{queue=\"diag\"} 1\n"));
        assert!(out.contains("tarefa_queue_oldest_waiting_seconds{queue=\"diag\"} 1.5\n"));
        assert_eq!(out.matches("state=").count(), JobStatus::ALL.len());
    }
}

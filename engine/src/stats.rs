//! Per-process outcome counters and latency histograms, flushed to the
//! queue's `stats` hash in Redis each second (one pipeline), so `/metrics` on
//! any api-lite sees every worker's totals. Flushing per second instead of per
//! job keeps the per-job Redis cost flat.

use std::collections::HashMap;
use std::sync::Mutex;

use super::job::{KindHistogram, OutcomeCount, QueueStats};

/// How long a per-minute bucket (`st:<minute>`) is kept: the console shows the last hour.
pub const MINUTES_KEPT_SECS: i64 = 2 * 3600;

/// One minute of a queue's activity, from the per-minute buckets.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct Minute {
    /// Unix minute (seconds / 60).
    pub minute: i64,
    pub succeeded: u64,
    /// Runs that failed and will run again.
    pub retried: u64,
    pub dead: u64,
    pub cancelled: u64,
    /// Mean wait (due → start) of the jobs started that minute, seconds.
    pub mean_wait_secs: Option<f64>,
}

impl super::Engine {
    /// The last `minutes` minutes of `queue` (oldest first, the current one last), in one round trip.
    pub async fn recent(
        &self,
        queue: &str,
        minutes: i64,
        now_minute: i64,
    ) -> Result<Vec<Minute>, super::EngineError> {
        let keys = self.keys(queue);
        let range: Vec<i64> = (now_minute - minutes + 1..=now_minute).collect();
        let mut pipe = redis::pipe();
        for m in &range {
            pipe.hgetall(keys.stats(*m));
        }
        let mut conn = self.conn.clone();
        let raw: Vec<HashMap<String, f64>> = pipe.query_async(&mut conn).await?;
        Ok(range
            .into_iter()
            .zip(raw)
            .map(|(minute, h)| {
                let n = |k: &str| h.get(k).copied().unwrap_or(0.0).max(0.0) as u64;
                let wait_n = h.get("wait_n").copied().unwrap_or(0.0);
                Minute {
                    minute,
                    succeeded: n("succeeded"),
                    // `failed`: the name before `retried` (buckets live 2 h).
                    retried: n("retried") + n("failed"),
                    dead: n("dead"),
                    cancelled: n("cancelled"),
                    mean_wait_secs: (wait_n > 0.0)
                        .then(|| h.get("wait_sum").copied().unwrap_or(0.0) / wait_n),
                }
            })
            .collect())
    }
}

/// Histogram bucket bounds, seconds.
pub const BOUNDS_SECS: [f64; 12] = [
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 30.0, 120.0,
];

#[derive(Default)]
pub(crate) struct Stats {
    pending: Mutex<Pending>,
}

/// Counters since the last flush, by field (`o|<outcome>|<kind>|<tenant>`,
/// `h|<which>|<kind>|<bucket or sum>`), and a buffer to build field names in
/// (a counter that exists already costs no allocation).
#[derive(Default)]
struct Pending {
    map: HashMap<String, f64>,
    key: String,
}

/// Bucket indexes as field-name parts.
const SLOTS: [&str; BOUNDS_SECS.len() + 1] = [
    "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12",
];

fn bucket(secs: f64) -> usize {
    BOUNDS_SECS
        .iter()
        .position(|b| secs <= *b)
        .unwrap_or(BOUNDS_SECS.len())
}

impl Pending {
    fn add(&mut self, parts: &[&str], by: f64) {
        self.key.clear();
        for (i, p) in parts.iter().enumerate() {
            if i > 0 {
                self.key.push('|');
            }
            self.key.push_str(p);
        }
        match self.map.get_mut(self.key.as_str()) {
            Some(v) => *v += by,
            None => {
                self.map.insert(self.key.clone(), by);
            }
        }
    }

    fn outcome(&mut self, kind: &str, tenant: &str, outcome: &str) {
        self.add(&["o", outcome, kind, tenant], 1.0);
    }

    fn observe(&mut self, which: &str, kind: &str, secs: f64) {
        let secs = secs.max(0.0);
        self.add(&["h", which, kind, SLOTS[bucket(secs)]], 1.0);
        self.add(&["h", which, kind, "sum"], secs);
    }
}

impl Stats {
    /// A handler starts: one `started` and one `wait` (due → handler start).
    pub fn started(&self, job: &super::ClaimedJob) {
        let mut p = self.pending.lock().expect("stats lock");
        p.outcome(&job.kind, &job.tenant, "started");
        // The claim's Redis time plus how long the job then sat in the prefetch.
        let now_ms = job.claimed_ms + job.claimed_at.elapsed().as_millis() as i64;
        let wait_secs = (now_ms - job.due_ms.max(job.created_ms)) as f64 / 1000.0;
        p.observe("wait", &job.kind, wait_secs);
    }

    /// A finished run: its outcome and its run time.
    pub fn finished(&self, kind: &str, tenant: &str, outcome: &str, run_secs: f64) {
        let mut p = self.pending.lock().expect("stats lock");
        p.outcome(kind, tenant, outcome);
        p.observe("run", kind, run_secs);
    }

    /// Takes what accumulated since the last flush.
    pub fn take(&self) -> HashMap<String, f64> {
        std::mem::take(&mut self.pending.lock().expect("stats lock").map)
    }

    /// Puts back what could not be flushed (Redis down), so nothing is lost.
    pub fn restore(&self, taken: HashMap<String, f64>) {
        let mut p = self.pending.lock().expect("stats lock");
        for (k, v) in taken {
            *p.map.entry(k).or_default() += v;
        }
    }
}

/// Decodes the Redis stats hash into counters and histograms.
pub(crate) fn decode(queue: &str, raw: HashMap<String, f64>) -> QueueStats {
    let mut out = QueueStats {
        queue: queue.to_string(),
        ..QueueStats::default()
    };
    let mut hists: HashMap<(String, String), KindHistogram> = HashMap::new();
    for (field, value) in raw {
        let parts: Vec<&str> = field.split('|').collect();
        match parts.as_slice() {
            ["o", outcome, kind, tenant] => {
                // `failed` is the old name of `retried`: one series, not two.
                let outcome = if *outcome == "failed" {
                    "retried"
                } else {
                    outcome
                };
                match out
                    .outcomes
                    .iter_mut()
                    .find(|o| o.kind == *kind && o.tenant == *tenant && o.outcome == outcome)
                {
                    Some(o) => o.count += value as u64,
                    None => out.outcomes.push(OutcomeCount {
                        kind: kind.to_string(),
                        tenant: tenant.to_string(),
                        outcome: outcome.to_string(),
                        count: value as u64,
                    }),
                }
            }
            ["h", which, kind, slot] => {
                let h = hists
                    .entry((which.to_string(), kind.to_string()))
                    .or_insert_with(|| KindHistogram {
                        kind: kind.to_string(),
                        bounds_secs: BOUNDS_SECS.to_vec(),
                        counts: vec![0; BOUNDS_SECS.len() + 1],
                        ..KindHistogram::default()
                    });
                if *slot == "sum" {
                    h.sum_secs += value;
                } else if let Ok(i) = slot.parse::<usize>() {
                    if i < h.counts.len() {
                        h.counts[i] += value as u64;
                        h.count += value as u64;
                    }
                }
            }
            _ => {}
        }
    }
    out.outcomes
        .sort_by(|a, b| (&a.kind, &a.tenant, &a.outcome).cmp(&(&b.kind, &b.tenant, &b.outcome)));
    let mut hs: Vec<_> = hists.into_iter().collect();
    hs.sort_by(|a, b| a.0.cmp(&b.0));
    for ((which, _), h) in hs {
        if which == "wait" {
            out.wait.push(h);
        } else {
            out.run.push(h);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observations_land_in_their_bucket_and_decode() {
        let s = Stats::default();
        s.finished("diag.noop", "t1", "succeeded", 0.003);
        s.finished("diag.noop", "t1", "succeeded", 7.0);
        let q = decode("diag", s.take());
        assert_eq!(q.outcomes[0].count, 2);
        let h = &q.run[0];
        assert_eq!(h.count, 2);
        assert_eq!(h.counts[1], 1); // ≤ 5 ms
        assert_eq!(h.counts[10], 1); // ≤ 30 s
        assert!((h.sum_secs - 7.003).abs() < 1e-9);
        assert!(s.take().is_empty());
    }
}

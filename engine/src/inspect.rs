//! Inspection for the API and console: a job by id, counts per state, a page
//! of jobs per state (cost proportional to the page), live workers, stats.

use std::collections::HashMap;

use chrono::Utc;
use redis::AsyncCommands;

use super::job::{
    ms_to_time, JobInfo, JobPage, JobStatus, Priority, QueueCounts, QueueStats, WorkerInfo,
};
use super::keys::QueueKeys;
use super::{stats, Engine, EngineError};

/// Most ids looked at per requested row when filtering a page by tenant.
const TENANT_SCAN_FACTOR: usize = 20;

impl Engine {
    pub(crate) fn keys(&self, queue: &str) -> QueueKeys {
        QueueKeys::new(&self.cfg.prefix, queue)
    }

    /// A job by id in a known queue.
    pub async fn job(&self, queue: &str, id: &str) -> Result<Option<JobInfo>, EngineError> {
        if !super::keys::valid_token(id) {
            return Ok(None);
        }
        let mut conn = self.conn.clone();
        let h: HashMap<String, String> = conn.hgetall(self.keys(queue).job(id)).await?;
        self.with_worker(JobInfo::from_fields(id, queue, &h)).await
    }

    /// Worker aliases are short numbers on the job; this resolves them to worker ids.
    async fn with_worker(&self, job: Option<JobInfo>) -> Result<Option<JobInfo>, EngineError> {
        let Some(mut job) = job else { return Ok(None) };
        self.unseal_info(&mut job).await;
        if let Some(alias) = job.worker.take() {
            let mut conn = self.conn.clone();
            let id: Option<String> = conn
                .hget(self.keys(&job.queue).worker_aliases(), &alias)
                .await?;
            job.worker = id.or(Some(alias));
        }
        Ok(Some(job))
    }

    /// Gives a worker id a short alias for job hashes (one INCR per worker start).
    pub(crate) async fn register_worker_alias(
        &self,
        queue: &str,
        worker_id: &str,
    ) -> Result<String, EngineError> {
        let keys = self.keys(queue);
        let mut conn = self.conn.clone();
        let n: u64 = conn.incr(keys.worker_seq(), 1).await?;
        let alias = n.to_string();
        let _: () = conn.hset(keys.worker_aliases(), &alias, worker_id).await?;
        Ok(alias)
    }

    /// A job by id in one of `queues` (one pipelined round trip).
    pub async fn find(&self, queues: &[String], id: &str) -> Result<Option<JobInfo>, EngineError> {
        if !super::keys::valid_token(id) || queues.is_empty() {
            return Ok(None);
        }
        let mut pipe = redis::pipe();
        for q in queues {
            pipe.hgetall(self.keys(q).job(id));
        }
        let mut conn = self.conn.clone();
        let all: Vec<HashMap<String, String>> = pipe.query_async(&mut conn).await?;
        let found = queues
            .iter()
            .zip(all)
            .find_map(|(q, h)| JobInfo::from_fields(id, q, &h));
        self.with_worker(found).await
    }

    async fn jobs_by_ids(&self, queue: &str, ids: &[String]) -> Result<Vec<JobInfo>, EngineError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let keys = self.keys(queue);
        let mut pipe = redis::pipe();
        for id in ids {
            pipe.hgetall(keys.job(id));
        }
        let mut conn = self.conn.clone();
        let all: Vec<HashMap<String, String>> = pipe.query_async(&mut conn).await?;
        let mut jobs: Vec<JobInfo> = ids
            .iter()
            .zip(all)
            .filter_map(|(id, h)| JobInfo::from_fields(id, queue, &h))
            .collect();
        if self.cipher.is_some() {
            for j in &mut jobs {
                self.unseal_info(j).await;
            }
        }
        Ok(jobs)
    }

    /// Tenants with waiting jobs at each priority.
    async fn rings(&self, keys: &QueueKeys) -> Result<Vec<(Priority, Vec<String>)>, EngineError> {
        let mut pipe = redis::pipe();
        for p in Priority::ALL {
            pipe.lrange(keys.ring(p.as_str()), 0, -1);
        }
        let mut conn = self.conn.clone();
        let rings: Vec<Vec<String>> = pipe.query_async(&mut conn).await?;
        Ok(Priority::ALL
            .into_iter()
            .zip(rings)
            .map(|(p, mut r)| {
                r.sort();
                r.dedup();
                (p, r)
            })
            .collect())
    }

    /// Jobs per state; `queued` is a counter kept by the scripts, the rest are set sizes.
    pub async fn counts(&self, queue: &str) -> Result<QueueCounts, EngineError> {
        let keys = self.keys(queue);
        let mut conn = self.conn.clone();
        let (scheduled, retrying, succeeded, dead, cancelled, meta): (
            u64,
            u64,
            u64,
            u64,
            u64,
            HashMap<String, String>,
        ) = redis::pipe()
            .zcard(keys.scheduled())
            .zcard(keys.retry())
            .llen(keys.succeeded())
            .zcard(keys.dead())
            .zcard(keys.cancelled())
            .hgetall(keys.meta())
            .query_async(&mut conn)
            .await?;
        // Oldest waiting: the head of each tenant list is its oldest job.
        let mut heads = Vec::new();
        for (p, tenants) in self.rings(&keys).await? {
            for t in tenants {
                let head: Option<String> = conn.lindex(keys.tenant_list(p.as_str(), &t), 0).await?;
                heads.extend(head.as_deref().map(entry_id));
            }
        }
        let now = Utc::now().timestamp_millis();
        let oldest = self
            .jobs_by_ids(queue, &heads)
            .await?
            .iter()
            .filter(|j| j.status == JobStatus::Queued)
            .map(|j| (now - j.run_at.timestamp_millis()).max(0) as u64)
            .max();
        // Counters kept by the scripts (claim, ack, rescue, control).
        let counter = |name: &str| {
            meta.get(name)
                .and_then(|v| v.parse::<i64>().ok())
                .unwrap_or(0)
                .max(0) as u64
        };
        Ok(QueueCounts {
            queue: queue.to_string(),
            scheduled,
            queued: counter("queued"),
            claimed: counter("claimed"),
            running: counter("running"),
            retrying,
            succeeded,
            dead,
            cancelled,
            paused: meta.get("paused").map(|v| v == "1").unwrap_or(false),
            oldest_waiting_ms: oldest,
        })
    }

    /// A page of jobs in one state, newest first. The cursor is an offset into
    /// the state's index; with a tenant filter a page may come back short while
    /// `next_cursor` is still set (the scan per page is bounded).
    pub async fn list(
        &self,
        queue: &str,
        status: JobStatus,
        tenant: Option<&str>,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<JobPage, EngineError> {
        let limit = limit.clamp(1, 500);
        let offset: usize = cursor.and_then(|c| c.parse().ok()).unwrap_or(0);
        let keys = self.keys(queue);
        let window = if tenant.is_some() {
            limit * TENANT_SCAN_FACTOR
        } else {
            limit
        };
        let (start, stop) = (offset as isize, (offset + window) as isize - 1);
        let mut conn = self.conn.clone();
        let ids: Vec<String> = match status {
            JobStatus::Scheduled => conn.zrevrange(keys.scheduled(), start, stop).await?,
            JobStatus::Retrying => conn.zrevrange(keys.retry(), start, stop).await?,
            JobStatus::Dead => conn.zrevrange(keys.dead(), start, stop).await?,
            JobStatus::Cancelled => conn.zrevrange(keys.cancelled(), start, stop).await?,
            JobStatus::Succeeded => conn.lrange(keys.succeeded(), start, stop).await?,
            JobStatus::Claimed | JobStatus::Running => {
                // Every held lease's jobs, newest claim first (bounded by what
                // the live workers hold); `list` keeps those still running.
                let leased: Vec<String> = self
                    .leased(&keys)
                    .await?
                    .into_iter()
                    .flat_map(|(_, ids)| ids)
                    .collect();
                leased.into_iter().skip(offset).take(window).collect()
            }
            JobStatus::Queued => self.queued_ids(&keys, tenant, offset, window).await?,
        };
        let scanned = ids.len();
        let found = self.jobs_by_ids(queue, &ids).await?;
        let mut by_id: HashMap<&str, &JobInfo> = HashMap::new();
        for j in &found {
            by_id.insert(j.id.as_str(), j);
        }
        // Walk the window in order; stop once the page is full and resume right after the last row kept.
        let mut jobs = Vec::new();
        let mut consumed = 0;
        for id in &ids {
            consumed += 1;
            if let Some(j) = by_id.get(id.as_str()) {
                if j.status == status && tenant.map(|t| j.tenant == t).unwrap_or(true) {
                    jobs.push((*j).clone());
                    if jobs.len() == limit {
                        break;
                    }
                }
            }
        }
        let more = consumed < scanned || scanned == window;
        let next_cursor = more.then(|| (offset + consumed).to_string());
        Ok(JobPage { jobs, next_cursor })
    }

    /// Waiting ids, newest first: the tails of the tenant lists, priority by priority.
    async fn queued_ids(
        &self,
        keys: &QueueKeys,
        tenant: Option<&str>,
        offset: usize,
        window: usize,
    ) -> Result<Vec<String>, EngineError> {
        let mut conn = self.conn.clone();
        let mut all = Vec::new();
        for (p, tenants) in self.rings(keys).await? {
            for t in tenants
                .iter()
                .filter(|t| tenant.map(|x| x == t.as_str()).unwrap_or(true))
            {
                let want = (offset + window) as isize;
                let entries: Vec<String> = conn
                    .lrange(keys.tenant_list(p.as_str(), t), -want, -1)
                    .await?;
                all.extend(entries.iter().rev().map(|e| entry_id(e)));
            }
        }
        // Suspects waiting to run alone are queued too (few; `list` filters their tenant).
        let want = (offset + window) as isize;
        let suspects: Vec<String> = conn.lrange(keys.suspects(), -want, -1).await?;
        all.extend(suspects);
        // ULIDs sort by creation time: newest first across tenants.
        all.sort_by(|a, b| b.cmp(a));
        // A job cancelled and retried while its first entry waited has two.
        all.dedup();
        Ok(all.into_iter().skip(offset).take(window).collect())
    }

    /// The held leases, newest first: the worker and the job ids of each
    /// (one lease per claim, `lb:<lease>` lists its jobs; see claim.lua).
    async fn leased(&self, keys: &QueueKeys) -> Result<Vec<(String, Vec<String>)>, EngineError> {
        let mut conn = self.conn.clone();
        let members: Vec<String> = conn.zrevrange(keys.leases(), 0, -1).await?;
        if members.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        for m in &members {
            pipe.get(keys.lease_jobs(m));
        }
        let lists: Vec<Option<String>> = pipe.query_async(&mut conn).await?;
        Ok(members
            .iter()
            .zip(lists)
            .filter_map(|(m, list)| {
                let worker = m.split('|').next()?.to_string();
                let ids = list?
                    .split('\n')
                    .next()?
                    .split(' ')
                    .map(str::to_string)
                    .collect();
                Some((worker, ids))
            })
            .collect())
    }

    /// Workers that heartbeated within three lease periods, with the jobs they hold.
    pub async fn workers(&self, queue: &str) -> Result<Vec<WorkerInfo>, EngineError> {
        let keys = self.keys(queue);
        let since = Utc::now().timestamp_millis() - (self.cfg.settings.lease_ttl_ms * 3) as i64;
        let mut conn = self.conn.clone();
        let seen: Vec<(String, f64)> = conn
            .zrangebyscore_withscores(keys.workers(), since, "+inf")
            .await?;
        let leased = self.leased(&keys).await?;
        // A lease lists its claim's jobs, finished ones too until the last is acked.
        let all: Vec<String> = leased.iter().flat_map(|(_, ids)| ids.clone()).collect();
        let mut pipe = redis::pipe();
        for id in &all {
            pipe.hget(keys.job(id), super::keys::field::STATUS);
        }
        let status: Vec<Option<String>> = if all.is_empty() {
            Vec::new()
        } else {
            pipe.query_async(&mut conn).await?
        };
        let running: std::collections::HashSet<&str> = all
            .iter()
            .zip(&status)
            .filter(|(_, s)| s.as_deref() == Some("running"))
            .map(|(id, _)| id.as_str())
            .collect();
        Ok(seen
            .into_iter()
            .map(|(id, at)| {
                let running = leased
                    .iter()
                    .filter(|(worker, _)| *worker == id)
                    .flat_map(|(_, ids)| ids.iter())
                    .filter(|job| running.contains(job.as_str()))
                    .cloned()
                    .collect();
                WorkerInfo {
                    id,
                    queue: queue.to_string(),
                    last_seen: ms_to_time(at as i64),
                    running,
                }
            })
            .collect())
    }

    /// RunOutcome counters and histograms for `/metrics`.
    pub async fn stats(&self, queue: &str) -> Result<QueueStats, EngineError> {
        let mut conn = self.conn.clone();
        let raw: HashMap<String, f64> = conn
            .hgetall(format!("{}stats", self.keys(queue).base()))
            .await?;
        Ok(stats::decode(queue, raw))
    }

    /// PING, for readiness checks.
    pub async fn ping(&self) -> Result<(), EngineError> {
        let mut conn = self.conn.clone();
        let _: String = redis::cmd("PING").query_async(&mut conn).await?;
        Ok(())
    }
}

/// The job id of a ready-list entry (the first of its NUL-separated fields; a
/// bare id written before entries existed is its own id).
fn entry_id(entry: &str) -> String {
    entry.split('\0').next().unwrap_or_default().to_string()
}

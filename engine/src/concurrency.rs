//! Global concurrency limits: at most N jobs of a key claimed or running at
//! once across every worker process (`ocr:<tenant>` ≤ 2, `provider:<name>`
//! ≤ 5), or of a whole queue (key `*`).
//!
//! The claim script takes a slot when it hands a job out and records the
//! holder; every end of that delivery releases it in the same script as the
//! outcome (ack: succeeded, retry, snooze, dead, cancelled, released at
//! shutdown; rescue: the worker's lease expired, so a killed worker's slots
//! come back with its lease). A job whose key is full is not claimed: it is
//! parked in Redis (`cw:<key>`, in order) and each freed slot puts one parked
//! job back at the front of its tenant's ready list — other keys' jobs behind
//! it are claimed meanwhile, and no claim scans a parked list. A full queue
//! cap (`*`) makes claims return fewer jobs (or none) instead.
//! Cost: with any key limit set on a queue, a claim reads each job's `ck`
//! (one HGET per job); queues without limits pay nothing.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use redis::AsyncCommands;
use serde::{Deserialize, Serialize};

use super::job::ms_to_time;
use super::keys::valid_key;
use super::{scripts, Engine, EngineError};

/// One concurrency key of a queue: its limit, holders and parked jobs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConcurrencyUse {
    /// The full key (`ocr:tenant-a`, `*` for the whole queue).
    pub key: String,
    /// The limit that applies (set on the key or on its part before `:`).
    pub limit: Option<u32>,
    pub in_use: u64,
    pub holders: Vec<SlotHolder>,
    /// Jobs waiting in Redis for a slot of this key.
    pub parked: u64,
}

/// A job holding a slot, and since when (its claim).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SlotHolder {
    pub job: String,
    /// The worker's short alias (job hashes store it too).
    pub worker: String,
    pub since: DateTime<Utc>,
}

impl Engine {
    /// Sets the global concurrency limit of `key` on `queue` (`n = 0`
    /// removes it): `*` caps the queue; a job's `concurrency_key`, or the
    /// part before its first `:` (`ocr` limits each `ocr:<tenant>` on its
    /// own). Raising or removing a limit releases parked jobs at once.
    pub async fn set_concurrency_limit(
        &self,
        queue: &str,
        key: &str,
        n: u32,
    ) -> Result<(), EngineError> {
        if key != "*" && !valid_key(key) {
            return Err(EngineError::Invalid(
                "concurrency key must be `*` or 1-200 bytes of [A-Za-z0-9._:-]".into(),
            ));
        }
        let mut conn = self.conn.clone();
        let _: String = scripts::on(&scripts::FLOWS, self.keys(queue).base())
            .arg("limit")
            .arg(key)
            .arg(n)
            .invoke_async(&mut conn)
            .await?;
        Ok(())
    }

    /// The limits set on `queue` (`*` and keys), as configured.
    pub async fn concurrency_limits(&self, queue: &str) -> Result<Vec<(String, u32)>, EngineError> {
        let mut conn = self.conn.clone();
        let meta: HashMap<String, String> = conn.hgetall(self.keys(queue).meta()).await?;
        let mut out: Vec<(String, u32)> = meta
            .iter()
            .filter_map(|(k, v)| Some((k.strip_prefix("cl:")?.to_string(), v.parse().ok()?)))
            .collect();
        out.sort();
        Ok(out)
    }

    /// Every key of `queue` with holders or parked jobs, and every key with
    /// a limit, sorted by key: who holds its slots and how many wait.
    pub async fn concurrency(&self, queue: &str) -> Result<Vec<ConcurrencyUse>, EngineError> {
        let keys = self.keys(queue);
        let limits: HashMap<String, u32> =
            self.concurrency_limits(queue).await?.into_iter().collect();
        let mut conn = self.conn.clone();
        let (held, parked_keys): (HashMap<String, String>, Vec<String>) = redis::pipe()
            .hgetall(format!("{}ch", keys.base()))
            .smembers(format!("{}cwk", keys.base()))
            .query_async(&mut conn)
            .await?;
        let mut names: BTreeMap<String, ()> = BTreeMap::new();
        for ks in held.values() {
            for k in ks.split(' ') {
                names.insert(k.to_string(), ());
            }
        }
        for k in parked_keys.iter().chain(limits.keys()) {
            names.insert(k.clone(), ());
        }
        if names.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        for k in names.keys() {
            pipe.hgetall(keys.slot_holders(k)).llen(keys.parked(k));
        }
        let raw: Vec<redis::Value> = pipe.query_async(&mut conn).await?;
        let mut out = Vec::new();
        for (k, pair) in names.keys().zip(raw.chunks(2)) {
            let hs: HashMap<String, String> =
                redis::from_redis_value_ref(&pair[0]).unwrap_or_default();
            let parked: u64 = redis::from_redis_value_ref(&pair[1]).unwrap_or(0);
            let limit = limits.get(k).copied().or_else(|| {
                let p = k.split_once(':')?.0;
                limits.get(p).copied()
            });
            let mut holders: Vec<SlotHolder> = hs
                .into_iter()
                .map(|(job, v)| {
                    let (worker, since) = v.split_once('|').unwrap_or((v.as_str(), "0"));
                    SlotHolder {
                        job,
                        worker: worker.to_string(),
                        since: ms_to_time(since.parse().unwrap_or(0)),
                    }
                })
                .collect();
            holders.sort_by(|a, b| (a.since, &a.job).cmp(&(b.since, &b.job)));
            out.push(ConcurrencyUse {
                key: k.clone(),
                limit,
                in_use: holders.len() as u64,
                holders,
                parked,
            });
        }
        Ok(out)
    }
}

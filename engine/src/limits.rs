//! Intake limits shared by every api-lite replica: GCRA request-rate buckets
//! (an API key's and its tenant's, checked together in one script) and daily
//! byte quotas. The caller (api-lite) chooses the numbers; the engine only
//! keeps the state in Redis (`keys::LimitKeys`), so replicas agree.

use super::keys::{valid_token, LimitKeys};
use super::{scripts, Engine, EngineError};

/// One rate bucket: `burst` requests at once, refilled at `per_second`.
#[derive(Clone, Debug, PartialEq)]
pub struct Rate {
    /// `t` for the tenant, `k:<key id>` for one API key (plain tokens).
    pub bucket: String,
    pub per_second: f64,
    pub burst: u64,
}

/// A bucket's answer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RateState {
    pub allowed: bool,
    pub burst: u64,
    /// Requests that would still be admitted right now.
    pub remaining: u64,
    /// Until the bucket is full again.
    pub reset_ms: u64,
    /// Until one more request fits (0 when this one was admitted).
    pub retry_after_ms: u64,
}

/// The answer for a request: admitted only when every bucket was.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RateDecision {
    pub buckets: Vec<(String, RateState)>,
}

impl RateDecision {
    pub fn allowed(&self) -> bool {
        self.buckets.iter().all(|(_, s)| s.allowed)
    }

    /// The bucket to report in headers: the refusing one with the longest
    /// wait, else the one with the fewest requests left.
    pub fn tightest(&self) -> Option<&(String, RateState)> {
        if self.allowed() {
            self.buckets.iter().min_by_key(|(_, s)| s.remaining)
        } else {
            self.buckets
                .iter()
                .filter(|(_, s)| !s.allowed)
                .max_by_key(|(_, s)| s.retry_after_ms)
        }
    }
}

/// A quota charge's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuotaDecision {
    pub charged: bool,
    /// Bytes counted for the day after the call (before it, when refused).
    pub used: u64,
}

/// Two days: the counted UTC day plus slack for clocks and late readers.
const QUOTA_TTL_MS: u64 = 2 * 86_400_000;

impl Engine {
    /// Takes one request from every bucket of `tenant`, or none when any is empty.
    pub async fn rate(&self, tenant: &str, rates: &[Rate]) -> Result<RateDecision, EngineError> {
        if !valid_token(tenant) || rates.iter().any(|r| r.per_second <= 0.0 || r.burst == 0) {
            return Err(EngineError::Invalid(
                "rate limits need a plain tenant, per_second > 0 and burst >= 1".into(),
            ));
        }
        let keys = LimitKeys::new(&self.cfg.prefix, tenant);
        let mut inv = scripts::on(&scripts::RATE, keys.base());
        inv.arg(rates.len());
        for r in rates {
            inv.arg(LimitKeys::rate_suffix(&r.bucket))
                .arg(format!("{:.6}", 1000.0 / r.per_second))
                .arg(r.burst);
        }
        let raw: Vec<i64> = inv.invoke_async(&mut self.conn.clone()).await?;
        if raw.len() != rates.len() * 5 {
            return Err(EngineError::Invalid("unexpected rate script reply".into()));
        }
        let n = |v: i64| u64::try_from(v).unwrap_or(0);
        Ok(RateDecision {
            buckets: rates
                .iter()
                .zip(raw.chunks_exact(5))
                .map(|(r, c)| {
                    (
                        r.bucket.clone(),
                        RateState {
                            allowed: c[0] == 1,
                            burst: n(c[1]),
                            remaining: n(c[2]),
                            reset_ms: n(c[3]),
                            retry_after_ms: n(c[4]),
                        },
                    )
                })
                .collect(),
        })
    }

    /// Adds `bytes` to `tenant`'s counter for `day` (e.g. `20261205`) unless
    /// that would pass `max` (0 = unlimited).
    pub async fn charge_quota(
        &self,
        tenant: &str,
        day: &str,
        bytes: u64,
        max: u64,
    ) -> Result<QuotaDecision, EngineError> {
        if !valid_token(tenant) || !valid_token(day) {
            return Err(EngineError::Invalid(
                "quota needs a plain tenant and day".into(),
            ));
        }
        let keys = LimitKeys::new(&self.cfg.prefix, tenant);
        let (charged, used): (i64, i64) = scripts::on(&scripts::QUOTA, keys.base())
            .arg(LimitKeys::upload_suffix(day))
            .arg(bytes)
            .arg(max)
            .arg(QUOTA_TTL_MS)
            .invoke_async(&mut self.conn.clone())
            .await?;
        Ok(QuotaDecision {
            charged: charged == 1,
            used: u64::try_from(used).unwrap_or(0),
        })
    }

    /// The epoch of API-key changes (0 when never bumped); see [`bump_auth_epoch`](Self::bump_auth_epoch).
    pub async fn auth_epoch(&self) -> Result<i64, EngineError> {
        let v: Option<i64> = redis::cmd("GET")
            .arg(super::keys::auth_epoch(&self.cfg.prefix))
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(v.unwrap_or(0))
    }

    /// Tells every api-lite replica that an API key was revoked or changed
    /// (they poll the epoch and drop their key caches when it moves).
    pub async fn bump_auth_epoch(&self) -> Result<i64, EngineError> {
        let v: i64 = redis::cmd("INCR")
            .arg(super::keys::auth_epoch(&self.cfg.prefix))
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(v)
    }
}

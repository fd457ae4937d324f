//! The lease keeper of one worker: a loop that heartbeats and renews the
//! leases this worker holds (one per claim that still has jobs here, every
//! `lease_ttl / 3`), fires the
//! cancellation token of jobs someone cancelled or whose lease was lost,
//! re-delivers jobs whose lease expired anywhere (`rescue.lua`, each second),
//! flushes outcome stats (each second) and applies retention (each 30 s).
//! Every step is safe to run from many processes at once. Cancels also
//! arrive at once through pub/sub ([`listen_cancels`]); the renewal is the
//! fallback when a message is missed (a reconnect, a cancel racing a claim).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;

use super::backend::Shared;
use super::scripts;
use super::EngineError;

/// How often expired leases are looked for and stats are flushed.
pub const RESCUE_EVERY: Duration = Duration::from_secs(1);
/// How often retention runs.
pub const RETENTION_EVERY: Duration = Duration::from_secs(30);
/// Most jobs one rescue or retention call handles.
pub const MAINTENANCE_LIMIT: usize = 500;

/// What one maintenance pass did (for tests and logs).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Maintenance {
    pub renewed: usize,
    pub lost: usize,
    pub cancels: usize,
    pub requeued: i64,
    pub crashed: i64,
}

pub(crate) async fn run(shared: Arc<Shared>) {
    let lease = Duration::from_millis(shared.engine.cfg.settings.lease_ttl_ms);
    let renew_every = (lease / 3).max(Duration::from_millis(200));
    let mut renew = tokio::time::interval(renew_every);
    let mut rescue = tokio::time::interval(RESCUE_EVERY.min(renew_every));
    let mut retention = tokio::time::interval(RETENTION_EVERY);
    renew.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    rescue.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    retention.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let r = tokio::select! {
            _ = renew.tick() => renew_once(&shared).await.map(|_| ()),
            _ = rescue.tick() => {
                let r = rescue_once(&shared).await.map(|_| ());
                flush_stats(&shared).await;
                r
            }
            _ = retention.tick() => shared.engine.apply_retention(&shared.queue).await.map(|_| ()),
        };
        if let Err(e) = r {
            tracing::warn!(queue = %shared.queue, error = %e, "lease keeper: Redis call failed; will retry");
        }
    }
}

/// Heartbeat + renew held leases; fires tokens of cancelled or lost jobs.
pub(crate) async fn renew_once(shared: &Shared) -> Result<Maintenance, EngineError> {
    let held: Vec<(String, u64, tokio_util::sync::CancellationToken)> = {
        let h = shared.held.lock().expect("held lock");
        h.iter()
            .map(|(id, j)| (id.clone(), j.claim, j.cancel.clone()))
            .collect()
    };
    let mut claims: Vec<u64> = held.iter().map(|(_, b, _)| *b).collect();
    claims.sort_unstable();
    claims.dedup();
    let mut inv = scripts::on(&scripts::RENEW, shared.keys.base());
    inv.arg(&shared.worker_id)
        .arg(shared.engine.cfg.settings.lease_ttl_ms)
        .arg(claims.len());
    for seq in &claims {
        inv.arg(seq);
    }
    for (id, _, _) in &held {
        inv.arg(id);
    }
    let mut conn = shared.engine.conn.clone();
    let flags: Vec<i64> = inv.invoke_async(&mut conn).await?;
    let (lease_flags, cancel_flags) = flags.split_at(claims.len().min(flags.len()));
    let mut out = Maintenance::default();
    for (i, (id, claim, token)) in held.iter().enumerate() {
        let still_held = claims
            .binary_search(claim)
            .ok()
            .and_then(|c| lease_flags.get(c))
            == Some(&1);
        let cancel = cancel_flags.get(i) == Some(&1);
        if !still_held {
            // Someone else owns the job now (we were too slow) or it was acked meanwhile.
            if shared.held.lock().expect("held lock").contains_key(id) {
                out.lost += 1;
                token.cancel();
            }
        } else {
            out.renewed += 1;
        }
        if cancel && !token.is_cancelled() {
            out.cancels += 1;
            token.cancel();
        }
    }
    Ok(out)
}

/// Fires the token of each held job whose cancel is published on the
/// queue's cancel channel (control.lua), so a claimed job never starts and a
/// running one hears it at once. Reconnects with backoff on errors.
/// `ready` fires once the first subscription is in place.
pub(crate) async fn listen_cancels(shared: Arc<Shared>, ready: tokio::sync::oneshot::Sender<()>) {
    use futures::StreamExt;
    let mut ready = Some(ready);
    let mut delay = super::backend::RECONNECT_MIN;
    let mut attempt = 0;
    loop {
        let subscribed = async {
            let mut pubsub = shared.engine.opener.pubsub(attempt).await?;
            attempt += 1;
            pubsub.subscribe(shared.keys.cancel_channel()).await?;
            Ok::<_, redis::RedisError>(pubsub)
        };
        match subscribed.await {
            Ok(pubsub) => {
                delay = super::backend::RECONNECT_MIN;
                if let Some(r) = ready.take() {
                    let _ = r.send(());
                }
                let mut messages = pubsub.into_on_message();
                while let Some(msg) = messages.next().await {
                    let Ok(id) = msg.get_payload::<String>() else {
                        continue;
                    };
                    if let Some(job) = shared.held.lock().expect("held lock").get(&id) {
                        job.cancel.cancel();
                    }
                }
            }
            Err(e) => {
                tracing::debug!(queue = %shared.queue, error = %e, "cancel listener: Redis unavailable; retrying");
            }
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(super::backend::RECONNECT_MAX);
    }
}

pub(crate) async fn rescue_once(shared: &Shared) -> Result<Maintenance, EngineError> {
    let settings = &shared.engine.cfg.settings;
    let stale_ms = settings.lease_ttl_ms * 3;
    let mut conn = shared.engine.conn.clone();
    let (requeued, crashed): (i64, i64) = scripts::on(&scripts::RESCUE, shared.keys.base())
        .arg(settings.max_deliveries)
        .arg(MAINTENANCE_LIMIT)
        .arg(stale_ms)
        .invoke_async(&mut conn)
        .await?;
    if requeued + crashed > 0 {
        tracing::warn!(queue = %shared.queue, requeued, crashed, "re-delivered jobs whose worker disappeared");
    }
    Ok(Maintenance {
        requeued,
        crashed,
        ..Maintenance::default()
    })
}

/// Adds this flush to the current minute's bucket (`st:<minute>`: outcome
/// counts, `wait_sum`/`wait_n`), kept 2 h, for the console's last-hour
/// numbers and sparklines.
fn per_minute(pipe: &mut redis::Pipeline, shared: &Shared, pending: &HashMap<String, f64>) {
    let minute = Utc::now().timestamp() / 60;
    let key = shared.keys.stats(minute);
    let mut any = false;
    for (field, by) in pending {
        let bucket = match field.split('|').collect::<Vec<_>>().as_slice() {
            ["o", outcome, _, _] => *outcome,
            ["h", "wait", _, "sum"] => "wait_sum",
            ["h", "wait", _, _] => "wait_n",
            _ => continue,
        };
        pipe.cmd("HINCRBYFLOAT")
            .arg(&key)
            .arg(bucket)
            .arg(*by)
            .ignore();
        any = true;
    }
    if any {
        pipe.expire(&key, super::stats::MINUTES_KEPT_SECS).ignore();
    }
}

pub(crate) async fn flush_stats(shared: &Shared) {
    let pending = shared.stats.take();
    if pending.is_empty() {
        return;
    }
    let key = format!("{}stats", shared.keys.base());
    let mut pipe = redis::pipe();
    per_minute(&mut pipe, shared, &pending);
    for (field, by) in &pending {
        if field.ends_with("|sum") {
            pipe.cmd("HINCRBYFLOAT")
                .arg(&key)
                .arg(field)
                .arg(*by)
                .ignore();
        } else {
            pipe.cmd("HINCRBY")
                .arg(&key)
                .arg(field)
                .arg(*by as i64)
                .ignore();
        }
    }
    let mut conn = shared.engine.conn.clone();
    if let Err(e) = pipe.query_async::<()>(&mut conn).await {
        tracing::debug!(error = %e, "stats flush failed; kept for the next one");
        shared.stats.restore(pending);
    }
}

impl super::Engine {
    /// Removes finished jobs past retention in one queue; returns how many.
    pub async fn apply_retention(&self, queue: &str) -> Result<i64, EngineError> {
        let s = &self.cfg.settings;
        let now = Utc::now().timestamp_millis();
        let ok_cutoff = now - (s.retain_succeeded_secs * 1000) as i64;
        let dead_cutoff = now - (s.retain_dead_secs * 1000) as i64;
        self.apply_retention_before(queue, ok_cutoff, dead_cutoff)
            .await
    }

    /// Removes succeeded jobs finished before `ok_cutoff_ms` and dead/cancelled
    /// ones finished before `dead_cutoff_ms` (unix ms); returns how many.
    pub async fn apply_retention_before(
        &self,
        queue: &str,
        ok_cutoff: i64,
        dead_cutoff: i64,
    ) -> Result<i64, EngineError> {
        let keys = super::keys::QueueKeys::new(&self.cfg.prefix, queue);
        let mut conn = self.conn.clone();
        let mut total = 0;
        loop {
            let n: i64 = scripts::on(&scripts::RETENTION, keys.base())
                .arg(ok_cutoff)
                .arg(dead_cutoff)
                .arg(MAINTENANCE_LIMIT)
                .invoke_async(&mut conn)
                .await?;
            total += n;
            if n < MAINTENANCE_LIMIT as i64 {
                return Ok(total);
            }
        }
    }
}

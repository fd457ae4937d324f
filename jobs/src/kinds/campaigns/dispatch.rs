//! `campaigns.dispatch`: one job per running campaign (per start/resume),
//! which hands recipients to `campaigns.send` at the campaign's rate.
//!
//! Each run is one tick: check the campaign is still `running` and this
//! job's `dispatch_seq` is the campaign's (a resume bumps it, so a stale
//! chain from before a pause — or a second scheduler's copy — stops at
//! once); wait for the send window; top the recipients handed out up to
//! `in_flight_secs` of the rate (within the tenant's rolling-24 h
//! messaging limit) with `for update skip
//! locked`, mark them `dispatched` and push them in chunks of
//! [`chunk_size`] (50 ms of the rate, at most [`CHUNK_MAX`]), one
//! `campaigns.send` job per chunk (job id `<first recipient>.<its dispatch
//! number>`, rate key `campaign:<id>`, whose shared limit every worker
//! process obeys: one chunk job per `chunk / rate` seconds, so the limit
//! counts messages); then snooze until the next tick (no attempt spent).
//! When nothing is left the campaign is `completed`.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use super::model::Campaign;
use super::{lifecycle, window, CampaignsSettings, DISPATCH, QUEUE, SEND};
use crate::engine::{Engine, EngineError, NewJob, Priority};
use crate::kinds::JobError;

/// The dispatch job for the campaign's current `dispatch_seq` (pushing it twice makes one job).
pub async fn push(
    engine: &Engine,
    c: &Campaign,
    at: Option<DateTime<Utc>>,
) -> Result<(), EngineError> {
    set_limits(engine, c).await?;
    let mut job = NewJob::new(
        QUEUE,
        DISPATCH,
        &c.tenant_id.to_string(),
        serde_json::json!({ "campaign_id": c.id, "seq": c.dispatch_seq }),
    );
    job.id = Some(format!("dispatch.{}.{}", c.id, c.dispatch_seq));
    job.priority = Priority::High;
    job.run_at = at;
    job.max_attempts = 20;
    engine.push(job).await.map(|_| ())
}

/// A chunk is this long a slice of the rate: 50 messages at 1,000/s, 4 at 80/s.
pub const CHUNK_MS: u32 = 50;
/// At most this many recipients in one `campaigns.send` job.
pub const CHUNK_MAX: usize = 50;

/// Recipients per `campaigns.send` job: `CHUNK_MS` of the effective rate
/// (1 with a minimum delay between messages, which a chunk would not keep).
pub fn chunk_size(c: &Campaign) -> usize {
    if c.min_delay_ms > 0 {
        return 1;
    }
    let per_chunk = (c.effective_rate.max(1) as u64 * CHUNK_MS as u64).div_ceil(1000);
    (per_chunk as usize).clamp(1, CHUNK_MAX)
}

/// The campaign's shared send rate, in chunk jobs: one job of
/// [`chunk_size`] messages per `chunk / effective_rate` seconds (or one
/// message per `min_delay_ms` if slower), so the engine's limit, which counts
/// jobs, holds the rate in messages.
pub async fn set_limits(engine: &Engine, c: &Campaign) -> Result<(), EngineError> {
    let key = rate_key(c.id);
    let per_rate = 1000.0 / c.effective_rate.max(1) as f64;
    if c.min_delay_ms as f64 > per_rate {
        engine
            .set_rate_limit(QUEUE, &key, 1, Duration::from_millis(c.min_delay_ms as u64))
            .await
    } else {
        let chunk = chunk_size(c) as u64;
        engine
            .set_rate_limit(
                QUEUE,
                &key,
                c.effective_rate.max(1) as u32,
                Duration::from_secs(chunk),
            )
            .await
    }
}

/// Removes the campaign's rate limit (it is over).
pub async fn stop_limits(engine: &Engine, id: Uuid) -> Result<(), EngineError> {
    engine
        .set_rate_limit(QUEUE, &rate_key(id), 0, Duration::from_secs(1))
        .await
}

pub fn rate_key(id: Uuid) -> String {
    format!("campaign:{id}")
}

fn db(e: sqlx::Error) -> JobError {
    JobError::retryable(format!("postgres: {e}"))
}

/// What a tick decided.
#[derive(Debug, PartialEq)]
pub enum Tick {
    /// The chain ends (the campaign is not running, or this chain is stale).
    Stop(String),
    /// Run again after this long.
    Again(Duration),
}

/// One tick of the dispatch job.
pub async fn tick(
    pg: &PgPool,
    engine: &Engine,
    s: &CampaignsSettings,
    tenant: Uuid,
    id: Uuid,
    seq: i64,
) -> Result<Tick, JobError> {
    let Some(mut c) = lifecycle::get(pg, tenant, id).await.map_err(db)? else {
        return Ok(Tick::Stop("campaign deleted".into()));
    };
    if c.dispatch_seq != seq {
        return Ok(Tick::Stop(format!(
            "stale dispatch {seq} (now {})",
            c.dispatch_seq
        )));
    }
    if c.state == "scheduled" {
        let now = Utc::now();
        if let Some(at) = c.start_at.filter(|at| *at > now) {
            return Ok(Tick::Again((at - now).to_std().unwrap_or_default()));
        }
        // Its time has come: freeze and run (a new chain takes over).
        return match lifecycle::start(pg, engine, tenant, id).await {
            Ok(_) => Ok(Tick::Stop("started".into())),
            Err(lifecycle::CampaignError::Invalid(f)) => {
                lifecycle::transition(
                    pg,
                    id,
                    &["running", "scheduled"],
                    "failed",
                    Some(&f.to_string()),
                )
                .await
                .map_err(db)?;
                Ok(Tick::Stop(format!("failed: {f}")))
            }
            Err(lifecycle::CampaignError::State(st)) => Ok(Tick::Stop(st)),
            Err(e) => Err(JobError::retryable(e.to_string())),
        };
    }
    if c.state != "running" {
        return Ok(Tick::Stop(c.state));
    }
    let tick = Duration::from_millis(s.tick_ms.max(50));
    if let Some((ws, we)) = c.window() {
        let tz = tenant_tz(pg, tenant).await.map_err(db)?;
        if let Some(open) = window::opens_at(Utc::now(), tz, ws, we) {
            return Ok(Tick::Again((open - Utc::now()).to_std().unwrap_or(tick)));
        }
    }
    // Recover the rate after a throttle: 10 s later, +10 % a tick back toward what was asked.
    if c.effective_rate < c.rate_per_second {
        if let Some(r) = raise_rate(pg, id).await.map_err(db)? {
            c.effective_rate = r;
            set_limits(engine, &c)
                .await
                .map_err(|e| JobError::retryable(e.to_string()))?;
        }
    }
    // The engine's shared limit paces the sends exactly (GCRA in the claim
    // script); the dispatcher only keeps `in_flight_secs` of the rate handed
    // out, so a slow tick never lowers the rate and a pause drains quickly.
    let per_sec = if c.min_delay_ms > 0 {
        (1000.0 / c.min_delay_ms as f64).min(c.effective_rate as f64)
    } else {
        c.effective_rate as f64
    };
    // Whole chunks only: the limit counts chunk jobs, so a short chunk would waste
    // part of its slot (only the last, or the messaging limit, makes one).
    let chunk = chunk_size(&c) as i64;
    let in_flight_cap = ((per_sec * s.in_flight_secs as f64).ceil() as i64)
        .max(2)
        .max(chunk);
    let mut tx = pg.begin().await.map_err(db)?;
    let in_flight: i64 = sqlx::query_scalar(
        "select count(*) from campaign_recipients where campaign_id = $1 and pending and status in ('dispatched', 'sending')",
    )
    .bind(id)
    .fetch_one(&mut *tx)
    .await
    .map_err(db)?;
    let left = in_flight > 0
        || sqlx::query_scalar::<_, bool>(
            "select exists (select 1 from campaign_recipients where campaign_id = $1 and pending and status in ('queued', 'deferred'))",
        )
        .bind(id)
        .fetch_one(&mut *tx)
        .await
        .map_err(db)?;
    if !left {
        tx.commit().await.map_err(db)?;
        if lifecycle::transition(pg, id, &["running"], "completed", None)
            .await
            .map_err(db)?
            .is_some()
        {
            lifecycle::event(pg, id, "completed", "every recipient has a final status")
                .await
                .map_err(db)?;
            stop_limits(engine, id).await.ok();
        }
        return Ok(Tick::Stop("completed".into()));
    }
    let mut budget = (in_flight_cap - in_flight).max(0);
    budget -= budget % chunk;
    let limit = messaging_limit(&mut tx, tenant, s).await.map_err(db)?;
    if let Some(limit) = limit {
        if budget > 0 {
            // One tenant's campaigns share the limit: count and claim under one lock.
            sqlx::query("select pg_advisory_xact_lock(hashtext('campaigns-limit:' || $1::text))")
                .bind(tenant)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
            let used: i64 = sqlx::query_scalar(
                "select count(distinct phone) from campaign_recipients where tenant_id = $1 \
                 and (sent_at > now() - interval '24 hours' or status in ('dispatched', 'sending'))",
            )
            .bind(tenant)
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?;
            budget = budget.min((limit - used).max(0));
        }
    }
    let claimed: Vec<(Uuid, i32)> = if budget > 0 {
        sqlx::query_as(
            // The picked ids in a CTE, taken once: as `where r.id in (select … limit
            // … skip locked)` the planner may re-run the subquery (it does under
            // row-level security), and each re-run skips the rows the last one
            // locked and returns new ones, claiming more than `$2`.
            "with picked as materialized (select id from campaign_recipients where campaign_id = $1 and pending and \
               (status = 'queued' or (status = 'deferred' and deferred_until <= now()) \
                or (status = 'dispatched' and dispatched_at < now() - make_interval(secs => $3))) \
               order by id limit $2 for update skip locked) \
             update campaign_recipients r set status = 'dispatched', dispatched_at = now(), \
             attempts = attempts + 1, deferred_until = null, updated_at = now() \
             from picked where r.id = picked.id \
             returning r.id, r.attempts",
        )
        .bind(id)
        .bind(budget)
        .bind(s.redispatch_after_secs as f64)
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?
    } else {
        vec![]
    };
    tx.commit().await.map_err(db)?;
    if !claimed.is_empty() {
        let jobs: Vec<NewJob> = claimed
            .chunks(chunk as usize)
            .map(|chunk| send_job(&c, chunk))
            .collect();
        engine
            .push_bulk(jobs)
            .await
            .map_err(|e| JobError::retryable(e.to_string()))?;
    }
    if claimed.is_empty() && in_flight == 0 {
        // Only deferred recipients (or the messaging limit) hold it: sleep until the first is due.
        let next: Option<DateTime<Utc>> = sqlx::query_scalar(
            "select min(deferred_until) from campaign_recipients where campaign_id = $1 and pending and status = 'deferred'",
        )
        .bind(id)
        .fetch_one(pg)
        .await
        .map_err(db)?;
        if let Some(at) = next {
            let d = (at - Utc::now()).to_std().unwrap_or(tick);
            return Ok(Tick::Again(d.clamp(tick, Duration::from_secs(300))));
        }
    }
    Ok(Tick::Again(tick))
}

/// The `campaigns.send` job of one dispatch of a chunk of (recipient, dispatch number).
pub fn send_job(c: &Campaign, chunk: &[(Uuid, i32)]) -> NewJob {
    let ids: Vec<Uuid> = chunk.iter().map(|r| r.0).collect();
    let mut job = NewJob::new(
        QUEUE,
        SEND,
        &c.tenant_id.to_string(),
        serde_json::json!({ "campaign_id": c.id, "recipient_ids": ids }),
    );
    // A recipient is dispatched once per number: its first one names the chunk.
    job.id = Some(format!("{}.{}", chunk[0].0, chunk[0].1));
    job.rate_key = Some(rate_key(c.id));
    job.max_attempts = 8;
    job
}

async fn raise_rate(pg: &PgPool, id: Uuid) -> Result<Option<i32>, sqlx::Error> {
    sqlx::query_scalar(
        "update campaigns set effective_rate = least(rate_per_second, effective_rate + greatest(1, effective_rate / 10)) \
         where id = $1 and effective_rate < rate_per_second \
         and (throttled_at is null or throttled_at < now() - interval '10 seconds') returning effective_rate",
    )
    .bind(id)
    .fetch_optional(pg)
    .await
}

/// The tenant's messaging limit (unique contacts per rolling 24 h); `None` = unlimited.
pub(crate) async fn messaging_limit(
    ex: &mut sqlx::PgConnection,
    tenant: Uuid,
    s: &CampaignsSettings,
) -> Result<Option<i64>, sqlx::Error> {
    let row: Option<Option<i32>> =
        sqlx::query_scalar("select messaging_limit from campaign_settings where tenant_id = $1")
            .bind(tenant)
            .fetch_optional(ex)
            .await?;
    Ok(match row {
        Some(v) => v.map(i64::from),
        None => (s.default_messaging_limit > 0).then_some(s.default_messaging_limit as i64),
    })
}

pub async fn tenant_tz(pg: &PgPool, tenant: Uuid) -> Result<chrono_tz::Tz, sqlx::Error> {
    let tz: Option<String> = sqlx::query_scalar("select timezone from tenants where id = $1")
        .bind(tenant)
        .fetch_optional(pg)
        .await?;
    Ok(tz
        .and_then(|t| crate::store::tenants::parse_timezone(&t).ok())
        .unwrap_or(chrono_tz::America::Sao_Paulo))
}

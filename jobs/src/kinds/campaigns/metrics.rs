//! Live numbers of a campaign, read from its recipients: counts per status,
//! failures by error code, skips by reason, delivery/read/reply rates,
//! progress, throughput over the last minute, an ETA (from what remains, the
//! rate, the send window and the messaging limit) and the cost (estimated for
//! everyone, actual for what was sent) from the `[campaigns.prices]` table.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;
use utoipa::ToSchema;
use uuid::Uuid;

use super::model::{Campaign, Recipient, RECIPIENT_STATUSES};
use super::CampaignsSettings;

#[derive(Debug, Serialize, ToSchema)]
pub struct Metrics {
    pub recipients: i64,
    /// Count per recipient status (every status present, 0 when none).
    #[schema(value_type = Object)]
    pub by_status: BTreeMap<String, i64>,
    /// Failed recipients per Meta error code (`none` without one).
    #[schema(value_type = Object)]
    pub failed_by_code: BTreeMap<String, i64>,
    /// Skipped recipients per reason.
    #[schema(value_type = Object)]
    pub skipped_by_reason: BTreeMap<String, i64>,
    /// Handed to Meta: sent, delivered or read now.
    pub sent: i64,
    pub delivered: i64,
    pub read: i64,
    pub replied: i64,
    /// delivered / sent, read / sent, replied / sent (0 before any send).
    pub delivery_rate: f64,
    pub read_rate: f64,
    pub reply_rate: f64,
    /// Share of recipients with a final status, 0-1.
    pub progress: f64,
    /// Messages sent in the last 60 s, per second.
    pub throughput_per_second: f64,
    /// When the rest should be sent, at the current rate, send window and limit (running campaigns).
    pub eta: Option<DateTime<Utc>>,
    pub cost: Cost,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Cost {
    pub currency: String,
    /// The price table's date (`campaigns.prices_date`).
    pub prices_date: String,
    pub price_per_message: f64,
    /// Every recipient that may still be sent, plus what was sent.
    pub estimated: f64,
    /// What was sent.
    pub actual: f64,
}

/// (status, skip reason, error code, count, replied count).
type StatusRow = (String, Option<String>, Option<i32>, i64, i64);

/// Statuses that are final for a recipient.
pub const FINAL: [&str; 7] = [
    "sent",
    "delivered",
    "read",
    "failed",
    "skipped",
    "cancelled",
    "unknown",
];

pub async fn compute(
    pg: &PgPool,
    s: &CampaignsSettings,
    c: &Campaign,
    category: &str,
) -> Result<Metrics, sqlx::Error> {
    let rows: Vec<StatusRow> = sqlx::query_as(
        "select status, case when status = 'skipped' then reason end, \
         case when status = 'failed' then error_code end, count(*), \
         count(*) filter (where replied_at is not null) \
         from campaign_recipients where campaign_id = $1 group by 1, 2, 3",
    )
    .bind(c.id)
    .fetch_all(pg)
    .await?;
    let mut by_status: BTreeMap<String, i64> = RECIPIENT_STATUSES
        .iter()
        .map(|s| (s.to_string(), 0))
        .collect();
    let (mut failed_by_code, mut skipped_by_reason) = (BTreeMap::new(), BTreeMap::new());
    let mut replied = 0;
    for (st, reason, code, n, rep) in rows {
        *by_status.entry(st.clone()).or_default() += n;
        replied += rep;
        if st == "failed" {
            *failed_by_code
                .entry(code.map(|c| c.to_string()).unwrap_or_else(|| "none".into()))
                .or_default() += n;
        }
        if st == "skipped" {
            *skipped_by_reason
                .entry(reason.unwrap_or_default())
                .or_default() += n;
        }
    }
    let recipients: i64 = by_status.values().sum();
    let read = by_status["read"];
    let delivered = by_status["delivered"] + read;
    let sent = by_status["sent"] + delivered;
    let done: i64 = FINAL.iter().map(|s| by_status[*s]).sum();
    let ratio = |a: i64, b: i64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    let last_minute: i64 = sqlx::query_scalar(
        "select count(*) from campaign_recipients where campaign_id = $1 and sent_at > now() - interval '60 seconds'",
    )
    .bind(c.id)
    .fetch_one(pg)
    .await?;
    let remaining = recipients - done;
    let eta = eta(pg, s, c, remaining).await?;
    let price = s.price("BR", category);
    Ok(Metrics {
        recipients,
        failed_by_code,
        skipped_by_reason,
        sent,
        delivered,
        read,
        replied,
        delivery_rate: ratio(delivered, sent),
        read_rate: ratio(read, sent),
        reply_rate: ratio(replied, sent),
        progress: ratio(done, recipients),
        throughput_per_second: last_minute as f64 / 60.0,
        eta,
        cost: Cost {
            currency: s.prices_currency.clone(),
            prices_date: s.prices_date.clone(),
            price_per_message: price,
            estimated: round4(price * (sent + remaining) as f64),
            actual: round4(price * sent as f64),
        },
        by_status,
    })
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// The inputs of [`super::eta::eta`] for a running campaign: its rate, the
/// tenant's timezone and window, the messaging limit and the tenant's sends
/// of the last 24 h (unique contacts per minute).
async fn eta(
    pg: &PgPool,
    s: &CampaignsSettings,
    c: &Campaign,
    remaining: i64,
) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    if c.state != "running" {
        return Ok(None);
    }
    let per_second = if c.min_delay_ms > 0 {
        (1000.0 / c.min_delay_ms as f64).min(c.effective_rate as f64)
    } else {
        c.effective_rate as f64
    };
    let window = match c.window() {
        Some((a, b)) => Some((super::dispatch::tenant_tz(pg, c.tenant_id).await?, a, b)),
        None => None,
    };
    let limit = {
        let mut conn = pg.acquire().await?;
        super::dispatch::messaging_limit(&mut conn, c.tenant_id, s).await?
    };
    let used: Vec<(DateTime<Utc>, i64)> = if limit.is_some() {
        sqlx::query_as(
            "select m, count(*) from (select date_trunc('minute', min(sent_at)) m from campaign_recipients \
             where tenant_id = $1 and sent_at > now() - interval '24 hours' group by phone) u group by m",
        )
        .bind(c.tenant_id)
        .fetch_all(pg)
        .await?
    } else {
        vec![]
    };
    Ok(super::eta::eta(&super::eta::EtaInput {
        now: Utc::now(),
        remaining,
        per_second,
        window,
        limit,
        used,
    }))
}

/// `GET /v1/campaigns/{id}/recipients?status=`, newest change first.
pub async fn recipients(
    pg: &PgPool,
    campaign: Uuid,
    status: Option<&str>,
    limit: i64,
) -> Result<Vec<Recipient>, sqlx::Error> {
    sqlx::query_as(
        "select id, contact_id, phone, status, reason, error_code, notification_id, wamid, attempts, sent_at, \
         delivered_at, read_at, replied_at, failed_at, deferred_until, updated_at from campaign_recipients \
         where campaign_id = $1 and ($2::text is null or status = $2) order by updated_at desc, id limit $3",
    )
    .bind(campaign)
    .bind(status)
    .bind(limit)
    .fetch_all(pg)
    .await
}

/// One minute of a campaign's activity.
#[derive(Debug, Serialize, ToSchema)]
pub struct Minute {
    pub minute: DateTime<Utc>,
    pub sent: i64,
    pub delivered: i64,
    pub read: i64,
    pub failed: i64,
}

type MinuteRow = (DateTime<Utc>, i64, i64, i64, i64);

/// Per-minute counts (the last `minutes` minutes with activity).
pub async fn series(pg: &PgPool, campaign: Uuid, minutes: i64) -> Result<Vec<Minute>, sqlx::Error> {
    let rows: Vec<MinuteRow> = sqlx::query_as(
        "with ev as ( \
           select date_trunc('minute', sent_at) m, 1 s, 0 d, 0 r, 0 f from campaign_recipients where campaign_id = $1 and sent_at is not null \
           union all select date_trunc('minute', delivered_at), 0, 1, 0, 0 from campaign_recipients where campaign_id = $1 and delivered_at is not null \
           union all select date_trunc('minute', read_at), 0, 0, 1, 0 from campaign_recipients where campaign_id = $1 and read_at is not null \
           union all select date_trunc('minute', failed_at), 0, 0, 0, 1 from campaign_recipients where campaign_id = $1 and failed_at is not null) \
         select m, sum(s)::bigint, sum(d)::bigint, sum(r)::bigint, sum(f)::bigint from ev group by m order by m desc limit $2",
    )
    .bind(campaign)
    .bind(minutes)
    .fetch_all(pg)
    .await?;
    let mut out: Vec<Minute> = rows
        .into_iter()
        .map(|(minute, sent, delivered, read, failed)| Minute {
            minute,
            sent,
            delivered,
            read,
            failed,
        })
        .collect();
    out.reverse();
    Ok(out)
}

/// Prometheus gauges of running and paused campaigns, as exposition text:
/// `tarefa_campaign_recipients{tenant,campaign,state,status}` and
/// `tarefa_campaign_rate{tenant,campaign}` (the effective msgs/s).
pub async fn prometheus(pg: &PgPool) -> Result<String, sqlx::Error> {
    use std::fmt::Write;
    let rows: Vec<(String, String, String, String, i64)> = sqlx::query_as(
        "select c.tenant_id::text, c.id::text, c.state, r.status, count(*) from campaigns c \
         join campaign_recipients r on r.campaign_id = c.id where c.state in ('running', 'paused') \
         group by 1, 2, 3, 4 order by 1, 2, 4",
    )
    .fetch_all(pg)
    .await?;
    let rates: Vec<(String, String, i32)> = sqlx::query_as(
        "select tenant_id::text, id::text, effective_rate from campaigns where state in ('running', 'paused') order by 1, 2",
    )
    .fetch_all(pg)
    .await?;
    let mut out = String::new();
    if !rows.is_empty() {
        out.push_str("# HELP tarefa_campaign_recipients Recipients of running and paused campaigns by status.\n# TYPE tarefa_campaign_recipients gauge\n");
        for (t, c, state, status, n) in rows {
            let _ = writeln!(
                out,
                "tarefa_campaign_recipients{{tenant=\"{t}\",campaign=\"{c}\",state=\"{state}\",status=\"{status}\"}} {n}"
            );
        }
    }
    if !rates.is_empty() {
        out.push_str("# HELP tarefa_campaign_rate The send rate in force (msgs/s; lowered after Meta 130429).\n# TYPE tarefa_campaign_rate gauge\n");
        for (t, c, r) in rates {
            let _ = writeln!(
                out,
                "tarefa_campaign_rate{{tenant=\"{t}\",campaign=\"{c}\"}} {r}"
            );
        }
    }
    Ok(out)
}

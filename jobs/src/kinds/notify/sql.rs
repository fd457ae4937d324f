//! The notify kinds' queries: the outbox's state moves (each a guarded
//! `update ... where status = ...`, so two runs can never both send), and the
//! lookups the policies need (opt-outs, dead tokens, quiet hours, channel
//! settings, templates). Everything is scoped by tenant.

use sqlx::PgExecutor;
use uuid::Uuid;

use super::model::Notification;

const COLS: &str = "id, tenant_id, dedup_key, channel, recipient, message, urgent, status, \
    provider_message_id, attempts, last_error, job_id, created_at, updated_at, sent_at, delivered_at, read_at";

/// One new outbox row per element; existing `(tenant, dedup_key)` rows are kept
/// as they are. Returns every requested row (new or old), in no particular order.
pub async fn insert_many(
    ex: &mut sqlx::PgConnection,
    tenant: Uuid,
    channel: &str,
    urgent: bool,
    rows: &[(Uuid, String, String, serde_json::Value)],
) -> Result<Vec<Notification>, sqlx::Error> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.0).collect();
    let keys: Vec<String> = rows.iter().map(|r| r.1.clone()).collect();
    let recipients: Vec<String> = rows.iter().map(|r| r.2.clone()).collect();
    let messages: Vec<serde_json::Value> = rows.iter().map(|r| r.3.clone()).collect();
    sqlx::query(
        "insert into notifications (id, tenant_id, dedup_key, channel, recipient, message, urgent, job_id) \
         select id, $2, key, $3, rcpt, msg, $4, id::text \
         from unnest($1::uuid[], $5::text[], $6::text[], $7::jsonb[]) as t(id, key, rcpt, msg) \
         on conflict (tenant_id, dedup_key) do nothing",
    )
    .bind(&ids)
    .bind(tenant)
    .bind(channel)
    .bind(urgent)
    .bind(&keys)
    .bind(&recipients)
    .bind(&messages)
    .execute(&mut *ex)
    .await?;
    sqlx::query_as(&format!(
        "select {COLS} from notifications where tenant_id = $1 and dedup_key = any($2)"
    ))
    .bind(tenant)
    .bind(&keys)
    .fetch_all(&mut *ex)
    .await
}

pub async fn get(
    ex: impl PgExecutor<'_>,
    tenant: Uuid,
    id: Uuid,
) -> Result<Option<Notification>, sqlx::Error> {
    sqlx::query_as(&format!(
        "select {COLS} from notifications where tenant_id = $1 and id = $2"
    ))
    .bind(tenant)
    .bind(id)
    .fetch_optional(ex)
    .await
}

/// Filters of `GET /v1/notifications`.
#[derive(Clone, Debug, Default)]
pub struct ListFilter {
    pub status: Option<String>,
    pub channel: Option<String>,
    pub recipient: Option<String>,
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    pub limit: i64,
}

pub async fn list(
    ex: impl PgExecutor<'_>,
    tenant: Uuid,
    f: &ListFilter,
) -> Result<Vec<Notification>, sqlx::Error> {
    sqlx::query_as(&format!(
        "select {COLS} from notifications where tenant_id = $1 \
         and ($2::text is null or status = $2) and ($3::text is null or channel = $3) \
         and ($4::text is null or recipient = $4) and ($5::timestamptz is null or created_at >= $5) \
         order by created_at desc, id desc limit $6"
    ))
    .bind(tenant)
    .bind(&f.status)
    .bind(&f.channel)
    .bind(&f.recipient)
    .bind(f.since)
    .bind(f.limit)
    .fetch_all(ex)
    .await
}

/// `queued → sending`, counting the attempt. `None`: someone else moved it first.
pub async fn claim(ex: impl PgExecutor<'_>, id: Uuid) -> Result<Option<i32>, sqlx::Error> {
    sqlx::query_scalar(
        "update notifications set status = 'sending', attempts = attempts + 1, updated_at = now() \
         where id = $1 and status = 'queued' returning attempts",
    )
    .bind(id)
    .fetch_optional(ex)
    .await
}

/// `sending → sent` with the provider's id. Also from `unknown`: a second delivery
/// of the job may have found this row `sending` while the first was still
/// talking to the provider, and marked it `unknown`; the first now knows.
pub async fn mark_sent(
    ex: impl PgExecutor<'_>,
    id: Uuid,
    provider_id: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update notifications set status = 'sent', provider_message_id = $2, last_error = null, \
         sent_at = now(), updated_at = now() where id = $1 and status in ('sending', 'unknown')",
    )
    .bind(id)
    .bind(provider_id)
    .execute(ex)
    .await
    .map(|_| ())
}

/// A final or waiting state with a reason: `failed`, `suppressed`, `unknown`, or back to `queued`
/// (a retryable failure: the provider did not take it). Only from `from`.
pub async fn set_status(
    ex: impl PgExecutor<'_>,
    id: Uuid,
    from: &str,
    to: &str,
    reason: Option<&str>,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "update notifications set status = $3, last_error = coalesce($4, last_error), updated_at = now() \
         where id = $1 and status = $2",
    )
    .bind(id)
    .bind(from)
    .bind(to)
    .bind(reason)
    .execute(ex)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// A provider callback: moves a row forward only (sent < delivered < read; failed after sent).
pub async fn provider_status(
    ex: impl PgExecutor<'_>,
    channel: &str,
    provider_id: &str,
    status: &str,
    error: Option<&str>,
) -> Result<u64, sqlx::Error> {
    let r = sqlx::query(
        "update notifications set status = $3, updated_at = now(), last_error = coalesce($4, last_error), \
         delivered_at = case when $3 in ('delivered', 'read') then coalesce(delivered_at, now()) else delivered_at end, \
         read_at = case when $3 = 'read' then now() else read_at end \
         where channel = $1 and provider_message_id = $2 \
         and (case status when 'sent' then 2 when 'delivered' then 3 when 'read' then 4 else 9 end) \
           < (case $3 when 'sent' then 2 when 'delivered' then 3 when 'read' then 4 when 'failed' then 4 else 0 end)",
    )
    .bind(channel)
    .bind(provider_id)
    .bind(status)
    .bind(error)
    .execute(ex)
    .await?;
    Ok(r.rows_affected())
}

pub async fn opted_out(
    ex: impl PgExecutor<'_>,
    tenant: Uuid,
    channel: &str,
    recipient: &str,
) -> Result<bool, sqlx::Error> {
    // Matched in the normalised form (`admin::opt_out_key`); also the exact
    // text, for rows saved before opt-out keys were normalised.
    let key = super::admin::opt_out_key(channel, recipient);
    sqlx::query_scalar(
        "select exists (select 1 from notification_opt_outs where tenant_id = $1 and channel = $2 and recipient = any($3))",
    )
    .bind(tenant)
    .bind(channel)
    .bind(vec![key, recipient.trim().to_string()])
    .fetch_one(ex)
    .await
}

pub async fn token_dead(
    ex: impl PgExecutor<'_>,
    tenant: Uuid,
    token: &str,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("select exists (select 1 from notification_dead_tokens where tenant_id = $1 and token = $2)")
        .bind(tenant)
        .bind(token)
        .fetch_one(ex)
        .await
}

pub async fn mark_token_dead(
    ex: impl PgExecutor<'_>,
    tenant: Uuid,
    token: &str,
    reason: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("insert into notification_dead_tokens (tenant_id, token, reason) values ($1, $2, $3) on conflict do nothing")
        .bind(tenant)
        .bind(token)
        .bind(reason)
        .execute(ex)
        .await
        .map(|_| ())
}

/// The tenant's timezone and quiet hours (start, end minutes), if set.
pub async fn quiet_hours(
    ex: impl PgExecutor<'_>,
    tenant: Uuid,
) -> Result<(String, Option<(i32, i32)>), sqlx::Error> {
    let row: Option<(String, Option<i32>, Option<i32>)> = sqlx::query_as(
        "select t.timezone, p.quiet_start_minute, p.quiet_end_minute from tenants t \
         left join notification_policies p on p.tenant_id = t.id where t.id = $1",
    )
    .bind(tenant)
    .fetch_optional(ex)
    .await?;
    Ok(match row {
        Some((tz, Some(s), Some(e))) => (tz, Some((s, e))),
        Some((tz, _, _)) => (tz, None),
        None => (crate::store::tenants::DEFAULT_TIMEZONE.to_string(), None),
    })
}

/// A tenant's channel row: (settings, enabled, disabled_reason).
pub async fn channel(
    ex: impl PgExecutor<'_>,
    tenant: Uuid,
    channel: &str,
) -> Result<Option<(serde_json::Value, bool, Option<String>)>, sqlx::Error> {
    sqlx::query_as(
        "select settings, enabled, disabled_reason from notification_channels where tenant_id = $1 and channel = $2",
    )
    .bind(tenant)
    .bind(channel)
    .fetch_optional(ex)
    .await
}

/// A failed delivery on `channel`; returns the count of failures in a row.
pub async fn channel_failed(
    ex: impl PgExecutor<'_>,
    tenant: Uuid,
    channel: &str,
) -> Result<i32, sqlx::Error> {
    sqlx::query_scalar(
        "update notification_channels set consecutive_failures = consecutive_failures + 1 \
         where tenant_id = $1 and channel = $2 returning consecutive_failures",
    )
    .bind(tenant)
    .bind(channel)
    .fetch_optional(ex)
    .await
    .map(|n| n.unwrap_or(0))
}

pub async fn channel_ok(
    ex: impl PgExecutor<'_>,
    tenant: Uuid,
    channel: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update notification_channels set consecutive_failures = 0 \
         where tenant_id = $1 and channel = $2 and consecutive_failures <> 0",
    )
    .bind(tenant)
    .bind(channel)
    .execute(ex)
    .await
    .map(|_| ())
}

/// Disables a channel and leaves the tenant a notice (one transaction at the call site).
pub async fn disable_channel(
    ex: &mut sqlx::PgConnection,
    tenant: Uuid,
    channel: &str,
    reason: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update notification_channels set enabled = false, disabled_reason = $3, updated_at = now() \
         where tenant_id = $1 and channel = $2 and enabled",
    )
    .bind(tenant)
    .bind(channel)
    .bind(reason)
    .execute(&mut *ex)
    .await?;
    sqlx::query("insert into notification_notices (id, tenant_id, channel, message) values ($1, $2, $3, $4)")
        .bind(Uuid::now_v7())
        .bind(tenant)
        .bind(channel)
        .bind(reason)
        .execute(&mut *ex)
        .await
        .map(|_| ())
}

/// A template's parts: (subject, body, html).
pub async fn template(
    ex: impl PgExecutor<'_>,
    tenant: Uuid,
    name: &str,
    channel: &str,
    locale: &str,
) -> Result<Option<(Option<String>, String, Option<String>)>, sqlx::Error> {
    sqlx::query_as(
        "select subject, body, html from notification_templates \
         where tenant_id = $1 and name = $2 and channel = $3 and locale = $4",
    )
    .bind(tenant)
    .bind(name)
    .bind(channel)
    .bind(locale)
    .fetch_optional(ex)
    .await
}

/// The `auth_token_env` of an SMS channel using Twilio account `sid` (to check a callback's signature).
pub async fn sms_auth_env(
    ex: impl PgExecutor<'_>,
    sid: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        "select settings->>'auth_token_env' from notification_channels \
         where channel = 'sms' and settings->>'account_sid' = $1 limit 1",
    )
    .bind(sid)
    .fetch_optional(ex)
    .await
    .map(Option::flatten)
}

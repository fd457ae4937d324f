//! `notify.send`, step by step: load the row; stop if it is already past
//! `queued` (sent once); apply the policies (opt-out → `suppressed`, dead
//! device token → `failed`, quiet hours → snooze, disabled channel →
//! `failed`); claim it (`sending`); call the provider; record the outcome.

use std::time::Duration;

use chrono::Utc;
use serde_json::json;
use uuid::Uuid;

use super::model::{ChannelName, Notification};
use super::{dispatch, quiet, sql};
use crate::channels::SendError;
use crate::kinds::{JobContext, JobError};

fn db(e: sqlx::Error) -> JobError {
    JobError::retryable(format!("postgres: {e}"))
}

fn done(n: &Notification, status: &str) -> serde_json::Value {
    json!({ "notification_id": n.id, "status": status })
}

/// Runs one outbox row through the pipeline (the body of `notify.send`).
pub async fn process(id: Uuid, ctx: &JobContext) -> Result<serde_json::Value, JobError> {
    let pg = ctx
        .resources
        .pg
        .clone()
        .ok_or_else(|| JobError::permanent("notify.send needs PostgreSQL"))?;
    let tenant: Uuid = ctx
        .tenant
        .parse()
        .map_err(|_| JobError::permanent("tenant is not a UUID"))?;
    let n = sql::get(&pg, tenant, id)
        .await
        .map_err(db)?
        .ok_or_else(|| JobError::permanent("no such notification"))?;
    match n.status.as_str() {
        "queued" => {}
        "sending" => {
            // The previous run died between claiming and recording: the provider
            // may have the message. Never guess; show it to ops.
            sql::set_status(
                &pg,
                n.id,
                "sending",
                "unknown",
                Some("worker stopped during the provider call"),
            )
            .await
            .map_err(db)?;
            tracing::warn!(tenant_id = %tenant, notification_id = %n.id, "outbox row left sending: now unknown");
            return Ok(done(&n, "unknown"));
        }
        other => return Ok(done(&n, other)),
    }
    let channel =
        ChannelName::parse(&n.channel).ok_or_else(|| JobError::permanent("unknown channel"))?;

    if sql::opted_out(&pg, tenant, &n.channel, &n.recipient)
        .await
        .map_err(db)?
    {
        sql::set_status(
            &pg,
            n.id,
            "queued",
            "suppressed",
            Some("recipient opted out"),
        )
        .await
        .map_err(db)?;
        return Ok(done(&n, "suppressed"));
    }
    if channel == ChannelName::Push
        && sql::token_dead(&pg, tenant, &n.recipient)
            .await
            .map_err(db)?
    {
        sql::set_status(
            &pg,
            n.id,
            "queued",
            "failed",
            Some("device token unregistered"),
        )
        .await
        .map_err(db)?;
        return Ok(done(&n, "failed"));
    }
    if !n.urgent {
        let (tz, window) = sql::quiet_hours(&pg, tenant).await.map_err(db)?;
        if let Some((start, end)) = window {
            let tz =
                crate::store::tenants::parse_timezone(&tz).unwrap_or(chrono_tz::America::Sao_Paulo);
            let now = Utc::now();
            if let Some(until) = quiet::quiet_until(now, tz, start as u32, end as u32) {
                let delay = (until - now)
                    .to_std()
                    .unwrap_or_default()
                    .max(Duration::from_secs(1));
                return Err(JobError::Snooze { delay });
            }
        }
    }
    let Some((settings, enabled, why)) = sql::channel(&pg, tenant, &n.channel).await.map_err(db)?
    else {
        return fail(
            &pg,
            &n,
            "queued",
            format!("channel {} is not configured for this tenant", n.channel),
        )
        .await;
    };
    if !enabled {
        return fail(
            &pg,
            &n,
            "queued",
            format!(
                "channel {} is disabled: {}",
                n.channel,
                why.unwrap_or_default()
            ),
        )
        .await;
    }
    let out = match dispatch::prepare(&pg, tenant, &n, settings).await {
        Ok(o) => o,
        Err(SendError::Retryable { reason, .. }) => return Err(JobError::retryable(reason)),
        Err(e) => return fail(&pg, &n, "queued", e.to_string()).await,
    };
    if sql::claim(&pg, n.id).await.map_err(db)?.is_none() {
        // Another run got here first; it owns the send.
        return Ok(done(&n, "claimed elsewhere"));
    }
    let s = &ctx.resources.settings.notifications;
    let result = dispatch::send(channel, s, &out).await;
    if channel == ChannelName::Webhook {
        webhook_outcome(&pg, tenant, result.is_ok(), s.webhook_max_failures)
            .await
            .map_err(db)?;
    }
    match result {
        Ok(sent) => {
            sql::mark_sent(&pg, n.id, sent.provider_message_id.as_deref())
                .await
                .map_err(db)?;
            tracing::info!(tenant_id = %tenant, notification_id = %n.id, channel = %n.channel, "notification sent");
            Ok(
                json!({ "notification_id": n.id, "status": "sent", "provider_message_id": sent.provider_message_id }),
            )
        }
        Err(SendError::Retryable {
            reason,
            retry_after,
        }) => {
            if ctx.attempt >= ctx.max_attempts {
                return fail(
                    &pg,
                    &n,
                    "sending",
                    format!("gave up after {} attempts: {reason}", ctx.attempt),
                )
                .await;
            }
            // The provider did not take it: sending again is safe.
            sql::set_status(&pg, n.id, "sending", "queued", Some(&reason))
                .await
                .map_err(db)?;
            Err(JobError::Retryable {
                reason,
                retry_after,
            })
        }
        Err(SendError::DeadToken { reason }) => {
            sql::mark_token_dead(&pg, tenant, &n.recipient, &reason)
                .await
                .map_err(db)?;
            fail(&pg, &n, "sending", format!("device token {reason}")).await
        }
        Err(SendError::Permanent { reason }) => fail(&pg, &n, "sending", reason).await,
        Err(SendError::Unknown { reason }) => {
            // Like a worker dying mid-call: shown to ops, never re-sent.
            sql::set_status(&pg, n.id, "sending", "unknown", Some(&reason))
                .await
                .map_err(db)?;
            tracing::warn!(tenant_id = %tenant, notification_id = %n.id, channel = %n.channel, %reason, "notification outcome unknown");
            Err(JobError::permanent(format!("outcome unknown: {reason}")))
        }
    }
}

/// Records a permanent failure on the row and fails the job with the same reason.
async fn fail(
    pg: &sqlx::PgPool,
    n: &Notification,
    from: &str,
    reason: String,
) -> Result<serde_json::Value, JobError> {
    sql::set_status(pg, n.id, from, "failed", Some(&reason))
        .await
        .map_err(db)?;
    tracing::info!(tenant_id = %n.tenant_id, notification_id = %n.id, channel = %n.channel, %reason, "notification failed");
    Err(JobError::permanent(reason))
}

/// Webhook health: a success resets the count; `max` failures in a row disable
/// the channel and leave the tenant a notice.
async fn webhook_outcome(
    pg: &sqlx::PgPool,
    tenant: Uuid,
    ok: bool,
    max: u32,
) -> Result<(), sqlx::Error> {
    if ok {
        return sql::channel_ok(pg, tenant, "webhook").await;
    }
    let failures = sql::channel_failed(pg, tenant, "webhook").await?;
    if max > 0 && failures >= max as i32 {
        let mut tx = pg.begin().await?;
        let reason = format!("disabled after {failures} failed deliveries in a row; fix the endpoint and re-enable it");
        sql::disable_channel(&mut tx, tenant, "webhook", &reason).await?;
        tx.commit().await?;
        tracing::warn!(tenant_id = %tenant, failures, "webhook channel disabled");
    }
    Ok(())
}

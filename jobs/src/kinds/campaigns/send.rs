//! `campaigns.send`: one recipient, through the notifications outbox, at
//! most once.
//!
//! 1. The recipient must be `dispatched` (anything else: another run owns it
//!    or it is done). A `sending` recipient means a run died during the
//!    provider call: like the outbox, it becomes `unknown`, never re-sent.
//! 2. The campaign must be `running`: `paused` puts the recipient back to
//!    `queued` (resume picks it up), `cancelled`/`failed` makes it `cancelled`.
//!    So a pause stops new sends as soon as the jobs already handed out run
//!    (at most a tick's worth, about a second).
//! 3. The contact is checked again (blocked or opted out since the freeze →
//!    `skipped`), the window too, and the template rendered (a variable with
//!    no value and no default → `skipped`, `missing_variable:<name>`).
//! 4. The outbox row (`campaign:<campaign>:<contact>`) is written or found;
//!    a row already past `queued` is only mirrored onto the recipient. Then
//!    the recipient (`dispatched → sending`) and the row (`queued → sending`)
//!    are claimed by guarded updates, and the WhatsApp channel is called.
//! 5. Meta's answer: sent (wamid kept) · 130429 throttle → back to
//!    `dispatched`, the campaign's rate lowered 20 %, retried after Retry-After
//!    (a snooze: no attempt spent) · 131048 spam limit → back to `queued` and the campaign pauses itself ·
//!    131049 per-user marketing limit → `deferred` 24 h · 131050 → `failed`
//!    and the contact's marketing opt-out set · 131026 and other 4xx →
//!    `failed` with the code · timeout after the request left → `unknown`.
//!    A failure feeds the quality guard.

use std::time::Duration;

use chrono::Utc;
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use super::model::{components, render_values, Campaign, Fields, Template};
use super::{contacts, dispatch, lifecycle, window, CampaignsSettings};
use crate::channels::SendError;
use crate::kinds::notify::model::{
    ChannelName, MessageSpec, NotificationRequest, WhatsAppTemplate,
};
use crate::kinds::notify::{dispatch as notify_dispatch, outbox, sql as outbox_sql};
use crate::kinds::{JobContext, JobError};

fn db(e: sqlx::Error) -> JobError {
    JobError::retryable(format!("postgres: {e}"))
}

/// The Meta error code in a channel error's reason (`… meta 131049: …`).
pub fn meta_code(reason: &str) -> Option<i64> {
    let i = reason.find("meta ")?;
    let rest = &reason[i + 5..];
    let end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

#[derive(sqlx::FromRow)]
struct Row {
    status: String,
    contact_id: Uuid,
    phone: String,
    notification_id: Option<Uuid>,
    name: String,
    external_id: String,
    attributes: serde_json::Value,
    blocked: bool,
    opted_out: bool,
    marketing_opt_out: bool,
}

/// Moves a recipient from one of `from` to `to` with a reason; false if it was not there.
async fn set(
    pg: &PgPool,
    rid: Uuid,
    from: &[&str],
    to: &str,
    reason: Option<&str>,
    code: Option<i64>,
) -> Result<bool, sqlx::Error> {
    let from: Vec<String> = from.iter().map(|s| s.to_string()).collect();
    let r = sqlx::query(
        "update campaign_recipients set status = $3, reason = coalesce($4, reason), \
         error_code = coalesce($5, error_code), updated_at = now(), \
         failed_at = case when $3 = 'failed' then now() else failed_at end \
         where id = $1 and status = any($2)",
    )
    .bind(rid)
    .bind(&from)
    .bind(to)
    .bind(reason)
    .bind(code.map(|c| c as i32))
    .execute(pg)
    .await?;
    Ok(r.rows_affected() == 1)
}

fn done(status: &str) -> serde_json::Value {
    json!({ "status": status })
}

/// The body of `campaigns.send`.
pub async fn process(
    campaign_id: Uuid,
    rid: Uuid,
    ctx: &JobContext,
) -> Result<serde_json::Value, JobError> {
    let pg = ctx
        .resources
        .pg
        .clone()
        .ok_or_else(|| JobError::permanent("campaigns.send needs PostgreSQL"))?;
    let s = &ctx.resources.settings.campaigns;
    let tenant: Uuid = ctx
        .tenant
        .parse()
        .map_err(|_| JobError::permanent("tenant is not a UUID"))?;
    let c = lifecycle::get(&pg, tenant, campaign_id)
        .await
        .map_err(db)?
        .ok_or_else(|| JobError::permanent("no such campaign"))?;
    let r: Option<Row> = sqlx::query_as(
        "select r.status, r.contact_id, r.phone, r.notification_id, c.name, c.external_id, c.attributes, \
         c.blocked, c.opted_out_at is not null as opted_out, c.marketing_opt_out \
         from campaign_recipients r join contacts c on c.id = r.contact_id \
         where r.id = $1 and r.campaign_id = $2",
    )
    .bind(rid)
    .bind(campaign_id)
    .fetch_optional(&pg)
    .await
    .map_err(db)?;
    let Some(r) = r else {
        return Ok(done("gone"));
    };
    match r.status.as_str() {
        "dispatched" => {}
        "sending" => {
            // A run died mid-call (or the outbox knows more): mirror the outbox row.
            let st = mirror(&pg, rid, r.notification_id, tenant)
                .await
                .map_err(db)?;
            return Ok(done(&st));
        }
        other => return Ok(done(other)),
    }
    match c.state.as_str() {
        "running" => {}
        "paused" | "scheduled" | "draft" => {
            set(&pg, rid, &["dispatched"], "queued", None, None)
                .await
                .map_err(db)?;
            return Ok(done("paused"));
        }
        _ => {
            set(
                &pg,
                rid,
                &["dispatched"],
                "cancelled",
                Some("campaign cancelled"),
                None,
            )
            .await
            .map_err(db)?;
            return Ok(done("cancelled"));
        }
    }
    let template = lifecycle::template_by_id(&pg, c.template_id)
        .await
        .map_err(db)?;
    let marketing = template.category == "marketing";
    let skip = if r.blocked {
        Some("blocked")
    } else if r.opted_out {
        Some("opted_out")
    } else if r.marketing_opt_out && marketing {
        Some("marketing_opt_out")
    } else {
        None
    };
    if let Some(why) = skip {
        set(&pg, rid, &["dispatched"], "skipped", Some(why), None)
            .await
            .map_err(db)?;
        return Ok(done("skipped"));
    }
    if let Some((ws, we)) = c.window() {
        let tz = dispatch::tenant_tz(&pg, tenant).await.map_err(db)?;
        if window::opens_at(Utc::now(), tz, ws, we).is_some() {
            set(&pg, rid, &["dispatched"], "queued", None, None)
                .await
                .map_err(db)?;
            return Ok(done("outside window"));
        }
    }
    let fields = Fields {
        name: &r.name,
        phone: &r.phone,
        external_id: &r.external_id,
        attributes: &r.attributes,
    };
    let values = match render_values(&template, &c.mapping(), &fields) {
        Ok(v) => v,
        Err(var) => {
            let why = format!("missing_variable:{var}");
            set(&pg, rid, &["dispatched"], "skipped", Some(&why), None)
                .await
                .map_err(db)?;
            return Ok(done("skipped"));
        }
    };
    let Some((mut settings, enabled, why)) = outbox_sql::channel(&pg, tenant, "whatsapp")
        .await
        .map_err(db)?
    else {
        return fail_campaign(
            &pg,
            &ctx.resources.engine,
            &c,
            rid,
            "the tenant has no whatsapp channel",
        )
        .await;
    };
    if !enabled {
        let reason = format!("whatsapp channel disabled: {}", why.unwrap_or_default());
        return fail_campaign(&pg, &ctx.resources.engine, &c, rid, &reason).await;
    }
    settings["phone_number_id"] = json!(c.sender_phone_number_id);
    let row = write_outbox(&pg, tenant, &c, &template, r.contact_id, &r.phone, values)
        .await
        .map_err(|e| JobError::retryable(e.to_string()))?;
    // One statement: link the outbox row, and claim the recipient (`dispatched → sending`).
    // The old status is read under the row lock, so of two racing runs only one sees `dispatched`.
    let claimed: bool = sqlx::query_scalar(
        "update campaign_recipients r set notification_id = $2, \
           status = case when o.old = 'dispatched' then 'sending' else r.status end, updated_at = now() \
         from (select id, status as old from campaign_recipients where id = $1 for update) o \
         where r.id = o.id returning o.old = 'dispatched'",
    )
    .bind(rid)
    .bind(row.id)
    .fetch_optional(&pg)
    .await
    .map_err(db)?
    .unwrap_or(false);
    if row.status != "queued" {
        // Sent (or settled) by an earlier run of this recipient: never again.
        let st = mirror(&pg, rid, Some(row.id), tenant).await.map_err(db)?;
        return Ok(done(&st));
    }
    if !claimed {
        return Ok(done("claimed elsewhere"));
    }
    if outbox_sql::claim(&pg, row.id).await.map_err(db)?.is_none() {
        let st = mirror(&pg, rid, Some(row.id), tenant).await.map_err(db)?;
        return Ok(done(&st));
    }
    let out = notify_dispatch::prepare(&pg, tenant, &row, settings)
        .await
        .map_err(|e| JobError::permanent(e.to_string()))?;
    let result = notify_dispatch::send(
        ChannelName::Whatsapp,
        &ctx.resources.settings.notifications,
        &out,
    )
    .await;
    outcome(&pg, ctx, s, &c, rid, r.contact_id, row.id, result).await
}

/// The outbox row for this recipient (found if an earlier run wrote it).
async fn write_outbox(
    pg: &PgPool,
    tenant: Uuid,
    c: &Campaign,
    t: &Template,
    contact: Uuid,
    phone: &str,
    values: Vec<String>,
) -> Result<crate::kinds::notify::Notification, outbox::EnqueueError> {
    let req = NotificationRequest {
        channel: ChannelName::Whatsapp,
        recipient: Some(phone.to_string()),
        dedup_key: Some(format!("campaign:{}:{contact}", c.id)),
        recipients: vec![],
        message: MessageSpec {
            whatsapp_template: Some(WhatsAppTemplate {
                name: t.name.clone(),
                language: Some(t.language.clone()),
                components: components(&values),
            }),
            ..Default::default()
        },
        urgent: false,
    };
    let mut conn = pg.acquire().await?;
    let rows = outbox::write_rows(&mut conn, tenant, &req).await?;
    rows.into_iter()
        .next()
        .map(|e| e.row)
        .ok_or_else(|| outbox::EnqueueError::Db(sqlx::Error::RowNotFound))
}

/// Copies what the outbox row says onto a `sending` recipient (`sending` in
/// the outbox too means the call's outcome is lost: both become `unknown`).
async fn mirror(
    pg: &PgPool,
    rid: Uuid,
    nid: Option<Uuid>,
    tenant: Uuid,
) -> Result<String, sqlx::Error> {
    let n = match nid {
        Some(id) => outbox_sql::get(pg, tenant, id).await?,
        None => None,
    };
    let Some(n) = n else {
        // Never reached the outbox: nothing was sent; send it on the next dispatch.
        set(pg, rid, &["sending"], "queued", None, None).await?;
        return Ok("queued".into());
    };
    let st = match n.status.as_str() {
        "sending" => {
            outbox_sql::set_status(
                pg,
                n.id,
                "sending",
                "unknown",
                Some("worker stopped during the provider call"),
            )
            .await?;
            "unknown"
        }
        "queued" => "queued",
        "sent" | "delivered" | "read" => "sent",
        "failed" | "suppressed" => "failed",
        _ => "unknown",
    };
    if st == "queued" {
        set(pg, rid, &["sending"], "dispatched", None, None).await?;
        // Back to the dispatcher: the outbox row was never claimed.
        set(pg, rid, &["dispatched"], "queued", None, None).await?;
    } else if st == "sent" {
        sqlx::query(
            "update campaign_recipients set status = 'sent', wamid = $2, sent_at = coalesce(sent_at, $3), updated_at = now() \
             where id = $1 and status = 'sending'",
        )
        .bind(rid)
        .bind(&n.provider_message_id)
        .bind(n.sent_at)
        .execute(pg)
        .await?;
    } else {
        let reason = n
            .last_error
            .as_deref()
            .unwrap_or("worker stopped during the provider call");
        set(pg, rid, &["sending"], st, Some(reason), None).await?;
    }
    Ok(st.into())
}

async fn fail_campaign(
    pg: &PgPool,
    engine: &crate::engine::Engine,
    c: &Campaign,
    rid: Uuid,
    reason: &str,
) -> Result<serde_json::Value, JobError> {
    set(pg, rid, &["dispatched"], "queued", None, None)
        .await
        .map_err(db)?;
    if lifecycle::transition(pg, c.id, &["running", "paused"], "failed", Some(reason))
        .await
        .map_err(db)?
        .is_some()
    {
        lifecycle::event(pg, c.id, "failed", reason)
            .await
            .map_err(db)?;
        dispatch::stop_limits(engine, c.id).await.ok();
    }
    Ok(done("campaign failed"))
}

/// Pauses a running campaign with a reason and a notice (131048, quality guard, quality webhooks).
pub async fn auto_pause(
    pg: &PgPool,
    id: Uuid,
    kind: &str,
    reason: &str,
) -> Result<bool, sqlx::Error> {
    let moved = lifecycle::transition(pg, id, &["running"], "paused", Some(reason)).await?;
    if moved.is_some() {
        lifecycle::event(pg, id, kind, reason).await?;
        tracing::warn!(campaign_id = %id, %reason, "campaign paused itself");
    }
    Ok(moved.is_some())
}

#[allow(clippy::too_many_arguments)]
async fn outcome(
    pg: &PgPool,
    ctx: &JobContext,
    s: &CampaignsSettings,
    c: &Campaign,
    rid: Uuid,
    contact: Uuid,
    nid: Uuid,
    result: Result<crate::channels::Sent, SendError>,
) -> Result<serde_json::Value, JobError> {
    let engine = &ctx.resources.engine;
    let err = match result {
        Ok(sent) => {
            outbox_sql::mark_sent(pg, nid, sent.provider_message_id.as_deref())
                .await
                .map_err(db)?;
            super::inbound::record_sent(pg, rid, sent.provider_message_id.as_deref())
                .await
                .map_err(db)?;
            return Ok(json!({ "status": "sent", "wamid": sent.provider_message_id }));
        }
        Err(e) => e,
    };
    let reason = err.to_string();
    let code = match &err {
        SendError::Retryable { reason, .. } | SendError::Permanent { reason } => meta_code(reason),
        _ => None,
    };
    // Meta did not take the message in every case below but `Unknown` and the
    // final failures: the outbox row goes back to `queued` so a later run may send it.
    let requeue = |to: &'static str, why: String| async move {
        outbox_sql::set_status(pg, nid, "sending", "queued", Some(&why)).await?;
        set(pg, rid, &["sending"], to, Some(&why), code).await
    };
    match (&err, code) {
        (SendError::Unknown { reason }, _) => {
            outbox_sql::set_status(pg, nid, "sending", "unknown", Some(reason))
                .await
                .map_err(db)?;
            set(pg, rid, &["sending"], "unknown", Some(reason), None)
                .await
                .map_err(db)?;
            Ok(done("unknown"))
        }
        (_, Some(131049)) => {
            requeue("deferred", reason.clone()).await.map_err(db)?;
            sqlx::query("update campaign_recipients set deferred_until = now() + make_interval(hours => $2) where id = $1")
                .bind(rid)
                .bind(s.defer_hours as i32)
                .execute(pg)
                .await
                .map_err(db)?;
            Ok(done("deferred"))
        }
        (_, Some(131048)) => {
            requeue("queued", reason.clone()).await.map_err(db)?;
            auto_pause(
                pg,
                c.id,
                "auto_pause",
                &format!("meta 131048: spam rate limit hit; {reason}"),
            )
            .await
            .map_err(db)?;
            Ok(done("queued"))
        }
        (SendError::Retryable { retry_after, .. }, Some(130429)) => {
            // Meta's throughput: not a failure. Lower the rate for every worker and
            // come back later without spending an attempt.
            lower_rate(pg, engine, c.id).await?;
            requeue("dispatched", reason.clone()).await.map_err(db)?;
            let jitter = Duration::from_millis(rand::random::<u64>() % 1000);
            Err(JobError::Snooze {
                delay: retry_after.unwrap_or(Duration::from_secs(1)) + jitter,
            })
        }
        (SendError::Retryable { retry_after, .. }, code) => {
            if ctx.attempt >= ctx.max_attempts {
                outbox_sql::set_status(pg, nid, "sending", "failed", Some(&reason))
                    .await
                    .map_err(db)?;
                set(
                    pg,
                    rid,
                    &["sending"],
                    "failed",
                    Some(&format!("gave up after {} attempts: {reason}", ctx.attempt)),
                    code,
                )
                .await
                .map_err(db)?;
                guard(pg, s, c.id).await?;
                return Ok(done("failed"));
            }
            requeue("dispatched", reason.clone()).await.map_err(db)?;
            Err(JobError::Retryable {
                reason,
                retry_after: *retry_after,
            })
        }
        (_, code) => {
            outbox_sql::set_status(pg, nid, "sending", "failed", Some(&reason))
                .await
                .map_err(db)?;
            set(pg, rid, &["sending"], "failed", Some(&reason), code)
                .await
                .map_err(db)?;
            if code == Some(131050) {
                contacts::stop_marketing(pg, contact).await.map_err(db)?;
            }
            guard(pg, s, c.id).await?;
            Ok(done("failed"))
        }
    }
}

/// Meta said 130429 (throughput): the campaign's rate drops 20 % (at least 1/s) for every worker.
async fn lower_rate(pg: &PgPool, engine: &crate::engine::Engine, id: Uuid) -> Result<(), JobError> {
    let c: Option<Campaign> = sqlx::query_as(&format!(
        "update campaigns set effective_rate = greatest(1, effective_rate * 4 / 5), throttled_at = now() \
         where id = $1 returning {}",
        lifecycle::CAMPAIGN_COLS
    ))
    .bind(id)
    .fetch_optional(pg)
    .await
    .map_err(db)?;
    if let Some(c) = c {
        dispatch::set_limits(engine, &c)
            .await
            .map_err(|e| JobError::retryable(e.to_string()))?;
        lifecycle::event(
            pg,
            id,
            "throttled",
            &format!("meta 130429: rate lowered to {}/s", c.effective_rate),
        )
        .await
        .map_err(db)?;
    }
    Ok(())
}

/// The quality guard: over the last `quality_window` provider answers, a failure
/// share above `quality_max_failure_rate` (with at least `quality_min_sends`) pauses the campaign.
pub async fn guard(pg: &PgPool, s: &CampaignsSettings, id: Uuid) -> Result<(), JobError> {
    if s.quality_window == 0 {
        return Ok(());
    }
    let (failed, total): (i64, i64) = sqlx::query_as(
        "select count(*) filter (where status = 'failed'), count(*) from \
         (select status from campaign_recipients where campaign_id = $1 and \
          status in ('sent', 'delivered', 'read', 'failed') order by updated_at desc limit $2) t",
    )
    .bind(id)
    .bind(s.quality_window as i64)
    .fetch_one(pg)
    .await
    .map_err(db)?;
    if total >= s.quality_min_sends as i64
        && failed as f64 / total as f64 > s.quality_max_failure_rate
    {
        let reason = format!(
            "quality_guard: {failed} of the last {total} sends failed (over {:.0} %)",
            s.quality_max_failure_rate * 100.0
        );
        auto_pause(pg, id, "auto_pause", &reason)
            .await
            .map_err(db)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_codes_are_read_from_channel_reasons() {
        assert_eq!(
            meta_code("400 meta 131049: (#131049) not delivered"),
            Some(131049)
        );
        assert_eq!(
            meta_code("meta 130429: (#130429) Rate limit hit"),
            Some(130429)
        );
        assert_eq!(meta_code("503 upstream"), None);
    }
}

//! `events.remind`: one due reminder row → notifications outbox rows.
//!
//! 1. Lock the booking (`for share`: an update or cancel waits until this
//!    send is handed over), then the reminder row (`for update`).
//! 2. Only a row still `enqueued` goes on. A timed reminder whose version is
//!    not the booking's current one, or whose booking was cancelled, is
//!    `skipped` (a stale reminder never sends); a review request after
//!    `review.created` is `skipped` too.
//! 3. One outbox request per audience member and channel with an address,
//!    dedup key `rem:<reminder id>:<audience>:<channel>` — the reminder row
//!    is unique per booking, rule and version, so a repeated job never sends
//!    twice. Its rows are written on this transaction (`outbox::write_rows`)
//!    and commit while the booking lock is held. The outbox applies
//!    opt-outs and quiet hours (unless urgent).
//! 4. Then their `notify.send` jobs are pushed, then the row becomes `sent`
//!    with those rows' ids and `delivery = pending` (`skipped` with "no
//!    address" when nobody could be reached). One connection at a time: any
//!    number of these jobs never starve the pool.
//! 5. What the messages became is settled later by the scheduler's round
//!    (`follow`): `reminder.sent` or `reminder.failed` to the tenant's
//!    webhook. A job that gives up (a permanent error, or its last attempt)
//!    marks the row `failed` and publishes `reminder.failed` ([`give_up`]).

use chrono::Utc;
use sqlx::PgPool;
use uuid::Uuid;

use super::envelope::Contact;
use super::message;
use super::plan::{tenant_zone, Trigger};
use super::sql;
use crate::engine::{Engine, JobError};
use crate::kinds::notify::outbox;
use crate::kinds::notify::{ChannelName, MessageSpec, NotificationRequest};

/// What one run did.
#[derive(Debug, PartialEq, Eq, serde::Serialize)]
pub struct Sent {
    /// sent | skipped | already_<status>
    pub status: String,
    pub reason: Option<String>,
    pub messages: usize,
}

fn db(e: sqlx::Error) -> JobError {
    JobError::retryable(format!("postgres: {e}"))
}

fn address(c: &Contact, channel: ChannelName) -> Option<&str> {
    match channel {
        ChannelName::Email => c.email.as_deref(),
        ChannelName::Sms | ChannelName::Whatsapp => c.phone.as_deref(),
        ChannelName::Push => c.push_token.as_deref(),
        ChannelName::Webhook => None,
    }
    .filter(|a| !a.trim().is_empty())
}

/// Runs one reminder (see the module doc).
pub async fn send(
    pg: &PgPool,
    engine: &Engine,
    tenant: Uuid,
    reminder_id: Uuid,
) -> Result<Sent, JobError> {
    let mut tx = pg.begin().await.map_err(db)?;
    let booking_id: Option<String> =
        sqlx::query_scalar("select booking_id from reminders where tenant_id = $1 and id = $2")
            .bind(tenant)
            .bind(reminder_id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db)?;
    let Some(booking_id) = booking_id else {
        return Err(JobError::permanent(format!("no reminder {reminder_id}")));
    };
    let booking = sql::booking(&mut *tx, tenant, &booking_id, true)
        .await
        .map_err(db)?
        .ok_or_else(|| JobError::permanent("booking gone"))?;
    let r = sql::reminder_for_update(&mut tx, tenant, reminder_id)
        .await
        .map_err(db)?
        .ok_or_else(|| JobError::permanent("reminder gone"))?;
    if r.status != "enqueued" && r.status != "pending" {
        return Ok(Sent {
            status: format!("already_{}", r.status),
            reason: None,
            messages: 0,
        });
    }
    let rule = sql::rule(&mut *tx, tenant, r.rule_id)
        .await
        .map_err(db)?
        .ok_or_else(|| JobError::permanent("rule gone"))?;
    let trigger = Trigger::from_row(&rule.trigger, rule.offset_minutes, rule.local_time)
        .ok_or_else(|| JobError::permanent(format!("unknown trigger {}", rule.trigger)))?;
    let skip = if trigger.is_timed() && r.version != booking.version {
        Some(format!(
            "stale: planned for version {}, booking is at {}",
            r.version, booking.version
        ))
    } else if booking.cancelled && trigger != Trigger::OnCancel {
        Some("booking cancelled".to_string())
    } else if matches!(trigger, Trigger::AfterEnd { .. }) && booking.review_received {
        Some("review already received".to_string())
    } else {
        None
    };
    if let Some(why) = skip {
        sql::finish_reminder(&mut tx, r.id, "skipped", Some(&why))
            .await
            .map_err(db)?;
        tx.commit().await.map_err(db)?;
        return Ok(Sent {
            status: "skipped".into(),
            reason: Some(why),
            messages: 0,
        });
    }
    let tz = sql::tenant_timezone(&mut *tx, tenant)
        .await
        .map_err(db)?
        .unwrap_or_default();
    let zone = tenant_zone(&tz);
    let labels = sql::labels(&mut *tx, tenant).await.map_err(db)?;
    let mut audience: Vec<(&str, &Contact)> = Vec::new();
    if matches!(rule.audience.as_str(), "client" | "both") {
        audience.extend(booking.client.as_ref().map(|c| ("client", c)));
    }
    if matches!(rule.audience.as_str(), "staff" | "both") {
        audience.extend(booking.staff.as_ref().map(|c| ("staff", c)));
    }
    let mut messages = 0;
    let mut written = Vec::new();
    for (who, contact) in audience {
        let vars = message::variables(
            &booking,
            &labels,
            zone,
            contact.name.as_deref(),
            &rule.family,
        );
        let text = message::render(rule.template.as_deref(), trigger, &vars)
            .map_err(|e| JobError::permanent(format!("rule {} template: {e}", rule.name)))?;
        for ch in &rule.channels {
            let Some(channel) = ChannelName::parse(ch) else {
                continue;
            };
            let Some(to) = address(contact, channel) else {
                continue;
            };
            let req = NotificationRequest {
                channel,
                recipient: Some(to.to_string()),
                dedup_key: Some(format!("rem:{}:{who}:{ch}", r.id)),
                recipients: Vec::new(),
                message: MessageSpec {
                    subject: (channel == ChannelName::Email)
                        .then(|| message::subject(trigger, &vars)),
                    text: Some(text.clone()),
                    data: vars.as_object().cloned().unwrap_or_default(),
                    ..MessageSpec::default()
                },
                urgent: rule.urgent,
            };
            // On this transaction: the rows commit with the version check's lock held.
            let rows = outbox::write_rows(&mut tx, tenant, &req)
                .await
                .map_err(|e| match e {
                    outbox::EnqueueError::Invalid(f) => JobError::permanent(f.to_string()),
                    e => JobError::retryable(e.to_string()),
                })?;
            written.extend(rows);
            messages += 1;
        }
    }
    let (status, reason) = if messages == 0 {
        (
            "skipped",
            Some("no address for the rule's audience and channels"),
        )
    } else {
        ("sent", None)
    };
    if messages == 0 {
        sql::finish_reminder(&mut tx, r.id, status, reason)
            .await
            .map_err(db)?;
    }
    // The outbox rows commit first, the row stays `enqueued`; then their jobs
    // are pushed, then the row is `sent`. A crash in between re-runs this job:
    // the rows are found (same dedup keys), their jobs pushed (same ids).
    tx.commit().await.map_err(db)?;
    outbox::push_jobs(engine, tenant, &written)
        .await
        .map_err(|e| JobError::retryable(e.to_string()))?;
    if messages > 0 {
        // `delivery` pending: the scheduler's round (`follow`) settles it
        // from these rows' final statuses and publishes `reminder.sent` or
        // `reminder.failed`.
        let ids: Vec<Uuid> = written.iter().map(|e| e.row.id).collect();
        let mut conn = pg.acquire().await.map_err(db)?;
        sql::finish_sent(&mut conn, r.id, &ids).await.map_err(db)?;
    }
    tracing::info!(tenant_id = %tenant, reminder_id = %r.id, status, messages, lateness_ms = (Utc::now() - r.due_at).num_milliseconds(), "reminder handled");
    Ok(Sent {
        status: status.into(),
        reason: reason.map(str::to_string),
        messages,
    })
}

/// The `events.remind` job failed for good (a permanent error, or its last
/// attempt): the row becomes `failed` with the reason (unless it already
/// ended), and `reminder.failed` goes to the tenant's webhook if subscribed.
pub async fn give_up(
    pg: &PgPool,
    engine: &Engine,
    tenant: Uuid,
    reminder_id: Uuid,
    reason: &str,
) -> Result<bool, JobError> {
    let mut tx = pg.begin().await.map_err(db)?;
    let row: Option<(String, Uuid, i64, chrono::DateTime<Utc>)> = sqlx::query_as(
        "update reminders set status = 'failed', reason = $3, delivery = 'failed', updated_at = now() \
         where tenant_id = $1 and id = $2 and status in ('pending', 'enqueued') \
         returning booking_id, rule_id, version, due_at",
    )
    .bind(tenant)
    .bind(reminder_id)
    .bind(reason)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db)?;
    let Some((booking_id, rule_id, version, due_at)) = row else {
        return Ok(false);
    };
    let rule = sql::rule(&mut *tx, tenant, rule_id).await.map_err(db)?;
    let data = serde_json::json!({"reminder_id": reminder_id, "booking_id": booking_id,
        "rule": rule.map(|r| r.name), "version": version, "due_at": due_at,
        "reason": reason, "messages": []});
    let subs = sql::webhook_events(&mut *tx, tenant).await.map_err(db)?;
    let mut rows = Vec::new();
    if super::webhook::subscribed(&subs, "reminder.failed") {
        let d = super::webhook::Delivery {
            tenant,
            ordering_key: booking_id,
            event_type: "reminder.failed".into(),
            dedup_key: format!("reminder.failed:{reminder_id}"),
            data,
        };
        rows = super::webhook::queue(&mut tx, &[d])
            .await
            .map_err(|e| JobError::retryable(e.to_string()))?;
    }
    tx.commit().await.map_err(db)?;
    super::webhook::push(engine, &rows)
        .await
        .map_err(|e| JobError::retryable(e.to_string()))?;
    tracing::warn!(tenant_id = %tenant, reminder_id = %reminder_id, reason, "reminder failed");
    Ok(true)
}

//! `campaigns.send`: a chunk of recipients (one to 50, see
//! [`super::dispatch::chunk_size`]), through the notifications outbox, each at
//! most once. The statements are set-based ([`super::batch`]): a chunk costs
//! about as many as one message did.
//!
//! 1. Only `dispatched` recipients are sent (anything else: another run owns
//!    it or it is done). A `sending` recipient means a run died during the
//!    provider call: like the outbox, it becomes `unknown`, never re-sent.
//! 2. The campaign must be `running`: `paused` puts the recipients back to
//!    `queued` (resume picks them up), `cancelled`/`failed` makes them
//!    `cancelled`. So a pause stops new sends as soon as the chunks already
//!    handed out run (at most `in_flight_secs` of the rate, about two seconds
//!    at most, usually far less: a chunk is 50 ms of the rate).
//! 3. The contacts are checked again (blocked or opted out since the freeze →
//!    `skipped`), the window too, and the template rendered (a variable with
//!    no value and no default → `skipped`, `missing_variable:<name>`).
//! 4. In one transaction the recipients move `dispatched → sending` (a
//!    guarded update: of two racing runs only one gets each) and their outbox
//!    rows (`campaign:<campaign>:<contact>`) are written as `sending`, or an
//!    earlier run's `queued` row is claimed; a row already past `queued` is
//!    only mirrored onto its recipient. Then every claimed message is sent at
//!    once (the engine paced the chunk).
//! 5. Meta's answers, recorded together: sent (wamid kept) · 130429 throttle
//!    → back to `dispatched`, the campaign's rate lowered 20 %, the chunk
//!    retried after Retry-After (a snooze: no attempt spent) · 131048 spam
//!    limit → back to `queued` and the campaign pauses itself · 131049
//!    per-user marketing limit → `deferred` 24 h · 131050 → `failed` and the
//!    contact's marketing opt-out set · 131026 and other 4xx → `failed` with
//!    the code · timeout after the request left → `unknown`. A failure feeds
//!    the quality guard.

use std::time::Duration;

use chrono::Utc;
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use super::model::{components, render_values, Campaign, Fields};
use super::{batch, contacts, dispatch, lifecycle, window, CampaignsSettings};
use crate::channels::{Outgoing, SendError};
use crate::kinds::notify::model::{ChannelName, WhatsAppTemplate};
use crate::kinds::notify::{dispatch as notify_dispatch, sql as outbox_sql};
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

/// The body of `campaigns.send`: one chunk of recipients (see the module doc).
pub async fn process(
    campaign_id: Uuid,
    rids: &[Uuid],
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
    let rows = batch::load(&pg, campaign_id, rids).await.map_err(db)?;
    let mut tally = Tally::default();
    let mut ready = Vec::with_capacity(rows.len());
    for r in rows {
        match r.status.as_str() {
            "dispatched" => ready.push(r),
            "sending" => {
                // A run died mid-call (or the outbox knows more): mirror the outbox row.
                let st = mirror(&pg, r.id, r.notification_id, tenant)
                    .await
                    .map_err(db)?;
                tally.add(&st);
            }
            other => tally.add(other),
        }
    }
    if ready.is_empty() {
        return Ok(tally.json());
    }
    let ids = |rows: &[batch::Row]| rows.iter().map(|r| r.id).collect::<Vec<_>>();
    match c.state.as_str() {
        "running" => {}
        "paused" | "scheduled" | "draft" => {
            batch::moves(&pg, &ids(&ready), "queued", &vec![None; ready.len()])
                .await
                .map_err(db)?;
            tally.n("paused", ready.len());
            return Ok(tally.json());
        }
        _ => {
            let why = Some("campaign cancelled".to_string());
            batch::moves(&pg, &ids(&ready), "cancelled", &vec![why; ready.len()])
                .await
                .map_err(db)?;
            tally.n("cancelled", ready.len());
            return Ok(tally.json());
        }
    }
    if let Some((ws, we)) = c.window() {
        let tz = dispatch::tenant_tz(&pg, tenant).await.map_err(db)?;
        if window::opens_at(Utc::now(), tz, ws, we).is_some() {
            batch::moves(&pg, &ids(&ready), "queued", &vec![None; ready.len()])
                .await
                .map_err(db)?;
            tally.n("outside window", ready.len());
            return Ok(tally.json());
        }
    }
    let template = lifecycle::template_by_id(&pg, c.template_id)
        .await
        .map_err(db)?;
    let marketing = template.category == "marketing";
    let mapping = c.mapping();
    let (mut skip_ids, mut skip_why) = (Vec::new(), Vec::new());
    let mut to_send = Vec::with_capacity(ready.len());
    for r in &ready {
        let skip = if r.blocked {
            Some("blocked".to_string())
        } else if r.opted_out {
            Some("opted_out".to_string())
        } else if r.marketing_opt_out && marketing {
            Some("marketing_opt_out".to_string())
        } else {
            None
        };
        let values = match skip {
            Some(why) => Err(why),
            None => render_values(
                &template,
                &mapping,
                &Fields {
                    name: &r.name,
                    phone: &r.phone,
                    external_id: &r.external_id,
                    attributes: &r.attributes,
                },
            )
            .map_err(|var| format!("missing_variable:{var}")),
        };
        match values {
            Ok(values) => to_send.push(batch::ToSend {
                rid: r.id,
                contact: r.contact_id,
                phone: r.phone.clone(),
                template: WhatsAppTemplate {
                    name: template.name.clone(),
                    language: Some(template.language.clone()),
                    components: components(&values),
                },
            }),
            Err(why) => {
                skip_ids.push(r.id);
                skip_why.push(Some(why));
            }
        }
    }
    let skipped = batch::moves(&pg, &skip_ids, "skipped", &skip_why)
        .await
        .map_err(db)?;
    tally.n("skipped", skipped as usize);
    if to_send.is_empty() {
        return Ok(tally.json());
    }
    let Some((mut settings, enabled, why)) = outbox_sql::channel(&pg, tenant, "whatsapp")
        .await
        .map_err(db)?
    else {
        let ids: Vec<Uuid> = to_send.iter().map(|t| t.rid).collect();
        return fail_campaign(
            &pg,
            &ctx.resources.engine,
            &c,
            &ids,
            "the tenant has no whatsapp channel",
        )
        .await;
    };
    if !enabled {
        let reason = format!("whatsapp channel disabled: {}", why.unwrap_or_default());
        let ids: Vec<Uuid> = to_send.iter().map(|t| t.rid).collect();
        return fail_campaign(&pg, &ctx.resources.engine, &c, &ids, &reason).await;
    }
    settings["phone_number_id"] = json!(c.sender_phone_number_id);
    let claim = batch::claim(&pg, tenant, campaign_id, to_send)
        .await
        .map_err(db)?;
    for (rid, nid) in &claim.mirror {
        let st = mirror(&pg, *rid, Some(*nid), tenant).await.map_err(db)?;
        tally.add(&st);
    }
    if claim.send.is_empty() {
        return Ok(tally.json());
    }
    // Every claimed message leaves at once: the engine paced this chunk (its
    // rate slot is worth the chunk's messages), and a message claimed but not
    // yet asked for would turn `unknown` at a crash.
    let ns = &ctx.resources.settings.notifications;
    let results = futures::future::join_all(claim.send.iter().map(|m| {
        let out = Outgoing {
            notification_id: m.nid,
            tenant_id: tenant,
            recipient: m.phone.clone(),
            subject: None,
            text: String::new(),
            html: None,
            data: json!({ "template": m.template }),
            attachments: vec![],
            settings: settings.clone(),
        };
        async move { notify_dispatch::send(ChannelName::Whatsapp, ns, &out).await }
    }))
    .await;
    outcome(&pg, ctx, s, &c, &claim.send, results, tally).await
}

/// What a chunk's recipients came to (the job's result).
#[derive(Default)]
struct Tally(std::collections::BTreeMap<String, usize>);

impl Tally {
    fn add(&mut self, status: &str) {
        self.n(status, 1);
    }
    fn n(&mut self, status: &str, n: usize) {
        if n > 0 {
            *self.0.entry(status.to_string()).or_default() += n;
        }
    }
    fn json(&self) -> serde_json::Value {
        json!(self.0)
    }
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
    rids: &[Uuid],
    reason: &str,
) -> Result<serde_json::Value, JobError> {
    batch::moves(pg, rids, "queued", &vec![None; rids.len()])
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

/// Records a chunk's answers set-based ([`batch::record`]), then what they
/// mean for the campaign: 130429 lowers its rate and the chunk snoozes (its
/// unsent recipients back to `dispatched` for the next run, no attempt
/// spent); 131048 pauses it; 131050 opts the contact out of marketing; a
/// retryable failure retries the chunk (its sent recipients are not sent again);
/// a failure feeds the quality guard.
async fn outcome(
    pg: &PgPool,
    ctx: &JobContext,
    s: &CampaignsSettings,
    c: &Campaign,
    sent: &[batch::Claimed],
    results: Vec<Result<crate::channels::Sent, SendError>>,
    mut tally: Tally,
) -> Result<serde_json::Value, JobError> {
    let mut moves = Vec::with_capacity(sent.len());
    let mut wamids = Vec::new();
    // 130429 seen (with Meta's retry hint, if any); a retryable error (with its hint).
    let mut throttle: Option<Option<Duration>> = None;
    let mut retry: Option<(String, Option<Duration>)> = None;
    let (mut spam, mut failed) = (None, false);
    let mut stop_marketing = Vec::new();
    for (m, result) in sent.iter().zip(results) {
        let mv = |recipient, outbox, reason: Option<String>, code: Option<i64>| batch::Move {
            rid: m.rid,
            nid: m.nid,
            recipient,
            outbox,
            wamid: None,
            reason,
            code: code.map(|c| c as i32),
        };
        let err = match result {
            Ok(ok) => {
                if let Some(w) = &ok.provider_message_id {
                    wamids.push(w.clone());
                }
                moves.push(batch::Move {
                    wamid: ok.provider_message_id,
                    ..mv("sent", "sent", None, None)
                });
                tally.add("sent");
                continue;
            }
            Err(e) => e,
        };
        let reason = err.to_string();
        let code = match &err {
            SendError::Retryable { reason, .. } | SendError::Permanent { reason } => {
                meta_code(reason)
            }
            _ => None,
        };
        // Meta did not take the message in every case below but `Unknown` and
        // the final failures: the outbox row goes back to `queued` so a later run may send it.
        let (r, o) = match (&err, code) {
            (SendError::Unknown { .. }, _) => ("unknown", "unknown"),
            (_, Some(131049)) => ("deferred", "queued"),
            (_, Some(131048)) => {
                spam = Some(reason.clone());
                ("queued", "queued")
            }
            (SendError::Retryable { retry_after, .. }, Some(130429)) => {
                // Meta's throughput: not a failure.
                let prev = throttle.flatten();
                throttle = Some(prev.max(*retry_after));
                ("dispatched", "queued")
            }
            (SendError::Retryable { retry_after, .. }, _) => {
                if ctx.attempt >= ctx.max_attempts {
                    failed = true;
                    let why = format!("gave up after {} attempts: {reason}", ctx.attempt);
                    moves.push(mv("failed", "failed", Some(why), code));
                    tally.add("failed");
                    continue;
                }
                let prev = retry.as_ref().and_then(|r| r.1);
                retry = Some((reason.clone(), prev.max(*retry_after)));
                ("dispatched", "queued")
            }
            (_, code) => {
                failed = true;
                if code == Some(131050) {
                    stop_marketing.push(m.contact);
                }
                ("failed", "failed")
            }
        };
        tally.add(r);
        let code = if r == "unknown" { None } else { code };
        moves.push(mv(r, o, Some(reason), code));
    }
    batch::record(pg, &moves, s.defer_hours).await.map_err(db)?;
    // Statuses Meta posted before these wamids were recorded (read after the commit above).
    super::inbound::apply_early_many(pg, &wamids)
        .await
        .map_err(db)?;
    for contact in stop_marketing {
        contacts::stop_marketing(pg, contact).await.map_err(db)?;
    }
    if let Some(reason) = spam {
        auto_pause(
            pg,
            c.id,
            "auto_pause",
            &format!("meta 131048: spam rate limit hit; {reason}"),
        )
        .await
        .map_err(db)?;
    }
    if failed {
        guard(pg, s, c.id).await?;
    }
    if let Some(retry_after) = throttle {
        // Lower the rate for every worker and come back later without spending an attempt.
        lower_rate(pg, &ctx.resources.engine, c.id).await?;
        let jitter = Duration::from_millis(rand::random::<u64>() % 1000);
        return Err(JobError::Snooze {
            delay: retry_after.unwrap_or(Duration::from_secs(1)) + jitter,
        });
    }
    if let Some((reason, retry_after)) = retry {
        return Err(JobError::Retryable {
            reason,
            retry_after,
        });
    }
    Ok(tally.json())
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

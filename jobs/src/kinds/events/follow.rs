//! The scheduler's follow-up round for events (run beside the due-reminder
//! round, HA-safe: rows are taken `for update skip locked`):
//!
//! 1. **Webhook sequences.** A released delivery whose outbox row is final
//!    (sent, delivered, read, failed, suppressed, unknown) becomes `done`,
//!    and its booking's next delivery is released (`webhook::release`).
//! 2. **Repair.** A released delivery whose row is still `queued` and whose
//!    job was pushed over [`REPUSH_AFTER_SECS`] ago gets its job pushed again: a
//!    crash between a commit and its push leaves a row without a job, and the
//!    engine ignores a job id it already holds (a row in backoff keeps its job).
//! 3. **Reminders.** A `sent` reminder whose outbox rows are all final is
//!    settled: `delivery` = `sent` when every row was sent (or suppressed by
//!    an opt-out) and at least one sent, else `failed`; then `reminder.sent`
//!    or `reminder.failed` goes to the tenant's webhook when subscribed, in
//!    the booking's order, with each message's channel, status and error.
//!
//! The outbox owns `notifications`; this round only reads its rows' status
//! by id (a join, read only).

use std::collections::HashMap;

use sqlx::PgPool;
use uuid::Uuid;

use super::sql;
use super::webhook::{self, Delivery};
use crate::engine::Engine;
use crate::kinds::notify::outbox::{EnqueueError, Enqueued};

/// Rows per step and round.
pub const BATCH_DEFAULT: i64 = 500;
/// A released row still `queued` this many seconds after its push gets
/// pushed again (a row in backoff keeps its job: the push is a no-op).
pub const REPUSH_AFTER_SECS: i64 = 60;

/// Outbox statuses after which nothing more happens to a row.
const FINAL: &str = "('sent', 'delivered', 'read', 'failed', 'suppressed', 'unknown')";

/// What one round did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FollowOutcome {
    /// Deliveries found final (their successors released).
    pub advanced: usize,
    /// Released rows whose job was pushed again.
    pub repushed: usize,
    /// Reminders settled (sent or failed).
    pub settled: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum FollowError {
    #[error("postgres: {0}")]
    Db(#[from] sqlx::Error),
    #[error("{0}")]
    Outbox(#[from] EnqueueError),
}

/// One round (see the module doc).
pub async fn round(pg: &PgPool, engine: &Engine, batch: i64) -> Result<FollowOutcome, FollowError> {
    let mut out = FollowOutcome::default();
    let mut push = Vec::new();

    // 1. Sequences.
    let mut tx = pg.begin().await?;
    let done: Vec<(Uuid, Uuid, String, String)> = sqlx::query_as(&format!(
        "select w.id, w.tenant_id, w.ordering_key, n.status from event_webhooks w \
         join notifications n on n.id = w.notification_id \
         where w.state = 'released' and n.status in {FINAL} \
         order by w.released_at limit $1 for update of w skip locked"
    ))
    .bind(batch)
    .fetch_all(&mut *tx)
    .await?;
    if !done.is_empty() {
        sqlx::query(
            "update event_webhooks w set state = 'done', outcome = x.o, done_at = now() \
             from unnest($1::uuid[], $2::text[]) as x(id, o) where w.id = x.id",
        )
        .bind(done.iter().map(|d| d.0).collect::<Vec<_>>())
        .bind(done.iter().map(|d| d.3.clone()).collect::<Vec<_>>())
        .execute(&mut *tx)
        .await?;
        let mut bookings: Vec<(Uuid, String)> = done.iter().map(|d| (d.1, d.2.clone())).collect();
        bookings.sort();
        bookings.dedup();
        webhook::lock_sequences(&mut tx, &bookings).await?;
        for (tenant, booking) in &bookings {
            push.extend(webhook::release(&mut tx, *tenant, booking).await?);
        }
        out.advanced = done.len();
    }
    tx.commit().await?;

    // 2. Repair.
    let stuck: Vec<(Uuid, Uuid, Uuid)> = sqlx::query_as(
        // A CTE, taken once (a re-run `in (select … skip locked)` could take more than `$1`).
        "with stuck as materialized (select w2.id from event_webhooks w2 \
           join notifications n2 on n2.id = w2.notification_id \
           where w2.state = 'released' and n2.status = 'queued' \
             and w2.pushed_at < now() - make_interval(secs => $2) \
           limit $1 for update of w2 skip locked) \
         update event_webhooks w set pushed_at = now() from notifications n, stuck \
         where n.id = w.notification_id and w.id = stuck.id \
         returning w.id, w.tenant_id, n.id",
    )
    .bind(batch)
    .bind(REPUSH_AFTER_SECS as f64)
    .fetch_all(pg)
    .await?;
    for (_, tenant, nid) in &stuck {
        if let Some(row) = crate::kinds::notify::sql::get(pg, *tenant, *nid).await? {
            push.push(Enqueued {
                row,
                created: false,
            });
        }
    }
    out.repushed = stuck.len();

    // 3. Reminders.
    out.settled = settle(pg, batch, &mut push).await?;
    webhook::push(engine, &push).await?;
    Ok(out)
}

type Settled = (
    Uuid,
    Uuid,
    String,
    i64,
    chrono::DateTime<chrono::Utc>,
    Vec<Uuid>,
    Option<String>,
);

async fn settle(pg: &PgPool, batch: i64, push: &mut Vec<Enqueued>) -> Result<usize, FollowError> {
    let mut tx = pg.begin().await?;
    let rows: Vec<Settled> = sqlx::query_as(
        "select r.id, r.tenant_id, r.booking_id, r.version, r.due_at, r.notification_ids, rr.name \
         from reminders r left join reminder_rules rr on rr.id = r.rule_id \
         where r.delivery = 'pending' and not exists (select 1 from notifications n \
           where n.id = any(r.notification_ids) and n.status in ('queued', 'sending')) \
         order by r.updated_at limit $1 for update of r skip locked",
    )
    .bind(batch)
    .fetch_all(&mut *tx)
    .await?;
    if rows.is_empty() {
        return Ok(0);
    }
    let ids: Vec<Uuid> = rows.iter().flat_map(|r| r.5.clone()).collect();
    let msgs: HashMap<Uuid, (String, String, Option<String>)> =
        sqlx::query_as::<_, (Uuid, String, String, Option<String>)>(
            "select id, channel, status, last_error from notifications where id = any($1)",
        )
        .bind(&ids)
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .map(|(id, c, s, e)| (id, (c, s, e)))
        .collect();
    let mut subs: HashMap<Uuid, Vec<String>> = HashMap::new();
    let mut deliveries = Vec::new();
    let (mut settled_ids, mut outcomes) = (Vec::new(), Vec::new());
    for (id, tenant, booking, version, due_at, nids, rule) in &rows {
        let mine: Vec<&(String, String, Option<String>)> =
            nids.iter().filter_map(|n| msgs.get(n)).collect();
        let sent = |s: &str| matches!(s, "sent" | "delivered" | "read");
        let ok = mine.iter().any(|m| sent(&m.1))
            && mine.iter().all(|m| sent(&m.1) || m.1 == "suppressed");
        let (delivery, event_type) = if ok {
            ("sent", "reminder.sent")
        } else {
            ("failed", "reminder.failed")
        };
        settled_ids.push(*id);
        outcomes.push(delivery);
        let patterns = match subs.entry(*tenant) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(sql::webhook_events(&mut *tx, *tenant).await?)
            }
        };
        if !webhook::subscribed(patterns, event_type) {
            continue;
        }
        let messages: Vec<serde_json::Value> = mine
            .iter()
            .map(|(c, s, e)| serde_json::json!({"channel": c, "status": s, "error": e}))
            .collect();
        deliveries.push(Delivery {
            tenant: *tenant,
            ordering_key: booking.clone(),
            event_type: event_type.into(),
            dedup_key: format!("{event_type}:{id}"),
            data: serde_json::json!({"reminder_id": id, "booking_id": booking, "rule": rule,
                "version": version, "due_at": due_at, "messages": messages}),
        });
    }
    sqlx::query(
        "update reminders r set delivery = x.d, updated_at = now() \
         from unnest($1::uuid[], $2::text[]) as x(id, d) where r.id = x.id",
    )
    .bind(&settled_ids)
    .bind(&outcomes)
    .execute(&mut *tx)
    .await?;
    push.extend(webhook::queue(&mut tx, &deliveries).await?);
    tx.commit().await?;
    Ok(rows.len())
}

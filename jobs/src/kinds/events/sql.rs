//! The events feature's queries: events (idempotent insert), booking state
//! (locked per booking), reminder rules and rows, external tenant ids and
//! dead letters. Everything but the due-reminder scan is scoped by tenant.

use chrono::{DateTime, NaiveTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use super::envelope::{Contact, Family};
use super::state::Booking;

/// A tenant's id and zone, from the product's id for it.
pub async fn tenant_by_external(
    ex: impl PgExecutor<'_>,
    source: &str,
    external_id: &str,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "select tenant_id from tenant_external_ids where source = $1 and external_id = $2",
    )
    .bind(source)
    .bind(external_id)
    .fetch_optional(ex)
    .await
}

/// Maps the product's tenant id to a Tarefa tenant (idempotent).
pub async fn map_external(
    ex: impl PgExecutor<'_>,
    source: &str,
    external_id: &str,
    tenant: Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into tenant_external_ids (source, external_id, tenant_id) values ($1, $2, $3) \
         on conflict (source, external_id) do update set tenant_id = excluded.tenant_id",
    )
    .bind(source)
    .bind(external_id)
    .bind(tenant)
    .execute(ex)
    .await?;
    Ok(())
}

pub async fn tenant_timezone(
    ex: impl PgExecutor<'_>,
    tenant: Uuid,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("select timezone from tenants where id = $1")
        .bind(tenant)
        .fetch_optional(ex)
        .await
}

/// Serialises every writer of one booking for the transaction (the row may not exist yet).
pub async fn lock_booking(
    tx: &mut PgConnection,
    tenant: Uuid,
    booking: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("select pg_advisory_xact_lock(hashtextextended($1::text || '/' || $2, 16))")
        .bind(tenant)
        .bind(booking)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// A new event row; `false` when this tenant already has this event id.
#[allow(clippy::too_many_arguments)]
pub async fn insert_event(
    tx: &mut PgConnection,
    tenant: Uuid,
    event_id: &str,
    event_type: &str,
    booking_id: &str,
    source: &str,
    entry_id: Option<&str>,
    occurred_at: DateTime<Utc>,
    outcome: &str,
    payload: &serde_json::Value,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "insert into events (id, tenant_id, event_id, event_type, booking_id, source, stream_entry_id, \
         occurred_at, outcome, payload) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
         on conflict (tenant_id, event_id) do nothing",
    )
    .bind(Uuid::now_v7())
    .bind(tenant)
    .bind(event_id)
    .bind(event_type)
    .bind(booking_id)
    .bind(source)
    .bind(entry_id)
    .bind(occurred_at)
    .bind(outcome)
    .bind(payload)
    .execute(&mut *tx)
    .await?;
    Ok(r.rows_affected() == 1)
}

type BookingRow = (
    String,
    i64,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
    serde_json::Value,
    bool,
    bool,
    bool,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
);

const BOOKING_COLS: &str =
    "family, version, status, user_id, resource_id, start_time, end_time, contacts, \
    cancelled, review_received, created_seen, time_changed_at, status_changed_at";

fn to_booking(r: BookingRow) -> Booking {
    let contact = |k: &str| -> Option<Contact> {
        r.7.get(k)
            .and_then(|v| serde_json::from_value(v.clone()).ok())
    };
    Booking {
        family: Some(if r.0 == "session" {
            Family::Session
        } else {
            Family::Booking
        }),
        version: r.1,
        status: r.2.clone(),
        user_id: r.3.clone(),
        resource_id: r.4.clone(),
        start_time: r.5,
        end_time: r.6,
        client: contact("client"),
        staff: contact("staff"),
        cancelled: r.8,
        review_received: r.9,
        created_seen: r.10,
        time_changed_at: r.11,
        status_changed_at: r.12,
    }
}

/// The booking, or `None`; `for share` when `lock` (a reminder being sent
/// holds it so an update waits until the send is handed to the outbox).
pub async fn booking(
    ex: impl PgExecutor<'_>,
    tenant: Uuid,
    booking: &str,
    lock: bool,
) -> Result<Option<Booking>, sqlx::Error> {
    let sql = format!(
        "select {BOOKING_COLS} from event_bookings where tenant_id = $1 and booking_id = $2{}",
        if lock { " for share" } else { "" }
    );
    let row: Option<BookingRow> = sqlx::query_as(&sql)
        .bind(tenant)
        .bind(booking)
        .fetch_optional(ex)
        .await?;
    Ok(row.map(to_booking))
}

pub async fn save_booking(
    tx: &mut PgConnection,
    tenant: Uuid,
    booking_id: &str,
    b: &Booking,
) -> Result<(), sqlx::Error> {
    let contacts = serde_json::json!({ "client": b.client, "staff": b.staff });
    sqlx::query(
        "insert into event_bookings (tenant_id, booking_id, family, version, status, user_id, resource_id, \
           start_time, end_time, contacts, cancelled, review_received, created_seen, time_changed_at, status_changed_at) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
         on conflict (tenant_id, booking_id) do update set version = excluded.version, status = excluded.status, \
           user_id = excluded.user_id, resource_id = excluded.resource_id, start_time = excluded.start_time, \
           end_time = excluded.end_time, contacts = excluded.contacts, cancelled = excluded.cancelled, \
           review_received = excluded.review_received, created_seen = excluded.created_seen, \
           time_changed_at = excluded.time_changed_at, status_changed_at = excluded.status_changed_at, updated_at = now()",
    )
    .bind(tenant)
    .bind(booking_id)
    .bind(b.family.unwrap_or(Family::Booking).as_str())
    .bind(b.version)
    .bind(&b.status)
    .bind(&b.user_id)
    .bind(&b.resource_id)
    .bind(b.start_time)
    .bind(b.end_time)
    .bind(contacts)
    .bind(b.cancelled)
    .bind(b.review_received)
    .bind(b.created_seen)
    .bind(b.time_changed_at)
    .bind(b.status_changed_at)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// A reminder rule (a row of `reminder_rules`).
#[derive(Clone, Debug, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct Rule {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub family: String,
    pub name: String,
    pub trigger: String,
    pub offset_minutes: i32,
    pub local_time: Option<NaiveTime>,
    pub audience: String,
    pub channels: Vec<String>,
    pub template: Option<String>,
    pub urgent: bool,
}

const RULE_COLS: &str =
    "id, tenant_id, family, name, trigger, offset_minutes, local_time, audience, channels, template, urgent";

/// The tenant's enabled rules for a family.
pub async fn rules(
    ex: impl PgExecutor<'_>,
    tenant: Uuid,
    family: &str,
) -> Result<Vec<Rule>, sqlx::Error> {
    sqlx::query_as(&format!(
        "select {RULE_COLS} from reminder_rules where tenant_id = $1 and family = $2 and enabled order by created_at, id"
    ))
    .bind(tenant)
    .bind(family)
    .fetch_all(ex)
    .await
}

pub async fn rule(
    ex: impl PgExecutor<'_>,
    tenant: Uuid,
    id: Uuid,
) -> Result<Option<Rule>, sqlx::Error> {
    sqlx::query_as(&format!(
        "select {RULE_COLS} from reminder_rules where tenant_id = $1 and id = $2"
    ))
    .bind(tenant)
    .bind(id)
    .fetch_optional(ex)
    .await
}

/// A new rule (tests and the API); returns its id.
pub async fn insert_rule(ex: impl PgExecutor<'_>, r: &Rule) -> Result<Uuid, sqlx::Error> {
    sqlx::query(
        "insert into reminder_rules (id, tenant_id, family, name, trigger, offset_minutes, local_time, audience, \
         channels, template, urgent) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(r.id)
    .bind(r.tenant_id)
    .bind(&r.family)
    .bind(&r.name)
    .bind(&r.trigger)
    .bind(r.offset_minutes)
    .bind(r.local_time)
    .bind(&r.audience)
    .bind(&r.channels)
    .bind(&r.template)
    .bind(r.urgent)
    .execute(ex)
    .await?;
    Ok(r.id)
}

/// Reminders of older versions (or all, on a cancel) that have not gone out
/// yet stop here: `superseded` or `cancelled`. Notices (`on_cancel`) are kept.
pub async fn retire_reminders(
    tx: &mut PgConnection,
    tenant: Uuid,
    booking: &str,
    below_version: i64,
    status: &str,
) -> Result<u64, sqlx::Error> {
    let r = sqlx::query(
        "update reminders r set status = $4, updated_at = now() from reminder_rules rr \
         where rr.id = r.rule_id and r.tenant_id = $1 and r.booking_id = $2 and r.version < $3 \
           and r.status in ('pending', 'enqueued') and rr.trigger <> 'on_cancel'",
    )
    .bind(tenant)
    .bind(booking)
    .bind(below_version)
    .bind(status)
    .execute(&mut *tx)
    .await?;
    Ok(r.rows_affected())
}

/// Plans one reminder; an existing (booking, rule, version) row is kept.
pub async fn insert_reminder(
    tx: &mut PgConnection,
    tenant: Uuid,
    booking: &str,
    rule: Uuid,
    version: i64,
    due_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into reminders (id, tenant_id, booking_id, rule_id, version, due_at) values ($1, $2, $3, $4, $5, $6) \
         on conflict (tenant_id, booking_id, rule_id, version) do nothing",
    )
    .bind(Uuid::now_v7())
    .bind(tenant)
    .bind(booking)
    .bind(rule)
    .bind(version)
    .bind(due_at)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// A reminder row.
#[derive(Clone, Debug, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct Reminder {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub booking_id: String,
    pub rule_id: Uuid,
    pub version: i64,
    pub due_at: DateTime<Utc>,
    pub status: String,
    pub reason: Option<String>,
}

const REMINDER_COLS: &str = "id, tenant_id, booking_id, rule_id, version, due_at, status, reason";

pub async fn reminders_of(
    ex: impl PgExecutor<'_>,
    tenant: Uuid,
    booking: &str,
) -> Result<Vec<Reminder>, sqlx::Error> {
    sqlx::query_as(&format!(
        "select {REMINDER_COLS} from reminders where tenant_id = $1 and booking_id = $2 order by version, due_at"
    ))
    .bind(tenant)
    .bind(booking)
    .fetch_all(ex)
    .await
}

/// The reminder, locked for the send.
pub async fn reminder_for_update(
    tx: &mut PgConnection,
    tenant: Uuid,
    id: Uuid,
) -> Result<Option<Reminder>, sqlx::Error> {
    sqlx::query_as(&format!(
        "select {REMINDER_COLS} from reminders where tenant_id = $1 and id = $2 for update"
    ))
    .bind(tenant)
    .bind(id)
    .fetch_optional(&mut *tx)
    .await
}

pub async fn finish_reminder(
    tx: &mut PgConnection,
    id: Uuid,
    status: &str,
    reason: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query("update reminders set status = $2, reason = $3, updated_at = now() where id = $1")
        .bind(id)
        .bind(status)
        .bind(reason)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// A reminder handed to the outbox: `sent`, with its rows' ids; what they
/// become is settled later (`delivery` pending → sent | failed).
pub async fn finish_sent(
    conn: &mut PgConnection,
    id: Uuid,
    notification_ids: &[Uuid],
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update reminders set status = 'sent', reason = null, notification_ids = $2, \
         delivery = 'pending', updated_at = now() where id = $1",
    )
    .bind(id)
    .bind(notification_ids)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Due (or due within `horizon`) pending reminders of every tenant, taken
/// `for update skip locked` and marked `enqueued` in the caller's transaction.
pub async fn claim_due(
    tx: &mut PgConnection,
    until: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<Reminder>, sqlx::Error> {
    sqlx::query_as(&format!(
        "with due as (select id from reminders where status = 'pending' and due_at <= $1 \
           order by due_at limit $2 for update skip locked) \
         update reminders r set status = 'enqueued', updated_at = now() from due where r.id = due.id \
         returning {}",
        REMINDER_COLS
            .split(", ")
            .map(|c| format!("r.{c}"))
            .collect::<Vec<_>>()
            .join(", ")
    ))
    .bind(until)
    .bind(limit)
    .fetch_all(&mut *tx)
    .await
}

/// The tenant's words (`{"booking": "Aula", ...}`), empty when unset.
pub async fn labels(
    ex: impl PgExecutor<'_>,
    tenant: Uuid,
) -> Result<serde_json::Value, sqlx::Error> {
    let v: Option<serde_json::Value> =
        sqlx::query_scalar("select labels from event_settings where tenant_id = $1")
            .bind(tenant)
            .fetch_optional(ex)
            .await?;
    Ok(v.unwrap_or_else(|| serde_json::json!({})))
}

pub async fn set_labels(
    ex: impl PgExecutor<'_>,
    tenant: Uuid,
    labels: &serde_json::Value,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into event_settings (tenant_id, labels) values ($1, $2) \
         on conflict (tenant_id) do update set labels = excluded.labels, updated_at = now()",
    )
    .bind(tenant)
    .bind(labels)
    .execute(ex)
    .await?;
    Ok(())
}

/// A dead-lettered stream entry.
#[derive(Clone, Debug, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct DeadLetter {
    pub id: Uuid,
    pub stream: String,
    pub entry_id: String,
    pub tenant_id: Option<Uuid>,
    #[schema(value_type = Object)]
    pub fields: serde_json::Value,
    pub reason: String,
    pub deliveries: i32,
    pub created_at: DateTime<Utc>,
    pub resolution: Option<String>,
}

/// Records a dead letter; the same entry twice keeps one row (the latest reason).
pub async fn insert_dead_letter(
    ex: impl PgExecutor<'_>,
    stream: &str,
    entry_id: &str,
    tenant: Option<Uuid>,
    fields: &serde_json::Value,
    reason: &str,
    deliveries: i32,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into event_dead_letters (id, stream, entry_id, tenant_id, fields, reason, deliveries) \
         values ($1, $2, $3, $4, $5, $6, $7) on conflict (stream, entry_id) do update \
         set reason = excluded.reason, deliveries = excluded.deliveries, resolution = null, resolved_at = null",
    )
    .bind(Uuid::now_v7())
    .bind(stream)
    .bind(entry_id)
    .bind(tenant)
    .bind(fields)
    .bind(reason)
    .bind(deliveries)
    .execute(ex)
    .await?;
    Ok(())
}

pub async fn dead_letters(
    ex: impl PgExecutor<'_>,
    stream: &str,
) -> Result<Vec<DeadLetter>, sqlx::Error> {
    sqlx::query_as(
        "select id, stream, entry_id, tenant_id, fields, reason, deliveries, created_at, resolution \
         from event_dead_letters where stream = $1 order by created_at",
    )
    .bind(stream)
    .fetch_all(ex)
    .await
}

/// The event types the tenant's webhook receives (patterns: `booking.*`, `*`).
pub async fn webhook_events(
    ex: impl PgExecutor<'_>,
    tenant: Uuid,
) -> Result<Vec<String>, sqlx::Error> {
    let v: Option<Vec<String>> =
        sqlx::query_scalar("select webhook_events from event_settings where tenant_id = $1")
            .bind(tenant)
            .fetch_optional(ex)
            .await?;
    Ok(v.unwrap_or_default())
}

pub async fn set_webhook_events(
    ex: impl PgExecutor<'_>,
    tenant: Uuid,
    events: &[String],
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into event_settings (tenant_id, webhook_events) values ($1, $2) \
         on conflict (tenant_id) do update set webhook_events = excluded.webhook_events, updated_at = now()",
    )
    .bind(tenant)
    .bind(events)
    .execute(ex)
    .await?;
    Ok(())
}

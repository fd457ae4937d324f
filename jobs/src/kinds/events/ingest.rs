//! Recording one event: one transaction per event, which
//! 1. takes the booking's lock (every writer of one booking in turn),
//! 2. inserts the event row (unique per tenant + event id: a repeat stops here
//!    and changes nothing),
//! 3. applies the version rules ([`super::state::apply`]) and saves the booking,
//! 4. retires reminders of older versions (`superseded`, or `cancelled` on a
//!    cancel) and plans the new set from the tenant's rules in its zone,
//!    plus the cancellation / confirmation notices.
//!
//! The stream consumer acknowledges an entry only after this commits.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use super::envelope::Event;
use super::plan::{due_at, tenant_zone, Trigger};
use super::sql;
use super::state::{apply, Decision};
use super::webhook::Delivery;
use crate::engine::Engine;
use crate::kinds::notify::outbox::EnqueueError;

/// Why an event could not be recorded.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// Will never succeed (dead-letter it, or answer 4xx).
    #[error("{0}")]
    Permanent(String),
    /// Try again (database unavailable, serialisation).
    #[error("postgres: {0}")]
    Db(#[from] sqlx::Error),
}

/// What recording one event did.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
// Named apart from the same-named schema of another feature (components are one namespace).
#[schema(as = EventsIngested)]
pub struct Ingested {
    pub event_id: String,
    pub booking_id: String,
    /// applied | stale | duplicate (seen before: nothing changed)
    pub outcome: String,
    /// The booking's version after the event.
    pub version: i64,
    /// Reminders (and notices) planned by this event.
    pub planned: usize,
}

/// Where an event came from: `http`, or a stream key and its entry id.
#[derive(Clone, Copy, Debug)]
pub struct Source<'a> {
    pub name: &'a str,
    pub entry_id: Option<&'a str>,
}

/// Records `event` for `tenant` (see the module doc). `now` is the clock;
/// an event without `occurred_at` is taken as happening now.
pub async fn ingest(
    pg: &PgPool,
    tenant: Uuid,
    source: Source<'_>,
    event: &Event,
    raw: &serde_json::Value,
    now: DateTime<Utc>,
) -> Result<Ingested, IngestError> {
    let event_id = match (&event.event_id, source.entry_id) {
        (Some(id), _) => id.clone(),
        (None, Some(entry)) => format!("{}:{entry}", source.name),
        (None, None) => return Err(IngestError::Permanent("id: required".into())),
    };
    let at = event.occurred_at.unwrap_or(now);
    let mut tx = pg.begin().await?;
    let tz = sql::tenant_timezone(&mut *tx, tenant)
        .await?
        .ok_or_else(|| IngestError::Permanent(format!("tenant {tenant} does not exist")))?;
    sql::lock_booking(&mut tx, tenant, &event.booking_id).await?;
    let current = sql::booking(&mut *tx, tenant, &event.booking_id, false).await?;
    if let Some(b) = &current {
        if b.family.map(|f| f.as_str()) != Some(event.family.as_str()) {
            return Err(IngestError::Permanent(format!(
                "payload: {} is a {}, not a {}",
                event.booking_id,
                b.family.map_or("?", |f| f.as_str()),
                event.family.as_str()
            )));
        }
    }
    let decision = apply(current.as_ref(), event, at);
    let inserted = sql::insert_event(
        &mut tx,
        tenant,
        &event_id,
        &event.event_type,
        &event.booking_id,
        source.name,
        source.entry_id,
        at,
        decision.outcome.as_str(),
        raw,
    )
    .await?;
    if !inserted {
        // Seen before: its effects are already recorded.
        tx.rollback().await?;
        return Ok(Ingested {
            event_id,
            booking_id: event.booking_id.clone(),
            outcome: "duplicate".into(),
            version: current.map_or(0, |b| b.version),
            planned: 0,
        });
    }
    let b = &decision.booking;
    sql::save_booking(&mut tx, tenant, &event.booking_id, b).await?;
    if decision.cancelled_now {
        sql::retire_reminders(&mut tx, tenant, &event.booking_id, i64::MAX, "cancelled").await?;
    } else if decision.replan {
        sql::retire_reminders(&mut tx, tenant, &event.booking_id, b.version, "superseded").await?;
    }
    let mut planned = 0;
    if decision.plans() {
        let rules = sql::rules(&mut *tx, tenant, event.family.as_str()).await?;
        for (rule, due) in plan_for(&decision, &rules, tenant_zone(&tz), now) {
            sql::insert_reminder(&mut tx, tenant, &event.booking_id, rule, b.version, due).await?;
            planned += 1;
        }
    }
    tx.commit().await?;
    tracing::debug!(tenant_id = %tenant, booking_id = %event.booking_id, event_type = %event.event_type,
        outcome = decision.outcome.as_str(), version = b.version, planned, "event recorded");
    Ok(Ingested {
        event_id,
        booking_id: event.booking_id.clone(),
        outcome: decision.outcome.as_str().into(),
        version: b.version,
        planned,
    })
}

/// The reminders (rule, due time) an applied event plans for the booking's
/// version, from the tenant's rules for its family: timed ones when the
/// version moved, notices when it was cancelled, confirmed or a no-show.
pub fn plan_for(
    decision: &Decision,
    rules: &[sql::Rule],
    zone: chrono_tz::Tz,
    now: DateTime<Utc>,
) -> Vec<(Uuid, DateTime<Utc>)> {
    if !decision.plans() {
        return Vec::new();
    }
    let b = &decision.booking;
    let mut out = Vec::new();
    for rule in rules {
        let Some(trigger) = Trigger::from_row(&rule.trigger, rule.offset_minutes, rule.local_time)
        else {
            continue;
        };
        let wanted = match trigger {
            Trigger::OnCancel => decision.cancelled_now,
            Trigger::OnConfirm => decision.confirmed_now,
            Trigger::OnNoShow => decision.no_show_now,
            _ => decision.replan,
        };
        if !wanted {
            continue;
        }
        if let Some(due) = due_at(trigger, b.start_time, b.end_time, zone, now) {
            out.push((rule.id, due));
        }
    }
    out
}

/// The tenant webhook delivery of a recorded event (dedup `evt:<event id>`).
pub fn delivery(
    tenant: Uuid,
    event: &Event,
    recorded: &Ingested,
    raw: &serde_json::Value,
) -> Delivery {
    Delivery {
        tenant,
        ordering_key: recorded.booking_id.clone(),
        event_type: event.event_type.clone(),
        dedup_key: format!("evt:{}", recorded.event_id),
        data: serde_json::json!({
            "event_id": recorded.event_id,
            "event_type": event.event_type,
            "booking_id": recorded.booking_id,
            "version": recorded.version,
            "payload": raw.get("payload").cloned().unwrap_or_default(),
        }),
    }
}

/// Delivers a recorded event to the tenant's webhook when subscribed, in
/// its booking's order (see `webhook`). Call it for `duplicate` outcomes
/// too: a crash between the commit and this call is repaired by the
/// re-delivery, and the dedup key (`evt:<event id>`) keeps it to one message.
pub async fn publish(
    pg: &PgPool,
    engine: &Engine,
    tenant: Uuid,
    event: &Event,
    recorded: &Ingested,
    raw: &serde_json::Value,
) -> Result<bool, EnqueueError> {
    super::webhook::publish(pg, engine, delivery(tenant, event, recorded, raw)).await
}

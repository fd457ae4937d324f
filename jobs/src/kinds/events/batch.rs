//! Recording a batch of events (a stream consumer's read, up to a few
//! hundred entries) in one transaction, with set-based statements: the
//! same effects as [`super::ingest`] called for each event in order, at a
//! few round trips per batch instead of ~10 per event.
//!
//! 1. Lock every booking of the batch (`lock_booking`'s keys, in key order:
//!    two batches never deadlock), read their state, the events already
//!    recorded, the tenants' zones and rules — one statement each.
//! 2. Apply the events in order in memory (`state::apply`): a later event
//!    of the same booking sees the earlier one's state; an event id seen
//!    before (in the database or earlier in the batch) is a `duplicate`;
//!    reminders planned earlier in the batch are retired like stored ones.
//! 3. Write: events (`on conflict do nothing`; fewer rows than expected
//!    means a concurrent writer of the same event id: the batch is rolled
//!    back and the caller falls back to one event at a time), bookings,
//!    retired reminders, new reminders — one statement each — and commit.
//!
//! A per-event refusal that can never succeed (a booking of another
//! family, an unknown tenant) is returned for that event alone and writes
//! nothing for it. Any database error fails the whole batch: the caller
//! handles its events one by one, so a poison event sinks only itself.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::envelope::{Contact, Event, Family};
use super::ingest::{plan_for, Ingested};
use super::plan::tenant_zone;
use super::sql::Rule;
use super::state::{apply, Booking};

/// One event to record.
#[derive(Clone, Debug)]
pub struct Item {
    pub tenant: Uuid,
    /// The stream entry id (`None` over HTTP).
    pub entry_id: Option<String>,
    pub event: Event,
    pub raw: serde_json::Value,
}

/// Why the batch as a whole was not recorded (nothing of it was).
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    #[error("postgres: {0}")]
    Db(#[from] sqlx::Error),
    #[error("an event id of the batch was recorded concurrently; record one by one")]
    Concurrent,
}

type Key = (Uuid, String);

struct Planned {
    key: Key,
    rule: Uuid,
    version: i64,
    due: DateTime<Utc>,
    status: &'static str,
    notice: bool,
}

/// Records `items` (from `source`: the stream key, or `http`) in order;
/// one result per item: `Ok` (applied, stale or duplicate) or the reason
/// it can never be recorded.
pub async fn ingest_batch(
    pg: &PgPool,
    source: &str,
    items: &[Item],
    now: DateTime<Utc>,
) -> Result<Vec<Result<Ingested, String>>, BatchError> {
    let mut tx = pg.begin().await?;
    let out = record(&mut tx, source, items, now).await?;
    tx.commit().await?;
    Ok(out)
}

async fn record(
    tx: &mut PgConnection,
    source: &str,
    items: &[Item],
    now: DateTime<Utc>,
) -> Result<Vec<Result<Ingested, String>>, BatchError> {
    let event_id = |it: &Item| match (&it.event.event_id, &it.entry_id) {
        (Some(id), _) => Some(id.clone()),
        (None, Some(entry)) => Some(format!("{source}:{entry}")),
        (None, None) => None,
    };
    let mut keys: Vec<Key> = items
        .iter()
        .map(|i| (i.tenant, i.event.booking_id.clone()))
        .collect();
    keys.sort();
    keys.dedup();
    let (kt, kb): (Vec<Uuid>, Vec<String>) = keys.iter().cloned().unzip();
    sqlx::query(
        "select pg_advisory_xact_lock(k) from (select distinct \
           hashtextextended(t::text || '/' || b, 16) as k \
           from unnest($1::uuid[], $2::text[]) as x(t, b) order by k) s",
    )
    .bind(&kt)
    .bind(&kb)
    .execute(&mut *tx)
    .await?;
    let mut state = bookings(tx, &kt, &kb).await?;
    let (et, ei): (Vec<Uuid>, Vec<String>) = items
        .iter()
        .filter_map(|i| Some((i.tenant, event_id(i)?)))
        .unzip();
    let mut seen: HashSet<(Uuid, String)> = sqlx::query_as(
        "select e.tenant_id, e.event_id from events e \
         join unnest($1::uuid[], $2::text[]) as x(t, id) on e.tenant_id = x.t and e.event_id = x.id",
    )
    .bind(&et)
    .bind(&ei)
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .collect();
    let mut tenants: Vec<Uuid> = items.iter().map(|i| i.tenant).collect();
    tenants.sort();
    tenants.dedup();
    let zones: HashMap<Uuid, String> =
        sqlx::query_as("select id, timezone from tenants where id = any($1)")
            .bind(&tenants)
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .collect();
    let mut rules: HashMap<(Uuid, String), Vec<Rule>> = HashMap::new();
    let all: Vec<Rule> = sqlx::query_as(
        "select id, tenant_id, family, name, trigger, offset_minutes, local_time, audience, channels, \
           template, urgent from reminder_rules where tenant_id = any($1) and enabled order by created_at, id",
    )
    .bind(&tenants)
    .fetch_all(&mut *tx)
    .await?;
    for r in all {
        rules
            .entry((r.tenant_id, r.family.clone()))
            .or_default()
            .push(r);
    }
    let notice_rules: HashSet<Uuid> = rules
        .values()
        .flatten()
        .filter(|r| r.trigger == "on_cancel")
        .map(|r| r.id)
        .collect();

    let mut results = Vec::with_capacity(items.len());
    let mut events = EventRows::default();
    let mut dirty: Vec<Key> = Vec::new();
    let mut retire_first: HashMap<Key, &'static str> = HashMap::new();
    let mut planned: Vec<Planned> = Vec::new();
    for it in items {
        let Some(id) = event_id(it) else {
            results.push(Err("id: required".to_string()));
            continue;
        };
        let key = (it.tenant, it.event.booking_id.clone());
        let Some(tz) = zones.get(&it.tenant) else {
            results.push(Err(format!("tenant {} does not exist", it.tenant)));
            continue;
        };
        let current = state.get(&key);
        if seen.contains(&(it.tenant, id.clone())) {
            results.push(Ok(Ingested {
                event_id: id,
                booking_id: key.1.clone(),
                outcome: "duplicate".into(),
                version: current.map_or(0, |b| b.version),
                planned: 0,
            }));
            continue;
        }
        if let Some(b) = current {
            if b.family != Some(it.event.family) {
                results.push(Err(format!(
                    "payload: {} is a {}, not a {}",
                    key.1,
                    b.family.map_or("?", |f| f.as_str()),
                    it.event.family.as_str()
                )));
                continue;
            }
        }
        let at = it.event.occurred_at.unwrap_or(now);
        let decision = apply(current, &it.event, at);
        seen.insert((it.tenant, id.clone()));
        events.push(it, &id, source, at, decision.outcome.as_str());
        let b = decision.booking.clone();
        let retire = if decision.cancelled_now {
            Some((i64::MAX, "cancelled"))
        } else if decision.replan {
            Some((b.version, "superseded"))
        } else {
            None
        };
        if let Some((below, status)) = retire {
            // Stored rows are all of older versions: the first retirement covers them.
            retire_first.entry(key.clone()).or_insert(status);
            for p in planned.iter_mut().filter(|p| p.key == key) {
                if p.version < below && p.status == "pending" && !p.notice {
                    p.status = status;
                }
            }
        }
        let family = it.event.family.as_str().to_string();
        let empty = Vec::new();
        let mut n = 0;
        for (rule, due) in plan_for(
            &decision,
            rules.get(&(it.tenant, family)).unwrap_or(&empty),
            tenant_zone(tz),
            now,
        ) {
            let exists = planned
                .iter()
                .any(|p| p.key == key && p.rule == rule && p.version == b.version);
            if !exists {
                planned.push(Planned {
                    key: key.clone(),
                    rule,
                    version: b.version,
                    due,
                    status: "pending",
                    notice: notice_rules.contains(&rule),
                });
            }
            n += 1;
        }
        results.push(Ok(Ingested {
            event_id: id,
            booking_id: key.1.clone(),
            outcome: decision.outcome.as_str().into(),
            version: b.version,
            planned: n,
        }));
        if !dirty.contains(&key) {
            dirty.push(key.clone());
        }
        state.insert(key, b);
    }

    let expected = events.ids.len() as u64;
    if expected > 0 && events.insert(tx).await? != expected {
        return Err(BatchError::Concurrent);
    }
    save_bookings(tx, &dirty, &state).await?;
    if !retire_first.is_empty() {
        let (rk, rs): (Vec<&Key>, Vec<&str>) = retire_first.iter().map(|(k, s)| (k, *s)).unzip();
        sqlx::query(
            "update reminders r set status = x.status, updated_at = now() from reminder_rules rr, \
               unnest($1::uuid[], $2::text[], $3::text[]) as x(t, b, status) \
             where rr.id = r.rule_id and r.tenant_id = x.t and r.booking_id = x.b \
               and r.status in ('pending', 'enqueued') and rr.trigger <> 'on_cancel'",
        )
        .bind(rk.iter().map(|k| k.0).collect::<Vec<_>>())
        .bind(rk.iter().map(|k| k.1.clone()).collect::<Vec<_>>())
        .bind(rs)
        .execute(&mut *tx)
        .await?;
    }
    if !planned.is_empty() {
        sqlx::query(
            "insert into reminders (id, tenant_id, booking_id, rule_id, version, due_at, status) \
             select * from unnest($1::uuid[], $2::uuid[], $3::text[], $4::uuid[], $5::int8[], \
               $6::timestamptz[], $7::text[]) \
             on conflict (tenant_id, booking_id, rule_id, version) do nothing",
        )
        .bind(planned.iter().map(|_| Uuid::now_v7()).collect::<Vec<_>>())
        .bind(planned.iter().map(|p| p.key.0).collect::<Vec<_>>())
        .bind(planned.iter().map(|p| p.key.1.clone()).collect::<Vec<_>>())
        .bind(planned.iter().map(|p| p.rule).collect::<Vec<_>>())
        .bind(planned.iter().map(|p| p.version).collect::<Vec<_>>())
        .bind(planned.iter().map(|p| p.due).collect::<Vec<_>>())
        .bind(planned.iter().map(|p| p.status).collect::<Vec<_>>())
        .execute(&mut *tx)
        .await?;
    }
    Ok(results)
}

/// The event rows of the batch, as columns for one `unnest` insert.
#[derive(Default)]
struct EventRows {
    ids: Vec<Uuid>,
    tenants: Vec<Uuid>,
    event_ids: Vec<String>,
    types: Vec<String>,
    bookings: Vec<String>,
    sources: Vec<String>,
    entries: Vec<Option<String>>,
    at: Vec<DateTime<Utc>>,
    outcomes: Vec<String>,
    payloads: Vec<serde_json::Value>,
}

impl EventRows {
    fn push(&mut self, it: &Item, id: &str, source: &str, at: DateTime<Utc>, outcome: &str) {
        self.ids.push(Uuid::now_v7());
        self.tenants.push(it.tenant);
        self.event_ids.push(id.to_string());
        self.types.push(it.event.event_type.clone());
        self.bookings.push(it.event.booking_id.clone());
        self.sources.push(source.to_string());
        self.entries.push(it.entry_id.clone());
        self.at.push(at);
        self.outcomes.push(outcome.to_string());
        self.payloads.push(it.raw.clone());
    }

    async fn insert(&self, tx: &mut PgConnection) -> Result<u64, sqlx::Error> {
        let r = sqlx::query(
            "insert into events (id, tenant_id, event_id, event_type, booking_id, source, stream_entry_id, \
               occurred_at, outcome, payload) \
             select * from unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], \
               $7::text[], $8::timestamptz[], $9::text[], $10::jsonb[]) \
             on conflict (tenant_id, event_id) do nothing",
        )
        .bind(&self.ids)
        .bind(&self.tenants)
        .bind(&self.event_ids)
        .bind(&self.types)
        .bind(&self.bookings)
        .bind(&self.sources)
        .bind(&self.entries)
        .bind(&self.at)
        .bind(&self.outcomes)
        .bind(&self.payloads)
        .execute(&mut *tx)
        .await?;
        Ok(r.rows_affected())
    }
}

type Row = (
    Uuid,
    String,
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

async fn bookings(
    tx: &mut PgConnection,
    tenants: &[Uuid],
    ids: &[String],
) -> Result<HashMap<Key, Booking>, sqlx::Error> {
    let rows: Vec<Row> = sqlx::query_as(
        "select b.tenant_id, b.booking_id, b.family, b.version, b.status, b.user_id, b.resource_id, \
           b.start_time, b.end_time, b.contacts, b.cancelled, b.review_received, b.created_seen, \
           b.time_changed_at, b.status_changed_at from event_bookings b \
         join unnest($1::uuid[], $2::text[]) as x(t, id) on b.tenant_id = x.t and b.booking_id = x.id",
    )
    .bind(tenants)
    .bind(ids)
    .fetch_all(&mut *tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let contact = |k: &str| -> Option<Contact> {
                r.9.get(k)
                    .and_then(|v| serde_json::from_value(v.clone()).ok())
            };
            let b = Booking {
                family: Some(if r.2 == "session" {
                    Family::Session
                } else {
                    Family::Booking
                }),
                version: r.3,
                status: r.4.clone(),
                user_id: r.5.clone(),
                resource_id: r.6.clone(),
                start_time: r.7,
                end_time: r.8,
                client: contact("client"),
                staff: contact("staff"),
                cancelled: r.10,
                review_received: r.11,
                created_seen: r.12,
                time_changed_at: r.13,
                status_changed_at: r.14,
            };
            ((r.0, r.1), b)
        })
        .collect())
}

async fn save_bookings(
    tx: &mut PgConnection,
    keys: &[Key],
    state: &HashMap<Key, Booking>,
) -> Result<(), sqlx::Error> {
    if keys.is_empty() {
        return Ok(());
    }
    let bs: Vec<&Booking> = keys.iter().map(|k| &state[k]).collect();
    sqlx::query(
        "insert into event_bookings (tenant_id, booking_id, family, version, status, user_id, resource_id, \
           start_time, end_time, contacts, cancelled, review_received, created_seen, time_changed_at, status_changed_at) \
         select * from unnest($1::uuid[], $2::text[], $3::text[], $4::int8[], $5::text[], $6::text[], $7::text[], \
           $8::timestamptz[], $9::timestamptz[], $10::jsonb[], $11::bool[], $12::bool[], $13::bool[], \
           $14::timestamptz[], $15::timestamptz[]) \
         on conflict (tenant_id, booking_id) do update set version = excluded.version, status = excluded.status, \
           user_id = excluded.user_id, resource_id = excluded.resource_id, start_time = excluded.start_time, \
           end_time = excluded.end_time, contacts = excluded.contacts, cancelled = excluded.cancelled, \
           review_received = excluded.review_received, created_seen = excluded.created_seen, \
           time_changed_at = excluded.time_changed_at, status_changed_at = excluded.status_changed_at, updated_at = now()",
    )
    .bind(keys.iter().map(|k| k.0).collect::<Vec<_>>())
    .bind(keys.iter().map(|k| k.1.clone()).collect::<Vec<_>>())
    .bind(bs.iter().map(|b| b.family.unwrap_or(Family::Booking).as_str()).collect::<Vec<_>>())
    .bind(bs.iter().map(|b| b.version).collect::<Vec<_>>())
    .bind(bs.iter().map(|b| b.status.clone()).collect::<Vec<_>>())
    .bind(bs.iter().map(|b| b.user_id.clone()).collect::<Vec<_>>())
    .bind(bs.iter().map(|b| b.resource_id.clone()).collect::<Vec<_>>())
    .bind(bs.iter().map(|b| b.start_time).collect::<Vec<_>>())
    .bind(bs.iter().map(|b| b.end_time).collect::<Vec<_>>())
    .bind(
        bs.iter()
            .map(|b| serde_json::json!({ "client": b.client, "staff": b.staff }))
            .collect::<Vec<_>>(),
    )
    .bind(bs.iter().map(|b| b.cancelled).collect::<Vec<_>>())
    .bind(bs.iter().map(|b| b.review_received).collect::<Vec<_>>())
    .bind(bs.iter().map(|b| b.created_seen).collect::<Vec<_>>())
    .bind(bs.iter().map(|b| b.time_changed_at).collect::<Vec<_>>())
    .bind(bs.iter().map(|b| b.status_changed_at).collect::<Vec<_>>())
    .execute(&mut *tx)
    .await?;
    Ok(())
}

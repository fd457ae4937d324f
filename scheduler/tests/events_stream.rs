//! The event-stream consumer against a real Redis stream (its key under the
//! test's random prefix, removed on drop) and the test's fresh database:
//! entries recorded then acknowledged, a poison entry dead-lettered after N
//! deliveries while the entries behind it flow, malformed entries and unknown
//! tenants dead-lettered at once, entries of a dead consumer reclaimed and
//! handled once in effect, two replicas sharing the group, and the lag numbers
//! (and the gauges the scheduler exports from them). A read batch is one
//! transaction: creates, updates, cancels and repeats in one batch end as
//! they would one by one; a batch poisoned by one entry (a PostgreSQL error)
//! is handled again entry by entry, so only that entry fails; a 1,000-update
//! reschedule storm read by two replicas leaves one live reminder set.

use std::sync::Arc;

use futures::future::BoxFuture;
use jobs::config::StreamSettings;
use jobs::kinds::events::sql;
use jobs::testing::{create_tenant, eventually, RedisPrefix};
use redis::AsyncCommands;
use scheduler::events::{Consumer, EntryHandler, HandleError, Ingest};
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

struct Bed {
    pool: PgPool,
    keys: RedisPrefix,
    stream: String,
    tenant: Uuid,
    redis: redis::aio::MultiplexedConnection,
}

impl Bed {
    async fn new(pool: PgPool) -> Bed {
        let keys = RedisPrefix::new();
        let stream = format!("{}:booking-events", keys.prefix);
        let tenant = create_tenant(&pool, "Agenda Alfa").await.id;
        sql::map_external(&pool, "booking", "acme", tenant)
            .await
            .unwrap();
        sql::insert_rule(
            &pool,
            &sql::Rule {
                id: Uuid::now_v7(),
                tenant_id: tenant,
                family: "booking".into(),
                name: "1h".into(),
                trigger: "before_start".into(),
                offset_minutes: 60,
                local_time: None,
                audience: "client".into(),
                channels: vec!["email".into()],
                template: None,
                urgent: false,
            },
        )
        .await
        .unwrap();
        let redis = redis::Client::open(keys.url.as_str())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap();
        Bed {
            pool,
            keys,
            stream,
            tenant,
            redis,
        }
    }

    fn settings(&self) -> StreamSettings {
        StreamSettings {
            key: self.stream.clone(),
            redis_url: self.keys.url.clone(),
            start_id: "0".into(),
            block_ms: 20,
            min_idle_ms: 30,
            max_deliveries: 3,
            batch: 50,
            ..StreamSettings::default()
        }
    }

    async fn consumer(&self, name: &str, handler: Arc<dyn EntryHandler>) -> Consumer {
        self.consumer_with(self.settings(), name, handler).await
    }

    async fn consumer_with(
        &self,
        settings: StreamSettings,
        name: &str,
        handler: Arc<dyn EntryHandler>,
    ) -> Consumer {
        Consumer::connect(
            settings,
            &self.keys.url,
            name.into(),
            self.pool.clone(),
            handler,
        )
        .await
        .unwrap()
    }

    fn ingest(&self) -> Arc<dyn EntryHandler> {
        Arc::new(Ingest {
            pool: self.pool.clone(),
            source: "booking".into(),
            engine: None,
        })
    }

    async fn add(&self, fields: &[(&str, String)]) -> String {
        let mut c = self.redis.clone();
        c.xadd(&self.stream, "*", fields).await.unwrap()
    }

    async fn add_booking(&self, booking: &str) -> String {
        self.add(&[
            ("event_type", "booking.created".into()),
            (
                "payload",
                json!({"booking_id": booking, "start_time": "2099-03-10T13:00:00Z",
                "client": {"email": "ana@example.com"}})
                .to_string(),
            ),
            ("metadata", json!({"tenant_id": "acme"}).to_string()),
        ])
        .await
    }

    async fn events(&self) -> i64 {
        sqlx::query_scalar("select count(*) from events where tenant_id = $1")
            .bind(self.tenant)
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }

    async fn pending(&self) -> usize {
        let mut c = self.redis.clone();
        let p: redis::streams::StreamPendingReply =
            c.xpending(&self.stream, "tarefa").await.unwrap();
        p.count()
    }
}

/// Fails (retryably) every entry about booking `poison`.
struct FailOn(Arc<dyn EntryHandler>);

impl EntryHandler for FailOn {
    fn handle(
        &self,
        stream: &str,
        entry_id: &str,
        fields: &[(String, String)],
    ) -> BoxFuture<'_, Result<(), HandleError>> {
        if fields.iter().any(|(_, v)| v.contains("\"poison\"")) {
            return Box::pin(async {
                Err(HandleError::Retryable("injected: handler failed".into()))
            });
        }
        self.0.handle(stream, entry_id, fields)
    }
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn a_poison_entry_is_dead_lettered_after_n_deliveries_while_others_flow(pool: PgPool) {
    let bed = Bed::new(pool).await;
    let mut ids = Vec::new();
    for b in ["b1", "b2", "poison", "b3", "b4"] {
        ids.push(bed.add_booking(b).await);
    }
    let mut consumer = bed.consumer("c1", Arc::new(FailOn(bed.ingest()))).await;
    let first = consumer.tick().await.unwrap();
    assert_eq!((first.acked, first.failed), (4, 1));
    assert_eq!(
        bed.events().await,
        4,
        "the entries behind the poison were recorded"
    );
    assert_eq!(bed.pending().await, 1);
    let mut dead = Vec::new();
    while dead.is_empty() {
        consumer.tick().await.unwrap();
        dead = sql::dead_letters(&bed.pool, &bed.stream).await.unwrap();
    }
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].entry_id, ids[2]);
    assert_eq!(dead[0].deliveries, 3);
    assert!(
        dead[0].reason.contains("delivered 3 times") && dead[0].reason.contains("injected"),
        "{}",
        dead[0].reason
    );
    assert!(dead[0].fields["payload"]
        .as_str()
        .unwrap()
        .contains("poison"));
    assert_eq!(bed.pending().await, 0);
    assert_eq!(bed.events().await, 4);
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn malformed_entries_and_unknown_tenants_are_dead_lettered_at_once(pool: PgPool) {
    let bed = Bed::new(pool).await;
    bed.add_booking("ok1").await;
    let bad_json = bed
        .add(&[
            ("event_type", "booking.created".into()),
            ("payload", "{not json".into()),
            ("metadata", json!({"tenant_id": "acme"}).to_string()),
        ])
        .await;
    let stranger = bed
        .add(&[
            ("event_type", "booking.created".into()),
            (
                "payload",
                json!({"booking_id": "x", "start_time": "2099-03-10T13:00:00Z"}).to_string(),
            ),
            ("metadata", json!({"tenant_id": "someone-else"}).to_string()),
        ])
        .await;
    let no_time = bed
        .add(&[
            ("event_type", "booking.created".into()),
            ("payload", json!({"booking_id": "y"}).to_string()),
            ("metadata", json!({"tenant_id": "acme"}).to_string()),
        ])
        .await;
    bed.add_booking("ok2").await;
    let mut consumer = bed.consumer("c1", bed.ingest()).await;
    let o = consumer.tick().await.unwrap();
    assert_eq!((o.acked, o.dead, o.failed), (2, 3, 0));
    let dead = sql::dead_letters(&bed.pool, &bed.stream).await.unwrap();
    let reason = |id: &str| {
        dead.iter()
            .find(|d| d.entry_id == id)
            .map(|d| d.reason.clone())
            .unwrap()
    };
    assert!(
        reason(&bad_json).starts_with("malformed entry: payload"),
        "{}",
        reason(&bad_json)
    );
    assert!(
        reason(&stranger).starts_with("unknown tenant"),
        "{}",
        reason(&stranger)
    );
    assert!(
        reason(&no_time).contains("payload.start_time"),
        "{}",
        reason(&no_time)
    );
    assert_eq!(bed.pending().await, 0);
    assert_eq!(bed.events().await, 2);
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn entries_of_a_dead_consumer_are_reclaimed_and_handled_once_in_effect(pool: PgPool) {
    let bed = Bed::new(pool).await;
    for i in 0..10 {
        bed.add_booking(&format!("b{i}")).await;
    }
    // Connecting creates the group; the "ghost" then reads as a bare client would.
    let _group = bed.consumer("ghost", bed.ingest()).await;
    // The ghost reads all ten, records three, and dies before any XACK.
    let mut c = bed.redis.clone();
    let opts = redis::streams::StreamReadOptions::default()
        .group("tarefa", "ghost")
        .count(10);
    let read: redis::streams::StreamReadReply = c
        .xread_options(&[&bed.stream], &[">"], &opts)
        .await
        .unwrap();
    let entries = &read.keys[0].ids;
    assert_eq!(entries.len(), 10);
    let handler = bed.ingest();
    for e in &entries[..3] {
        let mut fields: Vec<(String, String)> = e
            .map
            .iter()
            .map(|(k, v)| (k.clone(), redis::from_redis_value_ref::<String>(v).unwrap()))
            .collect();
        fields.sort();
        handler.handle(&bed.stream, &e.id, &fields).await.unwrap();
        // The same entry delivered twice: no second event.
        handler.handle(&bed.stream, &e.id, &fields).await.unwrap();
    }
    assert_eq!(bed.events().await, 3);
    let mut survivor = bed.consumer("survivor", bed.ingest()).await;
    let mut reclaimed = 0;
    while bed.pending().await > 0 {
        reclaimed += survivor.tick().await.unwrap().reclaimed;
    }
    assert_eq!(reclaimed, 10);
    assert_eq!(bed.events().await, 10);
    for i in 0..10 {
        let live: Vec<_> = sql::reminders_of(&bed.pool, bed.tenant, &format!("b{i}"))
            .await
            .unwrap();
        assert_eq!(live.len(), 1, "b{i}: one reminder set");
    }
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn two_replicas_share_the_group_and_each_entry_is_acked_once(pool: PgPool) {
    let bed = Bed::new(pool).await;
    for i in 0..200 {
        bed.add_booking(&format!("b{i}")).await;
    }
    let mut tasks = Vec::new();
    // min_idle far above a batch's handling time: no replica reclaims
    // what the other is still working on (below it, both would handle some).
    let settings = StreamSettings {
        min_idle_ms: 60_000,
        ..bed.settings()
    };
    for name in ["replica-a", "replica-b"] {
        let mut consumer = bed
            .consumer_with(settings.clone(), name, bed.ingest())
            .await;
        let pool = bed.pool.clone();
        let tenant = bed.tenant;
        tasks.push(tokio::spawn(async move {
            let mut acked = 0;
            loop {
                acked += consumer.tick().await.unwrap().acked;
                let n: i64 = sqlx::query_scalar("select count(*) from events where tenant_id = $1")
                    .bind(tenant)
                    .fetch_one(&pool)
                    .await
                    .unwrap();
                if n == 200 {
                    return acked;
                }
            }
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    assert_eq!(total, 200, "each entry acknowledged by exactly one replica");
    assert_eq!(bed.pending().await, 0);
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn lag_counts_undelivered_and_pending_entries(pool: PgPool) {
    let bed = Bed::new(pool).await;
    let mut consumer = bed.consumer("c1", Arc::new(FailOn(bed.ingest()))).await;
    for b in ["b1", "poison", "b2"] {
        bed.add_booking(b).await;
    }
    let before = consumer.lag().await.unwrap();
    assert_eq!((before.undelivered, before.pending), (3, 0));
    consumer.tick().await.unwrap();
    let after = eventually(|| async { Some(bed.pending().await) })
        .until(|p| *p == 1)
        .await;
    assert_eq!(after, 1);
    let lag = consumer.lag().await.unwrap();
    assert_eq!((lag.undelivered, lag.pending), (0, 1));
    assert!(lag.oldest_pending_secs >= 0.0);
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn one_batch_applies_creates_updates_cancels_and_repeats_in_stream_order(pool: PgPool) {
    let bed = Bed::new(pool).await;
    sql::insert_rule(
        &bed.pool,
        &sql::Rule {
            id: Uuid::now_v7(),
            tenant_id: bed.tenant,
            family: "booking".into(),
            name: "aviso".into(),
            trigger: "on_cancel".into(),
            offset_minutes: 0,
            local_time: None,
            audience: "client".into(),
            channels: vec!["email".into()],
            template: None,
            urgent: false,
        },
    )
    .await
    .unwrap();
    let other = jobs::testing::create_tenant(&bed.pool, "Agenda Beta")
        .await
        .id;
    sql::map_external(&bed.pool, "booking", "beta", other)
        .await
        .unwrap();
    let entry = |id: &str, t: &str, payload: serde_json::Value, tenant: &str, at: &str| {
        vec![
            ("event_type", t.to_string()),
            ("payload", payload.to_string()),
            (
                "metadata",
                json!({"tenant_id": tenant, "occurred_at": at}).to_string(),
            ),
            ("id", id.to_string()),
        ]
    };
    let entries = [
        // b1: created, then moved: one live reminder, for version 2.
        entry(
            "e1",
            "booking.created",
            json!({"booking_id": "b1", "start_time": "2099-03-10T13:00:00Z"}),
            "acme",
            "2026-03-01T00:00:00Z",
        ),
        entry(
            "e2",
            "booking.updated",
            json!({"booking_id": "b1", "changes": {"start_time": "2099-03-11T13:00:00Z"}}),
            "acme",
            "2026-03-01T00:01:00Z",
        ),
        // b2: cancelled before its create arrives: nothing live but the notice.
        entry(
            "e3",
            "booking.cancelled",
            json!({"booking_id": "b2"}),
            "acme",
            "2026-03-01T00:05:00Z",
        ),
        entry(
            "e4",
            "booking.created",
            json!({"booking_id": "b2", "start_time": "2099-03-10T13:00:00Z"}),
            "acme",
            "2026-03-01T00:00:00Z",
        ),
        // e1 again (a producer retry): a duplicate, nothing changes.
        entry(
            "e1",
            "booking.created",
            json!({"booking_id": "b1", "start_time": "2099-03-10T13:00:00Z"}),
            "acme",
            "2026-03-01T00:00:00Z",
        ),
        // Another tenant, same booking and event ids: its own.
        entry(
            "e1",
            "booking.created",
            json!({"booking_id": "b1", "start_time": "2099-03-10T13:00:00Z"}),
            "beta",
            "2026-03-01T00:00:00Z",
        ),
        // b3: an update older than the create already in the batch: stale.
        entry(
            "e5",
            "booking.created",
            json!({"booking_id": "b3", "start_time": "2099-03-10T13:00:00Z"}),
            "acme",
            "2026-03-01T00:09:00Z",
        ),
        entry(
            "e6",
            "booking.updated",
            json!({"booking_id": "b3", "changes": {"start_time": "2099-03-12T13:00:00Z"}}),
            "acme",
            "2026-03-01T00:08:00Z",
        ),
    ];
    for e in &entries {
        bed.add(e).await;
    }
    let mut consumer = bed.consumer("c1", bed.ingest()).await;
    let o = consumer.tick().await.unwrap();
    assert_eq!((o.acked, o.dead, o.failed), (8, 0, 0));
    assert_eq!(bed.pending().await, 0);
    let outcomes: Vec<(String, String)> = sqlx::query_as(
        "select event_id, outcome from events where tenant_id = $1 order by event_id",
    )
    .bind(bed.tenant)
    .fetch_all(&bed.pool)
    .await
    .unwrap();
    let outcomes: Vec<(&str, &str)> = outcomes
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    assert_eq!(
        outcomes,
        [
            ("e1", "applied"),
            ("e2", "applied"),
            ("e3", "applied"),
            ("e4", "applied"),
            ("e5", "applied"),
            ("e6", "stale")
        ]
    );
    let reminders = |b: &'static str, t: Uuid| {
        let pool = bed.pool.clone();
        async move {
            let mut v: Vec<(String, i64, String)> = sql::reminders_of(&pool, t, b)
                .await
                .unwrap()
                .into_iter()
                .map(|r| (r.status, r.version, r.due_at.to_rfc3339()))
                .collect();
            v.sort();
            v
        }
    };
    assert_eq!(
        reminders("b1", bed.tenant).await,
        [
            ("pending".into(), 2, "2099-03-11T12:00:00+00:00".into()),
            ("superseded".into(), 1, "2099-03-10T12:00:00+00:00".into())
        ]
    );
    let b2 = reminders("b2", bed.tenant).await;
    assert_eq!(b2.len(), 1, "only the cancellation notice: {b2:?}");
    assert_eq!(b2[0].0, "pending");
    assert!(
        sql::booking(&bed.pool, bed.tenant, "b2", false)
            .await
            .unwrap()
            .unwrap()
            .cancelled
    );
    assert_eq!(
        reminders("b3", bed.tenant).await,
        [("pending".into(), 1, "2099-03-10T12:00:00+00:00".into())]
    );
    // Tenant Beta has no rules: its b1 is recorded, nothing planned.
    let beta = sql::booking(&bed.pool, other, "b1", false)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (beta.version, beta.start_time.unwrap().to_rfc3339()),
        (1, "2099-03-10T13:00:00+00:00".to_string())
    );
    assert!(reminders("b1", other).await.is_empty());
    // Delivered again (a crash before the XACK): nothing changes.
    let before: i64 = sqlx::query_scalar("select count(*) from reminders")
        .fetch_one(&bed.pool)
        .await
        .unwrap();
    for e in &entries {
        bed.add(e).await;
    }
    let again = consumer.tick().await.unwrap();
    assert_eq!(again.acked, 8);
    let after: i64 = sqlx::query_scalar("select count(*) from reminders")
        .fetch_one(&bed.pool)
        .await
        .unwrap();
    assert_eq!((before, bed.events().await), (after, 6));
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn a_poison_entry_sinks_its_batch_then_only_itself(pool: PgPool) {
    let bed = Bed::new(pool).await;
    // A database-side failure for one booking, as a bad row or a broken
    // constraint would cause: the batch's transaction fails as a whole.
    sqlx::raw_sql(
        "create function poison() returns trigger language plpgsql as $$ begin \
           if new.booking_id = 'poison' then raise exception 'poisoned row %', new.booking_id; end if; \
           return new; end $$; \
         create trigger poison before insert on events for each row execute function poison();",
    )
    .execute(&bed.pool)
    .await
    .unwrap();
    let mut ids = Vec::new();
    for b in ["b1", "b2", "poison", "b3", "b4"] {
        ids.push(bed.add_booking(b).await);
    }
    let mut consumer = bed.consumer("c1", bed.ingest()).await;
    let first = consumer.tick().await.unwrap();
    assert_eq!((first.acked, first.failed), (4, 1));
    assert_eq!(bed.events().await, 4);
    let mut dead = Vec::new();
    while dead.is_empty() {
        consumer.tick().await.unwrap();
        dead = sql::dead_letters(&bed.pool, &bed.stream).await.unwrap();
    }
    assert_eq!(dead[0].entry_id, ids[2]);
    assert!(
        dead[0].reason.contains("poisoned row"),
        "{}",
        dead[0].reason
    );
    assert_eq!(bed.pending().await, 0);
    // Entries behind it flow in batches again.
    bed.add_booking("b5").await;
    bed.add_booking("b6").await;
    let o = consumer.tick().await.unwrap();
    assert_eq!((o.acked, o.failed), (2, 0));
    assert_eq!(bed.events().await, 6);
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn lag_gauges_carry_the_streams_numbers(pool: PgPool) {
    let bed = Bed::new(pool).await;
    let mut consumer = bed.consumer("c1", Arc::new(FailOn(bed.ingest()))).await;
    let mut poison_ms = 0i64;
    for b in ["b1", "poison", "b2", "b3"] {
        let id = bed.add_booking(b).await;
        if b == "poison" {
            poison_ms = id.split('-').next().unwrap().parse().unwrap();
        }
    }
    consumer.tick().await.unwrap();
    for b in ["b4", "b5"] {
        bed.add_booking(b).await;
    }
    let lag = consumer.lag().await.unwrap();
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    metrics::with_local_recorder(&recorder, || {
        scheduler::exporter::set_lag(&bed.stream, "tarefa", &lag)
    });
    let text = handle.render();
    let value = |name: &str| -> f64 {
        let line = text
            .lines()
            .find(|l| l.starts_with(name) && l.contains(&format!("stream=\"{}\"", bed.stream)))
            .unwrap_or_else(|| panic!("{name} missing in\n{text}"));
        assert!(line.contains("group=\"tarefa\""), "{line}");
        line.rsplit(' ').next().unwrap().parse().unwrap()
    };
    // What Redis itself says.
    let mut c = bed.redis.clone();
    let info: redis::streams::StreamInfoGroupsReply = c.xinfo_groups(&bed.stream).await.unwrap();
    assert_eq!(info.groups[0].lag, Some(2));
    assert_eq!(value("tarefa_stream_lag{"), 2.0, "b4 and b5 not delivered");
    assert_eq!(value("tarefa_stream_pending{"), bed.pending().await as f64);
    assert_eq!(value("tarefa_stream_pending{"), 1.0, "the poison entry");
    // The poison entry's age when the lag was read: between 0 and its age now.
    let oldest = value("tarefa_stream_oldest_pending_seconds{");
    let age_now = (chrono::Utc::now().timestamp_millis() - poison_ms) as f64 / 1000.0;
    assert!(oldest >= 0.0 && oldest <= age_now, "{oldest} vs {age_now}");
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn a_reschedule_storm_through_the_stream_leaves_one_live_set(pool: PgPool) {
    let bed = Bed::new(pool).await;
    bed.add_booking("b").await;
    // 1,000 updates of one booking, arriving in scrambled order of occurred_at
    // (the newest, i = 999, is not last), read in batches of 50 by two replicas.
    let start = |i: i64| {
        chrono::DateTime::parse_from_rfc3339("2099-04-01T13:00:00Z").unwrap()
            + chrono::Duration::minutes(i)
    };
    // After the create (recorded at its arrival: it has no occurred_at).
    let base = chrono::Utc::now() + chrono::Duration::minutes(1);
    let at = |i: i64| base + chrono::Duration::seconds(i + 1);
    let mut order: Vec<i64> = (0..1000).collect();
    order.sort_by_key(|i| (i * 7919) % 1000);
    let mut c = bed.redis.clone();
    let mut pipe = redis::pipe();
    for i in &order {
        let payload = json!({"booking_id": "b", "changes": {"start_time": start(*i).to_rfc3339()}})
            .to_string();
        let metadata = json!({"tenant_id": "acme", "occurred_at": at(*i).to_rfc3339()}).to_string();
        let id = format!("u{i}");
        pipe.xadd(
            &bed.stream,
            "*",
            &[
                ("event_type", "booking.updated"),
                ("payload", &payload),
                ("metadata", &metadata),
                ("id", &id),
            ],
        )
        .ignore();
    }
    let _: () = pipe.query_async(&mut c).await.unwrap();
    let settings = StreamSettings {
        min_idle_ms: 60_000,
        ..bed.settings()
    };
    let mut tasks = Vec::new();
    for name in ["replica-a", "replica-b"] {
        let mut consumer = bed
            .consumer_with(settings.clone(), name, bed.ingest())
            .await;
        let pool = bed.pool.clone();
        let tenant = bed.tenant;
        tasks.push(tokio::spawn(async move {
            loop {
                consumer.tick().await.unwrap();
                let n: i64 = sqlx::query_scalar("select count(*) from events where tenant_id = $1")
                    .bind(tenant)
                    .fetch_one(&pool)
                    .await
                    .unwrap();
                if n == 1001 {
                    return;
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(bed.pending().await, 0);
    let b = sql::booking(&bed.pool, bed.tenant, "b", false)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(b.start_time.unwrap(), start(999));
    let all = sql::reminders_of(&bed.pool, bed.tenant, "b").await.unwrap();
    let live: Vec<_> = all.iter().filter(|r| r.status == "pending").collect();
    assert_eq!(live.len(), 1, "one live set (one rule)");
    assert_eq!(live[0].version, b.version);
    assert_eq!(live[0].due_at, start(999) - chrono::Duration::hours(1));
    assert!(all
        .iter()
        .all(|r| r.status == "pending" || r.status == "superseded"));
}

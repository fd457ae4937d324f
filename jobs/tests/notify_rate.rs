//! The per-tenant WhatsApp rate limit through the engine: the limit set as
//! `worker` sets it at start (`notify::configure`), a real in-process worker,
//! and the WhatsApp fake's receive times. One tenant's messages are spaced at
//! least 1/rate apart; another tenant has its own bucket and is not held back.

mod notify_common;

use std::time::{Duration, Instant};

use jobs::kinds::notify::{admin, outbox, ChannelName};
use jobs::store::tenants;
use jobs::testing::Bed;
use notify_common::*;
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

const RATE: u32 = 5; // messages per second per tenant account
const N: usize = 5;

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn notify_whatsapp_rate_limit_spaces_one_tenant_and_spares_another(pool: PgPool) {
    let mut bed = Bed::new(pool).await;
    bed.settings.notifications.whatsapp_per_second = RATE;
    jobs::kinds::notify::configure(&bed.engine, &bed.settings)
        .await
        .unwrap();

    let other = tenants::create(
        &bed.pool,
        &tenants::NewTenant {
            name: "Escola Beta".into(),
            slug: format!("beta-{}", &Uuid::new_v4().simple().to_string()[..8]),
            timezone: "America/Sao_Paulo".into(),
            plan: "standard".into(),
        },
    )
    .await
    .unwrap()
    .id;
    jobs::testing::Bed::set_env("TEST_WA_TOKEN", "EAAG-test-token");
    for (tenant, phone_id) in [(bed.tenant, "111"), (other, "222")] {
        let s = json!({"phone_number_id": phone_id, "access_token_env": "TEST_WA_TOKEN"});
        admin::check_channel_settings(ChannelName::Whatsapp, &s).unwrap();
        admin::put_channel(&bed.pool, tenant, "whatsapp", &s, true)
            .await
            .unwrap();
    }

    // Tenant A's burst first, then tenant B's two messages behind it in the queue.
    for i in 0..N {
        let req = text(
            ChannelName::Whatsapp,
            &format!("+55119111100{i:02}"),
            &format!("a-{i}"),
            "Olá",
        );
        enqueue(&bed, &req).await;
    }
    for i in 0..2 {
        let req = text(
            ChannelName::Whatsapp,
            &format!("+55119222200{i:02}"),
            &format!("b-{i}"),
            "Olá",
        );
        outbox::enqueue(&bed.pool, &bed.engine, other, &req)
            .await
            .unwrap();
    }
    let worker = bed.worker(jobs::kinds::notify::QUEUE, 8);
    let seen = bed.fakes.wait_for("whatsapp", N + 2).await;
    worker.stop().await;

    let times = |phone_id: &str| -> Vec<Instant> {
        let mut t: Vec<Instant> = seen
            .iter()
            .filter(|s| s.path.contains(&format!("/{phone_id}/")))
            .map(|s| s.at)
            .collect();
        t.sort();
        t
    };
    let (a, b) = (times("111"), times("222"));
    assert_eq!((a.len(), b.len()), (N, 2));

    // A: the engine claims A's jobs exactly 1/rate apart; the request reaches
    // the fake after a handler latency that varies (a cold first request, a
    // loaded CI box). So: each gap at least half the interval, and the whole
    // run at least (N - 1) intervals less one latency spread, where the jitter
    // does not accumulate. Unlimited, the gaps are a few milliseconds.
    let interval = Duration::from_secs(1) / RATE;
    let jitter = Duration::from_millis(100);
    let gaps: Vec<Duration> = a.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(
        gaps.iter().all(|g| *g >= interval / 2),
        "tenant A gaps {gaps:?}, interval {interval:?}"
    );
    assert!(
        a[N - 1] - a[0] + jitter >= interval * (N as u32 - 1),
        "tenant A sent {N} in {:?} (gaps {gaps:?})",
        a[N - 1] - a[0]
    );
    // B has its own bucket: its first message does not wait behind A's
    // reserved slots (a shared bucket would put it after A's last).
    assert!(
        b[0] < a[2],
        "tenant B held back by tenant A: B first at +{:?}, A {:?}",
        b[0].saturating_duration_since(a[0]),
        a.iter().map(|t| *t - a[0]).collect::<Vec<_>>()
    );
    // ...and is itself limited.
    assert!(
        b[1] - b[0] + jitter >= interval,
        "tenant B {:?}",
        b[1] - b[0]
    );
}

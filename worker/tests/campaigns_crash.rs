//! A campaign while its worker processes are SIGKILLed and restarted: 10,000
//! recipients (the size) at 400/s on a number upgraded to 1,000/s,
//! three `worker` processes, one of them SIGKILLed every ~2 s while sends are
//! under way and replaced at once. Every contact
//! gets at most one message, every recipient ends with a final status, and
//! `unknown` (a send cut mid-call, never re-sent) stays within the sends that
//! were in flight at the kills (each chunk job's sends leave together).

mod common;

use common::*;
use jobs::kinds::campaigns::{contacts, lifecycle, model};
use jobs::kinds::notify::admin;
use jobs::testing::Bed;
use serde_json::json;
use sqlx::PgPool;

const N: usize = 10_000;
const CONCURRENCY: usize = 8;
/// Time between two kills while the fake is still accepting messages.
const KILL_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn campaign_survives_sigkilled_workers_with_at_most_one_message_per_contact(pool: PgPool) {
    let t = Fleet::new(|s| {
        s.lease_ttl_ms = 2_000;
        // The dispatch job may be the one in flight at a kill: let it come back.
        s.max_deliveries = 50;
    })
    .await;
    let keys = jobs::testing::RedisPrefix {
        prefix: t.prefix.clone(),
        url: t.url.clone(),
    };
    let bed = Bed::on(pool.clone(), keys).await;
    Bed::set_env("TEST_WA_TOKEN", "EAAG-test-token");
    admin::put_channel(
        &pool,
        bed.tenant,
        "whatsapp",
        &json!({"phone_number_id": "9999", "access_token_env": "TEST_WA_TOKEN"}),
        true,
    )
    .await
    .unwrap();
    let tpl: model::TemplateInput = serde_json::from_value(json!({
        "name": "promo", "category": "marketing", "body": "Olá {{1}}", "parameters": ["first_name"]}))
    .unwrap();
    lifecycle::put_template(&pool, bed.tenant, &tpl)
        .await
        .unwrap();
    let rows: Vec<model::ContactInput> = (0..N)
        .map(|i| {
            serde_json::from_value(
                json!({"external_id": format!("c{i}"), "name": format!("Cliente {i}"),
                "phone": format!("+55119{:08}", 10_000_000 + i)}),
            )
            .unwrap()
        })
        .collect();
    contacts::upsert(&pool, bed.tenant, &rows).await.unwrap();
    let input: model::CampaignInput = serde_json::from_value(json!({
        "name": "Crash", "sender_phone_number_id": "1055001", "template": "promo",
        "parameters": {"first_name": {"source": "first_name"}}, "audience": {"type": "all"},
        "rate_per_second": 400, "throughput": 1000}))
    .unwrap();
    let c = lifecycle::create(&pool, bed.tenant, &input).await.unwrap();
    // Sends go out in chunks (20 at 400/s), all of a chunk at once.
    let chunk = jobs::kinds::campaigns::dispatch::chunk_size(&c);

    let spec = t
        .spec("campaigns", CONCURRENCY)
        .env("TAREFA__DATABASE__URL", db_url(&pool))
        .env(
            "TAREFA__NOTIFICATIONS__WHATSAPP_BASE_URL",
            bed.fakes.base_url(),
        )
        .env(
            "TAREFA__WORKER__CONCURRENCY__CAMPAIGNS",
            CONCURRENCY.to_string(),
        )
        .env("TAREFA__CAMPAIGNS__TICK_MS", "200")
        .env("TAREFA__CAMPAIGNS__REDISPATCH_AFTER_SECS", "10")
        .env("TEST_WA_TOKEN", "EAAG-test-token");
    let mut procs: Vec<WorkerProc> = (0..3).map(|_| spec.spawn()).collect();
    lifecycle::act(&pool, &bed.engine, bed.tenant, c.id, "start")
        .await
        .unwrap();

    let mut kills = 0;
    let mut last_kill = std::time::Instant::now();
    let mut in_flight_at_kills = 0usize;
    loop {
        let st: String = sqlx::query_scalar("select state from campaigns where id = $1")
            .bind(c.id)
            .fetch_one(&pool)
            .await
            .unwrap();
        if st == "completed" {
            break;
        }
        assert_eq!(st, "running", "the campaign left running: {st}");
        let accepted: usize = bed.fakes.whatsapp_accepted().len();
        if accepted > 0 && accepted < N && last_kill.elapsed() >= KILL_EVERY {
            let i = kills % procs.len();
            procs[i].kill().await;
            procs[i] = spec.spawn();
            kills += 1;
            // At most CONCURRENCY chunk jobs were running in the killed
            // process, each with at most a chunk of sends in flight.
            in_flight_at_kills += CONCURRENCY * chunk;
            last_kill = std::time::Instant::now();
        }
        tokio::time::sleep(POLL).await;
    }
    for p in &mut procs {
        p.kill().await;
    }
    assert!(kills >= 5, "the test killed workers {kills} times");

    let accepted = bed.fakes.whatsapp_accepted();
    let twice: Vec<_> = accepted.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "contacts with two messages: {twice:?}");
    let by_status: Vec<(String, i64)> = sqlx::query_as(
        "select status, count(*) from campaign_recipients where campaign_id = $1 group by status order by 1",
    )
    .bind(c.id)
    .fetch_all(&pool)
    .await
    .unwrap();
    let total: i64 = by_status.iter().map(|r| r.1).sum();
    assert_eq!(total, N as i64);
    let count = |s: &str| {
        by_status
            .iter()
            .find(|r| r.0 == s)
            .map(|r| r.1)
            .unwrap_or(0)
    };
    assert_eq!(
        count("sent") + count("unknown"),
        N as i64,
        "every recipient is final: {by_status:?}"
    );
    assert!(
        count("unknown") <= in_flight_at_kills as i64,
        "unknown {} over the sends in flight at {kills} kills: {by_status:?}",
        count("unknown")
    );
    // Every `sent` recipient's message reached the fake; nothing reached it twice.
    assert!(accepted.len() as i64 >= count("sent"));
    let reasons: i64 = sqlx::query_scalar(
        "select count(*) from campaign_recipients where campaign_id = $1 and status = 'unknown' and reason is null",
    )
    .bind(c.id)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(reasons, 0, "every unknown recipient says why");
    let sent_without_wamid: i64 = sqlx::query_scalar(
        "select count(*) from campaign_recipients where campaign_id = $1 and status = 'sent' and wamid is null",
    )
    .bind(c.id)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        sent_without_wamid, 0,
        "every sent recipient has Meta's message id"
    );
}

//! Notifications throughput with the outbox on: messages/s from `enqueue`
//! (outbox rows + `notify.send` jobs) through an in-process worker to a local
//! SMTP server (real SMTP sessions, pooled) and to the local WhatsApp Cloud
//! API fake, and once more for WhatsApp under the engine's shared per-tenant
//! rate limit. Each message: row insert, job push/claim/ack, row claim, the
//! provider call, row `sent`.
//!
//! Lives in `jobs/examples` (not the `bench` crate) because it needs the
//! `testing` fakes, which `jobs`' own dev-dependency turns on; the `bench`
//! crate stays free of them. Run (release, nothing else compiling):
//!
//! ```text
//! cargo run --release -p jobs --example notify_bench -- [messages] [concurrency]
//! ```
//! Uses `DATABASE_URL`'s server (creates database `tarefa_notify_bench`, fresh
//! each run) and `TAREFA__REDIS__URL` under a random prefix, removed at the end.

use std::time::{Duration, Instant};

use jobs::kinds::notify::{
    admin, outbox, ChannelName, MessageSpec, NotificationRequest, RecipientSpec,
};
use jobs::testing::Bed;
use serde_json::json;
use sqlx::{Connection, PgPool};

const BATCH: usize = 500;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(2_000);
    let conc: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(16);
    let base = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let redis =
        std::env::var("TAREFA__REDIS__URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let db = "tarefa_notify_bench";
    let mut admin_conn = sqlx::PgConnection::connect(&base).await?;
    sqlx::query(&format!("drop database if exists {db} with (force)"))
        .execute(&mut admin_conn)
        .await?;
    sqlx::query(&format!("create database {db}"))
        .execute(&mut admin_conn)
        .await?;
    let url = format!(
        "{}/{db}",
        base.rsplit_once('/').map_or(base.as_str(), |(h, _)| h)
    );
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(conc as u32 + 4)
        .connect(&url)
        .await?;
    jobs::store::MIGRATOR.run(&pool).await?;
    let prefix = format!("tnb{}", std::process::id());

    println!("notify bench: {n} messages per scenario, worker concurrency {conc}, fan-out batches of {BATCH}");
    let email = scenario(&pool, &redis, &prefix, ChannelName::Email, n, conc, None).await?;
    let wa = scenario(
        &pool,
        &redis,
        &format!("{prefix}w"),
        ChannelName::Whatsapp,
        n,
        conc,
        None,
    )
    .await?;
    let limited_n = (n / 5).max(100);
    let wa_rl = scenario(
        &pool,
        &redis,
        &format!("{prefix}r"),
        ChannelName::Whatsapp,
        limited_n,
        conc,
        Some(80),
    )
    .await?;
    println!("| scenario | messages | enqueue msg/s | delivered msg/s (end to end) |");
    println!("|---|---|---|---|");
    for (name, r) in [
        ("email → local SMTP", email),
        ("WhatsApp → local Cloud API fake", wa),
        ("WhatsApp, shared limit 80/s per tenant", wa_rl),
    ] {
        println!(
            "| {name} | {} | {:.0} | {:.0} |",
            r.0,
            r.0 as f64 / r.1.as_secs_f64(),
            r.0 as f64 / r.2.as_secs_f64()
        );
    }
    drop(pool);
    sqlx::query(&format!("drop database if exists {db} with (force)"))
        .execute(&mut admin_conn)
        .await?;
    Ok(())
}

/// (messages, enqueue time, enqueue-to-last-sent time)
async fn scenario(
    pool: &PgPool,
    redis: &str,
    prefix: &str,
    ch: ChannelName,
    n: usize,
    conc: usize,
    limit_per_sec: Option<u32>,
) -> anyhow::Result<(usize, Duration, Duration)> {
    let keys = jobs::testing::RedisPrefix {
        prefix: prefix.to_string(),
        url: redis.to_string(),
    };
    let mut bed = Bed::on(pool.clone(), keys).await;
    bed.settings.notifications.smtp_pool_max = conc as u32;
    Bed::set_env("BENCH_WA_TOKEN", "bench-token");
    let settings = match ch {
        ChannelName::Email => json!({"from": "bench@escola.example", "from_name": "Escola Bench"}),
        _ => json!({"phone_number_id": "1098765", "access_token_env": "BENCH_WA_TOKEN"}),
    };
    admin::put_channel(pool, bed.tenant, ch.as_str(), &settings, true).await?;
    if let Some(l) = limit_per_sec {
        bed.engine
            .set_rate_limit("notifications", "whatsapp", l, Duration::from_secs(1))
            .await?;
    }
    let recipient = |i: usize| match ch {
        ChannelName::Email => format!("responsavel{i}@example.com"),
        _ => format!("+55119{i:08}"),
    };
    let started = Instant::now();
    for chunk in (0..n).collect::<Vec<_>>().chunks(BATCH) {
        let req = NotificationRequest {
            channel: ch,
            recipient: None,
            dedup_key: None,
            recipients: chunk
                .iter()
                .map(|&i| RecipientSpec {
                    recipient: recipient(i),
                    dedup_key: format!("bench:{i}"),
                    data: Default::default(),
                })
                .collect(),
            message: MessageSpec {
                subject: Some("Boletim disponível".into()),
                text: Some("O boletim do 3º bimestre está disponível.".into()),
                ..Default::default()
            },
            urgent: false,
        };
        outbox::enqueue(pool, &bed.engine, bed.tenant, &req).await?;
    }
    let enqueued = started.elapsed();
    let worker = bed.worker("notifications", conc);
    loop {
        let sent: i64 = sqlx::query_scalar(
            "select count(*) from notifications where tenant_id = $1 and status = 'sent'",
        )
        .bind(bed.tenant)
        .fetch_one(pool)
        .await?;
        if sent as usize >= n {
            break;
        }
        let stuck: i64 = sqlx::query_scalar("select count(*) from notifications where tenant_id = $1 and status in ('failed', 'unknown')")
            .bind(bed.tenant).fetch_one(pool).await?;
        anyhow::ensure!(stuck == 0, "{stuck} messages failed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let total = started.elapsed();
    worker.stop().await;
    let delivered = match ch {
        ChannelName::Email => bed.smtp.mails().len(),
        _ => bed.fakes.seen("whatsapp").len(),
    };
    anyhow::ensure!(
        delivered == n,
        "provider saw {delivered} messages, expected exactly {n}"
    );
    println!(
        "{} ({n}{}): enqueue {:.2}s, all sent after {:.2}s, provider saw exactly {delivered}{}",
        ch.as_str(),
        limit_per_sec
            .map(|l| format!(", limit {l}/s"))
            .unwrap_or_default(),
        enqueued.as_secs_f64(),
        total.as_secs_f64(),
        if ch == ChannelName::Email {
            format!(" over {} SMTP sessions", bed.smtp.sessions())
        } else {
            String::new()
        }
    );
    cleanup(redis, prefix);
    Ok((n, enqueued, total))
}

fn cleanup(redis: &str, prefix: &str) {
    if let Ok(mut c) = redis::Client::open(redis).and_then(|c| c.get_connection()) {
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{{{prefix}:*"))
            .query(&mut c)
            .unwrap_or_default();
        for chunk in keys.chunks(500) {
            let _: Result<(), _> = redis::cmd("DEL").arg(chunk).query(&mut c);
        }
    }
}

//! Payments throughput end to end: charges/s from `payments::submit` (row +
//! `payments.charge` job) through in-process workers to the local Stripe fake
//! (create + confirm a PaymentIntent over HTTP, form-encoded, idempotency key)
//! until every payment is `succeeded` and its receipt (real SMTP) and signed
//! tenant webhook are `sent` from the outbox. Beside it, in the same run, the
//! floor: the same number of bare create calls to the same fake at the same
//! concurrency (no database, no queue, no outbox).
//!
//! Lives in `jobs/examples` because it needs the `testing` fakes. Run
//! (release, nothing else compiling):
//!
//! ```text
//! cargo run --release -p jobs --example payments_bench -- [payments] [concurrency]
//! ```
//! Uses `DATABASE_URL`'s server (creates database `tarefa_payments_bench`,
//! fresh each run) and `TAREFA__REDIS__URL` under a random prefix.

use std::time::{Duration, Instant};

use jobs::kinds::notify::admin;
use jobs::kinds::payments::{self, PaymentRequest};
use jobs::testing::stripe::StripeFake;
use jobs::testing::{Bed, RedisPrefix};
use serde_json::json;
use sqlx::{Connection, PgPool};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(2_000);
    let conc: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(16);
    let base = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let db = "tarefa_payments_bench";
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
        .max_connections(2 * conc as u32 + 8)
        .connect(&url)
        .await?;
    jobs::store::MIGRATOR.run(&pool).await?;

    let fake = StripeFake::start().await;
    let floor = raw_creates(&fake, n, conc).await?;
    let (submit, total) = end_to_end(&pool, &fake, n, conc).await?;
    println!("payments bench: {n} payments, worker concurrency {conc} (payments and notifications queues)");
    println!("| measure | per second | time |");
    println!("|---|---|---|");
    println!(
        "| submit (row + job), 1 caller | {:.0} | {:.2} s |",
        n as f64 / submit.as_secs_f64(),
        submit.as_secs_f64()
    );
    println!(
        "| charges end to end: submit → every payment `succeeded` and its receipt + webhook `sent` | {:.0} | {:.2} s |",
        n as f64 / total.as_secs_f64(),
        total.as_secs_f64()
    );
    println!(
        "| floor: bare create+confirm calls to the same fake, {conc} in flight | {:.0} | {:.2} s |",
        n as f64 / floor.as_secs_f64(),
        floor.as_secs_f64()
    );
    println!(
        "ratio end to end / floor: {:.2}×",
        floor.as_secs_f64() / total.as_secs_f64()
    );
    drop(pool);
    sqlx::query(&format!("drop database if exists {db} with (force)"))
        .execute(&mut admin_conn)
        .await?;
    Ok(())
}

/// `n` create+confirm calls, `conc` at a time, each under its own key.
async fn raw_creates(fake: &StripeFake, n: usize, conc: usize) -> anyhow::Result<Duration> {
    let client = reqwest::Client::new();
    let started = Instant::now();
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..conc {
        let (client, next, base) = (client.clone(), next.clone(), fake.base_url());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= n {
                    return Ok::<_, reqwest::Error>(());
                }
                client
                    .post(format!("{base}/v1/payment_intents"))
                    .bearer_auth(StripeFake::SECRET)
                    .header("Idempotency-Key", format!("raw-{i}"))
                    .form(&[
                        ("amount", "15000"),
                        ("currency", "brl"),
                        ("confirm", "true"),
                        ("payment_method", "pm_card_visa"),
                    ])
                    .send()
                    .await?
                    .error_for_status()?;
            }
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(started.elapsed())
}

async fn end_to_end(
    pool: &PgPool,
    fake: &StripeFake,
    n: usize,
    conc: usize,
) -> anyhow::Result<(Duration, Duration)> {
    let mut bed = Bed::on(pool.clone(), RedisPrefix::new()).await;
    Bed::set_env("TAREFA_STRIPE_SECRET_KEY", StripeFake::SECRET);
    Bed::set_env("BENCH_HOOK_SECRET", "whsec_bench");
    bed.settings.payments.base_url = fake.base_url();
    bed.settings.notifications.smtp_pool_max = conc as u32;
    bed.fakes.set_webhook_secret("whsec_bench");
    admin::put_channel(
        pool,
        bed.tenant,
        "email",
        &json!({"from": "financeiro@tutoria.example"}),
        true,
    )
    .await?;
    admin::put_channel(
        pool,
        bed.tenant,
        "webhook",
        &json!({"url": format!("{}/hook", bed.fakes.base_url()), "secret_env": "BENCH_HOOK_SECRET"}),
        true,
    )
    .await?;
    let started = Instant::now();
    for i in 0..n {
        let req = PaymentRequest {
            amount: json!(15_000),
            currency: None,
            customer: Some(format!("cus_{i}")),
            payment_method: "pm_card_visa".into(),
            description: Some("Aula particular".into()),
            metadata: Default::default(),
            reference: Some(format!("sessao-{i}")),
            receipt_email: Some(format!("aluno{i}@example.com")),
        };
        payments::submit(
            pool,
            &bed.engine,
            &bed.settings.payments,
            bed.tenant,
            Some(&format!("b-{i}")),
            &req,
            None,
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let submitted = started.elapsed();
    let w = bed.worker(payments::QUEUE, conc);
    let m = bed.worker(jobs::kinds::notify::QUEUE, conc);
    loop {
        let (ok, sent): (i64, i64) = sqlx::query_as(
            "select (select count(*) from payments where status = 'succeeded'), \
                    (select count(*) from notifications where status = 'sent')",
        )
        .fetch_one(pool)
        .await?;
        if ok as usize >= n && sent as usize >= 2 * n {
            break;
        }
        let bad: i64 = sqlx::query_scalar(
            "select count(*) from payments where status in ('failed', 'needs_review')",
        )
        .fetch_one(pool)
        .await?;
        anyhow::ensure!(bad == 0, "{bad} payments failed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let total = started.elapsed();
    w.stop().await;
    m.stop().await;
    anyhow::ensure!(
        fake.charges().len() == n + n,
        "one charge per payment (plus the floor's)"
    );
    Ok((submitted, total))
}

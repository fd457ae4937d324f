//! A charge against a real crash: a `worker` process is SIGKILLed after the
//! Stripe fake charged the card and before the worker heard back (so before
//! the payment row moved and before the ack). Another worker process gets the
//! job once the lease expires and sends the same request under the same
//! idempotency key; the provider replays its first answer. Exactly one
//! charge at the provider, and the payment ends `succeeded`.

mod common;

use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::time::Duration;

use common::*;
use jobs::engine::JobStatus;
use jobs::kinds::payments::{self, sql, PaymentRequest};
use jobs::testing::stripe::StripeFake;
use jobs::testing::Bed;
use serde_json::json;
use sqlx::PgPool;

fn worker(t: &Fleet, fake: &StripeFake, pool: &PgPool) -> tokio::process::Child {
    t.spec("payments", 2)
        .command()
        .env("TAREFA__DATABASE__URL", db_url(pool))
        .env("TAREFA__PAYMENTS__BASE_URL", fake.base_url())
        .env("TAREFA__PAYMENTS__REQUEST_TIMEOUT_MS", "20000")
        .env("TAREFA_STRIPE_SECRET_KEY", StripeFake::SECRET)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn worker")
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn payments_worker_killed_between_the_charge_and_the_ack_charges_once(pool: PgPool) {
    let t = Fleet::new(|s| s.lease_ttl_ms = 2_000).await;
    let keys = jobs::testing::RedisPrefix {
        prefix: t.prefix.clone(),
        url: t.url.clone(),
    };
    let bed = Bed::on(pool.clone(), keys).await;
    let fake = StripeFake::start().await;
    // The fake charges, then holds its answer long enough for the kill.
    fake.charge_then_hang_next(1, Duration::from_secs(30));
    let req = PaymentRequest {
        amount: json!(15_000),
        currency: Some("BRL".into()),
        customer: Some("cus_aluno".into()),
        payment_method: "pm_card_visa".into(),
        description: Some("Aula de física".into()),
        metadata: Default::default(),
        reference: Some("sessao-7".into()),
        receipt_email: None,
    };
    let id = match payments::submit(
        &pool,
        &bed.engine,
        &bed.settings.payments,
        bed.tenant,
        Some("crash-1"),
        &req,
        None,
    )
    .await
    .unwrap()
    {
        payments::Submitted::Created(p) => p.id,
        payments::Submitted::Replayed(_) => unreachable!(),
    };

    let mut a = worker(&t, &fake, &pool);
    // The provider has charged; worker A waits for the answer.
    fake.wait_for_charges(1).await;
    a.start_kill().unwrap();
    assert_eq!(a.wait().await.unwrap().signal(), Some(libc::SIGKILL));
    let p = sql::get(&pool, bed.tenant, id).await.unwrap().unwrap();
    assert_eq!(
        p.status, "pending",
        "A died before it could record anything"
    );

    let mut b = worker(&t, &fake, &pool);
    let job = loop {
        let j = t
            .engine
            .job("payments", &id.to_string())
            .await
            .unwrap()
            .unwrap();
        if j.status.is_final() {
            break j;
        }
        tokio::time::sleep(POLL).await;
    };
    b.start_kill().unwrap();
    b.wait().await.unwrap();
    assert_eq!(job.status, JobStatus::Succeeded, "{job:?}");
    assert!(job.attempts >= 2, "the job was re-delivered: {job:?}");
    let p = sql::get(&pool, bed.tenant, id).await.unwrap().unwrap();
    assert_eq!(
        (p.status.as_str(), p.amount_received_cents),
        ("succeeded", 15_000)
    );
    assert_eq!(
        fake.charges().len(),
        1,
        "exactly one charge at the provider"
    );
    let replays = fake
        .requests()
        .into_iter()
        .filter(|r| r.replayed || r.status == 409)
        .count();
    assert!(
        replays >= 1,
        "B's request was answered from the key, not charged anew"
    );
}

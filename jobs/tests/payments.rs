//! Payments end to end over real PostgreSQL and Redis, the real notification
//! outbox (SMTP sink, webhook receiver) and a local Stripe fake speaking the
//! wire format: one charge per payment whatever fails (declines, 429/5xx,
//! a timeout or a dropped connection after the fake charged, an idempotency
//! mismatch), reconciliation past the key window, events out of order and
//! twice, refunds within what was received.

mod notify_common;

use std::time::Duration;

use jobs::kinds::notify::ChannelName;
use jobs::kinds::payments::{self, charge, events, sql, PaymentRequest, RefundRequest};
use jobs::testing::stripe::StripeFake;
use jobs::testing::WorkerHandle;
use notify_common::*;
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

/// A bed whose payments go to `fake`, with short provider timeouts.
async fn pay_bed(pool: PgPool, fake: &StripeFake) -> Bed {
    let mut bed = Bed::new(pool).await;
    Bed::set_env("TAREFA_STRIPE_SECRET_KEY", StripeFake::SECRET);
    Bed::set_env("TAREFA_STRIPE_WEBHOOK_SECRET", StripeFake::WEBHOOK_SECRET);
    bed.settings.payments.base_url = fake.base_url();
    bed.settings.payments.request_timeout_ms = 400;
    bed
}

fn request(amount: i64, pm: &str) -> PaymentRequest {
    PaymentRequest {
        amount: json!(amount),
        currency: None,
        customer: Some("cus_aluna".into()),
        payment_method: pm.into(),
        description: Some("Aula de matemática (60 min)".into()),
        metadata: [("tutor".to_string(), "prof-ana".to_string())].into(),
        reference: Some("sessao-42".into()),
        receipt_email: Some("maria.souza@example.com".into()),
    }
}

async fn submit(bed: &Bed, key: &str, req: &PaymentRequest) -> Uuid {
    match payments::submit(
        &bed.pool,
        &bed.engine,
        &bed.settings.payments,
        bed.tenant,
        Some(key),
        req,
        None,
    )
    .await
    .unwrap()
    {
        payments::Submitted::Created(p) => p.id,
        payments::Submitted::Replayed(p) => panic!("replayed {}", p.id),
    }
}

async fn payment(bed: &Bed, id: Uuid) -> payments::Payment {
    sql::get(&bed.pool, bed.tenant, id).await.unwrap().unwrap()
}

fn serve(bed: &Bed) -> (WorkerHandle, WorkerHandle) {
    (
        bed.worker(payments::QUEUE, 4),
        bed.worker(jobs::kinds::notify::QUEUE, 2),
    )
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn a_charge_succeeds_once_with_its_receipt_and_tenant_webhook(pool: PgPool) {
    let fake = StripeFake::start().await;
    let bed = pay_bed(pool, &fake).await;
    email_channel(&bed).await;
    Bed::set_env("TEST_PAY_HOOK_SECRET", "whsec_loja");
    bed.fakes.set_webhook_secret("whsec_loja");
    channel(
        &bed,
        ChannelName::Webhook,
        json!({"url": format!("{}/hook", bed.fakes.base_url()), "secret_env": "TEST_PAY_HOOK_SECRET"}),
    )
    .await;
    let (w, n) = serve(&bed);
    let id = submit(&bed, "k-1", &request(123_456, "pm_card_visa")).await;
    let job = bed.wait_final(payments::QUEUE, &id.to_string()).await;
    assert_eq!(job.status, jobs::engine::JobStatus::Succeeded, "{job:?}");
    let p = payment(&bed, id).await;
    assert_eq!(p.status, "succeeded");
    assert_eq!((p.amount_received_cents, p.attempts), (123_456, 1));
    assert!(p.provider_payment_id.as_deref().unwrap().starts_with("pi_"));
    assert!(p.provider_charge_id.is_some() && p.succeeded_at.is_some());
    let charges = fake.charges();
    assert_eq!(charges.len(), 1);
    assert_eq!(charges[0].amount, 123_456);
    assert_eq!(
        charges[0].idempotency_key.as_deref(),
        Some(charge::charge_key(id).as_str())
    );

    // The receipt in pt-BR, and the signed webhook, once each.
    let mails = bed.smtp.wait_for(1).await;
    assert_eq!(mails[0].to, vec!["maria.souza@example.com".to_string()]);
    assert!(mails[0].data.contains("R$ 1.234,56"), "{}", mails[0].data);
    let hooks = bed.fakes.wait_for("webhook", 1).await;
    assert!(hooks[0].verified);
    let body: serde_json::Value = serde_json::from_str(&hooks[0].body).unwrap();
    assert_eq!(body["event"], "payment.succeeded");
    assert_eq!(body["data"]["payment_id"], id.to_string());
    assert_eq!(body["data"]["reference"], "sessao-42");
    assert_eq!(body["data"]["amount"], 123_456);

    // Running the charge again (a re-delivery) charges and sends nothing more.
    let again = bed.ctx(&id.to_string(), 2);
    let mut again = again;
    again.queue = payments::QUEUE.into();
    again.kind = payments::CHARGE.into();
    jobs::store::scope::as_tenant(bed.tenant, charge::run(id, &again))
        .await
        .unwrap();
    w.stop().await;
    n.stop().await;
    assert_eq!(fake.charges().len(), 1);
    assert_eq!(
        count_rows(&bed, None).await,
        2,
        "receipt + webhook rows, once"
    );
    assert_eq!(bed.smtp.mails().len(), 1);
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn a_decline_fails_for_good_with_its_code_and_sends_nothing(pool: PgPool) {
    let fake = StripeFake::start().await;
    let bed = pay_bed(pool, &fake).await;
    email_channel(&bed).await;
    let (w, n) = serve(&bed);
    let id = submit(
        &bed,
        "k-2",
        &request(5_000, "pm_card_chargeDeclinedInsufficientFunds"),
    )
    .await;
    let job = bed.wait_final(payments::QUEUE, &id.to_string()).await;
    w.stop().await;
    n.stop().await;
    assert_eq!(job.status, jobs::engine::JobStatus::Succeeded);
    assert_eq!(job.attempts, 1, "a decline is not retried");
    let p = payment(&bed, id).await;
    assert_eq!(p.status, "failed");
    assert_eq!(p.failure_code.as_deref(), Some("card_declined"));
    assert_eq!(p.decline_code.as_deref(), Some("insufficient_funds"));
    assert!(fake.charges().is_empty());
    assert_eq!(
        count_rows(&bed, None).await,
        0,
        "no receipt for a failed payment"
    );
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn rate_limits_and_server_errors_are_retried_with_the_same_key(pool: PgPool) {
    let fake = StripeFake::start().await;
    let bed = pay_bed(pool, &fake).await;
    fake.fail_next(1, 429, None);
    fake.fail_next(1, 503, Some(true));
    let (w, n) = serve(&bed);
    let id = submit(&bed, "k-3", &request(2_000, "pm_card_visa")).await;
    let job = bed.wait_final(payments::QUEUE, &id.to_string()).await;
    w.stop().await;
    n.stop().await;
    assert_eq!(job.status, jobs::engine::JobStatus::Succeeded, "{job:?}");
    assert_eq!(job.attempts, 3);
    assert_eq!(payment(&bed, id).await.status, "succeeded");
    assert_eq!(fake.charges().len(), 1);
    let creates: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path == "/v1/payment_intents")
        .collect();
    assert_eq!(creates.len(), 3);
    assert!(creates
        .iter()
        .all(|r| r.idempotency_key.as_deref() == Some(charge::charge_key(id).as_str())));
    let calls = sql::attempts(&bed.pool, id).await.unwrap();
    let outcomes: Vec<_> = calls
        .iter()
        .map(|c| (c.outcome.as_str(), c.http_status))
        .collect();
    assert_eq!(
        outcomes,
        [
            ("retry", Some(429)),
            ("retry", Some(503)),
            ("succeeded", Some(200))
        ]
    );
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn a_timeout_or_a_dropped_answer_after_the_charge_never_charges_twice(pool: PgPool) {
    let fake = StripeFake::start().await;
    let bed = pay_bed(pool, &fake).await;
    // The fake charges, then answers only after the client gave up (400 ms)…
    fake.charge_then_hang_next(1, Duration::from_millis(1500));
    let (w, n) = serve(&bed);
    let a = submit(&bed, "k-4a", &request(3_000, "pm_card_visa")).await;
    let job = bed.wait_final(payments::QUEUE, &a.to_string()).await;
    assert_eq!(job.status, jobs::engine::JobStatus::Succeeded, "{job:?}");
    assert!(job.attempts >= 2);
    // …or closes the connection without answering.
    fake.charge_then_drop_next(1);
    let b = submit(&bed, "k-4b", &request(4_000, "pm_card_visa")).await;
    let job = bed.wait_final(payments::QUEUE, &b.to_string()).await;
    assert_eq!(job.status, jobs::engine::JobStatus::Succeeded, "{job:?}");
    w.stop().await;
    n.stop().await;
    for id in [a, b] {
        let p = payment(&bed, id).await;
        assert_eq!(p.status, "succeeded");
        let calls = sql::attempts(&bed.pool, id).await.unwrap();
        assert_eq!(calls[0].outcome, "unknown", "{calls:?}");
    }
    let charges = fake.charges();
    assert_eq!(charges.len(), 2, "one charge per payment: {charges:?}");
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn the_same_key_with_other_parameters_needs_review(pool: PgPool) {
    let fake = StripeFake::start().await;
    let bed = pay_bed(pool, &fake).await;
    let id = submit(&bed, "k-5", &request(6_000, "pm_card_visa")).await;
    // Someone used the payment's provider key for another amount first.
    let r = reqwest::Client::new()
        .post(format!("{}/v1/payment_intents", fake.base_url()))
        .bearer_auth(StripeFake::SECRET)
        .header("Idempotency-Key", charge::charge_key(id))
        .form(&[
            ("amount", "1"),
            ("currency", "brl"),
            ("confirm", "true"),
            ("payment_method", "pm_card_visa"),
        ])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let (w, n) = serve(&bed);
    let job = bed.wait_final(payments::QUEUE, &id.to_string()).await;
    w.stop().await;
    n.stop().await;
    assert_eq!(job.status, jobs::engine::JobStatus::Dead);
    assert!(job.last_error.unwrap().contains("needs review"));
    let p = payment(&bed, id).await;
    assert_eq!(p.status, "needs_review");
    assert_eq!(p.failure_code.as_deref(), Some("idempotency_error"));
    assert_eq!(fake.charges().len(), 1, "only the other request's charge");
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn past_the_key_window_an_unknown_outcome_is_reconciled_not_resent(pool: PgPool) {
    let fake = StripeFake::start().await;
    let mut bed = pay_bed(pool, &fake).await;
    bed.settings.payments.reconcile_after_secs = 0;
    fake.charge_then_drop_next(1);
    let (w, n) = serve(&bed);
    let id = submit(&bed, "k-6", &request(7_000, "pm_card_visa")).await;
    let job = bed.wait_final(payments::QUEUE, &id.to_string()).await;
    w.stop().await;
    n.stop().await;
    assert_eq!(job.status, jobs::engine::JobStatus::Succeeded, "{job:?}");
    let p = payment(&bed, id).await;
    assert_eq!(p.status, "succeeded");
    let calls: Vec<String> = sql::attempts(&bed.pool, id)
        .await
        .unwrap()
        .into_iter()
        .map(|c| format!("{}:{}", c.action, c.outcome))
        .collect();
    assert_eq!(calls, ["create:unknown", "search:succeeded"]);
    let creates = fake
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path == "/v1/payment_intents")
        .count();
    assert_eq!((creates, fake.charges().len()), (1, 1));
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn reconciliation_creates_the_charge_only_when_the_provider_has_none(pool: PgPool) {
    let fake = StripeFake::start().await;
    let mut bed = pay_bed(pool, &fake).await;
    bed.settings.payments.reconcile_after_secs = 0;
    // The first create never reached the provider's books (a 503 before it acted).
    fake.fail_next(1, 503, None);
    let (w, n) = serve(&bed);
    let id = submit(&bed, "k-7", &request(8_000, "pm_card_visa")).await;
    let job = bed.wait_final(payments::QUEUE, &id.to_string()).await;
    w.stop().await;
    n.stop().await;
    assert_eq!(job.status, jobs::engine::JobStatus::Succeeded, "{job:?}");
    let calls: Vec<String> = sql::attempts(&bed.pool, id)
        .await
        .unwrap()
        .into_iter()
        .map(|c| format!("{}:{}", c.action, c.outcome))
        .collect();
    assert_eq!(
        calls,
        ["create:retry", "search:not_found", "create:succeeded"]
    );
    assert_eq!(fake.charges().len(), 1);
    assert_eq!(payment(&bed, id).await.status, "succeeded");
}

fn intent_event(
    id: &str,
    kind: &str,
    intent: &str,
    status: &str,
    payment: Uuid,
    created: i64,
) -> String {
    StripeFake::event_json(
        id,
        kind,
        json!({"id": intent, "object": "payment_intent", "status": status, "amount": 9000,
               "amount_received": if status == "succeeded" { 9000 } else { 0 }, "currency": "brl",
               "latest_charge": "ch_evt", "metadata": {"tarefa_payment_id": payment.to_string()}}),
        created,
    )
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn events_out_of_order_and_twice_only_move_a_payment_forward(pool: PgPool) {
    let fake = StripeFake::start().await;
    let bed = pay_bed(pool, &fake).await;
    email_channel(&bed).await;
    let (w, n) = serve(&bed);
    let id = submit(
        &bed,
        "k-8",
        &request(9_000, "pm_card_authenticationRequired"),
    )
    .await;
    bed.wait_final(payments::QUEUE, &id.to_string()).await;
    let p = payment(&bed, id).await;
    assert_eq!(p.status, "requires_action");
    let pi = p.provider_payment_id.clone().unwrap();

    let handle = |body: String| {
        let (pool, engine) = (bed.pool.clone(), bed.engine.clone());
        async move {
            events::handle(&pool, &engine, body.as_bytes())
                .await
                .unwrap()
        }
    };
    // succeeded arrives before the processing that preceded it.
    let ok = handle(intent_event(
        "evt_2",
        "payment_intent.succeeded",
        &pi,
        "succeeded",
        id,
        20,
    ))
    .await;
    assert!(
        matches!(ok, events::Handled::Applied { moved: true, ref status, .. } if status == "succeeded"),
        "{ok:?}"
    );
    let late = handle(intent_event(
        "evt_1",
        "payment_intent.processing",
        &pi,
        "processing",
        id,
        10,
    ))
    .await;
    assert!(
        matches!(late, events::Handled::Applied { moved: false, ref status, .. } if status == "succeeded"),
        "{late:?}"
    );
    let dup = handle(intent_event(
        "evt_2",
        "payment_intent.succeeded",
        &pi,
        "succeeded",
        id,
        20,
    ))
    .await;
    assert_eq!(dup, events::Handled::Duplicate);
    let failed_late = handle(intent_event(
        "evt_3",
        "payment_intent.payment_failed",
        &pi,
        "requires_payment_method",
        id,
        5,
    ))
    .await;
    assert!(
        matches!(failed_late, events::Handled::Applied { moved: false, .. }),
        "{failed_late:?}"
    );
    let p = payment(&bed, id).await;
    assert_eq!(
        (p.status.as_str(), p.amount_received_cents),
        ("succeeded", 9_000)
    );
    // One receipt, however many events.
    bed.smtp.wait_for(1).await;
    let foreign = handle(StripeFake::event_json("evt_9", "payment_intent.succeeded",
        json!({"id": "pi_elsewhere", "object": "payment_intent", "status": "succeeded", "amount": 1, "metadata": {}}), 30)).await;
    assert!(matches!(foreign, events::Handled::Ignored(_)));
    w.stop().await;
    n.stop().await;
    assert_eq!(count_rows(&bed, Some("sent")).await, 1);
    let recorded: i64 = sqlx::query_scalar("select count(*) from payment_events")
        .fetch_one(&bed.pool)
        .await
        .unwrap();
    assert_eq!(recorded, 4, "each event id once");
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn refunds_never_exceed_what_was_received(pool: PgPool) {
    let fake = StripeFake::start().await;
    let bed = pay_bed(pool, &fake).await;
    let (w, n) = serve(&bed);
    let id = submit(&bed, "k-9", &request(10_000, "pm_card_visa")).await;
    bed.wait_final(payments::QUEUE, &id.to_string()).await;
    let refund = |amount: Option<i64>, key: &str| {
        let bed = &bed;
        let key = key.to_string();
        async move {
            payments::submit_refund(
                &bed.pool,
                &bed.engine,
                &bed.settings.payments,
                bed.tenant,
                id,
                Some(&key),
                &RefundRequest {
                    amount: amount.map(|a| json!(a)),
                    reason: Some("requested_by_customer".into()),
                },
            )
            .await
        }
    };
    let (r1, new) = refund(Some(3_000), "r-1").await.unwrap();
    assert!(new);
    // The same key again: the same refund, nothing new.
    let (again, new) = refund(Some(3_000), "r-1").await.unwrap();
    assert_eq!((again.id, new), (r1.id, false));
    let over = refund(Some(7_001), "r-2").await.unwrap_err();
    assert!(
        matches!(
            over,
            payments::RefundError::Refused(sql::RefundRefused::TooMuch { left: 7_000 })
        ),
        "{over:?}"
    );
    bed.wait_final(payments::QUEUE, &r1.id.to_string()).await;
    let p = payment(&bed, id).await;
    assert_eq!(
        (p.status.as_str(), p.amount_refunded_cents),
        ("partially_refunded", 3_000)
    );
    // The rest (no amount = all that is left).
    let (r2, _) = refund(None, "r-3").await.unwrap();
    assert_eq!(r2.amount_cents, 7_000);
    bed.wait_final(payments::QUEUE, &r2.id.to_string()).await;
    w.stop().await;
    n.stop().await;
    let p = payment(&bed, id).await;
    assert_eq!(
        (p.status.as_str(), p.amount_refunded_cents),
        ("refunded", 10_000)
    );
    let refunds = fake.refunds();
    assert_eq!(refunds.iter().map(|r| r.amount).sum::<i64>(), 10_000);
    assert_eq!(refunds.len(), 2);
    assert!(matches!(
        refund(Some(1), "r-4").await.unwrap_err(),
        payments::RefundError::Refused(sql::RefundRefused::TooMuch { left: 0 })
    ));
}

//! The outbox against a real crash: a `worker` process is SIGKILLed after the
//! SMTP server accepted a message and before the worker heard back (so before
//! the row became `sent` and before the ack). Another worker process gets the
//! job once the lease expires, finds the row left `sending`, marks it
//! `unknown` for ops, and sends nothing: the guardian got exactly one email.

mod common;

use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;

use common::*;
use jobs::engine::JobStatus;
use jobs::kinds::notify::{admin, outbox, sql, ChannelName, MessageSpec, NotificationRequest};
use jobs::testing::Bed;
use serde_json::json;
use sqlx::PgPool;

fn worker(t: &Fleet, bed: &Bed, pool: &PgPool) -> tokio::process::Child {
    t.spec("notifications", 2)
        .command()
        .env("TAREFA__DATABASE__URL", db_url(pool))
        .env(
            "TAREFA__NOTIFICATIONS__SMTP_HOST",
            bed.smtp.addr.ip().to_string(),
        )
        .env(
            "TAREFA__NOTIFICATIONS__SMTP_PORT",
            bed.smtp.addr.port().to_string(),
        )
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn worker")
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn notify_worker_killed_after_smtp_accepted_sends_exactly_one_email(pool: PgPool) {
    let t = Fleet::new(|s| s.lease_ttl_ms = 2_000).await;
    let keys = jobs::testing::RedisPrefix {
        prefix: t.prefix.clone(),
        url: t.url.clone(),
    };
    let bed = Bed::on(pool.clone(), keys).await;
    let settings = json!({"from": "secretaria@escola-alfa.edu.br"});
    admin::put_channel(&pool, bed.tenant, "email", &settings, true)
        .await
        .unwrap();
    bed.smtp.stall(true);

    let req = NotificationRequest {
        channel: ChannelName::Email,
        recipient: Some("responsavel@example.com".into()),
        dedup_key: Some("ocorrencia:77:responsavel:1".into()),
        recipients: vec![],
        message: MessageSpec {
            subject: Some("Ocorrência".into()),
            text: Some("Houve uma ocorrência hoje.".into()),
            ..Default::default()
        },
        urgent: false,
    };
    let id = outbox::enqueue(&pool, &bed.engine, bed.tenant, &req)
        .await
        .unwrap()[0]
        .row
        .id;

    let mut a = worker(&t, &bed, &pool);
    // The SMTP server has the message; worker A is waiting for the 250.
    bed.smtp.wait_for(1).await;
    assert_eq!(
        sql::get(&pool, bed.tenant, id)
            .await
            .unwrap()
            .unwrap()
            .status,
        "sending"
    );
    a.start_kill().unwrap();
    assert_eq!(a.wait().await.unwrap().signal(), Some(libc::SIGKILL));
    bed.smtp.stall(false);

    let mut b = worker(&t, &bed, &pool);
    let job = loop {
        let j = t
            .engine
            .job("notifications", &id.to_string())
            .await
            .unwrap()
            .unwrap();
        if j.status.is_final() {
            break j;
        }
        tokio::time::sleep(POLL).await;
    };
    assert_eq!(job.status, JobStatus::Succeeded, "{job:?}");
    assert!(job.attempts >= 2, "the job was re-delivered: {job:?}");
    assert_eq!(job.result.unwrap()["status"], "unknown");
    let row = sql::get(&pool, bed.tenant, id).await.unwrap().unwrap();
    assert_eq!(row.status, "unknown");
    assert_eq!(
        bed.smtp.mails().len(),
        1,
        "exactly one email reached the SMTP server"
    );
    b.start_kill().unwrap();
    b.wait().await.unwrap();
}

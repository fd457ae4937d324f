//! `notify.fanout` through a real in-process worker (the builtin registry on
//! the notifications queue, PostgreSQL and Redis, the SMTP sink): one outbox
//! row and one delivered email per recipient, and running the same fan-out
//! again sends nothing more.

mod notify_common;

use std::time::Duration;

use jobs::engine::{JobStatus, NewJob};
use jobs::kinds::notify::{ChannelName, RecipientSpec, FANOUT, QUEUE};
use notify_common::*;
use sqlx::PgPool;

fn fanout_job(bed: &jobs::testing::Bed, recipients: &[&str]) -> NewJob {
    let mut req = text(ChannelName::Email, "", "", "Amanhã, feriado, não há aula.");
    req.recipient = None;
    req.dedup_key = None;
    req.recipients = recipients
        .iter()
        .enumerate()
        .map(|(i, r)| RecipientSpec {
            recipient: (*r).into(),
            dedup_key: format!("feriado-2025-12-08:{i}"),
            data: serde_json::Map::from_iter([("nome".into(), format!("Família {i}").into())]),
        })
        .collect();
    NewJob::new(
        QUEUE,
        FANOUT,
        &bed.tenant.to_string(),
        serde_json::to_value(&req).unwrap(),
    )
}

/// Waits (10 ms steps, 30 s at most) until `n` rows are `sent`.
async fn wait_sent(bed: &jobs::testing::Bed, n: i64) {
    for _ in 0..3000 {
        if count_rows(bed, Some("sent")).await >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("rows never reached sent");
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn notify_fanout_via_worker_one_row_and_one_email_per_recipient_dedup_on_rerun(pool: PgPool) {
    let bed = Bed::new(pool).await;
    email_channel(&bed).await;
    let worker = bed.worker(jobs::kinds::notify::QUEUE, 4);
    let to = ["ana@example.com", "bruno@example.com", "carla@example.com"];

    let first = bed.engine.push(fanout_job(&bed, &to)).await.unwrap();
    let done = bed.wait_final(QUEUE, &first.id).await;
    assert_eq!(done.status, JobStatus::Succeeded, "{done:?}");
    assert_eq!(
        done.result,
        Some(serde_json::json!({"recipients": 3, "created": 3}))
    );
    let mails = bed.smtp.wait_for(3).await;
    wait_sent(&bed, 3).await;
    assert_eq!(
        count_rows(&bed, None).await,
        3,
        "one outbox row per recipient"
    );
    let mut got: Vec<String> = mails.iter().flat_map(|m| m.to.clone()).collect();
    got.sort();
    assert_eq!(
        got,
        to.map(String::from).to_vec(),
        "one email per recipient"
    );

    // The same fan-out again (a re-run campaign, a re-delivered job): rows are
    // found by their dedup keys, none is queued, so no `notify.send` is pushed.
    let again = bed.engine.push(fanout_job(&bed, &to)).await.unwrap();
    assert_ne!(again.id, first.id);
    let done = bed.wait_final(QUEUE, &again.id).await;
    assert_eq!(done.status, JobStatus::Succeeded, "{done:?}");
    assert_eq!(
        done.result,
        Some(serde_json::json!({"recipients": 3, "created": 0}))
    );
    // Drain the worker (in-flight jobs finish) before counting.
    worker.stop().await;
    assert_eq!(count_rows(&bed, None).await, 3);
    assert_eq!(count_rows(&bed, Some("sent")).await, 3);
    assert_eq!(bed.smtp.mails().len(), 3, "nothing sent twice");
}

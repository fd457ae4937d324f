//! The outbox's promise, against real PostgreSQL, Redis and a real SMTP
//! server: one message per dedup key, whatever happens to the job — retried,
//! re-delivered, run twice at once, or its worker killed mid-send.

mod notify_common;

use jobs::engine::JobStatus;
use jobs::kinds::notify::{
    admin, dispatch, sql, templates, ChannelName, MessageSpec, NotificationRequest, RecipientSpec,
};
use jobs::kinds::JobError;
use jobs::testing::Bed;
use notify_common::*;
use serde_json::json;
use sqlx::PgPool;

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn notify_email_goes_through_a_worker_once_per_dedup_key(pool: PgPool) {
    let bed = Bed::new(pool).await;
    email_channel(&bed).await;
    let spec = templates::TemplateSpec {
        name: "grade_posted".into(),
        channel: ChannelName::Email,
        locale: None,
        subject: Some("Nova nota de {{ aluno }}".into()),
        body: "{{ aluno }} tirou {{ nota|decimal_br }} em {{ dia|date_br }}. Mensalidade: {{ valor|money_brl }}".into(),
        html: Some("<p>{{ aluno }}: <b>{{ nota|decimal_br }}</b></p>".into()),
        variables: vec!["aluno".into(), "nota".into(), "dia".into(), "valor".into()],
    };
    spec.validate().unwrap();
    templates::create_template(&bed.pool, bed.tenant, &spec)
        .await
        .unwrap();
    let req = NotificationRequest {
        channel: ChannelName::Email,
        recipient: Some("maria.souza@example.com".into()),
        dedup_key: Some("grade:123:guardian:9".into()),
        recipients: vec![],
        message: MessageSpec {
            template: Some("grade_posted".into()),
            data:
                json!({"aluno": "João Souza", "nota": 8.5, "dia": "2025-12-15", "valor": 1234.56})
                    .as_object()
                    .unwrap()
                    .clone(),
            ..Default::default()
        },
        urgent: false,
    };
    let first = enqueue(&bed, &req).await;
    assert!(first[0].created);
    let id = first[0].row.id;

    let worker = bed.worker("notifications", 2);
    let mails = bed.smtp.wait_for(1).await;
    let te_job = loop {
        let j = bed
            .engine
            .job("notifications", &id.to_string())
            .await
            .unwrap()
            .unwrap();
        if j.status.is_final() {
            break j;
        }
        tokio::task::yield_now().await;
    };
    assert_eq!(te_job.status, JobStatus::Succeeded);
    let data = &mails[0].data;
    assert_eq!(mails[0].to, vec!["maria.souza@example.com".to_string()]);
    assert!(
        data.contains("Subject: =?utf-8?") || data.contains("Subject: Nova nota"),
        "{data}"
    );
    assert!(
        data.contains("8,5") && data.contains("15/12/2025") && data.contains("R$ 1.234,56"),
        "{data}"
    );
    assert!(
        data.contains("multipart/alternative") && data.contains("<b>8,5</b>"),
        "{data}"
    );
    let r = row(&bed, id).await;
    assert_eq!(r.status, "sent");
    assert_eq!(
        r.provider_message_id.as_deref(),
        Some(format!("<{id}@tarefa>").as_str())
    );

    // The same request again (a client retry): the same row, no new job, no new mail.
    let again = enqueue(&bed, &req).await;
    assert!(!again[0].created);
    assert_eq!(again[0].row.id, id);
    assert_eq!(run(&bed, id, 2).await.unwrap()["status"], "sent");
    worker.stop().await;
    assert_eq!(bed.smtp.mails().len(), 1);
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn notify_redelivered_job_after_send_does_not_resend(pool: PgPool) {
    let bed = Bed::new(pool).await;
    email_channel(&bed).await;
    let id = enqueue(
        &bed,
        &text(ChannelName::Email, "ana@example.com", "k1", "Olá"),
    )
    .await[0]
        .row
        .id;
    run(&bed, id, 1).await.unwrap();
    // The worker's ack was lost: the engine re-delivers the job.
    let out = run(&bed, id, 1).await.unwrap();
    assert_eq!(out["status"], "sent");
    assert_eq!(bed.smtp.wait_for(1).await.len(), 1);
    assert_eq!(row(&bed, id).await.attempts, 1);
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn notify_worker_killed_after_provider_accepted_leaves_unknown_not_a_resend(pool: PgPool) {
    let bed = Bed::new(pool).await;
    email_channel(&bed).await;
    let id = enqueue(
        &bed,
        &text(ChannelName::Email, "ana@example.com", "k-kill", "Olá"),
    )
    .await[0]
        .row
        .id;
    // What the dying worker did: claimed the row, the SMTP server accepted the
    // message, and the process died before recording `sent` or acking the job.
    assert!(sql::claim(&bed.pool, id).await.unwrap().is_some());
    let n = row(&bed, id).await;
    let (settings, _, _) = sql::channel(&bed.pool, bed.tenant, "email")
        .await
        .unwrap()
        .unwrap();
    let out = dispatch::prepare(&bed.pool, bed.tenant, &n, settings)
        .await
        .unwrap();
    dispatch::send(ChannelName::Email, &bed.settings.notifications, &out)
        .await
        .unwrap();
    // The lease expires; the engine re-delivers the job to another worker.
    let res = run(&bed, id, 1).await.unwrap();
    assert_eq!(res["status"], "unknown");
    let r = row(&bed, id).await;
    assert_eq!(r.status, "unknown");
    assert!(r.last_error.unwrap().contains("worker stopped"));
    // And any later run leaves it alone.
    run(&bed, id, 2).await.unwrap();
    assert_eq!(bed.smtp.mails().len(), 1);
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn notify_two_runs_at_once_send_one_message(pool: PgPool) {
    let bed = Bed::new(pool).await;
    email_channel(&bed).await;
    let id = enqueue(
        &bed,
        &text(ChannelName::Email, "ana@example.com", "k-race", "Olá"),
    )
    .await[0]
        .row
        .id;
    let (a, b) = tokio::join!(run(&bed, id, 1), run(&bed, id, 1));
    a.unwrap();
    b.unwrap();
    assert_eq!(bed.smtp.wait_for(1).await.len(), 1);
    assert_eq!(row(&bed, id).await.status, "sent");
    assert_eq!(bed.smtp.mails().len(), 1);
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn notify_fanout_makes_one_row_and_job_per_recipient(pool: PgPool) {
    let bed = Bed::new(pool).await;
    email_channel(&bed).await;
    let mut req = text(ChannelName::Email, "", "", "Olá {{ nome }}");
    req.recipient = None;
    req.dedup_key = None;
    req.recipients = (0..3)
        .map(|i| RecipientSpec {
            recipient: format!("r{i}@example.com"),
            dedup_key: format!("camp:1:{i}"),
            data: Default::default(),
        })
        .collect();
    let rows = enqueue(&bed, &req).await;
    assert_eq!(rows.len(), 3);
    for r in &rows {
        let job = bed
            .engine
            .job("notifications", &r.row.id.to_string())
            .await
            .unwrap()
            .expect("job per row");
        assert_eq!(job.kind, "notify.send");
        run(&bed, r.row.id, 1).await.unwrap();
    }
    let mails = bed.smtp.wait_for(3).await;
    let mut to: Vec<String> = mails.iter().map(|m| m.to[0].clone()).collect();
    to.sort();
    assert_eq!(to, ["r0@example.com", "r1@example.com", "r2@example.com"]);
    // Repeating the fan-out creates nothing.
    assert!(enqueue(&bed, &req).await.iter().all(|e| !e.created));
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn notify_opted_out_recipient_is_suppressed(pool: PgPool) {
    let bed = Bed::new(pool).await;
    email_channel(&bed).await;
    let o = admin::OptOut {
        channel: "email".into(),
        recipient: "sai@example.com".into(),
        reason: "pediu".into(),
        created_at: chrono::Utc::now(),
    };
    admin::add_opt_out(&bed.pool, bed.tenant, &o).await.unwrap();
    let id = enqueue(
        &bed,
        &text(ChannelName::Email, "sai@example.com", "k-opt", "Olá"),
    )
    .await[0]
        .row
        .id;
    assert_eq!(run(&bed, id, 1).await.unwrap()["status"], "suppressed");
    assert_eq!(row(&bed, id).await.status, "suppressed");
    // A message to someone else still goes.
    let other = enqueue(
        &bed,
        &text(ChannelName::Email, "fica@example.com", "k-opt2", "Olá"),
    )
    .await[0]
        .row
        .id;
    run(&bed, other, 1).await.unwrap();
    let mails = bed.smtp.wait_for(1).await;
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].to, vec!["fica@example.com".to_string()]);
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn notify_opt_outs_match_normalised_phones_and_emails(pool: PgPool) {
    let bed = Bed::new(pool).await;
    email_channel(&bed).await;
    jobs::testing::Bed::set_env("TEST_WA_TOKEN", "EAAG-test-token");
    channel(
        &bed,
        ChannelName::Whatsapp,
        json!({"phone_number_id": "1098765", "access_token_env": "TEST_WA_TOKEN"}),
    )
    .await;
    let opt_out = |channel: &str, recipient: &str| admin::OptOut {
        channel: channel.into(),
        recipient: recipient.into(),
        reason: "STOP".into(),
        created_at: chrono::Utc::now(),
    };
    // Saved as typed by a person; stored in the normalised form.
    let saved = admin::add_opt_out(
        &bed.pool,
        bed.tenant,
        &opt_out("whatsapp", "+55 (11) 91111-2222"),
    )
    .await
    .unwrap();
    assert_eq!(saved.recipient, "+5511911112222");
    let saved = admin::add_opt_out(
        &bed.pool,
        bed.tenant,
        &opt_out("email", " Mae@Example.COM "),
    )
    .await
    .unwrap();
    assert_eq!(saved.recipient, "mae@example.com");
    // Saving another spelling of the same person is the same opt-out.
    admin::add_opt_out(&bed.pool, bed.tenant, &opt_out("whatsapp", "5511911112222"))
        .await
        .unwrap();
    assert_eq!(
        admin::list_opt_outs(&bed.pool, bed.tenant, Some("+55 11 91111-2222"))
            .await
            .unwrap()
            .len(),
        1
    );

    // Checked against other spellings at send time: suppressed, nothing sent.
    for (i, (ch, to)) in [
        (ChannelName::Whatsapp, "+5511911112222"),
        (ChannelName::Whatsapp, "+55 11 91111 2222"),
        (ChannelName::Email, "mae@example.com"),
        (ChannelName::Email, "MAE@example.com"),
    ]
    .into_iter()
    .enumerate()
    {
        let id = enqueue(&bed, &text(ch, to, &format!("k-norm-{i}"), "Olá")).await[0]
            .row
            .id;
        assert_eq!(
            run(&bed, id, 1).await.unwrap()["status"],
            "suppressed",
            "{ch:?} {to}"
        );
    }
    assert!(bed.fakes.seen("whatsapp").is_empty());
    assert!(bed.smtp.mails().is_empty());

    // Deleting by another spelling removes it; the number receives again.
    assert!(
        admin::delete_opt_out(&bed.pool, bed.tenant, "whatsapp", "+55 (11) 91111-2222")
            .await
            .unwrap()
    );
    let id = enqueue(
        &bed,
        &text(
            ChannelName::Whatsapp,
            "+5511911112222",
            "k-norm-after",
            "Olá",
        ),
    )
    .await[0]
        .row
        .id;
    run(&bed, id, 1).await.unwrap();
    assert_eq!(row(&bed, id).await.status, "sent");
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn notify_quiet_hours_snooze_normal_messages_but_not_urgent_ones(pool: PgPool) {
    let bed = Bed::new(pool).await;
    email_channel(&bed).await;
    // A window that contains "now" in São Paulo and ends about an hour later.
    let local = chrono::Utc::now().with_timezone(&chrono_tz::America::Sao_Paulo);
    let m = chrono::Timelike::hour(&local) * 60 + chrono::Timelike::minute(&local);
    let (start, end) = ((m + 1440 - 60) % 1440, (m + 60) % 1440);
    admin::put_policy(&bed.pool, bed.tenant, Some((start as i32, end as i32)))
        .await
        .unwrap();

    let id = enqueue(
        &bed,
        &text(ChannelName::Email, "ana@example.com", "k-quiet", "Olá"),
    )
    .await[0]
        .row
        .id;
    match run(&bed, id, 1).await {
        Err(JobError::Snooze { delay }) => {
            assert!(
                delay.as_secs() > 55 * 60 && delay.as_secs() <= 60 * 60,
                "{delay:?}"
            );
        }
        other => panic!("expected a snooze, got {other:?}"),
    }
    assert_eq!(row(&bed, id).await.status, "queued");

    let mut urgent = text(
        ChannelName::Email,
        "ana@example.com",
        "k-urgent",
        "Ocorrência grave",
    );
    urgent.urgent = true;
    let uid = enqueue(&bed, &urgent).await[0].row.id;
    assert_eq!(run(&bed, uid, 1).await.unwrap()["status"], "sent");
    assert_eq!(bed.smtp.wait_for(1).await.len(), 1);
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn notify_smtp_rejection_is_permanent_and_busy_is_retried(pool: PgPool) {
    let bed = Bed::new(pool).await;
    email_channel(&bed).await;
    let id = enqueue(
        &bed,
        &text(ChannelName::Email, "reject@example.com", "k-rej", "Olá"),
    )
    .await[0]
        .row
        .id;
    assert!(matches!(
        run(&bed, id, 1).await,
        Err(JobError::Permanent { .. })
    ));
    let r = row(&bed, id).await;
    assert_eq!(r.status, "failed");
    assert!(r.last_error.unwrap().contains("550"));

    let id = enqueue(
        &bed,
        &text(ChannelName::Email, "busy@example.com", "k-busy", "Olá"),
    )
    .await[0]
        .row
        .id;
    assert!(matches!(
        run(&bed, id, 1).await,
        Err(JobError::Retryable { .. })
    ));
    assert_eq!(row(&bed, id).await.status, "queued");
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn notify_missing_channel_settings_fail_with_reason(pool: PgPool) {
    let bed = Bed::new(pool).await;
    let id = enqueue(
        &bed,
        &text(ChannelName::Sms, "+5511988887777", "k-nochan", "Olá"),
    )
    .await[0]
        .row
        .id;
    let err = run(&bed, id, 1).await.unwrap_err();
    assert!(err.to_string().contains("not configured"), "{err}");
    assert_eq!(row(&bed, id).await.status, "failed");
}

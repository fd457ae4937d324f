//! An alert's life across evaluations: not re-sent while it persists, resolved
//! when the data stops matching, re-opened (and re-sent, unless within the
//! rule's cooldown) when it matches again, history kept; students who left
//! or changed class mid-year; staff audiences; narrowing by student; and the
//! whole path through real workers (alerts queue → notifications queue →
//! SMTP sink).

mod alerts_common;

use alerts_common::*;
use jobs::engine::NewJob;
use jobs::kinds::alerts::{self, EvaluatePayload};
use jobs::testing::Bed;
use serde_json::json;
use sqlx::PgPool;

async fn ana_at(bed: &jobs::testing::Bed, pct: f64) {
    attendance(bed, json!([
        {"registration": "2026001", "subject": "Matemática", "year": 2026, "term": 1, "attendance_pct": pct}
    ]))
    .await;
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn an_alert_is_sent_once_resolves_and_reopens_with_history(pool: PgPool) {
    let bed = Bed::new(pool).await;
    two_students(&bed).await;
    ana_at(&bed, 70.0).await;
    attendance_rule(&bed).await;

    let first = eval(&bed).await;
    assert_eq!((first.opened, first.messages), (1, 1));
    // Evaluated again (the daily run, another ingestion): nothing new is sent.
    for _ in 0..2 {
        let again = eval(&bed).await;
        assert_eq!(
            (again.opened, again.reopened, again.resolved, again.messages),
            (0, 0, 0, 0),
            "{again:?}"
        );
    }
    assert_eq!(outbox(&bed).await.len(), 1);

    ana_at(&bed, 80.0).await;
    let out = eval(&bed).await;
    assert_eq!(out.resolved, 1);
    assert_eq!(
        keys(&bed, "resolved").await,
        vec![k("frequência", "2026001", "matematica")]
    );

    ana_at(&bed, 60.0).await;
    let out = eval(&bed).await;
    assert_eq!((out.reopened, out.messages), (1, 1), "{out:?}");
    let a = &alerts_of(&bed).await[0];
    assert_eq!((a.status.as_str(), a.episode), ("open", 2));
    assert_eq!(a.details["frequencia"], json!(60.0));
    let rows = outbox(&bed).await;
    assert_eq!(
        rows.len(),
        2,
        "a re-opened alert is a new message: {rows:?}"
    );
    assert!(rows[1].2.contains("60%"), "{rows:?}");
    assert_eq!(
        events(&bed, a.id).await,
        vec!["opened", "notified", "resolved", "reopened", "notified"]
    );
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn a_reopened_alert_inside_the_cooldown_stays_silent(pool: PgPool) {
    let bed = Bed::new(pool).await;
    two_students(&bed).await;
    ana_at(&bed, 70.0).await;
    rule(
        &bed,
        "frequência",
        json!({"type": "attendance_below"}),
        json!({"cooldown_secs": 7 * 24 * 3600}),
    )
    .await;
    eval(&bed).await;
    ana_at(&bed, 80.0).await;
    eval_at(&bed, now() + chrono::Duration::days(1)).await;
    ana_at(&bed, 70.0).await;
    let out = eval_at(&bed, now() + chrono::Duration::days(2)).await;
    assert_eq!(
        (out.reopened, out.messages, out.cooldown_skipped),
        (1, 0, 1),
        "{out:?}"
    );
    let a = &alerts_of(&bed).await[0];
    assert_eq!(
        events(&bed, a.id).await.last().map(String::as_str),
        Some("notify_skipped")
    );
    // After the cooldown, a later episode is notified again.
    ana_at(&bed, 80.0).await;
    eval_at(&bed, now() + chrono::Duration::days(9)).await;
    ana_at(&bed, 65.0).await;
    let out = eval_at(&bed, now() + chrono::Duration::days(10)).await;
    assert_eq!((out.reopened, out.messages), (1, 1), "{out:?}");
    assert_eq!(outbox(&bed).await.len(), 2);
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn an_acknowledged_alert_still_resolves_and_a_disabled_rule_resolves_its_alerts(
    pool: PgPool,
) {
    let bed = Bed::new(pool).await;
    two_students(&bed).await;
    ana_at(&bed, 70.0).await;
    let id = rule(
        &bed,
        "frequência",
        json!({"type": "attendance_below"}),
        json!({}),
    )
    .await;
    eval(&bed).await;
    let a = alerts_of(&bed).await[0].clone();
    let ack = alerts::sql::acknowledge(&bed.pool, bed.tenant, a.id, Some("Coordenação"), now())
        .await
        .unwrap();
    assert_eq!(ack, alerts::sql::Ack::Done);
    eval(&bed).await;
    assert_eq!(
        alerts_of(&bed).await[0].status,
        "acknowledged",
        "an evaluation keeps the acknowledgement"
    );

    let mut spec: alerts::RuleSpec = serde_json::from_value(json!({"name": "frequência", "enabled": false,
        "condition": {"type": "attendance_below"}, "audience": ["guardians"], "channels": ["email"]})).unwrap();
    spec.cooldown_secs = 0;
    alerts::sql::update_rule(&bed.pool, bed.tenant, id, &spec)
        .await
        .unwrap()
        .unwrap();
    let out = eval(&bed).await;
    assert_eq!((out.rules, out.resolved), (0, 1));
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn a_student_who_left_is_not_alerted_and_a_transfer_reaches_the_new_class_staff(
    pool: PgPool,
) {
    let bed = Bed::new(pool).await;
    two_students(&bed).await;
    attendance(&bed, json!([
        {"registration": "2026001", "subject": "Matemática", "year": 2026, "term": 1, "attendance_pct": 70},
        {"registration": "2026002", "subject": "Matemática", "year": 2026, "term": 1, "attendance_pct": 70},
    ])).await;
    classes(&bed, json!([
        {"code": "9A-2026", "name": "9º ano A", "year": 2026,
         "teacher": {"code": "prof-rita", "name": "Rita Alves", "email": "rita@escola.example"},
         "coordinator": {"code": "coord-luis", "name": "Luís Prado", "email": "luis@escola.example"},
         "enrollments": [{"registration": "2026001", "started_on": "01/02/2026", "ended_on": "30/04/2026"},
                         {"registration": "2026002", "started_on": "01/02/2026"}]},
        {"code": "9B-2026", "name": "9º ano B", "year": 2026,
         "teacher": {"code": "prof-paulo", "name": "Paulo Nunes", "phone": "+5511977776666"},
         "enrollments": [{"registration": "2026001", "started_on": "02/05/2026"}]}
    ])).await;
    rule(&bed, "professores", json!({"type": "attendance_below"}),
         json!({"audience": ["class_teacher", "coordinator"], "channels": ["email", "sms"],
                "template": "{{ destinatario }}: {{ aluno }} ({{ turma }}) está com {{ frequencia|decimal_br }}% em {{ disciplina }}."})).await;
    eval(&bed).await;
    let rows = outbox(&bed).await;
    let mut got: Vec<(String, String)> = rows.iter().map(|r| (r.1.clone(), r.2.clone())).collect();
    got.sort();
    assert_eq!(
        got,
        vec![
            (
                "+5511977776666".into(),
                "Paulo Nunes: Ana Souza (9º ano B) está com 70% em Matemática.".into()
            ),
            (
                "luis@escola.example".into(),
                "Luís Prado: Bruno Lima (9º ano A) está com 70% em Matemática.".into()
            ),
            (
                "rita@escola.example".into(),
                "Rita Alves: Bruno Lima (9º ano A) está com 70% em Matemática.".into()
            ),
        ],
        "Ana moved to 9B in May: her new teacher, and 9B has no coordinator"
    );
    let ana = alerts_of(&bed)
        .await
        .into_iter()
        .find(|a| a.registration == "2026001")
        .unwrap();
    assert_eq!(ana.unreachable[0]["kind"], "coordinator");

    // Bruno leaves the school (transfer to another institution): his alert resolves, none re-opens.
    students(&bed, json!([{"registration": "2026002", "name": "Bruno Lima", "active": false, "left_on": "10/06/2026"}])).await;
    let out = eval(&bed).await;
    assert_eq!(out.resolved, 1);
    assert_eq!(
        keys(&bed, "open").await,
        vec![k("professores", "2026001", "matematica")]
    );
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn a_narrowed_evaluation_touches_only_its_students(pool: PgPool) {
    let bed = Bed::new(pool).await;
    two_students(&bed).await;
    attendance(&bed, json!([
        {"registration": "2026001", "subject": "Matemática", "year": 2026, "term": 1, "attendance_pct": 70},
        {"registration": "2026002", "subject": "Matemática", "year": 2026, "term": 1, "attendance_pct": 70},
    ])).await;
    attendance_rule(&bed).await;
    let ana: uuid::Uuid =
        sqlx::query_scalar("select id from students where registration = '2026001'")
            .fetch_one(&bed.pool)
            .await
            .unwrap();
    let p = EvaluatePayload {
        student_ids: Some(vec![ana]),
        ..Default::default()
    };
    let out = alerts::run(&bed.pool, &bed.engine, bed.tenant, &p, now())
        .await
        .unwrap();
    assert_eq!((out.students, out.opened), (1, 1));
    // Bruno's data improving is not seen by an evaluation of Ana alone, and Bruno's alert is not resolved by it.
    eval(&bed).await;
    attendance(&bed, json!([{"registration": "2026002", "subject": "Matemática", "year": 2026, "term": 1, "attendance_pct": 90}])).await;
    let out = alerts::run(&bed.pool, &bed.engine, bed.tenant, &p, now())
        .await
        .unwrap();
    assert_eq!(out.resolved, 0);
    assert_eq!(keys(&bed, "open").await.len(), 2);
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn evaluate_job_through_workers_emails_the_guardian_once(pool: PgPool) {
    let bed = Bed::new(pool).await;
    let ch =
        json!({"from": "secretaria@escola-alfa.edu.br", "from_name": "Secretaria Escola Alfa"});
    jobs::kinds::notify::admin::put_channel(&bed.pool, bed.tenant, "email", &ch, true)
        .await
        .unwrap();
    two_students(&bed).await;
    // Data for this year (the job evaluates "today").
    let year = chrono::Datelike::year(&chrono::Utc::now());
    attendance(
        &bed,
        json!([{"registration": "2026001", "subject": "Matemática", "year": year, "term": 1,
                             "classes_given": 100, "absences": 28}]),
    )
    .await;
    attendance_rule(&bed).await;
    let alerts_worker = bed.worker(alerts::QUEUE, 2);
    let notify_worker = bed.worker(jobs::kinds::notify::QUEUE, 2);
    let job = |tenant: &uuid::Uuid| {
        NewJob::new(
            alerts::QUEUE,
            alerts::EVALUATE,
            &tenant.to_string(),
            json!({}),
        )
    };
    let pushed = bed.engine.push(job(&bed.tenant)).await.unwrap();
    let done = bed.wait_final(alerts::QUEUE, &pushed.id).await;
    assert_eq!(done.status, jobs::engine::JobStatus::Succeeded, "{done:?}");
    let mails = bed.smtp.wait_for(1).await;
    assert_eq!(mails[0].to, vec!["maria@example.com".to_string()]);
    assert!(mails[0].data.contains("Matem"), "{}", mails[0].data);
    // The same evaluation again: no second e-mail.
    let again = bed.engine.push(job(&bed.tenant)).await.unwrap();
    let done = bed.wait_final(alerts::QUEUE, &again.id).await;
    assert_eq!(done.result.as_ref().unwrap()["messages"], 0);
    assert_eq!(
        outbox(&bed).await.len(),
        1,
        "no second outbox row, so no second notify.send"
    );
    alerts_worker.stop().await;
    notify_worker.stop().await;
    assert_eq!(bed.smtp.mails().len(), 1);
}

/// A held alert is rewritten only when what its rule saw changes: the daily
/// run over an unchanged school writes nothing (`changed_at` stays), a new
/// figure that still holds updates details and `changed_at` without a message.
#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn a_held_alert_is_rewritten_only_when_its_details_change(pool: PgPool) {
    let bed = Bed::new(pool).await;
    two_students(&bed).await;
    ana_at(&bed, 70.0).await;
    attendance_rule(&bed).await;
    let changed_at = |bed: &jobs::testing::Bed| {
        let pool = bed.pool.clone();
        let tenant = bed.tenant;
        async move {
            sqlx::query_scalar::<_, chrono::DateTime<chrono::Utc>>(
                "select changed_at from alerts where tenant_id = $1",
            )
            .bind(tenant)
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    let t0 = now();
    assert_eq!(eval_at(&bed, t0).await.opened, 1);
    assert_eq!(changed_at(&bed).await, t0);

    let next_day = t0 + chrono::Duration::days(1);
    let out = eval_at(&bed, next_day).await;
    assert_eq!(
        (out.holding, out.opened, out.messages),
        (1, 0, 0),
        "{out:?}"
    );
    assert_eq!(
        changed_at(&bed).await,
        t0,
        "unchanged details are not rewritten"
    );

    ana_at(&bed, 65.0).await;
    let later = t0 + chrono::Duration::days(2);
    let out = eval_at(&bed, later).await;
    assert_eq!(
        (out.opened, out.reopened, out.messages),
        (0, 0, 0),
        "{out:?}"
    );
    assert_eq!(changed_at(&bed).await, later);
    let a = &alerts_of(&bed).await[0];
    assert_eq!((a.status.as_str(), a.episode), ("open", 1));
    assert_eq!(a.details["frequencia"], json!(65.0));
    assert_eq!(events(&bed, a.id).await, vec!["opened", "notified"]);
}

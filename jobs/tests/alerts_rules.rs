//! Each alert rule type on crafted records (PostgreSQL + Redis, fixed clock
//! 15/06/2026): who it holds for and who it does not, edges included —
//! exactly at the threshold, missing terms, assessments vs term grades,
//! scale 100, justified absences, old occurrences, composite rules — and the
//! pt-BR message each one writes to the notifications outbox.

mod alerts_common;

use alerts_common::*;
use jobs::kinds::alerts::{self, EvaluatePayload};
use jobs::testing::Bed;
use serde_json::{json, Value};
use sqlx::PgPool;

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn attendance_below_holds_per_subject_not_at_the_threshold_and_tells_reachable_guardians(
    pool: PgPool,
) {
    let bed = Bed::new(pool).await;
    two_students(&bed).await;
    attendance(&bed, json!([
        // Ana: Matemática 72% (28 absences of 100), Português exactly 75%.
        {"registration": "2026001", "subject": "Matemática", "year": 2026, "term": 1, "classes_given": 50, "absences": 14},
        {"registration": "2026001", "subject": "Matemática", "year": 2026, "term": 2, "classes_given": 50, "absences": 14},
        {"registration": "2026001", "subject": "Língua Portuguesa", "year": 2026, "term": 1, "classes_given": 100, "absences": 25},
        // Bruno: only a percentage, with a decimal comma.
        {"registration": "2026002", "subject": "Matemática", "year": 2026, "term": 1, "attendance_pct": "74,9"},
    ])).await;
    rule(
        &bed,
        "frequência",
        json!({"type": "attendance_below", "min_pct": 75}),
        json!({"channels": ["email", "whatsapp"]}),
    )
    .await;

    let out = eval(&bed).await;
    assert_eq!((out.opened, out.holding), (2, 2), "{out:?}");
    assert_eq!(
        keys(&bed, "open").await,
        vec![
            k("frequência", "2026001", "matematica"),
            k("frequência", "2026002", "matematica")
        ]
    );
    let ana = &alerts_of(&bed).await[0];
    assert_eq!(ana.details["frequencia"], json!(72.0));
    // The guardian without any contact is recorded, not fatal.
    assert_eq!(
        ana.unreachable[0]["name"], "José Souza",
        "{}",
        ana.unreachable
    );

    let rows = outbox(&bed).await;
    assert_eq!(
        rows.len(),
        2,
        "one message per reachable recipient: {rows:?}"
    );
    let maria = rows
        .iter()
        .find(|r| r.1 == "maria@example.com")
        .expect("Ana's mother by e-mail");
    assert_eq!(
        (maria.0.as_str(), maria.2.as_str()),
        (
            "email",
            "Atenção: a frequência de Ana Souza em Matemática está em 72% (mínimo 75%)."
        )
    );
    assert_eq!(maria.3.as_deref(), Some("Alerta acadêmico: Ana Souza"));
    let carla = rows
        .iter()
        .find(|r| r.1 == "+5511988887777")
        .expect("Bruno's mother on WhatsApp, her preferred channel");
    assert_eq!(carla.0, "whatsapp");
    assert!(carla.2.contains("74,9%"), "{}", carla.2);
    assert_eq!(out.unreachable, 1);
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn attendance_overall_uses_the_whole_day_else_all_subjects_and_daily_records(pool: PgPool) {
    let bed = Bed::new(pool).await;
    two_students(&bed).await;
    students(
        &bed,
        json!([{"registration": "2026003", "name": "Caio Reis"}]),
    )
    .await;
    // Ana: 4 school days, 1 unjustified absence = 75% (not below); a justified one does not count.
    attendance(&bed, json!([
        {"registration": "2026001", "date": "02/03/2026", "present": "P"},
        {"registration": "2026001", "date": "03/03/2026", "present": "F"},
        {"registration": "2026001", "date": "04/03/2026", "present": "F", "justified": "sim"},
        {"registration": "2026001", "date": "05/03/2026", "present": true},
        // Bruno: 2 of 4 days absent = 50%.
        {"registration": "2026002", "date": "02/03/2026", "present": false},
        {"registration": "2026002", "date": "03/03/2026", "present": false},
        {"registration": "2026002", "date": "04/03/2026", "present": true},
        {"registration": "2026002", "date": "05/03/2026", "present": true},
        // Caio: no whole-day figure; subjects together 60 of 100 = 60%.
        {"registration": "2026003", "subject": "Matemática", "year": 2026, "term": 1, "classes_given": 50, "absences": 30},
        {"registration": "2026003", "subject": "História", "year": 2026, "term": 1, "classes_given": 50, "absences": 10},
    ])).await;
    rule(
        &bed,
        "geral",
        json!({"type": "attendance_below", "scope": "overall"}),
        json!({}),
    )
    .await;
    eval(&bed).await;
    assert_eq!(
        keys(&bed, "open").await,
        vec![k("geral", "2026002", ""), k("geral", "2026003", "")]
    );
    let a = alerts_of(&bed).await;
    assert_eq!(
        (
            a[0].details["frequencia"].clone(),
            a[1].details["frequencia"].clone()
        ),
        (json!(50.0), json!(60.0))
    );
    let rows = outbox(&bed).await;
    assert!(
        rows.iter()
            .any(|r| r.2 == "Atenção: a frequência de Bruno Lima está em 50% (mínimo 75%)."),
        "{rows:?}"
    );
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn grade_below_reads_term_grades_assessments_scales_and_missing_terms(pool: PgPool) {
    let bed = Bed::new(pool).await;
    two_students(&bed).await;
    grades(&bed, json!([
        // Ana, Matemática: term 1 from assessments (4 and 6 → 5, exactly the threshold), term 2 = 4,5.
        {"registration": "2026001", "subject": "Matemática", "year": 2026, "term": 1, "assessment": "P1", "grade": 4},
        {"registration": "2026001", "subject": "Matemática", "year": 2026, "term": 1, "assessment": "P2", "grade": "6,0"},
        {"registration": "2026001", "subject": "Matemática", "year": 2026, "term": 2, "grade": "4,5"},
        // Ana, História on a 0-100 scale: 70 → 7.
        {"registration": "2026001", "subject": "História", "year": 2026, "term": 2, "grade": 70, "scale_max": 100},
        // Bruno: only term 1, exactly 5.
        {"registration": "2026002", "subject": "Matemática", "year": 2026, "term": 1, "grade": 5},
        // Last year does not count.
        {"registration": "2026002", "subject": "História", "year": 2025, "term": 4, "grade": 1},
    ])).await;
    rule(
        &bed,
        "nota atual",
        json!({"type": "grade_below", "threshold": 5}),
        json!({}),
    )
    .await;
    rule(
        &bed,
        "1º bimestre",
        json!({"type": "grade_below", "threshold": 5, "term": 1}),
        json!({}),
    )
    .await;
    rule(
        &bed,
        "3º bimestre",
        json!({"type": "grade_below", "threshold": 5, "term": 3}),
        json!({}),
    )
    .await;
    rule(
        &bed,
        "história",
        json!({"type": "grade_below", "threshold": 7.5, "subjects": ["História"]}),
        json!({}),
    )
    .await;
    eval(&bed).await;
    assert_eq!(
        keys(&bed, "open").await,
        vec![
            k("história", "2026001", "historia"),
            k("nota atual", "2026001", "matematica")
        ],
        "term 1 is exactly 5 (not below), term 3 is missing (nothing to judge)"
    );
    let rows = outbox(&bed).await;
    assert!(rows.iter().any(|r| r.2 == "Atenção: Ana Souza tirou 4,5 em Matemática no 2º bimestre (mínimo 5)."), "{rows:?}");
    assert!(
        rows.iter()
            .any(|r| r.2 == "Atenção: Ana Souza tirou 7 em História no 2º bimestre (mínimo 7,5)."),
        "{rows:?}"
    );
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn average_below_ignores_missing_terms_prefers_the_final_grade_and_has_an_overall_form(
    pool: PgPool,
) {
    let bed = Bed::new(pool).await;
    two_students(&bed).await;
    grades(&bed, json!([
        // Ana, Matemática: terms 1-2 only (4 and 6 → 5; missing terms are not zeros).
        {"registration": "2026001", "subject": "Matemática", "year": 2026, "term": 1, "grade": 4},
        {"registration": "2026001", "subject": "Matemática", "year": 2026, "term": 2, "grade": 6},
        // Ana, Ciências: low terms but a final grade of 7.
        {"registration": "2026001", "subject": "Ciências", "year": 2026, "term": 1, "grade": 3},
        {"registration": "2026001", "subject": "Ciências", "year": 2026, "term": 0, "grade": 7},
        // Bruno: exactly 6.
        {"registration": "2026002", "subject": "Matemática", "year": 2026, "term": 1, "grade": 6},
    ])).await;
    rule(
        &bed,
        "média",
        json!({"type": "average_below", "threshold": 6}),
        json!({}),
    )
    .await;
    rule(
        &bed,
        "média geral",
        json!({"type": "average_below", "threshold": 6.5, "scope": "overall"}),
        json!({}),
    )
    .await;
    eval(&bed).await;
    assert_eq!(
        keys(&bed, "open").await,
        vec![
            k("média", "2026001", "matematica"),
            k("média geral", "2026001", ""),
            k("média geral", "2026002", "")
        ]
    );
    let a = alerts_of(&bed).await;
    assert_eq!(a[0].details["media"], json!(5.0));
    assert_eq!(
        a[1].details["media"],
        json!(6.0),
        "overall: mean of 5 (Matemática) and 7 (Ciências)"
    );
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn consecutive_absences_count_the_latest_run_and_justified_ones_break_it_unless_included(
    pool: PgPool,
) {
    let bed = Bed::new(pool).await;
    two_students(&bed).await;
    let days = |reg: &str, marks: &str| {
        marks.chars().enumerate().map(|(i, m)| {
            let mut r = json!({"registration": reg, "date": format!("2026-06-{:02}", i + 1), "present": m == 'P'});
            if m == 'J' { r["justified"] = json!(true); }
            r
        }).collect::<Vec<_>>()
    };
    let mut rows = days("2026001", "PFFJFFF");
    rows.extend(days("2026002", "FFFFP"));
    attendance(&bed, serde_json::Value::Array(rows)).await;
    rule(
        &bed,
        "3 faltas",
        json!({"type": "consecutive_absences", "count": 3}),
        json!({}),
    )
    .await;
    rule(
        &bed,
        "4 faltas",
        json!({"type": "consecutive_absences", "count": 4}),
        json!({}),
    )
    .await;
    rule(
        &bed,
        "4 com justificadas",
        json!({"type": "consecutive_absences", "count": 4, "include_justified": true}),
        json!({}),
    )
    .await;
    eval(&bed).await;
    assert_eq!(
        keys(&bed, "open").await,
        vec![
            k("3 faltas", "2026001", ""),
            k("4 com justificadas", "2026001", "")
        ],
        "Bruno came back on day 5; Ana's justified absence ends her run unless included"
    );
    let a = alerts_of(&bed).await;
    assert_eq!(
        (
            a[0].details["faltas"].clone(),
            a[0].details["desde"].clone()
        ),
        (json!(3), json!("2026-06-05"))
    );
    assert_eq!(
        (
            a[1].details["faltas"].clone(),
            a[1].details["desde"].clone()
        ),
        (json!(6), json!("2026-06-02"))
    );
    let rows = outbox(&bed).await;
    assert!(
        rows.iter()
            .any(|r| r.2 == "Atenção: Ana Souza faltou 3 dias seguidos, desde 05/06/2026."),
        "{rows:?}"
    );
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn falling_trend_needs_the_full_window_and_the_whole_drop(pool: PgPool) {
    let bed = Bed::new(pool).await;
    two_students(&bed).await;
    grades(&bed, json!([
        {"registration": "2026001", "subject": "Matemática", "year": 2026, "term": 1, "grade": 8},
        {"registration": "2026001", "subject": "Matemática", "year": 2026, "term": 2, "grade": 7},
        {"registration": "2026001", "subject": "Matemática", "year": 2026, "term": 3, "grade": "5,5"},
        {"registration": "2026001", "subject": "História", "year": 2026, "term": 1, "grade": 8},
        {"registration": "2026001", "subject": "História", "year": 2026, "term": 2, "grade": 7},
        {"registration": "2026001", "subject": "História", "year": 2026, "term": 3, "grade": "6,5"},
        // Bruno: a drop of 3 but only two terms.
        {"registration": "2026002", "subject": "Matemática", "year": 2026, "term": 1, "grade": 9},
        {"registration": "2026002", "subject": "Matemática", "year": 2026, "term": 2, "grade": 6},
    ])).await;
    rule(
        &bed,
        "queda",
        json!({"type": "falling_trend", "drop": 2, "last": 3}),
        json!({}),
    )
    .await;
    eval(&bed).await;
    assert_eq!(
        keys(&bed, "open").await,
        vec![k("queda", "2026001", "matematica")]
    );
    let a = &alerts_of(&bed).await[0];
    assert_eq!(a.details["notas"], json!([8.0, 7.0, 5.5]));
    let rows = outbox(&bed).await;
    assert_eq!(rows[0].2, "Atenção: as notas de Ana Souza em Matemática caíram 2,5 pontos nas últimas avaliações (de 8 para 5,5).");
}

/// `over: "assessments"`: the single assessments of the year, in term, date
/// and name order, not the term grades (which here do not fall).
#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn falling_trend_over_assessments_reads_single_assessments_in_order(pool: PgPool) {
    let bed = Bed::new(pool).await;
    two_students(&bed).await;
    grades(&bed, json!([
        // Ana, Matemática: term 1 P1 9, P2 8 (10/03 and 20/03); term 2 P1 6,5 — a 2,5 drop over the last 3.
        {"registration": "2026001", "subject": "Matemática", "year": 2026, "term": 2, "assessment": "P1", "grade": "6,5", "assessed_on": "10/05/2026"},
        {"registration": "2026001", "subject": "Matemática", "year": 2026, "term": 1, "assessment": "P2", "grade": 8, "assessed_on": "20/03/2026"},
        {"registration": "2026001", "subject": "Matemática", "year": 2026, "term": 1, "assessment": "P1", "grade": 9, "assessed_on": "10/03/2026"},
        // Ana's term grades rise: the terms trend does not hold.
        {"registration": "2026001", "subject": "Matemática", "year": 2026, "term": 1, "grade": 5},
        {"registration": "2026001", "subject": "Matemática", "year": 2026, "term": 2, "grade": 6},
        {"registration": "2026001", "subject": "Matemática", "year": 2026, "term": 3, "grade": 7},
        // Bruno: assessments on 0-100, a drop of 1,5 on 0-10 only.
        {"registration": "2026002", "subject": "Matemática", "year": 2026, "term": 1, "assessment": "A", "grade": 80, "scale_max": 100, "assessed_on": "01/03/2026"},
        {"registration": "2026002", "subject": "Matemática", "year": 2026, "term": 1, "assessment": "B", "grade": 70, "scale_max": 100, "assessed_on": "02/03/2026"},
        {"registration": "2026002", "subject": "Matemática", "year": 2026, "term": 1, "assessment": "C", "grade": 65, "scale_max": 100, "assessed_on": "03/03/2026"},
    ])).await;
    rule(
        &bed,
        "queda nas provas",
        json!({"type": "falling_trend", "drop": 2, "last": 3, "over": "assessments"}),
        json!({}),
    )
    .await;
    rule(
        &bed,
        "queda nos bimestres",
        json!({"type": "falling_trend", "drop": 2, "last": 3}),
        json!({}),
    )
    .await;
    eval(&bed).await;
    assert_eq!(
        keys(&bed, "open").await,
        vec![k("queda nas provas", "2026001", "matematica")]
    );
    let a = &alerts_of(&bed).await[0];
    assert_eq!(a.details["notas"], json!([9.0, 8.0, 6.5]));
    assert_eq!(
        (a.details["de"].clone(), a.details["para"].clone()),
        (json!(9.0), json!(6.5))
    );
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn an_occurrence_alerts_once_each_by_severity_and_age(pool: PgPool) {
    let bed = Bed::new(pool).await;
    two_students(&bed).await;
    occurrences(&bed, json!([
        {"registration": "2026001", "external_id": "OC-1", "kind": "agressão", "severity": 4, "date": "10/06/2026", "description": "briga no recreio"},
        {"registration": "2026001", "external_id": "OC-2", "kind": "atraso", "severity": 2, "date": "11/06/2026"},
        {"registration": "2026001", "external_id": "OC-3", "kind": "agressão", "severity": 5, "date": "01/04/2026"},
        {"registration": "2026002", "external_id": "OC-4", "kind": "dano", "severity": 5, "date": "16/05/2026"},
    ])).await;
    rule(
        &bed,
        "grave",
        json!({"type": "occurrence", "min_severity": 4, "within_days": 30}),
        json!({"urgency": "high"}),
    )
    .await;
    eval(&bed).await;
    assert_eq!(
        keys(&bed, "open").await,
        vec![
            k("grave", "2026001", "occurrence:OC-1"),
            k("grave", "2026002", "occurrence:OC-4")
        ],
        "OC-2 is mild, OC-3 is 75 days old; OC-4 is exactly 30 days old"
    );
    let urgent: Vec<bool> =
        sqlx::query_scalar("select urgent from notifications where tenant_id = $1")
            .bind(bed.tenant)
            .fetch_all(&bed.pool)
            .await
            .unwrap();
    assert!(
        urgent.iter().all(|u| *u) && !urgent.is_empty(),
        "high urgency is urgent for the notifications engine"
    );
    let rows = outbox(&bed).await;
    assert!(rows.iter().any(|r| r.2 == "Atenção: ocorrência registrada para Ana Souza em 10/06/2026: agressão (gravidade 4)."), "{rows:?}");
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn composite_rules_combine_conditions_per_student(pool: PgPool) {
    let bed = Bed::new(pool).await;
    two_students(&bed).await;
    attendance(&bed, json!([
        {"registration": "2026001", "subject": "Matemática", "year": 2026, "term": 1, "attendance_pct": 70},
        {"registration": "2026002", "subject": "Matemática", "year": 2026, "term": 1, "attendance_pct": 70},
    ])).await;
    grades(&bed, json!([
        {"registration": "2026001", "subject": "Matemática", "year": 2026, "term": 1, "grade": 3},
    ])).await;
    let both = json!({"type": "all_of", "conditions": [
        {"type": "attendance_below"}, {"type": "grade_below", "threshold": 5}]});
    let either = json!({"type": "any_of", "conditions": [
        {"type": "attendance_below"}, {"type": "occurrence", "min_severity": 5}]});
    rule(&bed, "risco", both, json!({})).await;
    rule(&bed, "atenção", either, json!({})).await;
    eval(&bed).await;
    assert_eq!(
        keys(&bed, "open").await,
        vec![
            k("atenção", "2026001", ""),
            k("atenção", "2026002", ""),
            k("risco", "2026001", "")
        ]
    );
    let rows = outbox(&bed).await;
    assert!(
        rows.iter().any(|r| r.2 == "Atenção: Ana Souza precisa de acompanhamento: frequência de 70% em Matemática; nota 3 em Matemática no 1º bimestre."),
        "{rows:?}"
    );
}

/// Which attendance rows make a subject's figure: the year row (term 0)
/// wins over the terms; a set where some row lacks counts is the mean of its
/// rows' percentages; a whole-institution evaluation and one narrowed to the
/// same students agree.
#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn attendance_year_rows_win_mixed_sets_average_and_narrowing_agrees(pool: PgPool) {
    let bed = Bed::new(pool).await;
    two_students(&bed).await;
    attendance(&bed, json!([
        // Ana, Matemática: terms at 50% but a year row (percentage only) of 80%: 80% holds, no alert.
        {"registration": "2026001", "subject": "Matemática", "year": 2026, "term": 1, "classes_given": 20, "absences": 10},
        {"registration": "2026001", "subject": "Matemática", "year": 2026, "term": 0, "attendance_pct": 80},
        // Ana, História: year row with counts, 14 of 20 = 70%, whatever the terms say.
        {"registration": "2026001", "subject": "História", "year": 2026, "term": 1, "classes_given": 20, "absences": 0},
        {"registration": "2026001", "subject": "História", "year": 2026, "term": 0, "classes_given": 20, "absences": 6},
        // Bruno, Matemática: one term with counts (90%), one with a percentage only (50%): mean 70%.
        {"registration": "2026002", "subject": "Matemática", "year": 2026, "term": 1, "classes_given": 20, "absences": 2},
        {"registration": "2026002", "subject": "Matemática", "year": 2026, "term": 2, "attendance_pct": 50},
        // Bruno, História: counts on every term: 20 of 40 = 50%.
        {"registration": "2026002", "subject": "História", "year": 2026, "term": 1, "classes_given": 20, "absences": 20},
        {"registration": "2026002", "subject": "História", "year": 2026, "term": 2, "classes_given": 20, "absences": 0},
    ])).await;
    attendance_rule(&bed).await;
    let whole = eval(&bed).await;
    let expected = vec![
        k("frequência", "2026001", "historia"),
        k("frequência", "2026002", "historia"),
        k("frequência", "2026002", "matematica"),
    ];
    assert_eq!(keys(&bed, "open").await, expected, "{whole:?}");
    let figures: Vec<(String, Value)> = alerts_of(&bed)
        .await
        .into_iter()
        .map(|a| {
            (
                format!("{}/{}", a.registration, a.scope),
                a.details["frequencia"].clone(),
            )
        })
        .collect();
    assert_eq!(
        figures,
        vec![
            ("2026001/historia".to_string(), json!(70.0)),
            ("2026002/historia".to_string(), json!(50.0)),
            ("2026002/matematica".to_string(), json!(70.0)),
        ]
    );

    let ids: Vec<uuid::Uuid> = sqlx::query_scalar("select id from students where tenant_id = $1")
        .bind(bed.tenant)
        .fetch_all(&bed.pool)
        .await
        .unwrap();
    let narrowed = alerts::run(
        &bed.pool,
        &bed.engine,
        bed.tenant,
        &EvaluatePayload {
            student_ids: Some(ids),
            ..EvaluatePayload::default()
        },
        now(),
    )
    .await
    .unwrap();
    assert_eq!(
        (narrowed.holding, narrowed.opened, narrowed.resolved),
        (3, 0, 0),
        "{narrowed:?}"
    );
    assert_eq!(keys(&bed, "open").await, expected);
}

//! `/v1/academic/*` over HTTP: students, classes, grades, attendance and
//! occurrences ingested from JSON and CSV (pt-BR forms), idempotent on their
//! natural keys, `alerts.evaluate` enqueued for the students touched; then
//! each error: bad rows (every one listed, nothing written), bad CSV, unknown
//! students, another tenant's students, too many rows, CSV where only JSON goes.

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::*;
use serde_json::{json, Value};
use sqlx::PgPool;

fn csv(uri: &str, key: &str, body: impl Into<Vec<u8>>) -> Request<Body> {
    Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header("authorization", format!("Bearer {key}"))
        .header("content-type", "text/csv; charset=utf-8")
        .body(Body::from(body.into()))
        .unwrap()
}

async fn count(ctx: &Ctx, table: &str) -> i64 {
    sqlx::query_scalar(&format!("select count(*) from {table}"))
        .fetch_one(&ctx.pool)
        .await
        .unwrap()
}

async fn seed_students(ctx: &Ctx, key: &str) -> Value {
    let (status, body) = ctx
        .req(Method::POST, "/v1/academic/students", Some(key), Some(json!([
            {"registration": "2026001", "name": "Ana Souza", "birth_date": "12/05/2012", "guardians": [
                {"name": "Maria Souza", "relationship": "mãe", "email": "maria@example.com", "phone": "(11) 99999-0000",
                 "preferred_channels": ["whatsapp", "email"]},
                {"name": "José Souza"}]},
            {"registration": "2026002", "name": "Bruno Lima"}
        ])))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn records_are_ingested_idempotently_and_evaluation_is_enqueued(pool: PgPool) {
    let ctx = Ctx::new(pool).await;
    let key = ctx.a.key.as_str();
    let body = seed_students(&ctx, key).await;
    assert_eq!(
        (body["rows"].clone(), body["inserted"].clone()),
        (json!(2), json!(2))
    );
    let phone: String =
        sqlx::query_scalar("select phone from guardians where name = 'Maria Souza'")
            .fetch_one(&ctx.pool)
            .await
            .unwrap();
    assert_eq!(phone, "+5511999990000");

    let (status, body) = ctx.req(Method::POST, "/v1/academic/classes", Some(key), Some(json!([
        {"code": "9A-2026", "name": "9º ano A", "year": 2026,
         "teacher": {"code": "prof-rita", "name": "Rita Alves", "email": "rita@escola.example"},
         "enrollments": [{"registration": "2026001", "started_on": "01/02/2026"}, {"registration": "2026002"}]}
    ]))).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let grades = json!([
        {"registration": "2026001", "subject": "Matemática", "year": 2026, "term": 1, "grade": "4,5"},
        {"registration": "2026001", "subject": "Matemática", "year": 2026, "term": 1, "assessment": "P1", "grade": 5, "assessed_on": "10/03/2026"},
        {"registration": "2026002", "subject": "Língua Portuguesa", "year": 2026, "term": 1, "grade": 80, "scale_max": 100}
    ]);
    let (status, first) = ctx
        .req(
            Method::POST,
            "/v1/academic/grades",
            Some(key),
            Some(grades.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(
        (
            first["inserted"].clone(),
            first["updated"].clone(),
            first["students"].clone()
        ),
        (json!(3), json!(0), json!(2))
    );
    // The evaluation job for the two students is queued.
    let job_id = first["evaluation_job_id"].as_str().expect("evaluation job");
    let job = ctx
        .state
        .engine
        .job("alerts", job_id)
        .await
        .unwrap()
        .expect("job");
    assert_eq!(job.kind, "alerts.evaluate");
    assert_eq!(job.tenant, ctx.a.id.to_string());
    assert_eq!(job.payload["student_ids"].as_array().unwrap().len(), 2);

    // The same batch again changes nothing new.
    let (_, again) = ctx
        .req(Method::POST, "/v1/academic/grades", Some(key), Some(grades))
        .await;
    assert_eq!(
        (again["inserted"].clone(), again["updated"].clone()),
        (json!(0), json!(3))
    );
    assert_eq!(count(&ctx, "grades").await, 3);
    let names: Vec<String> = sqlx::query_scalar("select name from academic_subjects order by code")
        .fetch_all(&ctx.pool)
        .await
        .unwrap();
    assert_eq!(names, vec!["Língua Portuguesa", "Matemática"]);

    let (status, body) = ctx.req(Method::POST, "/v1/academic/attendance", Some(key), Some(json!([
        {"registration": "2026001", "date": "2026-03-02", "present": false, "justified": true},
        {"registration": "2026001", "subject": "Matemática", "year": 2026, "term": 1, "classes_given": 40, "absences": 12},
    ]))).await;
    assert_eq!(
        (status, body["rows"].clone()),
        (StatusCode::OK, json!(2)),
        "{body}"
    );
    let (status, body) = ctx.req(Method::POST, "/v1/academic/occurrences", Some(key), Some(json!([
        {"registration": "2026002", "external_id": "OC-77", "kind": "indisciplina", "severity": 3, "date": "05/03/2026"}
    ]))).await;
    assert_eq!(
        (status, body["inserted"].clone()),
        (StatusCode::OK, json!(1)),
        "{body}"
    );

    // Guardians listed again replace the old list.
    let (status, _) = ctx.req(Method::POST, "/v1/academic/students", Some(key), Some(json!([
        {"registration": "2026001", "name": "Ana Souza", "guardians": [{"name": "Maria Souza", "email": "maria@example.com"}]}
    ]))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(count(&ctx, "guardians").await, 1);
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn csv_uploads_take_semicolons_decimal_commas_and_brazilian_dates(pool: PgPool) {
    let ctx = Ctx::new(pool).await;
    seed_students(&ctx, &ctx.a.key).await;
    let text = "Matrícula;Disciplina;Ano;Bimestre;Nota;Data\n2026001;Matemática;2026;2;\"7,5\";15/05/2026\r\n2026002;História;2026;2;6;\n";
    let (status, body) = ctx.call(csv("/v1/academic/grades", &ctx.a.key, text)).await;
    assert_eq!(
        (status, body["inserted"].clone()),
        (StatusCode::OK, json!(2)),
        "{body}"
    );
    let g: (f64, Option<chrono::NaiveDate>, String) = sqlx::query_as(
        "select grade::float8, assessed_on, source from grades where subject_code = 'matematica'",
    )
    .fetch_one(&ctx.pool)
    .await
    .unwrap();
    assert_eq!(
        g,
        (
            7.5,
            chrono::NaiveDate::from_ymd_opt(2026, 5, 15),
            "csv".to_string()
        )
    );

    // A spreadsheet saved as Windows-1252 (Latin-1): "frequência" and "Matemática" in single bytes.
    let mut latin1: Vec<u8> = Vec::new();
    for c in
        "matricula;disciplina;ano;bimestre;frequência\n2026001;Matemática;2026;1;72,5\n".chars()
    {
        latin1.push(c as u32 as u8);
    }
    let (status, body) = ctx
        .call(csv("/v1/academic/attendance", &ctx.a.key, latin1))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let pct: f64 = sqlx::query_scalar("select attendance_pct::float8 from attendance_periods")
        .fetch_one(&ctx.pool)
        .await
        .unwrap();
    assert_eq!(pct, 72.5);

    let text = "matricula,id,tipo,gravidade,data,descricao\n2026002,OC-1,agressão,4,10/03/2026,\"briga, no recreio\"\n";
    let (status, body) = ctx
        .call(csv("/v1/academic/occurrences", &ctx.a.key, text))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let d: String = sqlx::query_scalar("select description from occurrences")
        .fetch_one(&ctx.pool)
        .await
        .unwrap();
    assert_eq!(d, "briga, no recreio");
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn bad_rows_are_all_listed_and_nothing_is_written(pool: PgPool) {
    let ctx = Ctx::new(pool).await;
    seed_students(&ctx, &ctx.a.key).await;
    let (status, err) = ctx.req(Method::POST, "/v1/academic/grades", Some(&ctx.a.key), Some(json!([
        {"registration": "2026001", "subject": "Matemática", "year": 2026, "term": 1, "grade": 7},
        {"registration": "2026001", "subject": "Matemática", "year": 2026, "term": 9, "grade": "sete"},
        {"registration": "9999999", "subject": "Matemática", "year": 2026, "term": 1, "grade": 7},
        {"registration": "2026002", "subject": "Matemática", "year": 2026, "term": 1, "grade": 12},
        {"registration": "2026001", "subject": "Matemática", "year": 2026, "term": 1, "grade": 8},
        {"registration": "2026002", "subject": "Matemática", "year": 2026, "term": 2, "nota_final": 8},
        "not an object"
    ]))).await;
    assert_eq!(
        (status, err["error"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("invalid_rows")),
        "{err}"
    );
    // A non-object row is found before the others are read.
    assert_eq!(err["details"]["errors"][0]["row"], 7, "{err}");

    let (status, err) = ctx.req(Method::POST, "/v1/academic/grades", Some(&ctx.a.key), Some(json!([
        {"registration": "2026001", "subject": "Matemática", "year": 2026, "term": 1, "grade": 7},
        {"registration": "2026001", "subject": "Matemática", "year": 2026, "term": 9, "grade": "sete"},
        {"registration": "9999999", "subject": "Matemática", "year": 2026, "term": 1, "grade": 7},
        {"registration": "2026002", "subject": "Matemática", "year": 2026, "term": 1, "grade": 12},
        {"registration": "2026001", "subject": "Matemática", "year": 2026, "term": 1, "grade": 8},
        {"registration": "2026002", "subject": "Matemática", "year": 2026, "term": 2, "nota_final": 8},
    ]))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    let got: Vec<(u64, String)> = err["details"]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["row"].as_u64().unwrap(),
                e["field"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (2, "term".into()),
            (2, "grade".into()),
            (3, "registration".into()),
            (4, "grade".into()),
            (5, "row".into()),
            (6, "grade".into()),
            (6, "nota_final".into()),
        ],
        "{err}"
    );
    assert_eq!(err["details"]["bad_rows"], 5);
    assert_eq!(
        count(&ctx, "grades").await,
        0,
        "nothing written: not even the good row 1"
    );
    assert_eq!(count(&ctx, "academic_subjects").await, 0);

    // CSV: the lines are given too, and the field as the header names it.
    let text = "matricula;disciplina;ano;bimestre;nota\n2026001;Matemática;2026;1;7\n\n2026001;Matemática;2026;1;\"1.0.0\"\n2026002;;2026;1;5\n";
    let (status, err) = ctx.call(csv("/v1/academic/grades", &ctx.a.key, text)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    let got: Vec<(u64, u64, String)> = err["details"]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["row"].as_u64().unwrap(),
                e["line"].as_u64().unwrap(),
                e["field"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![(2, 4, "nota".into()), (3, 5, "subject".into())],
        "{err}"
    );

    // A CSV that cannot be read at all.
    let (status, err) = ctx
        .call(csv(
            "/v1/academic/grades",
            &ctx.a.key,
            "matricula,nota\n2026001,8,5\n",
        ))
        .await;
    assert_eq!(
        (status, err["error"].clone(), err["details"]["line"].clone()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            json!("invalid_csv"),
            json!(2)
        ),
        "{err}"
    );

    // Attendance and occurrences check their own fields.
    let (status, err) = ctx.req(Method::POST, "/v1/academic/attendance", Some(&ctx.a.key), Some(json!([
        {"registration": "2026001", "date": "31/02/2026", "present": "talvez"},
        {"registration": "2026001", "year": 2026, "term": 1, "classes_given": 10, "absences": 11},
        {"registration": "2026001", "year": 2026, "term": 1, "date": "01/03/2026"},
    ]))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = err["details"]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, vec!["date", "present", "absences", "row"], "{err}");
    let (status, err) = ctx.req(Method::POST, "/v1/academic/occurrences", Some(&ctx.a.key), Some(json!([
        {"registration": "2026001", "external_id": "X", "kind": "briga", "severity": 7, "date": "01/03/2026"},
    ]))).await;
    assert_eq!(
        (status, err["details"]["errors"][0]["field"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("severity"))
    );
    let (status, err) = ctx.req(Method::POST, "/v1/academic/students", Some(&ctx.a.key), Some(json!([
        {"registration": "2026009", "name": "Caio", "guardians": [{"name": "Rosa", "email": "rosa-sem-arroba", "preferred_channels": ["fax"]}]},
    ]))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = err["details"]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        vec!["guardians[0].email", "guardians[0].preferred_channels"],
        "{err}"
    );
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn another_tenants_students_are_unknown_and_limits_hold(pool: PgPool) {
    let ctx = Ctx::with(pool, |s| s.alerts.ingest_max_rows = 3).await;
    seed_students(&ctx, &ctx.a.key).await;
    let (status, err) = ctx.req(Method::POST, "/v1/academic/grades", Some(&ctx.b.key), Some(json!([
        {"registration": "2026001", "subject": "Matemática", "year": 2026, "term": 1, "grade": 7}
    ]))).await;
    assert_eq!(
        (status, err["details"]["errors"][0]["field"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("registration")),
        "{err}"
    );
    // Tenant B may have its own 2026001.
    let (status, _) = ctx
        .req(
            Method::POST,
            "/v1/academic/students",
            Some(&ctx.b.key),
            Some(json!([
        {"registration": "2026001", "name": "Outra Ana"}])),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(count(&ctx, "students").await, 3);

    let rows: Vec<Value> = (0..4)
        .map(|i| json!({"registration": format!("X{i}"), "name": "x"}))
        .collect();
    let (status, err) = ctx
        .req(
            Method::POST,
            "/v1/academic/students",
            Some(&ctx.a.key),
            Some(Value::Array(rows)),
        )
        .await;
    assert_eq!(
        (status, err["error"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("too_many_rows"))
    );
    let (status, err) = ctx
        .call(csv(
            "/v1/academic/students",
            &ctx.a.key,
            "registration,name\nX,Y\n",
        ))
        .await;
    assert_eq!(
        (status, err["error"].clone()),
        (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            json!("unsupported_media_type")
        )
    );
    let (status, err) = ctx
        .req(
            Method::POST,
            "/v1/academic/grades",
            Some(&ctx.a.key),
            Some(json!({"rows": []})),
        )
        .await;
    assert_eq!(
        (status, err["error"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("invalid_body"))
    );
    let read_only = ctx.key(ctx.a.id, &["jobs:read"]).await;
    let (status, _) = ctx
        .req(
            Method::POST,
            "/v1/academic/students",
            Some(&read_only),
            Some(json!([{"registration": "Z", "name": "Z"}])),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

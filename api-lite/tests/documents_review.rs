//! `POST /v1/documents/{id}/review` and the console's review pages, over the
//! real PostgreSQL and Redis. Held documents are made the way the
//! extraction job holds them (`sql::start` then `sql::hold_for_review` with a
//! draft); approval must write exactly what an accepted extraction writes —
//! or the corrected values — and queue `alerts.evaluate`; rejection writes
//! nothing; 404/409/422 name what is wrong and write nothing; two approvals
//! at once write once.

mod common;
#[path = "console_support/mod.rs"]
mod console;

use axum::http::{Method, StatusCode};
use common::*;
use console::{login, ops_user, post_form, raw};
use documents::{
    DocType, Extraction, Method as ReadBy, School, Student, SubjectResult, TermGrade, Warning,
};
use jobs::kinds::documents::sql;
use serde_json::{json, Value};
use uuid::Uuid;

fn subject(
    name: &str,
    code: &str,
    terms: [f64; 4],
    final_grade: f64,
    absences: u32,
    pct: f64,
) -> SubjectResult {
    SubjectResult {
        name: name.into(),
        name_original: name.into(),
        code: code.into(),
        terms: terms
            .iter()
            .enumerate()
            .map(|(i, g)| TermGrade {
                term: i as u8 + 1,
                grade: Some(*g),
                raw: Some(g.to_string().replace('.', ",")),
                confidence: Some(90.0),
            })
            .collect(),
        final_grade: Some(final_grade),
        absences: Some(absences),
        attendance_pct: Some(pct),
        status: None,
        workload_hours: None,
        recovery_grade: None,
    }
}

/// A scanned boletim whose História 2º bim was read with low confidence (4,5).
fn draft(registration: Option<&str>) -> Extraction {
    Extraction {
        document_id: None,
        doc_type: DocType::Boletim,
        pages: 1,
        method: ReadBy::Ocr,
        confidence: 71.0,
        student: Student {
            name: Some("Maria Clara Souza".into()),
            registration: registration.map(str::to_string),
            birth_date: Some("2012-05-10".into()),
            class_name: Some("6º Ano A".into()),
        },
        school: School {
            name: Some("Escola Municipal Monteiro Lobato".into()),
            cnpj: None,
        },
        year: Some(2024),
        subjects: vec![
            subject(
                "Matemática",
                "matematica",
                [7.5, 8.0, 6.5, 9.0],
                7.8,
                4,
                95.0,
            ),
            subject(
                "Língua Portuguesa",
                "lingua-portuguesa",
                [8.5, 9.0, 7.0, 8.0],
                8.1,
                2,
                97.5,
            ),
            subject("História", "historia", [5.0, 4.5, 4.5, 5.5], 5.3, 12, 85.0),
        ],
        years: vec![],
        overall_attendance_pct: None,
        warnings: vec![],
        page_info: vec![],
        needs_review: true,
        review_reasons: vec![Warning {
            field: "subjects[2].terms[1].grade".into(),
            message: "read \"4,5\" with OCR confidence 41".into(),
        }],
    }
}

/// A document of `tenant` held for review with `x` as its draft.
async fn held(c: &Ctx, tenant: Uuid, x: &Extraction) -> Uuid {
    let job_id = jobs::engine::new_job_id();
    let new = sql::NewDocument {
        id: Uuid::now_v7(),
        tenant_id: tenant,
        sha256: format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple()),
        size_bytes: 48_213,
        filename: "boletim-maria.pdf".into(),
        content_type: "application/pdf".into(),
        student_id: None,
        doc_type: Some("boletim".into()),
        job_id: job_id.clone(),
    };
    let mut conn = c.pool.acquire().await.unwrap();
    let (doc, _) = sql::insert_or_get(&mut conn, &new).await.unwrap();
    sql::start(&c.pool, tenant, doc.id, &job_id)
        .await
        .unwrap()
        .unwrap();
    let mut x = x.clone();
    x.document_id = Some(doc.id.to_string());
    let result = serde_json::to_value(&x).unwrap();
    assert!(
        sql::hold_for_review(&c.pool, doc.id, &job_id, &result, 1, "ocr", 71.0)
            .await
            .unwrap()
    );
    doc.id
}

async fn review(c: &Ctx, key: &str, id: Uuid, body: Value) -> (StatusCode, Value) {
    c.req(
        Method::POST,
        &format!("/v1/documents/{id}/review"),
        Some(key),
        Some(body),
    )
    .await
}

async fn grades(c: &Ctx, tenant: Uuid) -> Vec<(String, i16, f64)> {
    sqlx::query_as(
        "select subject_code, term, grade::float8 from grades where tenant_id = $1 \
         order by subject_code, term",
    )
    .bind(tenant)
    .fetch_all(&c.pool)
    .await
    .unwrap()
}

async fn status(c: &Ctx, tenant: Uuid, id: Uuid) -> String {
    sql::get(&c.pool, tenant, id).await.unwrap().unwrap().status
}

async fn audit_count(c: &Ctx, action: &str, target: Uuid) -> i64 {
    sqlx::query_scalar("select count(*) from audit_log where action = $1 and target = $2")
        .bind(action)
        .bind(target.to_string())
        .fetch_one(&c.pool)
        .await
        .unwrap()
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn approve_writes_the_draft_as_an_extraction_would_and_queues_alerts(pool: sqlx::PgPool) {
    let c = Ctx::new(pool).await;
    let id = held(&c, c.a.id, &draft(Some("2024000111"))).await;

    // The queue a reviewer reads: the held document with its reasons.
    let (s, list) = c
        .req(
            Method::GET,
            "/v1/documents?status=needs_review",
            Some(&c.a.key),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{list}");
    let docs = list["documents"].as_array().unwrap();
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0]["document_id"], id.to_string());
    assert_eq!(
        docs[0]["result"]["review_reasons"][0]["field"],
        "subjects[2].terms[1].grade"
    );
    assert_eq!(docs[0]["result"]["subjects"][2]["terms"][1]["grade"], 4.5);
    assert!(
        grades(&c, c.a.id).await.is_empty(),
        "nothing written while held"
    );

    let (s, body) = review(
        &c,
        &c.a.key,
        id,
        json!({"action": "approve", "note": "conferido"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body["document"]["status"], "succeeded");
    assert_eq!(body["changes"], json!([]));
    assert_eq!(body["records"]["grades"], 15);
    let student: Uuid = body["records"]["student_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(body["document"]["records_student_id"], student.to_string());

    let g = grades(&c, c.a.id).await;
    assert_eq!(g.len(), 15, "{g:?}");
    let hist: Vec<(i16, f64)> = g
        .iter()
        .filter(|r| r.0 == "historia")
        .map(|r| (r.1, r.2))
        .collect();
    assert_eq!(hist, [(0, 5.3), (1, 5.0), (2, 4.5), (3, 4.5), (4, 5.5)]);
    let source: Vec<String> =
        sqlx::query_scalar("select distinct source from grades where tenant_id = $1")
            .bind(c.a.id)
            .fetch_all(&c.pool)
            .await
            .unwrap();
    assert_eq!(source, [format!("document:{id}")]);
    let (name, reg): (String, String) =
        sqlx::query_as("select name, registration from students where tenant_id = $1 and id = $2")
            .bind(c.a.id)
            .bind(student)
            .fetch_one(&c.pool)
            .await
            .unwrap();
    assert_eq!(
        (name.as_str(), reg.as_str()),
        ("Maria Clara Souza", "2024000111")
    );

    // alerts.evaluate for the student, as after an accepted extraction.
    assert_eq!(body["follow_up"]["kind"], "alerts.evaluate");
    let job_id = body["follow_up"]["job_id"].as_str().unwrap();
    let job = c
        .state
        .engine
        .job("alerts", job_id)
        .await
        .unwrap()
        .expect("queued");
    assert_eq!(job.payload["student_ids"], json!([student]));
    assert_eq!(job.tenant, c.a.id.to_string());

    // The trail: on the document and in the audit log.
    let doc = sql::get(&c.pool, c.a.id, id).await.unwrap().unwrap();
    assert_eq!(
        doc.reviewed_by.as_deref(),
        Some(format!("tenant:{}", c.a.id).as_str())
    );
    assert!(doc.reviewed_at.is_some());
    let trail = doc.review.unwrap();
    assert_eq!(trail["action"], "approve");
    assert_eq!(trail["note"], "conferido");
    assert_eq!(trail["reasons"][0]["field"], "subjects[2].terms[1].grade");
    assert_eq!(trail["draft"]["needs_review"], true);
    assert_eq!(doc.result.unwrap()["needs_review"], false);
    assert_eq!(audit_count(&c, "document_approve", id).await, 1);

    // Approved is final for the review: a second one is a 409 naming it.
    let (s, body) = review(&c, &c.a.key, id, json!({"action": "approve"})).await;
    assert_eq!(s, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"], "document_not_in_review");
    assert_eq!(body["details"]["status"], "succeeded");
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn approve_with_corrections_writes_the_corrected_values(pool: sqlx::PgPool) {
    let c = Ctx::new(pool).await;
    let id = held(&c, c.a.id, &draft(Some("2024000111"))).await;
    let (s, body) = review(
        &c,
        &c.a.key,
        id,
        json!({
            "action": "approve",
            "note": "2º bim de História conferido no diário",
            "corrections": {
                "student": {"name": "Maria Clara Souza Lima", "birth_date": "11/05/2012"},
                "school": {"cnpj": "11.222.333/0001-81"},
                "subjects": [
                    {"code": "historia", "terms": [{"term": 2, "grade": "6,0"}], "final_grade": 5.3,
                     "absences": 10, "attendance_pct": "87,5", "status": "Recuperação"},
                    {"code": "lingua-portuguesa", "remove": true},
                    {"code": "matematica", "name": "Ciências"}
                ]
            }
        }),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let fields: Vec<&str> = body["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["field"].as_str().unwrap())
        .collect();
    for f in [
        "student.name",
        "student.birth_date",
        "school.cnpj",
        "subjects[2].terms[term 2].grade",
        "subjects[2].absences",
        "subjects[2].attendance_pct",
        "subjects[2].status",
        "subjects[1]",
        "subjects[0].name",
        "subjects[0].code",
    ] {
        assert!(fields.contains(&f), "{f} missing from {fields:?}");
    }
    let grade_change = body["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["field"] == "subjects[2].terms[term 2].grade")
        .unwrap();
    assert_eq!(
        (grade_change["from"].as_f64(), grade_change["to"].as_f64()),
        (Some(4.5), Some(6.0))
    );

    let g = grades(&c, c.a.id).await;
    let hist: Vec<(i16, f64)> = g
        .iter()
        .filter(|r| r.0 == "historia")
        .map(|r| (r.1, r.2))
        .collect();
    assert_eq!(hist, [(0, 5.3), (1, 5.0), (2, 6.0), (3, 4.5), (4, 5.5)]);
    assert!(
        !g.iter().any(|r| r.0 == "lingua-portuguesa"),
        "dropped subject written: {g:?}"
    );
    // The misnamed row is Ciências: its code follows the name.
    assert_eq!(g.iter().filter(|r| r.0 == "ciencias").count(), 5);
    assert!(!g.iter().any(|r| r.0 == "matematica"), "{g:?}");
    let att: (Option<i32>, Option<f64>) = sqlx::query_as(
        "select absences, attendance_pct::float8 from attendance_periods where tenant_id = $1 and subject_code = 'historia'",
    )
    .bind(c.a.id)
    .fetch_one(&c.pool)
    .await
    .unwrap();
    assert_eq!(att, (Some(10), Some(87.5)));
    let (name, birth): (String, Option<chrono::NaiveDate>) =
        sqlx::query_as("select name, birth_date from students where tenant_id = $1")
            .bind(c.a.id)
            .fetch_one(&c.pool)
            .await
            .unwrap();
    assert_eq!(name, "Maria Clara Souza Lima");
    assert_eq!(birth, chrono::NaiveDate::from_ymd_opt(2012, 5, 11));

    // The stored result is the corrected one; the draft stays in the trail.
    let doc = sql::get(&c.pool, c.a.id, id).await.unwrap().unwrap();
    let result = doc.result.unwrap();
    assert_eq!(result["subjects"][0]["code"], "ciencias");
    assert_eq!(result["subjects"][1]["code"], "historia");
    assert_eq!(result["subjects"][1]["terms"][1]["grade"], 6.0);
    assert_eq!(result["subjects"][1]["status"], "recuperação");
    assert_eq!(result["school"]["cnpj"], "11222333000181");
    let trail = doc.review.unwrap();
    assert_eq!(trail["draft"]["subjects"][2]["terms"][1]["grade"], 4.5);
    assert_eq!(trail["corrections"]["subjects"][1]["remove"], true);
    assert_eq!(
        trail["changes"].as_array().unwrap().len(),
        body["changes"].as_array().unwrap().len()
    );
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn reject_is_final_and_writes_nothing(pool: sqlx::PgPool) {
    let c = Ctx::new(pool).await;
    let id = held(&c, c.a.id, &draft(Some("2024000111"))).await;
    let (s, body) = review(
        &c,
        &c.a.key,
        id,
        json!({"action": "reject", "corrections": {}}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["details"]["field"], "corrections");

    let (s, body) = review(
        &c,
        &c.a.key,
        id,
        json!({"action": "reject", "note": "boletim de outra aluna"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body["document"]["status"], "rejected");
    assert!(body["records"].is_null() && body["follow_up"].is_null());
    assert_eq!(body["document"]["review"]["note"], "boletim de outra aluna");
    assert!(grades(&c, c.a.id).await.is_empty());
    let students: i64 = sqlx::query_scalar("select count(*) from students where tenant_id = $1")
        .bind(c.a.id)
        .fetch_one(&c.pool)
        .await
        .unwrap();
    assert_eq!(students, 0);
    assert_eq!(c.state.engine.counts("alerts").await.unwrap().queued, 0);
    assert_eq!(audit_count(&c, "document_reject", id).await, 1);

    let (s, body) = review(&c, &c.a.key, id, json!({"action": "approve"})).await;
    assert_eq!(s, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["details"]["status"], "rejected");
    let (s, list) = c
        .req(
            Method::GET,
            "/v1/documents?status=rejected",
            Some(&c.a.key),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{list}");
    assert_eq!(list["documents"][0]["document_id"], id.to_string());
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn bad_reviews_name_the_field_and_write_nothing(pool: sqlx::PgPool) {
    let c = Ctx::new(pool).await;
    let id = held(&c, c.a.id, &draft(Some("2024000111"))).await;

    // Another tenant's document is the same 404 as a missing one.
    let (s, body) = review(&c, &c.b.key, id, json!({"action": "approve"})).await;
    assert_eq!(
        (s, body["error"].as_str()),
        (StatusCode::NOT_FOUND, Some("document_not_found"))
    );
    let (s, _) = review(&c, &c.a.key, Uuid::now_v7(), json!({"action": "approve"})).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = c
        .req(
            Method::POST,
            "/v1/documents/nope/review",
            Some(&c.a.key),
            Some(json!({"action": "approve"})),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // A read-only key may not review.
    let ro = c.key(c.a.id, &["jobs:read"]).await;
    let (s, _) = review(&c, &ro, id, json!({"action": "approve"})).await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    let cases = [
        (
            json!({"action": "approve", "corrections": {"subjects": [{"code": "fisica", "final_grade": 7}]}}),
            "corrections.subjects[0].code",
        ),
        (
            json!({"action": "approve", "corrections": {"subjects": [{"code": "historia", "terms": [{"term": 2, "grade": 11}]}]}}),
            "corrections.subjects[0].terms[0].grade",
        ),
        (
            json!({"action": "approve", "corrections": {"subjects": [{"code": "historia", "terms": [{"term": 2, "grade": "seis"}]}]}}),
            "corrections.subjects[0].terms[0].grade",
        ),
        (
            json!({"action": "approve", "corrections": {"subjects": [{"code": "historia", "terms": [{"term": 7, "grade": 6}]}]}}),
            "corrections.subjects[0].terms[0].term",
        ),
        (
            json!({"action": "approve", "corrections": {"subjects": [{"code": "historia", "attendance_pct": 130}]}}),
            "corrections.subjects[0].attendance_pct",
        ),
        (
            json!({"action": "approve", "corrections": {"subjects": [{"code": "historia", "status": "talvez"}]}}),
            "corrections.subjects[0].status",
        ),
        (
            json!({"action": "approve", "corrections": {"subjects": [{"code": "historia", "name": "Matemática"}]}}),
            "corrections.subjects[0].name",
        ),
        (
            json!({"action": "approve", "corrections": {"subjects": [{"code": "historia", "remove": true, "final_grade": 5}]}}),
            "corrections.subjects[0].remove",
        ),
        (
            json!({"action": "approve", "corrections": {"subjects": [{"code": "historia"}, {"code": "historia", "final_grade": 5}]}}),
            "corrections.subjects[1].code",
        ),
        (
            json!({"action": "approve", "corrections": {"student": {"birth_date": "31/02/2012"}}}),
            "corrections.student.birth_date",
        ),
        (
            json!({"action": "approve", "corrections": {"student": {"name": "  "}}}),
            "corrections.student.name",
        ),
        (
            json!({"action": "approve", "corrections": {"school": {"cnpj": "11.222.333/0001-82"}}}),
            "corrections.school.cnpj",
        ),
        (
            json!({"action": "approve", "corrections": {"school": {"cnpj": "11222333"}}}),
            "corrections.school.cnpj",
        ),
        (
            json!({"action": "approve", "corrections": {"year": 1500}}),
            "corrections.year",
        ),
        (
            json!({"action": "approve", "note": "x".repeat(2001)}),
            "note",
        ),
    ];
    for (body, field) in cases {
        let (s, answer) = review(&c, &c.a.key, id, body.clone()).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body} → {answer}");
        assert_eq!(answer["details"]["field"], field, "{body} → {answer}");
        assert!(
            answer["message"].as_str().unwrap().starts_with(field),
            "{answer}"
        );
    }
    // Unknown shapes are refused by the JSON extractor with their path.
    for body in [
        json!({"action": "approve", "corrections": {"subjects": [{"code": "historia", "nota": 6}]}}),
        json!({"action": "aprovar"}),
        json!({"action": "approve", "corrections": {"student": {"cpf": "123"}}}),
    ] {
        let (s, answer) = review(&c, &c.a.key, id, body.clone()).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body} → {answer}");
    }
    assert_eq!(status(&c, c.a.id, id).await, "needs_review");
    assert!(grades(&c, c.a.id).await.is_empty());

    // A draft that would write to nobody must be corrected first.
    let orphan = held(&c, c.a.id, &draft(None)).await;
    let (s, answer) = review(&c, &c.a.key, orphan, json!({"action": "approve"})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(answer["details"]["field"], "draft.student.registration");
    let (s, answer) = review(
        &c,
        &c.a.key,
        orphan,
        json!({"action": "approve", "corrections": {"student": {"registration": "2024000999"}}}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{answer}");
    assert_eq!(answer["records"]["grades"], 15);
    // A grade off the scale left in the draft blocks approval too.
    let mut off = draft(Some("2024000111"));
    off.subjects[0].terms[0].grade = Some(75.0);
    let off = held(&c, c.a.id, &off).await;
    let (s, answer) = review(&c, &c.a.key, off, json!({"action": "approve"})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(
        answer["details"]["field"],
        "draft.subjects[0].terms[0].grade"
    );
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn two_approvals_at_once_write_once(pool: sqlx::PgPool) {
    let c = Ctx::new(pool).await;
    let id = held(&c, c.a.id, &draft(Some("2024000111"))).await;
    let body = json!({"action": "approve", "corrections": {"subjects": [{"code": "historia", "terms": [{"term": 2, "grade": 6}]}]}});
    let (one, two) = tokio::join!(
        review(&c, &c.a.key, id, body.clone()),
        review(&c, &c.a.key, id, body.clone())
    );
    let mut codes = [one.0, two.0];
    codes.sort();
    assert_eq!(
        codes,
        [StatusCode::OK, StatusCode::CONFLICT],
        "{} / {}",
        one.1,
        two.1
    );
    assert_eq!(audit_count(&c, "document_approve", id).await, 1);
    assert_eq!(grades(&c, c.a.id).await.len(), 15);
    assert_eq!(c.state.engine.counts("alerts").await.unwrap().queued, 1);
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn console_review_queue_shows_reasons_and_its_form_approves(pool: sqlx::PgPool) {
    let c = Ctx::new(pool).await;
    ops_user(&c.state).await;
    let id = held(&c, c.a.id, &draft(Some("2024000111"))).await;
    let (cookie, csrf) = login(&c.app).await;
    let a = c.a.id;

    let q = raw(
        &c.app,
        console::get(
            &format!("/console/documents/review?tenant={a}"),
            Some(&cookie),
        ),
    )
    .await;
    assert_eq!(q.status, StatusCode::OK);
    assert!(q.body.contains("boletim-maria.pdf"), "{}", q.body);
    assert!(q.body.contains("subjects[2].terms[1].grade"));
    assert!(q
        .body
        .contains(&format!("/console/documents/{id}/review?tenant={a}")));
    // Documents page links to it.
    let d = raw(
        &c.app,
        console::get(
            &format!("/console/documents?tenant={a}&status=needs_review"),
            Some(&cookie),
        ),
    )
    .await;
    assert!(
        d.body.contains(&format!(r#"id="review-{id}""#)),
        "{}",
        d.body
    );

    let page = raw(
        &c.app,
        console::get(
            &format!("/console/documents/{id}/review?tenant={a}"),
            Some(&cookie),
        ),
    )
    .await;
    assert_eq!(page.status, StatusCode::OK);
    // The doubted cell is highlighted with its reason; the others are not.
    let cell = page
        .body
        .split("<input")
        .find(|i| i.contains(r#"name="s.b.2.term.2""#))
        .unwrap();
    assert!(
        cell.contains(r#"class="doubt""#) && cell.contains("OCR confidence 41"),
        "{cell}"
    );
    assert!(cell.contains(r#"value="4,5""#), "{cell}");
    let other = page
        .body
        .split("<input")
        .find(|i| i.contains(r#"name="s.b.0.term.1""#))
        .unwrap();
    assert!(!other.contains("doubt"), "{other}");

    let uri = format!("/console/documents/{id}/review");
    let tenant = a.to_string();
    // Without the session's CSRF token: refused, nothing written.
    let r = raw(
        &c.app,
        post_form(
            &uri,
            Some(&cookie),
            &[("tenant", &tenant), ("action", "approve")],
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // A grade off the scale: 422 page naming the field.
    let r = raw(
        &c.app,
        post_form(
            &uri,
            Some(&cookie),
            &[
                ("csrf", &csrf),
                ("tenant", &tenant),
                ("action", "approve"),
                ("s.b.2.code", "historia"),
                ("s.b.2.term.2", "60"),
            ],
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body.contains("corrections.subjects[0].terms[0].grade"),
        "{}",
        r.body
    );
    assert_eq!(status(&c, a, id).await, "needs_review");

    // The form as a browser posts it: unchanged fields too; only 2º bim changed.
    let mut form: Vec<(String, String)> = vec![
        ("csrf".into(), csrf.clone()),
        ("tenant".into(), tenant.clone()),
        ("student.name".into(), "Maria Clara Souza".into()),
        ("student.birth_date".into(), "10/05/2012".into()),
        ("year".into(), "2024".into()),
        ("note".into(), "conferido".into()),
        ("action".into(), "approve".into()),
    ];
    for (i, code) in ["matematica", "lingua-portuguesa", "historia"]
        .iter()
        .enumerate()
    {
        form.push((format!("s.b.{i}.code"), code.to_string()));
    }
    form.push(("s.b.0.term.1".into(), "7,5".into()));
    form.push(("s.b.0.final_grade".into(), "7,8".into()));
    form.push(("s.b.2.term.2".into(), "6,0".into()));
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let r = raw(&c.app, post_form(&uri, Some(&cookie), &pairs)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let to = r.headers.get("location").unwrap().to_str().unwrap();
    assert!(to.contains("1%20field"), "{to}");
    assert_eq!(status(&c, a, id).await, "succeeded");
    let hist: Vec<(i16, f64)> = grades(&c, a)
        .await
        .into_iter()
        .filter(|r| r.0 == "historia")
        .map(|r| (r.1, r.2))
        .collect();
    assert_eq!(hist, [(0, 5.3), (1, 5.0), (2, 6.0), (3, 4.5), (4, 5.5)]);
    let doc = sql::get(&c.pool, a, id).await.unwrap().unwrap();
    assert_eq!(doc.reviewed_by.as_deref(), Some("ops:ops@tarefa.dev"));
    let actor: String = sqlx::query_scalar(
        "select actor from audit_log where action = 'document_approve' and target = $1",
    )
    .bind(id.to_string())
    .fetch_one(&c.pool)
    .await
    .unwrap();
    assert_eq!(actor, "ops:ops@tarefa.dev");

    // The page of a reviewed document offers no form any more.
    let page = raw(
        &c.app,
        console::get(
            &format!("/console/documents/{id}/review?tenant={a}"),
            Some(&cookie),
        ),
    )
    .await;
    assert!(page.body.contains(r#"id="not-held""#) && !page.body.contains(r#"id="approve""#));
    // Reject from the console on another held document.
    let other = held(&c, a, &draft(Some("2024000222"))).await;
    let r = raw(
        &c.app,
        post_form(
            &format!("/console/documents/{other}/review"),
            Some(&cookie),
            &[("csrf", &csrf), ("tenant", &tenant), ("action", "reject")],
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(status(&c, a, other).await, "rejected");
}

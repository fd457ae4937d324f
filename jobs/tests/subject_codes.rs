//! One subject, one `academic_subjects.code`: a name with an ordinal mark
//! and a name past 63 chars reach the same code through CSV ingestion, JSON
//! ingestion and a document's record writing (`ptbr::slug` everywhere); and
//! migration 0010 merges the subjects the old documents slug had split
//! (grades, attendance and alerts moved, none lost or doubled), idempotently.

use std::borrow::Cow;

use documents::{DocType, Extraction, Method, School, Student, SubjectResult, TermGrade};
use jobs::kinds::documents::records;
use jobs::store::academic::{self, Rows};
use jobs::store::{tenants, MIGRATOR};
use serde_json::{json, Value};
use sqlx::migrate::Migrator;
use sqlx::PgPool;
use uuid::Uuid;

const REDACAO: &str = "Língua Portuguesa 1º ano – Redação";
const LONG: &str =
    "Introdução às Ciências da Natureza e Suas Tecnologias – Práticas de Laboratório 2º ano";

async fn tenant(pool: &PgPool, slug: &str) -> Uuid {
    let t = tenants::NewTenant {
        name: format!("Escola {slug}"),
        slug: slug.into(),
        timezone: tenants::DEFAULT_TIMEZONE.into(),
        plan: "free".into(),
    };
    tenants::create(pool, &t).await.expect("tenant").id
}

fn json_rows(v: Value) -> Rows {
    let Value::Array(items) = v else {
        panic!("rows must be an array")
    };
    Rows::from_json(items).expect("objects")
}

/// A boletim as the extractor would give it: subjects named and coded by
/// `documents::normalize::subject`, one grade each in term 3.
fn boletim(registration: &str, names: &[&str]) -> Extraction {
    let subjects = names
        .iter()
        .map(|original| {
            let (name, code) = documents::normalize::subject(original);
            SubjectResult {
                name,
                name_original: original.to_string(),
                code,
                terms: vec![TermGrade {
                    term: 3,
                    grade: Some(9.0),
                    raw: Some("9,0".into()),
                    confidence: Some(100.0),
                }],
                final_grade: None,
                recovery_grade: None,
                absences: Some(1),
                attendance_pct: None,
                status: None,
                workload_hours: None,
            }
        })
        .collect();
    Extraction {
        document_id: None,
        doc_type: DocType::Boletim,
        pages: 1,
        method: Method::Text,
        confidence: 100.0,
        student: Student {
            name: Some("Ana Souza".into()),
            registration: Some(registration.into()),
            birth_date: None,
            class_name: None,
        },
        school: School::default(),
        year: Some(2025),
        subjects,
        years: vec![],
        overall_attendance_pct: None,
        warnings: vec![],
        page_info: vec![],
        needs_review: false,
        review_reasons: vec![],
    }
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn one_subject_gets_one_code_from_csv_json_and_documents(pool: PgPool) {
    let t = tenant(&pool, "escola-codigos").await;
    academic::students::ingest(
        &pool,
        t,
        &json_rows(json!([{"registration": "2026001", "name": "Ana Souza"}])),
    )
    .await
    .expect("students");

    // CSV: term 1 of both subjects (a semicolon file, decimal comma).
    let csv = format!(
        "matricula;disciplina;ano;bimestre;nota\n2026001;{REDACAO};2025;1;7,5\n2026001;{LONG};2025;1;8\n"
    );
    academic::grades::ingest(&pool, t, &Rows::from_csv(&csv).expect("csv"))
        .await
        .expect("csv grades");
    // JSON: term 2 of both, and attendance per subject.
    academic::grades::ingest(
        &pool,
        t,
        &json_rows(json!([
            {"registration": "2026001", "subject": REDACAO, "year": 2025, "term": 2, "grade": "6,5"},
            {"registration": "2026001", "subject": LONG, "year": 2025, "term": 2, "grade": 7},
        ])),
    )
    .await
    .expect("json grades");
    academic::attendance::ingest(
        &pool,
        t,
        &json_rows(json!([
            {"registration": "2026001", "subject": REDACAO, "year": 2025, "term": 1, "attendance_pct": "92,5"},
            {"registration": "2026001", "subject": LONG, "year": 2025, "term": 1, "attendance_pct": 88},
        ])),
    )
    .await
    .expect("json attendance");
    // A document: term 3 of both, as the extractor names and codes them.
    let document = Uuid::now_v7();
    let mut tx = pool.begin().await.unwrap();
    let out = records::upsert(
        &mut tx,
        t,
        document,
        None,
        &boletim("2026001", &[REDACAO, LONG]),
        10.0,
    )
    .await
    .expect("records");
    tx.commit().await.unwrap();
    assert_eq!((out.subjects, out.grades), (2, 2), "{out:?}");
    assert!(!out.student_created, "the ingested student: {out:?}");
    assert!(out.skipped.is_empty(), "{out:?}");

    let long_code = "introducao-as-ciencias-da-natureza-e-suas-tecnologias-praticas";
    assert_eq!(
        long_code.len(),
        62,
        "cut at 63, then the trailing `-` dropped"
    );
    assert_eq!(ptbr::slug(LONG), long_code);
    let subjects: Vec<(String, String)> = sqlx::query_as(
        "select code, name from academic_subjects where tenant_id = $1 order by code",
    )
    .bind(t)
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        subjects,
        [
            (long_code.to_string(), LONG.to_string()),
            ("lingua-portuguesa-1-ano-redacao".into(), REDACAO.into()),
        ]
    );

    let grades: Vec<(String, i16, f64, String)> = sqlx::query_as(
        "select subject_code, term, grade::float8, source from grades where tenant_id = $1 \
         order by subject_code, term",
    )
    .bind(t)
    .fetch_all(&pool)
    .await
    .unwrap();
    let doc = format!("document:{document}");
    let want: Vec<(String, i16, f64, String)> = [long_code, "lingua-portuguesa-1-ano-redacao"]
        .iter()
        .flat_map(|code| {
            let (g1, g2) = if *code == long_code {
                (8.0, 7.0)
            } else {
                (7.5, 6.5)
            };
            [
                (code.to_string(), 1, g1, "csv".to_string()),
                (code.to_string(), 2, g2, "api".to_string()),
                (code.to_string(), 3, 9.0, doc.clone()),
            ]
        })
        .collect();
    assert_eq!(grades, want);

    let periods: Vec<(String, i16, String)> = sqlx::query_as(
        "select subject_code, term, source from attendance_periods where tenant_id = $1 \
         order by subject_code, term",
    )
    .bind(t)
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        periods,
        [
            (long_code.to_string(), 0, doc.clone()),
            (long_code.to_string(), 1, "api".to_string()),
            ("lingua-portuguesa-1-ano-redacao".into(), 0, doc.clone()),
            ("lingua-portuguesa-1-ano-redacao".into(), 1, "api".into()),
        ]
    );
}

/// Migrations 0001-0009 only: the schema 0010 finds on a running system.
fn before_0010() -> Migrator {
    Migrator {
        migrations: Cow::Owned(
            MIGRATOR
                .iter()
                .filter(|m| m.version < 10)
                .cloned()
                .collect(),
        ),
        ..Migrator::DEFAULT
    }
}

/// Every row 0010 may touch, in a stable order, for before/after comparisons.
async fn snapshot(pool: &PgPool) -> Vec<String> {
    let mut rows: Vec<String> = sqlx::query_scalar(
        "select 's ' || t.slug || ' ' || s.code || ' ' || s.name
           from academic_subjects s join tenants t on t.id = s.tenant_id
         union all
         select 'g ' || t.slug || ' ' || st.registration || ' ' || g.subject_code || ' ' || g.year
                || '/' || g.term || ' ' || g.grade || ' ' || g.source
           from grades g join tenants t on t.id = g.tenant_id join students st on st.id = g.student_id
         union all
         select 'p ' || t.slug || ' ' || st.registration || ' ' || p.subject_code || ' ' || p.year
                || '/' || p.term || ' ' || coalesce(p.absences::text, '-') || ' ' || p.source
           from attendance_periods p join tenants t on t.id = p.tenant_id
                join students st on st.id = p.student_id
         union all
         select 'd ' || t.slug || ' ' || st.registration || ' ' || d.subject_code || ' ' || d.day
                || ' ' || d.present::text || ' ' || d.source
           from attendance_days d join tenants t on t.id = d.tenant_id join students st on st.id = d.student_id
         union all
         select 'a ' || t.slug || ' ' || st.registration || ' ' || a.scope || ' ' || a.status
           from alerts a join tenants t on t.id = a.tenant_id join students st on st.id = a.student_id
",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    rows.sort();
    rows
}

#[sqlx::test(migrations = false)]
async fn migration_0010_merges_subjects_the_old_slugs_split(pool: PgPool) {
    before_0010().run(&pool).await.expect("0001-0009");
    let one = tenant(&pool, "escola-um").await;
    let two = tenant(&pool, "escola-dois").await;
    // What ingestion (CSV/JSON) and the old documents slug wrote before 0010.
    // `o` = the old documents code of REDACAO; `c` = the code ingestion gave it.
    let seed = r#"
        insert into students (id, tenant_id, registration, name) values
          ('00000000-0000-7000-8000-000000000001', $1, '2026001', 'Ana Souza'),
          ('00000000-0000-7000-8000-000000000002', $1, '2026002', 'Bruno Lima'),
          ('00000000-0000-7000-8000-000000000003', $2, '2026001', 'Caio Reis');
        insert into academic_subjects (tenant_id, code, name) values
          ($1, 'lingua-portuguesa-1o-ano-redacao', 'Língua Portuguesa 1º ano – Redação'),
          ($1, 'lingua-portuguesa-1-ano-redacao', 'Língua Portuguesa 1º ano – Redação'),
          -- only a document had this one: re-coded, no partner
          ($1, 'artes-2o-serie', 'ARTES 2ª Série'),
          -- left alone: ingested codes, a real `o`, a code that is no slug of its name
          ($1, 'matematica', 'Matemática'),
          ($1, 'ciclo-1o', 'Ciclo 1o'),
          ($1, 'x1', '1º ano'),
          ($2, 'lingua-portuguesa-1o-ano-redacao', 'Língua Portuguesa 1º ano – Redação');
        insert into grades (tenant_id, student_id, subject_code, year, term, grade, source, updated_at) values
          -- Ana, term 1 in both: the document's is newer and stays
          ($1, '00000000-0000-7000-8000-000000000001', 'lingua-portuguesa-1o-ano-redacao', 2025, 1, 8.5, 'document:d1', '2025-06-01'),
          ($1, '00000000-0000-7000-8000-000000000001', 'lingua-portuguesa-1-ano-redacao', 2025, 1, 7.0, 'csv', '2025-05-01'),
          -- Ana, term 2 only in the old code; term 3 only in the new
          ($1, '00000000-0000-7000-8000-000000000001', 'lingua-portuguesa-1o-ano-redacao', 2025, 2, 6.0, 'document:d1', '2025-06-01'),
          ($1, '00000000-0000-7000-8000-000000000001', 'lingua-portuguesa-1-ano-redacao', 2025, 3, 9.0, 'csv', '2025-09-01'),
          -- Bruno, term 1 in both: the CSV's is newer and stays
          ($1, '00000000-0000-7000-8000-000000000002', 'lingua-portuguesa-1o-ano-redacao', 2025, 1, 4.0, 'document:d2', '2025-06-01'),
          ($1, '00000000-0000-7000-8000-000000000002', 'lingua-portuguesa-1-ano-redacao', 2025, 1, 5.0, 'csv', '2025-07-01'),
          ($1, '00000000-0000-7000-8000-000000000001', 'artes-2o-serie', 2025, 1, 10.0, 'document:d1', '2025-06-01'),
          ($1, '00000000-0000-7000-8000-000000000001', 'matematica', 2025, 1, 7.5, 'csv', '2025-05-01'),
          ($1, '00000000-0000-7000-8000-000000000001', 'ciclo-1o', 2025, 1, 6.5, 'csv', '2025-05-01'),
          ($2, '00000000-0000-7000-8000-000000000003', 'lingua-portuguesa-1o-ano-redacao', 2025, 1, 3.0, 'document:d3', '2025-06-01');
        insert into attendance_periods (tenant_id, student_id, subject_code, year, term, absences, source, updated_at) values
          ($1, '00000000-0000-7000-8000-000000000001', 'lingua-portuguesa-1o-ano-redacao', 2025, 0, 2, 'document:d1', '2025-06-01'),
          ($1, '00000000-0000-7000-8000-000000000001', 'lingua-portuguesa-1-ano-redacao', 2025, 0, 4, 'csv', '2025-05-01'),
          ($1, '00000000-0000-7000-8000-000000000002', 'lingua-portuguesa-1o-ano-redacao', 2025, 0, 1, 'document:d2', '2025-06-01');
        insert into attendance_days (tenant_id, student_id, day, subject_code, present, source, updated_at) values
          ($1, '00000000-0000-7000-8000-000000000001', '2025-03-10', 'lingua-portuguesa-1o-ano-redacao', false, 'api', '2025-03-10'),
          ($1, '00000000-0000-7000-8000-000000000001', '2025-03-10', 'lingua-portuguesa-1-ano-redacao', true, 'csv', '2025-03-11'),
          ($1, '00000000-0000-7000-8000-000000000001', '2025-03-11', 'lingua-portuguesa-1o-ano-redacao', false, 'api', '2025-03-11');
        insert into alert_rules (id, tenant_id, name, condition, audience, channels, template) values
          ('00000000-0000-7000-8000-0000000000a1', $1, 'Nota baixa', '{"type": "grade_below"}', '{guardians}', '{email}', 'x');
        insert into alerts (id, tenant_id, rule_id, student_id, scope, status, opened_at, changed_at) values
          -- Ana: only under the old code, so it moves
          ('00000000-0000-7000-8000-0000000000b1', $1, '00000000-0000-7000-8000-0000000000a1',
           '00000000-0000-7000-8000-000000000001', 'lingua-portuguesa-1o-ano-redacao', 'open', now(), now()),
          -- Bruno: under both; the new code's stays, the old one is left to resolve
          ('00000000-0000-7000-8000-0000000000b2', $1, '00000000-0000-7000-8000-0000000000a1',
           '00000000-0000-7000-8000-000000000002', 'lingua-portuguesa-1o-ano-redacao', 'open', now(), now()),
          ('00000000-0000-7000-8000-0000000000b3', $1, '00000000-0000-7000-8000-0000000000a1',
           '00000000-0000-7000-8000-000000000002', 'lingua-portuguesa-1-ano-redacao', 'acknowledged', now(), now());
    "#;
    // Several statements with parameters: one by one.
    let mut tx = pool.begin().await.unwrap();
    for stmt in seed.split(";\n").map(str::trim).filter(|s| !s.is_empty()) {
        let mut q = sqlx::query(stmt);
        if stmt.contains("$1") {
            q = q.bind(one);
        }
        if stmt.contains("$2") {
            q = q.bind(two);
        }
        q.execute(&mut *tx)
            .await
            .unwrap_or_else(|e| panic!("{e}: {stmt}"));
    }
    tx.commit().await.unwrap();

    MIGRATOR.run(&pool).await.expect("0010");

    let after = snapshot(&pool).await;
    let c = "lingua-portuguesa-1-ano-redacao";
    let mut want: Vec<String> = [
        // Ana's alert moved; Bruno's old one stays beside the new code's.
        format!("a escola-um 2026001 {c} open"),
        "a escola-um 2026002 lingua-portuguesa-1o-ano-redacao open".into(),
        format!("a escola-um 2026002 {c} acknowledged"),
        // The newer day row won on 10/03; 11/03 moved.
        format!("d escola-um 2026001 {c} 2025-03-10 true csv"),
        format!("d escola-um 2026001 {c} 2025-03-11 false api"),
        // Tenant two's subject re-coded on its own.
        format!("g escola-dois 2026001 {c} 2025/1 3.00 document:d3"),
        "g escola-um 2026001 artes-2-serie 2025/1 10.00 document:d1".into(),
        "g escola-um 2026001 ciclo-1o 2025/1 6.50 csv".into(),
        // Ana's term 1 from the document (newer), Bruno's from the CSV (newer).
        format!("g escola-um 2026001 {c} 2025/1 8.50 document:d1"),
        format!("g escola-um 2026001 {c} 2025/2 6.00 document:d1"),
        format!("g escola-um 2026001 {c} 2025/3 9.00 csv"),
        "g escola-um 2026001 matematica 2025/1 7.50 csv".into(),
        format!("g escola-um 2026002 {c} 2025/1 5.00 csv"),
        format!("p escola-um 2026001 {c} 2025/0 2 document:d1"),
        format!("p escola-um 2026002 {c} 2025/0 1 document:d2"),
        format!("s escola-dois {c} {REDACAO}"),
        "s escola-um artes-2-serie ARTES 2ª Série".into(),
        "s escola-um ciclo-1o Ciclo 1o".into(),
        format!("s escola-um {c} {REDACAO}"),
        "s escola-um matematica Matemática".into(),
        "s escola-um x1 1º ano".into(),
    ]
    .into();
    want.sort();
    assert_eq!(after, want);
    // 10 grades in, 2 pairs met on one key: 8 out, every key still there.
    assert_eq!(after.iter().filter(|r| r.starts_with("g ")).count(), 8);

    // Again (what a re-run or a database with nothing split sees): no change.
    let sql = &MIGRATOR.iter().find(|m| m.version == 10).unwrap().sql;
    let mut tx = pool.begin().await.unwrap();
    sqlx::raw_sql(sql.as_ref())
        .execute(&mut *tx)
        .await
        .expect("0010 again");
    tx.commit().await.unwrap();
    assert_eq!(snapshot(&pool).await, after);
}

//! Grades ingestion (`POST /v1/academic/grades`): one grade of one student
//! in one subject, per term (`assessment` empty = the term's grade) or per
//! assessment inside a term; natural key (student, subject, year, term,
//! assessment). Subjects are created on first sight from their name.
//!
//! Row fields (CSV headers in parentheses): `registration` (matricula),
//! `subject` (disciplina), `year` (ano), `term` (bimestre; 0 = final grade),
//! `assessment` (avaliacao), `grade` (nota), `scale_max` (nota_maxima,
//! default 10), `assessed_on` (data).

use std::collections::HashMap;

use chrono::NaiveDate;
use sqlx::{PgExecutor, PgPool};
use uuid::Uuid;

use super::fields::{Reader, SeenKeys};
use super::{resolve_students, subject_of, tally, unique, IngestError, Ingested, RowError, Rows};

struct Grade {
    row: usize,
    line: Option<usize>,
    registration: String,
    subject: (String, String),
    year: i32,
    term: i16,
    assessment: String,
    grade: f64,
    scale_max: f64,
    assessed_on: Option<NaiveDate>,
}

fn read(rows: &Rows, errors: &mut Vec<RowError>) -> Vec<Grade> {
    let mut out = Vec::with_capacity(rows.len());
    for (row, line, map) in &rows.items {
        let before = errors.len();
        let mut r = Reader::new(*row, *line, "", map, errors);
        let registration = r.text_req(&["registration", "matricula", "matrícula"], 64);
        let subject = r.text_req(&["subject", "disciplina"], 200);
        let year = r.integer(&["year", "ano"], 1900, 2200);
        let term = r.integer(
            &["term", "bimestre", "trimestre", "periodo", "período"],
            0,
            6,
        );
        let assessment = r
            .text(&["assessment", "avaliacao", "avaliação"], 100)
            .unwrap_or_default();
        let grade = r.decimal(&["grade", "nota"]);
        let scale_max = r
            .decimal(&["scale_max", "nota_maxima", "nota_máxima", "escala"])
            .unwrap_or(10.0);
        let assessed_on = r.date(&["assessed_on", "data"]);
        if year.is_none() && !r.has("year") && !r.has("ano") {
            r.error("year", "required");
        }
        if term.is_none()
            && !["term", "bimestre", "trimestre", "periodo", "período"]
                .iter()
                .any(|n| r.has(n))
        {
            r.error("term", "required");
        }
        if grade.is_none() && !r.has("grade") && !r.has("nota") {
            r.error("grade", "required");
        }
        let subject = subject.and_then(|s| {
            let v = subject_of(&s);
            if v.is_none() {
                r.error("subject", "not a subject name or code");
            }
            v
        });
        if !(scale_max > 0.0 && scale_max <= 1000.0) {
            r.error("scale_max", "must be more than 0 and at most 1000");
        }
        if let Some(g) = grade {
            if g < 0.0 || g > scale_max {
                r.error(
                    "grade",
                    format!("must be between 0 and the scale's maximum ({scale_max})"),
                );
            }
        }
        r.finish();
        if errors.len() > before {
            continue;
        }
        out.push(Grade {
            row: *row,
            line: *line,
            registration: registration.unwrap_or_default(),
            subject: subject.unwrap_or_default(),
            year: year.unwrap_or_default() as i32,
            term: term.unwrap_or_default() as i16,
            assessment,
            grade: grade.unwrap_or_default(),
            scale_max,
            assessed_on,
        });
    }
    let mut seen = SeenKeys::default();
    for g in &out {
        let key = (
            g.registration.clone(),
            g.subject.0.clone(),
            g.year,
            g.term,
            g.assessment.clone(),
        );
        errors.extend(seen.repeat(
            key,
            g.row,
            g.line,
            "row",
            "student, subject, year, term and assessment",
        ));
    }
    out
}

/// One grade to write; its subject must exist ([`super::upsert_subjects`]).
#[derive(Clone, Debug)]
pub struct GradeRow {
    pub student_id: Uuid,
    pub subject_code: String,
    pub year: i32,
    /// 1..6, 0 = the final (yearly) grade.
    pub term: i16,
    /// `''` = the term's grade.
    pub assessment: String,
    pub grade: f64,
    pub scale_max: f64,
    /// `None` keeps the date a previous write gave.
    pub assessed_on: Option<NaiveDate>,
}

/// Upserts grades on their natural key (student, subject, year, term,
/// assessment), all with `source` (`api`, `csv`, `document:<id>`); a grade
/// already there takes the new value. One flag per row: true = inserted.
pub async fn upsert(
    ex: impl PgExecutor<'_>,
    tenant: Uuid,
    source: &str,
    rows: &[GradeRow],
) -> Result<Vec<bool>, sqlx::Error> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    sqlx::query_scalar(
        "insert into grades (tenant_id, student_id, subject_code, year, term, assessment, grade, scale_max,
                             assessed_on, source, updated_at)
         select $1, s, c, y, t, a, g, m, d, $2, now()
         from unnest($3::uuid[], $4::text[], $5::int[], $6::int2[], $7::text[], $8::float8[], $9::float8[], $10::date[])
              as v(s, c, y, t, a, g, m, d)
         on conflict (tenant_id, student_id, subject_code, year, term, assessment) do update set
             grade = excluded.grade, scale_max = excluded.scale_max,
             assessed_on = coalesce(excluded.assessed_on, grades.assessed_on),
             source = excluded.source, updated_at = now()
         returning (xmax = 0)",
    )
    .bind(tenant)
    .bind(source)
    .bind(rows.iter().map(|g| g.student_id).collect::<Vec<_>>())
    .bind(rows.iter().map(|g| g.subject_code.as_str()).collect::<Vec<_>>())
    .bind(rows.iter().map(|g| g.year).collect::<Vec<_>>())
    .bind(rows.iter().map(|g| g.term).collect::<Vec<_>>())
    .bind(rows.iter().map(|g| g.assessment.as_str()).collect::<Vec<_>>())
    .bind(rows.iter().map(|g| g.grade).collect::<Vec<_>>())
    .bind(rows.iter().map(|g| g.scale_max).collect::<Vec<_>>())
    .bind(rows.iter().map(|g| g.assessed_on).collect::<Vec<_>>())
    .fetch_all(ex)
    .await
}

/// Checks every row, then writes them all in one transaction (or none).
pub async fn ingest(pool: &PgPool, tenant: Uuid, rows: &Rows) -> Result<Ingested, IngestError> {
    let mut errors = Vec::new();
    let grades = read(rows, &mut errors);
    let regs: Vec<_> = grades
        .iter()
        .map(|g| (g.row, g.line, g.registration.clone()))
        .collect();
    let ids = resolve_students(pool, tenant, &regs, &mut errors).await?;
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.row);
        return Err(IngestError::Invalid(errors));
    }
    let subjects: HashMap<&str, &str> = grades
        .iter()
        .map(|g| (g.subject.0.as_str(), g.subject.1.as_str()))
        .collect();
    let students: Vec<Uuid> = grades.iter().map(|g| ids[&g.registration]).collect();
    let written: Vec<GradeRow> = grades
        .iter()
        .zip(&students)
        .map(|(g, s)| GradeRow {
            student_id: *s,
            subject_code: g.subject.0.clone(),
            year: g.year,
            term: g.term,
            assessment: g.assessment.clone(),
            grade: g.grade,
            scale_max: g.scale_max,
            assessed_on: g.assessed_on,
        })
        .collect();
    let mut tx = pool.begin().await?;
    super::upsert_subjects(&mut *tx, tenant, subjects).await?;
    let flags = upsert(&mut *tx, tenant, rows.source().as_str(), &written).await?;
    tx.commit().await?;
    let (inserted, updated) = tally(&flags);
    Ok(Ingested {
        rows: grades.len(),
        inserted,
        updated,
        students: unique(students),
    })
}

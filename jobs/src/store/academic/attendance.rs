//! Attendance ingestion (`POST /v1/academic/attendance`). A row is either a
//! **day** (has `date`): `registration`, `date` (data), `present`
//! (presente: true/false, sim/não, P/F), `justified` (justificada), optional
//! `subject` (disciplina; absent = the whole school day) — key (student, day,
//! subject); or a **period** (has `term`): `registration`, `year` (ano),
//! `term` (bimestre; 0 = the year), optional `subject`, `classes_given`
//! (aulas), `absences` (faltas) and/or `attendance_pct` (frequencia, `72,5`)
//! — key (student, subject, year, term). One batch may mix both.

use std::collections::HashMap;

use chrono::NaiveDate;
use sqlx::{PgExecutor, PgPool};
use uuid::Uuid;

use super::fields::{Reader, SeenKeys};
use super::{resolve_students, subject_of, tally, unique, IngestError, Ingested, RowError, Rows};

struct Day {
    registration: String,
    day: NaiveDate,
    subject: Option<(String, String)>,
    present: bool,
    justified: bool,
}

struct Period {
    registration: String,
    subject: Option<(String, String)>,
    year: i32,
    term: i16,
    classes_given: Option<i32>,
    absences: Option<i32>,
    pct: Option<f64>,
}

const DATE: [&str; 3] = ["date", "data", "dia"];
const TERM: [&str; 4] = ["term", "bimestre", "trimestre", "periodo"];

/// A row with its position: (row, CSV line, value).
type At<T> = (usize, Option<usize>, T);

fn read(rows: &Rows, errors: &mut Vec<RowError>) -> (Vec<At<Day>>, Vec<At<Period>>) {
    let (mut days, mut periods) = (Vec::new(), Vec::new());
    for (row, line, map) in &rows.items {
        let before = errors.len();
        let mut r = Reader::new(*row, *line, "", map, errors);
        let registration = r.text_req(&["registration", "matricula", "matrícula"], 64);
        let subject = r.text(&["subject", "disciplina"], 200).and_then(|s| {
            let v = subject_of(&s);
            if v.is_none() {
                r.error("subject", "not a subject name or code");
            }
            v
        });
        let is_day = DATE.iter().any(|n| r.has(n));
        let is_period = TERM.iter().any(|n| r.has(n));
        match (is_day, is_period) {
            (true, false) => {
                let day = r.date(&DATE);
                let present = r.boolean(&["present", "presente", "presenca", "presença"]);
                let justified = r
                    .boolean(&["justified", "justificada", "justificado", "justificativa"])
                    .unwrap_or(false);
                if present.is_none()
                    && !["present", "presente", "presenca", "presença"]
                        .iter()
                        .any(|n| r.has(n))
                {
                    r.error("present", "required for a day row");
                }
                if present == Some(true) && justified {
                    r.error("justified", "a present student has no absence to justify");
                }
                r.finish();
                if errors.len() == before {
                    days.push((
                        *row,
                        *line,
                        Day {
                            registration: registration.unwrap_or_default(),
                            day: day.unwrap_or_default(),
                            subject,
                            present: present.unwrap_or_default(),
                            justified,
                        },
                    ));
                }
            }
            (false, true) => {
                let year = r.integer(&["year", "ano"], 1900, 2200);
                let term = r.integer(&TERM, 0, 6);
                let given = r.integer(&["classes_given", "aulas", "aulas_dadas"], 0, 100_000);
                let absences = r.integer(&["absences", "faltas"], 0, 100_000);
                let pct = r.decimal(&["attendance_pct", "frequencia", "frequência"]);
                if year.is_none() && !r.has("year") && !r.has("ano") {
                    r.error("year", "required for a period row");
                }
                if let Some(p) = pct {
                    if !(0.0..=100.0).contains(&p) {
                        r.error("attendance_pct", "must be 0-100");
                    }
                }
                match (given, absences) {
                    (Some(g), Some(a)) if a > g => {
                        r.error("absences", "more absences than classes given")
                    }
                    (Some(_), None) | (None, Some(_)) if pct.is_none() => r.error(
                        "row",
                        "give classes_given and absences together, or attendance_pct",
                    ),
                    (None, None) if pct.is_none() => {
                        r.error("row", "give classes_given and absences, or attendance_pct")
                    }
                    _ => {}
                }
                r.finish();
                if errors.len() == before {
                    periods.push((
                        *row,
                        *line,
                        Period {
                            registration: registration.unwrap_or_default(),
                            subject,
                            year: year.unwrap_or_default() as i32,
                            term: term.unwrap_or_default() as i16,
                            classes_given: given.map(|g| g as i32),
                            absences: absences.map(|a| a as i32),
                            pct,
                        },
                    ));
                }
            }
            _ => {
                r.error("row", "give `date` (a day) or `term` (a period), not both");
            }
        }
    }
    (days, periods)
}

fn code(s: &Option<(String, String)>) -> String {
    s.as_ref().map(|s| s.0.clone()).unwrap_or_default()
}

/// One day of attendance to write.
#[derive(Clone, Debug)]
pub struct DayRow {
    pub student_id: Uuid,
    pub day: NaiveDate,
    /// `''` = the whole school day.
    pub subject_code: String,
    pub present: bool,
    pub justified: bool,
}

/// One period's attendance to write; a subject other than `''` must exist.
#[derive(Clone, Debug)]
pub struct PeriodRow {
    pub student_id: Uuid,
    /// `''` = all subjects together.
    pub subject_code: String,
    pub year: i32,
    /// 1..6, 0 = the year.
    pub term: i16,
    pub classes_given: Option<i32>,
    pub absences: Option<i32>,
    /// 0-100.
    pub attendance_pct: Option<f64>,
}

/// Upserts days on (student, day, subject), all with `source`. One flag per
/// row: true = inserted.
pub async fn upsert_days(
    ex: impl PgExecutor<'_>,
    tenant: Uuid,
    source: &str,
    rows: &[DayRow],
) -> Result<Vec<bool>, sqlx::Error> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    sqlx::query_scalar(
        "insert into attendance_days (tenant_id, student_id, day, subject_code, present, justified, source, updated_at)
         select $1, s, d, c, p, j, $2, now()
         from unnest($3::uuid[], $4::date[], $5::text[], $6::bool[], $7::bool[]) as v(s, d, c, p, j)
         on conflict (tenant_id, student_id, day, subject_code) do update set
             present = excluded.present, justified = excluded.justified, source = excluded.source, updated_at = now()
         returning (xmax = 0)",
    )
    .bind(tenant)
    .bind(source)
    .bind(rows.iter().map(|d| d.student_id).collect::<Vec<_>>())
    .bind(rows.iter().map(|d| d.day).collect::<Vec<_>>())
    .bind(rows.iter().map(|d| d.subject_code.as_str()).collect::<Vec<_>>())
    .bind(rows.iter().map(|d| d.present).collect::<Vec<_>>())
    .bind(rows.iter().map(|d| d.justified).collect::<Vec<_>>())
    .fetch_all(ex)
    .await
}

/// Upserts periods on (student, subject, year, term), all with `source`: a
/// period already there takes the new row whole (classes given, absences and
/// frequency; what the row lacks becomes null). Ingestion and document
/// extraction both write periods through here. One flag per row: true = inserted.
pub async fn upsert_periods(
    ex: impl PgExecutor<'_>,
    tenant: Uuid,
    source: &str,
    rows: &[PeriodRow],
) -> Result<Vec<bool>, sqlx::Error> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    sqlx::query_scalar(
        "insert into attendance_periods (tenant_id, student_id, subject_code, year, term, classes_given, absences,
                                         attendance_pct, source, updated_at)
         select $1, s, c, y, t, g, a, p, $2, now()
         from unnest($3::uuid[], $4::text[], $5::int[], $6::int2[], $7::int[], $8::int[], $9::float8[])
              as v(s, c, y, t, g, a, p)
         on conflict (tenant_id, student_id, subject_code, year, term) do update set
             classes_given = excluded.classes_given, absences = excluded.absences,
             attendance_pct = excluded.attendance_pct, source = excluded.source, updated_at = now()
         returning (xmax = 0)",
    )
    .bind(tenant)
    .bind(source)
    .bind(rows.iter().map(|p| p.student_id).collect::<Vec<_>>())
    .bind(rows.iter().map(|p| p.subject_code.as_str()).collect::<Vec<_>>())
    .bind(rows.iter().map(|p| p.year).collect::<Vec<_>>())
    .bind(rows.iter().map(|p| p.term).collect::<Vec<_>>())
    .bind(rows.iter().map(|p| p.classes_given).collect::<Vec<_>>())
    .bind(rows.iter().map(|p| p.absences).collect::<Vec<_>>())
    .bind(rows.iter().map(|p| p.attendance_pct).collect::<Vec<_>>())
    .fetch_all(ex)
    .await
}

/// Checks every row, then writes them all in one transaction (or none).
pub async fn ingest(pool: &PgPool, tenant: Uuid, rows: &Rows) -> Result<Ingested, IngestError> {
    let mut errors = Vec::new();
    let (days, periods) = read(rows, &mut errors);
    let mut seen = SeenKeys::default();
    for (row, line, d) in &days {
        let key = (d.registration.clone(), d.day.to_string(), code(&d.subject));
        errors.extend(seen.repeat(key, *row, *line, "row", "student, date and subject"));
    }
    for (row, line, p) in &periods {
        let key = (
            p.registration.clone(),
            format!("{}/{}", p.year, p.term),
            code(&p.subject),
        );
        errors.extend(seen.repeat(key, *row, *line, "row", "student, subject, year and term"));
    }
    let regs: Vec<_> = days
        .iter()
        .map(|(r, l, d)| (*r, *l, d.registration.clone()))
        .chain(
            periods
                .iter()
                .map(|(r, l, p)| (*r, *l, p.registration.clone())),
        )
        .collect();
    let ids = resolve_students(pool, tenant, &regs, &mut errors).await?;
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.row);
        return Err(IngestError::Invalid(errors));
    }
    let subjects: HashMap<&str, &str> = days
        .iter()
        .filter_map(|d| d.2.subject.as_ref())
        .chain(periods.iter().filter_map(|p| p.2.subject.as_ref()))
        .map(|(c, n)| (c.as_str(), n.as_str()))
        .collect();
    let days: Vec<DayRow> = days
        .iter()
        .map(|(_, _, d)| DayRow {
            student_id: ids[&d.registration],
            day: d.day,
            subject_code: code(&d.subject),
            present: d.present,
            justified: d.justified,
        })
        .collect();
    let periods: Vec<PeriodRow> = periods
        .iter()
        .map(|(_, _, p)| PeriodRow {
            student_id: ids[&p.registration],
            subject_code: code(&p.subject),
            year: p.year,
            term: p.term,
            classes_given: p.classes_given,
            absences: p.absences,
            attendance_pct: p.pct,
        })
        .collect();
    let source = rows.source().as_str();
    let mut tx = pool.begin().await?;
    super::upsert_subjects(&mut *tx, tenant, subjects).await?;
    let mut flags = upsert_days(&mut *tx, tenant, source, &days).await?;
    flags.extend(upsert_periods(&mut *tx, tenant, source, &periods).await?);
    tx.commit().await?;
    let (inserted, updated) = tally(&flags);
    Ok(Ingested {
        rows: flags.len(),
        inserted,
        updated,
        students: unique(regs.iter().map(|r| ids[&r.2]).collect()),
    })
}

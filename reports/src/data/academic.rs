//! Reads a class's (or one student's) academic records for a year from the
//! tables of migrations 0005/0006: students, term grades (assessments folded
//! into their term when a term has no grade of its own), attendance per
//! period, open alerts. Grades are normalised to a 0–10 scale here.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

/// The class a report is about.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ClassInfo {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub year: i32,
    pub teacher: Option<String>,
    pub coordinator: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct StudentInfo {
    pub id: Uuid,
    pub registration: String,
    pub name: String,
}

/// One student's raw records for the year.
#[derive(Debug, Clone, Default)]
pub struct StudentRecords {
    /// subject code → term (0 = final) → grade on 0–10
    pub grades: BTreeMap<String, BTreeMap<i16, f64>>,
    /// subject code ('' = all) → (classes given, absences, pct given)
    pub attendance: BTreeMap<String, AttendanceSum>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct AttendanceSum {
    pub classes_given: i64,
    pub absences: i64,
    /// Mean of the given percentages, when periods carry a percentage but no counts.
    pub pct_given: Option<f64>,
}

/// A report's subject list: code → display name, in name order.
pub type Subjects = Vec<(String, String)>;

#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("no class with code {0:?}")]
    NoClass(String),
    #[error("no student with registration {0:?}")]
    NoStudent(String),
    #[error("postgres: {0}")]
    Db(#[from] sqlx::Error),
}

pub async fn class_by_code(pg: &PgPool, tenant: Uuid, code: &str) -> Result<ClassInfo, DataError> {
    type Row = (Uuid, String, String, i32, Option<String>, Option<String>);
    let row: Option<Row> = sqlx::query_as(
        "select c.id, c.code, c.name, c.year, t.name, k.name
           from classes c
           left join staff t on t.id = c.teacher_id
           left join staff k on k.id = c.coordinator_id
          where c.tenant_id = $1 and c.code = $2",
    )
    .bind(tenant)
    .bind(code)
    .fetch_optional(pg)
    .await?;
    let (id, code, name, year, teacher, coordinator) =
        row.ok_or_else(|| DataError::NoClass(code.to_string()))?;
    Ok(ClassInfo {
        id,
        code,
        name,
        year,
        teacher,
        coordinator,
    })
}

/// The class's students (enrolled at some point, ordered by name).
pub async fn class_students(
    pg: &PgPool,
    tenant: Uuid,
    class: Uuid,
) -> Result<Vec<StudentInfo>, DataError> {
    let rows: Vec<(Uuid, String, String)> = sqlx::query_as(
        "select s.id, s.registration, s.name
           from enrollments e join students s on s.id = e.student_id
          where e.tenant_id = $1 and e.class_id = $2
          order by s.name, s.registration",
    )
    .bind(tenant)
    .bind(class)
    .fetch_all(pg)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, registration, name)| StudentInfo {
            id,
            registration,
            name,
        })
        .collect())
}

/// One student by registration, with the class they were in that year (if any).
pub async fn student_by_registration(
    pg: &PgPool,
    tenant: Uuid,
    registration: &str,
    year: i32,
) -> Result<(StudentInfo, Option<ClassInfo>), DataError> {
    let s: Option<(Uuid, String, String)> = sqlx::query_as(
        "select id, registration, name from students where tenant_id = $1 and registration = $2",
    )
    .bind(tenant)
    .bind(registration)
    .fetch_optional(pg)
    .await?;
    let (id, registration, name) =
        s.ok_or_else(|| DataError::NoStudent(registration.to_string()))?;
    let code: Option<(String,)> = sqlx::query_as(
        "select c.code from enrollments e join classes c on c.id = e.class_id
          where e.student_id = $1 and c.year = $2
          order by e.ended_on desc nulls first limit 1",
    )
    .bind(id)
    .bind(year)
    .fetch_optional(pg)
    .await?;
    let class = match code {
        Some((code,)) => Some(class_by_code(pg, tenant, &code).await?),
        None => None,
    };
    Ok((
        StudentInfo {
            id,
            registration,
            name,
        },
        class,
    ))
}

/// The tenant's subjects (code → name).
pub async fn subjects(pg: &PgPool, tenant: Uuid) -> Result<HashMap<String, String>, DataError> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("select code, name from academic_subjects where tenant_id = $1")
            .bind(tenant)
            .fetch_all(pg)
            .await?;
    Ok(rows.into_iter().collect())
}

/// The year's records of `students`, keyed by student id. A term's grade is
/// its own row (assessment '') or else the mean of its assessments.
pub async fn records(
    pg: &PgPool,
    tenant: Uuid,
    year: i32,
    students: &[Uuid],
) -> Result<HashMap<Uuid, StudentRecords>, DataError> {
    let grades: Vec<(Uuid, String, i16, f64, f64)> = sqlx::query_as(
        "select student_id, subject_code, term,
                coalesce(max(grade) filter (where assessment = ''), avg(grade))::float8,
                coalesce(max(scale_max) filter (where assessment = ''), max(scale_max))::float8
           from grades
          where tenant_id = $1 and year = $2 and student_id = any($3)
          group by student_id, subject_code, term",
    )
    .bind(tenant)
    .bind(year)
    .bind(students)
    .fetch_all(pg)
    .await?;
    type Sums = (Uuid, String, Option<i64>, Option<i64>, Option<f64>);
    let attendance: Vec<Sums> = sqlx::query_as(
        "select student_id, subject_code,
                sum(classes_given)::int8, sum(absences)::int8, avg(attendance_pct)::float8
           from attendance_periods
          where tenant_id = $1 and year = $2 and student_id = any($3) and term <> 0
          group by student_id, subject_code",
    )
    .bind(tenant)
    .bind(year)
    .bind(students)
    .fetch_all(pg)
    .await?;
    let mut out: HashMap<Uuid, StudentRecords> = HashMap::new();
    for (student, subject, term, grade, scale) in grades {
        let g = if scale > 0.0 {
            grade * 10.0 / scale
        } else {
            grade
        };
        out.entry(student)
            .or_default()
            .grades
            .entry(subject)
            .or_default()
            .insert(term, g);
    }
    for (student, subject, given, absences, pct) in attendance {
        out.entry(student).or_default().attendance.insert(
            subject,
            AttendanceSum {
                classes_given: given.unwrap_or(0),
                absences: absences.unwrap_or(0),
                pct_given: pct,
            },
        );
    }
    Ok(out)
}

/// Per subject and term, the class's mean grade (0–10), over `students`.
pub async fn class_term_means(
    pg: &PgPool,
    tenant: Uuid,
    year: i32,
    students: &[Uuid],
) -> Result<BTreeMap<(String, i16), f64>, DataError> {
    let rows: Vec<(String, i16, f64)> = sqlx::query_as(
        "with term_grades as (
             select student_id, subject_code, term,
                    coalesce(max(grade * 10 / scale_max) filter (where assessment = ''),
                             avg(grade * 10 / scale_max))::float8 as g
               from grades
              where tenant_id = $1 and year = $2 and student_id = any($3)
              group by student_id, subject_code, term)
         select subject_code, term, avg(g)::float8 from term_grades group by subject_code, term",
    )
    .bind(tenant)
    .bind(year)
    .bind(students)
    .fetch_all(pg)
    .await?;
    Ok(rows.into_iter().map(|(s, t, g)| ((s, t), g)).collect())
}

/// An open academic alert of a student of the class.
#[derive(Debug, Clone)]
pub struct OpenAlert {
    pub student: String,
    pub rule: String,
    pub scope: String,
    pub opened_at: DateTime<Utc>,
}

pub async fn open_alerts(
    pg: &PgPool,
    tenant: Uuid,
    students: &[Uuid],
) -> Result<Vec<OpenAlert>, DataError> {
    let rows: Vec<(String, String, String, DateTime<Utc>)> = sqlx::query_as(
        "select s.name, r.name, a.scope, a.opened_at
           from alerts a
           join alert_rules r on r.id = a.rule_id
           join students s on s.id = a.student_id
          where a.tenant_id = $1 and a.status = 'open' and a.student_id = any($2)
          order by s.name, a.opened_at",
    )
    .bind(tenant)
    .bind(students)
    .fetch_all(pg)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(student, rule, scope, opened_at)| OpenAlert {
            student,
            rule,
            scope,
            opened_at,
        })
        .collect())
}

//! Bulk ingestion of a tenant's academic records (tables of migration 0005):
//! students with their guardians, classes with staff and enrollments,
//! grades, attendance and occurrences, from JSON rows or a CSV upload.
//!
//! Batch semantics: **all or nothing**. Every row is read and checked first
//! (types, ranges, pt-BR forms, students known by registration, no natural
//! key twice in one batch); any bad row fails the whole batch with every
//! problem listed (row, CSV line, field) and nothing is written. A good batch
//! is written in one transaction with set-based upserts (`unnest` of column
//! arrays: one statement per table, whatever the row count), keyed on the
//! natural keys, so sending the same batch again changes nothing.
//!
//! Layout: `csv` (the upload reader), `fields` (typed getters, pt-BR
//! values), one file per resource (`students`, `classes`, `grades`,
//! `attendance`, `occurrences`).
//!
//! The upserts of students, subjects, grades and attendance periods are
//! public functions (`students::upsert`, [`upsert_subjects`],
//! `grades::upsert`, `attendance::upsert_periods`): document extraction
//! (`kinds::documents::records`) writes its records through them too, so
//! each table has one statement and one conflict key.

pub mod attendance;
pub mod classes;
pub mod csv;
pub mod fields;
pub mod grades;
pub mod occurrences;
pub mod students;

use std::collections::HashMap;

use serde::Serialize;
use serde_json::{Map, Value};
use sqlx::PgExecutor;
use utoipa::ToSchema;
use uuid::Uuid;

pub use fields::RowError;

/// Where rows came from (stored in the tables' `source`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Api,
    Csv,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Api => "api",
            Source::Csv => "csv",
        }
    }
}

/// Rows to ingest: (1-based row, CSV line, fields).
#[derive(Clone, Debug, Default)]
pub struct Rows {
    pub items: Vec<(usize, Option<usize>, Map<String, Value>)>,
    pub source: Option<Source>,
}

impl Rows {
    /// A JSON array's elements; a non-object element is a row error.
    pub fn from_json(values: Vec<Value>) -> Result<Rows, Vec<RowError>> {
        let mut items = Vec::with_capacity(values.len());
        let mut errors = Vec::new();
        for (i, v) in values.into_iter().enumerate() {
            match v {
                Value::Object(m) => items.push((i + 1, None, m)),
                _ => errors.push(RowError {
                    row: i + 1,
                    line: None,
                    field: "row".into(),
                    message: "must be an object".into(),
                }),
            }
        }
        if errors.is_empty() {
            Ok(Rows {
                items,
                source: Some(Source::Api),
            })
        } else {
            Err(errors)
        }
    }

    pub fn from_csv(text: &str) -> Result<Rows, csv::CsvError> {
        let records = csv::parse(text)?;
        Ok(Rows {
            items: records
                .into_iter()
                .enumerate()
                .map(|(i, r)| (i + 1, Some(r.line), r.fields))
                .collect(),
            source: Some(Source::Csv),
        })
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn source(&self) -> Source {
        self.source.unwrap_or(Source::Api)
    }
}

/// Why a batch was not written.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// Bad rows, every one of them; nothing was written.
    #[error("{} bad row(s)", .0.len())]
    Invalid(Vec<RowError>),
    #[error("postgres: {0}")]
    Db(#[from] sqlx::Error),
}

/// What a batch did.
#[derive(Clone, Debug, Default, Serialize, ToSchema)]
pub struct Ingested {
    pub rows: usize,
    /// Rows new to the records.
    pub inserted: u64,
    /// Rows that replaced an existing one (same natural key).
    pub updated: u64,
    /// Students whose records changed (their alerts are re-evaluated).
    #[serde(skip)]
    pub students: Vec<Uuid>,
}

/// Counts `(xmax = 0)` flags returned by an upsert: (inserted, updated).
pub(crate) fn tally(flags: &[bool]) -> (u64, u64) {
    let ins = flags.iter().filter(|f| **f).count() as u64;
    (ins, flags.len() as u64 - ins)
}

/// Student ids by registration (matrícula), for the given registrations of `tenant`.
pub async fn student_ids(
    ex: impl PgExecutor<'_>,
    tenant: Uuid,
    registrations: &[String],
) -> Result<HashMap<String, Uuid>, sqlx::Error> {
    let rows: Vec<(String, Uuid)> = sqlx::query_as(
        "select registration, id from students where tenant_id = $1 and registration = any($2)",
    )
    .bind(tenant)
    .bind(registrations)
    .fetch_all(ex)
    .await?;
    Ok(rows.into_iter().collect())
}

/// Resolves each row's registration; unknown ones become row errors.
pub(crate) async fn resolve_students(
    ex: impl PgExecutor<'_>,
    tenant: Uuid,
    regs: &[(usize, Option<usize>, String)],
    errors: &mut Vec<RowError>,
) -> Result<HashMap<String, Uuid>, sqlx::Error> {
    let mut all: Vec<String> = regs.iter().map(|r| r.2.clone()).collect();
    all.sort();
    all.dedup();
    let ids = student_ids(ex, tenant, &all).await?;
    for (row, line, reg) in regs {
        if !ids.contains_key(reg) {
            errors.push(RowError {
                row: *row,
                line: *line,
                field: "registration".into(),
                message: format!(
                    "no student with registration {reg:?} (send it to /v1/academic/students first)"
                ),
            });
        }
    }
    Ok(ids)
}

/// Upserts subjects `(code, display name)` by code, keeping an existing
/// display name (the tenant's own spelling wins over a later one). Ingestion
/// and document extraction both write subjects through here.
pub async fn upsert_subjects<'a>(
    ex: impl PgExecutor<'_>,
    tenant: Uuid,
    subjects: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<(), sqlx::Error> {
    let (codes, names): (Vec<&str>, Vec<&str>) = subjects.into_iter().unzip();
    if codes.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "insert into academic_subjects (tenant_id, code, name)
         select $1, c, n from unnest($2::text[], $3::text[]) as v(c, n)
         on conflict (tenant_id, code) do nothing",
    )
    .bind(tenant)
    .bind(codes)
    .bind(names)
    .execute(ex)
    .await?;
    Ok(())
}

/// `Matemática` → (`matematica`, `Matemática`); a code stays a code. The
/// code is [`ptbr::slug`], as for subjects read from documents.
pub(crate) fn subject_of(given: &str) -> Option<(String, String)> {
    let code = ptbr::slug(given);
    (!code.is_empty()).then(|| (code, given.trim().to_string()))
}

/// Sorted, deduplicated.
pub(crate) fn unique(mut ids: Vec<Uuid>) -> Vec<Uuid> {
    ids.sort();
    ids.dedup();
    ids
}

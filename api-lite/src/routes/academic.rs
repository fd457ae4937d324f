//! `/v1/academic/*`: bulk ingestion of a tenant's academic records. Grades,
//! attendance and occurrences take a JSON array or a CSV upload
//! (`Content-Type: text/csv`, header row, `,` or `;`, decimal comma and
//! `dd/mm/aaaa` accepted, UTF-8 or Windows-1252); students (with guardians)
//! and classes (with staff and enrollments) take JSON arrays.
//!
//! All or nothing: any bad row is a 422 `invalid_rows` listing every bad row
//! (`row`, CSV `line`, `field`, `message`) and nothing is written; a good
//! batch is upserted in one transaction on the natural keys (see
//! `jobs::store::academic`). Then `alerts.evaluate` is enqueued for the
//! students touched; its job id is in the answer.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Request, State};
use axum::http::{header, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::{OpenApi, ToSchema};

use jobs::kinds::alerts;
use jobs::store::academic::{self, csv::CsvError, IngestError, Ingested, RowError, Rows};
use jobs::Settings;

use crate::auth::{Scope, Tenant};
use crate::error::ApiError;
use crate::state::AppState;

/// Most row errors listed in one answer (the count is always exact).
const MAX_LISTED_ERRORS: usize = 5_000;

pub fn router(settings: &Settings) -> Router<AppState> {
    Router::new()
        .route("/v1/academic/students", post(students))
        .route("/v1/academic/classes", post(classes))
        .route("/v1/academic/grades", post(grades))
        .route("/v1/academic/attendance", post(attendance))
        .route("/v1/academic/occurrences", post(occurrences))
        // 10,000 rows of JSON are larger than the API's general body limit.
        .layer(DefaultBodyLimit::max(settings.alerts.ingest_body_limit))
}

#[derive(OpenApi)]
#[openapi(
    paths(students, classes, grades, attendance, occurrences),
    components(schemas(IngestAnswer, RowError, StudentRow, GuardianRow, ClassRow, StaffRow, EnrollmentRow,
                       GradeRow, AttendanceRow, OccurrenceRow)),
    tags((name = "academic", description = "academic records: students, classes, grades, attendance, occurrences"))
)]
pub struct AcademicApi;

/// The answer to a written batch.
#[derive(Debug, Serialize, ToSchema)]
pub struct IngestAnswer {
    pub rows: usize,
    pub inserted: u64,
    pub updated: u64,
    /// Students whose records changed.
    pub students: usize,
    /// The `alerts.evaluate` job for them (null when none was needed or Redis was down).
    pub evaluation_job_id: Option<String>,
}

/// A student (JSON only).
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct StudentRow {
    /// Matrícula, unique per tenant.
    registration: String,
    name: String,
    /// `dd/mm/aaaa` or `aaaa-mm-dd`.
    birth_date: Option<String>,
    /// Default true (false when `left_on` is given).
    active: Option<bool>,
    left_on: Option<String>,
    /// When present, the student's full list of guardians.
    guardians: Option<Vec<GuardianRow>>,
}

#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct GuardianRow {
    /// Unique per student.
    name: String,
    relationship: Option<String>,
    email: Option<String>,
    /// E.164, or a Brazilian number (`(11) 99999-0000`).
    phone: Option<String>,
    push_token: Option<String>,
    /// email | sms | whatsapp | push, in order.
    preferred_channels: Option<Vec<String>>,
}

/// A class (JSON only).
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct ClassRow {
    code: String,
    name: String,
    year: i32,
    teacher: Option<StaffRow>,
    coordinator: Option<StaffRow>,
    enrollments: Option<Vec<EnrollmentRow>>,
}

#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct StaffRow {
    /// The school's id for the person, unique per tenant.
    code: String,
    name: String,
    email: Option<String>,
    phone: Option<String>,
    preferred_channels: Option<Vec<String>>,
}

#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct EnrollmentRow {
    registration: String,
    started_on: Option<String>,
    ended_on: Option<String>,
}

/// A grade (CSV headers: matricula, disciplina, ano, bimestre, avaliacao, nota, nota_maxima, data).
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct GradeRow {
    registration: String,
    /// Name (`Matemática`) or code (`matematica`).
    subject: String,
    year: i32,
    /// 1-6; 0 = the final grade.
    term: i32,
    /// Empty = the term's grade.
    assessment: Option<String>,
    /// A number or a string with a decimal comma (`"8,5"`).
    #[schema(value_type = f64)]
    grade: Value,
    /// Default 10.
    scale_max: Option<f64>,
    assessed_on: Option<String>,
}

/// A day (`date`, `present`, `justified`) or a period (`year`, `term`,
/// `classes_given` + `absences` and/or `attendance_pct`). CSV headers:
/// matricula, disciplina, data, presente, justificada, ano, bimestre, aulas, faltas, frequencia.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct AttendanceRow {
    registration: String,
    /// Absent = the whole school day / all subjects.
    subject: Option<String>,
    date: Option<String>,
    present: Option<bool>,
    justified: Option<bool>,
    year: Option<i32>,
    term: Option<i32>,
    classes_given: Option<i32>,
    absences: Option<i32>,
    attendance_pct: Option<f64>,
}

/// An occurrence (CSV headers: matricula, id, tipo, gravidade, descricao, data).
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct OccurrenceRow {
    registration: String,
    /// The school's id for it: the idempotency key.
    external_id: String,
    kind: String,
    /// 1 (low) - 5 (critical).
    severity: i32,
    description: Option<String>,
    date: String,
}

/// The body as rows: a JSON array, or (when `csv`) a CSV upload.
async fn rows(st: &AppState, req: Request, csv: bool) -> Result<Rows, ApiError> {
    let is_csv = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            let ct = ct.to_ascii_lowercase();
            ct.starts_with("text/csv") || ct.starts_with("application/csv")
        });
    let bytes = Bytes::from_request(req, st).await.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                "request body is over the ingestion size limit",
            )
            .with_details(json!({ "limit": st.settings.alerts.ingest_body_limit }))
        } else {
            ApiError::bad_request("unreadable_body", e.body_text())
        }
    })?;
    let rows = if is_csv {
        if !csv {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "this resource takes a JSON array",
            ));
        }
        crate::extract::refuse_nul(&bytes, "body")?;
        // Spreadsheets on Windows save Latin-1/Windows-1252: read it as such when it is not UTF-8.
        let text = match std::str::from_utf8(&bytes) {
            Ok(t) => t.to_string(),
            Err(_) => bytes.iter().map(|b| char::from(*b)).collect(),
        };
        Rows::from_csv(&text).map_err(csv_error)?
    } else {
        let values: Value = crate::extract::parse_json(&bytes)?;
        let Value::Array(values) = values else {
            return Err(ApiError::invalid_field(
                "invalid_body",
                "body",
                "expected a JSON array of rows",
            ));
        };
        Rows::from_json(values).map_err(invalid_rows)?
    };
    if rows.is_empty() {
        return Err(ApiError::invalid_field("invalid_body", "body", "no rows"));
    }
    let max = st.settings.alerts.ingest_max_rows;
    if rows.len() > max {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "too_many_rows",
            format!("{} rows; at most {max} per request", rows.len()),
        )
        .with_details(json!({ "rows": rows.len(), "max": max })));
    }
    Ok(rows)
}

fn csv_error(e: CsvError) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_csv",
        e.to_string(),
    )
    .with_details(json!({ "line": e.line }))
}

fn invalid_rows(mut errors: Vec<RowError>) -> ApiError {
    let mut rows: Vec<usize> = errors.iter().map(|e| e.row).collect();
    rows.dedup();
    let count = errors.len();
    let truncated = count > MAX_LISTED_ERRORS;
    errors.truncate(MAX_LISTED_ERRORS);
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_rows",
        format!("{} bad row(s); nothing was written", rows.len()),
    )
    .with_details(json!({ "bad_rows": rows.len(), "errors_total": count, "truncated": truncated, "errors": errors }))
}

/// Maps the store's outcome and enqueues the evaluation of the students touched.
async fn answer(
    st: &AppState,
    tenant: &Tenant,
    what: &str,
    r: Result<Ingested, IngestError>,
) -> Result<Json<IngestAnswer>, ApiError> {
    let done = match r {
        Ok(d) => d,
        Err(IngestError::Invalid(errors)) => return Err(invalid_rows(errors)),
        Err(IngestError::Db(e)) => return Err(e.into()),
    };
    let mut job_id = None;
    if !done.students.is_empty() {
        match st
            .engine
            .push(alerts::evaluate_job(tenant.id, done.students.clone()))
            .await
        {
            Ok(p) => job_id = Some(p.id),
            // The records are written; the daily evaluation will catch up.
            Err(e) => {
                tracing::warn!(tenant_id = %tenant.id, error = %e, "could not enqueue alerts.evaluate")
            }
        }
    }
    tracing::info!(tenant_id = %tenant.id, what, rows = done.rows, inserted = done.inserted, updated = done.updated,
        "academic records ingested");
    Ok(Json(IngestAnswer {
        rows: done.rows,
        inserted: done.inserted,
        updated: done.updated,
        students: done.students.len(),
        evaluation_job_id: job_id,
    }))
}

/// Upsert students (by registration) with their guardians.
#[utoipa::path(post, path = "/v1/academic/students", tag = "academic", security(("bearer" = [])),
    request_body(content = Vec<StudentRow>, content_type = "application/json"),
    responses(
        (status = 200, body = IngestAnswer),
        (status = 400, description = "malformed JSON", body = crate::error::ErrorBody),
        (status = 413, description = "body over `alerts.ingest_body_limit`", body = crate::error::ErrorBody),
        (status = 422, description = "`invalid_rows`: every bad row in `details.errors`; nothing written", body = crate::error::ErrorBody),
    ))]
pub async fn students(
    State(st): State<AppState>,
    tenant: Tenant,
    req: Request,
) -> Result<Json<IngestAnswer>, ApiError> {
    tenant.require(Scope::JobsWrite)?;
    let rows = rows(&st, req, false).await?;
    let r = academic::students::ingest(&st.pool, tenant.id, &rows).await;
    answer(&st, &tenant, "students", r).await
}

/// Upsert classes (by code) with teacher, coordinator and enrollments.
#[utoipa::path(post, path = "/v1/academic/classes", tag = "academic", security(("bearer" = [])),
    request_body(content = Vec<ClassRow>, content_type = "application/json"),
    responses(
        (status = 200, body = IngestAnswer),
        (status = 422, description = "`invalid_rows`; nothing written", body = crate::error::ErrorBody),
    ))]
pub async fn classes(
    State(st): State<AppState>,
    tenant: Tenant,
    req: Request,
) -> Result<Json<IngestAnswer>, ApiError> {
    tenant.require(Scope::JobsWrite)?;
    let rows = rows(&st, req, false).await?;
    let r = academic::classes::ingest(&st.pool, tenant.id, &rows).await;
    answer(&st, &tenant, "classes", r).await
}

/// Upsert grades: a JSON array or a CSV upload (`text/csv`).
#[utoipa::path(post, path = "/v1/academic/grades", tag = "academic", security(("bearer" = [])),
    request_body(content(
        (Vec<GradeRow> = "application/json"),
        (String = "text/csv", example = "matricula;disciplina;ano;bimestre;nota\n2026001;Matemática;2026;1;5,5\n"),
    )),
    responses(
        (status = 200, body = IngestAnswer),
        (status = 422, description = "`invalid_rows` (every bad row) or `invalid_csv`; nothing written", body = crate::error::ErrorBody),
    ))]
pub async fn grades(
    State(st): State<AppState>,
    tenant: Tenant,
    req: Request,
) -> Result<Json<IngestAnswer>, ApiError> {
    tenant.require(Scope::JobsWrite)?;
    let rows = rows(&st, req, true).await?;
    let r = academic::grades::ingest(&st.pool, tenant.id, &rows).await;
    answer(&st, &tenant, "grades", r).await
}

/// Upsert attendance (days and/or periods): a JSON array or a CSV upload.
#[utoipa::path(post, path = "/v1/academic/attendance", tag = "academic", security(("bearer" = [])),
    request_body(content(
        (Vec<AttendanceRow> = "application/json"),
        (String = "text/csv", example = "matricula;data;presente\n2026001;02/03/2026;F\n"),
    )),
    responses(
        (status = 200, body = IngestAnswer),
        (status = 422, description = "`invalid_rows` or `invalid_csv`; nothing written", body = crate::error::ErrorBody),
    ))]
pub async fn attendance(
    State(st): State<AppState>,
    tenant: Tenant,
    req: Request,
) -> Result<Json<IngestAnswer>, ApiError> {
    tenant.require(Scope::JobsWrite)?;
    let rows = rows(&st, req, true).await?;
    let r = academic::attendance::ingest(&st.pool, tenant.id, &rows).await;
    answer(&st, &tenant, "attendance", r).await
}

/// Upsert occurrences (by `external_id`): a JSON array or a CSV upload.
#[utoipa::path(post, path = "/v1/academic/occurrences", tag = "academic", security(("bearer" = [])),
    request_body(content(
        (Vec<OccurrenceRow> = "application/json"),
        (String = "text/csv", example = "matricula;id;tipo;gravidade;data\n2026001;OC-1;briga;4;10/03/2026\n"),
    )),
    responses(
        (status = 200, body = IngestAnswer),
        (status = 422, description = "`invalid_rows` or `invalid_csv`; nothing written", body = crate::error::ErrorBody),
    ))]
pub async fn occurrences(
    State(st): State<AppState>,
    tenant: Tenant,
    req: Request,
) -> Result<Json<IngestAnswer>, ApiError> {
    tenant.require(Scope::JobsWrite)?;
    let rows = rows(&st, req, true).await?;
    let r = academic::occurrences::ingest(&st.pool, tenant.id, &rows).await;
    answer(&st, &tenant, "occurrences", r).await
}

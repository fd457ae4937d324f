//! A person's review of a held document (`needs_review`, issue 14): approve
//! the draft — optionally correcting fields first — or reject it.
//!
//! 1. The document is locked (`select … for update`) in one transaction: a
//!    second review of the same document waits, then finds it no longer
//!    `needs_review` ([`ReviewError::NotHeld`]) — a double approval writes once.
//! 2. The corrections ([`Corrections`], `corrections`) are checked strictly and merged into
//!    the draft: header fields, and per subject (found by its code, in the
//!    histórico year given) the name (the code follows it through the
//!    lexicon), term grades, média, faltas, frequência, situação, or the whole
//!    subject dropped. Every problem names its path (`corrections.subjects[0].terms[1].grade`).
//! 3. The merged draft must be writable as it stands ([`blocking`]): no grade
//!    off the tenant's scale, no attendance outside 0-100, no bad CNPJ, no
//!    subject read twice or without a code, a student to write to and a year.
//!    The other reasons the draft was held for (a média unlike its terms, a
//!    subject outside the lexicon, a low OCR confidence...) are the
//!    reviewer's call: they are kept in the trail as `remaining_reasons`.
//! 4. Approve: [`records::upsert`] — the very function an accepted
//!    extraction uses — then `succeeded` with the corrected result, all in
//!    the transaction; the caller queues `alerts.evaluate` after the commit
//!    ([`super::queue_alerts`]). Reject: `rejected`, final, nothing written.
//!
//! The trail, in the document's `review` column: action, who, when, the
//! note, the corrections as posted, each field changed (`from`, `to`), the
//! reasons the draft was held for, and the draft as the reader left it.

mod corrections;
mod fields;

pub use corrections::{apply, Corrections, Number, SchoolFix, StudentFix, SubjectFix, TermFix};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::ToSchema;
use uuid::Uuid;

use documents::{Extraction, Warning};

use super::records::{self, RecordsOutcome};
use super::sql::{self, Document};

/// Longest note kept with a review.
pub const MAX_NOTE: usize = 2_000;

/// `approve` or `reject`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Approve,
    Reject,
}

/// Body of `POST /v1/documents/{id}/review`.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewRequest {
    pub action: Action,
    /// Only with `approve`.
    #[serde(default)]
    pub corrections: Option<Corrections>,
    /// Why (kept in the trail), at most 2,000 characters.
    #[serde(default)]
    pub note: Option<String>,
}

/// One field the reviewer changed.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct Change {
    /// Path in the result (`subjects[1].terms[0].grade`).
    pub field: String,
    pub from: Value,
    pub to: Value,
}

/// A problem with the request, on its path (`corrections.school.cnpj`, `draft.year`).
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    #[error("no document {0}")]
    NotFound(Uuid),
    /// Only a `needs_review` document can be reviewed.
    #[error("the document is {status}, not needs_review")]
    NotHeld { status: String },
    #[error("{}: {}", .0[0].field, .0[0].message)]
    Invalid(Vec<FieldError>),
    #[error("postgres: {0}")]
    Db(#[from] sqlx::Error),
}

/// What a review did.
#[derive(Clone, Debug, Serialize)]
pub struct Reviewed {
    pub document: Document,
    pub changes: Vec<Change>,
    /// Approve: what was written.
    pub records: Option<RecordsOutcome>,
}

pub(crate) fn err(field: impl Into<String>, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.into(),
        message: message.into(),
    }
}

/// Checks the request alone (before any row is read).
pub fn check_request(r: &ReviewRequest) -> Result<(), ReviewError> {
    if r.action == Action::Reject && r.corrections.is_some() {
        return Err(ReviewError::Invalid(vec![err(
            "corrections",
            "only with action approve",
        )]));
    }
    if r.note
        .as_deref()
        .is_some_and(|n| n.chars().count() > MAX_NOTE)
    {
        return Err(ReviewError::Invalid(vec![err(
            "note",
            format!("at most {MAX_NOTE} characters"),
        )]));
    }
    Ok(())
}

/// Reviews document `id` of `tenant` (steps in the module doc). `actor` is
/// who (`tenant:<id>`, `ops:<email>`); `scale_max` the tenant's grade scale.
pub async fn review(
    pool: &sqlx::PgPool,
    tenant: Uuid,
    id: Uuid,
    req: &ReviewRequest,
    actor: &str,
    scale_max: f64,
) -> Result<Reviewed, ReviewError> {
    check_request(req)?;
    let mut tx = pool.begin().await?;
    let doc = sql::lock(&mut tx, tenant, id)
        .await?
        .ok_or(ReviewError::NotFound(id))?;
    if doc.status != "needs_review" {
        return Err(ReviewError::NotHeld { status: doc.status });
    }
    let held: Value = doc.result.clone().unwrap_or(Value::Null);
    let mut draft: Extraction = serde_json::from_value(held.clone()).map_err(|e| {
        ReviewError::Invalid(vec![err(
            "draft",
            format!("the held draft is unreadable: {e}"),
        )])
    })?;
    let mut trail = json!({
        "action": req.action,
        "by": actor,
        "at": chrono::Utc::now(),
        "note": req.note,
        "reasons": draft.review_reasons,
        "draft": held,
    });
    let (approved, changes, outcome) = match req.action {
        Action::Reject => (None, Vec::new(), None),
        Action::Approve => {
            let changes = match &req.corrections {
                Some(c) => apply(&mut draft, c, scale_max).map_err(ReviewError::Invalid)?,
                None => Vec::new(),
            };
            let blockers = blocking(&draft, doc.student_id.is_some(), scale_max);
            if !blockers.is_empty() {
                return Err(ReviewError::Invalid(blockers));
            }
            let remaining = documents::review::assess(&draft, scale_max);
            draft.needs_review = false;
            draft.review_reasons = Vec::new();
            let outcome =
                records::upsert(&mut tx, tenant, id, doc.student_id, &draft, scale_max).await?;
            let mut result = serde_json::to_value(&draft).unwrap_or(Value::Null);
            // What the job added beside the extraction stays (`source: llm`...).
            for k in ["source", "llm", "rules_draft"] {
                if let Some(v) = held.get(k) {
                    result[k] = v.clone();
                }
            }
            trail["corrections"] = serde_json::to_value(&req.corrections).unwrap_or_default();
            trail["changes"] = serde_json::to_value(&changes).unwrap_or_default();
            trail["remaining_reasons"] = serde_json::to_value(&remaining).unwrap_or_default();
            trail["records"] = serde_json::to_value(&outcome).unwrap_or_default();
            (Some(result), changes, Some(outcome))
        }
    };
    let student = outcome.as_ref().and_then(|o| o.student_id);
    let moved = sql::reviewed(
        &mut *tx,
        id,
        approved.as_ref().map(|r| (r, student)),
        &trail,
        actor,
    )
    .await?;
    if !moved {
        // Cannot happen under the row lock; never commit a half review.
        tx.rollback().await?;
        return Err(ReviewError::NotHeld {
            status: "changed".into(),
        });
    }
    let document = sql::lock(&mut tx, tenant, id)
        .await?
        .ok_or(ReviewError::NotFound(id))?;
    tx.commit().await?;
    Ok(Reviewed {
        document,
        changes,
        records: outcome,
    })
}

/// Problems that would make the approved draft write something wrong or
/// nothing at all; paths start with `draft.`.
pub fn blocking(x: &Extraction, has_student_hint: bool, scale_max: f64) -> Vec<FieldError> {
    let mut out = Vec::new();
    if !has_student_hint
        && x.student
            .registration
            .as_deref()
            .is_none_or(|r| r.trim().is_empty())
    {
        out.push(err(
            "draft.student.registration",
            "no matrícula and the upload named no student_id: the records would belong to nobody; correct student.registration",
        ));
    }
    if !x.subjects.is_empty() && x.year.is_none() {
        out.push(err("draft.year", "no school year; correct year"));
    }
    if let Some(c) = &x.school.cnpj {
        if !documents::validate::cnpj_ok(c) {
            out.push(err(
                "draft.school.cnpj",
                format!("{c:?} is not a valid CNPJ; correct or clear school.cnpj"),
            ));
        }
    }
    let mut tables = vec![("draft.subjects".to_string(), &x.subjects)];
    for (i, y) in x.years.iter().enumerate() {
        if y.year.is_none() && !y.subjects.is_empty() {
            out.push(err(
                format!("draft.years[{i}].year"),
                "a school year without its year",
            ));
        }
        tables.push((format!("draft.years[{i}].subjects"), &y.subjects));
    }
    for (path, subjects) in tables {
        let mut seen = std::collections::BTreeSet::new();
        for (i, s) in subjects.iter().enumerate() {
            let at = format!("{path}[{i}]");
            if !records::valid_code(&s.code) {
                out.push(err(
                    format!("{at}.code"),
                    format!("{:?} is not a subject code; rename or remove it", s.code),
                ));
            } else if !seen.insert(s.code.as_str()) {
                out.push(err(
                    format!("{at}.code"),
                    format!("{} is in this table twice; remove one", s.code),
                ));
            }
            for (j, t) in s.terms.iter().enumerate() {
                if let Some(g) = t.grade {
                    if !(0.0..=scale_max).contains(&g) {
                        out.push(err(
                            format!("{at}.terms[{j}].grade"),
                            format!("{g} is off the scale 0-{scale_max}"),
                        ));
                    }
                }
            }
            if let Some(g) = s.final_grade {
                if !(0.0..=scale_max).contains(&g) {
                    out.push(err(
                        format!("{at}.final_grade"),
                        format!("{g} is off the scale 0-{scale_max}"),
                    ));
                }
            }
            if let Some(p) = s.attendance_pct {
                if !(0.0..=100.0).contains(&p) {
                    out.push(err(
                        format!("{at}.attendance_pct"),
                        format!("{p} is outside 0-100"),
                    ));
                }
            }
        }
    }
    out
}

/// The reasons of the draft, for a reviewer's page: field → messages.
pub fn reasons_by_field(x: &Extraction) -> std::collections::BTreeMap<String, Vec<String>> {
    let mut m: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for Warning { field, message } in &x.review_reasons {
        m.entry(field.clone()).or_default().push(message.clone());
    }
    m
}

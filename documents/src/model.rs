//! The extraction result and its error: the JSON stored on the document,
//! returned by `GET /v1/documents/{id}` and as the `documents.extract` job's
//! result, and printed by `worker extract`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// How the text was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// Every page had usable text.
    Text,
    /// Every page was OCR'd.
    Ocr,
    /// Some pages text, some OCR.
    Mixed,
}

/// What kind of document it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DocType {
    /// Report card: one school year, grades per term.
    Boletim,
    /// Transcript: one table per school year.
    Historico,
    /// Could not tell.
    Unknown,
}

/// A problem with one field; never a silent drop.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Warning {
    /// JSON path of the field (`subjects[2].terms[1].grade`, `school.cnpj`).
    pub field: String,
    pub message: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Student {
    pub name: Option<String>,
    /// Matrícula.
    pub registration: Option<String>,
    /// ISO date (`2011-03-15`) from dd/mm/aaaa.
    pub birth_date: Option<String>,
    pub class_name: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct School {
    pub name: Option<String>,
    /// Digits only (14); a warning says when its check digits fail.
    pub cnpj: Option<String>,
}

/// One term's grade (`1º Bim`, `B2`, `2º Trim`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TermGrade {
    /// 1-based term number.
    pub term: u8,
    pub grade: Option<f64>,
    /// The text as read (`8,5`).
    pub raw: Option<String>,
    /// 0-100: OCR confidence of this cell; 100 for text PDFs.
    pub confidence: Option<f32>,
}

/// One subject's line of a boletim or of one year of a histórico.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SubjectResult {
    /// Canonical name (`Matemática`), or the original when not in the list.
    pub name: String,
    /// As written in the document (`MATEMATICA`, `Mat.`).
    pub name_original: String,
    /// Canonical code: the lower-case ASCII slug of `name` (`matematica`,
    /// `lingua-portuguesa`, `1-ano`), at most 63 chars (`ptbr::slug`).
    pub code: String,
    pub terms: Vec<TermGrade>,
    pub final_grade: Option<f64>,
    /// The recovery exam's grade (`Rec.`, `Recuperação`, `Exame Final`),
    /// when the document has such a column; `final_grade` is then the grade
    /// after recovery when the document prints one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_grade: Option<f64>,
    pub absences: Option<u32>,
    /// 0-100.
    pub attendance_pct: Option<f64>,
    /// As written, normalised to lower case (`aprovado`, `reprovado`, `recuperação`, `cursando`).
    pub status: Option<String>,
    /// Workload in hours (históricos' `CH`), when given.
    pub workload_hours: Option<u32>,
}

/// One school year of a histórico.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct YearRecord {
    pub year: Option<i32>,
    /// The grade/series as written (`6º ano`).
    pub grade_level: Option<String>,
    pub school_name: Option<String>,
    pub subjects: Vec<SubjectResult>,
    pub overall_attendance_pct: Option<f64>,
    pub status: Option<String>,
}

/// Per-page facts: how it was read and how sure we are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PageInfo {
    /// 1-based.
    pub page: u32,
    pub method: Method,
    /// 0-100 (100 for text pages).
    pub confidence: f32,
    pub chars: u32,
    /// Degrees the page was turned before OCR (0, 90, 180, 270 plus deskew).
    pub rotation: f32,
}

/// The whole result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Extraction {
    /// Filled in by the job (the extractor does not know it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_id: Option<String>,
    pub doc_type: DocType,
    pub pages: u32,
    pub method: Method,
    /// 0-100: mean of the pages' confidence.
    pub confidence: f32,
    pub student: Student,
    pub school: School,
    /// The boletim's year (or the histórico's last year).
    pub year: Option<i32>,
    /// Boletim subjects (empty for a histórico).
    pub subjects: Vec<SubjectResult>,
    /// Histórico years (empty for a boletim).
    pub years: Vec<YearRecord>,
    pub overall_attendance_pct: Option<f64>,
    pub warnings: Vec<Warning>,
    pub page_info: Vec<PageInfo>,
    /// Precision first: `true` when this result must not be written to the
    /// academic records until a person has checked it; the document's status
    /// is then `needs_review` ([`crate::review::assess`]).
    #[serde(default)]
    pub needs_review: bool,
    /// Why it needs review, each on a field's JSON path.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub review_reasons: Vec<Warning>,
}

/// Why a file could not be extracted: the job fails with `code: message`
/// and the document keeps both.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error, ToSchema)]
#[error("{code}: {message}")]
pub struct ExtractError {
    /// `not_pdf | empty | corrupt | encrypted | too_many_pages |
    /// decompression_bomb | needs_ocr | ocr_failed | not_a_transcript |
    /// timeout | internal`
    pub code: String,
    pub message: String,
}

impl ExtractError {
    pub fn new(code: &str, message: impl Into<String>) -> ExtractError {
        ExtractError {
            code: code.to_string(),
            message: message.into(),
        }
    }
}

/// What `worker extract` prints on stdout: exactly one of the two.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExtractOutput {
    Ok(Box<Extraction>),
    Error(ExtractError),
}

//! What a report request is (type, format, parameters), how it is checked
//! (each error names its field, for the API's 422) and normalised (so an
//! identical request hashes the same), and the report row as the API shows it.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sha2::Digest;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::kinds::FieldError;

/// The report types Tarefa renders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReportType {
    /// Boletim: one student, or every student of a class (a page each).
    StudentReportCard,
    /// A class's grade distribution, term averages, attendance ranking, students at risk.
    ClassReport,
    /// The notification outbox over a period: funnel, failures, timeline.
    CampaignReport,
    /// Bookings per resource and day, weekday × hour heatmap, cancellations.
    OccupancyReport,
}

impl ReportType {
    pub const ALL: [ReportType; 4] = [
        ReportType::StudentReportCard,
        ReportType::ClassReport,
        ReportType::CampaignReport,
        ReportType::OccupancyReport,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReportType::StudentReportCard => "student_report_card",
            ReportType::ClassReport => "class_report",
            ReportType::CampaignReport => "campaign_report",
            ReportType::OccupancyReport => "occupancy_report",
        }
    }

    pub fn parse(s: &str) -> Option<ReportType> {
        ReportType::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// The file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    Pdf,
    Xlsx,
    Csv,
    /// One PDF per student in a ZIP (report cards of a class only).
    Zip,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Pdf => "pdf",
            Format::Xlsx => "xlsx",
            Format::Csv => "csv",
            Format::Zip => "zip",
        }
    }

    pub fn parse(s: &str) -> Option<Format> {
        [Format::Pdf, Format::Xlsx, Format::Csv, Format::Zip]
            .into_iter()
            .find(|f| f.as_str() == s)
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Pdf => "application/pdf",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Format::Csv => "text/csv; charset=utf-8",
            Format::Zip => "application/zip",
        }
    }
}

/// `POST /v1/reports`. `params` depends on `type`:
/// - `student_report_card`: `{"year": 2026, "class": "9A-2026"}` (every
///   student of the class) or `{"year": 2026, "student": "<matrícula>"}`,
///   optional `"observations"` (printed on each card);
/// - `class_report`: `{"year": 2026, "class": "9A-2026"}`;
/// - `campaign_report`: `{"campaign": "<campaign id>"}` (one WhatsApp campaign:
///   its funnel, failures by Meta code, timeline and cost), or
///   `{"from": "2026-11-01", "to": "2026-11-30"}`, optional `"channel"` (the
///   notification outbox over a period);
/// - `occupancy_report`: `{"from": "2026-11-01", "to": "2026-11-30"}`, optional `"resource"`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportRequest {
    #[serde(rename = "type")]
    #[schema(value_type = String, example = "student_report_card")]
    pub report_type: String,
    /// pdf | xlsx | csv | zip (zip: report cards of a class, one PDF each)
    #[schema(value_type = String, example = "pdf")]
    pub format: String,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub params: serde_json::Value,
}

/// The checked, normalised parameters (stored in `reports.params`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Params {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub year: Option<i32>,
    /// Class code (`classes.code`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class: Option<String>,
    /// Student registration (`students.registration`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub student: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observations: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// `campaign_report` of one campaign (`campaigns.id`) instead of a period.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub campaign: Option<Uuid>,
}

/// A request that passed every check.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidRequest {
    pub report_type: ReportType,
    pub format: Format,
    pub params: Params,
}

/// Longest period a campaign or occupancy report may cover.
pub const MAX_PERIOD_DAYS: i64 = 366;
const CHANNELS: [&str; 5] = ["email", "push", "sms", "whatsapp", "webhook"];

fn missing(field: &str) -> FieldError {
    FieldError::new(field, "required for this report type")
}

fn not_allowed(field: &str) -> FieldError {
    FieldError::new(field, "not a parameter of this report type")
}

fn code(field: &str, v: &Option<String>) -> Result<(), FieldError> {
    match v {
        Some(s) if s.trim().is_empty() || s.len() > 64 => {
            Err(FieldError::new(field, "must be 1-64 characters"))
        }
        _ => Ok(()),
    }
}

impl ReportRequest {
    /// Checks the request; the error's path is the JSON field (`params.year`).
    pub fn validate(&self) -> Result<ValidRequest, FieldError> {
        let report_type = ReportType::parse(&self.report_type).ok_or_else(|| {
            FieldError::new(
                "type",
                "must be student_report_card, class_report, campaign_report or occupancy_report",
            )
        })?;
        let format = Format::parse(&self.format)
            .ok_or_else(|| FieldError::new("format", "must be pdf, xlsx, csv or zip"))?;
        let raw = if self.params.is_null() {
            serde_json::json!({})
        } else {
            self.params.clone()
        };
        let params: Params = serde_path_to_error::deserialize(&raw).map_err(|e| {
            let path = e.path().to_string();
            let field = if path == "." {
                "params".to_string()
            } else {
                format!("params.{path}")
            };
            FieldError::new(field, e.inner().to_string())
        })?;
        let p = check_params(report_type, format, params)?;
        Ok(ValidRequest {
            report_type,
            format,
            params: p,
        })
    }
}

fn check_params(t: ReportType, format: Format, mut p: Params) -> Result<Params, FieldError> {
    code("params.class", &p.class)?;
    code("params.student", &p.student)?;
    code("params.resource", &p.resource)?;
    if let Some(o) = &p.observations {
        if o.chars().count() > 2000 {
            return Err(FieldError::new(
                "params.observations",
                "at most 2000 characters",
            ));
        }
    }
    match t {
        ReportType::StudentReportCard | ReportType::ClassReport => {
            let year = p.year.ok_or_else(|| missing("params.year"))?;
            if !(1900..=2200).contains(&year) {
                return Err(FieldError::new(
                    "params.year",
                    "must be between 1900 and 2200",
                ));
            }
            for (f, set) in [
                ("params.from", p.from.is_some()),
                ("params.to", p.to.is_some()),
                ("params.channel", p.channel.is_some()),
                ("params.resource", p.resource.is_some()),
                ("params.campaign", p.campaign.is_some()),
            ] {
                if set {
                    return Err(not_allowed(f));
                }
            }
            if t == ReportType::ClassReport {
                if p.class.is_none() {
                    return Err(missing("params.class"));
                }
                if p.student.is_some() {
                    return Err(not_allowed("params.student"));
                }
                if p.observations.is_some() {
                    return Err(not_allowed("params.observations"));
                }
                if format == Format::Zip {
                    return Err(FieldError::new(
                        "format",
                        "zip is only for report cards of a class",
                    ));
                }
            } else {
                match (&p.class, &p.student) {
                    (None, None) => {
                        return Err(FieldError::new("params.class", "give a class or a student"))
                    }
                    (Some(_), Some(_)) => {
                        return Err(FieldError::new(
                            "params.student",
                            "give a class or a student, not both",
                        ))
                    }
                    (None, Some(_)) if format == Format::Zip => {
                        return Err(FieldError::new("format", "zip is only for a whole class"))
                    }
                    _ => {}
                }
            }
        }
        ReportType::CampaignReport if p.campaign.is_some() => {
            if format == Format::Zip {
                return Err(FieldError::new(
                    "format",
                    "zip is only for report cards of a class",
                ));
            }
            for (f, set) in [
                ("params.year", p.year.is_some()),
                ("params.class", p.class.is_some()),
                ("params.student", p.student.is_some()),
                ("params.observations", p.observations.is_some()),
                ("params.resource", p.resource.is_some()),
                ("params.from", p.from.is_some()),
                ("params.to", p.to.is_some()),
                ("params.channel", p.channel.is_some()),
            ] {
                if set {
                    return Err(FieldError::new(f, "not a parameter of a campaign's report"));
                }
            }
        }
        ReportType::CampaignReport | ReportType::OccupancyReport => {
            if p.campaign.is_some() {
                return Err(not_allowed("params.campaign"));
            }
            let from = p.from.ok_or_else(|| missing("params.from"))?;
            let to = p.to.ok_or_else(|| missing("params.to"))?;
            if to < from {
                return Err(FieldError::new(
                    "params.to",
                    "must not be before params.from",
                ));
            }
            if (to - from).num_days() >= MAX_PERIOD_DAYS {
                return Err(FieldError::new(
                    "params.to",
                    format!("the period may cover at most {MAX_PERIOD_DAYS} days"),
                ));
            }
            if format == Format::Zip {
                return Err(FieldError::new(
                    "format",
                    "zip is only for report cards of a class",
                ));
            }
            for (f, set) in [
                ("params.year", p.year.is_some()),
                ("params.class", p.class.is_some()),
                ("params.student", p.student.is_some()),
                ("params.observations", p.observations.is_some()),
            ] {
                if set {
                    return Err(not_allowed(f));
                }
            }
            if t == ReportType::CampaignReport {
                if p.resource.is_some() {
                    return Err(not_allowed("params.resource"));
                }
                if let Some(c) = &p.channel {
                    if !CHANNELS.contains(&c.as_str()) {
                        return Err(FieldError::new(
                            "params.channel",
                            "must be email, push, sms, whatsapp or webhook",
                        ));
                    }
                }
            } else if p.channel.is_some() {
                return Err(not_allowed("params.channel"));
            }
        }
    }
    p.class = p.class.map(|s| s.trim().to_string());
    p.student = p.student.map(|s| s.trim().to_string());
    p.observations = p.observations.map(|s| s.trim().to_string());
    Ok(p)
}

impl ValidRequest {
    /// Same type, format and parameters ⇒ same hash (the dedup key).
    pub fn hash(&self) -> String {
        let canon = serde_json::json!({
            "type": self.report_type.as_str(),
            "format": self.format.as_str(),
            // struct fields serialise in a fixed order
            "params": self.params,
        });
        hex::encode(sha2::Sha256::digest(canon.to_string().as_bytes()))
    }
}

/// A report as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct Report {
    pub id: Uuid,
    #[serde(skip)]
    pub tenant_id: Uuid,
    #[serde(rename = "type")]
    pub report_type: String,
    pub format: String,
    #[schema(value_type = Object)]
    pub params: serde_json::Value,
    /// queued | running | done | failed | cancelled
    pub status: String,
    pub progress_done: i32,
    pub progress_total: i32,
    pub pages: Option<i32>,
    pub size_bytes: Option<i64>,
    #[serde(skip)]
    pub blob_key: Option<String>,
    /// The download's file name (`boletins-9A-2026.pdf`).
    pub file_name: Option<String>,
    pub error: Option<String>,
    pub job_id: Option<String>,
    /// Scheduled reports: who gets the file by e-mail.
    pub deliver_to: Vec<String>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl Report {
    pub fn kind(&self) -> Option<ReportType> {
        ReportType::parse(&self.report_type)
    }
    pub fn file_format(&self) -> Option<Format> {
        Format::parse(&self.format)
    }
    pub fn params(&self) -> Params {
        serde_json::from_value(self.params.clone()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn req(t: &str, f: &str, p: serde_json::Value) -> Result<ValidRequest, FieldError> {
        ReportRequest {
            report_type: t.into(),
            format: f.into(),
            params: p,
        }
        .validate()
    }

    #[test]
    fn each_bad_field_is_named() {
        let e = |t, f, p| req(t, f, p).unwrap_err().path;
        assert_eq!(e("x", "pdf", json!({})), "type");
        assert_eq!(e("class_report", "doc", json!({})), "format");
        assert_eq!(
            e("class_report", "pdf", json!({"class": "9A"})),
            "params.year"
        );
        assert_eq!(
            e("class_report", "pdf", json!({"year": 2026})),
            "params.class"
        );
        assert_eq!(
            e("class_report", "pdf", json!({"year": "x", "class": "9A"})),
            "params.year"
        );
        assert_eq!(
            e(
                "class_report",
                "pdf",
                json!({"year": 2026, "class": "9A", "bogus": 1})
            ),
            "params.bogus"
        );
        assert_eq!(
            e("student_report_card", "pdf", json!({"year": 2026})),
            "params.class"
        );
        assert_eq!(
            e(
                "student_report_card",
                "zip",
                json!({"year": 2026, "student": "1"})
            ),
            "format"
        );
        assert_eq!(
            e(
                "campaign_report",
                "csv",
                json!({"from": "2026-11-02", "to": "2026-11-01"})
            ),
            "params.to"
        );
        assert_eq!(
            e(
                "campaign_report",
                "csv",
                json!({"from": "2026-11-02", "to": "2026-11-09", "channel": "fax"})
            ),
            "params.channel"
        );
        assert_eq!(
            e(
                "occupancy_report",
                "csv",
                json!({"from": "02/11/2026", "to": "2026-11-09"})
            ),
            "params.from"
        );
        assert_eq!(
            e(
                "occupancy_report",
                "xlsx",
                json!({"from": "2025-01-01", "to": "2026-11-09"})
            ),
            "params.to"
        );
    }

    #[test]
    fn identical_requests_hash_the_same() {
        let a = req(
            "class_report",
            "pdf",
            json!({"year": 2026, "class": " 9A "}),
        )
        .unwrap();
        let b = req("class_report", "pdf", json!({"class": "9A", "year": 2026})).unwrap();
        let c = req("class_report", "xlsx", json!({"class": "9A", "year": 2026})).unwrap();
        assert_eq!(a.hash(), b.hash());
        assert_ne!(a.hash(), c.hash());
    }
}

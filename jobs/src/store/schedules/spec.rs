//! What a schedule is made of, checked before it is stored: the cron
//! expression (with seconds), the IANA timezone, the kind and its payload.
//!
//! It lives in `jobs` rather than in the `scheduler` crate so that `api-lite`
//! (422 naming the field) and the scheduler (loading `config/schedules.toml`)
//! share one set of rules; the next-fire math stays in `scheduler::cron`.

use std::str::FromStr;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::kinds::{FieldError, Registry};
use crate::store::tenants;

/// Longest schedule name, in characters.
pub const NAME_MAX_CHARS: usize = 100;

/// What to do with ticks that passed while no scheduler was running.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum CatchUp {
    /// Missed ticks are dropped; the schedule resumes at its next tick.
    #[default]
    None,
    /// The single most recent missed tick is enqueued, the older ones are dropped.
    Last,
}

impl CatchUp {
    pub fn as_str(self) -> &'static str {
        match self {
            CatchUp::None => "none",
            CatchUp::Last => "last",
        }
    }

    pub fn parse(s: &str) -> Option<CatchUp> {
        match s {
            "none" => Some(CatchUp::None),
            "last" => Some(CatchUp::Last),
            _ => None,
        }
    }
}

impl TryFrom<String> for CatchUp {
    type Error = String;
    fn try_from(s: String) -> Result<CatchUp, String> {
        CatchUp::parse(&s).ok_or_else(|| format!("unknown catch_up {s:?}"))
    }
}

/// A schedule as a caller writes it (API body, `[[schedule]]` in `config/schedules.toml`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleSpec {
    /// Unique per tenant, 1-100 characters (`relatorio-diario`, `Alertas de frequência`).
    pub name: String,
    /// `sec min hour day-of-month month day-of-week [year]`, e.g. `0 30 7 * * Mon-Fri`.
    /// Day-of-week numbers run 1 = Sunday … 7 = Saturday; prefer names (`Mon`).
    /// `@daily`, `@hourly`, `@weekly`, `@monthly`, `@yearly` are accepted too.
    pub cron: String,
    /// IANA zone the expression is read in; default: the tenant's zone
    /// (`America/Sao_Paulo` for file schedules).
    #[serde(default)]
    pub timezone: Option<String>,
    /// Job kind to enqueue, e.g. `diag.noop`.
    pub kind: String,
    /// The job's payload, checked against the kind's schema.
    #[serde(default = "empty_object")]
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
    #[serde(default)]
    pub catch_up: CatchUp,
}

fn empty_object() -> serde_json::Value {
    serde_json::Value::Object(Default::default())
}

fn enabled_by_default() -> bool {
    true
}

impl ScheduleSpec {
    /// Checks every field; the error's `path` names the first bad one
    /// (`name`, `cron`, `timezone`, `kind`, `payload.<field>`).
    pub fn validate(&self, registry: &Registry) -> Result<(), FieldError> {
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > NAME_MAX_CHARS || name != self.name {
            return Err(FieldError::new(
                "name",
                format!("must be 1-{NAME_MAX_CHARS} characters without surrounding spaces"),
            ));
        }
        if self.name.chars().any(char::is_control) {
            return Err(FieldError::new(
                "name",
                "must not contain control characters",
            ));
        }
        parse_cron(&self.cron).map_err(|m| FieldError::new("cron", m))?;
        if let Some(tz) = &self.timezone {
            tenants::parse_timezone(tz).map_err(|m| FieldError::new("timezone", m))?;
        }
        let kind = registry
            .get(&self.kind)
            .ok_or_else(|| FieldError::new("kind", format!("unknown job kind {:?}", self.kind)))?;
        // serde reads a struct from an array too (`[null, null]`): the API documents an object.
        if !self.payload.is_object() {
            return Err(FieldError::new("payload", "must be a JSON object"));
        }
        kind.validate(&self.payload)
    }

    /// The zone to store: the spec's own, else `default` (the tenant's zone).
    pub fn timezone_or<'a>(&'a self, default: &'a str) -> &'a str {
        self.timezone.as_deref().unwrap_or(default)
    }
}

/// Parses a cron expression with a seconds field: 6 fields, or 7 with a
/// year, or an `@shorthand`. Classic 5-field crontab lines are refused
/// rather than silently shifted by one field.
pub fn parse_cron(expr: &str) -> Result<::cron::Schedule, String> {
    let expr = expr.trim();
    let fields = expr.split_whitespace().count();
    if !expr.starts_with('@') && !(6..=7).contains(&fields) {
        return Err(format!(
            "expected 6 or 7 fields `sec min hour day month weekday [year]`, got {fields} \
             (a 5-field crontab line needs a leading seconds field, e.g. `0 {expr}`)"
        ));
    }
    ::cron::Schedule::from_str(expr).map_err(|e| format!("invalid cron expression {expr:?}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> ScheduleSpec {
        ScheduleSpec {
            name: "relatório diário".into(),
            cron: "0 30 7 * * Mon-Fri".into(),
            timezone: Some("America/Sao_Paulo".into()),
            kind: "diag.noop".into(),
            payload: empty_object(),
            enabled: true,
            catch_up: CatchUp::None,
        }
    }

    fn bad_field(s: ScheduleSpec) -> String {
        s.validate(&Registry::builtin()).unwrap_err().path
    }

    #[test]
    fn a_good_spec_passes() {
        spec().validate(&Registry::builtin()).unwrap();
    }

    #[test]
    fn each_bad_field_is_named() {
        assert_eq!(
            bad_field(ScheduleSpec {
                name: " ".into(),
                ..spec()
            }),
            "name"
        );
        assert_eq!(
            bad_field(ScheduleSpec {
                cron: "*/5 * * * *".into(),
                ..spec()
            }),
            "cron"
        );
        assert_eq!(
            bad_field(ScheduleSpec {
                cron: "0 61 * * * *".into(),
                ..spec()
            }),
            "cron"
        );
        assert_eq!(
            bad_field(ScheduleSpec {
                timezone: Some("Brasil/Recife".into()),
                ..spec()
            }),
            "timezone"
        );
        assert_eq!(
            bad_field(ScheduleSpec {
                kind: "diag.nope".into(),
                ..spec()
            }),
            "kind"
        );
        let payload = serde_json::json!({ "extra": 1 });
        assert!(bad_field(ScheduleSpec { payload, ..spec() }).starts_with("payload"));
    }

    #[test]
    fn cron_accepts_seconds_year_and_shorthands() {
        for ok in [
            "0 0 3 * * *",
            "*/10 * * * * * 2030",
            "@daily",
            "0 0 12 1 Jan ?",
        ] {
            parse_cron(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
    }

    #[test]
    fn defaults_fill_in_from_json() {
        let s: ScheduleSpec = serde_json::from_value(serde_json::json!({
            "name": "n", "cron": "@hourly", "kind": "diag.noop"
        }))
        .unwrap();
        assert!(s.enabled);
        assert_eq!(s.catch_up, CatchUp::None);
        assert_eq!(s.payload, empty_object());
        assert_eq!(s.timezone_or("Europe/Lisbon"), "Europe/Lisbon");
    }
}

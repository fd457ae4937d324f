//! What an alert rule is made of — its condition tree, audience, channels,
//! urgency, pt-BR templates and cooldown — and the checks it passes before it
//! is saved (422 naming the field, templates using only the variables the
//! condition provides).
//!
//! Grades are compared on a 0-10 scale (`grade * 10 / scale_max`), so a rule
//! means the same for a school grading 0-100. Thresholds are strict: a value
//! exactly at the threshold does not hold (75% attendance with a 75% minimum
//! is fine).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::channels::templates;
use crate::kinds::notify::ChannelName;
use crate::kinds::FieldError;

/// Deepest nesting of `all_of` / `any_of`.
pub const MAX_DEPTH: usize = 4;
/// Most leaves in one rule.
pub const MAX_LEAVES: usize = 16;
/// Default cooldown: a week.
pub const COOLDOWN_DEFAULT_SECS: u32 = 7 * 24 * 3600;

/// Per subject (one alert per student and subject) or for the student as a whole.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    #[default]
    Subject,
    Overall,
}

/// What a falling trend compares.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TrendOver {
    #[default]
    Terms,
    Assessments,
}

/// When a rule holds for a student. `subjects` (codes or names) narrows a
/// rule to those subjects; empty = every subject.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Condition {
    /// A term grade below `threshold` (0-10): in `term`, or when absent, in
    /// the latest term graded. A term's grade is its grade row without an
    /// assessment, else the mean of its assessments.
    GradeBelow {
        threshold: f64,
        #[serde(default)]
        term: Option<i16>,
        #[serde(default)]
        subjects: Vec<String>,
    },
    /// The year's average below `threshold` (0-10): per subject (the final
    /// grade, term 0, when given, else the mean of the term grades present;
    /// missing terms are not zeros) or overall (the mean of the subject averages).
    AverageBelow {
        threshold: f64,
        #[serde(default)]
        scope: Scope,
        #[serde(default)]
        subjects: Vec<String>,
    },
    /// Attendance below `min_pct` percent (default 75, the legal minimum),
    /// per subject or overall, from attendance periods (a year row, term 0,
    /// wins over the terms) or else daily attendance (justified absences do
    /// not count against it).
    AttendanceBelow {
        #[serde(default = "legal_minimum")]
        min_pct: f64,
        #[serde(default)]
        scope: Scope,
        #[serde(default)]
        subjects: Vec<String>,
    },
    /// At least `count` school days absent in a row, up to the latest day
    /// recorded (whole-day attendance, or one subject's). A justified absence
    /// ends the run unless `include_justified`.
    ConsecutiveAbsences {
        count: u32,
        #[serde(default)]
        subject: Option<String>,
        #[serde(default)]
        include_justified: bool,
    },
    /// The last `last` grades of a subject (default 3) fell by at least
    /// `drop` points from the oldest to the newest of them: its term grades
    /// (`over: "terms"`, the default) or its single assessments (`over:
    /// "assessments"`: grade rows with an assessment name, ordered by term,
    /// then date, then name).
    FallingTrend {
        drop: f64,
        #[serde(default = "default_trend_last")]
        last: u32,
        #[serde(default)]
        over: TrendOver,
        #[serde(default)]
        subjects: Vec<String>,
    },
    /// An occurrence of severity ≥ `min_severity` (1-5) in the last
    /// `within_days` days (default 30); one alert per occurrence.
    Occurrence {
        min_severity: i16,
        #[serde(default = "default_occurrence_within_days")]
        within_days: u32,
        /// Occurrence kinds to consider; empty = all.
        #[serde(default)]
        kinds: Vec<String>,
    },
    /// Every condition holds for the student.
    AllOf {
        #[schema(no_recursion)]
        conditions: Vec<Condition>,
    },
    /// At least one condition holds for the student.
    AnyOf {
        #[schema(no_recursion)]
        conditions: Vec<Condition>,
    },
}

fn legal_minimum() -> f64 {
    75.0
}
/// How many grades a falling trend looks at when the rule does not say.
fn default_trend_last() -> u32 {
    3
}
/// How far back an occurrence rule looks when the rule does not say.
fn default_occurrence_within_days() -> u32 {
    30
}
fn enabled_by_default() -> bool {
    true
}
fn default_cooldown_secs() -> u32 {
    COOLDOWN_DEFAULT_SECS
}

/// Who hears about an alert.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// The student's guardians.
    Guardians,
    /// The teacher of the student's current class.
    ClassTeacher,
    /// The coordinator of the student's current class.
    Coordinator,
}

impl Audience {
    pub fn as_str(self) -> &'static str {
        match self {
            Audience::Guardians => "guardians",
            Audience::ClassTeacher => "class_teacher",
            Audience::Coordinator => "coordinator",
        }
    }
    pub fn parse(s: &str) -> Option<Audience> {
        [
            Audience::Guardians,
            Audience::ClassTeacher,
            Audience::Coordinator,
        ]
        .into_iter()
        .find(|a| a.as_str() == s)
    }
}

/// `high` messages are urgent for the notifications engine (they ignore quiet hours).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    Low,
    #[default]
    Normal,
    High,
}

impl Urgency {
    pub fn as_str(self) -> &'static str {
        match self {
            Urgency::Low => "low",
            Urgency::Normal => "normal",
            Urgency::High => "high",
        }
    }
    pub fn parse(s: &str) -> Option<Urgency> {
        [Urgency::Low, Urgency::Normal, Urgency::High]
            .into_iter()
            .find(|u| u.as_str() == s)
    }
    /// pt-BR word, for templates.
    pub fn pt_br(self) -> &'static str {
        match self {
            Urgency::Low => "baixa",
            Urgency::Normal => "normal",
            Urgency::High => "alta",
        }
    }
}

/// A rule as a caller writes it (`POST`/`PUT /v1/alert-rules`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// Unique per tenant, 1-200 characters.
    pub name: String,
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
    pub condition: Condition,
    pub audience: Vec<Audience>,
    /// Channels the rule may use, in order of preference; each recipient gets
    /// one message, on the first of them they have a contact for (their own
    /// preferred channels first).
    pub channels: Vec<ChannelName>,
    #[serde(default)]
    pub urgency: Urgency,
    /// E-mail subject template; default `Alerta acadêmico: {{ aluno }}`.
    #[serde(default)]
    pub subject: Option<String>,
    /// pt-BR message template (minijinja, filters `decimal_br`, `date_br`);
    /// default: a message for the condition's type. The variables it may use
    /// depend on the condition (see [`variables`]).
    #[serde(default)]
    pub template: Option<String>,
    /// A re-opened alert stays silent this long after the last notification
    /// of the same rule, student and scope. Default 7 days.
    #[serde(default = "default_cooldown_secs")]
    pub cooldown_secs: u32,
}

impl Condition {
    pub fn type_name(&self) -> &'static str {
        match self {
            Condition::GradeBelow { .. } => "grade_below",
            Condition::AverageBelow { .. } => "average_below",
            Condition::AttendanceBelow { .. } => "attendance_below",
            Condition::ConsecutiveAbsences { .. } => "consecutive_absences",
            Condition::FallingTrend { .. } => "falling_trend",
            Condition::Occurrence { .. } => "occurrence",
            Condition::AllOf { .. } => "all_of",
            Condition::AnyOf { .. } => "any_of",
        }
    }

    /// Calls `f` with every leaf condition of this tree.
    pub fn visit(&self, f: &mut impl FnMut(&Condition)) {
        match self {
            Condition::AllOf { conditions } | Condition::AnyOf { conditions } => {
                conditions.iter().for_each(|c| c.visit(f))
            }
            leaf => f(leaf),
        }
    }

    pub fn is_composite(&self) -> bool {
        matches!(self, Condition::AllOf { .. } | Condition::AnyOf { .. })
    }

    fn leaves(&self) -> usize {
        match self {
            Condition::AllOf { conditions } | Condition::AnyOf { conditions } => {
                conditions.iter().map(Condition::leaves).sum()
            }
            _ => 1,
        }
    }

    /// Checks ranges; `path` is where this condition sits (`condition.conditions[1]`).
    pub fn validate(&self, path: &str, depth: usize) -> Result<(), FieldError> {
        let f = |field: &str, msg: &str| Err(FieldError::new(format!("{path}.{field}"), msg));
        let grade_ok = |x: f64| x.is_finite() && (0.0..=10.0).contains(&x);
        match self {
            Condition::GradeBelow {
                threshold,
                term,
                subjects,
            } => {
                if !grade_ok(*threshold) {
                    return f(
                        "threshold",
                        "must be between 0 and 10 (grades are compared on a 0-10 scale)",
                    );
                }
                if term.is_some_and(|t| !(1..=6).contains(&t)) {
                    return f("term", "must be 1-6");
                }
                check_subjects(path, "subjects", subjects)
            }
            Condition::AverageBelow {
                threshold,
                subjects,
                ..
            } => {
                if !grade_ok(*threshold) {
                    return f(
                        "threshold",
                        "must be between 0 and 10 (grades are compared on a 0-10 scale)",
                    );
                }
                check_subjects(path, "subjects", subjects)
            }
            Condition::AttendanceBelow {
                min_pct, subjects, ..
            } => {
                if !(min_pct.is_finite() && *min_pct > 0.0 && *min_pct <= 100.0) {
                    return f("min_pct", "must be more than 0 and at most 100");
                }
                check_subjects(path, "subjects", subjects)
            }
            Condition::ConsecutiveAbsences { count, subject, .. } => {
                if !(1..=365).contains(count) {
                    return f("count", "must be 1-365");
                }
                if let Some(s) = subject {
                    if ptbr::slug(s).is_empty() {
                        return f("subject", "not a subject code or name");
                    }
                }
                Ok(())
            }
            Condition::FallingTrend {
                drop,
                last,
                subjects,
                ..
            } => {
                if !(drop.is_finite() && *drop > 0.0 && *drop <= 10.0) {
                    return f("drop", "must be more than 0 and at most 10");
                }
                if !(2..=6).contains(last) {
                    return f("last", "must be 2-6 (term grades)");
                }
                check_subjects(path, "subjects", subjects)
            }
            Condition::Occurrence {
                min_severity,
                within_days,
                kinds,
            } => {
                if !(1..=5).contains(min_severity) {
                    return f("min_severity", "must be 1-5");
                }
                if !(1..=366).contains(within_days) {
                    return f("within_days", "must be 1-366");
                }
                if kinds.iter().any(|k| k.trim().is_empty() || k.len() > 64) {
                    return f("kinds", "each kind must be 1-64 characters");
                }
                Ok(())
            }
            Condition::AllOf { conditions } | Condition::AnyOf { conditions } => {
                if depth >= MAX_DEPTH {
                    return Err(FieldError::new(
                        path,
                        format!("nested more than {MAX_DEPTH} levels"),
                    ));
                }
                if conditions.is_empty() {
                    return f("conditions", "give at least one condition");
                }
                for (i, c) in conditions.iter().enumerate() {
                    c.validate(&format!("{path}.conditions[{i}]"), depth + 1)?;
                }
                Ok(())
            }
        }
    }
}

fn check_subjects(path: &str, field: &str, subjects: &[String]) -> Result<(), FieldError> {
    for (i, s) in subjects.iter().enumerate() {
        if ptbr::slug(s).is_empty() {
            return Err(FieldError::new(
                format!("{path}.{field}[{i}]"),
                "not a subject code or name",
            ));
        }
    }
    Ok(())
}

/// Subject codes of a `subjects` list (`"Matemática"` → `matematica`); `None` = all.
pub fn subject_codes(subjects: &[String]) -> Option<Vec<String>> {
    (!subjects.is_empty()).then(|| subjects.iter().map(|s| ptbr::slug(s)).collect())
}

/// Variables every template may use.
pub const COMMON_VARIABLES: [&str; 7] = [
    "aluno",
    "matricula",
    "turma",
    "regra",
    "urgencia",
    "ano",
    "destinatario",
];

/// The variables a condition gives its templates, besides [`COMMON_VARIABLES`].
pub fn variables(c: &Condition) -> &'static [&'static str] {
    match c {
        Condition::GradeBelow { .. } => &["disciplina", "nota", "minimo", "bimestre"],
        Condition::AverageBelow { .. } => &["disciplina", "media", "minimo"],
        Condition::AttendanceBelow { .. } => {
            &["disciplina", "frequencia", "minimo", "aulas", "faltas"]
        }
        Condition::ConsecutiveAbsences { .. } => &["disciplina", "faltas", "desde"],
        Condition::FallingTrend { .. } => &["disciplina", "queda", "notas", "de", "para"],
        Condition::Occurrence { .. } => &["ocorrencia", "gravidade", "descricao", "data"],
        Condition::AllOf { .. } | Condition::AnyOf { .. } => &["motivos"],
    }
}

/// The message a rule sends when it gives no template of its own.
pub fn default_template(c: &Condition) -> &'static str {
    match c {
        Condition::GradeBelow { .. } => "Atenção: {{ aluno }} tirou {{ nota|decimal_br }} em {{ disciplina }} no {{ bimestre }}º bimestre (mínimo {{ minimo|decimal_br }}).",
        Condition::AverageBelow { .. } => "Atenção: a média de {{ aluno }}{% if disciplina %} em {{ disciplina }}{% endif %} está em {{ media|decimal_br }} (mínimo {{ minimo|decimal_br }}).",
        Condition::AttendanceBelow { .. } => "Atenção: a frequência de {{ aluno }}{% if disciplina %} em {{ disciplina }}{% endif %} está em {{ frequencia|decimal_br }}% (mínimo {{ minimo|decimal_br }}%).",
        Condition::ConsecutiveAbsences { .. } => "Atenção: {{ aluno }} faltou {{ faltas }} dias seguidos{% if disciplina %} em {{ disciplina }}{% endif %}, desde {{ desde|date_br }}.",
        Condition::FallingTrend { .. } => "Atenção: as notas de {{ aluno }} em {{ disciplina }} caíram {{ queda|decimal_br }} pontos nas últimas avaliações (de {{ de|decimal_br }} para {{ para|decimal_br }}).",
        Condition::Occurrence { .. } => "Atenção: ocorrência registrada para {{ aluno }} em {{ data|date_br }}: {{ ocorrencia }} (gravidade {{ gravidade }}).",
        Condition::AllOf { .. } | Condition::AnyOf { .. } => "Atenção: {{ aluno }} precisa de acompanhamento: {{ motivos|join('; ') }}.",
    }
}

/// Default e-mail subject.
pub const DEFAULT_SUBJECT: &str = "Alerta acadêmico: {{ aluno }}";

impl RuleSpec {
    pub fn template(&self) -> &str {
        self.template
            .as_deref()
            .unwrap_or_else(|| default_template(&self.condition))
    }

    pub fn subject(&self) -> &str {
        self.subject.as_deref().unwrap_or(DEFAULT_SUBJECT)
    }

    /// Checks every field; the error's path names the first bad one
    /// (`name`, `condition.conditions[0].min_pct`, `channels[1]`, `template`).
    pub fn validate(&self) -> Result<(), FieldError> {
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 200 || name != self.name {
            return Err(FieldError::new(
                "name",
                "must be 1-200 characters without surrounding spaces",
            ));
        }
        self.condition.validate("condition", 0)?;
        if self.condition.leaves() > MAX_LEAVES {
            return Err(FieldError::new(
                "condition",
                format!("at most {MAX_LEAVES} conditions in one rule"),
            ));
        }
        if self.audience.is_empty() {
            return Err(FieldError::new("audience", "give at least one audience"));
        }
        for (i, a) in self.audience.iter().enumerate() {
            if self.audience[..i].contains(a) {
                return Err(FieldError::new(format!("audience[{i}]"), "repeated"));
            }
        }
        if self.channels.is_empty() {
            return Err(FieldError::new("channels", "give at least one channel"));
        }
        for (i, c) in self.channels.iter().enumerate() {
            if *c == ChannelName::Webhook {
                return Err(FieldError::new(
                    format!("channels[{i}]"),
                    "alerts reach people: email, sms, whatsapp or push",
                ));
            }
            if self.channels[..i].contains(c) {
                return Err(FieldError::new(format!("channels[{i}]"), "repeated"));
            }
        }
        if self.cooldown_secs > 366 * 24 * 3600 {
            return Err(FieldError::new("cooldown_secs", "at most a year"));
        }
        let mut declared: Vec<String> = COMMON_VARIABLES.iter().map(|v| v.to_string()).collect();
        declared.extend(variables(&self.condition).iter().map(|v| v.to_string()));
        let template = self.template();
        if template.trim().is_empty() || template.len() > 4000 {
            return Err(FieldError::new("template", "must be 1-4000 bytes"));
        }
        templates::check(&[("template", template)], &declared).map_err(|e| {
            FieldError::new(
                e.field,
                e.message.replace(
                    "declare them in `variables`",
                    &format!("available: {}", declared.join(", ")),
                ),
            )
        })?;
        templates::check(&[("subject", self.subject())], &declared).map_err(|e| {
            FieldError::new(
                e.field,
                e.message.replace(
                    "declare them in `variables`",
                    &format!("available: {}", declared.join(", ")),
                ),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(v: serde_json::Value) -> Result<RuleSpec, String> {
        serde_json::from_value(v).map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_fill_in_and_default_templates_pass_their_own_check() {
        for c in [
            json!({"type": "grade_below", "threshold": 5}),
            json!({"type": "average_below", "threshold": 6, "scope": "overall"}),
            json!({"type": "attendance_below"}),
            json!({"type": "consecutive_absences", "count": 3}),
            json!({"type": "falling_trend", "drop": 2}),
            json!({"type": "occurrence", "min_severity": 4}),
            json!({"type": "any_of", "conditions": [{"type": "attendance_below"}, {"type": "occurrence", "min_severity": 5}]}),
        ] {
            let s = spec(json!({"name": "r", "condition": c, "audience": ["guardians"], "channels": ["email"]})).unwrap();
            s.validate().unwrap_or_else(|e| panic!("{c}: {e}"));
        }
        let s = spec(json!({"name": "r", "condition": {"type": "attendance_below"}, "audience": ["guardians"], "channels": ["email"]})).unwrap();
        assert_eq!(
            s.condition,
            Condition::AttendanceBelow {
                min_pct: 75.0,
                scope: Scope::Subject,
                subjects: vec![]
            }
        );
        assert_eq!(s.cooldown_secs, COOLDOWN_DEFAULT_SECS);
    }

    #[test]
    fn bad_fields_are_named() {
        let base = json!({"name": "r", "condition": {"type": "all_of", "conditions": [
            {"type": "attendance_below"}, {"type": "grade_below", "threshold": 11}]},
            "audience": ["guardians"], "channels": ["email"]});
        let e = spec(base).unwrap().validate().unwrap_err();
        assert_eq!(e.path, "condition.conditions[1].threshold");
        let e = spec(json!({"name": "r", "condition": {"type": "attendance_below"}, "audience": ["guardians"],
            "channels": ["email"], "template": "{{ aluno }} {{ nota }}"}))
        .unwrap()
        .validate()
        .unwrap_err();
        assert_eq!(e.path, "template");
        assert!(e.message.contains("nota"), "{e}");
        let e = spec(json!({"name": "r", "condition": {"type": "attendance_below"}, "audience": ["guardians"],
            "channels": ["email", "webhook"]}))
        .unwrap()
        .validate()
        .unwrap_err();
        assert_eq!(e.path, "channels[1]");
        assert!(spec(
            json!({"name": "r", "condition": {"type": "attendance_below", "limit": 3},
            "audience": ["guardians"], "channels": ["email"]})
        )
        .is_err());
    }
}

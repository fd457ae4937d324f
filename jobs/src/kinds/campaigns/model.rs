//! What the API sends and reads: contacts, templates, campaigns (with their
//! audience and parameter mapping) and recipients, with the checks serde
//! cannot make. Every check names its field.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::kinds::FieldError;

/// Most contacts in one `POST /v1/contacts`.
pub const MAX_CONTACTS: usize = 10_000;

/// The campaign states, in the order of the state machine.
pub const STATES: [&str; 7] = [
    "draft",
    "scheduled",
    "running",
    "paused",
    "completed",
    "cancelled",
    "failed",
];

/// Recipient statuses.
pub const RECIPIENT_STATUSES: [&str; 11] = [
    "queued",
    "dispatched",
    "sending",
    "sent",
    "delivered",
    "read",
    "failed",
    "skipped",
    "deferred",
    "cancelled",
    "unknown",
];

/// One contact to upsert (by `external_id`).
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactInput {
    pub external_id: String,
    #[serde(default)]
    pub name: String,
    /// Any common spelling; stored as E.164 (Brazil assumed without `+`).
    pub phone: String,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub attributes: serde_json::Map<String, serde_json::Value>,
    #[serde(default)]
    pub opted_in_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub opt_in_source: Option<String>,
    #[serde(default)]
    pub opted_out_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub opt_out_source: Option<String>,
    #[serde(default)]
    pub blocked: bool,
    #[serde(default)]
    pub marketing_opt_out: bool,
}

impl ContactInput {
    pub fn validate(&self, at: &str) -> Result<(), FieldError> {
        let id = self.external_id.trim();
        if id.is_empty() || id.len() > 200 {
            return Err(FieldError::new(
                format!("{at}.external_id"),
                "must be 1-200 bytes",
            ));
        }
        if self
            .tags
            .iter()
            .any(|t| t.trim().is_empty() || t.len() > 100)
        {
            return Err(FieldError::new(
                format!("{at}.tags"),
                "tags are 1-100 bytes",
            ));
        }
        Ok(())
    }
}

/// A contact as stored.
#[derive(Clone, Debug, Serialize, sqlx::FromRow, ToSchema)]
pub struct Contact {
    pub id: Uuid,
    pub external_id: String,
    pub name: String,
    pub phone: Option<String>,
    pub phone_raw: String,
    pub phone_error: Option<String>,
    pub tags: Vec<String>,
    #[schema(value_type = Object)]
    pub attributes: serde_json::Value,
    pub opted_in_at: Option<DateTime<Utc>>,
    pub opt_in_source: Option<String>,
    pub opted_out_at: Option<DateTime<Utc>>,
    pub opt_out_source: Option<String>,
    pub blocked: bool,
    pub marketing_opt_out: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A template the tenant registered (approved at Meta).
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateInput {
    pub name: String,
    #[serde(default = "default_language")]
    pub language: String,
    /// marketing | utility | authentication
    pub category: String,
    /// The body with `{{1}}`, `{{2}}`… (for previews and cost).
    #[serde(default)]
    pub body: String,
    /// Names of the body parameters, in order (`{{1}}` is the first).
    #[serde(default)]
    pub parameters: Vec<String>,
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub components: Vec<serde_json::Value>,
}

fn default_language() -> String {
    "pt_BR".into()
}

impl TemplateInput {
    pub fn validate(&self) -> Result<(), FieldError> {
        let ok = !self.name.is_empty()
            && self.name.len() <= 512
            && self
                .name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !ok {
            return Err(FieldError::new("name", "lowercase letters, digits and _"));
        }
        if !["marketing", "utility", "authentication"].contains(&self.category.as_str()) {
            return Err(FieldError::new(
                "category",
                "marketing, utility or authentication",
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for (i, p) in self.parameters.iter().enumerate() {
            if p.trim().is_empty() || !seen.insert(p) {
                return Err(FieldError::new(
                    format!("parameters[{i}]"),
                    "names are non-empty and distinct",
                ));
            }
        }
        Ok(())
    }
}

#[derive(Clone, Debug, Serialize, sqlx::FromRow, ToSchema)]
pub struct Template {
    pub id: Uuid,
    pub name: String,
    pub language: String,
    pub category: String,
    pub body: String,
    pub parameters: Vec<String>,
    #[schema(value_type = Vec<Object>)]
    pub components: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

/// Who receives a campaign.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
// Named apart from the same-named schema of another feature (components are one namespace).
#[schema(as = CampaignAudience)]
pub enum Audience {
    /// Every contact of the tenant.
    All,
    /// By tags: any of, all of, none of (each optional; all that are given must hold).
    Tags {
        #[serde(default)]
        any_of: Vec<String>,
        #[serde(default)]
        all_of: Vec<String>,
        #[serde(default)]
        none_of: Vec<String>,
    },
    /// An explicit list of the product's contact ids.
    List { external_ids: Vec<String> },
    /// Conditions on attributes and tags; `match` all (default) or any.
    Segment {
        conditions: Vec<Condition>,
        #[serde(default, rename = "match")]
        match_: Match,
    },
}

#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, ToSchema, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum Match {
    #[default]
    All,
    Any,
}

/// `{"field": "attributes.city", "op": "eq", "value": "Recife"}` or
/// `{"field": "tags", "op": "has", "value": "vip"}`.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
// Named apart from the same-named schema of another feature (components are one namespace).
#[schema(as = CampaignCondition)]
pub struct Condition {
    /// `tags`, `name`, or `attributes.<key>`.
    pub field: String,
    /// eq | ne | in | contains | exists | not_exists | gt | gte | lt | lte (attributes, name);
    /// has | not_has (tags).
    pub op: String,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub value: serde_json::Value,
}

impl Audience {
    pub fn validate(&self) -> Result<(), FieldError> {
        match self {
            Audience::All => Ok(()),
            Audience::Tags {
                any_of,
                all_of,
                none_of,
            } => {
                if any_of.is_empty() && all_of.is_empty() && none_of.is_empty() {
                    return Err(FieldError::new(
                        "audience",
                        "give any_of, all_of or none_of",
                    ));
                }
                Ok(())
            }
            Audience::List { external_ids } => {
                if external_ids.is_empty() || external_ids.len() > 100_000 {
                    return Err(FieldError::new("audience.external_ids", "1 to 100,000 ids"));
                }
                Ok(())
            }
            Audience::Segment { conditions, .. } => {
                if conditions.is_empty() || conditions.len() > 50 {
                    return Err(FieldError::new("audience.conditions", "1 to 50 conditions"));
                }
                for (i, c) in conditions.iter().enumerate() {
                    c.validate()
                        .map_err(|m| FieldError::new(format!("audience.conditions[{i}]"), m))?;
                }
                Ok(())
            }
        }
    }
}

impl Condition {
    fn validate(&self) -> Result<(), String> {
        let attr = self.field.strip_prefix("attributes.");
        if self.field == "tags" {
            if !matches!(self.op.as_str(), "has" | "not_has") || !self.value.is_string() {
                return Err("tags take op has or not_has with a string value".into());
            }
            return Ok(());
        }
        if self.field != "name" && attr.is_none_or(|k| k.is_empty()) {
            return Err("field is tags, name or attributes.<key>".into());
        }
        match self.op.as_str() {
            "exists" | "not_exists" => Ok(()),
            "eq" | "ne" | "contains" if !self.value.is_null() && !self.value.is_array() => Ok(()),
            "in" if self.value.as_array().is_some_and(|a| !a.is_empty()) => Ok(()),
            "gt" | "gte" | "lt" | "lte" if self.value.is_number() => Ok(()),
            _ => Err(format!(
                "op {:?} does not fit value {}",
                self.op, self.value
            )),
        }
    }
}

/// Where a template parameter's value comes from.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ParamSource {
    /// `name`, `first_name`, `phone`, `external_id` or `attributes.<key>`.
    pub source: String,
    /// Used when the contact has no value.
    #[serde(default)]
    pub default: Option<String>,
}

impl ParamSource {
    fn valid(&self) -> bool {
        matches!(
            self.source.as_str(),
            "name" | "first_name" | "phone" | "external_id"
        ) || self
            .source
            .strip_prefix("attributes.")
            .is_some_and(|k| !k.is_empty())
    }
}

/// `POST /v1/campaigns` (and `PATCH` of a draft).
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CampaignInput {
    pub name: String,
    /// The Cloud API `phone_number_id` it sends from.
    pub sender_phone_number_id: String,
    pub template: String,
    #[serde(default = "default_language")]
    pub language: String,
    /// Template parameter name → where its value comes from.
    #[serde(default)]
    pub parameters: BTreeMap<String, ParamSource>,
    pub audience: Audience,
    #[serde(default)]
    pub start_at: Option<DateTime<Utc>>,
    /// `"08:00"`, in the tenant's timezone (with `window_end`).
    #[serde(default)]
    pub window_start: Option<String>,
    #[serde(default)]
    pub window_end: Option<String>,
    /// Messages per second; at most `throughput`.
    #[serde(default = "default_rate")]
    pub rate_per_second: u32,
    /// The number's throughput: 80 (default) or 1000 once Meta upgraded it.
    #[serde(default = "default_throughput")]
    pub throughput: u32,
    /// At least this long between two messages of the campaign.
    #[serde(default)]
    pub min_delay_ms: u32,
}

fn default_rate() -> u32 {
    20
}
fn default_throughput() -> u32 {
    80
}

/// A campaign's send window as local minutes.
pub type Window = Option<(u32, u32)>;

impl CampaignInput {
    /// Checks that need no database. Template checks need the template: [`check_parameters`].
    pub fn validate(&self, now: DateTime<Utc>) -> Result<Window, FieldError> {
        if self.name.trim().is_empty() || self.name.len() > 200 {
            return Err(FieldError::new("name", "must be 1-200 bytes"));
        }
        if self.sender_phone_number_id.trim().is_empty() {
            return Err(FieldError::new("sender_phone_number_id", "required"));
        }
        if ![80, 1000].contains(&self.throughput) {
            return Err(FieldError::new("throughput", "80 or 1000 (Meta's tiers)"));
        }
        if self.rate_per_second == 0 || self.rate_per_second > self.throughput {
            return Err(FieldError::new(
                "rate_per_second",
                format!("1 to the number's throughput ({}/s)", self.throughput),
            ));
        }
        if self.min_delay_ms > 3_600_000 {
            return Err(FieldError::new("min_delay_ms", "at most one hour"));
        }
        if let Some(t) = self.start_at {
            if t < now {
                return Err(FieldError::new("start_at", "is in the past"));
            }
        }
        self.audience.validate()?;
        for (k, p) in &self.parameters {
            if !p.valid() {
                return Err(FieldError::new(
                    format!("parameters.{k}.source"),
                    "name, first_name, phone, external_id or attributes.<key>",
                ));
            }
        }
        let parse = |f: &str, v: &Option<String>| -> Result<Option<u32>, FieldError> {
            v.as_deref()
                .map(|s| {
                    crate::kinds::notify::quiet::parse_hhmm(s)
                        .or((s == "24:00").then_some(1440))
                        .ok_or_else(|| FieldError::new(f, "HH:MM"))
                })
                .transpose()
        };
        let s = parse("window_start", &self.window_start)?;
        let e = parse("window_end", &self.window_end)?;
        match (s, e) {
            (Some(s), Some(e)) => Ok(Some((s, e))),
            (None, None) => Ok(None),
            (None, _) => Err(FieldError::new("window_start", "give both ends")),
            (_, None) => Err(FieldError::new("window_end", "give both ends")),
        }
    }
}

/// Every template parameter mapped, nothing mapped that the template lacks.
pub fn check_parameters(
    template: &Template,
    mapping: &BTreeMap<String, ParamSource>,
) -> Result<(), FieldError> {
    for k in mapping.keys() {
        if !template.parameters.contains(k) {
            return Err(FieldError::new(
                format!("parameters.{k}"),
                format!(
                    "template {} has no variable {k:?} (it has {:?})",
                    template.name, template.parameters
                ),
            ));
        }
    }
    for p in &template.parameters {
        if !mapping.contains_key(p) {
            return Err(FieldError::new(
                format!("parameters.{p}"),
                "the template needs it: map it to a contact field",
            ));
        }
    }
    Ok(())
}

/// A campaign row.
#[derive(Clone, Debug, Serialize, sqlx::FromRow, ToSchema)]
pub struct Campaign {
    pub id: Uuid,
    #[serde(skip)]
    pub tenant_id: Uuid,
    pub name: String,
    pub state: String,
    pub state_reason: Option<String>,
    pub sender_phone_number_id: String,
    pub template_id: Uuid,
    #[schema(value_type = Object)]
    pub parameters: serde_json::Value,
    #[schema(value_type = Object)]
    pub audience: serde_json::Value,
    pub start_at: Option<DateTime<Utc>>,
    pub window_start_minute: Option<i32>,
    pub window_end_minute: Option<i32>,
    pub rate_per_second: i32,
    pub effective_rate: i32,
    pub min_delay_ms: i32,
    pub throughput: i32,
    #[serde(skip)]
    pub dispatch_seq: i64,
    #[schema(value_type = Object)]
    pub exclusions: serde_json::Value,
    pub recipients_count: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl Campaign {
    pub fn window(&self) -> Window {
        match (self.window_start_minute, self.window_end_minute) {
            (Some(s), Some(e)) => Some((s as u32, e as u32)),
            _ => None,
        }
    }
    pub fn mapping(&self) -> BTreeMap<String, ParamSource> {
        serde_json::from_value(self.parameters.clone()).unwrap_or_default()
    }
}

/// A recipient row.
#[derive(Clone, Debug, Serialize, sqlx::FromRow, ToSchema)]
pub struct Recipient {
    pub id: Uuid,
    pub contact_id: Uuid,
    pub phone: String,
    pub status: String,
    pub reason: Option<String>,
    pub error_code: Option<i32>,
    pub notification_id: Option<Uuid>,
    pub wamid: Option<String>,
    pub attempts: i32,
    pub sent_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub read_at: Option<DateTime<Utc>>,
    pub replied_at: Option<DateTime<Utc>>,
    pub failed_at: Option<DateTime<Utc>>,
    pub deferred_until: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

/// A contact's values for rendering: (name, phone, external_id, attributes).
pub struct Fields<'a> {
    pub name: &'a str,
    pub phone: &'a str,
    pub external_id: &'a str,
    pub attributes: &'a serde_json::Value,
}

/// The template's parameter values for one contact, in template order; the
/// name of the first parameter without a value (and without a default) on error.
pub fn render_values(
    template: &Template,
    mapping: &BTreeMap<String, ParamSource>,
    f: &Fields<'_>,
) -> Result<Vec<String>, String> {
    let mut out = Vec::with_capacity(template.parameters.len());
    for p in &template.parameters {
        let src = mapping.get(p).ok_or_else(|| p.clone())?;
        let v = match src.source.as_str() {
            "name" => f.name.trim().to_string(),
            "first_name" => f.name.split_whitespace().next().unwrap_or("").to_string(),
            "phone" => f.phone.to_string(),
            "external_id" => f.external_id.to_string(),
            s => match s.strip_prefix("attributes.").map(|k| &f.attributes[k]) {
                Some(serde_json::Value::String(s)) => s.trim().to_string(),
                Some(serde_json::Value::Null) | None => String::new(),
                Some(v) => v.to_string(),
            },
        };
        let v = if v.is_empty() {
            src.default.clone().unwrap_or_default()
        } else {
            v
        };
        if v.is_empty() {
            return Err(p.clone());
        }
        out.push(v);
    }
    Ok(out)
}

/// The body with `{{n}}` replaced (previews).
pub fn render_body(body: &str, values: &[String]) -> String {
    let mut s = body.to_string();
    for (i, v) in values.iter().enumerate() {
        s = s.replace(&format!("{{{{{}}}}}", i + 1), v);
    }
    s
}

/// Meta's `components` for a template message with these body values.
pub fn components(values: &[String]) -> Vec<serde_json::Value> {
    if values.is_empty() {
        return vec![];
    }
    let params: Vec<_> = values
        .iter()
        .map(|v| serde_json::json!({"type": "text", "text": v}))
        .collect();
    vec![serde_json::json!({"type": "body", "parameters": params})]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template() -> Template {
        Template {
            id: Uuid::nil(),
            name: "promo".into(),
            language: "pt_BR".into(),
            category: "marketing".into(),
            body: "Olá {{1}}, seu cupom é {{2}}".into(),
            parameters: vec!["first_name".into(), "coupon".into()],
            components: serde_json::json!([]),
            created_at: Utc::now(),
        }
    }

    fn mapping() -> BTreeMap<String, ParamSource> {
        serde_json::from_value(serde_json::json!({
            "first_name": {"source": "first_name"},
            "coupon": {"source": "attributes.coupon", "default": "BEMVINDO"}
        }))
        .unwrap()
    }

    #[test]
    fn values_come_from_fields_then_defaults() {
        let attrs = serde_json::json!({"coupon": "VIP10"});
        let f = Fields {
            name: "Ana Souza",
            phone: "+5511987654321",
            external_id: "c1",
            attributes: &attrs,
        };
        let v = render_values(&template(), &mapping(), &f).unwrap();
        assert_eq!(v, ["Ana", "VIP10"]);
        assert_eq!(
            render_body(&template().body, &v),
            "Olá Ana, seu cupom é VIP10"
        );
        let none = serde_json::json!({});
        let f = Fields {
            attributes: &none,
            ..f
        };
        assert_eq!(
            render_values(&template(), &mapping(), &f).unwrap()[1],
            "BEMVINDO"
        );
        let f = Fields { name: " ", ..f };
        assert_eq!(
            render_values(&template(), &mapping(), &f),
            Err("first_name".into())
        );
    }

    #[test]
    fn unknown_and_missing_variables_name_the_field() {
        let mut m = mapping();
        m.insert(
            "nome".into(),
            ParamSource {
                source: "name".into(),
                default: None,
            },
        );
        assert_eq!(
            check_parameters(&template(), &m).unwrap_err().path,
            "parameters.nome"
        );
        let mut m = mapping();
        m.remove("coupon");
        assert_eq!(
            check_parameters(&template(), &m).unwrap_err().path,
            "parameters.coupon"
        );
        assert!(check_parameters(&template(), &mapping()).is_ok());
    }

    #[test]
    fn campaign_input_checks_rate_start_and_window() {
        let now = Utc::now();
        let base: CampaignInput = serde_json::from_value(serde_json::json!({
            "name": "Black Friday", "sender_phone_number_id": "1055", "template": "promo",
            "audience": {"type": "all"}, "window_start": "08:00", "window_end": "20:00"
        }))
        .unwrap();
        assert_eq!(base.validate(now).unwrap(), Some((480, 1200)));
        let mut c = base.clone();
        c.rate_per_second = 81;
        assert_eq!(c.validate(now).unwrap_err().path, "rate_per_second");
        c.throughput = 1000;
        assert!(c.validate(now).is_ok());
        let mut c = base.clone();
        c.start_at = Some(now - chrono::Duration::minutes(1));
        assert_eq!(c.validate(now).unwrap_err().path, "start_at");
        let mut c = base.clone();
        c.window_end = None;
        assert_eq!(c.validate(now).unwrap_err().path, "window_end");
        let mut c = base;
        c.audience = Audience::Segment {
            conditions: vec![Condition {
                field: "attributes.age".into(),
                op: "gt".into(),
                value: serde_json::json!("x"),
            }],
            match_: Match::All,
        };
        assert_eq!(c.validate(now).unwrap_err().path, "audience.conditions[0]");
    }
}

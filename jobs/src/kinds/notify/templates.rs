//! Saved message templates per tenant, name (the notification's kind),
//! channel and locale: checked when saved (syntax, and only the declared
//! `variables`), rendered at send time by `dispatch.rs`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgExecutor;
use utoipa::ToSchema;
use uuid::Uuid;

use super::model::ChannelName;
use crate::channels::templates;
use crate::kinds::FieldError;

/// Constraint name of a template's unique (tenant, name, channel, locale).
pub const TEMPLATE_UNIQUE: &str = "notification_templates_name_key";

/// A template as saved (`POST`/`PUT /v1/notification-templates`).
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateSpec {
    /// The notification's kind, e.g. `grade_posted`.
    pub name: String,
    pub channel: ChannelName,
    /// Default `pt-BR`.
    #[serde(default)]
    pub locale: Option<String>,
    #[serde(default)]
    pub subject: Option<String>,
    pub body: String,
    #[serde(default)]
    pub html: Option<String>,
    /// Every variable the template may use; anything else is refused now.
    #[serde(default)]
    pub variables: Vec<String>,
}

impl TemplateSpec {
    pub fn locale(&self) -> &str {
        self.locale
            .as_deref()
            .unwrap_or(super::dispatch::DEFAULT_LOCALE)
    }

    pub fn validate(&self) -> Result<(), FieldError> {
        let name_ok = !self.name.is_empty()
            && self.name.len() <= 100
            && self
                .name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_.-".contains(c));
        if !name_ok {
            return Err(FieldError::new("name", "1-100 of [a-z0-9_.-]"));
        }
        let mut parts = vec![("body", self.body.as_str())];
        if let Some(s) = &self.subject {
            parts.insert(0, ("subject", s.as_str()));
        }
        if let Some(h) = &self.html {
            parts.push(("html", h.as_str()));
        }
        templates::check(&parts, &self.variables).map_err(|e| FieldError::new(e.field, e.message))
    }
}

/// A saved template.
#[derive(Clone, Debug, Serialize, sqlx::FromRow, ToSchema)]
pub struct TemplateRow {
    pub id: Uuid,
    pub name: String,
    pub channel: String,
    pub locale: String,
    pub subject: Option<String>,
    pub body: String,
    pub html: Option<String>,
    pub variables: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const T_COLS: &str =
    "id, name, channel, locale, subject, body, html, variables, created_at, updated_at";

pub async fn create_template(
    ex: impl PgExecutor<'_>,
    tenant: Uuid,
    t: &TemplateSpec,
) -> Result<TemplateRow, sqlx::Error> {
    sqlx::query_as(&format!(
        "insert into notification_templates (id, tenant_id, name, channel, locale, subject, body, html, variables) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9) returning {T_COLS}"
    ))
    .bind(Uuid::now_v7()).bind(tenant).bind(&t.name).bind(t.channel.as_str()).bind(t.locale())
    .bind(&t.subject).bind(&t.body).bind(&t.html).bind(&t.variables)
    .fetch_one(ex).await
}

pub async fn update_template(
    ex: impl PgExecutor<'_>,
    tenant: Uuid,
    id: Uuid,
    t: &TemplateSpec,
) -> Result<Option<TemplateRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "update notification_templates set name = $3, channel = $4, locale = $5, subject = $6, body = $7, html = $8, \
         variables = $9, updated_at = now() where tenant_id = $1 and id = $2 returning {T_COLS}"
    ))
    .bind(tenant).bind(id).bind(&t.name).bind(t.channel.as_str()).bind(t.locale())
    .bind(&t.subject).bind(&t.body).bind(&t.html).bind(&t.variables)
    .fetch_optional(ex).await
}

pub async fn get_template(
    ex: impl PgExecutor<'_>,
    tenant: Uuid,
    id: Uuid,
) -> Result<Option<TemplateRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "select {T_COLS} from notification_templates where tenant_id = $1 and id = $2"
    ))
    .bind(tenant)
    .bind(id)
    .fetch_optional(ex)
    .await
}

pub async fn list_templates(
    ex: impl PgExecutor<'_>,
    tenant: Uuid,
) -> Result<Vec<TemplateRow>, sqlx::Error> {
    sqlx::query_as(&format!("select {T_COLS} from notification_templates where tenant_id = $1 order by name, channel, locale"))
        .bind(tenant).fetch_all(ex).await
}

pub async fn delete_template(
    ex: impl PgExecutor<'_>,
    tenant: Uuid,
    id: Uuid,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("delete from notification_templates where tenant_id = $1 and id = $2")
        .bind(tenant)
        .bind(id)
        .execute(ex)
        .await?;
    Ok(r.rows_affected() == 1)
}

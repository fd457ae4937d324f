//! What the API and the console edit for events: reminder rules (checked
//! before they are saved: a template must render), the tenant's labels and
//! webhook subscriptions, and dead letters (retry = handle the raw entry
//! again, discard = close it).

use chrono::NaiveTime;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use utoipa::ToSchema;
use uuid::Uuid;

use super::envelope::Event;
use super::ingest::{ingest, publish, IngestError, Ingested, Source};
use super::plan::Trigger;
use super::sql::{self, DeadLetter, Rule};
use super::state::Booking;
use crate::engine::Engine;
use crate::kinds::FieldError;

/// `POST /v1/reminder-rules`.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
// Named apart from the same-named schema of another feature (components are one namespace).
#[schema(as = ReminderRuleSpec)]
pub struct RuleSpec {
    /// `booking` (white-label booking) or `session` (tutoring).
    pub family: String,
    pub name: String,
    /// before_start | day_before_at | after_end | on_cancel | on_confirm | on_no_show
    pub trigger: String,
    /// Minutes before the start (before_start) or after the end (after_end).
    #[serde(default)]
    pub offset_minutes: i32,
    /// `HH:MM` in the tenant's zone, for day_before_at (e.g. `18:00`).
    #[serde(default)]
    pub local_time: Option<String>,
    /// client | staff | both (default client).
    #[serde(default = "client")]
    pub audience: String,
    /// email, sms, whatsapp, push.
    pub channels: Vec<String>,
    /// minijinja, pt-BR; variables: booking_label, resource_label, client_label,
    /// staff_label, name, date (dd/mm/aaaa), time (HH:MM), end_time, resource_id.
    #[serde(default)]
    pub template: Option<String>,
    /// Ignores quiet hours.
    #[serde(default)]
    pub urgent: bool,
}

fn client() -> String {
    "client".into()
}

impl RuleSpec {
    /// Checks it and turns it into a row for `tenant`.
    pub fn into_rule(self, tenant: Uuid) -> Result<Rule, FieldError> {
        if !matches!(self.family.as_str(), "booking" | "session") {
            return Err(FieldError::new("family", "booking or session"));
        }
        if self.name.trim().is_empty() || self.name.len() > 100 {
            return Err(FieldError::new("name", "must be 1-100 bytes"));
        }
        if !(0..=525_600).contains(&self.offset_minutes) {
            return Err(FieldError::new("offset_minutes", "0 to 525600 (a year)"));
        }
        let local_time = match &self.local_time {
            None => None,
            Some(s) => Some(
                NaiveTime::parse_from_str(s, "%H:%M")
                    .map_err(|_| FieldError::new("local_time", "HH:MM, e.g. 18:00"))?,
            ),
        };
        let trigger = Trigger::from_row(&self.trigger, self.offset_minutes, local_time)
            .ok_or_else(|| {
                if self.trigger == "day_before_at" {
                    FieldError::new("local_time", "required for day_before_at")
                } else {
                    FieldError::new(
                        "trigger",
                        "before_start, day_before_at, after_end, on_cancel, on_confirm or on_no_show",
                    )
                }
            })?;
        if !matches!(self.audience.as_str(), "client" | "staff" | "both") {
            return Err(FieldError::new("audience", "client, staff or both"));
        }
        if self.channels.is_empty() {
            return Err(FieldError::new("channels", "at least one"));
        }
        for (i, c) in self.channels.iter().enumerate() {
            if !matches!(c.as_str(), "email" | "sms" | "whatsapp" | "push") {
                return Err(FieldError::new(
                    format!("channels[{i}]"),
                    "email, sms, whatsapp or push",
                ));
            }
        }
        if let Some(t) = &self.template {
            let sample = super::message::variables(
                &Booking::default(),
                &serde_json::json!({}),
                chrono_tz::UTC,
                Some("Ana"),
                &self.family,
            );
            super::message::render(Some(t), trigger, &sample)
                .map_err(|e| FieldError::new("template", e))?;
        }
        Ok(Rule {
            id: Uuid::now_v7(),
            tenant_id: tenant,
            family: self.family,
            name: self.name,
            trigger: self.trigger,
            offset_minutes: self.offset_minutes,
            local_time,
            audience: self.audience,
            channels: self.channels,
            template: self.template,
            urgent: self.urgent,
        })
    }
}

pub async fn list_rules(pg: &PgPool, tenant: Uuid) -> Result<Vec<Rule>, sqlx::Error> {
    let mut rules = sql::rules(pg, tenant, "booking").await?;
    rules.extend(sql::rules(pg, tenant, "session").await?);
    Ok(rules)
}

/// Disables a rule (planned rows of it still go; new plans skip it). `false`: no such rule.
pub async fn disable_rule(pg: &PgPool, tenant: Uuid, id: Uuid) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "update reminder_rules set enabled = false where tenant_id = $1 and id = $2 and enabled",
    )
    .bind(tenant)
    .bind(id)
    .execute(pg)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Why a dead letter could not be retried.
#[derive(Debug, thiserror::Error)]
pub enum RetryError {
    #[error("no open dead letter {0}")]
    NotFound(Uuid),
    /// Still cannot be handled; the row keeps the new reason.
    #[error("{0}")]
    Still(String),
    #[error("postgres: {0}")]
    Db(#[from] sqlx::Error),
    #[error("webhook: {0}")]
    Webhook(#[from] crate::kinds::notify::outbox::EnqueueError),
}

/// Open dead letters; `tenant` = only that tenant's, `None` = all (ops).
pub async fn dead_letters(
    pg: &PgPool,
    tenant: Option<Uuid>,
) -> Result<Vec<DeadLetter>, sqlx::Error> {
    sqlx::query_as(
        "select id, stream, entry_id, tenant_id, fields, reason, deliveries, created_at, resolution \
         from event_dead_letters where resolution is null and ($1::uuid is null or tenant_id = $1) \
         order by created_at desc limit 500",
    )
    .bind(tenant)
    .fetch_all(pg)
    .await
}

async fn open_letter(
    pg: &PgPool,
    tenant: Option<Uuid>,
    id: Uuid,
) -> Result<DeadLetter, RetryError> {
    let row: Option<DeadLetter> = sqlx::query_as(
        "select id, stream, entry_id, tenant_id, fields, reason, deliveries, created_at, resolution \
         from event_dead_letters where id = $1 and resolution is null and ($2::uuid is null or tenant_id = $2)",
    )
    .bind(id)
    .bind(tenant)
    .fetch_optional(pg)
    .await?;
    row.ok_or(RetryError::NotFound(id))
}

async fn resolve(
    pg: &PgPool,
    id: Uuid,
    resolution: &str,
    reason: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update event_dead_letters set resolution = $2, resolved_at = case when $2 is null then null else now() end, \
         reason = coalesce($3, reason) where id = $1",
    )
    .bind(id)
    .bind((!resolution.is_empty()).then_some(resolution))
    .bind(reason)
    .execute(pg)
    .await?;
    Ok(())
}

/// Handles the raw entry again (after its tenant was mapped, or the cause fixed).
/// `source` is the stream's `tenant_external_ids.source`.
pub async fn retry_dead_letter(
    pg: &PgPool,
    engine: &Engine,
    tenant_scope: Option<Uuid>,
    id: Uuid,
    source: &str,
) -> Result<Ingested, RetryError> {
    let letter = open_letter(pg, tenant_scope, id).await?;
    let fields: Vec<(String, String)> = letter
        .fields
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default();
    let still = |why: String| async move {
        resolve(pg, id, "", Some(&why)).await?;
        Err::<Ingested, RetryError>(RetryError::Still(why))
    };
    let env = match Event::from_stream_fields(&fields) {
        Ok(e) => e,
        Err(e) => return still(format!("malformed entry: {e}")).await,
    };
    let event = match Event::parse(&env) {
        Ok(e) => e,
        Err(e) => return still(format!("malformed entry: {e}")).await,
    };
    let external = event.external_tenant.clone().unwrap_or_default();
    let Some(tenant) = sql::tenant_by_external(pg, source, &external).await? else {
        return still(format!(
            "unknown tenant: {source} {external:?} is mapped to no tenant"
        ))
        .await;
    };
    if tenant_scope.is_some_and(|t| t != tenant) {
        return Err(RetryError::NotFound(id));
    }
    let raw = serde_json::to_value(&env).unwrap_or_default();
    let src = Source {
        name: &letter.stream,
        entry_id: Some(&letter.entry_id),
    };
    let recorded = match ingest(pg, tenant, src, &event, &raw, chrono::Utc::now()).await {
        Ok(r) => r,
        Err(IngestError::Permanent(why)) => return still(why).await,
        Err(IngestError::Db(e)) => return Err(e.into()),
    };
    publish(pg, engine, tenant, &event, &recorded, &raw).await?;
    resolve(pg, id, "retried", None).await?;
    Ok(recorded)
}

/// Closes a dead letter without handling it. `false`: no such open letter.
pub async fn discard_dead_letter(
    pg: &PgPool,
    tenant_scope: Option<Uuid>,
    id: Uuid,
) -> Result<bool, sqlx::Error> {
    match open_letter(pg, tenant_scope, id).await {
        Ok(_) => {
            resolve(pg, id, "discarded", None).await?;
            Ok(true)
        }
        Err(RetryError::Db(e)) => Err(e),
        Err(_) => Ok(false),
    }
}

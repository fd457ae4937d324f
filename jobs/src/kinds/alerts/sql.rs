//! The alert tables' queries (0006): rules (CRUD for `/v1/alert-rules`),
//! alerts (list, one with its history, acknowledge) and the tenant's daily
//! evaluation schedule. The evaluation's own statements are in `eval.rs` and
//! `lifecycle.rs`.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgExecutor, PgPool};
use utoipa::ToSchema;
use uuid::Uuid;

use super::rule::{Audience, Condition, RuleSpec, Urgency};
use crate::kinds::notify::ChannelName;
use crate::store::schedules::{self, CatchUp, ScheduleSpec};

/// Unique (tenant, name) of rules: a second rule with the same name is a 409.
pub const RULE_NAME_UNIQUE: &str = "alert_rules_name_key";
/// The name of the daily schedule created with a tenant's first rule.
pub const DAILY_SCHEDULE: &str = "alertas-academicos-diarios";

/// A saved rule.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct RuleRow {
    pub id: Uuid,
    pub name: String,
    pub enabled: bool,
    pub condition: Condition,
    pub audience: Vec<Audience>,
    pub channels: Vec<ChannelName>,
    pub urgency: Urgency,
    pub subject: String,
    pub template: String,
    pub cooldown_secs: u32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct RawRule {
    id: Uuid,
    name: String,
    enabled: bool,
    condition: sqlx::types::Json<serde_json::Value>,
    audience: Vec<String>,
    channels: Vec<String>,
    urgency: String,
    subject: Option<String>,
    template: String,
    cooldown_secs: i32,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl RawRule {
    /// `None` for a row this build cannot read (written by a newer version).
    fn parse(self) -> Option<RuleRow> {
        let condition = match serde_json::from_value(self.condition.0) {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(rule_id = %self.id, error = %e, "alert rule condition unreadable; skipped");
                return None;
            }
        };
        Some(RuleRow {
            id: self.id,
            name: self.name,
            enabled: self.enabled,
            condition,
            audience: self
                .audience
                .iter()
                .filter_map(|a| Audience::parse(a))
                .collect(),
            channels: self
                .channels
                .iter()
                .filter_map(|c| ChannelName::parse(c))
                .collect(),
            urgency: Urgency::parse(&self.urgency).unwrap_or_default(),
            subject: self
                .subject
                .unwrap_or_else(|| super::rule::DEFAULT_SUBJECT.to_string()),
            template: self.template,
            cooldown_secs: self.cooldown_secs.max(0) as u32,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

const RULE_COLS: &str =
    "id, name, enabled, condition, audience, channels, urgency, subject, template, \
                         cooldown_secs, created_at, updated_at";

type RuleQuery<'q> = sqlx::query::QueryAs<'q, sqlx::Postgres, RawRule, sqlx::postgres::PgArguments>;

/// Binds `$3`..`$11` of an insert or update: the spec's fields, in column order.
fn bind_spec<'q>(q: RuleQuery<'q>, spec: &'q RuleSpec) -> RuleQuery<'q> {
    q.bind(&spec.name)
        .bind(spec.enabled)
        .bind(serde_json::to_value(&spec.condition).expect("condition serialises"))
        .bind(
            spec.audience
                .iter()
                .map(|a| a.as_str().to_string())
                .collect::<Vec<_>>(),
        )
        .bind(
            spec.channels
                .iter()
                .map(|c| c.as_str().to_string())
                .collect::<Vec<_>>(),
        )
        .bind(spec.urgency.as_str())
        .bind(spec.subject())
        .bind(spec.template())
        .bind(spec.cooldown_secs as i32)
}

/// Saves a rule that passed `validate`; the default template is stored explicitly.
pub async fn create_rule(
    ex: impl PgExecutor<'_>,
    tenant: Uuid,
    spec: &RuleSpec,
) -> Result<RuleRow, sqlx::Error> {
    let sql = format!(
        "insert into alert_rules (id, tenant_id, name, enabled, condition, audience, channels, urgency, subject,
                                  template, cooldown_secs)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) returning {RULE_COLS}"
    );
    let q = sqlx::query_as(&sql).bind(Uuid::now_v7()).bind(tenant);
    let raw: RawRule = bind_spec(q, spec).fetch_one(ex).await?;
    Ok(raw.parse().expect("a rule just written parses"))
}

pub async fn update_rule(
    ex: impl PgExecutor<'_>,
    tenant: Uuid,
    id: Uuid,
    spec: &RuleSpec,
) -> Result<Option<RuleRow>, sqlx::Error> {
    let sql = format!(
        "update alert_rules set name = $3, enabled = $4, condition = $5, audience = $6, channels = $7,
                urgency = $8, subject = $9, template = $10, cooldown_secs = $11, updated_at = now()
         where tenant_id = $1 and id = $2 returning {RULE_COLS}"
    );
    let q = sqlx::query_as(&sql).bind(tenant).bind(id);
    let raw: Option<RawRule> = bind_spec(q, spec).fetch_optional(ex).await?;
    Ok(raw.and_then(RawRule::parse))
}

pub async fn get_rule(
    ex: impl PgExecutor<'_>,
    tenant: Uuid,
    id: Uuid,
) -> Result<Option<RuleRow>, sqlx::Error> {
    let raw: Option<RawRule> = sqlx::query_as(&format!(
        "select {RULE_COLS} from alert_rules where tenant_id = $1 and id = $2"
    ))
    .bind(tenant)
    .bind(id)
    .fetch_optional(ex)
    .await?;
    Ok(raw.and_then(RawRule::parse))
}

pub async fn list_rules(
    ex: impl PgExecutor<'_>,
    tenant: Uuid,
) -> Result<Vec<RuleRow>, sqlx::Error> {
    let raw: Vec<RawRule> = sqlx::query_as(&format!(
        "select {RULE_COLS} from alert_rules where tenant_id = $1 order by name, id"
    ))
    .bind(tenant)
    .fetch_all(ex)
    .await?;
    Ok(raw.into_iter().filter_map(RawRule::parse).collect())
}

/// The tenant's rules (all, or those in `ids`), enabled or not.
pub async fn rules_for_evaluation(
    ex: impl PgExecutor<'_>,
    tenant: Uuid,
    ids: Option<&[Uuid]>,
) -> Result<Vec<RuleRow>, sqlx::Error> {
    let raw: Vec<RawRule> = sqlx::query_as(&format!(
        "select {RULE_COLS} from alert_rules where tenant_id = $1 and ($2::uuid[] is null or id = any($2))
         order by id"
    ))
    .bind(tenant)
    .bind(ids)
    .fetch_all(ex)
    .await?;
    Ok(raw.into_iter().filter_map(RawRule::parse).collect())
}

/// Deletes a rule and its alerts (cascade).
pub async fn delete_rule(
    ex: impl PgExecutor<'_>,
    tenant: Uuid,
    id: Uuid,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("delete from alert_rules where tenant_id = $1 and id = $2")
        .bind(tenant)
        .bind(id)
        .execute(ex)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// Creates the tenant's daily `alerts.evaluate` schedule (at `hour`:00 in the
/// tenant's zone) unless the tenant already has a schedule of that kind;
/// `true` when it created one.
pub async fn ensure_daily_schedule(
    pool: &PgPool,
    tenant: Uuid,
    timezone: &str,
    hour: u8,
) -> Result<bool, sqlx::Error> {
    let existing = schedules::list(pool, tenant).await?;
    if existing.iter().any(|s| s.kind == super::EVALUATE) {
        return Ok(false);
    }
    let spec = ScheduleSpec {
        name: DAILY_SCHEDULE.to_string(),
        cron: format!("0 0 {} * * *", hour.min(23)),
        timezone: Some(timezone.to_string()),
        kind: super::EVALUATE.to_string(),
        payload: serde_json::json!({}),
        enabled: true,
        catch_up: CatchUp::Last,
    };
    match schedules::create(pool, tenant, &spec, timezone, Utc::now()).await {
        Ok(_) => Ok(true),
        // Another request created it meanwhile.
        Err(e)
            if e.as_database_error().and_then(|d| d.constraint())
                == Some(schedules::UNIQUE_NAME) =>
        {
            Ok(false)
        }
        Err(e) => Err(e),
    }
}

/// An alert as the API shows it.
#[derive(Clone, Debug, Serialize, sqlx::FromRow, ToSchema)]
pub struct AlertRow {
    pub id: Uuid,
    pub rule_id: Uuid,
    pub rule_name: String,
    pub student_id: Uuid,
    pub student_registration: String,
    pub student_name: String,
    /// '' (the student), a subject code, or `occurrence:<external id>`.
    pub scope: String,
    /// open | acknowledged | resolved
    pub status: String,
    /// 1 when first opened, +1 at each re-open.
    pub episode: i32,
    /// What the rule saw at its latest evaluation.
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    pub opened_at: DateTime<Utc>,
    /// When what the rule saw (`details`) last changed. An open alert holds
    /// as of the tenant's latest evaluation; unchanged ones are not rewritten.
    pub changed_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub acknowledged_by: Option<String>,
    pub notified_at: Option<DateTime<Utc>>,
    /// Recipients of the latest episode that could not be reached.
    #[schema(value_type = Vec<Object>)]
    pub unreachable: serde_json::Value,
}

const ALERT_COLS: &str = "a.id, a.rule_id, r.name as rule_name, a.student_id, s.registration as student_registration,
    s.name as student_name, a.scope, a.status, a.episode, a.details, a.opened_at, a.changed_at, a.resolved_at,
    a.acknowledged_at, a.acknowledged_by, a.notified_at, a.unreachable";

/// Filters of `GET /v1/alerts`.
#[derive(Clone, Debug, Default)]
pub struct AlertFilter {
    pub status: Option<String>,
    pub student: Option<Uuid>,
    pub registration: Option<String>,
    pub rule: Option<Uuid>,
    /// Opened at or after.
    pub since: Option<DateTime<Utc>>,
    /// Keyset cursor: strictly before this (opened_at, id).
    pub before: Option<(DateTime<Utc>, Uuid)>,
    pub limit: i64,
}

/// Newest first.
pub async fn list_alerts(
    ex: impl PgExecutor<'_>,
    tenant: Uuid,
    f: &AlertFilter,
) -> Result<Vec<AlertRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "select {ALERT_COLS}
         from alerts a join alert_rules r on r.id = a.rule_id join students s on s.id = a.student_id
         where a.tenant_id = $1 and ($2::text is null or a.status = $2) and ($3::uuid is null or a.student_id = $3)
           and ($4::text is null or s.registration = $4) and ($5::uuid is null or a.rule_id = $5)
           and ($6::timestamptz is null or a.opened_at >= $6)
           and ($7::timestamptz is null or (a.opened_at, a.id) < ($7, $8::uuid))
         order by a.opened_at desc, a.id desc limit $9"
    ))
    .bind(tenant)
    .bind(&f.status)
    .bind(f.student)
    .bind(&f.registration)
    .bind(f.rule)
    .bind(f.since)
    .bind(f.before.map(|b| b.0))
    .bind(f.before.map(|b| b.1))
    .bind(f.limit)
    .fetch_all(ex)
    .await
}

pub async fn get_alert(
    ex: impl PgExecutor<'_>,
    tenant: Uuid,
    id: Uuid,
) -> Result<Option<AlertRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "select {ALERT_COLS}
         from alerts a join alert_rules r on r.id = a.rule_id join students s on s.id = a.student_id
         where a.tenant_id = $1 and a.id = $2"
    ))
    .bind(tenant)
    .bind(id)
    .fetch_optional(ex)
    .await
}

/// One change of an alert.
#[derive(Clone, Debug, Serialize, sqlx::FromRow, ToSchema)]
pub struct AlertEvent {
    /// opened | reopened | resolved | acknowledged | notified | notify_skipped
    pub event: String,
    pub episode: i32,
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    pub at: DateTime<Utc>,
}

/// An alert's history, oldest first.
pub async fn alert_events(
    ex: impl PgExecutor<'_>,
    tenant: Uuid,
    id: Uuid,
) -> Result<Vec<AlertEvent>, sqlx::Error> {
    sqlx::query_as(
        "select event, episode, details, at from alert_events where tenant_id = $1 and alert_id = $2 order by id",
    )
    .bind(tenant)
    .bind(id)
    .fetch_all(ex)
    .await
}

/// What acknowledging did.
#[derive(Debug, PartialEq, Eq)]
pub enum Ack {
    Done,
    AlreadyAcknowledged,
    Resolved,
    NotFound,
}

/// `open` → `acknowledged` (it still resolves when the rule stops holding).
pub async fn acknowledge(
    pool: &PgPool,
    tenant: Uuid,
    id: Uuid,
    by: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Ack, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let status: Option<(String, i32)> = sqlx::query_as(
        "select status, episode from alerts where tenant_id = $1 and id = $2 for update",
    )
    .bind(tenant)
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((status, episode)) = status else {
        return Ok(Ack::NotFound);
    };
    let ack = match status.as_str() {
        "acknowledged" => Ack::AlreadyAcknowledged,
        "resolved" => Ack::Resolved,
        _ => {
            sqlx::query(
                "update alerts set status = 'acknowledged', acknowledged_at = $3, acknowledged_by = $4
                 where tenant_id = $1 and id = $2",
            )
            .bind(tenant)
            .bind(id)
            .bind(now)
            .bind(by)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "insert into alert_events (tenant_id, alert_id, event, episode, details, at)
                 values ($1, $2, 'acknowledged', $3, jsonb_build_object('by', $4::text), $5)",
            )
            .bind(tenant)
            .bind(id)
            .bind(episode)
            .bind(by)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            Ack::Done
        }
    };
    tx.commit().await?;
    Ok(ack)
}

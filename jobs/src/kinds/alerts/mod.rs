//! Academic alerts: `alerts.evaluate` runs a tenant's alert rules over its
//! academic records (grades, attendance, occurrences: migration 0005), keeps
//! one alert per rule, student and scope through its lifecycle (open →
//! acknowledged → resolved → re-opened; migration 0006) and tells guardians
//! and staff through the notifications outbox.
//!
//! Enqueued after ingestion (`/v1/academic/*`) and `documents.extract` with
//! the students touched, and daily per tenant by a schedule row created with
//! its first rule (`alerts.daily_hour`, the tenant's zone).
//!
//! Layout: `rule` (the rule spec and its checks), `eval` (one set-based
//! statement per condition), `lifecycle` (the transaction: scope, hits,
//! open/refresh/resolve/re-open), `deliver` (recipients, pt-BR messages,
//! outbox), `sql` (rules CRUD, alerts list/ack, the daily schedule).

pub mod deliver;
pub mod eval;
pub mod lifecycle;
pub mod rule;
pub mod sql;

use std::time::Duration;

use chrono::Utc;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{FieldError, JobContext, JobError, JobKind, KindPolicy};
use crate::engine::{Engine, NewJob};

pub use lifecycle::{AlertsError, Evaluation};
pub use rule::{Audience, Condition, RuleSpec, Scope, TrendOver, Urgency};

/// The queue `alerts.evaluate` runs on.
pub const QUEUE: &str = "alerts";
pub const EVALUATE: &str = "alerts.evaluate";
/// Most ids in one payload list.
pub const MAX_IDS: usize = 100_000;

/// `alerts.evaluate`.
pub struct Evaluate;

/// Payload of `alerts.evaluate`; the tenant is the job's. Every list narrows
/// the evaluation (absent = all); `{}` evaluates the whole institution.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EvaluatePayload {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub student_ids: Option<Vec<Uuid>>,
    /// Students currently enrolled in these classes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class_ids: Option<Vec<Uuid>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_ids: Option<Vec<Uuid>>,
    /// School year to evaluate; default: the current year in the tenant's zone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year: Option<i32>,
}

impl JobKind for Evaluate {
    const NAME: &'static str = EVALUATE;
    type Payload = EvaluatePayload;

    fn policy() -> KindPolicy {
        KindPolicy {
            // A whole institution (100,000 students) takes seconds; leave room.
            timeout: Duration::from_secs(600),
            max_attempts: 5,
            backoff_base: Duration::from_secs(5),
            ..KindPolicy::new(QUEUE)
        }
    }

    fn validate(p: &EvaluatePayload) -> Result<(), FieldError> {
        for (name, list) in [
            ("student_ids", &p.student_ids),
            ("class_ids", &p.class_ids),
            ("rule_ids", &p.rule_ids),
        ] {
            if list.as_ref().is_some_and(|l| l.len() > MAX_IDS) {
                return Err(FieldError::new(name, format!("at most {MAX_IDS} ids")));
            }
        }
        if p.year.is_some_and(|y| !(1900..=2200).contains(&y)) {
            return Err(FieldError::new("year", "must be 1900-2200"));
        }
        Ok(())
    }

    async fn run(p: EvaluatePayload, ctx: JobContext) -> Result<serde_json::Value, JobError> {
        let pg = ctx
            .resources
            .pg
            .clone()
            .ok_or_else(|| JobError::permanent("alerts.evaluate needs PostgreSQL"))?;
        let tenant: Uuid = ctx
            .tenant
            .parse()
            .map_err(|_| JobError::permanent("tenant is not a UUID"))?;
        let out = run(&pg, &ctx.resources.engine, tenant, &p, Utc::now())
            .await
            .map_err(|e| match e {
                AlertsError::NoTenant(_) => JobError::permanent(e.to_string()),
                e => JobError::retryable(e.to_string()),
            })?;
        tracing::info!(tenant_id = %tenant, job_id = %ctx.id, opened = out.opened, resolved = out.resolved,
            messages = out.messages, evaluate_ms = out.evaluate_ms, "alerts evaluated");
        Ok(serde_json::to_value(&out).unwrap_or_default())
    }
}

/// Evaluates and notifies (the body of the job; tests and the bench call it
/// with their own clock).
pub async fn run(
    pool: &PgPool,
    engine: &Engine,
    tenant: Uuid,
    p: &EvaluatePayload,
    now: chrono::DateTime<Utc>,
) -> Result<Evaluation, AlertsError> {
    let (mut out, rules, pending) = lifecycle::evaluate(pool, tenant, p, now).await?;
    let started = std::time::Instant::now();
    let d = deliver::deliver(pool, engine, tenant, &out, &rules, &pending, now).await?;
    out.messages = d.messages;
    out.notified = d.notified;
    out.cooldown_skipped = d.cooldown_skipped;
    out.unreachable = d.unreachable;
    out.notify_ms = started.elapsed().as_millis() as u64;
    Ok(out)
}

/// The job that evaluates `students` of `tenant` (after an ingestion).
pub fn evaluate_job(tenant: Uuid, students: Vec<Uuid>) -> NewJob {
    let payload = EvaluatePayload {
        student_ids: Some(students),
        ..EvaluatePayload::default()
    };
    NewJob::new(
        QUEUE,
        EVALUATE,
        &tenant.to_string(),
        serde_json::to_value(payload).expect("payload serialises"),
    )
}

/// `[alerts]` in the config.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertsSettings {
    /// Hour (0-23, the tenant's zone) of the daily schedule created with a tenant's first rule.
    pub daily_hour: u8,
    /// Most rows in one ingestion request (`/v1/academic/*`).
    pub ingest_max_rows: usize,
    /// Largest ingestion body (JSON or CSV), bytes.
    pub ingest_body_limit: usize,
}

impl Default for AlertsSettings {
    fn default() -> Self {
        AlertsSettings {
            daily_hour: 6,
            ingest_max_rows: 10_000,
            ingest_body_limit: 8 * 1024 * 1024,
        }
    }
}

//! Payments: charge, confirm and refund through a Stripe-compatible
//! provider — exactly one charge per payment, whatever fails.
//!
//! Layout: `model` (requests, rows, checks), `sql` (migration 0011's
//! tables; forward-only status moves), `stripe` (the provider client and
//! how its answers are classified), `charge` (the `payments.charge` job),
//! `refund` (the `payments.refund` job), `settle` (applying what the
//! provider said; receipt and tenant webhook through the outbox), `events`
//! (signed provider webhooks). The API routes are `api-lite/src/routes/payments.rs`.
//!
//! Life of a payment: `POST /v1/payments` writes the row (`pending`, unique
//! per tenant and `Idempotency-Key`) and pushes `payments.charge` with the
//! payment id as job id (a repeated request makes no second job). The job
//! creates and confirms a PaymentIntent with a key derived from the payment
//! id; the answer, or a provider event, moves the payment forward only.

pub mod charge;
pub mod events;
pub mod model;
pub mod refund;
pub mod settle;
pub mod sql;
pub mod stripe;

use std::time::Duration;

use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{FieldError, JobContext, JobError, JobKind, KindPolicy};
use crate::engine::{Engine, NewJob, Priority};
pub use model::{Payment, PaymentAttempt, PaymentRefund, PaymentRequest, RefundRequest};

/// The queue both payment kinds run on.
pub const QUEUE: &str = "payments";
pub const CHARGE: &str = "payments.charge";
pub const REFUND: &str = "payments.refund";

/// `[payments]` settings. Secrets come only from the environment variables they name.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PaymentsSettings {
    /// The provider's API (`https://api.stripe.com`, or a compatible service).
    pub base_url: String,
    /// Env var holding the secret API key (`sk_live_…`).
    pub secret_key_env: String,
    /// Env var holding the webhook signing secret(s), comma-separated while one is rotated.
    pub webhook_secret_env: String,
    /// Signed events older (or newer) than this are refused.
    pub webhook_tolerance_secs: i64,
    /// Larger charges are refused with 422.
    pub max_amount_cents: i64,
    /// One provider call's limit; a timeout is an unknown outcome (retried with the same key).
    pub request_timeout_ms: u64,
    /// Past this since a payment was created, an attempt whose outcome is
    /// unknown looks the intent up instead of sending the create again (the
    /// provider keeps idempotency keys 24 h).
    pub reconcile_after_secs: u64,
}

impl Default for PaymentsSettings {
    fn default() -> Self {
        PaymentsSettings {
            base_url: "https://api.stripe.com".into(),
            secret_key_env: "TAREFA_STRIPE_SECRET_KEY".into(),
            webhook_secret_env: "TAREFA_STRIPE_WEBHOOK_SECRET".into(),
            webhook_tolerance_secs: 300,
            max_amount_cents: 5_000_000,
            request_timeout_ms: 30_000,
            reconcile_after_secs: 20 * 3600,
        }
    }
}

/// `payments.charge`.
pub struct Charge;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChargePayload {
    pub payment_id: Uuid,
}

impl JobKind for Charge {
    const NAME: &'static str = CHARGE;
    type Payload = ChargePayload;

    fn policy() -> KindPolicy {
        KindPolicy {
            priority: Priority::High,
            // Longer than the provider call's own timeout.
            timeout: Duration::from_secs(90),
            max_attempts: 12,
            backoff_base: Duration::from_secs(2),
            backoff_cap: Duration::from_secs(15 * 60),
            // Personal data (payment references): sealed at rest.
            encrypt: true,
            ..KindPolicy::new(QUEUE)
        }
    }

    async fn run(p: ChargePayload, ctx: JobContext) -> Result<serde_json::Value, JobError> {
        charge::run(p.payment_id, &ctx).await
    }
}

/// `payments.refund`.
pub struct Refund;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundPayload {
    pub refund_id: Uuid,
}

impl JobKind for Refund {
    const NAME: &'static str = REFUND;
    type Payload = RefundPayload;

    fn policy() -> KindPolicy {
        KindPolicy {
            timeout: Duration::from_secs(90),
            max_attempts: 12,
            backoff_base: Duration::from_secs(2),
            backoff_cap: Duration::from_secs(15 * 60),
            // Personal data (payment references): sealed at rest.
            encrypt: true,
            ..KindPolicy::new(QUEUE)
        }
    }

    async fn run(p: RefundPayload, ctx: JobContext) -> Result<serde_json::Value, JobError> {
        refund::run(p.refund_id, &ctx).await
    }
}

/// What `submit` did.
pub enum Submitted {
    /// A new payment and its charge job.
    Created(Payment),
    /// The same key and request as before: that payment.
    Replayed(Payment),
}

/// Why a payment could not be submitted.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error("{0}")]
    Invalid(FieldError),
    #[error("the idempotency key was used with another request (payment {0})")]
    KeyReused(Uuid),
    #[error("postgres: {0}")]
    Db(#[from] sqlx::Error),
    #[error("engine: {0}")]
    Engine(#[from] crate::engine::EngineError),
}

/// Writes the payment and pushes its charge job (job id = payment id, so a
/// replay pushes nothing new). `trace`: the request's traceparent.
pub async fn submit(
    pg: &PgPool,
    engine: &Engine,
    settings: &PaymentsSettings,
    tenant: Uuid,
    key: Option<&str>,
    req: &PaymentRequest,
    trace: Option<String>,
) -> Result<Submitted, SubmitError> {
    let valid = req
        .validate(settings.max_amount_cents)
        .map_err(SubmitError::Invalid)?;
    let (mut p, new) = match sql::insert(pg, tenant, key, &valid).await? {
        sql::Inserted::New(p) => (p, true),
        sql::Inserted::Replay(p) => (p, false),
        sql::Inserted::Mismatch(p) => return Err(SubmitError::KeyReused(p.id)),
    };
    // Pushed on a replay too (an idempotent no-op when the job exists): a
    // crash between the insert and the push must not strand the payment.
    let mut job = NewJob::new(
        QUEUE,
        CHARGE,
        &tenant.to_string(),
        serde_json::json!({ "payment_id": p.id }),
    );
    job.id = Some(p.id.to_string());
    job.priority = Priority::High;
    job.max_attempts = Charge::policy().max_attempts;
    job.trace = trace;
    let pushed = engine.push(job).await?;
    if p.job_id.is_none() {
        sql::set_job(pg, p.id, &pushed.id).await?;
        p.job_id = Some(pushed.id);
    }
    Ok(if new {
        Submitted::Created(p)
    } else {
        Submitted::Replayed(p)
    })
}

/// Why a refund could not be submitted.
#[derive(Debug, thiserror::Error)]
pub enum RefundError {
    #[error("{0}")]
    Invalid(FieldError),
    #[error("no such payment")]
    NotFound,
    #[error(transparent)]
    Refused(#[from] sql::RefundRefused),
    #[error("postgres: {0}")]
    Db(#[from] sqlx::Error),
    #[error("engine: {0}")]
    Engine(#[from] crate::engine::EngineError),
}

/// Writes a refund (checked against what is left) and pushes its job.
pub async fn submit_refund(
    pg: &PgPool,
    engine: &Engine,
    settings: &PaymentsSettings,
    tenant: Uuid,
    payment: Uuid,
    key: Option<&str>,
    req: &RefundRequest,
) -> Result<(PaymentRefund, bool), RefundError> {
    let amount = req
        .amount
        .as_ref()
        .map(|a| model::amount_cents("amount", a, settings.max_amount_cents))
        .transpose()
        .map_err(RefundError::Invalid)?;
    if let Some(r) = &req.reason {
        if !model::REFUND_REASONS.contains(&r.as_str()) {
            return Err(RefundError::Invalid(FieldError::new(
                "reason",
                format!("must be one of {}", model::REFUND_REASONS.join(", ")),
            )));
        }
    }
    if sql::get(pg, tenant, payment).await?.is_none() {
        return Err(RefundError::NotFound);
    }
    let (row, new) =
        sql::insert_refund(pg, tenant, payment, key, amount, req.reason.as_deref()).await?;
    let mut job = NewJob::new(
        QUEUE,
        REFUND,
        &tenant.to_string(),
        serde_json::json!({ "refund_id": row.id }),
    );
    job.id = Some(row.id.to_string());
    job.max_attempts = Refund::policy().max_attempts;
    let pushed = engine.push(job).await?;
    sql::set_refund_job(pg, row.id, &pushed.id).await?;
    Ok((row, new))
}

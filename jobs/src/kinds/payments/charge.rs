//! `payments.charge`: one payment → one PaymentIntent at the provider, at
//! most one charge, whatever fails.
//!
//! 1. A payment already settled (succeeded, failed, refunded, needs review)
//!    is done; a succeeded one re-queues its receipt and webhook (idempotent)
//!    in case the run that settled it died before queuing them.
//! 2. A payment the provider already knows (`requires_action`,
//!    `processing`) is retrieved, not created again.
//! 3. Otherwise the intent is created and confirmed with the idempotency
//!    key `tarefa-pay-<payment id>` and parameters that depend only on the
//!    payment row: every attempt — a retry after a timeout, a re-delivery
//!    after the worker was killed between the charge and the ack — is the
//!    same request, and the provider replays its first answer instead of
//!    charging again.
//! 4. Past `payments.reconcile_after_secs` since the payment was created
//!    (before the provider forgets the key, 24 h at Stripe), an attempt
//!    whose outcome is still unknown reconciles instead: it searches the
//!    intent by `metadata[tarefa_payment_id]` and applies it; only when the
//!    provider has none does it create one (the earlier calls never
//!    charged), under a key of its own.
//!
//! Decline → `failed` with the decline code (the job succeeds: its work is
//! done). Idempotency mismatch or `Stripe-Should-Retry: false` → `needs_review`
//! and the job dies with the reason. Connection errors, timeouts, 409, 429
//! and 5xx retry with backoff (or the provider's `Retry-After`); the last
//! attempt with the outcome still unknown → `needs_review`.

use chrono::Utc;
use serde_json::json;
use uuid::Uuid;

use super::model::Payment;
use super::settle::{self, apply_intent};
use super::sql::{self, Change};
use super::stripe::{Intent, Provider, Reply};
use super::PaymentsSettings;
use crate::kinds::{JobContext, JobError};

/// The provider idempotency key of a payment's charge.
pub fn charge_key(id: Uuid) -> String {
    format!("tarefa-pay-{id}")
}

/// The form of the create call: a function of the row alone, so every
/// attempt sends exactly the same parameters under the same key.
pub fn charge_form(p: &Payment) -> Vec<(String, String)> {
    let mut f: Vec<(String, String)> = vec![
        ("amount".into(), p.amount_cents.to_string()),
        ("currency".into(), p.currency.clone()),
        ("confirm".into(), "true".into()),
        ("payment_method_types[]".into(), "card".into()),
    ];
    if let Some(pm) = &p.payment_method {
        f.push(("payment_method".into(), pm.clone()));
    }
    if let Some(c) = &p.customer {
        f.push(("customer".into(), c.clone()));
    }
    if let Some(d) = &p.description {
        f.push(("description".into(), d.clone()));
    }
    for (k, v) in p.metadata.0.iter() {
        f.push((format!("metadata[{k}]"), v.clone()));
    }
    f.push(("metadata[tarefa_payment_id]".into(), p.id.to_string()));
    f.push(("metadata[tarefa_tenant_id]".into(), p.tenant_id.to_string()));
    if let Some(r) = &p.reference {
        f.push(("metadata[tarefa_reference]".into(), r.clone()));
    }
    f
}

fn db(e: impl std::fmt::Display) -> JobError {
    JobError::retryable(format!("postgres: {e}"))
}

/// Runs one attempt of the charge of `payment_id`.
pub async fn run(payment_id: Uuid, ctx: &JobContext) -> Result<serde_json::Value, JobError> {
    let pg = ctx
        .resources
        .pg
        .as_ref()
        .ok_or_else(|| JobError::retryable("no database pool"))?;
    let engine = &ctx.resources.engine;
    let tenant: Uuid = ctx
        .tenant
        .parse()
        .map_err(|_| JobError::permanent("the job's tenant is not a tenant id"))?;
    let Some(p) = sql::get(pg, tenant, payment_id).await.map_err(db)? else {
        return Err(JobError::permanent(format!(
            "no payment {payment_id} for this tenant"
        )));
    };
    let settings: &PaymentsSettings = &ctx.resources.settings.payments;
    match p.status.as_str() {
        "succeeded" | "partially_refunded" | "refunded" => {
            settle::announce_success(pg, engine, &p)
                .await
                .map_err(|e| JobError::retryable(e.to_string()))?;
            return Ok(json!({ "status": p.status, "payment_id": p.id }));
        }
        "failed" | "needs_review" => return Ok(json!({ "status": p.status, "payment_id": p.id })),
        _ => {}
    }
    let provider = Provider::from_settings(settings).map_err(|e| JobError::Retryable {
        reason: e,
        retry_after: Some(std::time::Duration::from_secs(60)),
    })?;
    let last = ctx.attempt >= ctx.max_attempts;
    let window_over =
        (Utc::now() - p.created_at).num_seconds() >= settings.reconcile_after_secs as i64;

    // The provider has it already, or the key window is closing: look, don't create.
    if p.provider_payment_id.is_some() || (window_over && p.attempts > 0) {
        return reconcile(pg, ctx, &provider, &p, last).await;
    }
    let reply = provider
        .create_intent(&charge_key(p.id), &charge_form(&p))
        .await;
    settle_reply(pg, ctx, &p, "create", reply, last).await
}

/// Finds the payment's intent (by id, else by metadata) and applies it; none
/// at the provider means no earlier call charged: create one under a new key.
async fn reconcile(
    pg: &sqlx::PgPool,
    ctx: &JobContext,
    provider: &Provider,
    p: &Payment,
    last: bool,
) -> Result<serde_json::Value, JobError> {
    if let Some(pid) = &p.provider_payment_id {
        let reply = provider.retrieve_intent(pid).await;
        return settle_reply(pg, ctx, p, "retrieve", reply, last).await;
    }
    match provider
        .search_intents("tarefa_payment_id", &p.id.to_string())
        .await
    {
        Reply::Ok(found) if !found.is_empty() => {
            // The one that charged wins over an earlier failed attempt.
            let best = found
                .iter()
                .max_by_key(|i| super::model::rank(settle::status_of(i)))
                .expect("not empty")
                .clone();
            settle_reply(pg, ctx, p, "search", Reply::Ok(best), last).await
        }
        Reply::Ok(_) | Reply::NotFound => {
            sql::record_attempt(pg, p.id, "search", "not_found", None, None)
                .await
                .map_err(db)?;
            let key = format!("{}-reconciled", charge_key(p.id));
            let reply = provider.create_intent(&key, &charge_form(p)).await;
            settle_reply(pg, ctx, p, "create", reply, last).await
        }
        Reply::Retry {
            status,
            reason,
            retry_after,
        } => {
            sql::record_attempt(pg, p.id, "search", "retry", status, Some(&reason))
                .await
                .map_err(db)?;
            give_up_or_retry(pg, p.id, last, reason, retry_after).await
        }
        Reply::Unknown { reason } => {
            sql::record_attempt(pg, p.id, "search", "unknown", None, Some(&reason))
                .await
                .map_err(db)?;
            give_up_or_retry(pg, p.id, last, reason, None).await
        }
        Reply::Declined { status, error } | Reply::Refused { status, error } => {
            let reason = error.describe();
            sql::record_attempt(pg, p.id, "search", "error", Some(status), Some(&reason))
                .await
                .map_err(db)?;
            review(pg, p.id, "reconcile_failed", &reason).await?;
            Err(JobError::permanent(format!("needs review: {reason}")))
        }
    }
}

/// Records the call and moves the payment as its answer says.
async fn settle_reply(
    pg: &sqlx::PgPool,
    ctx: &JobContext,
    p: &Payment,
    action: &str,
    reply: Reply<Intent>,
    last: bool,
) -> Result<serde_json::Value, JobError> {
    let engine = &ctx.resources.engine;
    match reply {
        Reply::Ok(intent) => {
            let outcome = settle::status_of(&intent);
            sql::record_attempt(pg, p.id, action, outcome, Some(200), None)
                .await
                .map_err(db)?;
            let (row, _) = apply_intent(pg, engine, p.id, &intent)
                .await
                .map_err(|e| JobError::retryable(e.to_string()))?
                .ok_or_else(|| JobError::permanent("the payment was deleted"))?;
            Ok(
                json!({ "status": row.status, "payment_id": p.id, "provider_payment_id": intent.id }),
            )
        }
        Reply::Declined { status, error } => {
            sql::record_attempt(
                pg,
                p.id,
                action,
                "declined",
                Some(status),
                Some(&error.describe()),
            )
            .await
            .map_err(db)?;
            let change = Change {
                status: "failed",
                failure_code: error.code.as_deref().or(Some("card_declined")),
                decline_code: error.decline_code.as_deref(),
                failure_message: error.message.as_deref(),
                ..Change::default()
            };
            let mut tx = pg.begin().await.map_err(db)?;
            sql::advance(&mut tx, p.id, &change).await.map_err(db)?;
            tx.commit().await.map_err(db)?;
            Ok(
                json!({ "status": "failed", "payment_id": p.id, "decline_code": error.decline_code }),
            )
        }
        Reply::Refused { status, error } => {
            let reason = error.describe();
            sql::record_attempt(pg, p.id, action, "mismatch", Some(status), Some(&reason))
                .await
                .map_err(db)?;
            review(
                pg,
                p.id,
                error.code.as_deref().unwrap_or(&error.kind),
                &reason,
            )
            .await?;
            Err(JobError::permanent(format!("needs review: {reason}")))
        }
        Reply::Retry {
            status,
            reason,
            retry_after,
        } => {
            sql::record_attempt(pg, p.id, action, "retry", status, Some(&reason))
                .await
                .map_err(db)?;
            give_up_or_retry(pg, p.id, last, reason, retry_after).await
        }
        Reply::Unknown { reason } => {
            sql::record_attempt(pg, p.id, action, "unknown", None, Some(&reason))
                .await
                .map_err(db)?;
            give_up_or_retry(pg, p.id, last, reason, None).await
        }
        Reply::NotFound => {
            sql::record_attempt(pg, p.id, action, "not_found", Some(404), None)
                .await
                .map_err(db)?;
            give_up_or_retry(
                pg,
                p.id,
                last,
                "the provider does not know the intent".into(),
                None,
            )
            .await
        }
    }
}

async fn give_up_or_retry(
    pg: &sqlx::PgPool,
    id: Uuid,
    last: bool,
    reason: String,
    retry_after: Option<std::time::Duration>,
) -> Result<serde_json::Value, JobError> {
    if last {
        let why = format!("outcome unknown after the last attempt: {reason}");
        review(pg, id, "outcome_unknown", &why).await?;
        return Err(JobError::permanent(format!("needs review: {why}")));
    }
    Err(JobError::Retryable {
        reason,
        retry_after,
    })
}

async fn review(pg: &sqlx::PgPool, id: Uuid, code: &str, message: &str) -> Result<(), JobError> {
    let change = Change {
        status: "needs_review",
        failure_code: Some(code),
        failure_message: Some(message),
        ..Change::default()
    };
    let mut tx = pg.begin().await.map_err(db)?;
    sql::advance(&mut tx, id, &change).await.map_err(db)?;
    tx.commit().await.map_err(db)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn payment() -> Payment {
        Payment {
            id: Uuid::nil(),
            tenant_id: Uuid::nil(),
            request_hash: String::new(),
            idempotency_key: Some("k".into()),
            amount_cents: 12345,
            currency: "brl".into(),
            customer: Some("cus_1".into()),
            payment_method: Some("pm_card_visa".into()),
            description: Some("Aula".into()),
            reference: Some("sess-9".into()),
            receipt_email: None,
            metadata: sqlx::types::Json(BTreeMap::from([("curso".into(), "mat".into())])),
            status: "pending".into(),
            amount_received_cents: 0,
            amount_refunded_cents: 0,
            provider_payment_id: None,
            provider_charge_id: None,
            failure_code: None,
            decline_code: None,
            failure_message: None,
            job_id: None,
            attempts: 3,
            created_at: Utc::now(),
            updated_at: Utc::now(),
            succeeded_at: None,
        }
    }

    #[test]
    fn every_attempt_sends_the_same_request_under_the_same_key() {
        let mut a = payment();
        let f1 = charge_form(&a);
        a.attempts = 7;
        a.status = "processing".into();
        a.updated_at = Utc::now();
        assert_eq!(
            f1,
            charge_form(&a),
            "nothing that changes between attempts is sent"
        );
        assert_eq!(charge_key(a.id), charge_key(payment().id));
        assert!(f1.contains(&("amount".into(), "12345".into())));
        assert!(f1.contains(&(
            "metadata[tarefa_payment_id]".into(),
            Uuid::nil().to_string()
        )));
        assert!(f1.contains(&("metadata[curso]".into(), "mat".into())));
    }
}

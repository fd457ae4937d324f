//! `payments.refund`: one refund row → one Refund at the provider, under the
//! idempotency key `tarefa-refund-<refund id>` (every attempt the same
//! request). The amount was checked against what is left when the row was
//! written (`sql::insert_refund`, under the payment's lock); the provider
//! checks again. A refusal settles the refund `failed` (its amount is free
//! again); an idempotency mismatch → `needs_review`; transient trouble retries.

use serde_json::json;
use uuid::Uuid;

use super::sql;
use super::stripe::{Provider, Reply};
use crate::kinds::{JobContext, JobError};

pub fn refund_key(id: Uuid) -> String {
    format!("tarefa-refund-{id}")
}

fn db(e: impl std::fmt::Display) -> JobError {
    JobError::retryable(format!("postgres: {e}"))
}

pub async fn run(refund_id: Uuid, ctx: &JobContext) -> Result<serde_json::Value, JobError> {
    let pg = ctx
        .resources
        .pg
        .as_ref()
        .ok_or_else(|| JobError::retryable("no database pool"))?;
    let Some(r) = sql::refund(pg, refund_id).await.map_err(db)? else {
        return Err(JobError::permanent(format!("no refund {refund_id}")));
    };
    if r.tenant_id.to_string() != ctx.tenant {
        return Err(JobError::permanent("the refund belongs to another tenant"));
    }
    if r.status != "pending" {
        return Ok(json!({ "status": r.status, "refund_id": r.id }));
    }
    let Some(p) = sql::get(pg, r.tenant_id, r.payment_id).await.map_err(db)? else {
        return Err(JobError::permanent("the payment is gone"));
    };
    let Some(intent) = p.provider_payment_id.clone() else {
        sql::settle_refund(
            pg,
            r.id,
            "failed",
            None,
            Some("the payment has no provider intent"),
        )
        .await
        .map_err(db)?;
        return Ok(json!({ "status": "failed", "refund_id": r.id }));
    };
    let provider = Provider::from_settings(&ctx.resources.settings.payments).map_err(|e| {
        JobError::Retryable {
            reason: e,
            retry_after: Some(std::time::Duration::from_secs(60)),
        }
    })?;
    let mut form = vec![
        ("payment_intent".to_string(), intent),
        ("amount".to_string(), r.amount_cents.to_string()),
        ("metadata[tarefa_refund_id]".to_string(), r.id.to_string()),
        ("metadata[tarefa_payment_id]".to_string(), p.id.to_string()),
    ];
    if let Some(reason) = &r.reason {
        form.push(("reason".into(), reason.clone()));
    }
    let last = ctx.attempt >= ctx.max_attempts;
    match provider.create_refund(&refund_key(r.id), &form).await {
        Reply::Ok(obj) => {
            let status = match obj.status.as_str() {
                "succeeded" | "pending" => "succeeded",
                _ => "failed",
            };
            sql::settle_refund(pg, r.id, status, Some(&obj.id), None)
                .await
                .map_err(db)?;
            Ok(json!({ "status": status, "refund_id": r.id, "provider_refund_id": obj.id }))
        }
        Reply::Declined { error, .. } | Reply::Refused { error, .. }
            if error.kind == "idempotency_error" =>
        {
            sql::settle_refund(pg, r.id, "needs_review", None, Some(&error.describe()))
                .await
                .map_err(db)?;
            Err(JobError::permanent(format!(
                "needs review: {}",
                error.describe()
            )))
        }
        Reply::Declined { error, .. } | Reply::Refused { error, .. } => {
            sql::settle_refund(pg, r.id, "failed", None, Some(&error.describe()))
                .await
                .map_err(db)?;
            Ok(json!({ "status": "failed", "refund_id": r.id, "error": error.describe() }))
        }
        Reply::Retry {
            reason,
            retry_after,
            ..
        } if !last => Err(JobError::Retryable {
            reason,
            retry_after,
        }),
        Reply::Unknown { reason } if !last => Err(JobError::retryable(reason)),
        Reply::NotFound if !last => {
            Err(JobError::retryable("the provider does not know the intent"))
        }
        other => {
            let why = format!("outcome unknown after the last attempt: {other:?}");
            sql::settle_refund(pg, r.id, "needs_review", None, Some(&why))
                .await
                .map_err(db)?;
            Err(JobError::permanent(why))
        }
    }
}

//! Moving a payment forward from what the provider said (the charge job's
//! answer, a retrieved intent, a webhook event), and what a success brings:
//! a pt-BR receipt to `receipt_email` and a signed `payment.succeeded`
//! tenant webhook, both through the notifications outbox with a dedup key
//! per payment, so a replay, a re-run or a duplicate event never sends twice.

use sqlx::PgPool;
use uuid::Uuid;

use super::model::Payment;
use super::sql::{self, Change};
use super::stripe::Intent;
use crate::engine::Engine;
use crate::kinds::notify::outbox;
use crate::kinds::notify::{ChannelName, MessageSpec, NotificationRequest};

/// Why settling failed (database or queue trouble: retry).
#[derive(Debug, thiserror::Error)]
pub enum SettleError {
    #[error("postgres: {0}")]
    Db(#[from] sqlx::Error),
    #[error("outbox: {0}")]
    Outbox(#[from] outbox::EnqueueError),
}

/// The payment status an intent's status stands for.
pub fn status_of(intent: &Intent) -> &'static str {
    match intent.status.as_str() {
        "succeeded" => "succeeded",
        "processing" => "processing",
        "requires_action" | "requires_confirmation" => "requires_action",
        // The attempt failed (a decline without an error answer) or was cancelled.
        "requires_payment_method" | "canceled" => "failed",
        _ => "processing",
    }
}

/// Applies `intent` to payment `id`; on success, the receipt and webhook.
/// Returns the row after, and whether its status moved.
pub async fn apply_intent(
    pg: &PgPool,
    engine: &Engine,
    id: Uuid,
    intent: &Intent,
) -> Result<Option<(Payment, bool)>, SettleError> {
    let status = status_of(intent);
    let err = intent.last_payment_error.as_ref();
    let charge = intent.charge_id();
    let change = Change {
        status,
        provider_payment_id: Some(&intent.id),
        provider_charge_id: charge.as_deref(),
        amount_received_cents: (status == "succeeded")
            .then_some(intent.amount_received.max(intent.amount)),
        failure_code: if status == "failed" {
            err.and_then(|e| e.code.as_deref())
        } else {
            None
        },
        decline_code: if status == "failed" {
            err.and_then(|e| e.decline_code.as_deref())
        } else {
            None
        },
        failure_message: if status == "failed" {
            err.and_then(|e| e.message.as_deref())
        } else {
            None
        },
    };
    let mut tx = pg.begin().await?;
    let after = sql::advance(&mut tx, id, &change).await?;
    tx.commit().await?;
    let Some((row, moved)) = after else {
        return Ok(None);
    };
    if row.status == "succeeded" {
        announce_success(pg, engine, &row).await?;
    }
    Ok(Some((row, moved)))
}

/// Queues the receipt and the tenant webhook of a succeeded payment (once
/// each: their dedup keys are per payment). Safe to call again.
pub async fn announce_success(
    pg: &PgPool,
    engine: &Engine,
    p: &Payment,
) -> Result<(), SettleError> {
    if let Some(email) = &p.receipt_email {
        let amount = ptbr::format_cents(p.amount_cents);
        let when = p
            .succeeded_at
            .map(|t| {
                ptbr::format_date(t.with_timezone(&chrono_tz::America::Sao_Paulo).date_naive())
            })
            .unwrap_or_default();
        let what = p.description.as_deref().unwrap_or("seu pedido");
        let mut text =
            format!("Olá! Recebemos o seu pagamento de {amount} em {when}, referente a {what}.");
        if let Some(r) = &p.reference {
            text.push_str(&format!(" Referência: {r}."));
        }
        text.push_str(&format!(" Código do pagamento: {}. Obrigado!", p.id));
        let req = NotificationRequest {
            channel: ChannelName::Email,
            recipient: Some(email.clone()),
            dedup_key: Some(format!("payment:{}:receipt", p.id)),
            recipients: vec![],
            message: MessageSpec {
                subject: Some(format!("Recibo de pagamento — {amount}")),
                text: Some(text),
                ..Default::default()
            },
            urgent: true,
        };
        outbox::enqueue(pg, engine, p.tenant_id, &req).await?;
    }
    // The tenant's own endpoint, when it configured one (channel `webhook`).
    let has_webhook = crate::kinds::notify::sql::channel(pg, p.tenant_id, "webhook")
        .await?
        .is_some_and(|(_, enabled, _)| enabled);
    if has_webhook {
        let data = serde_json::json!({
            "payment_id": p.id, "reference": p.reference, "amount": p.amount_cents,
            "currency": p.currency, "status": "succeeded",
            "provider_payment_id": p.provider_payment_id, "metadata": p.metadata.0,
        });
        let req = NotificationRequest {
            channel: ChannelName::Webhook,
            recipient: Some("payment.succeeded".into()),
            dedup_key: Some(format!("payment:{}:succeeded", p.id)),
            recipients: vec![],
            message: MessageSpec {
                data: data.as_object().cloned().unwrap_or_default(),
                ..Default::default()
            },
            urgent: true,
        };
        outbox::enqueue(pg, engine, p.tenant_id, &req).await?;
    }
    Ok(())
}

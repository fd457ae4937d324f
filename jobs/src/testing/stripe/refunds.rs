//! Refunds against a succeeded PaymentIntent: all that is left by default,
//! never more (`amount_too_large`, `charge_already_refunded`).

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Extension;
use serde_json::json;

use super::edge::{executed, Answer, Ctx};
use super::wire::{self, new_id, ApiError};
use super::{Refund, Shared};

const REFUND_PARAMS: &[&str] = &[
    "amount",
    "charge",
    "currency",
    "customer",
    "expand",
    "instructions_email",
    "metadata",
    "origin",
    "payment_intent",
    "reason",
    "refund_application_fee",
    "reverse_transfer",
];

pub async fn create_refund(State(s): State<Arc<Shared>>, Extension(ctx): Extension<Ctx>) -> Answer {
    let p = &ctx.params;
    wire::known_params(p, REFUND_PARAMS)?;
    let amount = wire::amount(p, "amount")?;
    let mut ledger = s.ledger.lock().expect("ledger");
    let i = match (p.get("payment_intent"), p.get("charge")) {
        (Some(pi), _) => ledger.find(pi).ok_or_else(|| {
            ApiError::no_such(
                StatusCode::BAD_REQUEST,
                "payment_intent",
                pi,
                "payment_intent",
            )
        })?,
        (None, Some(ch)) => ledger
            .intents
            .iter()
            .position(|i| i.status == "succeeded" && i.latest_charge.as_ref() == Some(ch))
            .ok_or_else(|| ApiError::no_such(StatusCode::BAD_REQUEST, "charge", ch, "charge"))?,
        (None, None) => return Err(ApiError::missing("payment_intent")),
    };
    let intent = &mut ledger.intents[i];
    let Some(charge) = intent
        .latest_charge
        .clone()
        .filter(|_| intent.status == "succeeded")
    else {
        return Err(ApiError::invalid(format!(
            "This PaymentIntent ({}) does not have a successful charge to refund.",
            intent.id
        ))
        .code("payment_intent_unexpected_state")
        .param("payment_intent"));
    };
    let left = intent.amount_received - intent.refunded;
    if left == 0 {
        return Err(
            ApiError::invalid(format!("Charge {charge} has already been refunded."))
                .code("charge_already_refunded")
                .field("charge", charge.into()),
        );
    }
    let amount = amount.unwrap_or(left);
    if amount > left {
        return Err(ApiError::invalid(format!(
            "Refund amount ({}) is greater than unrefunded amount on charge ({})",
            wire::money(amount, &intent.currency),
            wire::money(left, &intent.currency)
        ))
        .code("amount_too_large")
        .param("amount"));
    }
    intent.refunded += amount;
    let refund = Refund {
        id: new_id("re"),
        payment_intent: intent.id.clone(),
        charge: charge.clone(),
        amount,
        currency: intent.currency.clone(),
        idempotency_key: ctx.idempotency_key.clone(),
        metadata: wire::metadata(p),
    };
    let body = json!({
        "id": refund.id, "object": "refund", "amount": amount,
        "balance_transaction": new_id("txn"), "charge": charge,
        "created": chrono::Utc::now().timestamp(), "currency": refund.currency,
        "metadata": refund.metadata, "payment_intent": refund.payment_intent,
        "reason": p.get("reason"), "receipt_number": null,
        "source_transfer_reversal": null, "status": "succeeded", "transfer_reversal": null,
    });
    ledger.refunds.push(refund);
    Ok(executed(StatusCode::OK, body))
}

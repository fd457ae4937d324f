//! PaymentIntents (create, confirm, retrieve, search) and the ledger behind
//! every endpoint. Charging follows Stripe's test payment methods
//! ([`outcome_for`]); the ledger keeps intents, charges and refunds in
//! creation order.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde_json::{json, Value};

use super::edge::{executed, Answer, Ctx};
use super::search::{self, Doc};
use super::wire::{self, new_id, ApiError};
use super::{Charge, Refund, Shared};

const CREATE_PARAMS: &[&str] = &[
    "amount",
    "currency",
    "automatic_payment_methods",
    "application_fee_amount",
    "capture_method",
    "confirm",
    "confirmation_method",
    "confirmation_token",
    "customer",
    "description",
    "error_on_requires_action",
    "expand",
    "mandate",
    "mandate_data",
    "metadata",
    "off_session",
    "on_behalf_of",
    "payment_method",
    "payment_method_configuration",
    "payment_method_data",
    "payment_method_options",
    "payment_method_types",
    "radar_options",
    "receipt_email",
    "return_url",
    "setup_future_usage",
    "shipping",
    "statement_descriptor",
    "statement_descriptor_suffix",
    "transfer_data",
    "transfer_group",
    "use_stripe_sdk",
];
const CONFIRM_PARAMS: &[&str] = &[
    "capture_method",
    "confirmation_token",
    "error_on_requires_action",
    "expand",
    "mandate",
    "mandate_data",
    "off_session",
    "payment_method",
    "payment_method_data",
    "payment_method_options",
    "payment_method_types",
    "radar_options",
    "receipt_email",
    "return_url",
    "setup_future_usage",
    "shipping",
    "use_stripe_sdk",
];
const RETRIEVE_PARAMS: &[&str] = &["client_secret", "expand"];
const SEARCH_PARAMS: &[&str] = &["query", "limit", "page", "expand"];

/// What charging a payment method does, after Stripe's test methods.
pub enum Outcome {
    Succeed,
    /// 402 `card_error`: (code, decline_code, message).
    Decline(&'static str, &'static str, &'static str),
    /// 3DS: `requires_action` on-session; an `authentication_required` decline off-session.
    Authenticate,
}

pub fn outcome_for(payment_method: &str) -> Outcome {
    use Outcome::Decline;
    match payment_method {
        "pm_card_chargeDeclined" => Decline(
            "card_declined",
            "generic_decline",
            "Your card was declined.",
        ),
        "pm_card_chargeDeclinedInsufficientFunds" => Decline(
            "card_declined",
            "insufficient_funds",
            "Your card has insufficient funds.",
        ),
        "pm_card_chargeDeclinedLostCard" => {
            Decline("card_declined", "lost_card", "Your card was declined.")
        }
        "pm_card_chargeDeclinedStolenCard" => {
            Decline("card_declined", "stolen_card", "Your card was declined.")
        }
        "pm_card_chargeDeclinedFraudulent" => {
            Decline("card_declined", "fraudulent", "Your card was declined.")
        }
        "pm_card_chargeDeclinedExpiredCard" => {
            Decline("expired_card", "expired_card", "Your card has expired.")
        }
        "pm_card_chargeDeclinedIncorrectCvc" => Decline(
            "incorrect_cvc",
            "incorrect_cvc",
            "Your card's security code is incorrect.",
        ),
        "pm_card_chargeDeclinedProcessingError" => Decline(
            "processing_error",
            "processing_error",
            "An error occurred while processing your card. Try again in a little bit.",
        ),
        "pm_card_authenticationRequired" => Outcome::Authenticate,
        _ => Outcome::Succeed,
    }
}

pub struct Intent {
    pub id: String,
    pub client_secret: String,
    pub amount: i64,
    pub amount_received: i64,
    /// Sum of accepted refunds.
    pub refunded: i64,
    pub currency: String,
    pub status: &'static str,
    pub customer: Option<String>,
    pub payment_method: Option<String>,
    pub description: Option<String>,
    pub metadata: BTreeMap<String, String>,
    pub latest_charge: Option<String>,
    pub last_payment_error: Option<Value>,
    pub next_action: Option<Value>,
    pub created: i64,
}

impl Intent {
    fn json(&self) -> Value {
        json!({
            "id": self.id, "object": "payment_intent",
            "amount": self.amount, "amount_capturable": 0, "amount_received": self.amount_received,
            "canceled_at": null, "cancellation_reason": null,
            "capture_method": "automatic", "confirmation_method": "automatic",
            "client_secret": self.client_secret,
            "created": self.created, "currency": self.currency, "customer": self.customer,
            "description": self.description, "last_payment_error": self.last_payment_error,
            "latest_charge": self.latest_charge, "livemode": false, "metadata": self.metadata,
            "next_action": self.next_action, "payment_method": self.payment_method,
            "payment_method_types": ["card"], "status": self.status,
        })
    }
}

/// Every object the fake holds, in creation order.
#[derive(Default)]
pub struct Ledger {
    pub intents: Vec<Intent>,
    pub charges: Vec<Charge>,
    pub refunds: Vec<Refund>,
}

impl Ledger {
    pub fn find(&self, id: &str) -> Option<usize> {
        self.intents.iter().position(|i| i.id == id)
    }

    pub fn intent_json(&self, id: &str) -> Option<Value> {
        self.find(id).map(|i| self.intents[i].json())
    }

    /// Charges intent `i` with its payment method (set by the caller).
    fn confirm(&mut self, s: &Shared, i: usize, ctx: &Ctx) -> Response {
        let off_session = wire::flag(&ctx.params, "off_session")
            || wire::flag(&ctx.params, "error_on_requires_action");
        let intent = &mut self.intents[i];
        let pm = intent.payment_method.clone().unwrap_or_default();
        let outcome = match outcome_for(&pm) {
            Outcome::Authenticate if off_session => Outcome::Decline(
                "authentication_required",
                "authentication_required",
                "Your card was declined. This transaction requires authentication.",
            ),
            other => other,
        };
        match outcome {
            Outcome::Succeed => {
                let charge = new_id("ch");
                intent.status = "succeeded";
                intent.amount_received = intent.amount;
                intent.latest_charge = Some(charge.clone());
                intent.last_payment_error = None;
                intent.next_action = None;
                self.charges.push(Charge {
                    id: charge,
                    payment_intent: intent.id.clone(),
                    amount: intent.amount,
                    currency: intent.currency.clone(),
                    customer: intent.customer.clone(),
                    idempotency_key: ctx.idempotency_key.clone(),
                    metadata: intent.metadata.clone(),
                });
                s.charged.notify_waiters();
                executed(StatusCode::OK, intent.json())
            }
            Outcome::Authenticate => {
                intent.status = "requires_action";
                intent.next_action = Some(json!({
                    "type": "use_stripe_sdk",
                    "use_stripe_sdk": {
                        "type": "three_d_secure_redirect",
                        "stripe_js": "https://hooks.stripe.com/3d_secure_2/hosted",
                    },
                }));
                executed(StatusCode::OK, intent.json())
            }
            Outcome::Decline(code, decline_code, message) => {
                // The failed charge exists in Stripe (latest_charge) but moved no money.
                let charge = new_id("ch");
                let payment_method = json!({"id": pm, "object": "payment_method", "type": "card"});
                let error = ApiError::new(StatusCode::PAYMENT_REQUIRED, "card_error", message)
                    .code(code)
                    .field("decline_code", decline_code.into())
                    .field("charge", charge.clone().into())
                    .field("payment_method", payment_method);
                intent.status = "requires_payment_method";
                intent.payment_method = None;
                intent.latest_charge = Some(charge);
                intent.next_action = None;
                intent.last_payment_error = Some(Value::Object(error.body.clone()));
                let error = error.field("payment_intent", intent.json());
                executed(error.status, error.json())
            }
        }
    }
}

pub async fn create_intent(State(s): State<Arc<Shared>>, Extension(ctx): Extension<Ctx>) -> Answer {
    let p = &ctx.params;
    wire::known_params(p, CREATE_PARAMS)?;
    let amount = wire::amount(p, "amount")?.ok_or_else(|| ApiError::missing("amount"))?;
    let currency = p
        .get("currency")
        .ok_or_else(|| ApiError::missing("currency"))?;
    if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_alphabetic()) {
        return Err(ApiError::invalid(format!("Invalid currency: {currency}.")).param("currency"));
    }
    if p.get("capture_method").is_some_and(|m| m == "manual") {
        return Err(
            ApiError::invalid("The Stripe fake does not model capture_method=manual.")
                .param("capture_method"),
        );
    }
    let payment_method = p.get("payment_method").filter(|v| !v.is_empty()).cloned();
    let confirm = wire::flag(p, "confirm");
    if confirm && payment_method.is_none() {
        return Err(missing_payment_method());
    }
    let id = new_id("pi");
    let intent = Intent {
        client_secret: format!("{id}_secret_{}", &new_id("s")[2..]),
        id,
        amount,
        amount_received: 0,
        refunded: 0,
        currency: currency.to_ascii_lowercase(),
        status: if payment_method.is_some() {
            "requires_confirmation"
        } else {
            "requires_payment_method"
        },
        customer: p.get("customer").cloned(),
        payment_method,
        description: p.get("description").cloned(),
        metadata: wire::metadata(p),
        latest_charge: None,
        last_payment_error: None,
        next_action: None,
        created: chrono::Utc::now().timestamp(),
    };
    let mut ledger = s.ledger.lock().expect("ledger");
    ledger.intents.push(intent);
    let i = ledger.intents.len() - 1;
    if confirm {
        return Ok(ledger.confirm(&s, i, &ctx));
    }
    Ok(executed(StatusCode::OK, ledger.intents[i].json()))
}

pub async fn confirm_intent(
    State(s): State<Arc<Shared>>,
    Path(id): Path<String>,
    Extension(ctx): Extension<Ctx>,
) -> Answer {
    wire::known_params(&ctx.params, CONFIRM_PARAMS)?;
    let mut ledger = s.ledger.lock().expect("ledger");
    let i = ledger
        .find(&id)
        .ok_or_else(|| ApiError::no_such(StatusCode::NOT_FOUND, "payment_intent", &id, "intent"))?;
    let intent = &mut ledger.intents[i];
    if !matches!(
        intent.status,
        "requires_confirmation" | "requires_payment_method" | "requires_action"
    ) {
        return Err(ApiError::invalid(format!(
            "You cannot confirm this PaymentIntent because it has a status of {}.",
            intent.status
        ))
        .code("payment_intent_unexpected_state")
        .field("payment_intent", intent.json()));
    }
    if let Some(pm) = ctx.params.get("payment_method").filter(|v| !v.is_empty()) {
        intent.payment_method = Some(pm.clone());
    }
    if intent.payment_method.is_none() {
        return Err(missing_payment_method().field("payment_intent", intent.json()));
    }
    Ok(ledger.confirm(&s, i, &ctx))
}

fn missing_payment_method() -> ApiError {
    ApiError::invalid(
        "You cannot confirm this PaymentIntent because it's missing a payment method. \
         You can either update the PaymentIntent with a payment method and then confirm it \
         again, or confirm it again directly with a payment method.",
    )
    .code("payment_intent_unexpected_state")
}

pub async fn retrieve_intent(
    State(s): State<Arc<Shared>>,
    Path(id): Path<String>,
    Extension(ctx): Extension<Ctx>,
) -> Answer {
    wire::known_params(&ctx.params, RETRIEVE_PARAMS)?;
    let ledger = s.ledger.lock().expect("ledger");
    let intent = ledger
        .intent_json(&id)
        .ok_or_else(|| ApiError::no_such(StatusCode::NOT_FOUND, "payment_intent", &id, "intent"))?;
    Ok(Json(intent).into_response())
}

pub async fn search_intents(
    State(s): State<Arc<Shared>>,
    Extension(ctx): Extension<Ctx>,
) -> Answer {
    let p = &ctx.params;
    wire::known_params(p, SEARCH_PARAMS)?;
    let raw = p.get("query").ok_or_else(|| ApiError::missing("query"))?;
    let query = search::parse(raw).map_err(|e| {
        ApiError::invalid(format!("Invalid search query `{raw}`: {e}.")).param("query")
    })?;
    let limit = match p.get("limit").map(|l| l.parse::<usize>()) {
        None => 10,
        Some(Ok(l)) if (1..=100).contains(&l) => l,
        Some(_) => {
            return Err(ApiError::invalid("This value must be between 1 and 100.")
                .code("parameter_invalid_integer")
                .param("limit"))
        }
    };
    let offset = match p.get("page") {
        None => 0,
        Some(page) => page
            .strip_prefix("page_")
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| ApiError::invalid(format!("Invalid page: {page}")).param("page"))?,
    };
    let ledger = s.ledger.lock().expect("ledger");
    // Newest first, as Stripe sorts search results.
    let hits: Vec<Value> = ledger
        .intents
        .iter()
        .rev()
        .filter(|i| {
            query.matches(&Doc {
                metadata: &i.metadata,
                status: i.status,
                currency: &i.currency,
                customer: i.customer.as_deref(),
                amount: i.amount,
            })
        })
        .map(Intent::json)
        .collect();
    let has_more = hits.len() > offset + limit;
    let data: Vec<Value> = hits.into_iter().skip(offset).take(limit).collect();
    let next_page = has_more.then(|| format!("page_{}", offset + limit));
    Ok(Json(json!({
        "object": "search_result", "url": "/v1/payment_intents/search",
        "has_more": has_more, "next_page": next_page, "data": data,
    }))
    .into_response())
}

//! What a caller sends (`PaymentRequest`, `RefundRequest`) and reads back
//! (`Payment`, `PaymentRefund`, `PaymentAttempt`), and the request checks
//! serde cannot make. Money is integer cents: an amount given as `10.5`,
//! `"10"`, a negative number or one over `payments.max_amount_cents` is
//! refused with the field named, never rounded.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::kinds::FieldError;

/// `POST /v1/payments`.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentRequest {
    /// Integer cents (`12345` = R$ 123,45); 1 to `payments.max_amount_cents`.
    #[schema(value_type = i64)]
    pub amount: serde_json::Value,
    /// ISO 4217, lower or upper case; default `brl`.
    #[serde(default)]
    pub currency: Option<String>,
    /// The provider's customer id (`cus_…`).
    #[serde(default)]
    pub customer: Option<String>,
    /// The provider's payment method id (`pm_…`).
    pub payment_method: String,
    #[serde(default)]
    pub description: Option<String>,
    /// Up to 20 string pairs, kept with the payment and sent to the provider.
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    /// The product's own id for what is paid (e.g. the tutoring session id).
    #[serde(default)]
    pub reference: Option<String>,
    /// Where the pt-BR receipt goes once the payment succeeds.
    #[serde(default)]
    pub receipt_email: Option<String>,
}

/// A request after its checks: what the payment row stores.
#[derive(Clone, Debug, PartialEq)]
pub struct ValidPayment {
    pub amount_cents: i64,
    pub currency: String,
    pub customer: Option<String>,
    pub payment_method: String,
    pub description: Option<String>,
    pub metadata: BTreeMap<String, String>,
    pub reference: Option<String>,
    pub receipt_email: Option<String>,
}

impl ValidPayment {
    /// A digest of everything that defines the charge: the same idempotency
    /// key with another request is refused by comparing it.
    pub fn request_hash(&self) -> String {
        let canonical = serde_json::json!({
            "amount": self.amount_cents, "currency": self.currency, "customer": self.customer,
            "payment_method": self.payment_method, "description": self.description,
            "metadata": self.metadata, "reference": self.reference, "receipt_email": self.receipt_email,
        });
        hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
    }
}

/// Currencies the provider charges in cents (two decimals); others are refused.
const CURRENCIES: [&str; 6] = ["brl", "usd", "eur", "gbp", "ars", "clp"];

fn text(field: &str, v: &Option<String>, max: usize) -> Result<Option<String>, FieldError> {
    match v.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) if s.chars().count() > max => {
            Err(FieldError::new(field, format!("at most {max} characters")))
        }
        Some(s) if s.chars().any(char::is_control) => Err(FieldError::new(
            field,
            "must not contain control characters",
        )),
        Some(s) => Ok(Some(s.to_string())),
    }
}

/// Integer cents in `1..=max`; the JSON must be an integer number.
pub fn amount_cents(field: &str, v: &serde_json::Value, max: i64) -> Result<i64, FieldError> {
    let n = match v {
        serde_json::Value::Number(n) => n.as_i64().ok_or_else(|| {
            FieldError::new(
                field,
                "must be an integer number of cents (e.g. 12345 for 123,45), not a fraction",
            )
        })?,
        _ => {
            return Err(FieldError::new(
                field,
                "must be an integer number of cents (e.g. 12345 for 123,45)",
            ))
        }
    };
    if n < 1 {
        return Err(FieldError::new(field, "must be at least 1 cent"));
    }
    if n > max {
        return Err(FieldError::new(
            field,
            format!("must be at most {max} cents (payments.max_amount_cents)"),
        ));
    }
    Ok(n)
}

fn provider_id(field: &str, v: &str) -> Result<String, FieldError> {
    let v = v.trim();
    let ok = !v.is_empty()
        && v.len() <= 255
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if !ok {
        return Err(FieldError::new(
            field,
            "must be a provider id (letters, digits, '_' and '-', at most 255)",
        ));
    }
    Ok(v.to_string())
}

impl PaymentRequest {
    pub fn validate(&self, max_amount_cents: i64) -> Result<ValidPayment, FieldError> {
        let amount_cents = amount_cents("amount", &self.amount, max_amount_cents)?;
        let currency = self
            .currency
            .as_deref()
            .unwrap_or("brl")
            .trim()
            .to_ascii_lowercase();
        if !CURRENCIES.contains(&currency.as_str()) {
            return Err(FieldError::new(
                "currency",
                format!("must be one of {}", CURRENCIES.join(", ")),
            ));
        }
        let customer = match self.customer.as_deref() {
            None | Some("") => None,
            Some(c) => Some(provider_id("customer", c)?),
        };
        let payment_method = provider_id("payment_method", &self.payment_method)?;
        if self.metadata.len() > 20 {
            return Err(FieldError::new("metadata", "at most 20 keys"));
        }
        for (k, v) in &self.metadata {
            if k.is_empty() || k.len() > 40 || k.starts_with("tarefa_") || k.contains(['[', ']']) {
                return Err(FieldError::new(
                    format!("metadata.{k}"),
                    "keys are 1-40 characters, without brackets, not starting with tarefa_",
                ));
            }
            if v.chars().count() > 500 {
                return Err(FieldError::new(
                    format!("metadata.{k}"),
                    "at most 500 characters",
                ));
            }
        }
        let receipt_email = text("receipt_email", &self.receipt_email, 254)?;
        if let Some(e) = &receipt_email {
            let (user, domain) = e.split_once('@').unwrap_or(("", ""));
            if user.is_empty() || !domain.contains('.') || e.contains(char::is_whitespace) {
                return Err(FieldError::new(
                    "receipt_email",
                    "must be an e-mail address",
                ));
            }
        }
        Ok(ValidPayment {
            amount_cents,
            currency,
            customer,
            payment_method,
            description: text("description", &self.description, 500)?,
            metadata: self.metadata.clone(),
            reference: text("reference", &self.reference, 200)?,
            receipt_email,
        })
    }
}

/// `POST /v1/payments/{id}/refunds`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundRequest {
    /// Integer cents; default: everything not yet refunded.
    #[serde(default)]
    #[schema(value_type = Option<i64>)]
    pub amount: Option<serde_json::Value>,
    /// duplicate | fraudulent | requested_by_customer
    #[serde(default)]
    pub reason: Option<String>,
}

pub const REFUND_REASONS: [&str; 3] = ["duplicate", "fraudulent", "requested_by_customer"];

/// A row of `payments`.
#[derive(Clone, Debug, Serialize, sqlx::FromRow, ToSchema)]
pub struct Payment {
    pub id: Uuid,
    #[serde(skip)]
    pub tenant_id: Uuid,
    #[serde(skip)]
    pub request_hash: String,
    pub idempotency_key: Option<String>,
    pub amount_cents: i64,
    pub currency: String,
    pub customer: Option<String>,
    pub payment_method: Option<String>,
    pub description: Option<String>,
    pub reference: Option<String>,
    pub receipt_email: Option<String>,
    #[schema(value_type = Object)]
    pub metadata: sqlx::types::Json<BTreeMap<String, String>>,
    /// pending | requires_action | processing | succeeded | failed |
    /// partially_refunded | refunded | needs_review
    pub status: String,
    pub amount_received_cents: i64,
    pub amount_refunded_cents: i64,
    /// The provider's PaymentIntent id.
    pub provider_payment_id: Option<String>,
    pub provider_charge_id: Option<String>,
    /// `card_declined`, `idempotency_error`, …
    pub failure_code: Option<String>,
    /// The card issuer's reason (`insufficient_funds`, …).
    pub decline_code: Option<String>,
    pub failure_message: Option<String>,
    pub job_id: Option<String>,
    /// Provider calls made by the charge job.
    pub attempts: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub succeeded_at: Option<DateTime<Utc>>,
}

/// One provider call of a charge job.
#[derive(Clone, Debug, Serialize, sqlx::FromRow, ToSchema)]
pub struct PaymentAttempt {
    pub n: i32,
    pub at: DateTime<Utc>,
    /// create | retrieve | search
    pub action: String,
    /// succeeded | requires_action | processing | declined | retry | unknown | mismatch | not_found | error
    pub outcome: String,
    pub http_status: Option<i32>,
    pub error: Option<String>,
}

/// A row of `payment_refunds`.
#[derive(Clone, Debug, Serialize, sqlx::FromRow, ToSchema)]
pub struct PaymentRefund {
    pub id: Uuid,
    pub payment_id: Uuid,
    #[serde(skip)]
    pub tenant_id: Uuid,
    pub idempotency_key: Option<String>,
    pub amount_cents: i64,
    pub reason: Option<String>,
    /// pending | succeeded | failed | needs_review
    pub status: String,
    pub provider_refund_id: Option<String>,
    pub failure_message: Option<String>,
    pub job_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Where a status stands in the forward-only order; a move to a lower or
/// equal rank is ignored (a late `processing` never undoes `succeeded`).
pub fn rank(status: &str) -> u8 {
    match status {
        "pending" => 0,
        "requires_action" => 1,
        "processing" => 2,
        "failed" => 3,
        "needs_review" => 3,
        "succeeded" => 4,
        "partially_refunded" => 5,
        "refunded" => 6,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn req(amount: serde_json::Value) -> PaymentRequest {
        PaymentRequest {
            amount,
            currency: None,
            customer: Some("cus_123".into()),
            payment_method: "pm_card_visa".into(),
            description: Some("Aula de matemática".into()),
            metadata: BTreeMap::new(),
            reference: Some("sess-1".into()),
            receipt_email: Some("aluna@example.com".into()),
        }
    }

    #[test]
    fn amounts_are_integer_cents_within_the_limit() {
        assert_eq!(
            req(json!(12345)).validate(100_000).unwrap().amount_cents,
            12345
        );
        for bad in [
            json!(10.5),
            json!(-1),
            json!(0),
            json!("100"),
            json!(null),
            json!(1e20),
        ] {
            let e = req(bad.clone()).validate(100_000).unwrap_err();
            assert_eq!(e.path, "amount", "{bad}");
        }
        let e = req(json!(100_001)).validate(100_000).unwrap_err();
        assert!(e.message.contains("at most 100000"), "{e}");
        // 10.0 is a float in JSON: refused rather than guessed.
        assert!(req(json!(10.0)).validate(100_000).is_err());
    }

    #[test]
    fn fields_are_checked_and_named() {
        let mut r = req(json!(100));
        r.currency = Some("XYZ".into());
        assert_eq!(r.validate(1000).unwrap_err().path, "currency");
        let mut r = req(json!(100));
        r.currency = Some("USD".into());
        assert_eq!(r.validate(1000).unwrap().currency, "usd");
        let mut r = req(json!(100));
        r.payment_method = "pm card".into();
        assert_eq!(r.validate(1000).unwrap_err().path, "payment_method");
        let mut r = req(json!(100));
        r.metadata.insert("tarefa_payment_id".into(), "x".into());
        assert_eq!(
            r.validate(1000).unwrap_err().path,
            "metadata.tarefa_payment_id"
        );
        let mut r = req(json!(100));
        r.receipt_email = Some("not-an-email".into());
        assert_eq!(r.validate(1000).unwrap_err().path, "receipt_email");
    }

    #[test]
    fn the_request_hash_changes_with_any_charge_field() {
        let a = req(json!(100)).validate(1000).unwrap();
        let mut b = a.clone();
        assert_eq!(a.request_hash(), b.request_hash());
        b.amount_cents = 101;
        assert_ne!(a.request_hash(), b.request_hash());
    }

    #[test]
    fn status_rank_only_moves_forward() {
        assert!(rank("succeeded") > rank("processing"));
        assert!(rank("succeeded") > rank("failed"));
        assert!(rank("refunded") > rank("partially_refunded"));
        assert!(rank("requires_action") > rank("pending"));
    }
}

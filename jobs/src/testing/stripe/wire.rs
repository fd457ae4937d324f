//! Stripe's wire format, both ways: form bodies (`metadata[k]=v`,
//! `payment_method_types[]=card`) into one flat map, error objects
//! (`{"error": {type, code, message, param, doc_url, ...}}`), object ids
//! (`pi_` + 24 alphanumerics) and integer amounts.

use std::collections::{BTreeMap, HashMap};

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use rand::distr::{Alphanumeric, SampleString};
use serde_json::{json, Map, Value};

/// Request parameters, flattened: `metadata[payment_id]` and `expand[0]` are keys.
pub type Params = BTreeMap<String, String>;

/// Parses `application/x-www-form-urlencoded` bytes (a body or a query string).
/// `a[]=x&a[]=y` becomes `a[0]`, `a[1]`; a repeated plain key keeps its last value.
pub fn parse_form(bytes: &[u8]) -> Result<Params, String> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_bytes(bytes).map_err(|e| e.to_string())?;
    let mut params = Params::new();
    let mut next_index: HashMap<String, usize> = HashMap::new();
    for (key, value) in pairs {
        match key.strip_suffix("[]") {
            Some(base) => {
                let i = next_index.entry(base.to_string()).or_default();
                params.insert(format!("{base}[{i}]"), value);
                *i += 1;
            }
            None => {
                params.insert(key, value);
            }
        }
    }
    Ok(params)
}

/// `metadata[k]=v` pairs; an empty value unsets a key in Stripe, so it is left out.
pub fn metadata(params: &Params) -> BTreeMap<String, String> {
    params
        .iter()
        .filter_map(|(k, v)| {
            let key = k.strip_prefix("metadata[")?.strip_suffix(']')?;
            (!v.is_empty()).then(|| (key.to_string(), v.clone()))
        })
        .collect()
}

/// Refuses a parameter whose top-level name the endpoint does not take, as Stripe does.
pub fn known_params(params: &Params, allowed: &[&str]) -> Result<(), ApiError> {
    match params
        .keys()
        .map(|k| k.split('[').next().unwrap_or(k))
        .find(|root| !allowed.contains(root))
    {
        Some(root) => Err(
            ApiError::invalid(format!("Received unknown parameter: {root}"))
                .code("parameter_unknown")
                .param(root),
        ),
        None => Ok(()),
    }
}

/// An integer amount in minor units: at least 1 and at most 99 999 999 (Stripe's
/// eight digits). `None` when absent.
pub fn amount(params: &Params, name: &str) -> Result<Option<i64>, ApiError> {
    let Some(raw) = params.get(name) else {
        return Ok(None);
    };
    let invalid = |message: String| {
        ApiError::invalid(message)
            .code("parameter_invalid_integer")
            .param(name)
    };
    let value: i64 = raw
        .parse()
        .map_err(|_| invalid(format!("Invalid integer: {raw}")))?;
    if value < 1 {
        return Err(invalid(
            "This value must be greater than or equal to 1.".into(),
        ));
    }
    if value > 99_999_999 {
        return Err(ApiError::invalid("Amount must be no more than 99999999")
            .code("amount_too_large")
            .param(name));
    }
    Ok(Some(value))
}

/// A boolean form value: Stripe sends and takes `true` / `false`.
pub fn flag(params: &Params, name: &str) -> bool {
    params.get(name).is_some_and(|v| v == "true")
}

/// A fresh object id: `prefix_` and 24 alphanumerics, like `pi_3MtwBwLkdIwHu7ix28a3tqPa`.
pub fn new_id(prefix: &str) -> String {
    format!(
        "{prefix}_{}",
        Alphanumeric.sample_string(&mut rand::rng(), 24)
    )
}

/// `12.34 BRL`-style money for error messages (two decimals; enough for the fake).
pub fn money(amount: i64, currency: &str) -> String {
    format!(
        "{}.{:02} {}",
        amount / 100,
        amount % 100,
        currency.to_ascii_uppercase()
    )
}

/// A Stripe error object and its HTTP status.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: Map<String, Value>,
}

impl ApiError {
    pub fn new(status: StatusCode, kind: &str, message: impl Into<String>) -> ApiError {
        let mut body = Map::new();
        body.insert("type".into(), kind.into());
        body.insert("message".into(), message.into().into());
        ApiError { status, body }
    }

    /// 400 `invalid_request_error`, the most common kind.
    pub fn invalid(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_request_error", message)
    }

    /// `code`, with the `doc_url` Stripe attaches to every coded error.
    pub fn code(self, code: &str) -> ApiError {
        let doc = format!(
            "https://stripe.com/docs/error-codes/{}",
            code.replace('_', "-")
        );
        self.field("code", code.into()).field("doc_url", doc.into())
    }

    pub fn param(self, param: &str) -> ApiError {
        self.field("param", param.into())
    }

    pub fn field(mut self, name: &str, value: Value) -> ApiError {
        self.body.insert(name.into(), value);
        self
    }

    pub fn missing(param: &str) -> ApiError {
        ApiError::invalid(format!("Missing required param: {param}."))
            .code("parameter_missing")
            .param(param)
    }

    /// `No such payment_intent: 'pi_x'`: 404 for the path's object, 400 for a parameter's.
    pub fn no_such(status: StatusCode, object: &str, id: &str, param: &str) -> ApiError {
        let mut e = ApiError::invalid(format!("No such {object}: '{id}'"))
            .code("resource_missing")
            .param(param);
        e.status = status;
        e
    }

    pub fn json(&self) -> Value {
        json!({ "error": self.body })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.json())).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_and_array_keys_flatten() {
        let p =
            parse_form(b"amount=1000&metadata%5Bpayment_id%5D=p-1&payment_method_types[]=card&payment_method_types[]=pix")
                .unwrap();
        assert_eq!(p["metadata[payment_id]"], "p-1");
        assert_eq!(p["payment_method_types[0]"], "card");
        assert_eq!(p["payment_method_types[1]"], "pix");
        assert_eq!(
            metadata(&p).get("payment_id").map(String::as_str),
            Some("p-1")
        );
    }

    #[test]
    fn amounts_are_positive_integers() {
        let p = |v: &str| Params::from([("amount".to_string(), v.to_string())]);
        assert_eq!(amount(&p("1500"), "amount").unwrap(), Some(1500));
        for bad in ["15.00", "-1", "0", "1e3", ""] {
            let e = amount(&p(bad), "amount").unwrap_err();
            assert_eq!(e.body["code"], "parameter_invalid_integer", "{bad}");
        }
        assert_eq!(amount(&Params::new(), "amount").unwrap(), None);
    }
}

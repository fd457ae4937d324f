//! A local fake of the Stripe API (v1, test mode) for the payments tests and
//! the bench: PaymentIntents (create, confirm, retrieve, search), Refunds,
//! Stripe's idempotency layer, scripted faults and signed webhook events, all
//! in Stripe's own wire format (form bodies in, JSON objects and error objects
//! out).
//!
//! Layout, along the path of a request (one file per role, so each stays
//! readable alone; as one file the fake would pass 1 500 lines):
//! - `conn`: the listener; lets a handler cut its own connection.
//! - `edge`: what Stripe does before and after an endpoint runs: the API
//!   key, form parsing, scripted faults, the idempotency layer, the request log.
//! - `idempotency`: saved responses per (secret key, Idempotency-Key).
//! - `intents`: PaymentIntents and the ledger of intents, charges and refunds;
//!   `search`: the query language subset the search endpoint takes.
//! - `refunds`: Refunds.
//! - `wire`: form bodies into a flat map, error objects, ids, amounts.
//! - `webhook`: Event objects and `Stripe-Signature` headers.
//!
//! Where the fake is simpler than Stripe, on purpose:
//! - Search sees writes at once (Stripe's index lags up to a minute).
//! - Any payment method other than Stripe's decline test methods
//!   (`pm_card_chargeDeclined*`, `pm_card_authenticationRequired`) charges
//!   successfully; `capture_method=manual` is refused.
//! - A scripted [`StripeFake::fail_next`] answer comes from before the endpoint
//!   runs (rate limiter, load balancer): nothing is charged and nothing is
//!   saved under the idempotency key, so a retry with the same key runs the
//!   operation (Stripe does save a 500 that its endpoint itself returned; the
//!   fake has no such failure). Validation errors are not saved either (as Stripe documents);
//!   any answer after which state changed (a charge, a decline, a refund) is.

mod conn;
mod edge;
mod idempotency;
mod intents;
mod refunds;
mod search;
mod webhook;
mod wire;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::routing::{get, post};
use axum::Router;
use serde_json::Value;
use tokio::sync::Notify;

/// A charge that moved money (declines and 3DS challenges are not charges).
#[derive(Clone, Debug, PartialEq)]
pub struct Charge {
    /// `ch_...`, the intent's `latest_charge`.
    pub id: String,
    pub payment_intent: String,
    /// Integer minor units (cents).
    pub amount: i64,
    /// Lowercase ISO code, as Stripe returns it (`brl`).
    pub currency: String,
    pub customer: Option<String>,
    /// The `Idempotency-Key` of the request that charged (create or confirm).
    pub idempotency_key: Option<String>,
    /// The intent's metadata when it was charged.
    pub metadata: BTreeMap<String, String>,
}

/// A refund the fake accepted.
#[derive(Clone, Debug, PartialEq)]
pub struct Refund {
    /// `re_...`.
    pub id: String,
    pub payment_intent: String,
    pub charge: String,
    pub amount: i64,
    pub currency: String,
    pub idempotency_key: Option<String>,
    pub metadata: BTreeMap<String, String>,
}

/// One request as the fake saw it, in arrival-then-answer order.
#[derive(Clone, Debug)]
pub struct SeenRequest {
    pub method: String,
    /// The path without the query string (`/v1/payment_intents/search`).
    pub path: String,
    /// POST only: Stripe ignores the header on GET.
    pub idempotency_key: Option<String>,
    /// Form body (POST) or query string (GET), flattened: `metadata[payment_id]`,
    /// `payment_method_types[0]`.
    pub params: BTreeMap<String, String>,
    /// Answered from the idempotency layer's saved response.
    pub replayed: bool,
    /// The status the fake answered (or would have, for a dropped connection).
    pub status: u16,
}

/// The running fake; clone freely (clones share state).
#[derive(Clone)]
pub struct StripeFake {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
}

/// State every handler shares. Std mutexes: no lock is held across an await.
#[derive(Default)]
struct Shared {
    ledger: Mutex<intents::Ledger>,
    idempotency: idempotency::Store,
    faults: Mutex<Vec<edge::Fault>>,
    seen: Mutex<Vec<SeenRequest>>,
    /// Woken on every charge, for [`StripeFake::wait_for_charges`].
    charged: Notify,
}

impl StripeFake {
    /// The only API key the fake accepts (`Authorization: Bearer ...`).
    pub const SECRET: &'static str = "sk_test_tarefa";
    /// The endpoint secret [`StripeFake::send_event`] signs with.
    pub const WEBHOOK_SECRET: &'static str = "whsec_tarefa";

    /// Serves the fake on 127.0.0.1, on a port of the system's choosing.
    pub async fn start() -> StripeFake {
        let shared = Arc::new(Shared::default());
        let app = Router::new()
            .route("/v1/payment_intents", post(intents::create_intent))
            .route("/v1/payment_intents/search", get(intents::search_intents))
            .route("/v1/payment_intents/{id}", get(intents::retrieve_intent))
            .route(
                "/v1/payment_intents/{id}/confirm",
                post(intents::confirm_intent),
            )
            .route("/v1/refunds", post(refunds::create_refund))
            .fallback(edge::unrecognized)
            .method_not_allowed_fallback(edge::unrecognized)
            .layer(axum::middleware::from_fn_with_state(
                shared.clone(),
                edge::edge,
            ))
            .with_state(shared.clone());
        let listener = conn::Listener::bind().await;
        let addr = listener.addr();
        let service = app.into_make_service_with_connect_info::<conn::Conn>();
        tokio::spawn(async move { axum::serve(listener, service).await.ok() });
        StripeFake { addr, shared }
    }

    /// `http://127.0.0.1:PORT`, the fake's stand-in for `https://api.stripe.com`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Faults for requests matching `method` (`"*"` for any) and `path_prefix`.
    /// The unscoped [`StripeFake::fail_next`] and friends match `POST /v1/`.
    pub fn on(&self, method: &str, path_prefix: &str) -> Faults<'_> {
        Faults {
            fake: self,
            method: method.to_ascii_uppercase(),
            prefix: path_prefix.to_string(),
        }
    }

    /// The next `n` POSTs get `status` with an `api_error` object, without running.
    pub fn fail_next(&self, n: usize, status: u16, should_retry: Option<bool>) {
        self.on("POST", "/v1/").fail_next(n, status, should_retry);
    }

    /// The next `n` POSTs run (charge, save the key), then answer after `hang`.
    pub fn charge_then_hang_next(&self, n: usize, hang: Duration) {
        self.on("POST", "/v1/").charge_then_hang_next(n, hang);
    }

    /// The next `n` POSTs run (charge, save the key), then the connection closes unanswered.
    pub fn charge_then_drop_next(&self, n: usize) {
        self.on("POST", "/v1/").charge_then_drop_next(n);
    }

    /// The next `n` POSTs wait `delay` before running, their key in flight meanwhile.
    pub fn delay_next(&self, n: usize, delay: Duration) {
        self.on("POST", "/v1/").delay_next(n, delay);
    }

    /// Ends the 24 h window for every key saved so far: their next use runs anew.
    pub fn forget_idempotency_keys(&self) {
        self.shared
            .idempotency
            .forget_saved_until(std::time::Instant::now());
    }

    /// Keys whose first request is still running (a second use answers 409).
    pub fn idempotency_keys_in_flight(&self) -> Vec<String> {
        self.shared.idempotency.in_flight()
    }

    pub fn charges(&self) -> Vec<Charge> {
        self.shared.ledger.lock().expect("ledger").charges.clone()
    }

    pub fn refunds(&self) -> Vec<Refund> {
        self.shared.ledger.lock().expect("ledger").refunds.clone()
    }

    pub fn requests(&self) -> Vec<SeenRequest> {
        self.shared.seen.lock().expect("seen").clone()
    }

    /// The intent as `GET /v1/payment_intents/{id}` would return it now.
    pub fn payment_intent(&self, id: &str) -> Option<Value> {
        self.shared.ledger.lock().expect("ledger").intent_json(id)
    }

    /// Waits (woken by each charge, no polling) until `n` charges exist.
    pub async fn wait_for_charges(&self, n: usize) -> Vec<Charge> {
        loop {
            let charged = self.shared.charged.notified();
            let charges = self.charges();
            if charges.len() >= n {
                return charges;
            }
            charged.await;
        }
    }

    /// A `Stripe-Signature` value: `t=<ts>,v1=<hex HMAC-SHA256("<ts>.<payload>")>`.
    pub fn sign(payload: &str, timestamp: i64, secret: &str) -> String {
        webhook::sign(payload, timestamp, secret)
    }

    /// An Event object (`evt_...`, API version 2024-06-20) wrapping `object`.
    pub fn event_json(id: &str, event_type: &str, object: Value, created: i64) -> String {
        webhook::event_json(id, event_type, object, created)
    }

    /// POSTs `event_json` to `url` as Stripe delivers events, signed now with
    /// [`StripeFake::WEBHOOK_SECRET`]. Panics only if nothing answers.
    pub async fn send_event(&self, url: &str, event_json: &str) -> reqwest::Response {
        let now = chrono::Utc::now().timestamp();
        let signature = webhook::sign(event_json, now, Self::WEBHOOK_SECRET);
        webhook::deliver(url, event_json, &signature).await
    }

    /// As [`StripeFake::send_event`], with the caller's `Stripe-Signature`
    /// (forged, stale, other secret).
    pub async fn send_event_with(
        &self,
        url: &str,
        body: &str,
        signature_header: &str,
    ) -> reqwest::Response {
        webhook::deliver(url, body, signature_header).await
    }
}

/// Faults scoped to a method and path prefix; see [`StripeFake::on`]. Each call
/// queues a rule for the next `n` matching requests; rules apply in the order
/// they were queued, one per request.
pub struct Faults<'a> {
    fake: &'a StripeFake,
    method: String,
    prefix: String,
}

impl Faults<'_> {
    pub fn fail_next(&self, n: usize, status: u16, should_retry: Option<bool>) {
        self.push(
            n,
            edge::FaultKind::Fail {
                status,
                should_retry,
            },
        );
    }

    pub fn charge_then_hang_next(&self, n: usize, hang: Duration) {
        self.push(n, edge::FaultKind::Hang(hang));
    }

    pub fn charge_then_drop_next(&self, n: usize) {
        self.push(n, edge::FaultKind::Drop);
    }

    pub fn delay_next(&self, n: usize, delay: Duration) {
        self.push(n, edge::FaultKind::Delay(delay));
    }

    fn push(&self, n: usize, kind: edge::FaultKind) {
        if n == 0 {
            return;
        }
        self.fake
            .shared
            .faults
            .lock()
            .expect("faults")
            .push(edge::Fault {
                method: self.method.clone(),
                prefix: self.prefix.clone(),
                remaining: n,
                kind,
            });
    }
}

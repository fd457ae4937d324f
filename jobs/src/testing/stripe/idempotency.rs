//! Stripe's idempotency layer: the first answer (status + body) under a key is
//! saved and replayed for the same request; the key with other parameters is an
//! `idempotency_error`; a key whose first request is still running answers 409.
//! Keys are scoped by secret key, as in Stripe (one account's key is not another's).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use axum::body::Bytes;

use super::wire::Params;

/// What makes two requests "the same" for a key: endpoint and parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct Fingerprint {
    pub method: String,
    pub path: String,
    pub params: Params,
}

/// An answer saved for replay.
#[derive(Clone, Debug)]
pub struct Saved {
    pub status: u16,
    pub body: Bytes,
    /// The `Request-Id` of the first answer (`Original-Request` on replays).
    pub request_id: String,
}

enum Entry {
    InFlight(Fingerprint),
    Done {
        fingerprint: Fingerprint,
        saved: Saved,
        at: Instant,
    },
}

/// (secret key, idempotency key) → entry.
#[derive(Default)]
pub struct Store {
    entries: Mutex<HashMap<(String, String), Entry>>,
}

pub enum Begin<'a> {
    /// First use: run the endpoint, then [`Claim::save`] (or drop the claim).
    Fresh(Claim<'a>),
    Replay(Saved),
    /// Same key, other endpoint or parameters.
    Mismatch,
    /// The first request with this key has not answered yet.
    InUse,
}

impl Store {
    pub fn begin(&self, secret: &str, key: &str, fingerprint: Fingerprint) -> Begin<'_> {
        let mut entries = self.entries.lock().expect("idempotency");
        let slot = (secret.to_string(), key.to_string());
        match entries.get(&slot) {
            Some(Entry::InFlight(_)) => Begin::InUse,
            Some(Entry::Done {
                fingerprint: first,
                saved,
                ..
            }) => {
                if *first == fingerprint {
                    Begin::Replay(saved.clone())
                } else {
                    Begin::Mismatch
                }
            }
            None => {
                entries.insert(slot.clone(), Entry::InFlight(fingerprint));
                Begin::Fresh(Claim {
                    store: self,
                    slot: Some(slot),
                })
            }
        }
    }

    /// Drops every saved answer from `until` or before (keys in flight stay).
    pub fn forget_saved_until(&self, until: Instant) {
        self.entries
            .lock()
            .expect("idempotency")
            .retain(|_, e| !matches!(e, Entry::Done { at, .. } if *at <= until));
    }

    pub fn in_flight(&self) -> Vec<String> {
        self.entries
            .lock()
            .expect("idempotency")
            .iter()
            .filter(|(_, e)| matches!(e, Entry::InFlight(_)))
            .map(|((_, key), _)| key.clone())
            .collect()
    }
}

/// A key held in flight. Saving replaces it with the answer; dropping it
/// unsaved (validation error, client gone before the endpoint ran) frees the
/// key, as Stripe saves nothing for requests that never started executing.
pub struct Claim<'a> {
    store: &'a Store,
    slot: Option<(String, String)>,
}

impl Claim<'_> {
    pub fn save(mut self, saved: Saved) {
        let Some(slot) = self.slot.take() else {
            return;
        };
        let mut entries = self.store.entries.lock().expect("idempotency");
        if let Some(Entry::InFlight(fingerprint)) = entries.remove(&slot) {
            entries.insert(
                slot,
                Entry::Done {
                    fingerprint,
                    saved,
                    at: Instant::now(),
                },
            );
        }
    }
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        if let Some(slot) = self.slot.take() {
            let mut entries = self.store.entries.lock().expect("idempotency");
            if matches!(entries.get(&slot), Some(Entry::InFlight(_))) {
                entries.remove(&slot);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fp(amount: &str) -> Fingerprint {
        Fingerprint {
            method: "POST".into(),
            path: "/v1/payment_intents".into(),
            params: Params::from([("amount".to_string(), amount.to_string())]),
        }
    }

    fn saved() -> Saved {
        Saved {
            status: 200,
            body: Bytes::from_static(b"{}"),
            request_id: "req_1".into(),
        }
    }

    #[test]
    fn saved_answer_replays_for_same_params_only() {
        let store = Store::default();
        let Begin::Fresh(claim) = store.begin("sk", "k1", fp("100")) else {
            panic!("first use must be fresh")
        };
        assert!(matches!(store.begin("sk", "k1", fp("100")), Begin::InUse));
        claim.save(saved());
        assert!(
            matches!(store.begin("sk", "k1", fp("100")), Begin::Replay(s) if s.request_id == "req_1")
        );
        assert!(matches!(
            store.begin("sk", "k1", fp("200")),
            Begin::Mismatch
        ));
        // Another account's key space.
        assert!(matches!(
            store.begin("sk_other", "k1", fp("200")),
            Begin::Fresh(_)
        ));
        store.forget_saved_until(Instant::now());
        assert!(matches!(
            store.begin("sk", "k1", fp("200")),
            Begin::Fresh(_)
        ));
    }

    #[test]
    fn dropped_claim_frees_the_key() {
        let store = Store::default();
        drop(store.begin("sk", "k1", fp("100")));
        assert!(store.in_flight().is_empty());
        assert!(matches!(
            store.begin("sk", "k1", fp("200")),
            Begin::Fresh(_)
        ));
    }
}

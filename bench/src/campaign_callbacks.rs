//! Callback intake for `bench campaigns` (issue 15, point 7): Meta's status
//! webhooks posted to a real `api-lite` process while the campaign sends.
//!
//! Every message the WhatsApp stand-in accepts gets three statuses — `sent`,
//! `delivered`, `read` — each in its own signed webhook (`X-Hub-Signature-256`
//! over the body with the app secret, as Meta signs them). They are gathered
//! for [`BURST_MS`] and then posted as one burst over `--callback-connections`
//! keep-alive connections (Meta posts webhooks concurrently and asks that a
//! webhook server meet its latency standard under that load: median answer
//! ≤ 250 ms, under 1 % over 1 s), one in ten messages with its statuses out
//! of order (`read` before `delivered` before `sent`), as Meta may deliver
//! them. So the offered load is three times the send rate, in bursts. Each
//! connection posts one webhook at a time, so the connections bound what can
//! be answered (connections ÷ answer time): with too few, the bench measures
//! itself, not api-lite. Measured: callbacks answered per second, non-200
//! answers, the time to answer, the time from offer to answer (queueing in
//! the bench included), the backlog left when the window closes (did intake
//! keep up?), and after the drain whether every recipient reached `read`
//! (statuses never move back).

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Result;
use serde_json::json;
use tokio::sync::{mpsc, Notify};

use crate::http::HttpConn;

/// How long accepted messages are gathered before their statuses are posted.
pub const BURST_MS: u64 = 250;
const PHONE_NUMBER_ID: &str = "1055";

/// What the posters did so far.
#[derive(Default)]
pub struct Intake {
    /// Each webhook with the time it was offered.
    queue: Mutex<VecDeque<(Instant, Vec<u8>)>>,
    ready: Notify,
    pub offered: AtomicU64,
    pub answered: AtomicU64,
    pub errors: AtomicU64,
    latencies_ms: Mutex<Vec<f64>>,
    /// From offer to answer (the bench's own queueing included), ms.
    delays_ms: Mutex<Vec<f64>>,
    stop: std::sync::atomic::AtomicBool,
}

impl Intake {
    pub fn backlog(&self) -> usize {
        self.queue.lock().expect("queue").len()
    }

    /// Times to answer recorded since the last call (ms), sorted.
    pub fn take_latencies(&self) -> Vec<f64> {
        take_sorted(&self.latencies_ms)
    }

    /// Times from offer to answer recorded since the last call (ms), sorted.
    pub fn take_delays(&self) -> Vec<f64> {
        take_sorted(&self.delays_ms)
    }

    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
        self.ready.notify_waiters();
    }
}

fn take_sorted(v: &Mutex<Vec<f64>>) -> Vec<f64> {
    let mut v = std::mem::take(&mut *v.lock().expect("times"));
    v.sort_by(f64::total_cmp);
    v
}

fn payload(wamid: &str, to: &str, status: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({"object": "whatsapp_business_account", "entry": [{"id": "WABA-BENCH",
        "changes": [{"field": "messages", "value": {"messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "5511999990000", "phone_number_id": PHONE_NUMBER_ID},
            "statuses": [{"id": wamid, "status": status,
                "timestamp": chrono::Utc::now().timestamp().to_string(), "recipient_id": to,
                "pricing": {"billable": true, "pricing_model": "PMP", "category": "marketing"}}]}}]}]}))
    .expect("json")
}

/// Starts the gatherer and `connections` posters; `accepted` receives (wamid, to) of each accepted message.
pub async fn start(
    addr: SocketAddr,
    secret: String,
    connections: usize,
    mut accepted: mpsc::UnboundedReceiver<(String, String)>,
) -> Result<Arc<Intake>> {
    let intake = Arc::new(Intake::default());
    let gather = intake.clone();
    tokio::spawn(async move {
        let mut n = 0u64;
        let mut tick = tokio::time::interval(Duration::from_millis(BURST_MS));
        let mut pending: Vec<(String, String)> = Vec::new();
        loop {
            tokio::select! {
                m = accepted.recv() => match m {
                    Some(m) => pending.push(m),
                    None => break,
                },
                _ = tick.tick() => {
                    if pending.is_empty() { continue; }
                    let mut q = gather.queue.lock().expect("queue");
                    let now = Instant::now();
                    for (wamid, to) in pending.drain(..) {
                        n += 1;
                        let order: [&str; 3] = if n.is_multiple_of(10) {
                            ["read", "delivered", "sent"]
                        } else {
                            ["sent", "delivered", "read"]
                        };
                        for st in order {
                            q.push_back((now, payload(&wamid, &to, st)));
                        }
                        gather.offered.fetch_add(3, Ordering::Relaxed);
                    }
                    drop(q);
                    gather.ready.notify_waiters();
                }
            }
        }
    });
    for _ in 0..connections {
        let mut conn = HttpConn::connect(addr, "none").await?;
        let (intake, secret) = (intake.clone(), secret.clone());
        tokio::spawn(async move {
            loop {
                let next = intake.queue.lock().expect("queue").pop_front();
                let Some((offered_at, body)) = next else {
                    if intake.stop.load(Ordering::Relaxed) {
                        return;
                    }
                    let notified = intake.ready.notified();
                    tokio::select! {
                        _ = notified => {}
                        _ = tokio::time::sleep(Duration::from_millis(20)) => {}
                    }
                    continue;
                };
                let sig = jobs::channels::whatsapp::sign(&secret, &body);
                let s = Instant::now();
                let ok = match conn
                    .request_with(
                        "POST",
                        "/v1/callbacks/whatsapp",
                        Some(&body),
                        &[("X-Hub-Signature-256", &sig)],
                    )
                    .await
                {
                    Ok((200, _)) => true,
                    Ok(_) => false,
                    Err(_) => {
                        // Reconnect and count the failure; the status is not re-posted.
                        match HttpConn::connect(addr, "none").await {
                            Ok(c) => conn = c,
                            Err(_) => return,
                        }
                        false
                    }
                };
                intake
                    .latencies_ms
                    .lock()
                    .expect("lat")
                    .push(s.elapsed().as_secs_f64() * 1000.0);
                intake
                    .delays_ms
                    .lock()
                    .expect("delays")
                    .push(offered_at.elapsed().as_secs_f64() * 1000.0);
                intake.answered.fetch_add(1, Ordering::Relaxed);
                if !ok {
                    intake.errors.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
    }
    Ok(intake)
}

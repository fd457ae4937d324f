//! Group commit for WhatsApp status webhooks (issue 15: callbacks at three
//! times the send rate). Each `POST /v1/callbacks/whatsapp` hands its
//! statuses to a gatherer and waits; the gatherer takes whatever requests are
//! waiting (up to [`MAX_BATCH`] statuses), applies them all in one
//! transaction (`campaigns::inbound::apply_statuses`) and answers each
//! request with its own results. Nothing is acknowledged before its commit,
//! so a crash loses no status (Meta posts unanswered webhooks again). Under
//! light load a batch is one request and adds no wait; under a burst the
//! commits, not the statements, are what is saved. [`GATHERERS`] tasks take
//! turns, so one gathers while another's batch commits.
//!
//! Written by hand: a channel and a loop; no crate does group commit for sqlx.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot, Mutex};

use jobs::kinds::campaigns::inbound::{self, Both, StatusItem};
use jobs::store::scope;

/// Statuses applied in one transaction at most.
pub const MAX_BATCH: usize = 500;
/// Tasks applying batches concurrently.
pub const GATHERERS: usize = 2;

type Reply = oneshot::Sender<Result<Vec<Both>, String>>;
/// One webhook's statuses and where its results go.
type Request = (Vec<StatusItem>, Reply);

/// The gatherers' inbox, started on first use (inside the runtime).
#[derive(Default)]
pub struct StatusBatcher {
    inbox: OnceLock<mpsc::Sender<Request>>,
    counts: Arc<Counts>,
}

/// Transactions committed and statuses and webhooks they carried (also on
/// `/metrics`: `tarefa_callback_status_batches_total`, `…_statuses_total`).
#[derive(Default, Debug)]
pub struct Counts {
    pub batches: AtomicU64,
    pub requests: AtomicU64,
    pub statuses: AtomicU64,
}

impl StatusBatcher {
    /// Applies `items` together with whatever other requests are waiting;
    /// the results are in `items`' order.
    pub async fn apply(&self, pool: &PgPool, items: Vec<StatusItem>) -> Result<Vec<Both>, String> {
        if items.is_empty() {
            return Ok(Vec::new());
        }
        let inbox = self
            .inbox
            .get_or_init(|| start(pool.clone(), self.counts.clone()));
        let (tx, rx) = oneshot::channel();
        inbox
            .send((items, tx))
            .await
            .map_err(|_| "status gatherer stopped".to_string())?;
        rx.await
            .map_err(|_| "status gatherer dropped the batch".to_string())?
    }

    /// (batches, webhooks, statuses) applied so far.
    pub fn counts(&self) -> (u64, u64, u64) {
        let c = &self.counts;
        (
            c.batches.load(Ordering::Relaxed),
            c.requests.load(Ordering::Relaxed),
            c.statuses.load(Ordering::Relaxed),
        )
    }
}

fn start(pool: PgPool, counts: Arc<Counts>) -> mpsc::Sender<Request> {
    let (tx, rx) = mpsc::channel(4 * MAX_BATCH);
    let rx = Arc::new(Mutex::new(rx));
    for _ in 0..GATHERERS {
        let (rx, pool, counts) = (rx.clone(), pool.clone(), counts.clone());
        // Webhooks name messages, not tenants: applied as the system.
        tokio::spawn(scope::as_system(gather(rx, pool, counts)));
    }
    tx
}

async fn gather(rx: Arc<Mutex<mpsc::Receiver<Request>>>, pool: PgPool, counts: Arc<Counts>) {
    loop {
        let mut batch = Vec::new();
        {
            let mut rx = rx.lock().await;
            let Some(first) = rx.recv().await else {
                return;
            };
            let mut n = first.0.len();
            batch.push(first);
            while n < MAX_BATCH {
                match rx.try_recv() {
                    Ok(next) => {
                        n += next.0.len();
                        batch.push(next);
                    }
                    Err(_) => break,
                }
            }
        }
        let items: Vec<StatusItem> = batch.iter().flat_map(|(i, _)| i.iter().cloned()).collect();
        match inbound::apply_statuses(&pool, &items).await {
            Ok(results) => {
                counts.batches.fetch_add(1, Ordering::Relaxed);
                counts
                    .requests
                    .fetch_add(batch.len() as u64, Ordering::Relaxed);
                counts
                    .statuses
                    .fetch_add(items.len() as u64, Ordering::Relaxed);
                metrics::counter!("tarefa_callback_status_batches_total").increment(1);
                metrics::counter!("tarefa_callback_statuses_total").increment(items.len() as u64);
                let mut results = results.into_iter();
                for (mine, reply) in batch {
                    let _ = reply.send(Ok(results.by_ref().take(mine.len()).collect()));
                }
            }
            Err(e) => {
                let why = e.to_string();
                for (_, reply) in batch {
                    let _ = reply.send(Err(why.clone()));
                }
            }
        }
    }
}

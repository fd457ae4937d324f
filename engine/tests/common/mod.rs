//! Helpers for the engine's integration tests: the engine's test kit
//! (`tarefa_engine::testing`: a `TestEngine` on the real Redis under a random
//! key prefix, in-process workers) plus the test kinds below, served by a
//! closure handler — the engine's tests need no Tarefa job kind.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{json, Value};
use tarefa_engine::testing::FnHandler;
#[allow(unused_imports)]
pub use tarefa_engine::testing::{redis_url, TestEngine, WorkerHandle};
use tarefa_engine::{Delivery, Engine, JobError, KindPolicy};

/// Which test kinds a worker serves (see [`Serve::worker`]).
#[derive(Clone, Copy)]
pub struct Kinds {
    record: bool,
}

/// `test.flaky`, `diag.noop`, `diag.sleep`.
pub fn test_registry() -> Kinds {
    Kinds { record: false }
}

/// [`test_registry`] plus `test.record` and `test.snooze`.
pub fn record_registry() -> Kinds {
    Kinds { record: true }
}

/// Serves a queue of a [`TestEngine`] with the test kinds.
pub trait Serve {
    fn worker(&self, queue: &str, concurrency: usize, kinds: Kinds) -> WorkerHandle;
}

impl Serve for TestEngine {
    fn worker(&self, queue: &str, concurrency: usize, kinds: Kinds) -> WorkerHandle {
        self.serve(queue, concurrency, handler(&self.engine, kinds))
    }
}

fn parse<T: for<'de> Deserialize<'de>>(d: &Delivery) -> Result<T, JobError> {
    serde_json::from_value(d.payload.clone())
        .map_err(|e| JobError::permanent(format!("bad payload: {e}")))
}

fn handler(engine: &Engine, kinds: Kinds) -> Arc<dyn tarefa_engine::Handler> {
    let engine = engine.clone();
    let mut h = FnHandler::new()
        .kind(
            "test.flaky",
            KindPolicy {
                timeout: Duration::from_millis(300),
                backoff_base: Duration::from_millis(20),
                backoff_cap: Duration::from_millis(100),
                ..KindPolicy::new("test")
            },
            move |d| flaky(engine.clone(), d),
        )
        .kind("diag.noop", KindPolicy::new("diag"), |_d| async {
            Ok(Value::Null)
        })
        .kind(
            "diag.sleep",
            KindPolicy {
                backoff_base: Duration::from_millis(100),
                backoff_cap: Duration::from_secs(5),
                ..KindPolicy::new("diag")
            },
            sleep,
        );
    if kinds.record {
        h = h
            .kind("test.record", KindPolicy::new("test"), |d| async move {
                RECORDED.lock().unwrap().push(d.tenant.clone());
                Ok(Value::Null)
            })
            .kind("test.snooze", KindPolicy::new("test"), snooze);
    }
    h.build()
}

/// `test.flaky`: fails (retryable) while `attempt <= fail`, with a short timeout and quick backoff.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FlakyPayload {
    #[serde(default)]
    fail: u32,
    #[serde(default)]
    sleep_ms: u64,
    #[serde(default)]
    retry_after_ms: Option<u64>,
    #[serde(default)]
    panic: bool,
}

async fn flaky(engine: Engine, d: Delivery) -> Result<Value, JobError> {
    let p: FlakyPayload = parse(&d)?;
    if p.panic {
        panic!("flaky panics as asked");
    }
    if p.sleep_ms > 0 {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(p.sleep_ms)) => {}
            _ = d.cancel.cancelled() => return Err(JobError::Cancelled),
        }
    }
    if d.attempt <= p.fail {
        return Err(JobError::Retryable {
            reason: format!("failing attempt {}", d.attempt),
            retry_after: p.retry_after_ms.map(Duration::from_millis),
        });
    }
    engine
        .set_progress(&d.queue, &d.id, 100, "done")
        .await
        .map_err(|e| JobError::retryable(e.to_string()))?;
    Ok(json!({ "attempt": d.attempt }))
}

/// `diag.sleep`: sleeps `ms` (cancellable), then fails as asked or succeeds.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SleepPayload {
    #[serde(default)]
    ms: u64,
    #[serde(default)]
    fail_times: u32,
    #[serde(default)]
    permanent: bool,
}

async fn sleep(d: Delivery) -> Result<Value, JobError> {
    let p: SleepPayload = parse(&d)?;
    tokio::select! {
        _ = tokio::time::sleep(Duration::from_millis(p.ms)) => {}
        _ = d.cancel.cancelled() => return Err(JobError::Cancelled),
    }
    if p.permanent {
        return Err(JobError::permanent("diag.sleep asked to fail permanently"));
    }
    if d.attempt <= p.fail_times {
        return Err(JobError::retryable(format!(
            "diag.sleep failing attempt {} of {}",
            d.attempt, p.fail_times
        )));
    }
    Ok(json!({ "slept_ms": p.ms, "attempt": d.attempt }))
}

/// Order in which `test.record` jobs ran (per test process: nextest runs each test in its own).
pub static RECORDED: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

/// `test.snooze`: snoozes its first run for 200 ms, then succeeds.
async fn snooze(d: Delivery) -> Result<Value, JobError> {
    let first = RECORDED.lock().unwrap().is_empty();
    RECORDED.lock().unwrap().push(d.attempt.to_string());
    if first {
        return Err(JobError::Snooze {
            delay: Duration::from_millis(200),
        });
    }
    Ok(json!({ "attempt": d.attempt }))
}

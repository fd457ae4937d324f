//! Helpers for the engine's integration tests: an engine on the real Redis
//! under a random key prefix (removed on drop), a registry with test kinds,
//! and an in-process worker that can be stopped.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use jobs::engine::{Engine, EngineConfig, JobInfo, JobStatus, NewJob};
use jobs::kinds::{JobContext, JobError, JobKind, KindPolicy, Registry, Resources};
use jobs::Settings;
use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;

pub fn redis_url() -> String {
    std::env::var("TAREFA__REDIS__URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

pub struct TestEngine {
    pub engine: Engine,
    pub prefix: String,
    pub settings: Settings,
}

impl TestEngine {
    pub async fn new() -> TestEngine {
        Self::with(|_| {}).await
    }

    pub async fn with(f: impl FnOnce(&mut Settings)) -> TestEngine {
        let mut settings = Settings::default();
        settings.redis.url = redis_url();
        settings.redis.prefix = format!("tarefa-test-{}", uuid::Uuid::new_v4().simple());
        settings.engine.lease_ttl_ms = 2_000;
        settings.engine.shutdown_grace_ms = 2_000;
        f(&mut settings);
        let engine = Engine::connect(EngineConfig::from_settings(&settings))
            .await
            .expect("redis");
        TestEngine {
            engine,
            prefix: settings.redis.prefix.clone(),
            settings,
        }
    }

    pub fn resources(&self) -> Resources {
        Resources {
            engine: self.engine.clone(),
            pg: None,
            settings: Arc::new(self.settings.clone()),
        }
    }

    /// Starts an in-process worker on `queue`; drop or `stop()` the handle to drain it.
    pub fn worker(&self, queue: &str, concurrency: usize, registry: Registry) -> WorkerHandle {
        let (tx, rx) = oneshot::channel::<()>();
        let engine = self.engine.clone();
        let resources = self.resources();
        let queue = queue.to_string();
        let task = tokio::spawn(async move {
            jobs::engine::run_queue(
                engine,
                &queue,
                concurrency,
                Arc::new(registry),
                resources,
                async move {
                    let _ = rx.await;
                },
            )
            .await
        });
        WorkerHandle {
            stop: Some(tx),
            task: Some(task),
        }
    }

    /// Polls until the job reaches a final state (or `status`), checking every 10 ms.
    pub async fn wait_for(
        &self,
        queue: &str,
        id: &str,
        pred: impl Fn(&JobInfo) -> bool,
    ) -> JobInfo {
        loop {
            if let Some(j) = self.engine.job(queue, id).await.unwrap() {
                if pred(&j) {
                    return j;
                }
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    pub async fn wait_final(&self, queue: &str, id: &str) -> JobInfo {
        self.wait_for(queue, id, |j| j.status.is_final()).await
    }

    pub async fn wait_status(&self, queue: &str, id: &str, status: JobStatus) -> JobInfo {
        self.wait_for(queue, id, |j| j.status == status).await
    }

    pub fn job(&self, queue: &str, kind: &str, payload: serde_json::Value) -> NewJob {
        NewJob::new(queue, kind, "tenant-a", payload)
    }
}

impl Drop for TestEngine {
    fn drop(&mut self) {
        let url = redis_url();
        let pattern = format!("{{{}:*", self.prefix);
        // Sync cleanup so it runs even when the test panicked.
        if let Ok(client) = redis::Client::open(url) {
            if let Ok(mut c) = client.get_connection() {
                let keys: Vec<String> = redis::cmd("KEYS")
                    .arg(&pattern)
                    .query(&mut c)
                    .unwrap_or_default();
                for chunk in keys.chunks(500) {
                    let _: Result<(), _> = redis::cmd("DEL").arg(chunk).query(&mut c);
                }
            }
        }
    }
}

pub struct WorkerHandle {
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<Result<(), jobs::engine::EngineError>>>,
}

impl WorkerHandle {
    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            t.await.expect("worker task").expect("worker result");
        }
    }
}

impl Drop for WorkerHandle {
    fn drop(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}

/// `test.flaky`: fails (retryable) while `attempt <= fail`, with a short timeout and quick backoff.
pub struct Flaky;

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FlakyPayload {
    #[serde(default)]
    pub fail: u32,
    #[serde(default)]
    pub sleep_ms: u64,
    #[serde(default)]
    pub retry_after_ms: Option<u64>,
    #[serde(default)]
    pub panic: bool,
}

impl JobKind for Flaky {
    const NAME: &'static str = "test.flaky";
    type Payload = FlakyPayload;
    fn policy() -> KindPolicy {
        KindPolicy {
            timeout: Duration::from_millis(300),
            backoff_base: Duration::from_millis(20),
            backoff_cap: Duration::from_millis(100),
            ..KindPolicy::new("test")
        }
    }
    async fn run(p: FlakyPayload, ctx: JobContext) -> Result<serde_json::Value, JobError> {
        if p.panic {
            panic!("flaky panics as asked");
        }
        if p.sleep_ms > 0 {
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(p.sleep_ms)) => {}
                _ = ctx.cancel.cancelled() => return Err(JobError::Cancelled),
            }
        }
        if ctx.attempt <= p.fail {
            return Err(JobError::Retryable {
                reason: format!("failing attempt {}", ctx.attempt),
                retry_after: p.retry_after_ms.map(Duration::from_millis),
            });
        }
        ctx.progress(100, "done").await;
        Ok(serde_json::json!({ "attempt": ctx.attempt }))
    }
}

pub fn test_registry() -> Registry {
    let mut r = Registry::builtin();
    r.register::<Flaky>();
    r
}

/// Order in which `test.record` jobs ran (per test process: nextest runs each test in its own).
pub static RECORDED: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

/// `test.record`: appends its tenant to [`RECORDED`].
pub struct Record;

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RecordPayload {}

impl JobKind for Record {
    const NAME: &'static str = "test.record";
    type Payload = RecordPayload;
    fn policy() -> KindPolicy {
        KindPolicy::new("test")
    }
    async fn run(_p: RecordPayload, ctx: JobContext) -> Result<serde_json::Value, JobError> {
        RECORDED.lock().unwrap().push(ctx.tenant.clone());
        Ok(serde_json::Value::Null)
    }
}

pub fn record_registry() -> Registry {
    let mut r = test_registry();
    r.register::<Record>();
    r.register::<Snoozer>();
    r
}

/// `test.snooze`: snoozes its first run for 200 ms, then succeeds.
pub struct Snoozer;

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SnoozePayload {}

impl JobKind for Snoozer {
    const NAME: &'static str = "test.snooze";
    type Payload = SnoozePayload;
    fn policy() -> KindPolicy {
        KindPolicy::new("test")
    }
    async fn run(_p: SnoozePayload, ctx: JobContext) -> Result<serde_json::Value, JobError> {
        let first = RECORDED.lock().unwrap().is_empty();
        RECORDED.lock().unwrap().push(ctx.attempt.to_string());
        if first {
            return Err(JobError::Snooze {
                delay: Duration::from_millis(200),
            });
        }
        Ok(serde_json::json!({ "attempt": ctx.attempt }))
    }
}

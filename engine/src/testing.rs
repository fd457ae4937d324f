//! The engine half of Tarefa's one test kit (feature `testing`; never in
//! production builds): what every crate's tests need to run the engine on
//! the real Redis. `jobs::testing` re-exports it and adds PostgreSQL,
//! tenants, settings and the job-kind registry on top.
//!
//! - [`redis_url`]: the Redis the tests use (`TAREFA__REDIS__URL`, default loopback).
//! - [`RedisPrefix`]: a random key prefix whose keys are deleted on drop
//!   (synchronously, so it runs even when the test panicked).
//! - [`TestEngine`]: an [`Engine`] under its own prefix, with short leases,
//!   and the waits tests need (`wait_final`, `wait_status`, `wait_for`).
//! - [`WorkerHandle`]: a queue served in-process by any [`Handler`], stopped
//!   gracefully by `stop()` or aborted on drop.
//! - [`FnHandler`]: a [`Handler`] made of closures, for tests that need job
//!   kinds without Tarefa's registry.
//! - [`eventually`]: polls a condition until it holds (no fixed sleeps).

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use futures::FutureExt;
use tokio::sync::oneshot;

use crate::{
    Delivery, Engine, EngineConfig, EngineError, EngineSettings, Handler, JobError, JobInfo,
    JobStatus, KindPolicy, NewJob,
};

/// The Redis server tests use: `TAREFA__REDIS__URL`, else `redis://127.0.0.1:6379`.
pub fn redis_url() -> String {
    std::env::var("TAREFA__REDIS__URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// A fresh key prefix (`tarefa-test-<uuid>`) on [`redis_url`]; every key under
/// it is deleted when the guard drops.
#[derive(Debug)]
pub struct RedisPrefix {
    pub prefix: String,
    pub url: String,
}

impl RedisPrefix {
    pub fn new() -> RedisPrefix {
        RedisPrefix::on(&redis_url())
    }

    /// A prefix on another Redis (a test's own server).
    pub fn on(url: &str) -> RedisPrefix {
        RedisPrefix {
            prefix: format!(
                "tarefa-test-{}",
                ulid::Ulid::new().to_string().to_lowercase()
            ),
            url: url.to_string(),
        }
    }

    /// Every value of every key under this prefix, whatever its type, as one text
    /// (tests grep it for what must not be stored in clear).
    pub async fn dump(&self) -> String {
        use redis::AsyncCommands;
        let mut conn = redis::Client::open(self.url.as_str())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap();
        let names: Vec<String> = conn.keys(format!("*{}*", self.prefix)).await.unwrap();
        let mut out = String::new();
        for k in names {
            let t: String = redis::cmd("TYPE")
                .arg(&k)
                .query_async(&mut conn)
                .await
                .unwrap();
            let vals: Vec<Vec<u8>> = match t.as_str() {
                "string" => vec![conn.get(&k).await.unwrap()],
                "hash" => conn.hgetall::<_, Vec<Vec<u8>>>(&k).await.unwrap(),
                "list" => conn.lrange(&k, 0, -1).await.unwrap(),
                "set" => conn.smembers(&k).await.unwrap(),
                "zset" => conn.zrange(&k, 0, -1).await.unwrap(),
                "stream" => {
                    let v: redis::Value = redis::cmd("XRANGE")
                        .arg(&k)
                        .arg("-")
                        .arg("+")
                        .query_async(&mut conn)
                        .await
                        .unwrap();
                    vec![format!("{v:?}").into_bytes()]
                }
                _ => Vec::new(),
            };
            for v in vals {
                out.push_str(&String::from_utf8_lossy(&v));
                out.push('\n');
            }
        }
        out
    }
}

impl Default for RedisPrefix {
    fn default() -> Self {
        RedisPrefix::new()
    }
}

impl Drop for RedisPrefix {
    fn drop(&mut self) {
        remove_keys(&self.url, &self.prefix);
    }
}

/// Deletes every key whose name contains `prefix` (the engine's are
/// `{<prefix>:…`; other stores may put it elsewhere). Prefixes are unique.
/// On a cluster (`redis+cluster://`), on every node, key by key (replicas
/// refuse and are skipped).
pub fn remove_keys(url: &str, prefix: &str) {
    let nodes = match crate::conn::Topology::parse(url) {
        Ok(crate::conn::Topology::Single(u)) => vec![(u, false)],
        Ok(crate::conn::Topology::Cluster(nodes)) => nodes.into_iter().map(|n| (n, true)).collect(),
        _ => return,
    };
    for (node, one_by_one) in nodes {
        let Ok(client) = redis::Client::open(node.as_str()) else {
            continue;
        };
        let Ok(mut c) = client.get_connection_with_timeout(Duration::from_secs(2)) else {
            continue;
        };
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("*{prefix}*"))
            .query(&mut c)
            .unwrap_or_default();
        let size = if one_by_one { 1 } else { 500 };
        for chunk in keys.chunks(size) {
            let _: Result<(), _> = redis::cmd("DEL").arg(chunk).query(&mut c);
        }
    }
}

/// Engine settings for tests: 2 s leases and shutdown grace, so crash and
/// drain tests finish quickly.
pub fn test_settings() -> EngineSettings {
    EngineSettings {
        lease_ttl_ms: 2_000,
        shutdown_grace_ms: 2_000,
        ..EngineSettings::default()
    }
}

/// An engine on the real Redis under its own prefix (removed on drop).
pub struct TestEngine {
    pub engine: Engine,
    pub config: EngineConfig,
    pub prefix: String,
    _keys: RedisPrefix,
}

impl TestEngine {
    pub async fn new() -> TestEngine {
        TestEngine::with(|_| {}).await
    }

    /// With [`test_settings`] changed by `f`.
    pub async fn with(f: impl FnOnce(&mut EngineSettings)) -> TestEngine {
        let mut settings = test_settings();
        f(&mut settings);
        TestEngine::on(RedisPrefix::new(), settings).await
    }

    /// Under a prefix the caller made (e.g. on its own Redis server).
    pub async fn on(keys: RedisPrefix, settings: EngineSettings) -> TestEngine {
        let config = EngineConfig {
            redis_url: keys.url.clone(),
            prefix: keys.prefix.clone(),
            settings,
        };
        let engine = Engine::connect(config.clone()).await.expect("redis");
        TestEngine {
            engine,
            prefix: keys.prefix.clone(),
            config,
            _keys: keys,
        }
    }

    /// Serves `queue` in this process with `handler` until the handle stops.
    pub fn serve(
        &self,
        queue: &str,
        concurrency: usize,
        handler: Arc<dyn Handler>,
    ) -> WorkerHandle {
        WorkerHandle::spawn(self.engine.clone(), queue, concurrency, handler)
    }

    /// Polls (every 10 ms) until job `id` exists and satisfies `pred`.
    pub async fn wait_for(
        &self,
        queue: &str,
        id: &str,
        pred: impl Fn(&JobInfo) -> bool,
    ) -> JobInfo {
        wait_job(&self.engine, queue, id, pred).await
    }

    /// Waits until the job is in a final state.
    pub async fn wait_final(&self, queue: &str, id: &str) -> JobInfo {
        self.wait_for(queue, id, |j| j.status.is_final()).await
    }

    pub async fn wait_status(&self, queue: &str, id: &str, status: JobStatus) -> JobInfo {
        self.wait_for(queue, id, |j| j.status == status).await
    }

    /// What a worker killed right after its claim leaves behind: claims up
    /// to `n` jobs of `queue` for a worker id that will never renew, start
    /// or ack them (its lease expires after `lease_ttl_ms`, and the rescuer
    /// of any live worker re-queues them). Returns the claimed ids.
    pub async fn claim_and_vanish(&self, queue: &str, n: usize) -> Vec<String> {
        let keys = crate::keys::QueueKeys::new(&self.prefix, queue);
        let mut conn = self.engine.conn.clone();
        let got = crate::claim::claim(
            &mut conn,
            &keys,
            queue,
            &format!("vanished-{}", ulid::Ulid::new()),
            n,
            self.config.settings.lease_ttl_ms,
            true,
            "vanished",
            1,
        )
        .await
        .expect("claim");
        got.jobs.into_iter().map(|j| j.id).collect()
    }

    /// What a claim the client sent twice leaves (the first reply was lost
    /// in a failover, the first run had replicated): two claims of up to `n`
    /// jobs each under one worker id and claim seq, never renewed or acked.
    /// Returns the ids of both runs.
    pub async fn claim_twice_and_vanish(&self, queue: &str, n: usize) -> Vec<String> {
        let keys = crate::keys::QueueKeys::new(&self.prefix, queue);
        let worker = format!("vanished-{}", ulid::Ulid::new());
        let mut conn = self.engine.conn.clone();
        let mut ids = Vec::new();
        for _ in 0..2 {
            let got = crate::claim::claim(
                &mut conn,
                &keys,
                queue,
                &worker,
                n,
                self.config.settings.lease_ttl_ms,
                true,
                "vanished",
                1,
            )
            .await
            .expect("claim");
            ids.extend(got.jobs.into_iter().map(|j| j.id));
        }
        ids
    }

    /// A job for tenant `tenant-a`.
    pub fn job(&self, queue: &str, kind: &str, payload: serde_json::Value) -> NewJob {
        NewJob::new(queue, kind, "tenant-a", payload)
    }
}

/// Polls (every 10 ms) until job `id` of `queue` exists and satisfies `pred`.
pub async fn wait_job(
    engine: &Engine,
    queue: &str,
    id: &str,
    pred: impl Fn(&JobInfo) -> bool,
) -> JobInfo {
    eventually(|| async { engine.job(queue, id).await.ok().flatten() })
        .until(|j: &JobInfo| pred(j))
        .await
}

/// Starts polling `probe` every 10 ms; finish with `.until(pred)` or `.some()`.
pub fn eventually<T, F, Fut>(probe: F) -> Eventually<F>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    Eventually {
        probe,
        every: Duration::from_millis(10),
    }
}

/// See [`eventually`]. Waits as long as it takes: the test runner's own
/// timeout guards a hang (tests carry no wall-clock limits).
pub struct Eventually<F> {
    probe: F,
    every: Duration,
}

impl<F> Eventually<F> {
    /// Polls at this interval instead of 10 ms.
    pub fn every(mut self, every: Duration) -> Self {
        self.every = every;
        self
    }

    /// The first value the probe returns that satisfies `pred`.
    pub async fn until<T, Fut>(mut self, mut pred: impl FnMut(&T) -> bool) -> T
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Option<T>>,
    {
        loop {
            if let Some(v) = (self.probe)().await {
                if pred(&v) {
                    return v;
                }
            }
            tokio::time::sleep(self.every).await;
        }
    }

    /// The first value the probe returns.
    pub async fn some<T, Fut>(self) -> T
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Option<T>>,
    {
        self.until(|_| true).await
    }
}

/// A queue served in-process; `stop()` drains it (graceful), drop aborts it.
pub struct WorkerHandle {
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<Result<(), EngineError>>>,
}

impl WorkerHandle {
    pub fn spawn(
        engine: Engine,
        queue: &str,
        concurrency: usize,
        handler: Arc<dyn Handler>,
    ) -> WorkerHandle {
        let (tx, rx) = oneshot::channel::<()>();
        let queue = queue.to_string();
        let task = tokio::spawn(async move {
            crate::run_queue(engine, &queue, concurrency, handler, async move {
                let _ = rx.await;
            })
            .await
        });
        WorkerHandle {
            stop: Some(tx),
            task: Some(task),
        }
    }

    /// Asks the worker to stop and waits until it has drained.
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

type RunFn =
    Arc<dyn Fn(Delivery) -> BoxFuture<'static, Result<serde_json::Value, JobError>> + Send + Sync>;

/// A [`Handler`] made of closures, one per kind name.
#[derive(Clone, Default)]
pub struct FnHandler {
    kinds: HashMap<String, (KindPolicy, RunFn)>,
}

impl FnHandler {
    pub fn new() -> FnHandler {
        FnHandler::default()
    }

    /// Adds kind `name` with `policy`, run by `run`.
    pub fn kind<Fut>(
        mut self,
        name: &str,
        policy: KindPolicy,
        run: impl Fn(Delivery) -> Fut + Send + Sync + 'static,
    ) -> FnHandler
    where
        Fut: Future<Output = Result<serde_json::Value, JobError>> + Send + 'static,
    {
        let run: RunFn = Arc::new(move |d| run(d).boxed());
        self.kinds.insert(name.to_string(), (policy, run));
        self
    }

    pub fn build(self) -> Arc<dyn Handler> {
        Arc::new(self)
    }
}

impl Handler for FnHandler {
    fn policy(&self, kind: &str) -> Option<KindPolicy> {
        self.kinds.get(kind).map(|(p, _)| p.clone())
    }

    fn run(&self, job: Delivery) -> BoxFuture<'static, Result<serde_json::Value, JobError>> {
        match self.kinds.get(&job.kind) {
            Some((_, run)) => run(job),
            None => {
                let reason = format!("unknown job kind {:?}", job.kind);
                futures::future::ready(Err(JobError::permanent(reason))).boxed()
            }
        }
    }
}

//! What a handler gets besides its payload: who and which attempt, a
//! cancellation token, progress reporting, and shared resources; and
//! [`KindHandler`], the engine's [`Handler`] over the kind registry.

use std::sync::Arc;

use futures::future::BoxFuture;
use futures::FutureExt;
use tokio_util::sync::CancellationToken;

use super::Registry;
use crate::engine::{Delivery, Engine, Handler, JobError, KindPolicy, NewJob};
use crate::store::scope::{self, Acting};
use crate::Settings;

/// Shared resources handlers may use.
#[derive(Clone)]
pub struct Resources {
    pub engine: Engine,
    pub pg: Option<sqlx::PgPool>,
    pub settings: Arc<Settings>,
}

/// Per-run context handed to a handler.
#[derive(Clone)]
pub struct JobContext {
    pub id: String,
    pub queue: String,
    pub kind: String,
    pub tenant: String,
    /// 1 on the first run.
    pub attempt: u32,
    pub max_attempts: u32,
    /// This run's W3C `traceparent`: the job's trace id, the job span's id as
    /// parent. `None` when the job was pushed without a trace.
    pub trace: Option<String>,
    /// Fires when someone cancels this running job (or the worker must give it up).
    pub cancel: CancellationToken,
    pub resources: Resources,
}

impl JobContext {
    /// The `traceparent` a follow-up job or an outgoing call of this run
    /// carries: same trace id, this job's span as the parent.
    pub fn traceparent_for_child(&self) -> Option<String> {
        self.trace.clone()
    }

    /// A follow-up job for this job's tenant that continues this job's trace.
    pub fn child_job(&self, queue: &str, kind: &str, payload: serde_json::Value) -> NewJob {
        let mut job = NewJob::new(queue, kind, &self.tenant, payload);
        job.trace = self.traceparent_for_child();
        job
    }

    /// Records progress (0-100) and a short message, visible in `GET /v1/jobs/{id}`.
    pub async fn progress(&self, percent: u8, message: &str) {
        let r = self
            .resources
            .engine
            .set_progress(&self.queue, &self.id, percent.min(100), message)
            .await;
        if let Err(e) = r {
            tracing::warn!(job_id = %self.id, error = %e, "could not record progress");
        }
    }
}

/// Runs jobs for the engine: looks each kind up in the registry and hands
/// its handler a [`JobContext`] with the process's shared resources.
pub struct KindHandler {
    pub registry: Arc<Registry>,
    pub resources: Resources,
}

impl KindHandler {
    pub fn new(registry: Arc<Registry>, resources: Resources) -> Arc<KindHandler> {
        Arc::new(KindHandler {
            registry,
            resources,
        })
    }
}

impl Handler for KindHandler {
    fn policy(&self, kind: &str) -> Option<KindPolicy> {
        self.registry.get(kind).map(|k| k.policy())
    }

    fn run(&self, job: Delivery) -> BoxFuture<'static, Result<serde_json::Value, JobError>> {
        let Some(kind) = self.registry.get(&job.kind).cloned() else {
            let reason = format!("unknown job kind {:?}", job.kind);
            return futures::future::ready(Err(JobError::permanent(reason))).boxed();
        };
        // Row-level security: a tenant's job sees only that tenant's rows; jobs
        // of system schedules (tenant `system`) act across tenants.
        let acting = match uuid::Uuid::parse_str(&job.tenant) {
            Ok(id) => Acting::Tenant(id),
            Err(_) => Acting::System,
        };
        let ctx = JobContext {
            id: job.id,
            queue: job.queue,
            kind: job.kind,
            tenant: job.tenant,
            attempt: job.attempt,
            max_attempts: job.max_attempts,
            trace: job.trace,
            cancel: job.cancel,
            resources: self.resources.clone(),
        };
        scope::acting_as(Some(acting), kind.run(job.payload, ctx)).boxed()
    }

    fn continue_trace(&self, span: &tracing::Span, traceparent: Option<&str>) -> Option<String> {
        crate::telemetry::continue_trace(span, traceparent)
    }
}

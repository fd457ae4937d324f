//! What a handler gets besides its payload: who and which attempt, a
//! cancellation token, progress reporting, and shared resources.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::engine::Engine;
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
    /// Fires when someone cancels this running job (or the worker must give it up).
    pub cancel: CancellationToken,
    pub resources: Resources,
}

impl JobContext {
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

//! Reports: report cards, class, campaign and occupancy reports rendered as
//! PDF, XLSX, CSV or a ZIP of PDFs by the `reports.render` job.
//!
//! **The seam.** Rendering needs typst, plotters and rust_xlsxwriter (hundreds
//! of crates, minutes of build); the intake, the scheduler and this crate must
//! not compile them. So the feature is split in two:
//! - here (light, in `jobs`): the request model and its checks (`model`), the
//!   `reports` rows (`sql`), signed links (`link`), [`submit`] (row + job), and
//!   [`RenderKind`], the kind's *metadata* — name, queue, policy, payload
//!   schema — which [`Registry::builtin`](super::Registry::builtin) registers so
//!   the intake and `/v1/kinds` know it. Its run needs a [`Renderer`];
//! - the `reports` crate (heavy; only `worker` and its own tests/bench link it)
//!   implements [`Renderer`] and the worker registers
//!   `RenderKind::with_renderer(..)` over the metadata-only entry. A process
//!   without a renderer that somehow runs the job fails it permanently, with
//!   that reason.
//!
//! Life of a report: `POST /v1/reports` checks the request (422 naming the
//! field) and inserts a `queued` row, or returns the identical request's row
//! from the last `dedup_window_secs`; pushes `reports.render` with the report
//! id as job id. The job marks it `running`, renders in batches (progress
//! done/total on the row; cancellation checked between batches), writes the
//! file to the blob store and only then marks it `done` with its key. A
//! failure marks it `failed` with the reason.

pub mod branding;
pub mod deliver;
pub mod link;
pub mod model;
pub mod sql;

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use futures::FutureExt;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{ErasedKind, FieldError, JobContext, JobError, KindPolicy};
use crate::engine::{Engine, NewJob};
pub use deliver::{Scheduled, ScheduledPayload, SCHEDULED};
pub use model::{Format, Params, Report, ReportRequest, ReportType, ValidRequest};

/// Reports have their own queue: a 1,000-page render must not hold up notifications.
pub const QUEUE: &str = "reports";
pub const RENDER: &str = "reports.render";

/// `[reports]` settings.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReportsSettings {
    /// An identical request (tenant, type, format, params) within this many
    /// seconds returns the same report instead of rendering another.
    pub dedup_window_secs: i64,
    /// Environment variable holding the secret that signs download links.
    /// Unset or empty: no signed links (the `/file` route still works with a key).
    pub url_secret_env: String,
    /// How long a signed download link stays valid.
    pub link_ttl_secs: i64,
    /// Public base URL of the API, put in front of signed links in e-mails.
    pub public_base_url: String,
    /// Students rendered per typst compilation: bounds the render's memory.
    pub batch_size: usize,
    /// Refuse (fail) a report card run over more students than this.
    pub max_students: usize,
    /// Scheduled reports: files up to this size are attached to the e-mail, larger ones linked.
    pub attach_max_bytes: i64,
}

impl Default for ReportsSettings {
    fn default() -> Self {
        ReportsSettings {
            dedup_window_secs: 300,
            url_secret_env: "TAREFA_REPORTS_URL_SECRET".into(),
            link_ttl_secs: 7 * 24 * 3600,
            public_base_url: "http://127.0.0.1:8080".into(),
            batch_size: 25,
            max_students: 5000,
            attach_max_bytes: 5 * 1024 * 1024,
        }
    }
}

impl ReportsSettings {
    /// The link-signing secret, if configured.
    pub fn url_secret(&self) -> Option<Vec<u8>> {
        std::env::var(&self.url_secret_env)
            .ok()
            .filter(|s| !s.is_empty())
            .map(String::into_bytes)
    }
}

/// The `reports.render` payload.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenderPayload {
    pub report_id: Uuid,
}

/// What renders a report: implemented by the `reports` crate.
pub trait Renderer: Send + Sync + 'static {
    /// Renders report `report_id` (a row in `reports`) for `ctx.tenant`.
    fn render(
        &self,
        report_id: Uuid,
        ctx: JobContext,
    ) -> BoxFuture<'static, Result<serde_json::Value, JobError>>;
}

/// The `reports.render` kind: metadata always, a run only with a renderer.
pub struct RenderKind {
    renderer: Option<Arc<dyn Renderer>>,
}

impl RenderKind {
    /// Name, queue, policy and schema only (intake, scheduler).
    pub fn metadata_only() -> RenderKind {
        RenderKind { renderer: None }
    }

    /// The kind the worker runs.
    pub fn with_renderer(renderer: Arc<dyn Renderer>) -> RenderKind {
        RenderKind {
            renderer: Some(renderer),
        }
    }

    pub fn policy() -> KindPolicy {
        KindPolicy {
            // 1,000 report cards take minutes on a busy box.
            timeout: Duration::from_secs(30 * 60),
            max_attempts: 3,
            backoff_base: Duration::from_secs(10),
            // Personal data (students' report cards): sealed at rest.
            encrypt: true,
            ..KindPolicy::new(QUEUE)
        }
    }
}

fn parse(payload: &serde_json::Value) -> Result<RenderPayload, FieldError> {
    serde_path_to_error::deserialize(payload).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." {
            "payload".to_string()
        } else {
            format!("payload.{path}")
        };
        FieldError::new(field, e.inner().to_string())
    })
}

impl ErasedKind for RenderKind {
    fn name(&self) -> &'static str {
        RENDER
    }
    fn policy(&self) -> KindPolicy {
        RenderKind::policy()
    }
    fn validate(&self, payload: &serde_json::Value) -> Result<(), FieldError> {
        parse(payload).map(|_| ())
    }
    fn schema(&self) -> serde_json::Value {
        let schema = <RenderPayload as utoipa::PartialSchema>::schema();
        serde_json::to_value(schema).unwrap_or(serde_json::Value::Null)
    }
    fn run(
        &self,
        payload: serde_json::Value,
        ctx: JobContext,
    ) -> BoxFuture<'static, Result<serde_json::Value, JobError>> {
        let p = match parse(&payload) {
            Ok(p) => p,
            Err(e) => {
                return futures::future::ready(Err(JobError::permanent(format!(
                    "bad payload: {e}"
                ))))
                .boxed()
            }
        };
        match &self.renderer {
            Some(r) => r.render(p.report_id, ctx),
            None => futures::future::ready(Err(JobError::permanent(
                "this process has no report renderer (only the worker links the reports crate)",
            )))
            .boxed(),
        }
    }
}

/// Why a report could not be submitted.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error("{0}")]
    Invalid(FieldError),
    #[error("postgres: {0}")]
    Db(#[from] sqlx::Error),
    #[error("engine: {0}")]
    Engine(#[from] crate::engine::EngineError),
}

/// Checks the request, writes the report (or finds the identical recent one)
/// and pushes its render job (the report id is the job id: pushing again is
/// a no-op, so a crash between insert and push is mended by a retry).
/// Returns the report and whether it is new.
pub async fn submit(
    pg: &PgPool,
    engine: &Engine,
    settings: &ReportsSettings,
    tenant: Uuid,
    req: &ReportRequest,
    deliver_to: &[String],
    trace: Option<String>,
) -> Result<(Report, bool), SubmitError> {
    let valid = req.validate().map_err(SubmitError::Invalid)?;
    let (mut r, new) =
        sql::insert_or_reuse(pg, tenant, &valid, settings.dedup_window_secs, deliver_to).await?;
    if r.status == "queued" {
        let mut job = NewJob::new(
            QUEUE,
            RENDER,
            &tenant.to_string(),
            serde_json::json!({ "report_id": r.id }),
        );
        job.id = Some(r.id.to_string());
        job.max_attempts = RenderKind::policy().max_attempts;
        job.trace = trace;
        let pushed = engine.push(job).await?;
        if r.job_id.is_none() {
            sql::set_job(pg, r.id, &pushed.id).await?;
            r.job_id = Some(pushed.id);
        }
    }
    Ok((r, new))
}

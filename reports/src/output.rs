//! What a render produces and the context it renders in: the finished file
//! (a temp file, moved to the blob store only once complete), and the
//! tenant, dates, palette, batch size, progress and cancellation hooks.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// The finished file of a report.
pub struct Output {
    pub file: tempfile::NamedTempFile,
    pub pages: Option<usize>,
    pub file_name: String,
}

/// Why a render stopped.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// Missing or inconsistent data (no such class, no students): permanent.
    #[error("{0}")]
    Data(String),
    #[error(transparent)]
    Pdf(#[from] crate::pdf::PdfError),
    #[error("xlsx: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
    #[error("csv: {0}")]
    Csv(#[from] csv::Error),
    #[error("zip: {0}")]
    Zip(#[from] zip::result::ZipError),
    #[error("chart: {0}")]
    Chart(String),
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// A database error: retryable.
    #[error("postgres: {0}")]
    Db(#[from] sqlx::Error),
    #[error("cancelled")]
    Cancelled,
}

impl From<crate::data::academic::DataError> for RenderError {
    fn from(e: crate::data::academic::DataError) -> Self {
        match e {
            crate::data::academic::DataError::Db(e) => RenderError::Db(e),
            other => RenderError::Data(other.to_string()),
        }
    }
}

/// Reports progress (done, total); async because it writes the row.
pub type Progress =
    Arc<dyn Fn(usize, usize) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// Everything a report type needs besides its parameters.
#[derive(Clone)]
pub struct RenderCtx {
    pub pg: PgPool,
    pub tenant: Uuid,
    pub school: String,
    /// The tenant's local date (typst's `today`).
    pub today: chrono::NaiveDate,
    /// `05/12/2026 14:30` in the tenant's zone.
    pub generated: String,
    pub tz: chrono_tz::Tz,
    pub primary: u32,
    pub accent: u32,
    /// The tenant's logo for the page header (`report_branding`).
    pub logo: Option<std::sync::Arc<jobs::kinds::reports::branding::Logo>>,
    /// `[campaigns]` settings (the price table of a campaign's cost).
    pub campaigns: jobs::kinds::campaigns::CampaignsSettings,
    pub batch_size: usize,
    pub max_students: usize,
    pub cancel: CancellationToken,
    pub progress: Progress,
}

impl RenderCtx {
    pub fn check_cancel(&self) -> Result<(), RenderError> {
        if self.cancel.is_cancelled() {
            Err(RenderError::Cancelled)
        } else {
            Ok(())
        }
    }

    /// The `colors`, `school` and `generated` fields every template reads.
    pub fn base_json(&self) -> serde_json::Map<String, serde_json::Value> {
        let mut m = serde_json::Map::new();
        m.insert("school".into(), self.school.clone().into());
        m.insert("generated".into(), self.generated.clone().into());
        // The logo's bytes are the world's `logo` file; the data says its format.
        m.insert("logo".into(), self.logo.as_ref().map(|l| l.format).into());
        m.insert(
            "colors".into(),
            serde_json::json!({
                "primary": format!("#{:06x}", self.primary),
                "accent": format!("#{:06x}", self.accent),
            }),
        );
        m
    }

    pub fn temp(&self, suffix: &str) -> Result<tempfile::NamedTempFile, RenderError> {
        Ok(tempfile::Builder::new()
            .prefix("tarefa-report-")
            .suffix(suffix)
            .tempfile()?)
    }
}

/// Runs CPU-bound work (typst) off the async threads.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, RenderError> + Send + 'static,
) -> Result<T, RenderError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| RenderError::Io(std::io::Error::other(e.to_string())))?
}

/// A file-name-safe slug of a code or name (`9º A` → `9o-a`).
pub fn slug(s: &str) -> String {
    let s = ptbr::slug(s);
    if s.is_empty() {
        "relatorio".into()
    } else {
        s
    }
}

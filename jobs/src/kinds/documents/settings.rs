//! `[documents]` settings: where uploaded files are kept (blob store), the
//! upload and extraction limits, OCR, and the extractor subprocess's budget.
//! S3 credentials come only from the environment and `Debug` hides them.
//! `[documents.llm]` (the structuring fallback) is [`super::llm::LlmSettings`].

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Where blobs live.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BlobStoreKind {
    /// A directory on this machine (`blob_dir`), shared by api-lite and the
    /// workers (one host, or a shared volume).
    #[default]
    Local,
    /// An S3-compatible bucket (AWS, MinIO, Ceph, R2...).
    S3,
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DocumentsSettings {
    pub blob_store: BlobStoreKind,
    /// `local`: the root directory (created on first write).
    pub blob_dir: String,
    /// `s3`: bucket name.
    pub s3_bucket: String,
    /// `s3`: endpoint URL for S3-compatible services; empty = AWS for `s3_region`.
    pub s3_endpoint: String,
    pub s3_region: String,
    /// `s3`: allow a plain `http://` endpoint (a local MinIO).
    pub s3_allow_http: bool,
    /// `s3`: env only (`TAREFA__DOCUMENTS__S3_ACCESS_KEY_ID`); else `AWS_ACCESS_KEY_ID`.
    pub s3_access_key_id: Option<String>,
    /// `s3`: env only (`TAREFA__DOCUMENTS__S3_SECRET_ACCESS_KEY`); else `AWS_SECRET_ACCESS_KEY`.
    pub s3_secret_access_key: Option<String>,
    /// Larger uploads are refused with 413.
    pub max_upload_bytes: u64,
    /// More pages is refused at upload (422) and by the extractor.
    pub max_pages: u32,
    /// Cap on any one decompressed PDF stream (decompression bombs).
    pub max_inflated_bytes: u64,
    /// OCR pages without text; off, they fail with `needs_ocr`.
    pub ocr: bool,
    /// Tesseract languages.
    pub languages: String,
    /// Render resolution for OCR.
    pub dpi: u32,
    /// Wall-clock limit of one extraction; the subprocess is killed after it.
    pub extract_timeout_secs: u64,
    /// CPU-time limit (RLIMIT_CPU) of the subprocess: a spinning extractor gets SIGXCPU.
    pub extract_cpu_secs: u64,
    /// Address-space limit (RLIMIT_AS) of the subprocess, MiB.
    pub extractor_memory_mb: u64,
    /// The program run as `<bin> extract <flags> <file>`; empty = this
    /// process's own executable (the `worker` binary).
    pub extractor_bin: String,
    /// Highest grade of the scale (10; some schools use 100).
    pub grade_scale_max: f64,
    /// Per-tenant scale, by tenant id.
    pub grade_scale_max_by_tenant: BTreeMap<String, f64>,
    /// `[documents.llm]`: the optional structuring fallback (off by default).
    pub llm: super::llm::LlmSettings,
}

impl Default for DocumentsSettings {
    fn default() -> Self {
        Self {
            blob_store: BlobStoreKind::Local,
            blob_dir: "data/blobs".into(),
            s3_bucket: String::new(),
            s3_endpoint: String::new(),
            s3_region: "us-east-1".into(),
            s3_allow_http: false,
            s3_access_key_id: None,
            s3_secret_access_key: None,
            max_upload_bytes: 20 * 1024 * 1024,
            max_pages: documents::options::MAX_PAGES_DEFAULT,
            max_inflated_bytes: documents::options::MAX_INFLATED_BYTES_DEFAULT,
            ocr: true,
            languages: documents::options::LANGUAGES_DEFAULT.into(),
            dpi: documents::options::DPI_DEFAULT,
            extract_timeout_secs: 300,
            extract_cpu_secs: 240,
            extractor_memory_mb: 2048,
            extractor_bin: String::new(),
            grade_scale_max: documents::options::GRADE_SCALE_MAX_DEFAULT,
            grade_scale_max_by_tenant: BTreeMap::new(),
            llm: super::llm::LlmSettings::default(),
        }
    }
}

impl std::fmt::Debug for DocumentsSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DocumentsSettings")
            .field("blob_store", &self.blob_store)
            .field("blob_dir", &self.blob_dir)
            .field("s3_bucket", &self.s3_bucket)
            .field("s3_endpoint", &self.s3_endpoint)
            .field("s3_region", &self.s3_region)
            .field(
                "s3_access_key_id",
                &self.s3_access_key_id.as_ref().map(|_| "<set>"),
            )
            .field(
                "s3_secret_access_key",
                &self.s3_secret_access_key.as_ref().map(|_| "<redacted>"),
            )
            .field("max_upload_bytes", &self.max_upload_bytes)
            .field("max_pages", &self.max_pages)
            .field("max_inflated_bytes", &self.max_inflated_bytes)
            .field("ocr", &self.ocr)
            .field("languages", &self.languages)
            .field("dpi", &self.dpi)
            .field("extract_timeout_secs", &self.extract_timeout_secs)
            .field("extract_cpu_secs", &self.extract_cpu_secs)
            .field("extractor_memory_mb", &self.extractor_memory_mb)
            .field("extractor_bin", &self.extractor_bin)
            .field("grade_scale_max", &self.grade_scale_max)
            .field("grade_scale_max_by_tenant", &self.grade_scale_max_by_tenant)
            .field("llm", &self.llm)
            .finish()
    }
}

impl DocumentsSettings {
    pub fn extract_timeout(&self) -> Duration {
        Duration::from_secs(self.extract_timeout_secs)
    }

    /// The grade scale for `tenant` (its override, else the default).
    pub fn grade_scale_max_for(&self, tenant: &str) -> f64 {
        self.grade_scale_max_by_tenant
            .get(tenant)
            .copied()
            .unwrap_or(self.grade_scale_max)
    }

    /// The extractor's options for `tenant`, with the uploader's doc-type hint.
    pub fn options_for(
        &self,
        tenant: &str,
        doc_type: Option<documents::DocType>,
    ) -> documents::Options {
        documents::Options {
            max_pages: self.max_pages,
            max_inflated_bytes: self.max_inflated_bytes,
            ocr: self.ocr,
            languages: self.languages.clone(),
            dpi: self.dpi,
            grade_scale_max: self.grade_scale_max_for(tenant),
            doc_type,
        }
    }

    /// What serde cannot check; the message names the key.
    pub fn validate(&self) -> Result<(), String> {
        if self.blob_store == BlobStoreKind::S3 && self.s3_bucket.is_empty() {
            return Err("documents.s3_bucket: required when blob_store = \"s3\"".into());
        }
        if self.blob_store == BlobStoreKind::Local && self.blob_dir.is_empty() {
            return Err("documents.blob_dir: required when blob_store = \"local\"".into());
        }
        if self.max_upload_bytes == 0 || self.max_pages == 0 || self.max_inflated_bytes == 0 {
            return Err(
                "documents: max_upload_bytes, max_pages and max_inflated_bytes must be at least 1"
                    .into(),
            );
        }
        // The kind's own timeout (see `policy`) must stay above the extraction's.
        if self.extract_timeout_secs == 0 || self.extract_timeout_secs > super::MAX_EXTRACT_SECS {
            return Err(format!(
                "documents.extract_timeout_secs: between 1 and {}",
                super::MAX_EXTRACT_SECS
            ));
        }
        if self.extract_cpu_secs == 0 || self.extractor_memory_mb < 16 {
            return Err(
                "documents: extract_cpu_secs must be at least 1 and extractor_memory_mb at least 16"
                    .into(),
            );
        }
        if !(72..=1200).contains(&self.dpi) {
            return Err("documents.dpi: between 72 and 1200".into());
        }
        let scales =
            std::iter::once(&self.grade_scale_max).chain(self.grade_scale_max_by_tenant.values());
        if scales
            .into_iter()
            .any(|s| !(s.is_finite() && *s > 0.0 && *s <= 1000.0))
        {
            return Err("documents.grade_scale_max: between 0 (exclusive) and 1000".into());
        }
        self.llm.validate()
    }
}

//! Job kinds: each kind is one module with its payload (serde + validation +
//! JSON Schema), its policy (queue, priority, timeout, retries) and its
//! handler. The [`Registry`] maps kind names to them for the intake (validate,
//! route to a queue) and for the worker (run).

pub mod alerts;
pub mod campaigns;
pub mod context;
pub mod diag;
pub mod documents;
pub mod events;
pub mod notify;
pub mod payments;
pub mod reports;

pub use context::{JobContext, KindHandler, Resources};

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;

use futures::future::BoxFuture;
use futures::FutureExt;
use serde::de::DeserializeOwned;
use serde::Serialize;

pub use crate::engine::{JobError, KindPolicy};

/// A payload problem, with the JSON path of the field (`recipients[2].phone`).
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[error("{path}: {message}")]
pub struct FieldError {
    pub path: String,
    pub message: String,
}

impl FieldError {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> FieldError {
        FieldError {
            path: path.into(),
            message: message.into(),
        }
    }
}

/// One job kind. Implement it in `kinds/<kind>/mod.rs` and add it to [`Registry::builtin`].
pub trait JobKind: Send + Sync + 'static {
    /// Dotted name used in URLs and stored on jobs: `diag.noop`, `notify.email`.
    const NAME: &'static str;
    type Payload: DeserializeOwned + Serialize + utoipa::ToSchema + Send + 'static;

    fn policy() -> KindPolicy;

    /// Checks serde cannot express (ranges, formats).
    fn validate(_payload: &Self::Payload) -> Result<(), FieldError> {
        Ok(())
    }

    fn run(
        payload: Self::Payload,
        ctx: JobContext,
    ) -> impl Future<Output = Result<serde_json::Value, JobError>> + Send;
}

/// A kind with its type erased, as the registry holds it.
pub trait ErasedKind: Send + Sync {
    fn name(&self) -> &'static str;
    fn policy(&self) -> KindPolicy;
    /// Deserialises and validates; the error names the field.
    fn validate(&self, payload: &serde_json::Value) -> Result<(), FieldError>;
    /// The payload's JSON Schema (OpenAPI 3.1 flavour).
    fn schema(&self) -> serde_json::Value;
    fn run(
        &self,
        payload: serde_json::Value,
        ctx: JobContext,
    ) -> BoxFuture<'static, Result<serde_json::Value, JobError>>;
}

struct Erased<K>(std::marker::PhantomData<K>);

fn parse<K: JobKind>(payload: &serde_json::Value) -> Result<K::Payload, FieldError> {
    let p: K::Payload = serde_path_to_error::deserialize(payload).map_err(|e| {
        let path = e.path().to_string();
        FieldError::new(
            if path == "." {
                "payload".to_string()
            } else {
                format!("payload.{path}")
            },
            e.inner().to_string(),
        )
    })?;
    K::validate(&p).map_err(|e| FieldError::new(format!("payload.{}", e.path), e.message))?;
    Ok(p)
}

impl<K: JobKind> ErasedKind for Erased<K> {
    fn name(&self) -> &'static str {
        K::NAME
    }
    fn policy(&self) -> KindPolicy {
        K::policy()
    }
    fn validate(&self, payload: &serde_json::Value) -> Result<(), FieldError> {
        parse::<K>(payload).map(|_| ())
    }
    fn schema(&self) -> serde_json::Value {
        let schema = <K::Payload as utoipa::PartialSchema>::schema();
        serde_json::to_value(schema).unwrap_or(serde_json::Value::Null)
    }
    fn run(
        &self,
        payload: serde_json::Value,
        ctx: JobContext,
    ) -> BoxFuture<'static, Result<serde_json::Value, JobError>> {
        match parse::<K>(&payload) {
            Ok(p) => K::run(p, ctx).boxed(),
            // A payload that no longer parses (pushed around the intake) fails alone, for good.
            Err(e) => futures::future::ready(Err(JobError::permanent(format!("bad payload: {e}"))))
                .boxed(),
        }
    }
}

/// Every job kind this build knows.
#[derive(Clone, Default)]
pub struct Registry {
    kinds: BTreeMap<&'static str, Arc<dyn ErasedKind>>,
}

impl Registry {
    /// The kinds shipped with Tarefa.
    pub fn builtin() -> Registry {
        let mut r = Registry::default();
        r.register::<diag::Noop>();
        r.register::<diag::Sleep>();
        r.register::<diag::BatchDone>();
        r.register::<notify::SendNotification>();
        r.register::<notify::Fanout>();
        r.register::<alerts::Evaluate>();
        r.register::<documents::Extract>();
        r.register::<payments::Charge>();
        r.register::<payments::Refund>();
        r.register::<events::Remind>();
        r.register::<campaigns::Dispatch>();
        r.register::<campaigns::Send>();
        // Metadata only: the worker replaces it with the `reports` crate's renderer.
        r.register_erased(Arc::new(reports::RenderKind::metadata_only()));
        r.register::<reports::Scheduled>();
        r
    }

    pub fn register<K: JobKind>(&mut self) {
        self.kinds
            .insert(K::NAME, Arc::new(Erased::<K>(std::marker::PhantomData)));
    }

    /// Registers (or replaces) a kind given as an [`ErasedKind`] (kinds whose
    /// run lives outside this crate, e.g. `reports.render`).
    pub fn register_erased(&mut self, kind: Arc<dyn ErasedKind>) {
        self.kinds.insert(kind.name(), kind);
    }

    pub fn get(&self, name: &str) -> Option<&Arc<dyn ErasedKind>> {
        self.kinds.get(name)
    }

    pub fn kinds(&self) -> impl Iterator<Item = &Arc<dyn ErasedKind>> {
        self.kinds.values()
    }

    /// Distinct queue names, sorted.
    pub fn queues(&self) -> Vec<String> {
        let mut q: Vec<String> = self
            .kinds
            .values()
            .map(|k| k.policy().queue.to_string())
            .collect();
        q.sort();
        q.dedup();
        q
    }
}

//! Encryption at rest of job payloads and results: the hook and the stored form.
//!
//! The engine knows no key. A caller that wants payloads sealed in Redis sets
//! a [`PayloadCipher`] on the [`Engine`] ([`Engine::with_cipher`]); it says
//! which kinds are sealed and seals/opens bytes for a tenant (Tarefa's lives
//! in `jobs::crypt`: AES-256-GCM under per-tenant data keys). The engine then
//! stores a sealed kind's payload and result as a JSON object
//! `{"$enc": "<token>"}` (the token is the cipher's: version, key id, nonce and
//! ciphertext), with the associated data binding tenant, job id and field, so
//! a ciphertext cannot be moved to another tenant or job.
//!
//! Lua never decrypts: it splices `parent_result` (a chain) and `batch` (a
//! batch callback) into a payload object as text, and those land beside
//! `$enc` in the envelope; [`Engine::open_payload`] opens the envelope and
//! puts them back into the plaintext object (a sealed parent result carries
//! its job id as `$job`, which its associated data names). A payload that is
//! not an envelope is read as it is, so plaintext jobs already in Redis still
//! run after encryption is turned on.

use std::sync::Arc;

use futures::future::BoxFuture;
use serde_json::{Map, Value};

use super::Engine;

/// The member of an envelope that holds the cipher's token.
pub const SEALED: &str = "$enc";
/// The member of a sealed result naming its job (for a chained child to open it).
pub const SEALED_JOB: &str = "$job";

/// Why a value could not be sealed or opened.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CipherError {
    /// The value is sealed but this process has no cipher (no master key).
    #[error("the value is encrypted and this process has no master key")]
    NoCipher,
    /// The tenant's key is not available right now (database down): retry.
    #[error("data key unavailable: {0}")]
    Unavailable(String),
    /// Tampered, truncated, wrong tenant or job, unknown key: never retried.
    #[error("cannot decrypt: {0}")]
    Corrupt(String),
}

/// Seals and opens bytes for a tenant. `aad` is associated data the
/// ciphertext is bound to (the engine passes tenant, job id and field).
pub trait PayloadCipher: Send + Sync + 'static {
    /// Whether payloads and results of `kind` are stored sealed.
    fn seals(&self, kind: &str) -> bool;

    /// Encrypts `plaintext` under `tenant`'s current key: a printable token
    /// (no NUL) naming its key.
    fn seal<'a>(
        &'a self,
        tenant: &'a str,
        aad: &'a [u8],
        plaintext: &'a [u8],
    ) -> BoxFuture<'a, Result<String, CipherError>>;

    /// Decrypts a token made by [`PayloadCipher::seal`] for the same tenant and `aad`.
    fn open<'a>(
        &'a self,
        tenant: &'a str,
        aad: &'a [u8],
        token: &'a str,
    ) -> BoxFuture<'a, Result<Vec<u8>, CipherError>>;
}

/// The associated data of a job's field (`p` payload, `res` result).
pub fn aad(tenant: &str, job_id: &str, field: &str) -> Vec<u8> {
    format!("tarefa\0{tenant}\0{job_id}\0{field}").into_bytes()
}

/// The token of an envelope, if `v` is one.
pub fn token(v: &Value) -> Option<&str> {
    v.as_object()?.get(SEALED)?.as_str()
}

/// Whether `payload` holds anything sealed (itself, or a spliced `parent_result`).
pub fn holds_sealed(payload: &Value) -> bool {
    token(payload).is_some()
        || payload
            .get("parent_result")
            .is_some_and(|p| token(p).is_some())
}

impl Engine {
    /// This engine with `cipher` sealing the payloads and results of the kinds it names.
    pub fn with_cipher(mut self, cipher: Arc<dyn PayloadCipher>) -> Engine {
        self.cipher = Some(cipher);
        self
    }

    /// The cipher, when one is set (the blob store seals with it too).
    pub fn cipher(&self) -> Option<&Arc<dyn PayloadCipher>> {
        self.cipher.as_ref()
    }

    /// Whether this engine seals `kind`.
    pub fn seals(&self, kind: &str) -> bool {
        self.cipher.as_ref().is_some_and(|c| c.seals(kind))
    }

    /// The stored text of a payload: JSON, an envelope for a sealed kind.
    pub(crate) async fn payload_text(
        &self,
        kind: &str,
        tenant: &str,
        id: &str,
        payload: &Value,
    ) -> Result<String, CipherError> {
        let text = serde_json::to_string(payload).unwrap_or_default();
        match &self.cipher {
            Some(c) if c.seals(kind) => {
                let t = c
                    .seal(tenant, &aad(tenant, id, "p"), text.as_bytes())
                    .await?;
                Ok(serde_json::json!({ SEALED: t }).to_string())
            }
            _ => Ok(text),
        }
    }

    /// A result as it is stored: unchanged, or an envelope naming its job for a sealed kind.
    pub(crate) async fn seal_result(
        &self,
        kind: &str,
        tenant: &str,
        id: &str,
        result: Value,
    ) -> Result<Value, CipherError> {
        match &self.cipher {
            Some(c) if c.seals(kind) && !result.is_null() => {
                let text = result.to_string();
                let t = c
                    .seal(tenant, &aad(tenant, id, "res"), text.as_bytes())
                    .await?;
                Ok(serde_json::json!({ SEALED: t, SEALED_JOB: id }))
            }
            _ => Ok(result),
        }
    }

    async fn open_token(
        &self,
        tenant: &str,
        id: &str,
        field: &str,
        token: &str,
    ) -> Result<Value, CipherError> {
        let c = self.cipher.as_ref().ok_or(CipherError::NoCipher)?;
        let plain = c.open(tenant, &aad(tenant, id, field), token).await?;
        serde_json::from_slice(&plain)
            .map_err(|e| CipherError::Corrupt(format!("decrypted {field} is not JSON: {e}")))
    }

    /// A payload as its handler sees it: an envelope opened (with what Lua
    /// spliced beside it put back), a sealed `parent_result` opened; any
    /// other value unchanged.
    pub async fn open_payload(
        &self,
        tenant: &str,
        id: &str,
        payload: Value,
    ) -> Result<Value, CipherError> {
        let Value::Object(mut outer) = payload else {
            return Ok(payload);
        };
        let mut obj: Map<String, Value> = match outer.remove(SEALED) {
            Some(Value::String(t)) => match self.open_token(tenant, id, "p", &t).await? {
                Value::Object(inner) => inner,
                other if outer.is_empty() => return Ok(other),
                _ => {
                    return Err(CipherError::Corrupt(
                        "sealed payload is not an object".into(),
                    ))
                }
            },
            Some(other) => {
                outer.insert(SEALED.into(), other);
                Map::new()
            }
            None => Map::new(),
        };
        for (k, v) in outer {
            obj.insert(k, v);
        }
        if let Some(parent) = obj.get_mut("parent_result") {
            if let Some(t) = token(parent).map(str::to_string) {
                let job = parent
                    .get(SEALED_JOB)
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .ok_or_else(|| {
                        CipherError::Corrupt("sealed parent_result names no job".into())
                    })?;
                *parent = self.open_token(tenant, &job, "res", &t).await?;
            }
        }
        Ok(Value::Object(obj))
    }

    /// A stored result opened (for inspection); any other value unchanged.
    pub async fn open_result(
        &self,
        tenant: &str,
        id: &str,
        result: Value,
    ) -> Result<Value, CipherError> {
        match token(&result) {
            Some(t) => self.open_token(tenant, id, "res", t).await,
            None => Ok(result),
        }
    }

    /// Opens a job's payload and result for its owner's inspection. A value
    /// that does not open stays sealed (ciphertext only) and is logged
    /// without content.
    pub(crate) async fn unseal_info(&self, job: &mut super::JobInfo) {
        if holds_sealed(&job.payload) {
            let p = std::mem::take(&mut job.payload);
            match self.open_payload(&job.tenant, &job.id, p.clone()).await {
                Ok(v) => job.payload = v,
                Err(e) => {
                    tracing::warn!(job_id = %job.id, error = %e, "payload left sealed");
                    job.payload = p;
                }
            }
        }
        if let Some(r) = job.result.take() {
            job.result = Some(
                match self.open_result(&job.tenant, &job.id, r.clone()).await {
                    Ok(v) => v,
                    Err(e) => {
                        tracing::warn!(job_id = %job.id, error = %e, "result left sealed");
                        r
                    }
                },
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn associated_data_names_tenant_job_and_field() {
        assert_ne!(aad("a", "j1", "p"), aad("b", "j1", "p"));
        assert_ne!(aad("a", "j1", "p"), aad("a", "j2", "p"));
        assert_ne!(aad("a", "j1", "p"), aad("a", "j1", "res"));
        // NUL separators: ("a", "b\0c") cannot pass for ("a\0b", "c") since tokens hold no NUL.
        assert_ne!(aad("ab", "c", "p"), aad("a", "bc", "p"));
    }

    #[test]
    fn only_envelopes_have_a_token() {
        assert_eq!(
            token(&serde_json::json!({"$enc": "v1:k:x"})),
            Some("v1:k:x")
        );
        assert_eq!(token(&serde_json::json!({"$enc": 3})), None);
        assert_eq!(token(&serde_json::json!({"name": "Ana"})), None);
        assert_eq!(token(&serde_json::json!("$enc")), None);
    }
}

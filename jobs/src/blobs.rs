//! The blob store: uploaded files, content-addressed by SHA-256 under their
//! tenant (`<tenant>/<aa>/<sha256>`), in a local directory by default or in
//! an S3-compatible bucket through `object_store` (`[documents] blob_store`).
//!
//! Writing the same key twice is harmless (same bytes), so `put` needs no
//! lock; the local store writes a temp file and renames it, so a reader never
//! sees half a file. Keys are built here from a tenant id and a hash we
//! computed, never from user input. Blobs are kept per tenant (not shared
//! across tenants) so deleting a tenant's files is one prefix.
//!
//! Encryption at rest: with a cipher (the engine's, see `jobs::crypt`),
//! [`BlobStore::put_sealed`] stores [`SEALED_MAGIC`] and the tenant's sealed
//! token instead of the file (associated data: the blob key), and the
//! readers ([`BlobStore::get_opened`], [`BlobStore::to_local_opened`]) open
//! it; blobs stored in clear before encryption was on still read. The key
//! stays the SHA-256 of the plaintext, so equal files still share one blob.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures::StreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path as ObjectPath;
use object_store::{GetOptions, ObjectStore, PutOptions, PutPayload};
use tokio::io::AsyncWriteExt;

use crate::engine::{CipherError, PayloadCipher};
use crate::kinds::documents::settings::{BlobStoreKind, DocumentsSettings};

/// The engine's cipher, as blob readers and writers take it.
pub type Cipher<'a> = Option<&'a std::sync::Arc<dyn PayloadCipher>>;

/// First bytes of a sealed blob; the cipher's token follows.
pub const SEALED_MAGIC: &[u8] = b"tarefa-sealed-blob-v1\n";

/// Why a blob could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("blob {0} not found")]
    NotFound(String),
    #[error("blob store configuration: {0}")]
    Config(String),
    #[error("blob store i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("blob store: {0}")]
    Remote(object_store::Error),
    #[error("blob encryption: {0}")]
    Cipher(#[from] CipherError),
}

impl From<object_store::Error> for BlobError {
    fn from(e: object_store::Error) -> BlobError {
        match e {
            object_store::Error::NotFound { path, .. } => BlobError::NotFound(path),
            e => BlobError::Remote(e),
        }
    }
}

/// A local directory or a bucket.
#[derive(Clone)]
pub enum BlobStore {
    Local(PathBuf),
    Remote(Arc<dyn ObjectStore>),
}

impl std::fmt::Debug for BlobStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BlobStore::Local(dir) => write!(f, "BlobStore::Local({})", dir.display()),
            BlobStore::Remote(s) => write!(f, "BlobStore::Remote({s})"),
        }
    }
}

/// A blob as a file on this machine: the stored file itself (local store) or
/// a temp copy (remote store), removed on drop.
pub enum LocalBlob {
    Stored(PathBuf),
    Temp(tempfile::TempPath),
}

impl LocalBlob {
    pub fn path(&self) -> &Path {
        match self {
            LocalBlob::Stored(p) => p,
            LocalBlob::Temp(t) => t,
        }
    }
}

/// A HEAD request: metadata only.
fn head() -> GetOptions {
    GetOptions {
        head: true,
        ..GetOptions::default()
    }
}

/// `<tenant>/<first two hex digits>/<sha256>`; `None` when either part is malformed.
pub fn key(tenant: &str, sha256: &str) -> Option<String> {
    let hex = sha256.len() == 64
        && sha256
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    let tenant_ok = !tenant.is_empty()
        && tenant.len() <= 64
        && tenant
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-');
    (hex && tenant_ok).then(|| format!("{tenant}/{}/{sha256}", &sha256[..2]))
}

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// Bucket clients built so far in this process, by their settings: a client
/// keeps its connection pool, so every job and request of a process shares one.
static REMOTES: std::sync::Mutex<Vec<(String, BlobStore)>> = std::sync::Mutex::new(Vec::new());

impl BlobStore {
    /// The store `[documents]` describes. A bucket's client is built once per
    /// process and settings (then shared); it does not connect.
    pub fn from_settings(s: &DocumentsSettings) -> Result<BlobStore, BlobError> {
        match s.blob_store {
            BlobStoreKind::Local => Ok(BlobStore::Local(PathBuf::from(&s.blob_dir))),
            BlobStoreKind::S3 => {
                let id = format!(
                    "{}|{}|{}|{}|{:?}|{:?}",
                    s.s3_bucket,
                    s.s3_region,
                    s.s3_endpoint,
                    s.s3_allow_http,
                    s.s3_access_key_id,
                    s.s3_secret_access_key
                        .as_ref()
                        .map(|k| sha256_hex(k.as_bytes())),
                );
                let mut built = REMOTES.lock().expect("blob clients lock");
                if let Some((_, store)) = built.iter().find(|(k, _)| *k == id) {
                    return Ok(store.clone());
                }
                let store = Self::build_s3(s)?;
                built.push((id, store.clone()));
                Ok(store)
            }
        }
    }

    /// A bucket client from `s` (and the `AWS_*` environment, read once here).
    fn build_s3(s: &DocumentsSettings) -> Result<BlobStore, BlobError> {
        // reqwest 0.13 is built without a bundled crypto provider: use ring,
        // like every other TLS client of the tree. Already installed = fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut b = AmazonS3Builder::from_env()
            .with_bucket_name(&s.s3_bucket)
            .with_region(&s.s3_region)
            .with_allow_http(s.s3_allow_http);
        if !s.s3_endpoint.is_empty() {
            b = b.with_endpoint(&s.s3_endpoint);
        }
        if let Some(k) = &s.s3_access_key_id {
            b = b.with_access_key_id(k);
        }
        if let Some(k) = &s.s3_secret_access_key {
            b = b.with_secret_access_key(k);
        }
        let store = b.build().map_err(|e| BlobError::Config(e.to_string()))?;
        Ok(BlobStore::Remote(Arc::new(store)))
    }

    fn local_path(dir: &Path, key: &str) -> PathBuf {
        key.split('/')
            .fold(dir.to_path_buf(), |p, part| p.join(part))
    }

    /// Stores `bytes` under `key` unless it is already there.
    pub async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), BlobError> {
        match self {
            BlobStore::Local(dir) => {
                let path = Self::local_path(dir, key);
                if tokio::fs::try_exists(&path).await? {
                    return Ok(());
                }
                let parent = path.parent().expect("a key has a directory").to_path_buf();
                tokio::fs::create_dir_all(&parent).await?;
                tokio::task::spawn_blocking(move || -> std::io::Result<()> {
                    use std::io::Write;
                    let mut tmp = tempfile::NamedTempFile::new_in(&parent)?;
                    tmp.write_all(&bytes)?;
                    tmp.as_file().sync_all()?;
                    tmp.persist(&path).map_err(|e| e.error)?;
                    Ok(())
                })
                .await
                .map_err(|e| std::io::Error::other(e.to_string()))??;
                Ok(())
            }
            BlobStore::Remote(store) => {
                let path = ObjectPath::from(key);
                match store.get_opts(&path, head()).await {
                    Ok(_) => return Ok(()),
                    Err(object_store::Error::NotFound { .. }) => {}
                    Err(e) => return Err(e.into()),
                }
                store
                    .put_opts(&path, PutPayload::from(bytes), PutOptions::default())
                    .await?;
                Ok(())
            }
        }
    }

    pub async fn exists(&self, key: &str) -> Result<bool, BlobError> {
        match self {
            BlobStore::Local(dir) => Ok(tokio::fs::try_exists(Self::local_path(dir, key)).await?),
            BlobStore::Remote(store) => {
                match store.get_opts(&ObjectPath::from(key), head()).await {
                    Ok(_) => Ok(true),
                    Err(object_store::Error::NotFound { .. }) => Ok(false),
                    Err(e) => Err(e.into()),
                }
            }
        }
    }

    /// The whole blob in memory.
    pub async fn get(&self, key: &str) -> Result<Vec<u8>, BlobError> {
        match self {
            BlobStore::Local(dir) => match tokio::fs::read(Self::local_path(dir, key)).await {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    Err(BlobError::NotFound(key.to_string()))
                }
                r => Ok(r?),
            },
            BlobStore::Remote(store) => {
                let got = store
                    .get_opts(&ObjectPath::from(key), GetOptions::default())
                    .await?;
                Ok(got.bytes().await?.to_vec())
            }
        }
    }

    /// The blob as a file a subprocess can open: the stored file itself, or
    /// a streamed temp copy in `tmp_dir` for a remote store.
    pub async fn to_local_file(&self, key: &str, tmp_dir: &Path) -> Result<LocalBlob, BlobError> {
        match self {
            BlobStore::Local(dir) => {
                let path = Self::local_path(dir, key);
                if !tokio::fs::try_exists(&path).await? {
                    return Err(BlobError::NotFound(key.to_string()));
                }
                Ok(LocalBlob::Stored(path))
            }
            BlobStore::Remote(store) => {
                let got = store
                    .get_opts(&ObjectPath::from(key), GetOptions::default())
                    .await?;
                let tmp = tempfile::Builder::new()
                    .prefix("tarefa-blob-")
                    .suffix(".pdf")
                    .tempfile_in(tmp_dir)?
                    .into_temp_path();
                let mut file = tokio::fs::File::create(&tmp).await?;
                let mut stream = got.into_stream();
                while let Some(chunk) = stream.next().await {
                    file.write_all(&chunk?).await?;
                }
                file.flush().await?;
                Ok(LocalBlob::Temp(tmp))
            }
        }
    }
}

/// The associated data of blob `key` (which names its tenant and content hash).
fn blob_aad(key: &str) -> Vec<u8> {
    format!("tarefa-blob\0{key}").into_bytes()
}

/// The tenant part of a blob key.
fn tenant_of(key: &str) -> &str {
    key.split('/').next().unwrap_or_default()
}

/// Opens a stored blob's bytes: a sealed one with `cipher`, a plain one as it is.
async fn open_blob(cipher: Cipher<'_>, key: &str, bytes: Vec<u8>) -> Result<Vec<u8>, BlobError> {
    let Some(token) = bytes.strip_prefix(SEALED_MAGIC) else {
        return Ok(bytes);
    };
    let cipher = cipher.ok_or(CipherError::NoCipher)?;
    let token = std::str::from_utf8(token)
        .map_err(|_| CipherError::Corrupt("sealed blob is not a token".into()))?;
    Ok(cipher.open(tenant_of(key), &blob_aad(key), token).await?)
}

impl BlobStore {
    /// [`BlobStore::put`], sealed under the key's tenant when there is a cipher.
    pub async fn put_sealed(
        &self,
        cipher: Cipher<'_>,
        key: &str,
        bytes: Vec<u8>,
    ) -> Result<(), BlobError> {
        match cipher {
            Some(c) => {
                let token = c.seal(tenant_of(key), &blob_aad(key), &bytes).await?;
                let mut sealed = Vec::with_capacity(SEALED_MAGIC.len() + token.len());
                sealed.extend_from_slice(SEALED_MAGIC);
                sealed.extend_from_slice(token.as_bytes());
                self.put(key, sealed).await
            }
            None => self.put(key, bytes).await,
        }
    }

    /// [`BlobStore::get`], opened.
    pub async fn get_opened(&self, cipher: Cipher<'_>, key: &str) -> Result<Vec<u8>, BlobError> {
        let bytes = self.get(key).await?;
        open_blob(cipher, key, bytes).await
    }

    /// [`BlobStore::to_local_file`], opened: a sealed blob becomes a plaintext
    /// temp file in `tmp_dir` (removed on drop), a plain one is used as it is.
    pub async fn to_local_opened(
        &self,
        cipher: Cipher<'_>,
        key: &str,
        tmp_dir: &Path,
    ) -> Result<LocalBlob, BlobError> {
        let file = self.to_local_file(key, tmp_dir).await?;
        let mut head = vec![0u8; SEALED_MAGIC.len()];
        let n = {
            use tokio::io::AsyncReadExt;
            let mut f = tokio::fs::File::open(file.path()).await?;
            let mut n = 0;
            while n < head.len() {
                match f.read(&mut head[n..]).await? {
                    0 => break,
                    k => n += k,
                }
            }
            n
        };
        if head[..n] != *SEALED_MAGIC {
            return Ok(file);
        }
        let plain = open_blob(cipher, key, tokio::fs::read(file.path()).await?).await?;
        let tmp = tempfile::Builder::new()
            .prefix("tarefa-blob-")
            .suffix(".pdf")
            .tempfile_in(tmp_dir)?
            .into_temp_path();
        tokio::fs::write(&tmp, plain).await?;
        Ok(LocalBlob::Temp(tmp))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_tenant_prefixed_and_refuse_odd_parts() {
        let sha = sha256_hex(b"%PDF-1.4");
        let t = "0190a1b2-0000-7000-8000-000000000001";
        assert_eq!(key(t, &sha).unwrap(), format!("{t}/{}/{sha}", &sha[..2]));
        assert!(key("../etc", &sha).is_none());
        assert!(key(t, "ABC").is_none());
        assert!(key(t, &sha.to_uppercase()).is_none());
    }

    #[tokio::test]
    async fn local_store_round_trips_and_put_is_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::Local(dir.path().to_path_buf());
        let sha = sha256_hex(b"boletim");
        let k = key("t1", &sha).unwrap();
        assert!(!store.exists(&k).await.unwrap());
        assert!(matches!(store.get(&k).await, Err(BlobError::NotFound(_))));
        store.put(&k, b"boletim".to_vec()).await.unwrap();
        store.put(&k, b"boletim".to_vec()).await.unwrap();
        assert!(store.exists(&k).await.unwrap());
        assert_eq!(store.get(&k).await.unwrap(), b"boletim");
        let f = store.to_local_file(&k, dir.path()).await.unwrap();
        assert_eq!(std::fs::read(f.path()).unwrap(), b"boletim");
    }
}

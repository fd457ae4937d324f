//! The `Tenant` extractor: who is calling, and with which scopes.
//!
//! `Authorization: Bearer <credential>` where the credential is either an API
//! key (`tfk_…`, see `keys.rs`) or a JWT signed by a product's own backend
//! (HS256 or RS256). A JWT names its tenant in a claim (`auth.jwt_tenant_claim`
//! or the tenant's own `jwt_tenant_claim`) holding the tenant's id or slug; the
//! claim is read unverified only to pick the key, and the token is then
//! verified with that tenant's key, or the global one when the tenant has none.
//! JWT scopes come from `scope` (space separated) or `scopes` (array); a token
//! with neither gets `jobs:read jobs:write`. `admin` implies the other two.
//! Validated API keys are served from [`crate::key_cache`]; a key past its
//! `expires_at` gets 401 `expired_api_key`. The limits middleware
//! (`limits.rs`) authenticates first and leaves the `Tenant` in the request's
//! extensions, where this extractor finds it.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use chrono::Utc;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use jobs::store::{api_keys, scope, tenants};

use crate::error::ApiError;
use crate::key_cache::CachedKey;
use crate::keys;
use crate::state::AppState;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    JobsWrite,
    JobsRead,
    Admin,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::JobsWrite => "jobs:write",
            Scope::JobsRead => "jobs:read",
            Scope::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Scope> {
        [Scope::JobsWrite, Scope::JobsRead, Scope::Admin]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

/// An authenticated caller: a tenant, and what this credential may do.
#[derive(Clone, Debug)]
pub struct Tenant {
    pub id: Uuid,
    pub scopes: Vec<Scope>,
    /// The API key's id; `None` for a JWT.
    pub key_id: Option<Uuid>,
}

impl Tenant {
    /// The tenant id as the engine stores it on jobs.
    pub fn key(&self) -> String {
        self.id.to_string()
    }

    /// The rate bucket of this credential: `k:<key id>`, or `k:jwt` for all of a tenant's JWTs.
    pub fn bucket(&self) -> String {
        match self.key_id {
            Some(id) => format!("k:{id}"),
            None => "k:jwt".into(),
        }
    }

    /// 403 `insufficient_scope` unless this credential carries `scope` (or `admin`).
    pub fn require(&self, scope: Scope) -> Result<(), ApiError> {
        if self.scopes.contains(&scope) || self.scopes.contains(&Scope::Admin) {
            return Ok(());
        }
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "insufficient_scope",
            format!("this credential lacks the {} scope", scope.as_str()),
        )
        .with_details(json!({ "required": scope.as_str() })))
    }
}

impl FromRequestParts<AppState> for Tenant {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(t) = parts.extensions.get::<Tenant>() {
            return Ok(t.clone());
        }
        authenticate(parts, state).await
    }
}

/// The caller named by `Authorization: Bearer …` (API key or JWT).
///
/// Acts as the system for row-level security: whose key or token this is
/// is not known until it has been looked up across tenants.
pub async fn authenticate(parts: &Parts, state: &AppState) -> Result<Tenant, ApiError> {
    scope::as_system(identify(parts, state)).await
}

async fn identify(parts: &Parts, state: &AppState) -> Result<Tenant, ApiError> {
    let value = parts.headers.get(header::AUTHORIZATION).ok_or_else(|| {
        ApiError::unauthorized(
            "missing_credentials",
            "send Authorization: Bearer <api key or JWT>",
        )
    })?;
    let token = value
        .to_str()
        .ok()
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .ok_or_else(|| {
            ApiError::unauthorized(
                "invalid_credentials",
                "Authorization must be `Bearer <credential>`",
            )
        })?;
    if token.starts_with(keys::KEY_PREFIX) {
        api_key(state, token).await
    } else if token.split('.').count() == 3 {
        jwt(state, token).await
    } else {
        Err(ApiError::unauthorized(
            "invalid_credentials",
            "credential is neither an API key nor a JWT",
        ))
    }
}

async fn api_key(state: &AppState, token: &str) -> Result<Tenant, ApiError> {
    let invalid = || ApiError::unauthorized("invalid_api_key", "API key not recognised");
    let prefix = keys::parse_prefix(token).ok_or_else(invalid)?;
    let hash = keys::hash(token);
    let cache = &state.key_cache;
    let key = match cache.get(&state.engine, &hash).await {
        Some(k) => k,
        None => {
            let seen = cache.epoch_seen();
            let row = api_keys::by_prefix(&state.pool, prefix)
                .await?
                .ok_or_else(invalid)?;
            if !keys::hashes_match(&hash, &row.key_hash) {
                return Err(invalid());
            }
            if row.revoked_at.is_some() {
                return Err(ApiError::unauthorized(
                    "revoked_api_key",
                    "this API key was revoked",
                ));
            }
            let k = CachedKey::new(row.id, row.tenant_id, row.scopes, row.expires_at);
            cache.put(hash.clone(), k.clone(), seen);
            k
        }
    };
    if let Some(at) = key.expires_at.filter(|at| *at <= Utc::now()) {
        return Err(ApiError::unauthorized(
            "expired_api_key",
            format!("this API key expired at {}", at.to_rfc3339()),
        ));
    }
    if cache.should_touch(&hash) {
        // Off the request path: a slow write must not slow every call down.
        let pool = state.pool.clone();
        let (key_id, tenant_id) = (key.key_id, key.tenant_id);
        tokio::spawn(async move {
            let touched = scope::as_tenant(tenant_id, api_keys::touch(&pool, key_id)).await;
            if let Err(e) = touched {
                tracing::warn!(error = %e, "could not record API key use");
            }
        });
    }
    Ok(Tenant {
        id: key.tenant_id,
        scopes: key.scopes.iter().filter_map(|s| Scope::parse(s)).collect(),
        key_id: Some(key.key_id),
    })
}

async fn jwt(state: &AppState, token: &str) -> Result<Tenant, ApiError> {
    let invalid = |why: String| ApiError::unauthorized("invalid_token", why);
    let header =
        jsonwebtoken::decode_header(token).map_err(|e| invalid(format!("unreadable JWT: {e}")))?;
    if !matches!(header.alg, Algorithm::HS256 | Algorithm::RS256) {
        return Err(invalid(format!(
            "JWT algorithm {:?} is not accepted (HS256 or RS256)",
            header.alg
        )));
    }
    let unverified = jsonwebtoken::dangerous::insecure_decode::<Map<String, Value>>(token)
        .map_err(|e| invalid(format!("unreadable JWT claims: {e}")))?
        .claims;
    let tenant = jwt_tenant(state, &unverified).await?;
    let key = decoding_key(state, &tenant, header.alg)?;
    let mut validation = Validation::new(header.alg);
    validation.validate_aud = false;
    validation.set_required_spec_claims(&["exp"]);
    validation.leeway = 30;
    let claims = jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation)
        .map_err(|e| match e.kind() {
            ErrorKind::ExpiredSignature => {
                ApiError::unauthorized("token_expired", "JWT has expired")
            }
            ErrorKind::InvalidSignature => {
                ApiError::unauthorized("invalid_token_signature", "JWT signature does not verify")
            }
            ErrorKind::ImmatureSignature => {
                ApiError::unauthorized("token_not_yet_valid", "JWT is not valid yet (nbf)")
            }
            _ => invalid(format!("JWT rejected: {e}")),
        })?
        .claims;
    Ok(Tenant {
        id: tenant.id,
        scopes: jwt_scopes(&claims),
        key_id: None,
    })
}

/// The tenant a token names, trying the global claim name and every per-tenant one.
async fn jwt_tenant(
    state: &AppState,
    claims: &Map<String, Value>,
) -> Result<tenants::Tenant, ApiError> {
    let global = state.settings.auth.jwt_tenant_claim.clone();
    let mut names = vec![global.clone()];
    names.extend(tenants::jwt_claim_names(&state.pool).await?);
    for name in names {
        let value = match claims.get(&name) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => continue,
        };
        let found = match Uuid::parse_str(&value) {
            Ok(id) => tenants::get(&state.pool, id).await?,
            Err(_) => tenants::by_slug(&state.pool, &value).await?,
        };
        // A tenant only answers to its own claim name, so one tenant's tokens cannot pose as another's.
        if let Some(t) = found.filter(|t| t.jwt_tenant_claim.as_deref().unwrap_or(&global) == name)
        {
            return Ok(t);
        }
    }
    Err(ApiError::unauthorized(
        "unknown_tenant",
        "JWT names no known tenant",
    ))
}

fn decoding_key(
    state: &AppState,
    tenant: &tenants::Tenant,
    alg: Algorithm,
) -> Result<DecodingKey, ApiError> {
    let auth = &state.settings.auth;
    let none = || {
        ApiError::unauthorized(
            "invalid_token",
            format!("no {alg:?} key is configured for this tenant"),
        )
    };
    match alg {
        Algorithm::HS256 => {
            let own = tenant.jwt_hs256_secret_env.as_deref().and_then(|var| match std::env::var(var) {
                Ok(secret) if !secret.is_empty() => Some(secret),
                _ => {
                    tracing::warn!(tenant_id = %tenant.id, var, "tenant's JWT secret env var is not set");
                    None
                }
            });
            let secret = own
                .or_else(|| auth.jwt_hs256_secret.clone())
                .ok_or_else(none)?;
            Ok(DecodingKey::from_secret(secret.as_bytes()))
        }
        _ => {
            let pem = tenant
                .jwt_rs256_public_key
                .as_deref()
                .or(auth.jwt_rs256_public_key.as_deref())
                .ok_or_else(none)?;
            rsa_public_key(pem)
                .map_err(|e| ApiError::internal(format!("RS256 key for tenant {}: {e}", tenant.id)))
        }
    }
}

/// An RS256 verification key from PEM: SPKI (`BEGIN PUBLIC KEY`) or PKCS#1 (`BEGIN RSA PUBLIC KEY`).
pub fn rsa_public_key(pem: &str) -> Result<DecodingKey, String> {
    use rsa::pkcs1::DecodeRsaPublicKey;
    use rsa::pkcs8::DecodePublicKey;
    use rsa::traits::PublicKeyParts;
    let key = rsa::RsaPublicKey::from_public_key_pem(pem)
        .or_else(|_| rsa::RsaPublicKey::from_pkcs1_pem(pem))
        .map_err(|e| format!("not an RSA public key in PEM: {e}"))?;
    Ok(DecodingKey::from_rsa_raw_components(
        &key.n().to_bytes_be(),
        &key.e().to_bytes_be(),
    ))
}

fn jwt_scopes(claims: &Map<String, Value>) -> Vec<Scope> {
    let listed: Option<Vec<String>> = match (claims.get("scope"), claims.get("scopes")) {
        (Some(Value::String(s)), _) => Some(s.split_whitespace().map(String::from).collect()),
        (_, Some(Value::Array(a))) => Some(
            a.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect(),
        ),
        _ => None,
    };
    match listed {
        Some(names) => names.iter().filter_map(|s| Scope::parse(s)).collect(),
        None => vec![Scope::JobsRead, Scope::JobsWrite],
    }
}

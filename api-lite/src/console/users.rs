//! Ops users and their console sessions (`ops_users`, `ops_sessions`):
//! argon2id password hashes, random session tokens stored only as SHA-256,
//! one CSRF token per session. SQL lives here because only the console uses it.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use chrono::{DateTime, Duration, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

use crate::keys;

/// How long a console session lives without a new login.
pub const SESSION_TTL_HOURS: i64 = 12;

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct OpsUser {
    pub id: Uuid,
    pub email: String,
    pub password_hash: String,
    pub disabled_at: Option<DateTime<Utc>>,
}

/// A signed-in browser, as its cookie resolves.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Session {
    pub user_id: Uuid,
    pub email: String,
    pub csrf_token: String,
}

/// An argon2id PHC string for `password` (random 16-byte salt).
pub fn hash_password(password: &str) -> Result<String, String> {
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>()).map_err(|e| e.to_string())?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// Whether `password` matches the stored PHC string (false for a malformed one).
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Creates a user, or resets the password of an existing one with that e-mail.
pub async fn upsert(
    ex: impl PgExecutor<'_>,
    email: &str,
    password_hash: &str,
) -> Result<Uuid, sqlx::Error> {
    sqlx::query_scalar(
        "insert into ops_users (id, email, password_hash) values ($1, lower($2), $3) \
         on conflict (email) do update set password_hash = excluded.password_hash, disabled_at = null \
         returning id",
    )
    .bind(Uuid::now_v7())
    .bind(email)
    .bind(password_hash)
    .fetch_one(ex)
    .await
}

pub async fn by_email(
    ex: impl PgExecutor<'_>,
    email: &str,
) -> Result<Option<OpsUser>, sqlx::Error> {
    sqlx::query_as(
        "select id, email, password_hash, disabled_at from ops_users where email = lower($1)",
    )
    .bind(email)
    .fetch_optional(ex)
    .await
}

/// Starts a session; returns the cookie token (shown once) and the CSRF token.
pub async fn create_session(
    ex: impl PgExecutor<'_>,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(String, String), sqlx::Error> {
    let token = hex::encode(rand::random::<[u8; 32]>());
    let csrf = hex::encode(rand::random::<[u8; 24]>());
    sqlx::query(
        "insert into ops_sessions (token_hash, user_id, csrf_token, expires_at) values ($1, $2, $3, $4)",
    )
    .bind(keys::hash(&token))
    .bind(user_id)
    .bind(&csrf)
    .bind(now + Duration::hours(SESSION_TTL_HOURS))
    .execute(ex)
    .await?;
    Ok((token, csrf))
}

/// The live session of a cookie token (not expired, user not disabled).
pub async fn session(
    ex: impl PgExecutor<'_>,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Option<Session>, sqlx::Error> {
    sqlx::query_as(
        "select s.user_id, u.email, s.csrf_token from ops_sessions s \
         join ops_users u on u.id = s.user_id \
         where s.token_hash = $1 and s.expires_at > $2 and u.disabled_at is null",
    )
    .bind(keys::hash(token))
    .bind(now)
    .fetch_optional(ex)
    .await
}

pub async fn end_session(ex: impl PgExecutor<'_>, token: &str) -> Result<(), sqlx::Error> {
    sqlx::query("delete from ops_sessions where token_hash = $1")
        .bind(keys::hash(token))
        .execute(ex)
        .await
        .map(|_| ())
}

/// `api-lite users ...`
#[derive(Debug, clap::Subcommand)]
pub enum UsersCmd {
    /// Create an ops user (or reset their password); prints `{"id","email"}`.
    Create {
        #[arg(long)]
        email: String,
        /// At least 10 characters. Prefer the env var: flags show in `ps`.
        #[arg(long, env = "TAREFA_OPS_PASSWORD", hide_env_values = true)]
        password: String,
    },
}

/// Runs a `users` command; returns the JSON line to print.
pub async fn execute(cmd: UsersCmd, pool: &sqlx::PgPool) -> Result<String, String> {
    match cmd {
        UsersCmd::Create { email, password } => {
            let email = email.trim().to_lowercase();
            if !email.contains('@') {
                return Err(format!("{email:?} is not an e-mail address"));
            }
            if password.chars().count() < 10 {
                return Err("the password needs at least 10 characters".into());
            }
            let hash = hash_password(&password)?;
            let id = upsert(pool, &email, &hash)
                .await
                .map_err(|e| format!("database: {e}"))?;
            let e = crate::audit::NewEntry {
                actor: "cli",
                tenant_id: None,
                action: "ops_user_set",
                target: &email,
                details: serde_json::json!({}),
            };
            crate::audit::record(pool, e).await;
            Ok(serde_json::json!({ "id": id, "email": email }).to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_hash_verifies_only_its_password() {
        let h = hash_password("s3nha-forte").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("s3nha-forte", &h));
        assert!(!verify_password("outra", &h));
        assert!(!verify_password("s3nha-forte", "not a hash"));
    }
}

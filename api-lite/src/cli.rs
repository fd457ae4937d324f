//! The `api-lite` command line: `serve` (the default), `migrate`, `users create`, `tenants
//! create|list`, `keys create|list|revoke`. Admin commands print JSON lines on
//! stdout (logs go to stderr) so scripts can read them; a new key is printed
//! once and never again.

use clap::{Parser, Subcommand};
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use jobs::store::{api_keys, tenants};

use crate::keys;

#[derive(Debug, Parser)]
#[command(
    name = "api-lite",
    about = "Tarefa's HTTP intake and its admin commands"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server (the default).
    Serve,
    /// Apply the database migrations.
    Migrate,
    #[command(subcommand)]
    Tenants(TenantsCmd),
    #[command(subcommand)]
    Keys(KeysCmd),
    /// Ops users of the console (`/console`).
    #[command(subcommand)]
    Users(crate::console::users::UsersCmd),
}

#[derive(Debug, Subcommand)]
pub enum TenantsCmd {
    /// Create a tenant and an admin key; prints `{"tenant_id","api_key"}`.
    Create {
        #[arg(long)]
        name: String,
        /// IANA zone the tenant's business rules run in.
        #[arg(long, default_value = tenants::DEFAULT_TIMEZONE)]
        timezone: String,
        /// Default: derived from the name.
        #[arg(long)]
        slug: Option<String>,
        #[arg(long, default_value = "standard")]
        plan: String,
    },
    /// One JSON line per tenant.
    List,
}

#[derive(Debug, Subcommand)]
pub enum KeysCmd {
    /// Create a key; prints it once.
    Create {
        #[arg(long)]
        tenant: Uuid,
        /// Comma separated: jobs:write, jobs:read, admin.
        #[arg(long, default_value = "jobs:write,jobs:read", value_delimiter = ',')]
        scopes: Vec<String>,
        #[arg(long, default_value = "")]
        name: String,
        /// RFC 3339 time after which the key is refused (default: never).
        #[arg(long)]
        expires_at: Option<chrono::DateTime<chrono::Utc>>,
    },
    /// Revoke a key by id (every api-lite replica refuses it within a second).
    Revoke { id: Uuid },
    /// One JSON line per key of a tenant (never the key itself).
    List {
        #[arg(long)]
        tenant: Uuid,
    },
    /// Encryption at rest: re-wrap every tenant's data key under the current
    /// (first) master key of TAREFA_MASTER_KEYS; keep the old key listed until
    /// this reports `"left": 0`. Nothing sealed is rewritten.
    RotateMaster,
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0}")]
    Invalid(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// Creates a tenant and its first key (admin, jobs:write, jobs:read) in one transaction.
pub async fn create_tenant(
    pool: &PgPool,
    name: &str,
    timezone: &str,
    slug: Option<&str>,
    plan: &str,
) -> Result<(tenants::Tenant, String), CliError> {
    tenants::parse_timezone(timezone).map_err(CliError::Invalid)?;
    let derived = slug.is_none();
    let base = slug
        .map(str::to_string)
        .unwrap_or_else(|| tenants::slugify(name));
    if base.is_empty() {
        return Err(CliError::Invalid(
            "cannot derive a slug from the name; pass --slug".into(),
        ));
    }
    // A slug derived from the name takes the first free `<slug>-N`; another
    // process may take it between the look and the insert, so look again then.
    for _ in 0..5 {
        let slug = if derived {
            free_slug(pool, &base).await?
        } else {
            base.clone()
        };
        let new = tenants::NewTenant {
            name: name.into(),
            slug: slug.clone(),
            timezone: timezone.into(),
            plan: plan.into(),
        };
        let mut tx = pool.begin().await?;
        let tenant = match tenants::create(&mut *tx, &new).await {
            Ok(t) => t,
            Err(e) => match e.as_database_error().and_then(|d| d.constraint()) {
                Some("tenants_slug_key") if derived => continue,
                Some("tenants_slug_key") => {
                    return Err(CliError::Invalid(format!(
                        "slug {slug:?} is taken; pass another --slug"
                    )))
                }
                Some(c) => return Err(CliError::Invalid(format!("rejected by constraint {c}"))),
                None => return Err(CliError::Db(e)),
            },
        };
        let scopes = api_keys::SCOPES.map(String::from);
        let (_, key) = create_key(&mut tx, tenant.id, &scopes, "initial admin key").await?;
        tx.commit().await?;
        return Ok((tenant, key));
    }
    Err(CliError::Invalid(format!(
        "no free slug for {base:?} (other tenants are being created with it); pass --slug"
    )))
}

/// `base`, or `base-N` with the smallest N ≥ 2 that no tenant uses (slugs stay ≤ 63 chars).
async fn free_slug(pool: &PgPool, base: &str) -> Result<String, CliError> {
    let taken: Vec<String> =
        sqlx::query_scalar("select slug from tenants where slug = $1 or slug like $2")
            .bind(base)
            .bind(format!("{}-%", base.replace('%', "").replace('_', "\\_")))
            .fetch_all(pool)
            .await?;
    if !taken.iter().any(|s| s == base) {
        return Ok(base.to_string());
    }
    let taken: std::collections::HashSet<&str> = taken.iter().map(String::as_str).collect();
    let n = (2..)
        .find(|n| {
            let candidate = suffixed(base, *n);
            !taken.contains(candidate.as_str())
        })
        .expect("a free number");
    Ok(suffixed(base, n))
}

fn suffixed(base: &str, n: u32) -> String {
    let suffix = format!("-{n}");
    let mut head = base.to_string();
    while head.len() + suffix.len() > 63 {
        head.pop();
    }
    format!("{}{suffix}", head.trim_end_matches('-'))
}

/// Creates a key that never expires; returns the row and the key (shown once).
pub async fn create_key(
    conn: &mut sqlx::PgConnection,
    tenant_id: Uuid,
    scopes: &[String],
    name: &str,
) -> Result<(api_keys::ApiKey, String), CliError> {
    create_key_expiring(conn, tenant_id, scopes, name, None).await
}

/// Creates a key refused after `expires_at` (`None`: never).
pub async fn create_key_expiring(
    conn: &mut sqlx::PgConnection,
    tenant_id: Uuid,
    scopes: &[String],
    name: &str,
    expires_at: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<(api_keys::ApiKey, String), CliError> {
    if scopes.is_empty() {
        return Err(CliError::Invalid("a key needs at least one scope".into()));
    }
    if let Some(bad) = scopes
        .iter()
        .find(|s| !api_keys::SCOPES.contains(&s.as_str()))
    {
        return Err(CliError::Invalid(format!(
            "unknown scope {bad:?} (jobs:write, jobs:read, admin)"
        )));
    }
    if tenants::get(&mut *conn, tenant_id).await?.is_none() {
        return Err(CliError::NotFound(format!("tenant {tenant_id}")));
    }
    let k = keys::generate();
    let row = api_keys::create(
        &mut *conn, tenant_id, &k.prefix, &k.hash, scopes, name, expires_at,
    )
    .await?;
    Ok((row, k.key))
}

/// Runs an admin command; returns what to print on stdout.
pub async fn execute(cmd: Command, pool: &PgPool) -> Result<String, CliError> {
    let line = |v: serde_json::Value| v.to_string();
    match cmd {
        Command::Serve => Err(CliError::Invalid("serve is not an admin command".into())),
        Command::Migrate => {
            jobs::store::MIGRATOR.run(pool).await?;
            Ok(line(json!({ "migrated": true })))
        }
        Command::Tenants(TenantsCmd::Create {
            name,
            timezone,
            slug,
            plan,
        }) => {
            let (tenant, key) =
                create_tenant(pool, &name, &timezone, slug.as_deref(), &plan).await?;
            cli_audit(pool, Some(tenant.id), "key_created", "initial admin key").await;
            Ok(line(json!({ "tenant_id": tenant.id, "api_key": key })))
        }
        Command::Tenants(TenantsCmd::List) => {
            let rows = tenants::list(pool).await?;
            Ok(rows
                .iter()
                .map(|t| line(json!(t)))
                .collect::<Vec<_>>()
                .join("\n"))
        }
        Command::Keys(KeysCmd::Create {
            tenant,
            scopes,
            name,
            expires_at,
        }) => {
            let mut conn = pool.acquire().await?;
            let (row, key) =
                create_key_expiring(&mut conn, tenant, &scopes, &name, expires_at).await?;
            cli_audit(pool, Some(tenant), "key_created", &row.id.to_string()).await;
            Ok(line(
                json!({ "id": row.id, "tenant_id": tenant, "api_key": key, "scopes": row.scopes, "expires_at": row.expires_at }),
            ))
        }
        Command::Keys(KeysCmd::Revoke { id }) => match api_keys::revoke(pool, id).await? {
            true => {
                cli_audit(pool, None, "key_revoked", &id.to_string()).await;
                Ok(line(json!({ "id": id, "revoked": true })))
            }
            false => Err(CliError::NotFound(format!("active key {id}"))),
        },
        Command::Keys(KeysCmd::RotateMaster) => {
            let master = jobs::crypt::MasterKeys::from_env()
                .map_err(CliError::Invalid)?
                .ok_or_else(|| {
                    CliError::Invalid(format!(
                        "{} is not set: nothing to rotate to",
                        jobs::crypt::master::ENV
                    ))
                })?;
            let r = jobs::crypt::rotate_master(pool, &master).await?;
            cli_audit(pool, None, "master_key_rotated", &r.current).await;
            let out = line(json!({
                "current": r.current,
                "rewrapped": r.rewrapped,
                "already_current": r.already_current,
                "left": r.failed.len(),
                "failed": r.failed,
            }));
            if r.failed.is_empty() {
                Ok(out)
            } else {
                Err(CliError::Invalid(format!(
                    "some data keys were not re-wrapped: {out}"
                )))
            }
        }
        Command::Users(cmd) => crate::console::users::execute(cmd, pool)
            .await
            .map_err(CliError::Invalid),
        Command::Keys(KeysCmd::List { tenant }) => {
            let rows = api_keys::list(pool, tenant).await?;
            Ok(rows
                .iter()
                .map(|k| line(json!(k)))
                .collect::<Vec<_>>()
                .join("\n"))
        }
    }
}

/// An audit row for an admin command (actor `cli`).
async fn cli_audit(pool: &PgPool, tenant_id: Option<Uuid>, action: &str, target: &str) {
    let e = crate::audit::NewEntry {
        actor: "cli",
        tenant_id,
        action,
        target,
        details: json!({}),
    };
    crate::audit::record(pool, e).await
}

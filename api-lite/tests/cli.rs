//! The `api-lite` binary's admin commands against a fresh database:
//! `tenants create` prints one JSON line with a working key; `keys
//! create|list|revoke` manage further keys.

mod common;

use std::process::Command;

use axum::http::{Method, StatusCode};
use common::*;
use serde_json::{json, Value};
use sqlx::PgPool;

fn database_url(pool: &PgPool) -> String {
    let base = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    let db = pool
        .connect_options()
        .get_database()
        .expect("database name")
        .to_string();
    format!("{}/{db}", &base[..base.rfind('/').unwrap()])
}

/// Runs the binary; returns (success, stdout, stderr).
fn api_lite(pool: &PgPool, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_api-lite"))
        .args(args)
        .env(
            "TAREFA_CONFIG_DIR",
            concat!(env!("CARGO_MANIFEST_DIR"), "/../config"),
        )
        .env_remove("TAREFA_ENV")
        .env("TAREFA__DATABASE__URL", database_url(pool))
        .env("RUST_BACKTRACE", "1")
        .output()
        .expect("run api-lite");
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn tenants_create_prints_one_json_line_with_a_working_key(pool: PgPool) {
    let (ok, stdout, stderr) = api_lite(
        &pool,
        &[
            "tenants",
            "create",
            "--name",
            "Colégio São Tomé",
            "--timezone",
            "America/Manaus",
        ],
    );
    assert!(ok, "{stderr}");
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    let v: Value = serde_json::from_str(stdout.trim()).unwrap();
    let obj = v.as_object().unwrap();
    assert_eq!(obj.keys().collect::<Vec<_>>(), ["api_key", "tenant_id"]);
    let id: uuid::Uuid = v["tenant_id"].as_str().unwrap().parse().unwrap();
    let t = jobs::store::tenants::get(&pool, id).await.unwrap().unwrap();
    assert_eq!(
        (t.slug.as_str(), t.timezone.as_str()),
        ("colegio-sao-tome", "America/Manaus")
    );

    // The printed key authenticates as that tenant, with admin.
    let ctx = Ctx::new(pool).await;
    let key = v["api_key"].as_str().unwrap();
    let (status, body) = ctx
        .req(Method::POST, "/v1/queues/diag/resume", Some(key), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn tenants_create_refuses_a_bad_timezone(pool: PgPool) {
    let (ok, stdout, stderr) = api_lite(
        &pool,
        &[
            "tenants",
            "create",
            "--name",
            "Escola X",
            "--timezone",
            "Brasil/Paulo",
        ],
    );
    assert!(!ok && stdout.is_empty(), "{stdout}");
    assert!(stderr.contains("IANA"), "{stderr}");
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn tenants_create_picks_a_free_slug_and_refuses_a_taken_explicit_one(pool: PgPool) {
    let create = |args: &[&str]| {
        let mut all = vec!["tenants", "create"];
        all.extend_from_slice(args);
        api_lite(&pool, &all)
    };
    let slug_of = |stdout: &str| {
        let v: Value = serde_json::from_str(stdout.trim()).unwrap();
        v["tenant_id"]
            .as_str()
            .unwrap()
            .parse::<uuid::Uuid>()
            .unwrap()
    };
    // Two schools with the same name: the second gets the next free slug.
    let mut ids = Vec::new();
    for _ in 0..3 {
        let (ok, stdout, stderr) = create(&["--name", "Escola Ômega"]);
        assert!(ok, "{stderr}");
        ids.push(slug_of(&stdout));
    }
    let mut slugs = Vec::new();
    for id in ids {
        let t = jobs::store::tenants::get(&pool, id).await.unwrap().unwrap();
        slugs.push(t.slug);
    }
    assert_eq!(slugs, ["escola-omega", "escola-omega-2", "escola-omega-3"]);

    // An explicit --slug that is taken is refused with one line, no backtrace.
    let (ok, stdout, stderr) = create(&["--name", "Outra", "--slug", "escola-omega"]);
    assert!(!ok && stdout.is_empty(), "{stdout}");
    assert!(
        stderr.contains("slug \"escola-omega\" is taken"),
        "{stderr}"
    );
    // One error line (besides the JSON log lines), no backtrace even with RUST_BACKTRACE=1.
    let errors: Vec<&str> = stderr.lines().filter(|l| !l.starts_with('{')).collect();
    assert_eq!(
        errors,
        [r#"error: slug "escola-omega" is taken; pass another --slug"#]
    );
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn keys_create_list_and_revoke(pool: PgPool) {
    let t = tenant(&pool, "Escola Delta").await;
    let tid = t.id.to_string();
    let (ok, stdout, stderr) = api_lite(
        &pool,
        &[
            "keys",
            "create",
            "--tenant",
            &tid,
            "--scopes",
            "jobs:read",
            "--name",
            "painel",
        ],
    );
    assert!(ok, "{stderr}");
    let created: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(created["scopes"], json!(["jobs:read"]));
    let key = created["api_key"].as_str().unwrap().to_string();

    let (ok, stdout, _) = api_lite(&pool, &["keys", "list", "--tenant", &tid]);
    assert!(ok);
    assert_eq!(stdout.lines().count(), 2, "initial key + new one: {stdout}");
    assert!(
        !stdout.contains(&key) && !stdout.contains("key_hash"),
        "list never shows keys: {stdout}"
    );

    let id = created["id"].as_str().unwrap();
    let (ok, _, stderr) = api_lite(&pool, &["keys", "revoke", id]);
    assert!(ok, "{stderr}");
    let ctx = Ctx::new(pool.clone()).await;
    let (status, body) = ctx.req(Method::GET, "/v1/jobs", Some(&key), None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("revoked_api_key"))
    );
    let (ok, _, _) = api_lite(&pool, &["keys", "revoke", id]);
    assert!(!ok, "revoking twice fails");
    let (ok, _, stderr) = api_lite(
        &pool,
        &["keys", "create", "--tenant", &tid, "--scopes", "root"],
    );
    assert!(!ok && stderr.contains("unknown scope"), "{stderr}");
}

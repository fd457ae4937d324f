//! Authentication and scopes: API keys (missing, unknown, revoked, scoped) and
//! product-issued JWTs (HS256/RS256, global or per tenant, expired, wrongly
//! signed, naming an unknown tenant).

mod common;

use axum::http::{Method, StatusCode};
use common::*;
use serde_json::{json, Value};
use sqlx::PgPool;

/// Enqueues an unknown kind: an authenticated writer gets 404 `unknown_kind`,
/// anyone else the auth error — so the answer says who the server thinks we are.
async fn probe(ctx: &Ctx, bearer: Option<&str>) -> (StatusCode, Value) {
    ctx.req(
        Method::POST,
        "/v1/jobs/no.such.kind",
        bearer,
        Some(json!({ "payload": {} })),
    )
    .await
}

fn authenticated(r: &(StatusCode, Value)) -> bool {
    r.0 == StatusCode::NOT_FOUND && r.1["error"] == "unknown_kind"
}

#[track_caller]
fn assert_error(r: &(StatusCode, Value), status: StatusCode, code: &str) {
    assert_eq!(
        (r.0, r.1["error"].as_str()),
        (status, Some(code)),
        "{}",
        r.1
    );
    assert!(r.1["message"].is_string(), "{}", r.1);
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn missing_credentials_are_rejected(pool: PgPool) {
    let ctx = Ctx::new(pool).await;
    assert_error(
        &probe(&ctx, None).await,
        StatusCode::UNAUTHORIZED,
        "missing_credentials",
    );
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn valid_key_is_accepted(pool: PgPool) {
    let ctx = Ctx::new(pool).await;
    assert!(authenticated(&probe(&ctx, Some(&ctx.a.key)).await));
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn unknown_or_tampered_key_is_rejected(pool: PgPool) {
    let ctx = Ctx::new(pool).await;
    let unknown = api_lite::keys::generate().key;
    assert_error(
        &probe(&ctx, Some(&unknown)).await,
        StatusCode::UNAUTHORIZED,
        "invalid_api_key",
    );
    // Right prefix, wrong secret.
    let mut tampered = ctx.a.key.clone();
    let last = if tampered.ends_with('0') { "1" } else { "0" };
    tampered.replace_range(tampered.len() - 1.., last);
    assert_error(
        &probe(&ctx, Some(&tampered)).await,
        StatusCode::UNAUTHORIZED,
        "invalid_api_key",
    );
    assert_error(
        &probe(&ctx, Some("garbage")).await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    );
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn revoked_key_is_rejected(pool: PgPool) {
    let ctx = Ctx::new(pool).await;
    let key = ctx.key(ctx.a.id, &["jobs:write"]).await;
    assert!(authenticated(&probe(&ctx, Some(&key)).await));
    let prefix = api_lite::keys::parse_prefix(&key).unwrap();
    let row = jobs::store::api_keys::by_prefix(&ctx.pool, prefix)
        .await
        .unwrap()
        .unwrap();
    assert!(jobs::store::api_keys::revoke(&ctx.pool, row.id)
        .await
        .unwrap());
    // What the CLI and DELETE /v1/keys/{id} do after the UPDATE: drop cached keys.
    api_lite::routes::keys::announce_revocation(&ctx.state)
        .await
        .unwrap();
    assert_error(
        &probe(&ctx, Some(&key)).await,
        StatusCode::UNAUTHORIZED,
        "revoked_api_key",
    );
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn read_only_key_cannot_enqueue(pool: PgPool) {
    let ctx = Ctx::new(pool).await;
    let key = ctx.key(ctx.a.id, &["jobs:read"]).await;
    let r = probe(&ctx, Some(&key)).await;
    assert_error(&r, StatusCode::FORBIDDEN, "insufficient_scope");
    assert_eq!(r.1["details"]["required"], "jobs:write");
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn write_key_cannot_pause_a_queue(pool: PgPool) {
    let ctx = Ctx::new(pool).await;
    let key = ctx.key(ctx.a.id, &["jobs:write", "jobs:read"]).await;
    let r = ctx
        .req(Method::POST, "/v1/queues/diag/pause", Some(&key), None)
        .await;
    assert_error(&r, StatusCode::FORBIDDEN, "insufficient_scope");
    assert_eq!(r.1["details"]["required"], "admin");
}

const SECRET: &str = "global-test-secret-0123456789abcdef";

async fn hs256_ctx(pool: PgPool) -> Ctx {
    Ctx::with(pool, |s| s.auth.jwt_hs256_secret = Some(SECRET.into())).await
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn global_hs256_jwt_naming_tenant_by_id_or_slug_is_accepted(pool: PgPool) {
    let ctx = hs256_ctx(pool).await;
    let by_id = hs256(SECRET, json!({ "tenant_id": ctx.a.id, "exp": epoch(300) }));
    assert!(authenticated(&probe(&ctx, Some(&by_id)).await));
    let by_slug = hs256(
        SECRET,
        json!({ "tenant_id": "escola-beta", "exp": epoch(300) }),
    );
    assert!(authenticated(&probe(&ctx, Some(&by_slug)).await));
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn expired_jwt_is_rejected(pool: PgPool) {
    let ctx = hs256_ctx(pool).await;
    let token = hs256(
        SECRET,
        json!({ "tenant_id": ctx.a.id, "exp": epoch(-3600) }),
    );
    assert_error(
        &probe(&ctx, Some(&token)).await,
        StatusCode::UNAUTHORIZED,
        "token_expired",
    );
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn jwt_signed_with_another_secret_is_rejected(pool: PgPool) {
    let ctx = hs256_ctx(pool).await;
    let token = hs256(
        "not-the-secret",
        json!({ "tenant_id": ctx.a.id, "exp": epoch(300) }),
    );
    assert_error(
        &probe(&ctx, Some(&token)).await,
        StatusCode::UNAUTHORIZED,
        "invalid_token_signature",
    );
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn jwt_without_exp_or_for_unknown_tenant_is_rejected(pool: PgPool) {
    let ctx = hs256_ctx(pool).await;
    let no_exp = hs256(SECRET, json!({ "tenant_id": ctx.a.id }));
    assert_error(
        &probe(&ctx, Some(&no_exp)).await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    );
    let stranger = hs256(
        SECRET,
        json!({ "tenant_id": uuid::Uuid::new_v4(), "exp": epoch(300) }),
    );
    assert_error(
        &probe(&ctx, Some(&stranger)).await,
        StatusCode::UNAUTHORIZED,
        "unknown_tenant",
    );
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn jwt_scope_claim_limits_what_it_may_do(pool: PgPool) {
    let ctx = hs256_ctx(pool).await;
    let reader = hs256(
        SECRET,
        json!({ "tenant_id": ctx.a.id, "exp": epoch(300), "scope": "jobs:read" }),
    );
    assert_error(
        &probe(&ctx, Some(&reader)).await,
        StatusCode::FORBIDDEN,
        "insufficient_scope",
    );
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn hs256_jwt_is_rejected_when_no_secret_is_configured(pool: PgPool) {
    let ctx = Ctx::new(pool).await;
    let token = hs256(SECRET, json!({ "tenant_id": ctx.a.id, "exp": epoch(300) }));
    assert_error(
        &probe(&ctx, Some(&token)).await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    );
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn per_tenant_rs256_key_verifies_that_tenants_tokens(pool: PgPool) {
    let ctx = Ctx::new(pool).await;
    jobs::store::tenants::set_jwt(&ctx.pool, ctx.a.id, Some(RS256_A_PUBLIC), None, None)
        .await
        .unwrap();
    let good = rs256(
        RS256_A_PRIVATE,
        json!({ "tenant_id": ctx.a.id, "exp": epoch(300) }),
    );
    assert!(authenticated(&probe(&ctx, Some(&good)).await));
    let forged = rs256(
        RS256_B_PRIVATE,
        json!({ "tenant_id": ctx.a.id, "exp": epoch(300) }),
    );
    assert_error(
        &probe(&ctx, Some(&forged)).await,
        StatusCode::UNAUTHORIZED,
        "invalid_token_signature",
    );
    // Tenant B has no RS256 key and there is no global one.
    let other = rs256(
        RS256_A_PRIVATE,
        json!({ "tenant_id": ctx.b.id, "exp": epoch(300) }),
    );
    assert_error(
        &probe(&ctx, Some(&other)).await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    );
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn per_tenant_secret_env_and_claim_name_are_used(pool: PgPool) {
    let ctx = hs256_ctx(pool).await;
    let var = format!("TAREFA_TEST_JWT_{}", uuid::Uuid::new_v4().simple());
    // Safe: nothing else in this test process reads this freshly named variable concurrently.
    std::env::set_var(&var, "tenant-a-own-secret");
    jobs::store::tenants::set_jwt(
        &ctx.pool,
        ctx.a.id,
        None,
        Some(&var),
        Some("institution_id"),
    )
    .await
    .unwrap();

    let own = hs256(
        "tenant-a-own-secret",
        json!({ "institution_id": ctx.a.id, "exp": epoch(300) }),
    );
    assert!(authenticated(&probe(&ctx, Some(&own)).await));
    // The global secret no longer speaks for tenant A...
    let global = hs256(
        SECRET,
        json!({ "institution_id": ctx.a.id, "exp": epoch(300) }),
    );
    assert_error(
        &probe(&ctx, Some(&global)).await,
        StatusCode::UNAUTHORIZED,
        "invalid_token_signature",
    );
    // ...and tenant A answers only to its own claim name.
    let wrong_claim = hs256(
        "tenant-a-own-secret",
        json!({ "tenant_id": ctx.a.id, "exp": epoch(300) }),
    );
    assert_error(
        &probe(&ctx, Some(&wrong_claim)).await,
        StatusCode::UNAUTHORIZED,
        "unknown_tenant",
    );
}

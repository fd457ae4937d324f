//! Issue 21 item 1: PostgreSQL keeps tenants apart (migrations/0024,
//! `jobs::store::scope`). Every table of the schema is checked, not a chosen
//! few, so a new table is covered the day it lands:
//! - each table has row-level security on, and a policy unless it is one of
//!   the few system-only tables;
//! - with tenant A's rows in every table (`fixtures/rls_seed.sql`), queries
//!   with no tenant filter, run as tenant B or as nobody, read, update and
//!   delete zero rows, and writing A's row as B is refused; as A they see
//!   exactly A's rows (the positive control);
//! - through the HTTP API, a tenant's request reaches the database as that
//!   tenant only.

mod common;

use sqlx::{PgPool, Row};
use uuid::Uuid;

use jobs::store::scope;

const SEED: &str = include_str!("fixtures/rls_seed.sql");
const A: Uuid = Uuid::from_u128(0x00000000_0000_4000_8000_00000000000a);
const B: Uuid = Uuid::from_u128(0x00000000_0000_4000_8000_00000000000b);

/// Tables tenants never reach (no policy: `tarefa_app` sees none of their rows).
const SYSTEM_ONLY: &[&str] = &["campaign_status_early", "ops_sessions", "ops_users"];

/// Every table of schema `public` but the migrations' own, with whether
/// row-level security is on and how many policies it has.
async fn tables(pool: &PgPool) -> Vec<(String, bool, i64)> {
    sqlx::query(
        "select c.relname::text, c.relrowsecurity,
                (select count(*) from pg_policy p where p.polrelid = c.oid)
         from pg_class c join pg_namespace n on n.oid = c.relnamespace
         where n.nspname = 'public' and c.relkind in ('r', 'p') and c.relname <> '_sqlx_migrations'
         order by 1",
    )
    .fetch_all(pool)
    .await
    .unwrap()
    .into_iter()
    .map(|r| (r.get(0), r.get(1), r.get(2)))
    .collect()
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn every_table_has_row_level_security_and_a_policy(pool: PgPool) {
    let all = tables(&pool).await;
    assert!(all.len() > 40, "only {} tables found", all.len());
    let off: Vec<&str> = all.iter().filter(|t| !t.1).map(|t| t.0.as_str()).collect();
    assert!(
        off.is_empty(),
        "tables without row-level security (add `enable row level security` and a policy in a migration): {off:?}"
    );
    let no_policy: Vec<&str> = all
        .iter()
        .filter(|t| t.2 == 0)
        .map(|t| t.0.as_str())
        .collect();
    assert_eq!(
        no_policy, SYSTEM_ONLY,
        "tables without a policy must be exactly the system-only ones"
    );
    // The application role cannot bypass the policies, and owns nothing it could disable them on.
    let row = sqlx::query(
        "select rolbypassrls, rolsuper,
                (select count(*) from pg_class c where c.relowner = r.oid)
         from pg_roles r where rolname = $1",
    )
    .bind(scope::APP_ROLE)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(!row.get::<bool, _>(0), "tarefa_app must not bypass RLS");
    assert!(!row.get::<bool, _>(1), "tarefa_app must not be a superuser");
    assert_eq!(row.get::<i64, _>(2), 0, "tarefa_app must own no relation");
}

/// A column of `table` to write in a no-op update (`set c = c`).
async fn some_column(pool: &PgPool, table: &str) -> String {
    sqlx::query_scalar(
        "select column_name::text from information_schema.columns
         where table_schema = 'public' and table_name = $1
           and is_identity = 'NO' and is_generated = 'NEVER'
         order by ordinal_position limit 1",
    )
    .bind(table)
    .fetch_one(pool)
    .await
    .unwrap()
}

/// Row count of `table` as `acting` (through the scoped pool; no filter but `except`).
async fn count(app: &PgPool, acting: Option<scope::Acting>, table: &str, except: &str) -> i64 {
    let q = format!("select count(*) from {table}{except}");
    scope::acting_as(acting, sqlx::query_scalar::<_, i64>(&q).fetch_one(app))
        .await
        .unwrap_or_else(|e| panic!("count {table}: {e}"))
}

/// Rows an update and a delete of `table` with no filter but `except` touch as `acting` (rolled back).
async fn touched(
    app: &PgPool,
    acting: Option<scope::Acting>,
    table: &str,
    col: &str,
    except: &str,
) -> u64 {
    scope::acting_as(acting, async {
        let mut tx = app.begin().await.unwrap();
        let upd = sqlx::query(&format!("update {table} set {col} = {col}{except}"))
            .execute(&mut *tx)
            .await
            .unwrap_or_else(|e| panic!("update {table}: {e}"))
            .rows_affected();
        let del = sqlx::query(&format!("delete from {table}{except}"))
            .execute(&mut *tx)
            .await
            .unwrap_or_else(|e| panic!("delete {table}: {e}"))
            .rows_affected();
        tx.rollback().await.unwrap();
        upd + del
    })
    .await
}

/// Tries to insert a copy of A's row `row` into `table` as `acting`; the
/// SQLSTATE of the refusal, or `None` if it went in (rolled back either way).
async fn insert_copy(
    app: &PgPool,
    acting: Option<scope::Acting>,
    table: &str,
    row: &serde_json::Value,
) -> Option<String> {
    scope::acting_as(acting, async {
        let mut tx = app.begin().await.unwrap();
        // Every column but the generated ones (`campaign_recipients.pending`),
        // which no insert may name.
        let cols: String = sqlx::query_scalar(
            "select string_agg(quote_ident(attname), ', ' order by attnum) from pg_attribute \
             where attrelid = $1::regclass and attnum > 0 and not attisdropped and attgenerated = ''",
        )
        .bind(table)
        .fetch_one(&mut *tx)
        .await
        .unwrap();
        let q = format!(
            "insert into {table} ({cols}) overriding system value \
             select {cols} from jsonb_populate_record(null::{table}, $1)"
        );
        let r = sqlx::query(&q).bind(row).execute(&mut *tx).await;
        let _ = tx.rollback().await;
        match r {
            Ok(_) => None,
            Err(sqlx::Error::Database(d)) => Some(d.code().unwrap_or_default().to_string()),
            Err(e) => panic!("insert into {table}: {e}"),
        }
    })
    .await
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn the_wrong_tenant_reads_and_writes_no_row_of_any_table(pool: PgPool) {
    sqlx::raw_sql(SEED)
        .execute(&pool)
        .await
        .expect("rls_seed.sql");
    let app = jobs::store::scoped_like(&pool);
    let (as_a, as_b) = (
        Some(scope::Acting::Tenant(A)),
        Some(scope::Acting::Tenant(B)),
    );
    let mut checked = 0;
    for (table, _, policies) in tables(&pool).await {
        // The fixture's rows, seen by the login role (the system).
        let all: i64 = sqlx::query_scalar(&format!("select count(*) from {table}"))
            .fetch_one(&pool)
            .await
            .unwrap();
        assert!(
            all > 0,
            "{table} has no row in fixtures/rls_seed.sql: add one of tenant A"
        );
        let mine = if table == "tenants" { 1 } else { all };
        let col = some_column(&pool, &table).await;
        let row: serde_json::Value = sqlx::query_scalar(&format!(
            "select to_jsonb(t) from {table} t {} limit 1",
            if table == "tenants" {
                format!("where id = '{A}'")
            } else {
                String::new()
            }
        ))
        .fetch_one(&pool)
        .await
        .unwrap();

        if policies > 0 {
            assert_eq!(count(&app, as_a, &table, "").await, mine, "{table} as A");
        }
        // B does see its own `tenants` row (and nothing else of it is seeded).
        let b_own = if table == "tenants" {
            format!(" where id <> '{B}'")
        } else {
            String::new()
        };
        for (who, acting, except) in [("B", as_b, b_own.as_str()), ("nobody", None, "")] {
            assert_eq!(
                count(&app, acting, &table, except).await,
                0,
                "{table} read as {who}"
            );
            assert_eq!(
                touched(&app, acting, &table, &col, except).await,
                0,
                "{table} updated or deleted as {who}"
            );
            // 42501: "new row violates row-level security policy".
            assert_eq!(
                insert_copy(&app, acting, &table, &row).await.as_deref(),
                Some("42501"),
                "{table}: A's row written as {who}"
            );
        }
        // A cannot hand a row over to B either.
        if row.get("tenant_id").is_some() {
            let q = format!("update {table} set tenant_id = '{B}'");
            let r = scope::as_tenant(A, sqlx::query(&q).execute(&app)).await;
            let code = r
                .err()
                .and_then(|e| e.into_database_error())
                .and_then(|d| d.code().map(|c| c.to_string()));
            assert_eq!(
                code.as_deref(),
                Some("42501"),
                "{table}: A moved its rows to B"
            );
        }
        checked += 1;
    }
    assert!(checked > 40, "only {checked} tables checked");
    // Nothing above changed the fixture.
    let students: i64 = sqlx::query_scalar("select count(*) from students")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(students > 0);
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn a_tenant_request_reaches_the_database_as_that_tenant(pool: PgPool) {
    let ctx = common::Ctx::new(pool).await;
    // B's contact, created by the login role.
    sqlx::query(
        "insert into contacts (id, tenant_id, external_id, name) values ($1, $2, 'c-1', 'Bruna Lima')",
    )
    .bind(Uuid::new_v4())
    .bind(ctx.b.id)
    .execute(&ctx.pool)
    .await
    .unwrap();
    // Under A's scope (as api-lite runs A's requests) an unfiltered query finds nothing of B's…
    let seen: i64 = scope::as_tenant(
        ctx.a.id,
        sqlx::query_scalar("select count(*) from contacts").fetch_one(&ctx.state.pool),
    )
    .await
    .unwrap();
    assert_eq!(seen, 0);
    // …A's request for B's contact is a 404…
    let get = axum::http::Method::GET;
    let (status, body) = ctx
        .req(get.clone(), "/v1/contacts/c-1", Some(&ctx.a.key), None)
        .await;
    assert_eq!(status, axum::http::StatusCode::NOT_FOUND, "{body}");
    // …and B's own request finds it: the scope is per request.
    let (status, body) = ctx
        .req(get, "/v1/contacts/c-1", Some(&ctx.b.key), None)
        .await;
    assert!(status.is_success(), "{status} {body}");
    assert_eq!(body["name"], "Bruna Lima", "{body}");
    // The pool outside any scope sees no tenant row at all.
    let unscoped: i64 = sqlx::query_scalar("select count(*) from tenants")
        .fetch_one(&ctx.state.pool)
        .await
        .unwrap();
    assert_eq!(unscoped, 0);
}

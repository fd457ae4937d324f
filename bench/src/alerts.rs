//! `bench alerts`: academic alerts at institution scale. In a fresh database
//! (`tarefa_bench_alerts`, created, migrated and dropped by the run):
//!
//! 1. ingestion rows/s through the same store functions the API calls
//!    (`jobs::store::academic::*::ingest`, batches of 10,000 rows: the API's
//!    maximum), for a 10,000-student school: students with a guardian, then
//!    grades and attendance periods (10 subjects × 4 terms each);
//! 2. for each size (default 10,000 and 100,000 students × 10 subjects × 4
//!    terms; the larger ones loaded with `generate_series`), eight rules (one
//!    of each type and a composite) evaluated by `jobs::kinds::alerts::run`:
//!    the first evaluation (every alert new: opened, rendered, written to the
//!    outbox, `notify.send` pushed), the steady state (nothing changed), and a
//!    narrowed one (100 students, as after an ingestion).
//!
//! Row-level security (issue 21): ingestion and the re-evaluations run twice,
//! interleaved in the same run: through the login role's pool (no RLS) and
//! through the application's pool as the tenant (`jobs::store::scope`, every
//! statement under the policies), so the two columns compare like for like.
//!
//! Prints a markdown section on stdout. Redis keys go under a run prefix,
//! deleted at the end.

use std::time::Instant;

use anyhow::{Context, Result};
use chrono::{Datelike, Utc};
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

use jobs::config::EngineSettings;
use jobs::engine::{Engine, EngineConfig};
use jobs::kinds::alerts::{self, sql, EvaluatePayload, Evaluation, RuleSpec};
use jobs::store::academic::{self, Rows};
use jobs::store::{scope, tenants};

#[derive(clap::Parser, Clone)]
pub struct AlertsArgs {
    #[arg(
        long,
        env = "TAREFA__REDIS__URL",
        default_value = "redis://127.0.0.1:6379"
    )]
    pub redis_url: String,
    /// A database the run may connect to, to create (and drop) `tarefa_bench_alerts`.
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    pub admin_url: String,
    /// Students per evaluation run, comma separated.
    #[arg(long, value_delimiter = ',', default_value = "10000,100000")]
    pub students: Vec<usize>,
    /// Students of the ingestion measure.
    #[arg(long, default_value_t = 10_000)]
    pub ingest_students: usize,
}

const DB: &str = "tarefa_bench_alerts";
const BATCH: usize = 10_000;

async fn tenant(pool: &PgPool, name: &str) -> Result<Uuid> {
    let t = tenants::create(
        pool,
        &tenants::NewTenant {
            name: name.into(),
            slug: tenants::slugify(name),
            timezone: "America/Sao_Paulo".into(),
            plan: "standard".into(),
        },
    )
    .await?;
    Ok(t.id)
}

fn rows(v: Vec<Value>) -> Rows {
    Rows::from_json(v).expect("objects")
}

/// Runs `f` as tenant `t` under row-level security when `rls`, else as the login role.
async fn acting<F: std::future::Future>(rls: bool, t: Uuid, f: F) -> F::Output {
    scope::acting_as(rls.then_some(scope::Acting::Tenant(t)), f).await
}

/// (rows, seconds) of ingesting a `n`-student school through the store
/// functions, on `run` (as the school under RLS when `rls`).
async fn ingest(
    pool: &PgPool,
    run: &PgPool,
    rls: bool,
    n: usize,
    year: i32,
) -> Result<Vec<(&'static str, usize, f64)>> {
    let t = tenant(pool, &format!("Escola Ingestão {rls}")).await?;
    let mut out = Vec::new();
    let students: Vec<Value> = (0..n)
        .map(|i| json!({"registration": format!("I{i}"), "name": format!("Aluno {i}"),
                        "guardians": [{"name": format!("Responsável {i}"), "email": format!("r{i}@example.com")}]}))
        .collect();
    let started = Instant::now();
    for chunk in students.chunks(BATCH) {
        acting(
            rls,
            t,
            academic::students::ingest(run, t, &rows(chunk.to_vec())),
        )
        .await?;
    }
    out.push((
        "students (with 1 guardian)",
        n,
        started.elapsed().as_secs_f64(),
    ));
    let mut grades = Vec::with_capacity(n * 40);
    let mut periods = Vec::with_capacity(n * 40);
    for i in 0..n {
        for s in 0..10 {
            for term in 1..=4 {
                let g = 5.0 + ((i * 7 + s * 3 + term * 11) % 50) as f64 / 10.0;
                grades.push(json!({"registration": format!("I{i}"), "subject": format!("Disciplina {s}"),
                                   "year": year, "term": term, "grade": format!("{g:.1}").replace('.', ",")}));
                periods.push(json!({"registration": format!("I{i}"), "subject": format!("Disciplina {s}"),
                                    "year": year, "term": term, "classes_given": 20, "absences": (i + s + term) % 5}));
            }
        }
    }
    for (what, all) in [("grades", grades), ("attendance periods", periods)] {
        let total = all.len();
        let batches: Vec<Rows> = all.chunks(BATCH).map(|c| rows(c.to_vec())).collect();
        let started = Instant::now();
        for b in &batches {
            if what == "grades" {
                acting(rls, t, academic::grades::ingest(run, t, b)).await?;
            } else {
                acting(rls, t, academic::attendance::ingest(run, t, b)).await?;
            }
        }
        out.push((what, total, started.elapsed().as_secs_f64()));
    }
    Ok(out)
}

/// Loads `n` students × 10 subjects × 4 terms with SQL; returns the tenant.
async fn load(pool: &PgPool, n: usize, year: i32) -> Result<Uuid> {
    let t = tenant(pool, &format!("Escola {n}")).await?;
    let stmts = [
        "select setseed(0.42)",
        "insert into students (id, tenant_id, registration, name)
         select gen_random_uuid(), $1, 'B' || g, 'Aluno ' || g from generate_series(1, $2) g",
        "insert into guardians (id, tenant_id, student_id, name, email)
         select gen_random_uuid(), $1, s.id, 'Responsável ' || s.registration, 'r' || s.registration || '@example.com'
         from students s where s.tenant_id = $1",
        "insert into academic_subjects (tenant_id, code, name)
         select $1, 'disciplina-' || i, 'Disciplina ' || i from generate_series(1, 10) i",
        "insert into grades (tenant_id, student_id, subject_code, year, term, grade)
         select $1, s.id, 'disciplina-' || i, $3, t,
                case when random() < 0.04 then round((2 + random() * 3)::numeric, 1) else round((5 + random() * 5)::numeric, 1) end
         from students s, generate_series(1, 10) i, generate_series(1, 4) t where s.tenant_id = $1",
        "insert into attendance_periods (tenant_id, student_id, subject_code, year, term, classes_given, absences)
         select $1, s.id, 'disciplina-' || i, $3, t, 20,
                case when random() < 0.04 then 10 + (random() * 8)::int else (random() * 4)::int end
         from students s, generate_series(1, 10) i, generate_series(1, 4) t where s.tenant_id = $1",
        "insert into attendance_days (tenant_id, student_id, day, present)
         select $1, s.id, make_date($3, 3, 2) + d, random() > 0.06
         from students s, generate_series(0, 19) d where s.tenant_id = $1",
        "insert into occurrences (id, tenant_id, student_id, external_id, kind, severity, occurred_on)
         select gen_random_uuid(), $1, s.id, 'OC-' || s.registration, 'indisciplina', 1 + (random() * 4)::int,
                current_date - (random() * 20)::int
         from students s where s.tenant_id = $1 and random() < 0.05",
        "analyze",
    ];
    for s in stmts {
        let mut q = sqlx::query(s);
        if s.contains("$1") {
            q = q.bind(t);
        }
        // A statement using $3 but not $2 still has three parameters.
        if s.contains("$2") || s.contains("$3") {
            q = q.bind(n as i32);
        }
        if s.contains("$3") {
            q = q.bind(year);
        }
        q.execute(pool).await.with_context(|| s.to_string())?;
    }
    Ok(t)
}

async fn rules(pool: &PgPool, t: Uuid) -> Result<()> {
    let list = [
        (
            "frequência por disciplina",
            json!({"type": "attendance_below"}),
        ),
        (
            "frequência geral",
            json!({"type": "attendance_below", "scope": "overall"}),
        ),
        ("nota baixa", json!({"type": "grade_below", "threshold": 5})),
        (
            "média baixa",
            json!({"type": "average_below", "threshold": 6}),
        ),
        (
            "queda",
            json!({"type": "falling_trend", "drop": 2, "last": 3}),
        ),
        (
            "faltas seguidas",
            json!({"type": "consecutive_absences", "count": 3}),
        ),
        (
            "ocorrência grave",
            json!({"type": "occurrence", "min_severity": 4}),
        ),
        (
            "risco",
            json!({"type": "all_of", "conditions": [{"type": "attendance_below"}, {"type": "grade_below", "threshold": 5}]}),
        ),
    ];
    for (name, c) in list {
        let spec: RuleSpec = serde_json::from_value(json!({"name": name, "condition": c,
            "audience": ["guardians"], "channels": ["email"]}))?;
        spec.validate().map_err(|e| anyhow::anyhow!("{e}"))?;
        sql::create_rule(pool, t, &spec).await?;
    }
    Ok(())
}

fn line(what: &str, o: &Evaluation, wall: f64) -> String {
    format!(
        "| {what} | {:.2} | {:.2} | {:.2} | {} | {} | {} | {} |",
        o.evaluate_ms as f64 / 1000.0,
        o.notify_ms as f64 / 1000.0,
        wall,
        o.holding,
        o.opened,
        o.resolved,
        o.messages
    )
}

pub async fn run(args: AlertsArgs) -> Result<()> {
    let db = crate::db::BenchDb::create(&args.admin_url, DB, 4).await?;
    let pool = db.pool.clone();
    let prefix = format!("tba{}", std::process::id());
    let engine = Engine::connect(EngineConfig {
        redis_url: args.redis_url.clone(),
        prefix: prefix.clone(),
        settings: EngineSettings::default(),
    })
    .await?;
    let now = Utc::now();
    let year = now.year();
    let version: String = sqlx::query_scalar("show server_version")
        .fetch_one(&pool)
        .await?;

    let mut out = String::new();
    out.push_str(&format!(
        "#### Academic alerts (issue 5)\n\n- PostgreSQL {version} (loopback, database `{DB}` created for the run), Redis under prefix `{prefix}`; \
         `jobs::kinds::alerts::run` in-process (the `alerts.evaluate` job body)\n\n"
    ));
    eprintln!(
        "bench alerts: ingestion ({} students)",
        args.ingest_students
    );
    // The application's pool (row-level security), beside the login role's.
    let app = jobs::store::scoped_like(&pool);
    let plain = ingest(&pool, &pool, false, args.ingest_students, year).await?;
    let rls = ingest(&pool, &app, true, args.ingest_students, year).await?;
    out.push_str("| ingestion (store functions, batches of 10,000, one transaction each) | rows | seconds, no RLS | rows/s, no RLS | seconds, RLS | rows/s, RLS | RLS cost |\n|---|---:|---:|---:|---:|---:|---:|\n");
    for ((what, n, secs), (_, _, rsecs)) in plain.iter().zip(&rls) {
        out.push_str(&format!(
            "| {what} | {n} | {secs:.2} | {:.0} | {rsecs:.2} | {:.0} | {:+.1} % |\n",
            *n as f64 / secs,
            *n as f64 / rsecs,
            (rsecs / secs - 1.0) * 100.0
        ));
    }
    out.push_str("\n| evaluation (8 rules: one per type + all_of) | evaluate s | notify s | wall s | alerts holding | opened | resolved | messages to outbox |\n|---|---:|---:|---:|---:|---:|---:|---:|\n");
    for &n in &args.students {
        eprintln!("bench alerts: loading {n} students");
        let started = Instant::now();
        let t = load(&pool, n, year).await?;
        let loaded = started.elapsed().as_secs_f64();
        rules(&pool, t).await?;
        let p = EvaluatePayload::default();
        // The second run is an hour later (same data): what a daily or
        // post-ingestion run costs when nothing changed.
        for (what, at, rls) in [
            ("first (all new)", now, false),
            (
                "again (steady state)",
                now + chrono::Duration::hours(1),
                false,
            ),
            (
                "again, RLS (steady state)",
                now + chrono::Duration::hours(1),
                true,
            ),
        ] {
            eprintln!("bench alerts: {n} students, {what}");
            let run = if rls { &app } else { &pool };
            let started = Instant::now();
            let o = acting(rls, t, alerts::run(run, &engine, t, &p, at)).await?;
            out.push_str(&line(
                &format!("{n} students: {what}"),
                &o,
                started.elapsed().as_secs_f64(),
            ));
            out.push('\n');
        }
        let some: Vec<Uuid> =
            sqlx::query_scalar("select id from students where tenant_id = $1 limit 100")
                .bind(t)
                .fetch_all(&pool)
                .await?;
        let narrowed = EvaluatePayload {
            student_ids: Some(some),
            ..EvaluatePayload::default()
        };
        for rls in [false, true] {
            let run = if rls { &app } else { &pool };
            let started = Instant::now();
            let o = acting(
                rls,
                t,
                alerts::run(run, &engine, t, &narrowed, now + chrono::Duration::hours(2)),
            )
            .await?;
            let how = if rls { ", RLS" } else { "" };
            out.push_str(&line(
                &format!("{n} students: 100 of them (after an ingestion){how}"),
                &o,
                started.elapsed().as_secs_f64(),
            ));
            out.push('\n');
        }
        let rows: i64 = sqlx::query_scalar("select count(*) from grades where tenant_id = $1")
            .bind(t)
            .fetch_one(&pool)
            .await?;
        eprintln!("bench alerts: {n} students loaded in {loaded:.1} s ({rows} grades)");
    }
    out.push_str("\n- data: per student 10 subjects × 4 terms of grades (4% of term grades 2-5, the rest 5-10) and of attendance periods \
                  (20 classes; 4% with 10-18 absences, the rest 0-4), 20 school days (6% absent), 5% with an occurrence in the last 20 days, one guardian with an e-mail\n");
    out.push_str("- first = every alert new (opened, message rendered, outbox row, `notify.send` pushed to Redis); again = the same data re-evaluated an hour later (nothing opens, resolves or sends); evaluate = scope + rules + lifecycle transaction, notify = recipients, templates, outbox, pushes\n");
    println!("{out}");

    drop(app);
    drop(pool);
    let mut conn = crate::rx::connect(&args.redis_url).await?;
    let deleted = crate::rx::delete_matching(&mut conn, &crate::rx::run_pattern(&prefix)).await?;
    eprintln!("bench alerts: deleted {deleted} Redis keys of {prefix}");
    db.drop().await?;
    Ok(())
}

//! Shared by the alerts tests: a [`Bed`] (tenant, SMTP sink, provider fakes)
//! on the test's fresh database and a random Redis prefix; records written
//! through the real ingestion functions (`jobs::store::academic`); rules
//! saved through `RuleSpec::validate` + `sql::create_rule`; evaluation at a
//! fixed clock; readers for alerts, events and outbox rows.
#![allow(dead_code)]

use chrono::{DateTime, TimeZone, Utc};
use jobs::kinds::alerts::{self, sql, EvaluatePayload, Evaluation, RuleSpec};
use jobs::store::academic::{self, Rows};
pub use jobs::testing::Bed;
use serde_json::{json, Value};
use uuid::Uuid;

/// 15/06/2026 12:00 in São Paulo: mid-year, second term.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 15, 15, 0, 0).unwrap()
}

fn rows(v: Value) -> Rows {
    let Value::Array(items) = v else {
        panic!("rows must be an array")
    };
    Rows::from_json(items).expect("objects")
}

pub async fn students(bed: &Bed, v: Value) {
    academic::students::ingest(&bed.pool, bed.tenant, &rows(v))
        .await
        .expect("students");
}
pub async fn classes(bed: &Bed, v: Value) {
    academic::classes::ingest(&bed.pool, bed.tenant, &rows(v))
        .await
        .expect("classes");
}
pub async fn grades(bed: &Bed, v: Value) {
    academic::grades::ingest(&bed.pool, bed.tenant, &rows(v))
        .await
        .expect("grades");
}
pub async fn attendance(bed: &Bed, v: Value) {
    academic::attendance::ingest(&bed.pool, bed.tenant, &rows(v))
        .await
        .expect("attendance");
}
pub async fn occurrences(bed: &Bed, v: Value) {
    academic::occurrences::ingest(&bed.pool, bed.tenant, &rows(v))
        .await
        .expect("occurrences");
}

/// Ana (guardian with e-mail + a guardian without any contact) and Bruno (guardian with phone, prefers WhatsApp).
pub async fn two_students(bed: &Bed) {
    students(
        bed,
        json!([
            {"registration": "2026001", "name": "Ana Souza", "guardians": [
                {"name": "Maria Souza", "relationship": "mãe", "email": "maria@example.com"},
                {"name": "José Souza", "relationship": "pai"}]},
            {"registration": "2026002", "name": "Bruno Lima", "guardians": [
                {"name": "Carla Lima", "phone": "(11) 98888-7777", "email": "carla@example.com",
                 "preferred_channels": ["whatsapp"]}]}
        ]),
    )
    .await;
}

/// Saves a rule (`channels` email by default, cooldown 0 unless given).
pub async fn rule(bed: &Bed, name: &str, condition: Value, extra: Value) -> Uuid {
    let mut spec = json!({"name": name, "condition": condition, "audience": ["guardians"],
                          "channels": ["email"], "cooldown_secs": 0});
    if let Value::Object(m) = extra {
        for (k, v) in m {
            spec[k] = v;
        }
    }
    let spec: RuleSpec = serde_json::from_value(spec).expect("rule json");
    spec.validate().expect("valid rule");
    sql::create_rule(&bed.pool, bed.tenant, &spec)
        .await
        .unwrap()
        .id
}

/// The rule most tests use: "frequência", attendance below the legal 75 % per subject, defaults elsewhere.
pub async fn attendance_rule(bed: &Bed) -> Uuid {
    rule(
        bed,
        "frequência",
        json!({"type": "attendance_below"}),
        json!({}),
    )
    .await
}

pub async fn eval_at(bed: &Bed, at: DateTime<Utc>) -> Evaluation {
    alerts::run(
        &bed.pool,
        &bed.engine,
        bed.tenant,
        &EvaluatePayload::default(),
        at,
    )
    .await
    .expect("evaluate")
}

pub async fn eval(bed: &Bed) -> Evaluation {
    eval_at(bed, now()).await
}

/// An alert as tests look at it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct A {
    pub id: Uuid,
    pub rule: String,
    pub registration: String,
    pub scope: String,
    pub status: String,
    pub episode: i32,
    pub details: Value,
    pub unreachable: Value,
}

pub async fn alerts_of(bed: &Bed) -> Vec<A> {
    sqlx::query_as(
        "select a.id, r.name as rule, s.registration, a.scope, a.status, a.episode, a.details, a.unreachable
         from alerts a join alert_rules r on r.id = a.rule_id join students s on s.id = a.student_id
         where a.tenant_id = $1 order by r.name, s.registration, a.scope",
    )
    .bind(bed.tenant)
    .fetch_all(&bed.pool)
    .await
    .unwrap()
}

/// (rule, registration, scope) of the alerts with `status`.
pub async fn keys(bed: &Bed, status: &str) -> Vec<(String, String, String)> {
    alerts_of(bed)
        .await
        .into_iter()
        .filter(|a| a.status == status)
        .map(|a| (a.rule, a.registration, a.scope))
        .collect()
}

pub fn k(rule: &str, reg: &str, scope: &str) -> (String, String, String) {
    (rule.into(), reg.into(), scope.into())
}

/// Events of an alert, oldest first.
pub async fn events(bed: &Bed, alert: Uuid) -> Vec<String> {
    sqlx::query_scalar("select event from alert_events where alert_id = $1 order by id")
        .bind(alert)
        .fetch_all(&bed.pool)
        .await
        .unwrap()
}

/// Outbox rows: (channel, recipient, text, subject, dedup key), by key.
pub async fn outbox(bed: &Bed) -> Vec<(String, String, String, Option<String>, String)> {
    sqlx::query_as(
        "select channel, recipient, message->>'text', message->>'subject', dedup_key from notifications
         where tenant_id = $1 order by dedup_key",
    )
    .bind(bed.tenant)
    .fetch_all(&bed.pool)
    .await
    .unwrap()
}

//! `/v1/alert-rules` and `/v1/alerts` over HTTP: rules CRUD (the first rule
//! creates the tenant's daily evaluation schedule), validation naming the
//! parameter or template, duplicate names; alerts listed with filters and
//! pages, one alert with its history, acknowledged; another tenant's ids are
//! 404 everywhere; every route in the OpenAPI document.

mod common;

use axum::http::{Method, StatusCode};
use common::*;
use serde_json::{json, Value};
use sqlx::PgPool;

fn attendance_rule(name: &str) -> Value {
    json!({"name": name, "condition": {"type": "attendance_below", "min_pct": 75},
           "audience": ["guardians", "class_teacher"], "channels": ["whatsapp", "email"], "urgency": "high"})
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn a_rule_is_created_read_listed_replaced_and_deleted(pool: PgPool) {
    let ctx = Ctx::new(pool).await;
    let key = Some(ctx.a.key.as_str());
    let (status, created) = ctx
        .req(
            Method::POST,
            "/v1/alert-rules",
            key,
            Some(attendance_rule("frequência")),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(
        created["condition"],
        json!({"type": "attendance_below", "min_pct": 75.0, "scope": "subject", "subjects": []})
    );
    assert!(
        created["template"]
            .as_str()
            .unwrap()
            .contains("{{ frequencia|decimal_br }}%"),
        "the default pt-BR template is stored"
    );
    assert_eq!(created["cooldown_secs"], 604800);

    // The first rule created the daily evaluation, in the tenant's zone.
    let (_, schedules) = ctx.req(Method::GET, "/v1/schedules", key, None).await;
    let s = &schedules["schedules"][0];
    assert_eq!(
        (s["kind"].clone(), s["cron"].clone(), s["timezone"].clone()),
        (
            json!("alerts.evaluate"),
            json!("0 0 6 * * *"),
            json!("America/Sao_Paulo")
        ),
        "{schedules}"
    );
    let (status, _) = ctx
        .req(
            Method::POST,
            "/v1/alert-rules",
            key,
            Some(attendance_rule("outra")),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, schedules) = ctx.req(Method::GET, "/v1/schedules", key, None).await;
    assert_eq!(
        schedules["schedules"].as_array().unwrap().len(),
        1,
        "one daily schedule per tenant"
    );

    let uri = format!("/v1/alert-rules/{}", created["id"].as_str().unwrap());
    let (status, shown) = ctx.req(Method::GET, &uri, key, None).await;
    assert_eq!(
        (status, shown["name"].clone()),
        (StatusCode::OK, json!("frequência"))
    );
    let (_, list) = ctx.req(Method::GET, "/v1/alert-rules", key, None).await;
    assert_eq!(list["rules"].as_array().unwrap().len(), 2);

    let mut edit = attendance_rule("frequência");
    edit["template"] = json!("{{ aluno }}: {{ frequencia|decimal_br }}% em {{ disciplina }}");
    edit["enabled"] = json!(false);
    let (status, updated) = ctx.req(Method::PUT, &uri, key, Some(edit)).await;
    assert_eq!(
        (status, updated["enabled"].clone()),
        (StatusCode::OK, json!(false)),
        "{updated}"
    );

    let (status, err) = ctx
        .req(
            Method::POST,
            "/v1/alert-rules",
            key,
            Some(attendance_rule("outra")),
        )
        .await;
    assert_eq!(
        (status, err["error"].clone()),
        (StatusCode::CONFLICT, json!("alert_rule_name_taken"))
    );

    let (status, _) = ctx.req(Method::DELETE, &uri, key, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, err) = ctx.req(Method::GET, &uri, key, None).await;
    assert_eq!(
        (status, err["error"].clone()),
        (StatusCode::NOT_FOUND, json!("alert_rule_not_found"))
    );
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn a_bad_rule_is_a_422_naming_the_parameter(pool: PgPool) {
    let ctx = Ctx::new(pool).await;
    let cases = [
        (
            json!({"condition": {"type": "attendance_below", "min_pct": 120}}),
            "condition.min_pct",
        ),
        (
            json!({"condition": {"type": "any_of", "conditions": [{"type": "grade_below", "threshold": 5},
                               {"type": "falling_trend", "drop": 2, "last": 9}]}}),
            "condition.conditions[1].last",
        ),
        (
            json!({"condition": {"type": "attendance_below", "treshold": 3}}),
            "condition",
        ),
        (
            json!({"condition": {"type": "falling_trend", "drop": 2, "over": "weeks"}}),
            "condition",
        ),
        (
            json!({"template": "{{ aluno }} tirou {{ nota }}"}),
            "template",
        ),
        (json!({"template": "{{ aluno "}), "template"),
        (json!({"channels": []}), "channels"),
        (json!({"audience": ["diretor"]}), "audience[0]"),
        (json!({"name": ""}), "name"),
    ];
    for (patch, field) in cases {
        let mut body = attendance_rule("r");
        for (k, v) in patch.as_object().unwrap() {
            body[k] = v.clone();
        }
        let (status, err) = ctx
            .req(
                Method::POST,
                "/v1/alert-rules",
                Some(&ctx.a.key),
                Some(body),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{field}: {err}");
        assert!(
            err["details"]["field"].as_str().unwrap().starts_with(field),
            "{field}: {err}"
        );
    }
    let (_, list) = ctx
        .req(Method::GET, "/v1/alert-rules", Some(&ctx.a.key), None)
        .await;
    assert!(list["rules"].as_array().unwrap().is_empty());
}

/// Ana (72% in Matemática) and Bruno (80%) for tenant A, one rule, evaluated.
async fn evaluated(ctx: &Ctx) -> Value {
    let key = Some(ctx.a.key.as_str());
    let (status, _) = ctx.req(Method::POST, "/v1/academic/students", key, Some(json!([
        {"registration": "2026001", "name": "Ana Souza", "guardians": [{"name": "Maria", "email": "maria@example.com"}]},
        {"registration": "2026002", "name": "Bruno Lima", "guardians": [{"name": "Carla", "email": "carla@example.com"}]},
        {"registration": "2026003", "name": "Caio Reis", "guardians": [{"name": "Rosa"}]},
    ]))).await;
    assert_eq!(status, StatusCode::OK);
    let year = chrono::Datelike::year(&chrono::Utc::now());
    let (status, body) = ctx.req(Method::POST, "/v1/academic/attendance", key, Some(json!([
        {"registration": "2026001", "subject": "Matemática", "year": year, "term": 1, "classes_given": 100, "absences": 28},
        {"registration": "2026002", "subject": "Matemática", "year": year, "term": 1, "classes_given": 100, "absences": 20},
        {"registration": "2026003", "subject": "Matemática", "year": year, "term": 1, "classes_given": 100, "absences": 50},
    ]))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, rule) = ctx
        .req(
            Method::POST,
            "/v1/alert-rules",
            key,
            Some(attendance_rule("frequência")),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let out = jobs::kinds::alerts::run(
        &ctx.pool,
        &ctx.state.engine,
        ctx.a.id,
        &Default::default(),
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    assert_eq!(out.opened, 2);
    rule
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn alerts_are_listed_filtered_paged_and_acknowledged(pool: PgPool) {
    let ctx = Ctx::new(pool).await;
    let rule = evaluated(&ctx).await;
    let key = Some(ctx.a.key.as_str());
    let (status, page) = ctx
        .req(Method::GET, "/v1/alerts?status=open", key, None)
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["alerts"].as_array().unwrap().len(), 2);
    let (_, page) = ctx
        .req(Method::GET, "/v1/alerts?student=2026001", key, None)
        .await;
    let ana = page["alerts"][0].clone();
    assert_eq!(
        (
            ana["student_name"].clone(),
            ana["scope"].clone(),
            ana["details"]["frequencia"].clone()
        ),
        (json!("Ana Souza"), json!("matematica"), json!(72.0)),
        "{page}"
    );
    let (_, page) = ctx
        .req(
            Method::GET,
            &format!(
                "/v1/alerts?rule={}&student={}",
                rule["id"].as_str().unwrap(),
                ana["student_id"].as_str().unwrap()
            ),
            key,
            None,
        )
        .await;
    assert_eq!(page["alerts"].as_array().unwrap().len(), 1);
    let (_, page) = ctx
        .req(
            Method::GET,
            "/v1/alerts?since=2999-01-01T00:00:00Z",
            key,
            None,
        )
        .await;
    assert!(page["alerts"].as_array().unwrap().is_empty());

    // Pages of one.
    let (_, p1) = ctx.req(Method::GET, "/v1/alerts?limit=1", key, None).await;
    let cursor = p1["next_cursor"].as_str().expect("a second page");
    let (_, p2) = ctx
        .req(
            Method::GET,
            &format!("/v1/alerts?limit=1&cursor={cursor}"),
            key,
            None,
        )
        .await;
    assert_eq!(p2["alerts"].as_array().unwrap().len(), 1);
    assert_ne!(p1["alerts"][0]["id"], p2["alerts"][0]["id"]);
    assert!(p2["next_cursor"].is_null());
    let (status, _) = ctx
        .req(Method::GET, "/v1/alerts?status=maybe", key, None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Caio's guardian has no contact: recorded on his alert.
    let (_, caio) = ctx
        .req(Method::GET, "/v1/alerts?student=2026003", key, None)
        .await;
    assert_eq!(
        caio["alerts"][0]["unreachable"][0]["name"], "Rosa",
        "{caio}"
    );

    let uri = format!("/v1/alerts/{}", ana["id"].as_str().unwrap());
    let (status, acked) = ctx
        .req(
            Method::POST,
            &format!("{uri}/ack"),
            key,
            Some(json!({"by": "Coordenação"})),
        )
        .await;
    assert_eq!(
        (
            status,
            acked["status"].clone(),
            acked["acknowledged_by"].clone()
        ),
        (StatusCode::OK, json!("acknowledged"), json!("Coordenação")),
        "{acked}"
    );
    let (status, _) = ctx
        .req(Method::POST, &format!("{uri}/ack"), key, None)
        .await;
    assert_eq!(status, StatusCode::OK, "acknowledging twice is fine");
    let (_, shown) = ctx.req(Method::GET, &uri, key, None).await;
    let events: Vec<&str> = shown["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        events,
        vec!["opened", "notified", "acknowledged"],
        "{shown}"
    );
    let (_, page) = ctx
        .req(Method::GET, "/v1/alerts?status=acknowledged", key, None)
        .await;
    assert_eq!(page["alerts"].as_array().unwrap().len(), 1);
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn another_tenants_rules_and_alerts_are_404(pool: PgPool) {
    let ctx = Ctx::new(pool).await;
    let rule = evaluated(&ctx).await;
    let b = Some(ctx.b.key.as_str());
    let (_, page) = ctx
        .req(Method::GET, "/v1/alerts", Some(&ctx.a.key), None)
        .await;
    let alert = page["alerts"][0]["id"].as_str().unwrap().to_string();
    let rule_uri = format!("/v1/alert-rules/{}", rule["id"].as_str().unwrap());
    for (method, uri, body) in [
        (Method::GET, rule_uri.clone(), None),
        (Method::PUT, rule_uri.clone(), Some(attendance_rule("x"))),
        (Method::DELETE, rule_uri.clone(), None),
        (Method::GET, format!("/v1/alerts/{alert}"), None),
        (Method::POST, format!("/v1/alerts/{alert}/ack"), None),
        (Method::GET, "/v1/alerts/not-a-uuid".to_string(), None),
    ] {
        let (status, err) = ctx.req(method.clone(), &uri, b, body).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {uri}: {err}");
    }
    let (_, page) = ctx.req(Method::GET, "/v1/alerts", b, None).await;
    assert!(page["alerts"].as_array().unwrap().is_empty());
    let (_, rules) = ctx.req(Method::GET, "/v1/alert-rules", b, None).await;
    assert!(rules["rules"].as_array().unwrap().is_empty());
    // Still there for A.
    let (status, _) = ctx
        .req(Method::GET, &rule_uri, Some(&ctx.a.key), None)
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn every_academic_and_alert_route_is_in_the_openapi_document(pool: PgPool) {
    let ctx = Ctx::new(pool).await;
    let (status, doc) = ctx.req(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    for (path, method) in [
        ("/v1/academic/students", "post"),
        ("/v1/academic/classes", "post"),
        ("/v1/academic/grades", "post"),
        ("/v1/academic/attendance", "post"),
        ("/v1/academic/occurrences", "post"),
        ("/v1/alert-rules", "get"),
        ("/v1/alert-rules", "post"),
        ("/v1/alert-rules/{id}", "get"),
        ("/v1/alert-rules/{id}", "put"),
        ("/v1/alert-rules/{id}", "delete"),
        ("/v1/alerts", "get"),
        ("/v1/alerts/{id}", "get"),
        ("/v1/alerts/{id}/ack", "post"),
    ] {
        assert!(doc["paths"][path][method].is_object(), "{method} {path}");
    }
    assert!(
        doc["paths"]["/v1/academic/grades"]["post"]["requestBody"]["content"]["text/csv"]
            .is_object()
    );
    assert!(
        doc["components"]["schemas"]["alerts.evaluate"]["properties"]["student_ids"].is_object()
    );
    assert!(doc["components"]["schemas"]["Condition"].is_object());
}

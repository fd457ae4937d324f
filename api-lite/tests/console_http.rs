//! The console's guards over plain HTTP (no browser): unauthenticated pages
//! redirect and live JSON is 401, POSTs without the session's CSRF token are
//! 403 and change nothing; the audit trail at `GET /v1/audit`; `/metrics`
//! after a known workload.

mod common;
mod console_support;

use std::time::{Duration, Instant};

use axum::http::{header, Method, StatusCode};
use serde_json::json;
use sqlx::PgPool;

use jobs::engine::{JobStatus, NewJob};

use common::Ctx;
use console_support::*;

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn unauthenticated_and_csrf_less_requests_are_refused(pool: PgPool) {
    let ctx = Ctx::new(pool).await;
    ops_user(&ctx.state).await;
    for page in [
        "/console",
        "/console/queues/diag",
        "/console/workers",
        "/console/audit",
    ] {
        let r = raw(&ctx.app, get(page, None)).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{page}");
        assert_eq!(r.headers[header::LOCATION], "/console/login");
    }
    let r = raw(&ctx.app, get("/console/live/queues", None)).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = raw(&ctx.app, get("/console", Some("tarefa_console=forged"))).await;
    assert_eq!(
        r.status,
        StatusCode::SEE_OTHER,
        "an unknown session token is no session"
    );
    // An admin API key is for the JSON API, not the console.
    let r = raw(
        &ctx.app,
        common::request(Method::GET, "/console/live/queues", Some(&ctx.a.key), None),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    // Login: without the CSRF token 403, a wrong password 401.
    let r = raw(
        &ctx.app,
        post_form(
            "/console/login",
            None,
            &[("email", OPS_EMAIL), ("password", OPS_PASSWORD)],
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let form = raw(&ctx.app, get("/console/login", None)).await;
    let pre = set_cookie(&form.headers, "tarefa_login_csrf").unwrap();
    let r = raw(
        &ctx.app,
        post_form(
            "/console/login",
            Some(&pre),
            &[
                ("csrf", &csrf_in(&form.body)),
                ("email", OPS_EMAIL),
                ("password", "errada-errada"),
            ],
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(set_cookie(&r.headers, "tarefa_console").is_none());

    let (cookie, csrf) = login(&ctx.app).await;
    let set = raw(&ctx.app, get("/console/login", None)).await;
    assert!(set.headers[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .contains("HttpOnly; SameSite=Strict"));

    // Signed in, but no or a wrong CSRF token: 403 and the queue stays as it was.
    for form in [vec![], vec![("csrf", "0000")]] {
        let r = raw(
            &ctx.app,
            post_form("/console/queues/diag/pause", Some(&cookie), &form),
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = raw(
            &ctx.app,
            post_form(
                "/console/queues/diag/bulk",
                Some(&cookie),
                &[&form[..], &[("action", "delete"), ("scope", "all")]].concat(),
            ),
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
    }
    assert!(!ctx.state.engine.is_paused("diag").await.unwrap());
    // With it: done.
    let r = raw(
        &ctx.app,
        post_form(
            "/console/queues/diag/pause",
            Some(&cookie),
            &[("csrf", &csrf)],
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(ctx.state.engine.is_paused("diag").await.unwrap());
    let live = raw(&ctx.app, get("/console/live/queues", Some(&cookie))).await;
    assert_eq!(live.status, StatusCode::OK);
    assert!(live.body.contains(r#""paused":true"#), "{}", live.body);

    // Signing out ends the session.
    let r = raw(
        &ctx.app,
        post_form("/console/logout", Some(&cookie), &[("csrf", &csrf)]),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        raw(&ctx.app, get("/console", Some(&cookie))).await.status,
        StatusCode::SEE_OTHER
    );
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn json_ops_actions_land_in_the_audit_trail(pool: PgPool) {
    let ctx = Ctx::new(pool).await;
    let id = ctx.enqueue_noop(&ctx.a.key).await;
    let (s, _) = ctx
        .req(
            Method::DELETE,
            &format!("/v1/jobs/{id}"),
            Some(&ctx.a.key),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = ctx
        .req(
            Method::POST,
            &format!("/v1/jobs/{id}/retry"),
            Some(&ctx.a.key),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    let (s, _) = ctx
        .req(
            Method::POST,
            "/v1/queues/diag/pause",
            Some(&ctx.a.key),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = ctx
        .req(
            Method::POST,
            "/v1/queues/diag/resume",
            Some(&ctx.a.key),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);

    let (s, body) = ctx
        .req(Method::GET, "/v1/audit", Some(&ctx.a.key), None)
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let got: Vec<(String, String)> = body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_string(),
                e["target"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let (a, id_s) = (ctx.a.id.to_string(), id.clone());
    assert_eq!(
        got[..4],
        [
            ("resume".into(), "diag".into()),
            ("pause".into(), "diag".into()),
            ("retry".into(), id_s.clone()),
            ("cancel".into(), id_s)
        ]
    );
    assert!(body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["actor"] == format!("tenant:{a}") || e["actor"] == "cli"));
    // Tenant B sees none of A's entries; a key without admin is refused.
    let (_, body_b) = ctx
        .req(Method::GET, "/v1/audit", Some(&ctx.b.key), None)
        .await;
    assert!(body_b["entries"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["tenant_id"] == json!(ctx.b.id)));
    let reader = ctx.key(ctx.a.id, &["jobs:read"]).await;
    let (s, body) = ctx.req(Method::GET, "/v1/audit", Some(&reader), None).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{body}");
    let (s, _) = ctx.req(Method::GET, "/v1/audit", None, None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn metrics_after_a_known_workload(pool: PgPool) {
    let ctx = Ctx::new(pool).await;
    let t = ctx.a.id.to_string();
    let mut ok = Vec::new();
    for _ in 0..5 {
        ok.push(
            ctx.state
                .engine
                .push(NewJob::new("diag", "diag.noop", &t, json!({})))
                .await
                .unwrap()
                .id,
        );
    }
    let bad = vec![
        push_failing(&ctx.state, &t).await,
        push_failing(&ctx.state, &t).await,
    ];
    let worker = worker(&ctx.state, "diag");
    wait_status(&ctx.state, &ok, JobStatus::Succeeded).await;
    wait_status(&ctx.state, &bad, JobStatus::Dead).await;

    let want = [
        format!("tarefa_jobs_total{{queue=\"diag\",kind=\"diag.noop\",tenant=\"{t}\",outcome=\"succeeded\"}} 5\n"),
        format!("tarefa_jobs_total{{queue=\"diag\",kind=\"diag.sleep\",tenant=\"{t}\",outcome=\"dead\"}} 2\n"),
        "tarefa_queue_jobs{queue=\"diag\",state=\"dead\"} 2\n".to_string(),
        "tarefa_queue_jobs{queue=\"diag\",state=\"queued\"} 0\n".to_string(),
        "tarefa_workers_alive{queue=\"diag\"} 1\n".to_string(),
        "tarefa_job_run_seconds_count{queue=\"diag\",kind=\"diag.noop\"} 5\n".to_string(),
        "tarefa_job_wait_seconds_count{queue=\"diag\",kind=\"diag.sleep\"} 2\n".to_string(),
    ];
    // Workers flush their counters once a second: poll the scrape until it shows them.
    let deadline = Instant::now() + Duration::from_secs(10);
    let text = loop {
        let r = raw(&ctx.app, get("/metrics", None)).await;
        assert_eq!(r.status, StatusCode::OK);
        if want.iter().all(|w| r.body.contains(w.as_str())) || Instant::now() > deadline {
            break r.body;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    for w in &want {
        assert!(text.contains(w.as_str()), "missing {w:?} in\n{text}");
    }
    worker.stop().await;
    // The per-minute buckets behind the console's last-hour numbers and sparklines.
    let now_minute = chrono::Utc::now().timestamp() / 60;
    let minutes = ctx
        .state
        .engine
        .recent("diag", 60, now_minute)
        .await
        .unwrap();
    assert_eq!(minutes.len(), 60);
    let sum = |f: fn(&jobs::engine::stats::Minute) -> u64| minutes.iter().map(f).sum::<u64>();
    assert_eq!((sum(|m| m.succeeded), sum(|m| m.dead)), (5, 2));
    assert!(minutes.iter().any(|m| m.mean_wait_secs.is_some()));
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn the_request_traceparent_is_stored_on_the_job(pool: PgPool) {
    let ctx = Ctx::new(pool).await;
    let tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let req = axum::http::Request::builder()
        .method(Method::POST)
        .uri("/v1/jobs/diag.noop")
        .header("authorization", format!("Bearer {}", ctx.a.key))
        .header("content-type", "application/json")
        .header("traceparent", tp)
        .body(axum::body::Body::from(r#"{"payload":{}}"#))
        .unwrap();
    let (s, body) = ctx.call(req).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{body}");
    let id = body["id"].as_str().unwrap().to_string();
    let (_, job) = ctx
        .req(
            Method::GET,
            &format!("/v1/jobs/{id}"),
            Some(&ctx.a.key),
            None,
        )
        .await;
    assert_eq!(job["trace"], tp);
    // Without (or with a malformed) header the job starts a trace of its own.
    let other = ctx.enqueue_noop(&ctx.a.key).await;
    let (_, job) = ctx
        .req(
            Method::GET,
            &format!("/v1/jobs/{other}"),
            Some(&ctx.a.key),
            None,
        )
        .await;
    let own = job["trace"].as_str().unwrap();
    assert!(
        jobs::engine::trace::parse(own).is_some() && !own.contains("4bf92f35"),
        "{own}"
    );
    // The worker claims it with its trace (the claim reply carries it) and runs it.
    let worker = worker(&ctx.state, "diag");
    wait_status(&ctx.state, &[id], JobStatus::Succeeded).await;
    worker.stop().await;
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn cli_creates_ops_users_and_audits_key_changes(pool: PgPool) {
    use api_lite::cli::{execute, Command, KeysCmd};
    use api_lite::console::users::UsersCmd;
    let ctx = Ctx::new(pool).await;
    let short = UsersCmd::Create {
        email: "ops@tarefa.dev".into(),
        password: "curta".into(),
    };
    assert!(execute(Command::Users(short), &ctx.pool).await.is_err());
    let create = UsersCmd::Create {
        email: "Ops@Tarefa.dev".into(),
        password: OPS_PASSWORD.into(),
    };
    let out = execute(Command::Users(create), &ctx.pool).await.unwrap();
    assert!(out.contains(r#""email":"ops@tarefa.dev""#), "{out}");
    login(&ctx.app).await;

    let made = execute(
        Command::Keys(KeysCmd::Create {
            tenant: ctx.a.id,
            scopes: vec!["jobs:read".into()],
            name: "painel".into(),
            expires_at: None,
        }),
        &ctx.pool,
    )
    .await
    .unwrap();
    let id: uuid::Uuid = serde_json::from_str::<serde_json::Value>(&made).unwrap()["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    execute(Command::Keys(KeysCmd::Revoke { id }), &ctx.pool)
        .await
        .unwrap();
    let trail: Vec<(String, String)> = audit_actions(&ctx.state)
        .await
        .into_iter()
        .map(|(who, what, _)| (who, what))
        .collect();
    let want = [
        ("cli", "ops_user_set"),
        ("ops:ops@tarefa.dev", "login"),
        ("cli", "key_created"),
        ("cli", "key_revoked"),
    ];
    let tail: Vec<(&str, &str)> = trail[trail.len() - 4..]
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    assert_eq!(tail, want);
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn schedules_page_lists_each_schedule_in_its_zone_and_toggles_it(pool: PgPool) {
    let ctx = Ctx::new(pool).await;
    ops_user(&ctx.state).await;
    let (cookie, csrf) = login(&ctx.app).await;
    let mut ids = Vec::new();
    for (key, name, zone, enabled) in [
        (&ctx.a.key, "boletim semanal", "America/Sao_Paulo", true),
        (&ctx.b.key, "lembrete de aula", "Europe/Lisbon", false),
    ] {
        let body = json!({ "name": name, "cron": "0 30 7 * * Mon-Fri", "timezone": zone,
                           "kind": "diag.noop", "payload": {}, "enabled": enabled });
        let (s, created) = ctx
            .req(Method::POST, "/v1/schedules", Some(key), Some(body))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{created}");
        ids.push(created["id"].as_str().unwrap().to_string());
    }
    // As the scheduler would have: the next tick, 07:30 local on a Monday.
    sqlx::query("update schedules set next_run_at = '2030-01-07T10:30:00Z' where id = $1::uuid")
        .bind(&ids[0])
        .execute(&ctx.pool)
        .await
        .unwrap();

    let page = raw(&ctx.app, get("/console/schedules", Some(&cookie))).await;
    assert_eq!(page.status, StatusCode::OK);
    let a = row_with(&page.body, "boletim semanal");
    assert_eq!(a[1], ctx.a.id.to_string());
    assert_eq!(a[2], "0 30 7 * * Mon-Fri (America/Sao_Paulo)");
    assert_eq!((a[3].as_str(), a[4].as_str()), ("diag.noop", "enabled"));
    assert!(
        a[5].starts_with("07/01/2030 07:30"),
        "next run in São Paulo time: {}",
        a[5]
    );
    assert_eq!(a[6], "—", "never fired");
    assert!(a[7].contains(&format!("/console/schedules/{}/disable", ids[0])));
    assert!(
        a[8].contains("—"),
        "no outcome before the first tick: {}",
        a[8]
    );
    let b = row_with(&page.body, "lembrete de aula");
    assert_eq!(b[1], ctx.b.id.to_string());
    assert_eq!(b[2], "0 30 7 * * Mon-Fri (Europe/Lisbon)");
    assert_eq!(b[4], "disabled");
    assert!(b[7].contains(&format!("/console/schedules/{}/enable", ids[1])));

    // Disable the first from the page; the row says so and the action is audited.
    let r = raw(
        &ctx.app,
        post_form(
            &format!("/console/schedules/{}/disable", ids[0]),
            Some(&cookie),
            &[("csrf", &csrf)],
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = raw(&ctx.app, get("/console/schedules", Some(&cookie))).await;
    let a = row_with(&page.body, "boletim semanal");
    assert_eq!(a[4], "disabled");
    assert_eq!(a[5], "—", "a disabled schedule has no next run");
    assert!(audit_actions(&ctx.state)
        .await
        .iter()
        .any(|(_, action, d)| action == "schedule_disable" && d["schedule_id"] == ids[0]));
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn workers_page_shows_a_live_worker_and_its_running_job(pool: PgPool) {
    let ctx = Ctx::new(pool).await;
    ops_user(&ctx.state).await;
    let (cookie, _) = login(&ctx.app).await;
    let page = raw(&ctx.app, get("/console/workers", Some(&cookie))).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("<td>diag</td>"), "no worker yet");

    let worker = worker(&ctx.state, "diag");
    let id = ctx
        .state
        .engine
        .push(NewJob::new(
            "diag",
            "diag.sleep",
            &ctx.a.id.to_string(),
            json!({ "ms": 3000 }),
        ))
        .await
        .unwrap()
        .id;
    let deadline = Instant::now() + Duration::from_secs(10);
    let cells = loop {
        let page = raw(&ctx.app, get("/console/workers", Some(&cookie))).await;
        assert_eq!(page.status, StatusCode::OK);
        if page.body.contains(&id) {
            break row_with(&page.body, &id);
        }
        assert!(
            Instant::now() < deadline,
            "the running job never showed: {}",
            page.body
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(cells[1], "diag");
    assert!(cells[2].ends_with(" UTC"), "last heartbeat: {}", cells[2]);
    assert_eq!(cells[3], id);
    ctx.state.engine.cancel("diag", &id).await.unwrap();
    worker.stop().await;
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn tenants_page_counts_outcomes_per_tenant(pool: PgPool) {
    let ctx = Ctx::new(pool).await;
    ops_user(&ctx.state).await;
    let (cookie, _) = login(&ctx.app).await;
    let (a, b) = (ctx.a.id.to_string(), ctx.b.id.to_string());
    let ok_a = ctx.enqueue_noop(&ctx.a.key).await;
    let ok_b1 = ctx.enqueue_noop(&ctx.b.key).await;
    let ok_b2 = ctx.enqueue_noop(&ctx.b.key).await;
    let dead_a = push_failing(&ctx.state, &a).await;
    let worker = worker(&ctx.state, "diag");
    wait_status(&ctx.state, &[ok_a, ok_b1, ok_b2], JobStatus::Succeeded).await;
    wait_status(&ctx.state, &[dead_a], JobStatus::Dead).await;
    worker.stop().await;

    let page = raw(&ctx.app, get("/console/tenants", Some(&cookie))).await;
    assert_eq!(page.status, StatusCode::OK);
    // tenant, id, started, succeeded, retried, dead, cancelled, link
    let ra = row_with(&page.body, &format!("<td>{a}</td>"));
    assert_eq!(ra[0], "Escola Alfa");
    assert_eq!((ra[3].as_str(), ra[5].as_str()), ("1", "1"), "{ra:?}");
    assert!(
        ra[7].contains(&format!("status=dead&tenant={a}")),
        "{}",
        ra[7]
    );
    for page in ["outbox", "documents", "alerts"] {
        assert!(
            ra[7].contains(&format!(r#"href="/console/{page}?tenant={a}""#)),
            "{}",
            ra[7]
        );
    }
    let rb = row_with(&page.body, &format!("<td>{b}</td>"));
    assert_eq!(rb[0], "Escola Beta");
    assert_eq!((rb[3].as_str(), rb[5].as_str()), ("2", "0"), "{rb:?}");
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn notification_send_jobs_carry_the_request_traceparent(pool: PgPool) {
    let ctx = Ctx::new(pool).await;
    let tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let body = json!({"channel": "email", "recipient": "maria@example.com", "dedup_key": "tp:1",
                      "message": {"subject": "Aviso", "text": "Reunião de pais sexta às 19h"}});
    let req = axum::http::Request::builder()
        .method(Method::POST)
        .uri("/v1/notifications")
        .header("authorization", format!("Bearer {}", ctx.a.key))
        .header("content-type", "application/json")
        .header("traceparent", tp)
        .body(axum::body::Body::from(body.to_string()))
        .unwrap();
    let (s, body) = ctx.call(req).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{body}");
    let id = body["notifications"][0]["id"].as_str().unwrap();
    let job = ctx
        .state
        .engine
        .job("notifications", id)
        .await
        .unwrap()
        .expect("a notify.send job");
    assert_eq!(job.trace.as_deref(), Some(tp));
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn job_page_lists_each_failed_attempt(pool: PgPool) {
    let ctx = Ctx::new(pool).await;
    ops_user(&ctx.state).await;
    let (cookie, _) = login(&ctx.app).await;
    let mut job = jobs::engine::NewJob::new(
        "diag",
        "diag.sleep",
        &ctx.a.id.to_string(),
        serde_json::json!({ "ms": 0, "fail_times": 5 }),
    );
    job.max_attempts = 2;
    let id = ctx.state.engine.push(job).await.unwrap().id;
    let worker = worker(&ctx.state, "diag");
    wait_status(&ctx.state, std::slice::from_ref(&id), JobStatus::Dead).await;
    worker.stop().await;

    let page = raw(
        &ctx.app,
        get(&format!("/console/jobs/diag/{id}"), Some(&cookie)),
    )
    .await;
    assert_eq!(page.status, StatusCode::OK);
    let at = page.body.find("Failed attempts").expect("attempts table");
    let table = &page.body[at..];
    let first = row_with(table, "diag.sleep failing attempt 1 of 5");
    assert_eq!(
        (first[0].as_str(), first[2].as_str()),
        ("1", "error"),
        "{first:?}"
    );
    let second = row_with(table, "diag.sleep failing attempt 2 of 5");
    assert_eq!(
        (second[0].as_str(), second[2].as_str()),
        ("2", "attempts_exhausted"),
        "{second:?}"
    );
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn schedules_page_shows_the_last_ticks_outcome(pool: PgPool) {
    let ctx = Ctx::new(pool).await;
    ops_user(&ctx.state).await;
    let (cookie, _) = login(&ctx.app).await;
    let body =
        json!({ "name": "diario", "cron": "0 0 3 * * *", "kind": "diag.noop", "payload": {} });
    let (s, created) = ctx
        .req(Method::POST, "/v1/schedules", Some(&ctx.a.key), Some(body))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    // As the scheduler does for a tick: the job with the tick's deterministic id, then the cursor.
    let tick = chrono::DateTime::parse_from_rfc3339("2030-01-07T06:00:00Z").unwrap();
    let mut job = jobs::engine::NewJob::new("diag", "diag.noop", &ctx.a.id.to_string(), json!({}));
    job.id = Some(format!("cron-{id}-{}", tick.timestamp_millis()));
    let job_id = ctx.state.engine.push(job).await.unwrap().id;
    sqlx::query("update schedules set last_fired_at = $2 where id = $1::uuid")
        .bind(&id)
        .bind(tick)
        .execute(&ctx.pool)
        .await
        .unwrap();
    let page = raw(&ctx.app, get("/console/schedules", Some(&cookie))).await;
    assert!(row_with(&page.body, "diario")[8].contains("queued"));
    let worker = worker(&ctx.state, "diag");
    wait_status(
        &ctx.state,
        std::slice::from_ref(&job_id),
        JobStatus::Succeeded,
    )
    .await;
    worker.stop().await;
    let page = raw(&ctx.app, get("/console/schedules", Some(&cookie))).await;
    let row = row_with(&page.body, "diario");
    assert!(row[8].contains("succeeded"), "{row:?}");
}

/// Posts one sign-in attempt with a fresh login form; returns the response.
async fn sign_in(app: &axum::Router, email: &str, password: &str) -> Raw {
    let form = raw(app, get("/console/login", None)).await;
    let pre = set_cookie(&form.headers, "tarefa_login_csrf").unwrap();
    raw(
        app,
        post_form(
            "/console/login",
            Some(&pre),
            &[
                ("csrf", &csrf_in(&form.body)),
                ("email", email),
                ("password", password),
            ],
        ),
    )
    .await
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn repeated_failed_sign_ins_lock_the_e_mail_for_a_while(pool: PgPool) {
    use api_lite::console::session::{LOGIN_FAILURES_MAX, LOGIN_WINDOW_MINUTES};
    let ctx = Ctx::new(pool.clone()).await;
    ops_user(&ctx.state).await;
    // Failures older than the window, and failures before a successful
    // sign-in, do not count.
    for minutes_ago in [LOGIN_WINDOW_MINUTES + 1, LOGIN_WINDOW_MINUTES + 5] {
        for _ in 0..LOGIN_FAILURES_MAX {
            sqlx::query(
                "insert into audit_log (at, actor, action, target)
                 values (now() - make_interval(mins => $1::int), $2, 'login_failed', $3)",
            )
            .bind(minutes_ago as i32)
            .bind(format!("ops:{OPS_EMAIL}"))
            .bind(OPS_EMAIL)
            .execute(&pool)
            .await
            .unwrap();
        }
    }
    for _ in 0..LOGIN_FAILURES_MAX - 1 {
        let r = sign_in(&ctx.app, OPS_EMAIL, "errada").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    let ok = sign_in(&ctx.app, OPS_EMAIL, OPS_PASSWORD).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);

    // Ten failures in a row lock the e-mail, even for the right password;
    // another e-mail is not affected.
    for _ in 0..LOGIN_FAILURES_MAX {
        let r = sign_in(&ctx.app, OPS_EMAIL, "errada").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    let locked = sign_in(&ctx.app, OPS_EMAIL, OPS_PASSWORD).await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(set_cookie(&locked.headers, "tarefa_console").is_none());
    let retry_after: i64 = locked.headers[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        retry_after > 0 && retry_after <= LOGIN_WINDOW_MINUTES * 60,
        "{retry_after}"
    );
    assert!(
        locked.body.contains("too many failed sign-ins"),
        "{}",
        locked.body
    );
    let other = sign_in(&ctx.app, "someone@else.dev", "x").await;
    assert_eq!(other.status, StatusCode::UNAUTHORIZED);

    // Once the failures age out of the window the right password works again.
    sqlx::query("update audit_log set at = at - make_interval(mins => $1::int) where action = 'login_failed'")
        .bind(LOGIN_WINDOW_MINUTES as i32)
        .execute(&pool)
        .await
        .unwrap();
    let again = sign_in(&ctx.app, OPS_EMAIL, OPS_PASSWORD).await;
    assert_eq!(again.status, StatusCode::SEE_OTHER, "{}", again.body);
}

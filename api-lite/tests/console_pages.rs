//! The console's per-tenant pages over plain HTTP (no browser), on the real
//! PostgreSQL and Redis: the notification outbox by status (its `unknown`
//! rows first, recipients masked), documents (failed ones with their reason;
//! re-extract queues a job, moves the document and is audited), academic
//! alerts (by rule and status; ack moves an alert and is audited). Each page
//! needs a session, each action its CSRF token, and user text is escaped.

mod common;
mod console_support;

use axum::http::{header, StatusCode};
use sqlx::PgPool;
use uuid::Uuid;

use jobs::engine::JobStatus;

use common::Ctx;
use console_support::*;

/// A signed-in session: (cookie, CSRF token).
async fn session(ctx: &Ctx) -> (String, String) {
    ops_user(&ctx.state).await;
    login(&ctx.app).await
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn the_new_pages_and_actions_need_a_session(pool: PgPool) {
    let ctx = Ctx::new(pool).await;
    for page in ["/console/outbox", "/console/documents", "/console/alerts"] {
        let r = raw(&ctx.app, get(page, None)).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{page}");
        assert_eq!(r.headers[header::LOCATION], "/console/login");
    }
    let id = Uuid::now_v7();
    for action in [
        format!("/console/documents/{id}/reextract"),
        format!("/console/alerts/{id}/ack"),
    ] {
        let r = raw(&ctx.app, post_form(&action, None, &[("csrf", "x")])).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{action}");
        assert_eq!(r.headers[header::LOCATION], "/console/login");
    }
    // Signed in, the nav links to them.
    let (cookie, _) = session(&ctx).await;
    let page = raw(&ctx.app, get("/console", Some(&cookie))).await;
    for link in [
        r#"href="/console/outbox""#,
        r#"href="/console/documents""#,
        r#"href="/console/alerts""#,
    ] {
        assert!(page.body.contains(link), "{link} in the nav");
    }
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn outbox_page_lists_a_tenants_rows_by_status_unknown_first(pool: PgPool) {
    let ctx = Ctx::new(pool).await;
    let (cookie, _) = session(&ctx).await;
    let st = &ctx.state;
    let unknown = outbox_row(
        st,
        ctx.a.id,
        "aviso-<b>1</b>",
        "maria.souza@example.com",
        "unknown",
        Some("provider timed out after 30 s"),
    )
    .await;
    let sent = outbox_row(st, ctx.a.id, "aviso-2", "joao@example.com", "sent", None).await;
    let queued = outbox_row(st, ctx.a.id, "aviso-3", "ana@example.com", "queued", None).await;
    let other = outbox_row(
        st,
        ctx.b.id,
        "aviso-b",
        "rosa@example.com",
        "unknown",
        Some("worker stopped during the provider call"),
    )
    .await;
    let (a, b) = (ctx.a.id, ctx.b.id);

    // No tenant chosen: the picker, no rows.
    let page = raw(&ctx.app, get("/console/outbox", Some(&cookie))).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Choose a tenant"), "{}", page.body);
    assert!(page
        .body
        .contains(&format!(r#"<option value="{a}">Escola Alfa"#)));
    assert!(!page.body.contains(&unknown.to_string()));

    // Tenant A opens on `unknown`: only its unknown row, reason shown, recipient masked, key escaped.
    let page = raw(
        &ctx.app,
        get(&format!("/console/outbox?tenant={a}"), Some(&cookie)),
    )
    .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(r#"class="on" id="tab-unknown""#));
    let row = row_with(&page.body, &unknown.to_string());
    // created, id, channel, recipient, dedup key, status, attempts, provider id, last error, updated
    assert_eq!(
        (row[2].as_str(), row[5].as_str(), row[6].as_str()),
        ("email", "unknown", "1"),
        "{row:?}"
    );
    assert_eq!(row[3], "•••••om");
    assert_eq!(row[4], "aviso-&lt;b&gt;1&lt;/b&gt;");
    assert_eq!(row[8], "provider timed out after 30 s");
    assert!(row[1].contains(&format!("/console/jobs/notifications/{unknown}")));
    assert!(!page.body.contains("maria.souza"), "recipients are masked");
    assert!(!page.body.contains("<b>1</b>"), "user text is escaped");
    for absent in [sent, queued, other] {
        assert!(!page.body.contains(&absent.to_string()), "{absent} listed");
    }

    // `sent` lists the sent row with its provider id, not the unknown one.
    let page = raw(
        &ctx.app,
        get(
            &format!("/console/outbox?tenant={a}&status=sent"),
            Some(&cookie),
        ),
    )
    .await;
    let row = row_with(&page.body, &sent.to_string());
    assert_eq!((row[5].as_str(), row[7].as_str()), ("sent", "msg-0001"));
    assert!(!page.body.contains(&unknown.to_string()));
    // `all` lists A's three rows; another channel none.
    let page = raw(
        &ctx.app,
        get(
            &format!("/console/outbox?tenant={a}&status=all"),
            Some(&cookie),
        ),
    )
    .await;
    for id in [unknown, sent, queued] {
        assert!(page.body.contains(&id.to_string()), "{id} in all");
    }
    assert!(!page.body.contains(&other.to_string()));
    let page = raw(
        &ctx.app,
        get(
            &format!("/console/outbox?tenant={a}&status=all&channel=sms"),
            Some(&cookie),
        ),
    )
    .await;
    assert!(page.body.contains(r#"id="empty""#) && !page.body.contains(&unknown.to_string()));
    // Tenant B sees its own unknown row only.
    let page = raw(
        &ctx.app,
        get(&format!("/console/outbox?tenant={b}"), Some(&cookie)),
    )
    .await;
    assert_eq!(
        row_with(&page.body, &other.to_string())[8],
        "worker stopped during the provider call"
    );
    assert!(!page.body.contains(&unknown.to_string()));

    // Bad filters.
    for (uri, status) in [
        (
            format!("/console/outbox?tenant={a}&status=lost"),
            StatusCode::BAD_REQUEST,
        ),
        (
            format!("/console/outbox?tenant={a}&channel=fax"),
            StatusCode::BAD_REQUEST,
        ),
        (
            format!("/console/outbox?tenant={}", Uuid::now_v7()),
            StatusCode::NOT_FOUND,
        ),
        (
            "/console/outbox?tenant=escola".to_string(),
            StatusCode::NOT_FOUND,
        ),
    ] {
        assert_eq!(
            raw(&ctx.app, get(&uri, Some(&cookie))).await.status,
            status,
            "{uri}"
        );
    }
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn documents_page_shows_failure_reasons_and_re_extract_queues_a_job(pool: PgPool) {
    let ctx = Ctx::new(pool).await;
    let (cookie, csrf) = session(&ctx).await;
    let st = &ctx.state;
    let failed = document(
        st,
        ctx.a.id,
        "boletim <i>2024</i>.pdf",
        Some(("encrypted", "the PDF is password-protected")),
    )
    .await;
    let waiting = document(st, ctx.a.id, "historico.pdf", None).await;
    let other = document(st, ctx.b.id, "outro.pdf", Some(("not_pdf", "not a PDF"))).await;
    let a = ctx.a.id;

    let page = raw(
        &ctx.app,
        get(&format!("/console/documents?tenant={a}"), Some(&cookie)),
    )
    .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(r#"class="on" id="tab-failed""#));
    let row = row_with(&page.body, &failed.id.to_string());
    // uploaded, file, type, status, runs, reason, job, re-extract
    assert_eq!(
        row[1],
        format!("boletim &lt;i&gt;2024&lt;/i&gt;.pdf<br>{}", failed.id)
    );
    assert_eq!(
        (row[3].as_str(), row[4].as_str(), row[5].as_str()),
        ("failed", "1", "encrypted: the PDF is password-protected")
    );
    let old_job = failed.job_id.clone().unwrap();
    assert!(row[6].contains(&format!("/console/jobs/documents/{old_job}")));
    assert!(row[7].contains(&format!("/console/documents/{}/reextract", failed.id)));
    assert!(
        !page.body.contains(&waiting.id.to_string()),
        "queued is not failed"
    );
    assert!(!page.body.contains(&other.id.to_string()), "tenant B's");
    assert!(!page.body.contains("<i>2024</i>"));

    let reextract = format!("/console/documents/{}/reextract", failed.id);
    let a_s = a.to_string();
    let reload = || jobs::kinds::documents::sql::get(&ctx.pool, a, failed.id);
    // Without the CSRF token, or for another tenant: refused, nothing queued.
    let r = raw(
        &ctx.app,
        post_form(&reextract, Some(&cookie), &[("tenant", &a_s)]),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let b_s = ctx.b.id.to_string();
    let r = raw(
        &ctx.app,
        post_form(
            &reextract,
            Some(&cookie),
            &[("csrf", &csrf), ("tenant", &b_s)],
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(reload().await.unwrap().unwrap().status, "failed");
    assert_eq!(
        ctx.state.engine.counts("documents").await.unwrap().queued,
        0
    );

    // With it: a new documents.extract job owns the document, now queued again.
    let r = raw(
        &ctx.app,
        post_form(
            &reextract,
            Some(&cookie),
            &[("csrf", &csrf), ("tenant", &a_s), ("status", "failed")],
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let back = r.headers[header::LOCATION].to_str().unwrap().to_string();
    assert!(back.starts_with(&format!(
        "/console/documents?tenant={a}&status=failed&done="
    )));
    let now = reload().await.unwrap().unwrap();
    let new_job = now.job_id.clone().unwrap();
    assert_eq!(now.status, "queued");
    assert_ne!(new_job, old_job);
    assert_eq!((now.error_code, now.error_message), (None, None));
    let job = ctx
        .state
        .engine
        .job("documents", &new_job)
        .await
        .unwrap()
        .expect("the new extraction job");
    assert_eq!(
        (job.kind.as_str(), job.status),
        ("documents.extract", JobStatus::Queued)
    );
    assert_eq!(job.tenant, a_s);
    assert_eq!(job.payload["document_id"], failed.id.to_string());
    let audited = audit_actions(&ctx.state).await;
    let (who, _, details) = audited
        .iter()
        .find(|(_, action, _)| action == "document_reextract")
        .expect("an audit row");
    assert_eq!(who, "ops:ops@tarefa.dev");
    assert_eq!(details["job_id"], new_job.as_str());
    assert_eq!(details["previous_status"], "failed");

    // Back on the page: the flash; the document left `failed` for `queued`.
    let page = raw(&ctx.app, get(&back, Some(&cookie))).await;
    assert!(
        page.body.contains(&format!(
            r#"id="flash">re-extracting boletim &lt;i&gt;2024&lt;/i&gt;.pdf (job {new_job})"#
        )),
        "{}",
        page.body
    );
    assert!(!page.body.contains(&failed.id.to_string()));
    let page = raw(
        &ctx.app,
        get(
            &format!("/console/documents?tenant={a}&status=queued"),
            Some(&cookie),
        ),
    )
    .await;
    assert!(
        page.body.contains(&failed.id.to_string()) && page.body.contains(&waiting.id.to_string())
    );
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn alerts_page_filters_by_rule_and_status_and_ack_moves_an_alert(pool: PgPool) {
    let ctx = Ctx::new(pool).await;
    let (cookie, csrf) = session(&ctx).await;
    let (freq, critical) = alerts_of_a(&ctx).await;
    let a = ctx.a.id;
    let ana = alert_id(&ctx, freq, "2026001").await;

    // Open alerts of every rule: five, Bruno none; the name with markup escaped.
    let page = raw(
        &ctx.app,
        get(&format!("/console/alerts?tenant={a}"), Some(&cookie)),
    )
    .await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.body.matches(r#"id="ack-"#).count(), 5, "{}", page.body);
    assert!(!page.body.contains("Bruno Lima"));
    assert!(page.body.contains("Dora &lt;b&gt;Reis&lt;/b&gt; (2026004)"));
    assert!(!page.body.contains("<b>Reis</b>"));
    let row = row_with(&page.body, &format!("ack-{ana}"));
    // opened, rule, student, scope, status, episode, details, acknowledged, ack
    assert_eq!(
        (
            row[1].as_str(),
            row[2].as_str(),
            row[3].as_str(),
            row[4].as_str()
        ),
        ("frequência", "Ana Souza (2026001)", "matematica", "open")
    );
    assert!(row[6].contains("72"), "what the rule saw: {}", row[6]);

    // One rule: Caio and Dora only.
    let page = raw(
        &ctx.app,
        get(
            &format!("/console/alerts?tenant={a}&rule={critical}"),
            Some(&cookie),
        ),
    )
    .await;
    assert_eq!(page.body.matches(r#"id="ack-"#).count(), 2);
    assert!(page.body.contains("Caio Reis (2026003)") && !page.body.contains("Ana Souza"));
    assert!(page
        .body
        .contains(&format!(r#"<option value="{critical}" selected>"#)));

    // Ack: refused without the CSRF token or for another tenant.
    let uri = format!("/console/alerts/{ana}/ack");
    let (a_s, b_s) = (a.to_string(), ctx.b.id.to_string());
    let r = raw(
        &ctx.app,
        post_form(&uri, Some(&cookie), &[("tenant", &a_s)]),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = raw(
        &ctx.app,
        post_form(&uri, Some(&cookie), &[("csrf", &csrf), ("tenant", &b_s)]),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let get_ana = || jobs::kinds::alerts::sql::get_alert(&ctx.pool, a, ana);
    assert_eq!(get_ana().await.unwrap().unwrap().status, "open");

    let r = raw(
        &ctx.app,
        post_form(
            &uri,
            Some(&cookie),
            &[
                ("csrf", &csrf),
                ("tenant", &a_s),
                ("rule", ""),
                ("status", "open"),
            ],
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let back = r.headers[header::LOCATION].to_str().unwrap().to_string();
    let acked = get_ana().await.unwrap().unwrap();
    assert_eq!(acked.status, "acknowledged");
    assert_eq!(acked.acknowledged_by.as_deref(), Some("ops:ops@tarefa.dev"));
    let history = jobs::kinds::alerts::sql::alert_events(&ctx.pool, a, ana)
        .await
        .unwrap();
    assert_eq!(history.last().unwrap().event, "acknowledged");
    let audited = audit_actions(&ctx.state).await;
    let (who, _, details) = audited
        .iter()
        .find(|(_, action, _)| action == "alert_ack")
        .expect("an audit row");
    assert_eq!(who, "ops:ops@tarefa.dev");
    assert_eq!(
        (details["result"].as_str(), details["rule"].as_str()),
        (Some("acknowledged"), Some("frequência"))
    );

    // Open no longer lists it; acknowledged does, with who.
    let page = raw(&ctx.app, get(&back, Some(&cookie))).await;
    assert!(
        page.body
            .contains(r#"id="flash">acknowledged: frequência — Ana Souza"#),
        "{}",
        page.body
    );
    assert_eq!(page.body.matches(r#"id="ack-"#).count(), 4);
    assert!(!page.body.contains("Ana Souza (2026001)"));
    let page = raw(
        &ctx.app,
        get(
            &format!("/console/alerts?tenant={a}&status=acknowledged"),
            Some(&cookie),
        ),
    )
    .await;
    let row = row_with(&page.body, "Ana Souza (2026001)");
    assert_eq!(row[4], "acknowledged");
    assert!(row[7].starts_with("ops:ops@tarefa.dev · "), "{}", row[7]);
    assert_eq!(row[8], "", "no ack button on an acknowledged alert");

    // A resolved alert has nothing to acknowledge: 409, nothing audited.
    let caio = alert_id(&ctx, critical, "2026003").await;
    sqlx::query("update alerts set status = 'resolved', resolved_at = now() where id = $1")
        .bind(caio)
        .execute(&ctx.pool)
        .await
        .unwrap();
    let r = raw(
        &ctx.app,
        post_form(
            &format!("/console/alerts/{caio}/ack"),
            Some(&cookie),
            &[("csrf", &csrf), ("tenant", &a_s)],
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let acks = audit_actions(&ctx.state)
        .await
        .iter()
        .filter(|(_, action, _)| action == "alert_ack")
        .count();
    assert_eq!(acks, 1);
    assert_eq!(
        raw(
            &ctx.app,
            get(
                &format!("/console/alerts?tenant={a}&rule=frequencia"),
                Some(&cookie)
            )
        )
        .await
        .status,
        StatusCode::BAD_REQUEST
    );
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn payments_page_opens_on_the_ones_that_need_review(pool: PgPool) {
    let ctx = Ctx::new(pool).await;
    let r = raw(&ctx.app, get("/console/payments", None)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let (cookie, _) = session(&ctx).await;
    let insert = |tenant: Uuid,
                  status: &'static str,
                  reference: &'static str,
                  why: Option<&'static str>| {
        let pool = ctx.pool.clone();
        async move {
            sqlx::query(
                "insert into payments (id, tenant_id, request_hash, amount_cents, currency, reference, status, failure_message) \
                 values ($1, $2, 'h', 123456, 'brl', $3, $4, $5)",
            )
            .bind(Uuid::now_v7())
            .bind(tenant)
            .bind(reference)
            .bind(status)
            .bind(why)
            .execute(&pool)
            .await
            .unwrap();
        }
    };
    insert(
        ctx.a.id,
        "needs_review",
        "sessao-<i>9</i>",
        Some("idempotency_error — keys reused"),
    )
    .await;
    insert(ctx.a.id, "succeeded", "sessao-ok", None).await;
    insert(
        ctx.b.id,
        "needs_review",
        "sessao-beta",
        Some("outcome unknown"),
    )
    .await;
    let page = raw(
        &ctx.app,
        get(
            &format!("/console/payments?tenant={}", ctx.a.id),
            Some(&cookie),
        ),
    )
    .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("sessao-&lt;i&gt;9&lt;/i&gt;"),
        "escaped: {}",
        page.body
    );
    assert!(page.body.contains("R$ 1.234,56"));
    assert!(page.body.contains("keys reused"));
    assert!(
        !page.body.contains("sessao-ok"),
        "succeeded is not on the review tab"
    );
    assert!(
        !page.body.contains("sessao-beta"),
        "another tenant's payment"
    );
    let all = raw(
        &ctx.app,
        get(
            &format!("/console/payments?tenant={}&status=all", ctx.a.id),
            Some(&cookie),
        ),
    )
    .await;
    assert!(all.body.contains("sessao-ok"));
    let bad = raw(
        &ctx.app,
        get("/console/payments?status=paid", Some(&cookie)),
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let home = raw(&ctx.app, get("/console", Some(&cookie))).await;
    assert!(home.body.contains(r#"href="/console/payments""#));
}

//! Campaigns end to end against real PostgreSQL and Redis, in-process
//! workers, and the WhatsApp Cloud API fake (its own throughput limit,
//! errors injected per phone, signed status webhooks): previews and their
//! exclusions, the state machine, each Meta error code, the quality guard,
//! statuses that never move backwards, stop words, pause/resume with no
//! duplicate, and chunks (a re-run after a crash, a throttle midway).

mod campaigns_common;

use campaigns_common::*;
use jobs::kinds::campaigns::lifecycle::CampaignError;
use jobs::kinds::campaigns::model::Audience;
use jobs::kinds::campaigns::{audience, contacts, inbound};
use jobs::testing::eventually;
use jobs::testing::whatsapp::{message_payload, status_payload, PhoneFault};
use serde_json::json;
use sqlx::PgPool;

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn campaigns_preview_counts_exclusions_and_sends_each_contact_once(pool: PgPool) {
    let bed = bed(pool.clone()).await;
    let mut rows: Vec<_> = (0..20).map(|i| contact(i, &["vip"])).collect();
    rows[1].blocked = true;
    rows[2].opted_out_at = Some(chrono::Utc::now());
    rows[3].marketing_opt_out = true;
    rows[4].phone = "(11) 1234".into();
    rows[5].phone = rows[6].phone.clone(); // c6 duplicates c5's phone: the older (c5) keeps it
    rows[7].tags = vec!["other".into()];
    add_contacts(&bed, rows).await;
    let mut input = input(50);
    input.audience = Audience::Tags {
        any_of: vec!["vip".into()],
        all_of: vec![],
        none_of: vec![],
    };
    let c = campaign(&bed, &input).await;
    let preview = audience::count(&pool, bed.tenant, &input.audience, true)
        .await
        .unwrap();
    assert_eq!(preview.matched, 19);
    assert_eq!(preview.eligible, 14);
    for r in [
        "blocked",
        "opted_out",
        "marketing_opt_out",
        "invalid_phone",
        "duplicate_phone",
    ] {
        assert_eq!(preview.excluded[r], 1, "{r}: {preview:?}");
    }
    callbacks(&bed, vec!["sent", "delivered", "read"]).await;
    let w = bed.worker("campaigns", 8);
    let started = act(&bed, c.id, "start").await.unwrap();
    assert_eq!(started.recipients_count, 14);
    // Contacts added after the start are not sent to.
    add_contacts(&bed, vec![contact(100, &["vip"])]).await;
    wait_state(&bed, c.id, "completed").await;
    let accepted = bed.fakes.whatsapp_accepted();
    assert_eq!(accepted.len(), 14);
    assert!(accepted.values().all(|n| *n == 1), "{accepted:?}");
    assert!(!accepted.contains_key(&digits(100)));
    // Every status webhook lands; read is final.
    eventually(|| async { Some(counts(&pool, c.id).await) })
        .until(|m| m.get("read") == Some(&14))
        .await;
    let body = &bed.fakes.seen("whatsapp")[0].body;
    let v: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(v["template"]["name"], "promo");
    assert_eq!(
        v["template"]["components"][0]["parameters"][0]["text"],
        "Cliente"
    );
    // One outbox row per contact, with the campaign's dedup key.
    let keys: i64 =
        sqlx::query_scalar("select count(*) from notifications where dedup_key like $1")
            .bind(format!("campaign:{}:%", c.id))
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(keys, 14);
    w.stop().await;
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn campaigns_state_machine_refuses_moves_naming_the_state(pool: PgPool) {
    let bed = bed(pool.clone()).await;
    add_contacts(&bed, (0..5).map(|i| contact(i, &[])).collect()).await;
    let c = campaign(&bed, &input(10)).await;
    assert_eq!(c.state, "draft");
    assert!(matches!(act(&bed, c.id, "pause").await, Err(CampaignError::State(s)) if s == "draft"));
    assert!(
        matches!(act(&bed, c.id, "resume").await, Err(CampaignError::State(s)) if s == "draft")
    );
    // No start time: cannot be scheduled.
    assert!(
        matches!(act(&bed, c.id, "schedule").await, Err(CampaignError::Invalid(f)) if f.path == "start_at")
    );
    let mut later = input(10);
    later.start_at = Some(chrono::Utc::now() + chrono::Duration::hours(2));
    let s = campaign(&bed, &later).await;
    assert_eq!(
        act(&bed, s.id, "schedule").await.unwrap().state,
        "scheduled"
    );
    assert!(
        matches!(act(&bed, s.id, "schedule").await, Err(CampaignError::State(s)) if s == "scheduled")
    );
    assert_eq!(act(&bed, s.id, "cancel").await.unwrap().state, "cancelled");
    assert!(
        matches!(act(&bed, s.id, "resume").await, Err(CampaignError::State(s)) if s == "cancelled")
    );

    // No worker: the recipients wait as queued/dispatched.
    assert_eq!(act(&bed, c.id, "start").await.unwrap().state, "running");
    assert!(
        matches!(act(&bed, c.id, "start").await, Err(CampaignError::State(s)) if s == "running")
    );
    assert_eq!(act(&bed, c.id, "pause").await.unwrap().state, "paused");
    assert!(
        matches!(act(&bed, c.id, "pause").await, Err(CampaignError::State(s)) if s == "paused")
    );
    assert_eq!(act(&bed, c.id, "resume").await.unwrap().state, "running");
    let done = act(&bed, c.id, "cancel").await.unwrap();
    assert_eq!(done.state, "cancelled");
    assert!(done.finished_at.is_some());
    assert_eq!(counts(&pool, c.id).await.get("cancelled"), Some(&5));
    assert!(
        matches!(act(&bed, c.id, "start").await, Err(CampaignError::State(s)) if s == "cancelled")
    );
    // Another tenant's campaign is not found.
    let other = jobs::testing::create_tenant(&pool, "Outra Loja").await;
    let r =
        jobs::kinds::campaigns::lifecycle::act(&pool, &bed.engine, other.id, c.id, "pause").await;
    assert!(matches!(r, Err(CampaignError::NotFound)));
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn campaigns_bad_input_names_the_field(pool: PgPool) {
    let bed = bed(pool.clone()).await;
    let create = |i: jobs::kinds::campaigns::model::CampaignInput| {
        let pool = pool.clone();
        let t = bed.tenant;
        async move {
            match jobs::kinds::campaigns::lifecycle::create(&pool, t, &i).await {
                Err(CampaignError::Invalid(f)) => f.path,
                other => panic!("expected a field error, got {other:?}"),
            }
        }
    };
    // Empty audience first (no contacts yet).
    assert_eq!(create(input(10)).await, "audience");
    add_contacts(&bed, vec![contact(0, &[])]).await;
    let mut i = input(10);
    i.template = "nao_registrado".into();
    assert_eq!(create(i).await, "template");
    let mut i = input(10);
    i.parameters.insert(
        "nome".into(),
        serde_json::from_value(json!({"source": "name"})).unwrap(),
    );
    assert_eq!(create(i).await, "parameters.nome");
    let mut i = input(10);
    i.start_at = Some(chrono::Utc::now() - chrono::Duration::minutes(5));
    assert_eq!(create(i).await, "start_at");
    assert_eq!(create(input(81)).await, "rate_per_second");
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn campaigns_meta_error_codes_each_get_their_handling(pool: PgPool) {
    let mut bed = bed(pool.clone()).await;
    bed.settings.campaigns.quality_window = 0;
    add_contacts(&bed, (0..12).map(|i| contact(i, &[])).collect()).await;
    bed.fakes
        .whatsapp_fault(&digits(1), PhoneFault::Sync(131026));
    bed.fakes
        .whatsapp_fault(&digits(2), PhoneFault::Sync(131049));
    bed.fakes
        .whatsapp_fault(&digits(3), PhoneFault::Sync(131050));
    bed.fakes
        .whatsapp_fault(&digits(4), PhoneFault::Async(131026));
    callbacks(&bed, vec!["sent", "delivered"]).await;
    // The number's own limit: 2/s against a campaign asking 20/s → 130429s.
    bed.fakes.whatsapp_throughput(2);
    let c = campaign(&bed, &input(20)).await;
    let w = bed.worker("campaigns", 8);
    act(&bed, c.id, "start").await.unwrap();
    // Everyone but the deferred one gets a final status; the campaign waits for the deferred.
    let m = eventually(|| async { Some(counts(&pool, c.id).await) })
        .until(|m| {
            m.get("deferred") == Some(&1)
                && m.get("failed") == Some(&3)
                && m.get("delivered") == Some(&8)
        })
        .await;
    assert_eq!(m.values().sum::<i64>(), 12, "{m:?}");
    assert_eq!(recipient(&pool, c.id, 1).await.2, Some(131026));
    assert_eq!(recipient(&pool, c.id, 2).await.0, "deferred");
    let (st, _, code) = recipient(&pool, c.id, 3).await;
    assert_eq!((st.as_str(), code), ("failed", Some(131050)));
    assert!(
        contacts::get(&pool, bed.tenant, "c3")
            .await
            .unwrap()
            .unwrap()
            .marketing_opt_out
    );
    assert_eq!(recipient(&pool, c.id, 4).await.2, Some(131026));
    assert!(
        bed.fakes.whatsapp_throttled() > 0,
        "the fake's limit was hit"
    );
    let c2 = state(&bed, c.id).await;
    assert!(
        c2.effective_rate < 20,
        "130429 lowered the rate: {}",
        c2.effective_rate
    );
    assert_eq!(c2.state, "running", "a deferred recipient keeps it running");
    let deferred_until: Option<chrono::DateTime<chrono::Utc>> = sqlx::query_scalar(
        "select deferred_until from campaign_recipients where campaign_id = $1 and status = 'deferred'",
    )
    .bind(c.id)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(deferred_until.unwrap() > chrono::Utc::now() + chrono::Duration::hours(23));
    // Each phone reached Meta's acceptance at most once.
    assert!(bed.fakes.whatsapp_accepted().values().all(|n| *n == 1));

    // 131048: the campaign pauses itself with the reason.
    let c3 = {
        add_contacts(&bed, (20..24).map(|i| contact(i, &["spam"])).collect()).await;
        let mut i = input(5);
        i.audience = Audience::Tags {
            any_of: vec!["spam".into()],
            all_of: vec![],
            none_of: vec![],
        };
        campaign(&bed, &i).await
    };
    bed.fakes.whatsapp_throughput(0);
    bed.fakes
        .whatsapp_fault(&digits(20), PhoneFault::Sync(131048));
    bed.fakes
        .whatsapp_fault(&digits(21), PhoneFault::Sync(131048));
    bed.fakes
        .whatsapp_fault(&digits(22), PhoneFault::Sync(131048));
    bed.fakes
        .whatsapp_fault(&digits(23), PhoneFault::Sync(131048));
    act(&bed, c3.id, "start").await.unwrap();
    let p = wait_state(&bed, c3.id, "paused").await;
    assert!(p.state_reason.unwrap().contains("131048"));
    w.stop().await;
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn campaigns_quality_guard_pauses_on_failures(pool: PgPool) {
    let mut bed = bed(pool.clone()).await;
    bed.settings.campaigns.quality_window = 10;
    bed.settings.campaigns.quality_min_sends = 5;
    add_contacts(&bed, (0..40).map(|i| contact(i, &[])).collect()).await;
    for i in 0..40 {
        if i % 2 == 0 {
            bed.fakes
                .whatsapp_fault(&digits(i), PhoneFault::Sync(131026));
        }
    }
    let c = campaign(&bed, &input(5)).await;
    let w = bed.worker("campaigns", 4);
    act(&bed, c.id, "start").await.unwrap();
    let p = wait_state(&bed, c.id, "paused").await;
    assert!(
        p.state_reason
            .as_deref()
            .unwrap()
            .starts_with("quality_guard"),
        "{p:?}"
    );
    w.stop().await;
    let m = counts(&pool, c.id).await;
    assert!(
        m.get("queued").copied().unwrap_or(0) > 0,
        "it stopped before the end: {m:?}"
    );
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn campaigns_statuses_never_move_backwards_and_stop_words_opt_out(pool: PgPool) {
    let bed = bed(pool.clone()).await;
    add_contacts(&bed, (0..3).map(|i| contact(i, &[])).collect()).await;
    let c = campaign(&bed, &input(10)).await;
    let w = bed.worker("campaigns", 2);
    act(&bed, c.id, "start").await.unwrap();
    wait_state(&bed, c.id, "completed").await;
    w.stop().await;
    let wamid: String = sqlx::query_scalar(
        "select r.wamid from campaign_recipients r join contacts c on c.id = r.contact_id where r.campaign_id = $1 and c.external_id = 'c0'",
    )
    .bind(c.id)
    .fetch_one(&pool)
    .await
    .unwrap();
    let to = digits(0);
    for st in ["read", "delivered", "sent", "failed"] {
        let code = (st == "failed").then_some(131026);
        inbound::handle(
            &pool,
            &status_payload("waba-1", SENDER, &wamid, &to, st, code),
        )
        .await
        .unwrap();
    }
    let (st, _, code) = recipient(&pool, c.id, 0).await;
    assert_eq!((st.as_str(), code), ("read", None), "read stays read");
    let (delivered, read): (
        Option<chrono::DateTime<chrono::Utc>>,
        Option<chrono::DateTime<chrono::Utc>>,
    ) = sqlx::query_as("select delivered_at, read_at from campaign_recipients where wamid = $1")
        .bind(&wamid)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(
        delivered.is_some() && read.is_some(),
        "the late delivered still records its time"
    );

    // A reply within 72 h counts; "Parar" opts the contact out; other words do not.
    let a = inbound::handle(
        &pool,
        &message_payload("waba-1", SENDER, &digits(1), "Obrigado!"),
    )
    .await
    .unwrap();
    assert_eq!((a.replies, a.opted_out), (1, 0));
    let a = inbound::handle(
        &pool,
        &message_payload("waba-1", SENDER, &digits(1), " parar "),
    )
    .await
    .unwrap();
    assert_eq!(a.opted_out, 1);
    let c1 = contacts::get(&pool, bed.tenant, "c1")
        .await
        .unwrap()
        .unwrap();
    assert!(c1.opted_out_at.is_some() && c1.marketing_opt_out);
    assert_eq!(c1.opt_out_source.as_deref(), Some("stop_word:parar"));
    // The next campaign excludes c1.
    let n = audience::count(&pool, bed.tenant, &Audience::All, true)
        .await
        .unwrap();
    assert_eq!((n.eligible, n.excluded["opted_out"]), (2, 1));
    // A product upsert that does not mention the opt-out does not clear it.
    add_contacts(&bed, vec![contact(1, &[])]).await;
    assert!(contacts::get(&pool, bed.tenant, "c1")
        .await
        .unwrap()
        .unwrap()
        .opted_out_at
        .is_some());
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn campaigns_pause_resume_repeatedly_sends_no_duplicate(pool: PgPool) {
    let bed = bed(pool.clone()).await;
    add_contacts(&bed, (0..300).map(|i| contact(i, &[])).collect()).await;
    let c = campaign(&bed, &input(60)).await;
    let w1 = bed.worker("campaigns", 8);
    let w2 = bed.worker("campaigns", 8);
    act(&bed, c.id, "start").await.unwrap();
    for round in 0..20 {
        let before = bed.fakes.whatsapp_accepted().len();
        // Let some go out, then pause.
        eventually(|| async { Some(bed.fakes.whatsapp_accepted().len()) })
            .until(|n| *n > before || *n == 300)
            .await;
        if act(&bed, c.id, "pause").await.is_err() {
            break; // completed
        }
        // Within the in-flight allowance, sends stop: nothing new once the handed-out jobs ran.
        eventually(|| async {
            let m = counts(&pool, c.id).await;
            Some(m.get("dispatched").copied().unwrap_or(0) + m.get("sending").copied().unwrap_or(0))
        })
        .until(|n| *n == 0)
        .await;
        let paused_at = bed.fakes.whatsapp_accepted().len();
        assert_eq!(state(&bed, c.id).await.state, "paused", "round {round}");
        assert_eq!(
            bed.fakes.whatsapp_accepted().len(),
            paused_at,
            "no send while paused"
        );
        act(&bed, c.id, "resume").await.unwrap();
    }
    wait_state(&bed, c.id, "completed").await;
    let accepted = bed.fakes.whatsapp_accepted();
    assert_eq!(accepted.len(), 300);
    assert!(
        accepted.values().all(|n| *n == 1),
        "a contact got two messages"
    );
    assert_eq!(counts(&pool, c.id).await.get("sent"), Some(&300));
    w1.stop().await;
    w2.stop().await;
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn campaigns_scheduled_start_freezes_and_sends_at_its_time(pool: PgPool) {
    let bed = bed(pool.clone()).await;
    add_contacts(&bed, (0..5).map(|i| contact(i, &[])).collect()).await;
    let mut i = input(20);
    let at = chrono::Utc::now() + chrono::Duration::seconds(2);
    i.start_at = Some(at);
    let c = campaign(&bed, &i).await;
    let w = bed.worker("campaigns", 4);
    assert_eq!(
        act(&bed, c.id, "schedule").await.unwrap().state,
        "scheduled"
    );
    // Nothing is frozen before the start.
    assert_eq!(counts(&pool, c.id).await.values().sum::<i64>(), 0);
    let done = wait_state(&bed, c.id, "completed").await;
    assert!(done.started_at.unwrap() >= at, "{done:?}");
    assert_eq!(done.recipients_count, 5);
    assert_eq!(bed.fakes.whatsapp_accepted().len(), 5);
    w.stop().await;
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn campaigns_messaging_limit_is_shared_by_the_tenants_campaigns(pool: PgPool) {
    let bed = bed(pool.clone()).await;
    sqlx::query("insert into campaign_settings (tenant_id, messaging_limit) values ($1, 250)")
        .bind(bed.tenant)
        .execute(&pool)
        .await
        .unwrap();
    add_contacts(&bed, (0..200).map(|i| contact(i, &["a"])).collect()).await;
    add_contacts(&bed, (200..400).map(|i| contact(i, &["b"])).collect()).await;
    let by_tag = |t: &str| {
        let mut i = input(80);
        i.audience = Audience::Tags {
            any_of: vec![t.into()],
            all_of: vec![],
            none_of: vec![],
        };
        i
    };
    let a = campaign(&bed, &by_tag("a")).await;
    let b = campaign(&bed, &by_tag("b")).await;
    let w = bed.worker("campaigns", 16);
    act(&bed, a.id, "start").await.unwrap();
    act(&bed, b.id, "start").await.unwrap();
    // 250 unique contacts in 24 h across both campaigns, then they wait.
    eventually(|| async {
        let (x, y) = (counts(&pool, a.id).await, counts(&pool, b.id).await);
        let get =
            |m: &std::collections::BTreeMap<String, i64>, k: &str| m.get(k).copied().unwrap_or(0);
        Some((
            get(&x, "sent") + get(&y, "sent"),
            get(&x, "queued") + get(&y, "queued"),
        ))
    })
    .until(|(sent, queued)| *sent == 250 && *queued == 150)
    .await;
    assert_eq!(bed.fakes.whatsapp_accepted().len(), 250);
    assert_eq!(state(&bed, a.id).await.state, "running");
    w.stop().await;
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn campaigns_outside_the_send_window_wait_for_it(pool: PgPool) {
    let bed = bed(pool.clone()).await;
    add_contacts(&bed, (0..3).map(|i| contact(i, &[])).collect()).await;
    // A one-hour window starting two hours from now (São Paulo time).
    use chrono::Timelike;
    let sp = jobs::store::tenants::parse_timezone("America/Sao_Paulo").unwrap();
    let local = chrono::Utc::now().with_timezone(&sp);
    let open = (local.hour() * 60 + local.minute() + 120) % 1440;
    let mut i = input(20);
    i.window_start = Some(format!("{:02}:{:02}", open / 60, open % 60));
    i.window_end = Some(format!(
        "{:02}:{:02}",
        (open + 60) % 1440 / 60,
        (open + 60) % 1440 % 60
    ));
    let c = campaign(&bed, &i).await;
    let w = bed.worker("campaigns", 4);
    let started = act(&bed, c.id, "start").await.unwrap();
    let id = format!("dispatch.{}.{}", c.id, started.dispatch_seq);
    let job = eventually(|| async { bed.engine.job("campaigns", &id).await.unwrap() })
        .until(|j| j.status == jobs::engine::JobStatus::Scheduled)
        .await;
    let wait = job.run_at - chrono::Utc::now();
    assert!(
        wait > chrono::Duration::minutes(100) && wait <= chrono::Duration::minutes(121),
        "{wait:?}"
    );
    assert_eq!(counts(&pool, c.id).await.get("queued"), Some(&3));
    assert!(bed.fakes.whatsapp_accepted().is_empty());
    w.stop().await;
}

/// Fairness where the worker, not the campaigns' rates, is the bottleneck:
/// tenant A's 400 sends are all queued (rate 200/s: chunks of 10) behind a
/// slow provider (100 ms a call, 2 worker slots ≈ 200 sends/s, less than the
/// two campaigns' 400/s) when tenant B starts 100.
/// First-in-first-out would finish A's backlog before B's first send; the
/// engine's per-tenant round-robin serves them alternately, so A sends
/// about as many as B while B runs.
#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn campaigns_of_two_tenants_share_a_worker_fairly(pool: PgPool) {
    let bed = bed(pool.clone()).await;
    let other = jobs::testing::create_tenant(&pool, "Loja Beta").await;
    jobs::kinds::notify::admin::put_channel(
        &pool,
        other.id,
        "whatsapp",
        &json!({"phone_number_id": "9998", "access_token_env": "TEST_WA_TOKEN"}),
        true,
    )
    .await
    .unwrap();
    let t: jobs::kinds::campaigns::model::TemplateInput = serde_json::from_value(json!({
        "name": "promo", "category": "marketing", "body": "Olá {{1}}, seu cupom é {{2}}",
        "parameters": ["first_name", "coupon"]}))
    .unwrap();
    jobs::kinds::campaigns::lifecycle::put_template(&pool, other.id, &t)
        .await
        .unwrap();
    add_contacts(&bed, (0..400).map(|i| contact(i, &[])).collect()).await;
    contacts::upsert(
        &pool,
        other.id,
        &(1000..1100).map(|i| contact(i, &[])).collect::<Vec<_>>(),
    )
    .await
    .unwrap();
    let fast = || {
        let mut i = input(200);
        i.throughput = 1000;
        i
    };
    let a = campaign(&bed, &fast()).await;
    let b = jobs::kinds::campaigns::lifecycle::create(&pool, other.id, &fast())
        .await
        .unwrap();
    bed.fakes
        .whatsapp_latency(std::time::Duration::from_millis(100));
    let w = bed.worker("campaigns", 2);
    let handed_out = |id| {
        let pool = pool.clone();
        async move {
            let c = counts(&pool, id).await;
            let sent = c.get("sent").copied().unwrap_or(0);
            let out = c
                .iter()
                .filter(|(s, _)| s.as_str() != "queued")
                .map(|(_, n)| n)
                .sum::<i64>();
            (sent, out)
        }
    };
    act(&bed, a.id, "start").await.unwrap();
    // All of A's sends are queued in Redis, and A is sending.
    eventually(|| async { Some(handed_out(a.id).await) })
        .until(|(sent, out)| *out == 400 && *sent >= 20)
        .await;
    let (a_before, _) = handed_out(a.id).await;
    jobs::kinds::campaigns::lifecycle::act(&pool, &bed.engine, other.id, b.id, "start")
        .await
        .unwrap();
    eventually(|| async { Some(handed_out(b.id).await) })
        .until(|(sent, _)| *sent == 100)
        .await;
    let (a_after, _) = handed_out(a.id).await;
    let a_during = a_after - a_before;
    assert!(
        a_after < 400,
        "A's backlog ran out before B finished (A sent {a_after}): the test proves nothing"
    );
    assert!(
        a_during <= 200,
        "while B sent its 100, A sent {a_during} of its queued backlog: B waited behind A"
    );
    assert!(
        a_during >= 30,
        "A sent only {a_during} while B ran: A starved"
    );
    let accepted = eventually(|| async { Some(bed.fakes.whatsapp_accepted()) })
        .until(|m| m.len() == 500)
        .await;
    assert!(accepted.values().all(|n| *n == 1));
    w.stop().await;
}

/// A chunk re-run after a crash: a recipient whose message an earlier run
/// already got accepted (its outbox row `sent`) is mirrored, not sent again;
/// one whose earlier run died mid-call (`sending` in both) becomes
/// `unknown`, not re-sent; the rest of the chunk is sent once.
#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn campaigns_chunk_rerun_after_a_crash_sends_nobody_twice(pool: PgPool) {
    let bed = bed(pool.clone()).await;
    add_contacts(&bed, (0..6).map(|i| contact(i, &[])).collect()).await;
    let mut i = input(1000);
    i.throughput = 1000;
    let c = campaign(&bed, &i).await;
    let c = act(&bed, c.id, "start").await.unwrap();
    assert_eq!(jobs::kinds::campaigns::dispatch::chunk_size(&c), 50);
    let rows: Vec<(uuid::Uuid, uuid::Uuid)> = sqlx::query_as(
        "select r.id, r.contact_id from campaign_recipients r join contacts c on c.id = r.contact_id \
         where r.campaign_id = $1 order by c.external_id",
    )
    .bind(c.id)
    .fetch_all(&pool)
    .await
    .unwrap();
    // The earlier run: all six handed out; c0's message accepted by Meta (the
    // outbox row says so) but the recipient not moved; c1 cut mid-call.
    sqlx::query(
        "update campaign_recipients set status = 'dispatched', dispatched_at = now(), attempts = 1 where campaign_id = $1",
    )
    .bind(c.id)
    .execute(&pool)
    .await
    .unwrap();
    for (k, (rid, contact), status) in [(0, rows[0], "sent"), (1, rows[1], "sending")] {
        let nid = uuid::Uuid::now_v7();
        sqlx::query(
            "insert into notifications (id, tenant_id, dedup_key, channel, recipient, message, status, provider_message_id, sent_at) \
             values ($1, $2, $3, 'whatsapp', $4, '{}', $5, case when $5 = 'sent' then 'wamid.EARLIER' end, \
               case when $5 = 'sent' then now() end)",
        )
        .bind(nid)
        .bind(bed.tenant)
        .bind(format!("campaign:{}:{contact}", c.id))
        .bind(format!("+{}", digits(k)))
        .bind(status)
        .execute(&pool)
        .await
        .unwrap();
        if status == "sending" {
            sqlx::query("update campaign_recipients set status = 'sending', notification_id = $2 where id = $1")
                .bind(rid)
                .bind(nid)
                .execute(&pool)
                .await
                .unwrap();
        }
    }
    let chunk: Vec<(uuid::Uuid, i32)> = rows.iter().map(|r| (r.0, 1)).collect();
    bed.engine
        .push(jobs::kinds::campaigns::dispatch::send_job(&c, &chunk))
        .await
        .unwrap();
    let w = bed.worker("campaigns", 4);
    wait_state(&bed, c.id, "completed").await;
    w.stop().await;
    let accepted = bed.fakes.whatsapp_accepted();
    assert_eq!(accepted.len(), 4, "{accepted:?}");
    assert!(accepted.values().all(|n| *n == 1), "{accepted:?}");
    assert!(!accepted.contains_key(&digits(0)) && !accepted.contains_key(&digits(1)));
    let (st, reason, _) = recipient(&pool, c.id, 0).await;
    assert_eq!((st.as_str(), reason), ("sent", None));
    let wamid: Option<String> =
        sqlx::query_scalar("select wamid from campaign_recipients where id = $1")
            .bind(rows[0].0)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(wamid.as_deref(), Some("wamid.EARLIER"));
    let (st, reason, _) = recipient(&pool, c.id, 1).await;
    assert_eq!(st, "unknown");
    assert!(reason.unwrap().contains("provider call"));
    let m = counts(&pool, c.id).await;
    assert_eq!(
        (m.get("sent"), m.get("unknown")),
        (Some(&5), Some(&1)),
        "{m:?}"
    );
    let keys: i64 =
        sqlx::query_scalar("select count(*) from notifications where dedup_key like $1")
            .bind(format!("campaign:{}:%", c.id))
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(keys, 6, "one outbox row per contact");
}

/// A chunk that meets Meta's throughput limit midway: of a chunk of 50 the
/// fake (10/s) accepts 10 and answers 130429 to the rest. The accepted are
/// recorded `sent`, the refused go back to `dispatched` and the chunk comes
/// back later, the campaign's rate is lowered; in the end every contact has
/// exactly one message.
#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn campaigns_chunk_throttled_midway_resends_only_the_refused(pool: PgPool) {
    let bed = bed(pool.clone()).await;
    add_contacts(&bed, (0..60).map(|i| contact(i, &[])).collect()).await;
    bed.fakes.whatsapp_throughput(10);
    let mut i = input(1000);
    i.throughput = 1000;
    let c = campaign(&bed, &i).await;
    let w = bed.worker("campaigns", 4);
    act(&bed, c.id, "start").await.unwrap();
    // The first chunk's answers: some sent, the rest waiting for the chunk's next run.
    let m = eventually(|| async { Some(counts(&pool, c.id).await) })
        .until(|m| m.get("sent").is_some())
        .await;
    assert!(
        m.get("sent").copied().unwrap_or(0) <= 20,
        "the fake took at most its 10/s: {m:?}"
    );
    wait_state(&bed, c.id, "completed").await;
    w.stop().await;
    let accepted = bed.fakes.whatsapp_accepted();
    assert_eq!(accepted.len(), 60);
    assert!(
        accepted.values().all(|n| *n == 1),
        "a contact got two messages"
    );
    assert!(
        bed.fakes.whatsapp_throttled() >= 40,
        "the first chunk was throttled midway"
    );
    assert_eq!(counts(&pool, c.id).await.get("sent"), Some(&60));
    let c = state(&bed, c.id).await;
    assert!(
        c.effective_rate < 1000,
        "130429 lowered the rate: {}",
        c.effective_rate
    );
    let events = jobs::kinds::campaigns::lifecycle::events(&pool, c.id)
        .await
        .unwrap();
    assert!(events.iter().any(|e| e.1 == "throttled"), "{events:?}");
}

/// Webhooks gathered into one batch (api-lite's group commit) must end where
/// applying their statuses one at a time would: each message's statuses in
/// arrival order, forward only, across rounds of the set-based statement.
#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn campaigns_a_batch_of_statuses_ends_where_one_at_a_time_would(pool: PgPool) {
    let bed = bed(pool.clone()).await;
    let pairs = 40;
    add_contacts(&bed, (0..2 * pairs).map(|i| contact(i, &[])).collect()).await;
    let c = campaign(&bed, &input(80)).await;
    let w = bed.worker("campaigns", 2);
    act(&bed, c.id, "start").await.unwrap();
    wait_state(&bed, c.id, "completed").await;
    w.stop().await;
    let wamids: Vec<(String, String)> = sqlx::query_as(
        "select c.external_id, r.wamid from campaign_recipients r join contacts c on c.id = r.contact_id \
         where r.campaign_id = $1 order by c.external_id",
    )
    .bind(c.id)
    .fetch_all(&pool)
    .await
    .unwrap();
    let wamid = |i: usize| -> String {
        let id = format!("c{i}");
        wamids.iter().find(|(e, _)| *e == id).unwrap().1.clone()
    };
    // A small deterministic generator: 1 to 4 statuses per message, any order.
    let mut seed: u64 = 0x5eed_1234_abcd_0001;
    let mut next = |n: u64| -> u64 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    let t0 = chrono::Utc::now();
    let mut batch: Vec<inbound::StatusItem> = Vec::new();
    let mut one_at_a_time: Vec<inbound::StatusItem> = Vec::new();
    let mut queues: Vec<Vec<inbound::StatusItem>> = Vec::new();
    for p in 0..pairs {
        let mut mine = Vec::new();
        for k in 0..1 + next(4) {
            let st = ["sent", "delivered", "read", "failed"][next(4) as usize];
            let code = (st == "failed").then_some(131026);
            let title = (st == "failed").then(|| "Message undeliverable".to_string());
            let at = t0 + chrono::Duration::seconds((p * 10) as i64 + k as i64);
            mine.push(((wamid(2 * p), st.to_string(), code, at), title.clone()));
            one_at_a_time.push(((wamid(2 * p + 1), st.to_string(), code, at), title));
        }
        queues.push(mine);
    }
    // Interleave the messages' statuses at random, each message's kept in order.
    while queues.iter().any(|q| !q.is_empty()) {
        let open: Vec<usize> = (0..queues.len())
            .filter(|&q| !queues[q].is_empty())
            .collect();
        let q = open[next(open.len() as u64) as usize];
        batch.push(queues[q].remove(0));
    }
    // And a status for a message not recorded yet.
    let unknown = (
        (
            "wamid.not-yet".to_string(),
            "delivered".to_string(),
            None,
            t0,
        ),
        None,
    );
    batch.push(unknown);

    let results = inbound::apply_statuses(&pool, &batch).await.unwrap();
    assert_eq!(results.len(), batch.len());
    let mut reference = Vec::new();
    for ((w, st, code, at), title) in &one_at_a_time {
        reference.push(
            inbound::apply_both(&pool, w, st, title.as_deref(), *code, *at)
                .await
                .unwrap(),
        );
    }
    // What each status changed matches, message by message, in order.
    let changed =
        |items: &[inbound::StatusItem], res: &[inbound::Both], w: &str| -> Vec<(u64, u64)> {
            items
                .iter()
                .zip(res)
                .filter(|(i, _)| i.0 .0 == w)
                .map(|(_, b)| (b.outbox, b.recipients))
                .collect()
        };
    type Row = (
        String,
        Option<i32>,
        Option<String>,
        Option<chrono::DateTime<chrono::Utc>>,
        Option<chrono::DateTime<chrono::Utc>>,
        Option<chrono::DateTime<chrono::Utc>>,
        String,
        Option<String>,
        bool,
        bool,
    );
    let row = |w: String| {
        let pool = pool.clone();
        async move {
            sqlx::query_as::<_, Row>(
                "select r.status, r.error_code, r.reason, r.failed_at, r.delivered_at, r.read_at, \
                   n.status, n.last_error, n.delivered_at is not null, n.read_at is not null \
                 from campaign_recipients r join notifications n on n.id = r.notification_id where r.wamid = $1",
            )
            .bind(w)
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    let mut moved = 0;
    for p in 0..pairs {
        let (a, b) = (wamid(2 * p), wamid(2 * p + 1));
        assert_eq!(
            changed(&batch, &results, &a),
            changed(&one_at_a_time, &reference, &b),
            "pair {p}: what each status changed"
        );
        let (ra, rb) = (row(a).await, row(b).await);
        assert_eq!(ra, rb, "pair {p}: the rows end alike");
        moved += (ra.0 != "sent") as usize;
    }
    assert!(
        moved > pairs / 2,
        "the statuses moved most messages: {moved}"
    );
    let early: i64 = sqlx::query_scalar(
        "select count(*) from campaign_status_early where wamid = 'wamid.not-yet'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(early, 1, "the unknown message's status waits for its send");
}

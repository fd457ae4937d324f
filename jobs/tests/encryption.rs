//! Encryption at rest (issue 21 item 2), against real Redis and PostgreSQL:
//! what Redis holds for a sealed kind, that its jobs run and inspect in
//! clear for their owner, that moved or altered ciphertexts fail their job
//! without running it, and that a master key rotation with jobs waiting
//! loses nothing.

mod crypt_common;

use crypt_common::{engine, keyring, master_entry, pii, registry, NAME, QUEUE, RAN};
use jobs::crypt::{rotate_master, MasterKeys};
use jobs::engine::keys::QueueKeys;
use jobs::engine::{JobStatus, NewJob};
use jobs::testing::{create_tenant, redis_url, wait_job, RedisPrefix};
use redis::AsyncCommands;
use sqlx::PgPool;

fn holds_pii(dump: &str, name: &str) -> bool {
    dump.contains(name) || dump.contains("988887777")
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn sealed_kinds_hold_no_plaintext_in_redis_and_open_for_their_owner(pool: PgPool) {
    let keys = RedisPrefix::new();
    let t = create_tenant(&pool, "Escola Alfa").await.id.to_string();
    let ring = keyring(&pool, &master_entry("k1", &jobs::crypt::aead::random_key()));
    let e = engine(&keys, Some(ring)).await;
    let sealed = e.push(pii(&t, NAME)).await.unwrap();
    // A chained child: the parent's (sealed) result is spliced into its payload by Lua.
    let child = e
        .push(NewJob {
            after: Some(sealed.id.clone()),
            ..pii(&t, "Bruno Lima")
        })
        .await
        .unwrap();
    let plain = e
        .push(NewJob::new(
            QUEUE,
            "test.plain",
            &t,
            serde_json::json!({ "name": "Carlos Claro", "phone": "+5521977776666" }),
        ))
        .await
        .unwrap();

    let dump = keys.dump().await;
    assert!(
        !holds_pii(&dump, NAME) && !dump.contains("Bruno Lima"),
        "{dump}"
    );
    assert!(
        dump.contains("\"$enc\":\"v1:1:"),
        "sealed with data key 1: {dump}"
    );
    // The scan does see what is stored in clear.
    assert!(dump.contains("Carlos Claro"));

    let w = jobs::testing::worker(&e, QUEUE, 4, registry());
    let done = wait_job(&e, QUEUE, &child.id, |j| j.status.is_final()).await;
    w.stop().await;

    // Inspection opens payload and result for the owner.
    let job = e.job(QUEUE, &sealed.id).await.unwrap().unwrap();
    assert_eq!(job.status, JobStatus::Succeeded);
    assert_eq!(job.payload["name"], NAME);
    assert_eq!(
        job.result.as_ref().unwrap()["greeting"],
        format!("Olá, {NAME}")
    );
    assert_eq!(done.status, JobStatus::Succeeded, "{:?}", done.last_error);
    assert_eq!(done.payload["name"], "Bruno Lima");
    // The child ran with the parent's result in clear.
    assert_eq!(
        done.result.as_ref().unwrap()["parent"]["greeting"],
        format!("Olá, {NAME}")
    );
    assert_eq!(
        e.job(QUEUE, &plain.id).await.unwrap().unwrap().status,
        JobStatus::Succeeded
    );

    let dump = keys.dump().await;
    assert!(
        !holds_pii(&dump, NAME) && !dump.contains("Olá, Bruno"),
        "{dump}"
    );
    // An engine without the key (another process, no master key) shows ciphertext only.
    let blind = engine(&keys, None).await;
    let raw = blind.job(QUEUE, &sealed.id).await.unwrap().unwrap();
    assert!(jobs::engine::cipher::token(&raw.payload).is_some());
    assert!(!raw.result.unwrap().to_string().contains(NAME));
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn moved_or_altered_ciphertexts_fail_their_job_without_running_it(pool: PgPool) {
    let keys = RedisPrefix::new();
    let a = create_tenant(&pool, "Escola Alfa").await.id.to_string();
    let b = create_tenant(&pool, "Escola Beta").await.id.to_string();
    let ring = keyring(&pool, &master_entry("k1", &jobs::crypt::aead::random_key()));
    let e = engine(&keys, Some(ring)).await;
    let a1 = e.push(pii(&a, NAME)).await.unwrap();
    let a2 = e.push(pii(&a, "Daniel Alves")).await.unwrap();
    let a3 = e.push(pii(&a, "Elisa Prado")).await.unwrap();
    let b1 = e.push(pii(&b, "Fábio Beta")).await.unwrap();

    // Rewrite the ready-list entries (what a claim reads) and job hashes by hand.
    let qk = QueueKeys::new(&keys.prefix, QUEUE);
    let mut conn = redis::Client::open(redis_url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let payload_of = |entry: &str| entry.rsplit('\0').next().unwrap().to_string();
    let la: Vec<String> = conn
        .lrange(qk.tenant_list("normal", &a), 0, -1)
        .await
        .unwrap();
    let lb: Vec<String> = conn
        .lrange(qk.tenant_list("normal", &b), 0, -1)
        .await
        .unwrap();
    let entry = |l: &[String], id: &str| {
        l.iter()
            .position(|e| e.starts_with(&format!("{id}\0")))
            .unwrap()
    };
    let (i1, i2, i3) = (entry(&la, &a1.id), entry(&la, &a2.id), entry(&la, &a3.id));
    let a1_payload = payload_of(&la[i1]);
    // a2 gets a1's payload (same tenant, another job).
    let moved = la[i2].replace(&payload_of(&la[i2]), &a1_payload);
    // a3's ciphertext has one character changed.
    let p3 = payload_of(&la[i3]);
    let flip = p3.len() - 10;
    let c = if &p3[flip..flip + 1] == "A" { "B" } else { "A" };
    let altered = la[i3].replace(&p3, &format!("{}{c}{}", &p3[..flip], &p3[flip + 1..]));
    // b1 gets a1's payload (another tenant).
    let stolen = lb[0].replace(&payload_of(&lb[0]), &a1_payload);
    let list_a = qk.tenant_list("normal", &a);
    let _: () = conn.lset(&list_a, i2 as isize, moved).await.unwrap();
    let _: () = conn.lset(&list_a, i3 as isize, altered).await.unwrap();
    let _: () = conn
        .lset(qk.tenant_list("normal", &b), 0, stolen)
        .await
        .unwrap();

    let w = jobs::testing::worker(&e, QUEUE, 4, registry());
    let mut finals = Vec::new();
    for id in [&a1.id, &a2.id, &a3.id, &b1.id] {
        finals.push(wait_job(&e, QUEUE, id, |j| j.status.is_final()).await);
    }
    w.stop().await;
    assert_eq!(finals[0].status, JobStatus::Succeeded);
    for j in &finals[1..] {
        assert_eq!(j.status, JobStatus::Dead, "{}", j.id);
        assert_eq!(j.reason.as_deref(), Some("permanent"));
        let err = j.last_error.as_deref().unwrap();
        assert!(err.starts_with("payload rejected: cannot decrypt"), "{err}");
        assert!(!err.contains(NAME));
    }
    // Another job's, an altered and another tenant's ciphertext all fail authentication.
    for j in &finals[1..] {
        assert!(j
            .last_error
            .as_deref()
            .unwrap()
            .contains("authentication failed"));
    }
    let ran = RAN.lock().unwrap().clone();
    assert!(ran.contains(&a1.id));
    for j in &finals[1..] {
        assert!(!ran.contains(&j.id), "{} ran on a forged payload", j.id);
    }
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn callers_cannot_push_a_forged_envelope(pool: PgPool) {
    let keys = RedisPrefix::new();
    let t = create_tenant(&pool, "Escola Alfa").await.id.to_string();
    let e = engine(&keys, Some(keyring(&pool, &master_entry("k1", &[7; 32])))).await;
    for payload in [
        serde_json::json!({ "$enc": "v1:1:AAAA" }),
        serde_json::json!({ "name": "x", "parent_result": { "$enc": "v1:1:AAAA", "$job": "j" } }),
    ] {
        let err = e
            .push(NewJob::new(QUEUE, "test.plain", &t, payload))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("reserved"), "{err}");
    }
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn master_key_rotation_with_jobs_waiting_loses_nothing(pool: PgPool) {
    let keys = RedisPrefix::new();
    let (k1, k2) = (
        jobs::crypt::aead::random_key(),
        jobs::crypt::aead::random_key(),
    );
    let old = master_entry("k1", &k1);
    let both = format!("{},{old}", master_entry("k2", &k2));
    let new_only = master_entry("k2", &k2);
    let tenants = [
        create_tenant(&pool, "Escola Alfa").await.id.to_string(),
        create_tenant(&pool, "Escola Beta").await.id.to_string(),
    ];
    // Before: everything sealed under data keys wrapped by k1.
    let e1 = engine(&keys, Some(keyring(&pool, &old))).await;
    let mut ids = Vec::new();
    for i in 0..40 {
        let t = &tenants[i % 2];
        ids.push((
            e1.push(pii(t, &format!("Aluno {i:02}"))).await.unwrap().id,
            i,
        ));
    }
    // During: processes restarted with k2 first and k1 still listed push more.
    let e2 = engine(&keys, Some(keyring(&pool, &both))).await;
    for i in 40..60 {
        let t = &tenants[i % 2];
        ids.push((
            e2.push(pii(t, &format!("Aluno {i:02}"))).await.unwrap().id,
            i,
        ));
    }
    let r = rotate_master(&pool, &MasterKeys::parse(&both).unwrap())
        .await
        .unwrap();
    assert_eq!(
        (r.current.as_str(), r.rewrapped, r.failed.len()),
        ("k2", 2, 0)
    );
    let again = rotate_master(&pool, &MasterKeys::parse(&both).unwrap())
        .await
        .unwrap();
    assert_eq!((again.rewrapped, again.already_current), (0, 2));

    // After: k1 removed; a fresh process drains every job sealed before and during.
    let e3 = engine(&keys, Some(keyring(&pool, &new_only))).await;
    let w = jobs::testing::worker(&e3, QUEUE, 8, registry());
    for (id, i) in &ids {
        let j = wait_job(&e3, QUEUE, id, |j| j.status.is_final()).await;
        assert_eq!(j.status, JobStatus::Succeeded, "{id}: {:?}", j.last_error);
        assert_eq!(j.payload["name"], format!("Aluno {i:02}"));
        assert_eq!(j.result.unwrap()["greeting"], format!("Olá, Aluno {i:02}"));
    }
    w.stop().await;
    // A process still on k1 alone can no longer unwrap the data keys.
    let stale = keyring(&pool, &old);
    let err = stale
        .current_key(tenants[0].parse().unwrap())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("\"k2\""), "{err}");
    // A rotation that meets a key it does not hold reports it instead of guessing.
    let k3 = master_entry("k3", &jobs::crypt::aead::random_key());
    let partial = rotate_master(&pool, &MasterKeys::parse(&k3).unwrap())
        .await
        .unwrap();
    assert_eq!((partial.rewrapped, partial.failed.len()), (0, 2));
}

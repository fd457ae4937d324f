//! Generated school, outbox and booking data for the reports' tests (and a
//! render context over it). Grades are deterministic functions of the
//! student and subject index, so tests can recompute what a report must show.
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use chrono::{NaiveDate, TimeZone, Utc};
use futures::FutureExt;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use reports::output::{Output, RenderCtx};

pub const YEAR: i32 = 2026;

pub struct School {
    pub tenant: Uuid,
    pub class: String,
    /// (id, registration, name)
    pub students: Vec<(Uuid, String, String)>,
    /// (code, name)
    pub subjects: Vec<(String, String)>,
    pub terms: i16,
}

/// Student `s`'s grade in subject `j`, term `t` (0–10, one decimal).
pub fn grade(s: usize, j: usize, t: i16) -> f64 {
    (((s * 7 + j * 3 + t as usize * 5) % 61) as f64 / 10.0 + 4.0).min(10.0)
}

pub const NAMES: [&str; 8] = [
    "Ana Beatriz Souza",
    "Bruno Oliveira",
    "Carla Dias",
    "Davi Lima",
    "Eduarda Castro",
    "Felipe Araújo",
    "Gabriela Nunes",
    "Heitor Martins",
];

pub const SUBJECTS: [&str; 20] = [
    "Matemática",
    "Língua Portuguesa",
    "História",
    "Geografia",
    "Ciências",
    "Inglês",
    "Artes",
    "Educação Física",
    "Física",
    "Química",
    "Biologia",
    "Filosofia",
    "Sociologia",
    "Espanhol",
    "Redação",
    "Literatura",
    "Projeto de Vida",
    "Tecnologia",
    "Música",
    "Ensino Religioso",
];

pub async fn tenant(pool: &PgPool) -> Uuid {
    jobs::testing::create_tenant(pool, "Colégio Estadual Professora Maria José")
        .await
        .id
}

/// A class of `n` students, `subjects` subjects, `terms` terms graded (the
/// last student misses term 2 everywhere), attendance per subject, and one
/// open alert on student 0.
pub async fn school(
    pool: &PgPool,
    tenant: Uuid,
    code: &str,
    n: usize,
    subjects: usize,
    terms: i16,
) -> School {
    let class_id = Uuid::new_v4();
    let teacher = Uuid::new_v4();
    sqlx::query("insert into staff (id, tenant_id, code, name, role) values ($1, $2, $3, 'Prof.ª Helena Ribeiro', 'teacher')")
        .bind(teacher).bind(tenant).bind(format!("t-{code}")).execute(pool).await.unwrap();
    sqlx::query("insert into classes (id, tenant_id, code, name, year, teacher_id) values ($1, $2, $3, $4, $5, $6)")
        .bind(class_id).bind(tenant).bind(code).bind(format!("9º ano {code}")).bind(YEAR).bind(teacher)
        .execute(pool).await.unwrap();
    let subs: Vec<(String, String)> = SUBJECTS[..subjects]
        .iter()
        .map(|s| (ptbr::slug(s), s.to_string()))
        .collect();
    for (c, name) in &subs {
        sqlx::query("insert into academic_subjects (tenant_id, code, name) values ($1, $2, $3) on conflict do nothing")
            .bind(tenant).bind(c).bind(name).execute(pool).await.unwrap();
    }
    let mut students = Vec::new();
    let (mut g_st, mut g_sub, mut g_term, mut g_val) = (vec![], vec![], vec![], vec![]);
    let (mut a_st, mut a_sub, mut a_abs) = (vec![], vec![], vec![]);
    for s in 0..n {
        let id = Uuid::new_v4();
        let reg = format!("{code}-{s:04}");
        let name = if s == 1 {
            "Maria Eduarda Cavalcanti de Albuquerque Figueiredo Nascimento Vasconcelos".to_string()
        } else {
            format!("{} {s}", NAMES[s % NAMES.len()])
        };
        sqlx::query(
            "insert into students (id, tenant_id, registration, name) values ($1, $2, $3, $4)",
        )
        .bind(id)
        .bind(tenant)
        .bind(&reg)
        .bind(&name)
        .execute(pool)
        .await
        .unwrap();
        sqlx::query(
            "insert into enrollments (tenant_id, student_id, class_id) values ($1, $2, $3)",
        )
        .bind(tenant)
        .bind(id)
        .bind(class_id)
        .execute(pool)
        .await
        .unwrap();
        for (j, (c, _)) in subs.iter().enumerate() {
            for t in 1..=terms {
                if s == n - 1 && n > 1 && t == 2 {
                    continue;
                }
                g_st.push(id);
                g_sub.push(c.clone());
                g_term.push(t);
                g_val.push(grade(s, j, t));
            }
            a_st.push(id);
            a_sub.push(c.clone());
            a_abs.push(((s + j) % 12) as i32);
        }
        students.push((id, reg, name));
    }
    sqlx::query(
        "insert into grades (tenant_id, student_id, subject_code, year, term, grade)
         select $1, s, c, $2, t, g from unnest($3::uuid[], $4::text[], $5::int2[], $6::float8[]) as x(s, c, t, g)",
    )
    .bind(tenant).bind(YEAR).bind(&g_st).bind(&g_sub).bind(&g_term).bind(&g_val)
    .execute(pool).await.unwrap();
    sqlx::query(
        "insert into attendance_periods (tenant_id, student_id, subject_code, year, term, classes_given, absences)
         select $1, s, c, $2, 1, 40, a from unnest($3::uuid[], $4::text[], $5::int4[]) as x(s, c, a)",
    )
    .bind(tenant).bind(YEAR).bind(&a_st).bind(&a_sub).bind(&a_abs)
    .execute(pool).await.unwrap();
    let rule = Uuid::new_v4();
    sqlx::query(
        "insert into alert_rules (id, tenant_id, name, condition, audience, channels, template)
         values ($1, $2, $3, '{}'::jsonb, '{guardians}', '{email}', 'x')",
    )
    .bind(rule)
    .bind(tenant)
    .bind(format!("Frequência abaixo de 75% ({code})"))
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "insert into alerts (id, tenant_id, rule_id, student_id, scope, status, opened_at, changed_at)
         values ($1, $2, $3, $4, 'matematica', 'open', now(), now())",
    )
    .bind(Uuid::new_v4()).bind(tenant).bind(rule).bind(students[0].0)
    .execute(pool).await.unwrap();
    School {
        tenant,
        class: code.to_string(),
        students,
        subjects: subs,
        terms,
    }
}

/// Notifications over November 2026: per channel some sent, delivered, read, failed.
pub async fn outbox(pool: &PgPool, tenant: Uuid) {
    let base = Utc.with_ymd_and_hms(2026, 11, 3, 13, 0, 0).unwrap();
    for (i, (channel, status, n, err)) in [
        ("email", "delivered", 12, None),
        ("email", "read", 5, None),
        ("email", "failed", 3, Some("550 mailbox unavailable")),
        ("whatsapp", "read", 9, None),
        (
            "whatsapp",
            "failed",
            2,
            Some("131026 message undeliverable"),
        ),
        ("sms", "sent", 4, None),
    ]
    .into_iter()
    .enumerate()
    {
        for k in 0..n {
            let at = base + chrono::Duration::hours(((i * 97 + k * 29) % 620) as i64);
            let sent = status != "failed";
            sqlx::query(
                "insert into notifications (id, tenant_id, dedup_key, channel, recipient, message, status,
                     last_error, created_at, sent_at, delivered_at, read_at)
                 values ($1, $2, $3, $4, 'r', '{}'::jsonb, $5, $6, $7,
                     case when $8 then $7 end,
                     case when $5 in ('delivered', 'read') then $7 end,
                     case when $5 = 'read' then $7 end)",
            )
            .bind(Uuid::new_v4()).bind(tenant).bind(format!("k{i}-{k}")).bind(channel).bind(status)
            .bind(err).bind(at).bind(sent)
            .execute(pool).await.unwrap();
        }
    }
}

/// Bookings of three rooms in November 2026 (São Paulo), two cancelled.
pub async fn bookings(pool: &PgPool, tenant: Uuid) {
    for k in 0..30 {
        let start = Utc
            .with_ymd_and_hms(2026, 11, 2 + (k % 20), 11 + (k % 9), 0, 0)
            .unwrap();
        let end = start + chrono::Duration::minutes(90);
        sqlx::query(
            "insert into event_bookings (tenant_id, booking_id, family, resource_id, start_time, end_time, cancelled)
             values ($1, $2, 'booking', $3, $4, $5, $6)",
        )
        .bind(tenant).bind(format!("b{k}")).bind(format!("Sala {}", k % 3 + 1))
        .bind(start).bind(end).bind(k == 4 || k == 17)
        .execute(pool).await.unwrap();
    }
}

/// A render context over `pool` for `tenant`, counting progress calls.
pub fn ctx(pool: &PgPool, tenant: Uuid, batch: usize) -> (RenderCtx, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let ctx = RenderCtx {
        pg: pool.clone(),
        tenant,
        school: "Colégio Estadual Professora Maria José".into(),
        today: NaiveDate::from_ymd_opt(2026, 12, 5).unwrap(),
        generated: "05/12/2026 14:30".into(),
        tz: chrono_tz::America::Sao_Paulo,
        primary: 0x1f4e79,
        accent: 0xe08e1b,
        logo: None,
        campaigns: Default::default(),
        batch_size: batch,
        max_students: 5000,
        cancel: CancellationToken::new(),
        progress: Arc::new(move |done, _total| {
            c.fetch_max(done, Ordering::SeqCst);
            async {}.boxed()
        }),
    };
    (ctx, calls)
}

/// `pdftotext -layout` of a PDF file.
pub fn pdf_text(path: &std::path::Path) -> String {
    let out = std::process::Command::new("pdftotext")
        .arg("-layout")
        .arg(path)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils)");
    assert!(out.status.success(), "pdftotext failed");
    String::from_utf8(out.stdout).unwrap()
}

pub fn pdf_pages(path: &std::path::Path) -> usize {
    let out = std::process::Command::new("pdfinfo")
        .arg(path)
        .output()
        .expect("pdfinfo");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    text.lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .map(|n| n.trim().parse().unwrap())
        .expect("a page count")
}

pub fn keep(out: &Output, name: &str) {
    // Keep a copy for looking at by eye when REPORTS_KEEP is set.
    if let Ok(dir) = std::env::var("REPORTS_KEEP") {
        std::fs::copy(out.file.path(), std::path::Path::new(&dir).join(name)).unwrap();
    }
}

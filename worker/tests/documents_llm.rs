//! The documents' LLM structuring fallback end to end: real `worker`
//! processes serving `documents`, each extraction a real `worker extract`
//! subprocess (which also prints the page text), the fallback's HTTP calls
//! going to `jobs::testing::llm::LlmFake` in both wire formats (OpenAI chat
//! completions and Gemini generateContent), the real PostgreSQL and Redis.
//!
//! - a valid answer → the document is held with the LLM's draft
//!   (`source: llm`, the rules' draft beside it), nothing written;
//! - garbage, a wrong schema, 429, 500, a hang past the timeout → the rules'
//!   result stands (held as the rules read it; `llm.error` says why);
//! - `no_grades` with a valid answer → held with the LLM's draft; with an
//!   error → still `no_grades`, the reason naming the fallback's failure;
//! - the fallback off (the default) → no request reaches the fake.

mod common;
mod documents_bed;
mod documents_support;

use common::*;
use documents_bed::Bed;
use documents_support as pdfs;
use jobs::engine::JobStatus;
use jobs::kinds::documents::sql;
use jobs::testing::llm::{LlmBehaviour, LlmFake};
use serde_json::{json, Value};
use sqlx::PgPool;

impl Bed {
    /// A worker for `documents` with `llm` settings as env (`[]` = the defaults: off).
    fn worker(&self, llm: &[(&str, String)]) -> WorkerProc {
        let mut spec = self
            .t
            .spec("documents", 1)
            .env("TAREFA__DATABASE__URL", db_url(&self.pool))
            .env(
                "TAREFA__DOCUMENTS__BLOB_DIR",
                self.blobs.path().to_str().unwrap(),
            )
            .env("TAREFA__DOCUMENTS__OCR", "false")
            .env("TAREFA_TEST_LLM_KEY", "chave-de-teste");
        for (k, v) in llm {
            spec = spec.env(k, v.clone());
        }
        spec.spawn()
    }

    /// Submits `pdf`, waits for its job; returns the document.
    async fn run(
        &self,
        pdf: Vec<u8>,
        worker: &WorkerProc,
    ) -> (sql::Document, jobs::engine::JobInfo) {
        let (id, job) = self.submit("boletim.pdf", pdf).await;
        let info = self
            .t
            .wait_final("documents", std::slice::from_ref(&job))
            .await
            .remove(0);
        let doc = sql::get(&self.pool, self.tenant, id)
            .await
            .unwrap()
            .unwrap();
        assert!(
            matches!(info.status, JobStatus::Succeeded | JobStatus::Dead),
            "{info:?}\n{}",
            worker.log_text()
        );
        (doc, info)
    }

    async fn grades(&self) -> i64 {
        sqlx::query_scalar("select count(*) from grades where tenant_id = $1")
            .bind(self.tenant)
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }
}

fn llm_env(provider: &str, base: String) -> Vec<(&'static str, String)> {
    vec![
        ("TAREFA__DOCUMENTS__LLM__ENABLED", "true".into()),
        ("TAREFA__DOCUMENTS__LLM__PROVIDER", provider.into()),
        ("TAREFA__DOCUMENTS__LLM__BASE_URL", base),
        ("TAREFA__DOCUMENTS__LLM__MODEL", "modelo-teste".into()),
        (
            "TAREFA__DOCUMENTS__LLM__API_KEY_ENV",
            "TAREFA_TEST_LLM_KEY".into(),
        ),
        ("TAREFA__DOCUMENTS__LLM__TIMEOUT_SECS", "1".into()),
    ]
}

/// A text boletim of `registration` the rules hold: no student name line.
fn nameless(registration: &str) -> Vec<u8> {
    let mut page: Vec<(f32, f32, f32, String)> = vec![
        (50.0, 780.0, 14.0, "ESCOLA MUNICIPAL MONTEIRO LOBATO".into()),
        (
            50.0,
            750.0,
            12.0,
            "BOLETIM ESCOLAR - ANO LETIVO 2024".into(),
        ),
        (350.0, 725.0, 10.0, format!("Matrícula: {registration}")),
    ];
    let cols = [50.0, 180.0, 225.0, 270.0, 315.0, 360.0];
    let header = [
        "Disciplina",
        "1º Bim",
        "2º Bim",
        "3º Bim",
        "4º Bim",
        "Média",
    ];
    let mut y = 680.0;
    for (x, h) in cols.iter().zip(header) {
        page.push((*x, y, 9.0, h.into()));
    }
    for r in &pdfs::ROWS {
        y -= 20.0;
        let values = [
            r.name,
            r.terms[0],
            r.terms[1],
            r.terms[2],
            r.terms[3],
            r.final_grade,
        ];
        for (x, v) in cols.iter().zip(values) {
            page.push((*x, y, 10.0, v.into()));
        }
    }
    pdfs::pdf(&[page])
}

/// A readable page with no subject and no grade (the rules: `no_grades`).
fn gradeless(n: u32) -> Vec<u8> {
    pdfs::pdf(&[vec![
        (
            50.0,
            780.0,
            14.0,
            "ESCOLA MUNICIPAL MONTEIRO LOBATO".to_string(),
        ),
        (
            50.0,
            750.0,
            10.0,
            format!("Arquivo da secretaria, folha {n}"),
        ),
    ]])
}

/// What a model would answer for [`nameless`]: the three rows, and a name
/// it could not have read (the cross-check must flag it).
fn answer(registration: &str) -> Value {
    let subjects: Vec<Value> = pdfs::ROWS
        .iter()
        .map(|r| {
            let terms: Vec<Value> = r
                .terms
                .iter()
                .enumerate()
                .map(|(i, t)| json!({"term": i + 1, "grade": t}))
                .collect();
            json!({"name": r.name, "terms": terms, "final_grade": r.final_grade})
        })
        .collect();
    json!({"doc_type": "boletim", "student": {"name": "Maria Clara Souza", "registration": registration},
           "school": {"name": "Escola Municipal Monteiro Lobato"}, "year": 2024, "subjects": subjects})
}

fn reason_fields(result: &Value) -> Vec<String> {
    result["review_reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["field"].as_str().unwrap().to_string())
        .collect()
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn openai_fallback_drafts_are_held_and_provider_faults_keep_the_rules_result(pool: PgPool) {
    let bed = Bed::new(pool).await;
    let fake = LlmFake::start(LlmBehaviour::Valid(answer("2024000111"))).await;
    let mut w = bed.worker(&llm_env("openai", fake.openai_base()));

    // Valid: held with the LLM's draft, marked, the rules' draft beside it.
    let (doc, _) = bed.run(nameless("2024000111"), &w).await;
    assert_eq!(
        doc.status,
        "needs_review",
        "{:?}\n{}",
        doc.error_message,
        w.log_text()
    );
    let r = doc.result.clone().unwrap();
    assert_eq!(r["source"], "llm");
    assert_eq!(r["llm"]["used"], true);
    assert_eq!(r["student"]["name"], "Maria Clara Souza");
    assert_eq!(r["subjects"][2]["code"], "historia");
    assert_eq!(r["subjects"][0]["terms"][1]["grade"], 8.0);
    let fields = reason_fields(&r);
    assert_eq!(fields[0], "source", "{fields:?}");
    assert!(
        fields.contains(&"student.name".to_string()),
        "the invented name is flagged: {fields:?}"
    );
    assert!(r["rules_draft"]["student"]["name"].is_null());
    assert_eq!(bed.grades().await, 0);
    let reqs = fake.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].path, "/v1/chat/completions");
    assert_eq!(reqs[0].auth.as_deref(), Some("Bearer chave-de-teste"));
    assert_eq!(reqs[0].body["model"], "modelo-teste");
    assert_eq!(reqs[0].body["response_format"]["type"], "json_object");
    let sent = reqs[0].body["messages"][1]["content"].as_str().unwrap();
    assert!(
        sent.contains("Matemática") && sent.contains("2024000111"),
        "{sent}"
    );

    // Each fault: the rules' draft held as read, the reason kept, one call each.
    let faults = [
        (LlmBehaviour::Garbage, "not the result schema"),
        (LlmBehaviour::WrongSchema, "not the result schema"),
        (LlmBehaviour::Status(500), "HTTP 500"),
        (LlmBehaviour::Status(429), "HTTP 429"),
        (LlmBehaviour::Hang, "no answer within 1 s"),
    ];
    for (n, (behaviour, why)) in faults.into_iter().enumerate() {
        fake.set(behaviour.clone());
        let before = fake.count();
        let (doc, info) = bed.run(nameless(&format!("20240002{n}")), &w).await;
        assert_eq!(info.status, JobStatus::Succeeded, "{behaviour:?}: {info:?}");
        assert_eq!(doc.status, "needs_review", "{behaviour:?}");
        let r = doc.result.unwrap();
        assert!(r.get("source").is_none(), "{behaviour:?}: {r}");
        assert_eq!(r["llm"]["used"], false);
        let error = r["llm"]["error"].as_str().unwrap();
        assert!(error.contains(why), "{behaviour:?}: {error}");
        assert_eq!(reason_fields(&r), ["student.name"], "{behaviour:?}");
        assert_eq!(fake.count(), before + 1, "{behaviour:?}");
    }
    assert_eq!(bed.grades().await, 0);
    w.kill().await;
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn gemini_fallback_reads_what_the_rules_found_nothing_in(pool: PgPool) {
    let bed = Bed::new(pool).await;
    let fake = LlmFake::start(LlmBehaviour::Status(429)).await;
    let mut w = bed.worker(&llm_env("gemini", fake.gemini_base()));

    // no_grades, the provider refuses: the document fails as before, saying so.
    let (doc, info) = bed.run(gradeless(1), &w).await;
    assert_eq!(info.status, JobStatus::Dead, "{info:?}");
    assert_eq!(doc.status, "failed");
    assert_eq!(doc.error_code.as_deref(), Some("no_grades"));
    assert!(
        doc.error_message
            .as_deref()
            .unwrap()
            .contains("LLM fallback: the provider answered HTTP 429"),
        "{:?}",
        doc.error_message
    );

    // no_grades, a valid answer: held with the LLM's draft (it invented
    // every value: the page has none, and each is flagged).
    fake.set(LlmBehaviour::Valid(answer("2024000333")));
    let (doc, _) = bed.run(gradeless(2), &w).await;
    assert_eq!(
        doc.status,
        "needs_review",
        "{:?}\n{}",
        doc.error_message,
        w.log_text()
    );
    let r = doc.result.unwrap();
    assert_eq!(r["source"], "llm");
    let fields = reason_fields(&r);
    assert!(
        fields.contains(&"subjects[0].terms[0].grade".to_string()),
        "{fields:?}"
    );
    let reqs = fake.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[1].path, "/v1beta/models/modelo-teste:generateContent");
    assert_eq!(reqs[1].auth.as_deref(), Some("chave-de-teste"));
    assert_eq!(
        reqs[1].body["generationConfig"]["responseMimeType"],
        "application/json"
    );
    assert!(reqs[1].body["contents"][0]["parts"][0]["text"]
        .as_str()
        .unwrap()
        .contains("MONTEIRO LOBATO"));
    assert_eq!(bed.grades().await, 0);

    // A clean boletim never asks the LLM: it is accepted by the rules.
    let (doc, _) = bed.run(pdfs::boletim("2024000444"), &w).await;
    assert_eq!(doc.status, "succeeded");
    assert_eq!(fake.count(), 2);
    assert_eq!(bed.grades().await, 15);
    w.kill().await;
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn the_fallback_is_off_by_default_and_makes_no_call(pool: PgPool) {
    let bed = Bed::new(pool).await;
    let fake = LlmFake::start(LlmBehaviour::Valid(answer("2024000111"))).await;
    // The fake's address is configured, but `enabled` keeps its default (false).
    let mut w = bed.worker(&[
        ("TAREFA__DOCUMENTS__LLM__BASE_URL", fake.openai_base()),
        (
            "TAREFA__DOCUMENTS__LLM__API_KEY_ENV",
            "TAREFA_TEST_LLM_KEY".into(),
        ),
    ]);
    let (doc, _) = bed.run(nameless("2024000111"), &w).await;
    assert_eq!(doc.status, "needs_review");
    let r = doc.result.unwrap();
    assert!(r.get("llm").is_none() && r.get("source").is_none(), "{r}");
    let (doc, _) = bed.run(gradeless(1), &w).await;
    assert_eq!(doc.error_code.as_deref(), Some("no_grades"));
    assert!(!doc.error_message.unwrap().contains("LLM"));
    assert_eq!(fake.count(), 0);
    w.kill().await;
}

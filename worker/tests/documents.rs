//! `documents.extract` end to end: documents taken in by
//! `jobs::kinds::documents::intake` (what `POST /v1/documents` calls), real
//! `worker` processes serving the `documents` queue, each extraction a real
//! `worker extract` subprocess, the real PostgreSQL and Redis.
//!
//! - a text boletim is read into the document's result and the tenant's
//!   academic records (student, subjects, grades, attendance), and
//!   `alerts.evaluate` is chained for the student when the build has it;
//! - corrupt, encrypted, truncated and decompression-bomb files fail alone,
//!   each with its reason on the job and the document, while a good file in
//!   the same queue succeeds and the worker keeps running;
//! - an extractor that spins, hangs or runs out of memory is stopped by its
//!   rlimit or the timeout and its job fails with a reason naming the limit.

mod common;
mod documents_bed;
mod documents_support;

use std::path::{Path, PathBuf};
use std::process::Stdio;

use common::*;
use documents_bed::Bed;
use documents_support as pdfs;
use jobs::engine::{JobInfo, JobStatus};
use jobs::kinds::documents::sql;
use sqlx::PgPool;
use uuid::Uuid;

impl Bed {
    /// Starts a worker for the `documents` queue; `env` adds or overrides settings.
    fn worker(&self, env: &[(&str, String)]) -> (tokio::process::Child, PathBuf) {
        let log = self
            .blobs
            .path()
            .join(format!("worker-{}.log", Uuid::now_v7().simple()));
        let file = std::fs::File::create(&log).unwrap();
        let child = self
            .t
            .spec("documents", 2)
            .command()
            .env("TAREFA__DATABASE__URL", db_url(&self.pool))
            .env("TAREFA__DOCUMENTS__BLOB_DIR", self.blobs.path())
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .stdin(Stdio::null())
            .spawn()
            .expect("spawn worker");
        (child, log)
    }

    async fn doc(&self, id: Uuid) -> sql::Document {
        sql::get(&self.pool, self.tenant, id)
            .await
            .unwrap()
            .unwrap()
    }

    /// A shell script standing in for the extractor.
    fn script(&self, name: &str, body: &str) -> String {
        use std::os::unix::fs::PermissionsExt;
        let p = self.blobs.path().join(name);
        std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        p.to_str().unwrap().to_string()
    }
}

fn show_log(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}

fn error_of(job: &JobInfo) -> &str {
    job.last_error.as_deref().unwrap_or("")
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn documents_text_boletim_is_extracted_into_the_academic_records(pool: PgPool) {
    let bed = Bed::new(pool).await;
    let (id, job_id) = bed.submit("boletim.pdf", pdfs::boletim("2024000111")).await;
    let (mut worker, log) = bed.worker(&[]);

    let job = bed
        .t
        .wait_final("documents", std::slice::from_ref(&job_id))
        .await
        .remove(0);
    assert_eq!(
        job.status,
        JobStatus::Succeeded,
        "{job:?}\n{}",
        show_log(&log)
    );
    let result = job.result.clone().expect("the job's result");
    assert_eq!(result["document_id"], id.to_string());
    assert_eq!(result["student"]["registration"], "2024000111");
    assert_eq!(result["student"]["name"], "Maria Clara Souza");
    assert_eq!(result["year"], 2024);

    let doc = bed.doc(id).await;
    assert_eq!(doc.status, "succeeded");
    assert_eq!(doc.attempts, 1);
    assert_eq!(doc.pages, Some(1));
    assert_eq!(doc.method.as_deref(), Some("text"));
    assert!(doc.error_code.is_none());
    let stored = doc.result.clone().unwrap();
    assert_eq!(stored["document_id"], id.to_string());
    let codes: Vec<&str> = stored["subjects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["matematica", "lingua-portuguesa", "historia"]);

    let student = doc
        .records_student_id
        .expect("records written for a student");
    let (registration, name, birth): (String, String, Option<chrono::NaiveDate>) = sqlx::query_as(
        "select registration, name, birth_date from students where tenant_id = $1 and id = $2",
    )
    .bind(bed.tenant)
    .bind(student)
    .fetch_one(&bed.pool)
    .await
    .unwrap();
    assert_eq!(
        (registration.as_str(), name.as_str()),
        ("2024000111", "Maria Clara Souza")
    );
    assert_eq!(birth, chrono::NaiveDate::from_ymd_opt(2012, 5, 10));

    let grades: Vec<(String, i16, f64, String)> = sqlx::query_as(
        "select subject_code, term, grade::float8, source from grades \
         where tenant_id = $1 and student_id = $2 and year = 2024 order by subject_code, term",
    )
    .bind(bed.tenant)
    .bind(student)
    .fetch_all(&bed.pool)
    .await
    .unwrap();
    assert_eq!(
        grades.len(),
        15,
        "3 subjects x (4 terms + final): {grades:?}"
    );
    let source = format!("document:{id}");
    assert!(grades.iter().all(|g| g.3 == source));
    let mat: Vec<(i16, f64)> = grades
        .iter()
        .filter(|g| g.0 == "matematica")
        .map(|g| (g.1, g.2))
        .collect();
    assert_eq!(mat, [(0, 7.8), (1, 7.5), (2, 8.0), (3, 6.5), (4, 9.0)]);

    let attendance: Vec<(String, Option<i32>, Option<f64>)> = sqlx::query_as(
        "select subject_code, absences, attendance_pct::float8 from attendance_periods \
         where tenant_id = $1 and student_id = $2 and year = 2024 and term = 0 order by subject_code",
    )
    .bind(bed.tenant)
    .bind(student)
    .fetch_all(&bed.pool)
    .await
    .unwrap();
    assert_eq!(
        attendance,
        [
            (String::new(), None, Some(92.5)),
            ("historia".into(), Some(12), Some(85.0)),
            ("lingua-portuguesa".into(), Some(2), Some(97.5)),
            ("matematica".into(), Some(4), Some(95.0)),
        ]
    );
    let subjects: Vec<(String, String)> = sqlx::query_as(
        "select code, name from academic_subjects where tenant_id = $1 order by code",
    )
    .bind(bed.tenant)
    .fetch_all(&bed.pool)
    .await
    .unwrap();
    assert!(
        subjects.contains(&("matematica".into(), "Matemática".into())),
        "{subjects:?}"
    );

    // The follow-up: alerts.evaluate for the student, when this build has that kind.
    let registry = jobs::kinds::Registry::builtin();
    match registry.get("alerts.evaluate") {
        Some(kind) => {
            let follow = &result["follow_up"];
            assert_eq!(follow["kind"], "alerts.evaluate", "{result}");
            let queue = kind.policy().queue;
            let chained = bed
                .t
                .engine
                .job(queue, follow["job_id"].as_str().unwrap())
                .await
                .unwrap()
                .expect("alerts.evaluate queued");
            assert_eq!(
                chained.payload,
                serde_json::json!({ "student_ids": [student] })
            );
            assert_eq!(chained.tenant, bed.tenant.to_string());
        }
        None => assert!(result["follow_up"].is_null(), "{result}"),
    }
    worker.start_kill().unwrap();
    let _ = worker.wait().await;
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn documents_bad_files_fail_alone_and_the_worker_keeps_going(pool: PgPool) {
    let bed = Bed::new(pool).await;
    let bad = [
        ("corrupt.pdf", pdfs::corrupt(), vec!["corrupt"]),
        ("encrypted.pdf", pdfs::encrypted(), vec!["encrypted"]),
        (
            "truncated.pdf",
            pdfs::truncated(),
            vec!["corrupt", "truncated", "ocr_failed"],
        ),
        ("bomb.pdf", pdfs::bomb(48), vec!["decompression_bomb"]),
        // Readable, but no subject or grade in it.
        ("no-grades.pdf", pdfs::pages(1), vec!["no_grades"]),
        // Cut in the middle of its content: repaired by the extractor, but
        // what is left holds no grades.
        (
            "cut.pdf",
            pdfs::cut_in_content(),
            vec!["no_grades", "corrupt"],
        ),
        (
            "not-a-pdf.pdf",
            b"Nome;Nota\nMaria;8,5\n".to_vec(),
            vec!["not_pdf"],
        ),
    ];
    let mut submitted = Vec::new();
    for (name, bytes, codes) in bad {
        let (id, job) = bed.submit(name, bytes).await;
        submitted.push((name, id, job, codes));
    }
    let (good_id, good_job) = bed.submit("boletim.pdf", pdfs::boletim("2024000333")).await;
    let (mut worker, log) = bed.worker(&[(
        "TAREFA__DOCUMENTS__MAX_INFLATED_BYTES",
        (16u64 << 20).to_string(),
    )]);

    let mut ids: Vec<String> = submitted.iter().map(|s| s.2.clone()).collect();
    ids.push(good_job.clone());
    let jobs = bed.t.wait_final("documents", &ids).await;
    let good = jobs.last().unwrap();
    assert_eq!(
        good.status,
        JobStatus::Succeeded,
        "{good:?}\n{}",
        show_log(&log)
    );
    assert_eq!(bed.doc(good_id).await.status, "succeeded");
    for ((name, id, _, codes), job) in submitted.iter().zip(&jobs) {
        assert_eq!(job.status, JobStatus::Dead, "{name}: {job:?}");
        assert_eq!(job.reason.as_deref(), Some("permanent"), "{name}: {job:?}");
        assert_eq!(job.attempts, 1, "{name}: the file's fault is not retried");
        let doc = bed.doc(*id).await;
        assert_eq!(doc.status, "failed", "{name}");
        let code = doc.error_code.clone().unwrap();
        assert!(
            codes.contains(&code.as_str()),
            "{name}: {code} not in {codes:?}"
        );
        let message = doc.error_message.clone().unwrap();
        assert!(!message.is_empty(), "{name}");
        assert_eq!(
            error_of(job),
            format!("{code}: {message}"),
            "{name}: same reason on the job"
        );
    }
    assert!(
        worker.try_wait().unwrap().is_none(),
        "the worker is still running"
    );
    worker.start_kill().unwrap();
    let _ = worker.wait().await;
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn documents_an_extractor_over_its_limits_is_killed_with_a_clear_reason(pool: PgPool) {
    let bed = Bed::new(pool).await;
    let spin = bed.script("spin.sh", "while :; do :; done");
    let hang = bed.script("hang.sh", "exec sleep 600");
    let hog = bed.script(
        "hog.sh",
        "exec python3 -c 'b = bytearray(1024 * 1024 * 1024); print(len(b))'",
    );
    // (what, extractor, cpu s, wall s, expected code, what the reason says)
    let cases = [
        ("cpu", spin, 1, 120, "cpu_limit", "SIGXCPU"),
        ("timeout", hang, 120, 1, "timeout", "longer than 1 s"),
        ("memory", hog, 120, 120, "crashed", "MemoryError"),
    ];
    for (n, (what, bin, cpu, wall, code, says)) in cases.into_iter().enumerate() {
        // A different file each time: the same bytes would be the same document.
        let (id, job_id) = bed.submit(&format!("{what}.pdf"), pdfs::pages(n + 1)).await;
        let (mut worker, log) = bed.worker(&[
            ("TAREFA__DOCUMENTS__EXTRACTOR_BIN", bin),
            ("TAREFA__DOCUMENTS__EXTRACT_CPU_SECS", cpu.to_string()),
            ("TAREFA__DOCUMENTS__EXTRACT_TIMEOUT_SECS", wall.to_string()),
            ("TAREFA__DOCUMENTS__EXTRACTOR_MEMORY_MB", "128".into()),
        ]);
        let job = bed.t.wait_final("documents", &[job_id]).await.remove(0);
        assert_eq!(
            job.status,
            JobStatus::Dead,
            "{what}: {job:?}\n{}",
            show_log(&log)
        );
        assert_eq!(job.attempts, 2, "{what}: a crash or limit is retried once");
        assert!(
            error_of(&job).starts_with(code) && error_of(&job).contains(says),
            "{what}: {}",
            error_of(&job)
        );
        let doc = bed.doc(id).await;
        assert_eq!(
            (doc.status.as_str(), doc.error_code.as_deref()),
            ("failed", Some(code)),
            "{what}"
        );
        assert!(doc.error_message.unwrap().contains(says), "{what}");
        assert!(
            worker.try_wait().unwrap().is_none(),
            "{what}: the worker survived"
        );
        worker.start_kill().unwrap();
        let _ = worker.wait().await;
    }
}

/// Runs documents/tests/layouts/gen_layouts.py (issue 14's layout families
/// and non-academic look-alikes) into `dir`.
fn gen_layouts(dir: &Path, args: &[&str]) {
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../documents/tests/layouts/gen_layouts.py");
    let python = std::env::var("TAREFA_PYTHON")
        .ok()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| {
            let venv = format!(
                "{}/.cache/tarefa/pytools/bin/python",
                std::env::var("HOME").unwrap_or_default()
            );
            if Path::new(&venv).exists() {
                venv
            } else {
                "python3".into()
            }
        });
    let out = std::process::Command::new(&python)
        .arg(&script)
        .arg(dir)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running {python}: {e}"));
    assert!(
        out.status.success(),
        "gen_layouts.py (needs reportlab, Pillow, img2pdf): {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The grade a ground-truth subject gives for `term` (0 = the final grade).
fn truth_grade(subject: &serde_json::Value, term: i16) -> Option<f64> {
    if term == 0 {
        return subject["final_grade"].as_f64();
    }
    subject["terms"]
        .as_array()
        .and_then(|t| t.get(term as usize - 1))
        .and_then(serde_json::Value::as_f64)
}

/// Issue 14 end to end: one document of every layout family and every
/// non-academic look-alike through `documents.extract`. A look-alike fails
/// with `not_a_transcript` and writes nothing; a family document either
/// goes into the records — and then every grade written is the true one —
/// or is held as `needs_review` with its reasons and writes nothing.
#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn documents_layout_families_never_write_a_wrong_record(pool: PgPool) {
    let bed = Bed::new(pool).await;
    let dir = tempfile::tempdir().unwrap();
    gen_layouts(dir.path(), &["--tune", "1", "--holdout", "0", "--rejects"]);
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter_map(|n| n.strip_suffix(".pdf").map(str::to_string))
        .collect();
    names.sort();
    assert_eq!(names.len(), 7 + 6, "{names:?}");
    let mut submitted = Vec::new();
    for name in &names {
        let bytes = std::fs::read(dir.path().join(format!("{name}.pdf"))).unwrap();
        let truth: serde_json::Value = serde_json::from_slice(
            &std::fs::read(dir.path().join(format!("{name}.json"))).unwrap(),
        )
        .unwrap();
        let (id, job) = bed.submit(&format!("{name}.pdf"), bytes).await;
        submitted.push((name.clone(), truth, id, job));
    }
    let (mut worker, log) = bed.worker(&[]);
    let ids: Vec<String> = submitted.iter().map(|s| s.3.clone()).collect();
    let jobs = bed.t.wait_final("documents", &ids).await;

    let mut written = 0;
    for ((name, truth, id, _), job) in submitted.iter().zip(&jobs) {
        let doc = bed.doc(*id).await;
        let grades: Vec<(String, i32, i16, f64)> = sqlx::query_as(
            "select subject_code, year, term, grade::float8 from grades \
             where tenant_id = $1 and source = $2 order by year, subject_code, term",
        )
        .bind(bed.tenant)
        .bind(format!("document:{id}"))
        .fetch_all(&bed.pool)
        .await
        .unwrap();
        if truth["kind"] == "reject" {
            assert_eq!(job.status, JobStatus::Dead, "{name}: {job:?}");
            assert_eq!(doc.status, "failed", "{name}");
            assert_eq!(
                doc.error_code.as_deref(),
                Some("not_a_transcript"),
                "{name}: {:?}",
                doc.error_message
            );
            assert!(grades.is_empty(), "{name}: {grades:?}");
            assert!(doc.records_student_id.is_none(), "{name}");
            continue;
        }
        assert_eq!(
            job.status,
            JobStatus::Succeeded,
            "{name}: {job:?}\n{}",
            show_log(&log)
        );
        let result = doc.result.clone().unwrap();
        match doc.status.as_str() {
            "needs_review" => {
                assert_eq!(result["needs_review"], true, "{name}");
                assert!(
                    !result["review_reasons"].as_array().unwrap().is_empty(),
                    "{name}"
                );
                assert!(grades.is_empty(), "{name}: held, yet {grades:?}");
                assert!(doc.records_student_id.is_none(), "{name}");
            }
            "succeeded" => {
                written += 1;
                assert!(!grades.is_empty(), "{name}: {result}");
                // Every grade written is the true one.
                for (code, year, term, grade) in &grades {
                    let subject = match truth["years"].as_array() {
                        Some(years) => years.iter().find(|y| y["year"] == *year).and_then(|y| {
                            y["subjects"]
                                .as_array()?
                                .iter()
                                .find(|s| s["code"] == code.as_str())
                        }),
                        None => {
                            assert_eq!(truth["year"], *year, "{name}");
                            truth["subjects"]
                                .as_array()
                                .unwrap()
                                .iter()
                                .find(|s| s["code"] == code.as_str())
                        }
                    };
                    let subject =
                        subject.unwrap_or_else(|| panic!("{name}: {code} {year} not in the truth"));
                    assert_eq!(
                        truth_grade(subject, *term),
                        Some(*grade),
                        "{name}: {code} {year} term {term}"
                    );
                }
                let student: String = sqlx::query_scalar(
                    "select registration from students where tenant_id = $1 and id = $2",
                )
                .bind(bed.tenant)
                .bind(doc.records_student_id.unwrap())
                .fetch_one(&bed.pool)
                .await
                .unwrap();
                assert_eq!(truth["student"]["registration"], student.as_str(), "{name}");
            }
            other => panic!("{name}: status {other}"),
        }
    }
    assert!(
        written >= MIN_FAMILIES_WRITTEN,
        "only {written} of 7 family documents went into the records"
    );
    worker.start_kill().unwrap();
    let _ = worker.wait().await;
}

/// Of the 7 tune-seed family documents, how many must be read well enough
/// to be written (the others are held for review, never written wrong).
const MIN_FAMILIES_WRITTEN: usize = 5;

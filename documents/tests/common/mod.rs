//! Shared by documents/tests: the generated PDFs (made once per generator
//! version by tests/gen/make_pdfs.py, cached under the target dir), the
//! real-world PDFs in ../shared/testdata/pdfs, and a field-by-field scorer
//! of an [`Extraction`] against a ground-truth JSON.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use documents::Extraction;
use serde_json::Value;

/// The generated documents' directory, generating them on first use. Each
/// test binary (and nextest's process per test) shares it; a version stamp
/// (the script's length + hash) invalidates it when the script changes.
pub fn generated() -> PathBuf {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/gen/make_pdfs.py");
    let source = std::fs::read(&script).expect("tests/gen/make_pdfs.py");
    let stamp = source.iter().fold(0xcbf29ce484222325u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x100000001b3)
    });
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("documents-gen-{stamp:016x}"));
    if dir.join("done").exists() {
        return dir;
    }
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("documents-gen-{stamp:016x}.{}", std::process::id()));
    let python = std::env::var("TAREFA_PYTHON")
        .ok()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| {
            let venv = std::env::var("HOME")
                .map(|h| format!("{h}/.cache/tarefa/pytools/bin/python"))
                .unwrap_or_default();
            if Path::new(&venv).exists() {
                venv
            } else {
                "python3".into()
            }
        });
    let out = Command::new(&python)
        .arg(&script)
        .arg(&tmp)
        .output()
        .unwrap_or_else(|e| panic!("running {python}: {e}"));
    assert!(
        out.status.success(),
        "make_pdfs.py failed (needs reportlab, Pillow, img2pdf: `. scripts/lib.sh; ensure_python_test_tools`):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(tmp.join("done"), b"").unwrap();
    // Another process may have won the race; either copy is complete.
    if std::fs::rename(&tmp, &dir).is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    assert!(dir.join("done").exists());
    dir
}

pub fn read_generated(name: &str) -> Vec<u8> {
    std::fs::read(generated().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

pub fn truth(name: &str) -> Value {
    serde_json::from_slice(&read_generated(&format!("{name}.json"))).unwrap()
}

/// A real-world PDF from ../shared/testdata/pdfs (beside the checkout).
pub fn shared(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/testdata/pdfs")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (CI keeps ../shared beside the checkout)",
            path.display()
        )
    })
}

/// Field-level score: how many ground-truth fields the extraction got right.
#[derive(Debug, Default)]
pub struct Score {
    pub right: usize,
    pub total: usize,
    pub wrong: Vec<String>,
}

impl Score {
    pub fn accuracy(&self) -> f64 {
        self.right as f64 / self.total.max(1) as f64
    }

    fn check(&mut self, field: &str, got: &Value, want: &Value) {
        if want.is_null() {
            return;
        }
        self.total += 1;
        let same = match (got.as_f64(), want.as_f64()) {
            (Some(a), Some(b)) => (a - b).abs() < 1e-6,
            _ => got == want,
        };
        if same {
            self.right += 1;
        } else {
            self.wrong.push(format!("{field}: got {got}, want {want}"));
        }
    }

    fn subjects(&mut self, path: &str, got: &Value, want: &Value) {
        let empty = vec![];
        let got = got.as_array().unwrap_or(&empty);
        for (i, w) in want.as_array().unwrap().iter().enumerate() {
            let code = &w["code"];
            let g = got
                .iter()
                .find(|s| &s["code"] == code)
                .cloned()
                .unwrap_or(Value::Null);
            let p = format!("{path}[{i}:{}]", code.as_str().unwrap());
            self.check(&format!("{p}.code"), &g["code"], code);
            if let Some(terms) = w["terms"].as_array() {
                for (t, grade) in terms.iter().enumerate() {
                    let term = g["terms"]
                        .as_array()
                        .and_then(|ts| ts.iter().find(|x| x["term"] == t + 1));
                    let got = term.map_or(Value::Null, |x| x["grade"].clone());
                    self.check(&format!("{p}.terms[{t}]"), &got, grade);
                }
            }
            for k in [
                "final_grade",
                "absences",
                "attendance_pct",
                "status",
                "workload_hours",
            ] {
                self.check(&format!("{p}.{k}"), &g[k], &w[k]);
            }
        }
    }
}

/// Scores `x` against the ground truth `want` (see make_pdfs.py).
pub fn score(x: &Extraction, want: &Value) -> Score {
    let got = serde_json::to_value(x).unwrap();
    let mut s = Score::default();
    s.check("doc_type", &got["doc_type"], &want["doc_type"]);
    s.check("year", &got["year"], &want["year"]);
    for k in ["name", "registration", "birth_date", "class_name"] {
        s.check(
            &format!("student.{k}"),
            &got["student"][k],
            &want["student"][k],
        );
    }
    for k in ["name", "cnpj"] {
        s.check(
            &format!("school.{k}"),
            &got["school"][k],
            &want["school"][k],
        );
    }
    s.check(
        "overall_attendance_pct",
        &got["overall_attendance_pct"],
        &want["overall_attendance_pct"],
    );
    s.subjects("subjects", &got["subjects"], &want["subjects"]);
    if let Some(years) = want["years"].as_array() {
        let empty = vec![];
        let got_years = got["years"].as_array().unwrap_or(&empty);
        for (i, w) in years.iter().enumerate() {
            let g = got_years
                .iter()
                .find(|y| y["year"] == w["year"])
                .cloned()
                .unwrap_or(Value::Null);
            let p = format!("years[{i}:{}]", w["year"]);
            for k in ["year", "grade_level", "overall_attendance_pct", "status"] {
                s.check(&format!("{p}.{k}"), &g[k], &w[k]);
            }
            s.subjects(&format!("{p}.subjects"), &g["subjects"], &w["subjects"]);
        }
    }
    s
}

/// The warnings' fields, for asserting the expected ones are there.
pub fn warning_fields(x: &Extraction) -> Vec<String> {
    x.warnings.iter().map(|w| w.field.clone()).collect()
}

/// Character error rate: edit distance over the reference length, both
/// with whitespace collapsed.
pub fn cer(got: &str, want: &str) -> f64 {
    let norm = |s: &str| {
        s.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .chars()
            .collect::<Vec<char>>()
    };
    let (a, b) = (norm(got), norm(want));
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        prev = cur;
    }
    prev[b.len()] as f64 / b.len().max(1) as f64
}

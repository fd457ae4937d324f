//! Shared by documents/tests: the generated PDFs (made once per generator
//! version by tests/gen/make_pdfs.py, cached under the target dir), the
//! real-world PDFs in ../shared/testdata/pdfs, and a field-by-field scorer
//! of an [`Extraction`] against a ground-truth JSON.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use documents::Extraction;
use serde_json::Value;

#[path = "score.rs"]
mod score_impl;
#[allow(unused_imports)]
pub use score_impl::{score, Score};

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

/// Where a real-world PDF of ../shared/testdata/pdfs (beside the checkout)
/// is; `TAREFA_SHARED` names another place for ../shared (a worktree away
/// from the checkout).
pub fn shared_path(name: &str) -> PathBuf {
    let root = std::env::var("TAREFA_SHARED").map_or_else(
        |_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared"),
        PathBuf::from,
    );
    root.join("testdata/pdfs").join(name)
}

/// A real-world PDF from ../shared/testdata/pdfs.
pub fn shared(name: &str) -> Vec<u8> {
    let path = shared_path(name);
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (CI keeps ../shared beside the checkout; or set TAREFA_SHARED)",
            path.display()
        )
    })
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

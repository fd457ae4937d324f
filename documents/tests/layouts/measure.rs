//! Runs the extractor over a directory written by `gen_layouts.py` and
//! measures it: field accuracy per split (tune / holdout), per mode (text /
//! scan) and per family; for the non-academic look-alikes, whether each was
//! refused (`not_a_transcript`), held for review, or accepted (a false
//! acceptance). Shared by `tests/layouts.rs` and `examples/layouts.rs`
//! (which include it with `#[path]`, beside `tests/common/score.rs`).

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use documents::{extract, ExtractError, Extraction, Options};
use serde_json::Value;

use super::score::score;

/// What happened to one document.
#[derive(Debug)]
pub struct Outcome {
    pub name: String,
    pub family: String,
    /// `tune`, `holdout` or `reject`.
    pub split: String,
    pub scan_dpi: Option<u64>,
    pub result: Result<Extraction, ExtractError>,
    pub right: usize,
    pub total: usize,
    pub wrong: Vec<String>,
}

impl Outcome {
    pub fn mode(&self) -> &'static str {
        if self.scan_dpi.is_some() {
            "scan"
        } else {
            "text"
        }
    }

    /// `rejected` (an error, or nothing read), `review` or `accepted`.
    pub fn verdict(&self) -> &'static str {
        match &self.result {
            Err(_) => "rejected",
            Ok(x) if x.subjects.is_empty() && x.years.iter().all(|y| y.subjects.is_empty()) => {
                "rejected"
            }
            Ok(x) => {
                let v = serde_json::to_value(x).unwrap_or_default();
                if v["needs_review"].as_bool().unwrap_or(false) {
                    "review"
                } else {
                    "accepted"
                }
            }
        }
    }
}

/// Runs `gen_layouts.py OUT args...` with the test tools' Python.
pub fn generate(out: &Path, args: &[&str]) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/layouts/gen_layouts.py");
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
    let o = Command::new(&python)
        .arg(&script)
        .arg(out)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running {python}: {e}"));
    assert!(
        o.status.success(),
        "gen_layouts.py failed (needs reportlab, Pillow, img2pdf: `. scripts/lib.sh; ensure_python_test_tools`):\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Extracts and scores every document in `dir` whose name passes `keep`.
pub fn run_dir(dir: &Path, keep: impl Fn(&str) -> bool) -> Vec<Outcome> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter_map(|n| n.strip_suffix(".json").map(str::to_string))
        .filter(|n| keep(n))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|name| {
            let truth: Value =
                serde_json::from_slice(&std::fs::read(dir.join(format!("{name}.json"))).unwrap())
                    .unwrap();
            let bytes = std::fs::read(dir.join(format!("{name}.pdf"))).unwrap();
            let opts = Options {
                grade_scale_max: truth["scale"].as_f64().unwrap_or(10.0),
                ..Options::default()
            };
            let result = extract(&bytes, &opts);
            let (right, total, wrong) = match (&result, truth["kind"].as_str()) {
                (_, Some("reject")) => (0, 0, vec![]),
                (Ok(x), _) => {
                    let s = score(x, &truth);
                    (s.right, s.total, s.wrong)
                }
                (Err(e), _) => {
                    // Nothing read: every field of the truth is wrong.
                    let empty: Extraction = serde_json::from_value(serde_json::json!({
                        "doc_type": "unknown", "pages": 0, "method": "text", "confidence": 0.0,
                        "student": {}, "school": {}, "year": null, "subjects": [], "years": [],
                        "overall_attendance_pct": null, "warnings": [], "page_info": []
                    }))
                    .unwrap();
                    let s = score(&empty, &truth);
                    (0, s.total, vec![format!("error {e}")])
                }
            };
            Outcome {
                family: truth["family"].as_str().unwrap_or("").to_string(),
                split: truth["split"].as_str().unwrap_or("").to_string(),
                scan_dpi: truth["scan_dpi"].as_u64(),
                name,
                result,
                right,
                total,
                wrong,
            }
        })
        .collect()
}

/// Field accuracy (right, total) of the academic documents passing `f`.
pub fn accuracy(out: &[Outcome], f: impl Fn(&Outcome) -> bool) -> (usize, usize) {
    out.iter()
        .filter(|o| o.split != "reject" && f(o))
        .fold((0, 0), |(r, t), o| (r + o.right, t + o.total))
}

fn pct(r: usize, t: usize) -> String {
    if t == 0 {
        "—".into()
    } else {
        format!("{:.1} % ({r}/{t})", 100.0 * r as f64 / t as f64)
    }
}

/// A Markdown report: accuracy and review rate per split × mode, per
/// family, and the look-alikes' verdicts.
pub fn report(out: &[Outcome]) -> String {
    let mut s = String::new();
    s.push_str("| split | mode | docs | field accuracy | accepted | review | rejected |\n|---|---|---|---|---|---|---|\n");
    for split in ["tune", "holdout"] {
        for mode in ["text", "scan"] {
            let docs: Vec<&Outcome> = out
                .iter()
                .filter(|o| o.split == split && o.mode() == mode)
                .collect();
            if docs.is_empty() {
                continue;
            }
            let (r, t) = accuracy(out, |o| o.split == split && o.mode() == mode);
            let n = |v: &str| docs.iter().filter(|o| o.verdict() == v).count();
            s.push_str(&format!(
                "| {split} | {mode} | {} | {} | {} | {} | {} |\n",
                docs.len(),
                pct(r, t),
                n("accepted"),
                n("review"),
                n("rejected")
            ));
        }
    }
    s.push_str(
        "\n| family | tune text | holdout text | scans (both splits) |\n|---|---|---|---|\n",
    );
    let mut families: BTreeMap<&str, ()> = BTreeMap::new();
    for o in out.iter().filter(|o| o.split != "reject") {
        families.insert(&o.family, ());
    }
    for fam in families.keys() {
        let a = |split: Option<&str>, mode: &str| {
            let (r, t) = accuracy(out, |o| {
                o.family == *fam && split.is_none_or(|s| o.split == s) && o.mode() == mode
            });
            pct(r, t)
        };
        s.push_str(&format!(
            "| {fam} | {} | {} | {} |\n",
            a(Some("tune"), "text"),
            a(Some("holdout"), "text"),
            a(None, "scan")
        ));
    }
    let rejects: Vec<&Outcome> = out.iter().filter(|o| o.split == "reject").collect();
    if !rejects.is_empty() {
        s.push_str("\n| look-alike | verdicts |\n|---|---|\n");
        let mut by: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for o in &rejects {
            let v = match &o.result {
                Err(e) => e.code.clone(),
                Ok(_) => o.verdict().to_string(),
            };
            by.entry(&o.family).or_default().push(v);
        }
        for (fam, v) in by {
            s.push_str(&format!("| {fam} | {} |\n", v.join(", ")));
        }
        let false_accept = rejects.iter().filter(|o| o.verdict() == "accepted").count();
        s.push_str(&format!(
            "\nfalse acceptances: {false_accept} of {}\n",
            rejects.len()
        ));
    }
    s
}

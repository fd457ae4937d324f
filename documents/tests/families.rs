//! The test data of `tests/layouts/gen_families.py` (issue 14) is sound:
//! every generated PDF opens with the pages its truth records, every truth
//! JSON is well-formed for the scorer (`tests/layouts/check_generated.py`),
//! the split is by family (no family on both sides, half held out), and the
//! extractor runs over every document without panicking. No accuracy
//! floors here: those belong with the parser's tuning.

#[path = "common/score.rs"]
mod score;

#[path = "layouts/measure.rs"]
mod measure;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

/// One small set (a seed per family, two scans per split, the look-alikes
/// and one scanned look-alike), generated once per generator version.
fn generated() -> PathBuf {
    measure::families_once(
        env!("CARGO_TARGET_TMPDIR"),
        "families",
        &[
            "--tune",
            "1",
            "--holdout",
            "1",
            "--scans",
            "2",
            "--rejects",
            "--reject-scans",
            "1",
        ],
    )
}

fn truths(dir: &Path) -> Vec<(String, serde_json::Value)> {
    let mut v: Vec<(String, serde_json::Value)> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter_map(|n| n.strip_suffix(".json").map(str::to_string))
        .map(|n| {
            let t = serde_json::from_slice(&std::fs::read(dir.join(format!("{n}.json"))).unwrap())
                .unwrap_or_else(|e| panic!("{n}.json: {e}"));
            (n, t)
        })
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

/// Runs `check_generated.py` over `dir` (every PDF opens, every truth is
/// well-formed); its report, or a failure with it.
fn check_generated(dir: &Path) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/layouts/check_generated.py");
    let o = Command::new(measure::python())
        .arg(&script)
        .arg(dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success(),
        "check_generated.py: {stdout}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    stdout
}

#[test]
fn every_pdf_opens_and_every_truth_is_well_formed() {
    let stdout = check_generated(&generated());
    // 16 families x 1 seed, 2 scans per split (4), 12 look-alikes + 1 scanned
    assert!(
        stdout.trim_end().ends_with("33 passed, 0 failed"),
        "{stdout}"
    );
}

#[test]
fn families_are_split_by_family_half_held_out() {
    let all = truths(&generated());
    let mut by_split: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (_, t) in &all {
        by_split
            .entry(t["split"].as_str().unwrap().to_string())
            .or_default()
            .insert(t["family"].as_str().unwrap().to_string());
    }
    let tune = &by_split["tune_family"];
    let holdout = &by_split["holdout_family"];
    assert_eq!(tune.len(), 8, "{tune:?}");
    assert_eq!(holdout.len(), 8, "{holdout:?}");
    assert!(tune.is_disjoint(holdout), "{tune:?} / {holdout:?}");
    assert!(by_split["reject"].len() >= 12, "{:?}", by_split["reject"]);
    for (name, t) in &all {
        let prefix = match t["split"].as_str().unwrap() {
            "tune_family" => "famtune-",
            "holdout_family" => "famholdout-",
            _ => "famreject-",
        };
        assert!(name.starts_with(prefix), "{name} has split {}", t["split"]);
        let seed = t["seed"].as_u64().unwrap();
        match t["split"].as_str().unwrap() {
            "tune_family" => assert!((1000..5000).contains(&seed), "{name}"),
            "holdout_family" => assert!((5000..7000).contains(&seed), "{name}"),
            _ => assert!(seed >= 7000, "{name}"),
        }
    }
}

#[test]
fn the_extractor_runs_over_every_document_and_the_report_has_each_split() {
    let out = measure::run_dir(&generated(), |_| true);
    assert_eq!(out.len(), 33);
    for o in &out {
        if o.split != "reject" {
            assert!(
                o.total > 10,
                "{}: only {} fields in its truth",
                o.name,
                o.total
            );
        }
        assert!(o.pages >= 1 && o.secs >= 0.0, "{}", o.name);
    }
    let report = measure::report(&out);
    for needle in [
        "| tune_family | text | 8 |",
        "| holdout_family | text | 8 |",
        "| tune_family | scan | 2 |",
        "| holdout_family | scan | 2 |",
        "| new family | split |",
        "false acceptances: ",
        "extraction s/page",
    ] {
        assert!(report.contains(needle), "no {needle:?} in\n{report}");
    }
}

/// The unseen families of `fam_unseen.py` (`--unseen N`, the holdout written
/// in session 10 apart from the parser) are sound too: every PDF opens,
/// every truth is well-formed, their split is `unseen_family` (seeds 9000..)
/// and none of their families is a tune or holdout family. Nothing here
/// reads their accuracy: that is measured once, by bench/documents_layouts.sh.
#[test]
fn unseen_families_are_sound_and_apart_from_the_others() {
    let dir = holdout_set("");
    check_generated(&dir);
    let all = truths(&dir);
    let unseen: BTreeSet<String> = all
        .iter()
        .filter(|(_, t)| t["split"] == "unseen_family")
        .map(|(_, t)| t["family"].as_str().unwrap().to_string())
        .collect();
    assert!(unseen.len() >= 10, "{unseen:?}");
    let others: BTreeSet<String> = truths(&generated())
        .iter()
        .filter(|(_, t)| t["split"] != "reject")
        .map(|(_, t)| t["family"].as_str().unwrap().to_string())
        .collect();
    assert!(unseen.is_disjoint(&others), "{unseen:?} / {others:?}");
    for (name, t) in &all {
        let seed = t["seed"].as_u64().unwrap();
        match t["split"].as_str().unwrap() {
            "unseen_family" => assert!(name.starts_with("famunseen-") && seed >= 9000, "{name}"),
            "reject" => assert!(name.starts_with("famunseenreject-"), "{name}"),
            s => panic!("{name}: split {s}"),
        }
    }
}

/// A later holdout set (`--unseenN 1` with one scan and its look-alikes),
/// generated once per generator version under the same name and arguments
/// by every test that needs it: `n` is "2", "3", … ("" for the first, which
/// has no scan).
fn holdout_set(n: &str) -> std::path::PathBuf {
    let (flag, scans, rejects) = (
        format!("--unseen{n}"),
        format!("--unseen{n}-scans"),
        format!("--unseen{n}-rejects"),
    );
    let mut args = vec!["--tune", "0", "--holdout", "0", flag.as_str(), "1"];
    if !n.is_empty() {
        args.extend([scans.as_str(), "1"]);
    }
    args.push(rejects.as_str());
    measure::families_once(env!("CARGO_TARGET_TMPDIR"), &format!("unseen{n}"), &args)
}

/// Holdout `n` is sound and apart: `check_generated.py` passes `passed`
/// documents, it has at least `families` families and `kinds` look-alike
/// kinds, none of them in the generated set or the holdouts `earlier`, and
/// its documents are `famunseen{n}-`/`famreject{n}-` of seeds `seed`.. of
/// splits `unseen{n}_family` and `reject`. Nothing here reads accuracy.
fn holdout_is_sound_and_apart(
    n: &str,
    passed: usize,
    families: usize,
    kinds: usize,
    seed: u64,
    earlier: &[&str],
) {
    let dir = holdout_set(n);
    let stdout = check_generated(&dir);
    assert!(
        stdout
            .trim_end()
            .ends_with(&format!("{passed} passed, 0 failed")),
        "{stdout}"
    );
    let all = truths(&dir);
    let family_set = |split: &str| -> BTreeSet<String> {
        all.iter()
            .filter(|(_, t)| t["split"] == split)
            .map(|(_, t)| t["family"].as_str().unwrap().to_string())
            .collect()
    };
    let split = format!("unseen{n}_family");
    let mine = family_set(&split);
    let my_rejects = family_set("reject");
    assert!(mine.len() >= families, "{mine:?}");
    assert!(my_rejects.len() >= kinds, "{my_rejects:?}");
    let mut others: BTreeSet<String> = BTreeSet::new();
    let mut other_rejects: BTreeSet<String> = BTreeSet::new();
    let sets: Vec<Vec<(String, serde_json::Value)>> = std::iter::once(truths(&generated()))
        .chain(earlier.iter().map(|e| truths(&holdout_set(e))))
        .collect();
    for (_, t) in sets.iter().flatten() {
        let family = t["family"].as_str().unwrap().to_string();
        if t["split"] == "reject" {
            other_rejects.insert(family);
        } else {
            others.insert(family);
        }
    }
    assert!(mine.is_disjoint(&others), "{mine:?} / {others:?}");
    assert!(
        my_rejects.is_disjoint(&other_rejects),
        "{my_rejects:?} / {other_rejects:?}"
    );
    for (name, t) in &all {
        let s = t["seed"].as_u64().unwrap();
        match t["split"].as_str().unwrap() {
            x if x == split => {
                assert!(
                    name.starts_with(&format!("famunseen{n}-")) && s >= seed,
                    "{name}"
                );
                assert_eq!(t["kind"], "academic", "{name}");
            }
            "reject" => {
                assert!(
                    name.starts_with(&format!("famreject{n}-")) && s >= seed,
                    "{name}"
                );
                assert_eq!(t["kind"], "reject", "{name}");
            }
            x => panic!("{name}: split {x}"),
        }
    }
}

/// The families of `fam_unseen2.py` (`--unseen2 N`, a third holdout written
/// apart from the parser, its examples and its results) are sound too: every
/// PDF opens, every truth is well-formed, their split is `unseen2_family`
/// (seeds 12000..), their look-alikes are `famreject2-` documents of split
/// `reject`, and none of their families or look-alike kinds is one of the
/// tune, holdout or first unseen sets. Nothing here reads their accuracy.
#[test]
fn unseen2_families_are_sound_and_apart_from_the_others() {
    // 11 families x 1 seed, 1 scan, 7 look-alikes
    holdout_is_sound_and_apart("2", 19, 10, 5, 12000, &[""]);
}

/// The families of `fam_unseen3.py` (`--unseen3 N`, a fourth holdout written
/// apart from the parser, its examples and its results) are sound too: every
/// PDF opens, every truth is well-formed, their split is `unseen3_family`
/// (seeds 13000..), their look-alikes are `famreject3-` documents of split
/// `reject`, and none of their families or look-alike kinds is one of the
/// tune, holdout, first or second unseen sets. Nothing here reads their
/// accuracy.
#[test]
fn unseen3_families_are_sound_and_apart_from_the_others() {
    // 14 families x 1 seed, 1 scan, 8 look-alikes
    holdout_is_sound_and_apart("3", 23, 12, 7, 13000, &["", "2"]);
}

//! The real-world PDFs in ../shared/testdata/pdfs (origin and licence in
//! its README): OCR accuracy on a two-column JBIG2 scan against its ground
//! truth, CCITT decoding, rotated pages, skew, and the files other PDF
//! libraries choke on.

mod common;

use common::{cer, shared};
use documents::{extract, inspect, page_texts, Method, Options};

/// linn.pdf through hayro + Tesseract (Debian's fast `por+eng` models):
/// CER measured 1-2 % (crates-checked.md §2 saw 1.0 % with `eng`); the bound
/// leaves room for model differences.
const LINN_MAX_CER: f64 = 0.04;

#[test]
fn linn_ocr_matches_its_ground_truth() {
    let pages = page_texts(&shared("ocrmypdf-linn.pdf"), &Options::default()).unwrap();
    let want = String::from_utf8(shared("ocrmypdf-linn.txt")).unwrap();
    let got: String = pages
        .iter()
        .map(|(_, t)| t.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    let c = cer(&got, &want);
    eprintln!("linn CER {:.2} %", 100.0 * c);
    assert!(
        c <= LINN_MAX_CER,
        "linn CER {:.2} % > {:.0} %\n{got}",
        100.0 * c,
        100.0 * LINN_MAX_CER
    );
    assert_eq!(pages[0].0.method, Method::Ocr);
}

#[test]
fn ccitt_scan_is_decoded_and_read() {
    let pages = page_texts(&shared("ocrmypdf-ccitt.pdf"), &Options::default()).unwrap();
    let want = String::from_utf8(shared("ocrmypdf-linn.txt")).unwrap();
    let got: String = pages
        .iter()
        .map(|(_, t)| t.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    let c = cer(&got, &want);
    eprintln!("ccitt CER {:.2} %", 100.0 * c);
    assert!(c <= LINN_MAX_CER, "ccitt CER {:.2} %", 100.0 * c);
}

/// One page of cardinal.pdf (split with poppler's `pdfseparate`, so each
/// page is its own test and stays well inside the nextest hang guard).
fn cardinal_page(n: u32) -> documents::PageInfo {
    let src = common::shared_path("ocrmypdf-cardinal.pdf");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("page.pdf");
    let ok = std::process::Command::new("pdfseparate")
        .args(["-f", &n.to_string(), "-l", &n.to_string()])
        .arg(&src)
        .arg(&out)
        .status()
        .expect("pdfseparate (poppler-utils)");
    assert!(ok.success());
    // 200 dpi: orientation is the point here, and it halves the OCR time.
    let pages = page_texts(
        &std::fs::read(&out).unwrap(),
        &Options {
            dpi: 200,
            ..Options::default()
        },
    )
    .unwrap();
    let (info, text) = pages.into_iter().next().unwrap();
    let want = String::from_utf8(shared("ocrmypdf-linn.txt")).unwrap();
    // Every page holds linn's text, turned by a quarter more each time.
    let c = cer(&text, &want);
    eprintln!(
        "cardinal page {n}: turned {}°, confidence {}, CER {:.2} %",
        info.rotation,
        info.confidence,
        100.0 * c
    );
    assert!(info.confidence > 60.0, "page {n}: {info:?}");
    assert!(
        c < 0.10,
        "page {n} (turned {}°) CER {:.2} %:\n{text}",
        info.rotation,
        100.0 * c
    );
    info
}

#[test]
fn cardinal_page_1_upright() {
    assert_eq!(cardinal_page(1).rotation.round() as i32 % 360, 0);
}

#[test]
fn cardinal_page_2_turned() {
    assert_eq!(cardinal_page(2).rotation.round() as i32, 270);
}

#[test]
fn cardinal_page_3_turned() {
    assert_eq!(cardinal_page(3).rotation.round() as i32, 180);
}

#[test]
fn cardinal_page_4_turned() {
    assert_eq!(cardinal_page(4).rotation.round() as i32, 90);
}

#[test]
fn skewed_page_is_read() {
    let pages = page_texts(&shared("ocrmypdf-skew.pdf"), &Options::default()).unwrap();
    let want = String::from_utf8(shared("ocrmypdf-linn.txt")).unwrap();
    let (info, text) = &pages[0];
    let c = cer(text, &want);
    eprintln!("skew CER {:.2} %, rotation {}", 100.0 * c, info.rotation);
    assert!(info.confidence > 60.0, "{info:?}");
    assert!(c < 0.10, "skew CER {:.2} %", 100.0 * c);
}

#[test]
fn pr_136_unusual_encoding_does_not_panic() {
    let bytes = shared("pdfplumber-pr-136-example.pdf");
    let o = Options {
        ocr: false,
        ..Options::default()
    };
    match page_texts(&bytes, &o) {
        Ok(pages) => assert!(!pages.is_empty()),
        Err(e) => assert_ne!(e.code, "internal", "{e}"),
    }
}

#[test]
fn issue_848_odd_trailer_loads() {
    let bytes = shared("pdfplumber-issue-848.pdf");
    let info = inspect(&bytes, &Options::default()).unwrap();
    assert!(info.pages >= 1);
    let pages = page_texts(
        &bytes,
        &Options {
            ocr: false,
            ..Options::default()
        },
    )
    .unwrap();
    assert!(
        pages
            .iter()
            .any(|(i, _)| i.method == Method::Text && i.chars > 100),
        "{pages:?}"
    );
}

#[test]
fn senate_words_are_split_by_position() {
    let path = common::shared_path("pdfplumber-senate-expenditures.pdf");
    let pages = page_texts(
        &shared("pdfplumber-senate-expenditures.pdf"),
        &Options {
            ocr: false,
            ..Options::default()
        },
    )
    .unwrap();
    let ours: Vec<String> = pages
        .iter()
        .flat_map(|(_, t)| t.split_whitespace().map(String::from))
        .collect();
    // poppler's pdftotext (poppler-utils, a runtime package) as the oracle.
    let out = std::process::Command::new("pdftotext")
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext");
    let theirs: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(String::from)
        .collect();
    let mut pool: std::collections::HashMap<&str, i64> = std::collections::HashMap::new();
    for w in &theirs {
        *pool.entry(w).or_default() += 1;
    }
    let mut common = 0;
    for w in &ours {
        if let Some(n) = pool.get_mut(w.as_str()).filter(|n| **n > 0) {
            *n -= 1;
            common += 1;
        }
    }
    let (recall, precision) = (
        common as f64 / theirs.len() as f64,
        common as f64 / ours.len() as f64,
    );
    eprintln!(
        "senate: {} words, pdftotext {}; recall {recall:.3}, precision {precision:.3}",
        ours.len(),
        theirs.len()
    );
    assert!(ours.len() > 300);
    assert!(
        recall > 0.97 && precision > 0.97,
        "recall {recall:.3} precision {precision:.3}"
    );
    assert!(ours.iter().any(|w| w == "LEGISLATIVE") && ours.iter().any(|w| w == "CORRESPONDENT"));
}

#[test]
fn ca_warn_report_has_16_text_pages() {
    let bytes = shared("pdfplumber-ca-warn-report.pdf");
    assert_eq!(inspect(&bytes, &Options::default()).unwrap().pages, 16);
    let opts = Options {
        ocr: false,
        ..Options::default()
    };
    let pages = page_texts(&bytes, &opts).unwrap();
    let info: Vec<&documents::PageInfo> = pages.iter().map(|(i, _)| i).collect();
    assert_eq!(info.len(), 16);
    assert!(info.iter().all(|p| p.method == Method::Text), "{info:?}");
    assert!(info[..15].iter().all(|p| p.chars > 1000), "{info:?}");
    assert!(info[15].chars > 100, "{info:?}");
    // A layoff report, not a transcript: refused, nothing written (issue 14).
    let e = extract(&bytes, &opts).unwrap_err();
    assert_eq!(e.code, "not_a_transcript", "{e}");
}

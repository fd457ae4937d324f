//! Bench driver for bench/documents.sh (issue 7, point 8): runs the
//! extractor on the given PDFs `--iterations` times in this process and
//! prints one JSON line `{mode, dpi, pages, seconds, pages_per_s,
//! s_per_page}`; the script runs it under `/usr/bin/time -v` for peak RSS
//! and runs pdftotext / pdftoppm + tesseract on the same pages to compare.
//!
//! `docbench text <iterations> <pdf>...` — text layer only (OCR off);
//! `docbench ocr <dpi> <pdf>...` — every page OCR'd (render, orient,
//! deskew, Tesseract), once.

use std::time::Instant;

use documents::{page_texts, Options};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: docbench text <iterations> <pdf>... | docbench ocr <dpi> <pdf>...";
    let (mode, n, files) = match args.as_slice() {
        [mode, n, files @ ..] if !files.is_empty() => {
            (mode.as_str(), n.parse::<u32>().expect(usage), files)
        }
        _ => {
            eprintln!("{usage}");
            std::process::exit(2);
        }
    };
    let inputs: Vec<Vec<u8>> = files
        .iter()
        .map(|f| std::fs::read(f).unwrap_or_else(|e| panic!("{f}: {e}")))
        .collect();
    let (opts, iterations, dpi) = match mode {
        "text" => (
            Options {
                ocr: false,
                ..Options::default()
            },
            n,
            0,
        ),
        "ocr" => (
            Options {
                dpi: n,
                ..Options::default()
            },
            1,
            n,
        ),
        _ => {
            eprintln!("{usage}");
            std::process::exit(2);
        }
    };
    let mut pages = 0usize;
    let mut chars = 0u64;
    let start = Instant::now();
    for _ in 0..iterations {
        for (f, bytes) in files.iter().zip(&inputs) {
            let read = page_texts(bytes, &opts).unwrap_or_else(|e| panic!("{f}: {e}"));
            pages += read.len();
            chars += read.iter().map(|(_, t)| t.len() as u64).sum::<u64>();
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{}",
        serde_json::json!({
            "mode": mode, "dpi": dpi, "pages": pages, "chars": chars, "seconds": secs,
            "pages_per_s": pages as f64 / secs, "s_per_page": secs / pages.max(1) as f64,
        })
    );
}

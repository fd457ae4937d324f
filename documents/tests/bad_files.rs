//! Bad files fail alone, with their code, in bounded time and memory:
//! empty, not a PDF, truncated, encrypted, decompression bomb, too many
//! pages, image-only with OCR off. None may panic.

mod common;

use common::{read_generated, shared};
use documents::{extract, inspect, Options};

fn code(bytes: &[u8], opts: &Options) -> String {
    extract(bytes, opts)
        .err()
        .map(|e| e.code)
        .unwrap_or_else(|| "ok".into())
}

#[test]
fn empty_and_not_pdf() {
    let o = Options::default();
    assert_eq!(code(b"", &o), "empty");
    assert_eq!(code(b"PK\x03\x04 zip file", &o), "not_pdf");
    assert_eq!(code(b"<html><body>oops</body></html>", &o), "not_pdf");
    assert_eq!(inspect(b"GIF89a", &o).unwrap_err().code, "not_pdf");
}

#[test]
fn truncated_files_fail_as_corrupt_or_read_what_is_there() {
    let o = Options {
        ocr: false,
        ..Options::default()
    };
    let full = read_generated("boletim_table.pdf");
    for cut in [20, 200, full.len() / 3, full.len() / 2, full.len() - 30] {
        let c = code(&full[..cut], &o);
        assert!(
            ["corrupt", "ok", "needs_ocr"].contains(&c.as_str()),
            "cut at {cut}: {c}"
        );
    }
    assert_eq!(code(&full[..20], &o), "corrupt");
}

#[test]
fn encrypted_pdf_is_refused() {
    let bytes = shared("pdfplumber-password-example.pdf");
    assert_eq!(code(&bytes, &Options::default()), "encrypted");
    let info = inspect(&bytes, &Options::default()).unwrap();
    assert!(info.encrypted);
}

#[test]
fn decompression_bomb_is_stopped_at_the_cap() {
    let bytes = read_generated("bomb.pdf");
    assert!(bytes.len() < 200_000);
    let small = Options {
        max_inflated_bytes: 16 * 1024 * 1024,
        ..Options::default()
    };
    let e = extract(&bytes, &small).unwrap_err();
    assert_eq!(e.code, "decompression_bomb", "{e}");
    // Under a cap it fits, it is just an empty page.
    let big = Options {
        max_inflated_bytes: 100 * 1024 * 1024,
        ocr: false,
        ..Options::default()
    };
    assert_eq!(code(&bytes, &big), "needs_ocr");
}

#[test]
fn too_many_pages() {
    let bytes = read_generated("blank60.pdf");
    assert_eq!(code(&bytes, &Options::default()), "too_many_pages");
    assert_eq!(
        inspect(&bytes, &Options::default()).unwrap_err().code,
        "too_many_pages"
    );
    let o = Options {
        max_pages: 60,
        ..Options::default()
    };
    assert_eq!(inspect(&bytes, &o).unwrap().pages, 60);
}

#[test]
fn image_only_with_ocr_off_needs_ocr() {
    let bytes = read_generated("boletim_table_scan.pdf");
    let o = Options {
        ocr: false,
        ..Options::default()
    };
    let e = extract(&bytes, &o).unwrap_err();
    assert_eq!(e.code, "needs_ocr");
    assert_eq!(
        inspect(&bytes, &o).unwrap(),
        documents::PdfInfo {
            pages: 1,
            encrypted: false
        }
    );
}

#[test]
fn garbage_inside_a_valid_header_never_panics() {
    let o = Options {
        ocr: false,
        ..Options::default()
    };
    let mut seed = 12345u64;
    let base = read_generated("boletim_lines.pdf");
    for _ in 0..20 {
        let mut b = base.clone();
        for _ in 0..50 {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let i = (seed >> 33) as usize % b.len();
            b[i] = (seed >> 17) as u8;
        }
        let _ = extract(&b, &o);
    }
}

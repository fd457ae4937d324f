//! What the caller may tune per extraction (limits, OCR, languages, scale):
//! `Options`, deserialised from the job payload or built from `worker
//! extract` flags. Always compiled, so callers without the `extract` feature
//! can build a payload.

use serde::{Deserialize, Serialize};

use crate::model::DocType;

/// Default page limit: a boletim is 1-2 pages, a histórico rarely past 10.
pub const MAX_PAGES_DEFAULT: u32 = 50;
/// Default cap on any one decompressed stream (64 MiB): a page's content
/// stream is a few KB, a 300 dpi A4 scan about 9 MB of gray pixels.
pub const MAX_INFLATED_BYTES_DEFAULT: u64 = 64 * 1024 * 1024;
/// Tesseract languages: `por` reads the accents, `eng` helps with digits.
pub const LANGUAGES_DEFAULT: &str = "por+eng";
/// OCR resolution: 300 dpi is Tesseract's sweet spot for 10-12 pt text.
pub const DPI_DEFAULT: u32 = 300;
/// Brazilian grades are 0-10 unless the tenant says otherwise (0-100).
pub const GRADE_SCALE_MAX_DEFAULT: f64 = 10.0;

/// Extraction options; every field has a default, so `{}` is valid JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Options {
    /// More pages than this fails with `too_many_pages`.
    pub max_pages: u32,
    /// Cap, in bytes, for any decompressed stream; past it, `decompression_bomb`.
    pub max_inflated_bytes: u64,
    /// OCR pages without usable text; off, such a page fails with `needs_ocr`.
    pub ocr: bool,
    /// Tesseract languages (`por+eng`).
    pub languages: String,
    /// Render resolution for OCR.
    pub dpi: u32,
    /// Highest valid grade (10 or 100); grades above it are warnings.
    pub grade_scale_max: f64,
    /// What the uploader says it is; detected when `None`.
    pub doc_type: Option<DocType>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            max_pages: MAX_PAGES_DEFAULT,
            max_inflated_bytes: MAX_INFLATED_BYTES_DEFAULT,
            ocr: true,
            languages: LANGUAGES_DEFAULT.to_string(),
            dpi: DPI_DEFAULT,
            grade_scale_max: GRADE_SCALE_MAX_DEFAULT,
            doc_type: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_json_gives_the_defaults() {
        let o: Options = serde_json::from_str("{}").unwrap();
        assert_eq!(o, Options::default());
        assert_eq!(o.max_pages, 50);
        assert_eq!(o.max_inflated_bytes, 64 * 1024 * 1024);
        assert!(o.ocr);
        assert_eq!(o.languages, "por+eng");
        assert_eq!(o.dpi, 300);
        assert_eq!(o.grade_scale_max, 10.0);
        let o: Options = serde_json::from_str(r#"{"ocr":false,"doc_type":"historico"}"#).unwrap();
        assert!(!o.ocr);
        assert_eq!(o.doc_type, Some(DocType::Historico));
    }
}

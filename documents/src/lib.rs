//! Document extraction for Tarefa: school report cards (boletins) and
//! transcripts (históricos escolares) as PDF — text or scanned — to
//! structured, validated grades.
//!
//! # Layout
//! - [`model`]: the result shape shared with the job kind and the API.
//! - [`options`]: what a caller may tune (limits, OCR, languages, scale).
//! - `pdf` (feature `pdf`): bomb-safe loading and [`inspect`] (pages, encrypted).
//! - feature `extract`: [`extract`], [`page_texts`] (each page's text, for tests and
//!   the bench) and [`cli::run`] (the body of `worker extract`):
//!   - `text`: content-stream walk → positioned glyphs (fonts, encodings, ToUnicode);
//!   - `layout`: glyphs → words (by gaps) → lines (by y) → cells (by x);
//!   - `ocr`: render (hayro, pdftoppm fallback), orientation, deskew, Tesseract,
//!     grade cells one by one;
//!   - `parse`: lines → student, school, subjects and years; `normalize`
//!     (numbers, dates, subject names) and `validate` (ranges, média, CNPJ).
//!
//! Everything that touches a PDF runs under `catch_unwind`: a bad file fails
//! alone with an [`ExtractError`] code, never a panic. The worker additionally
//! runs `worker extract` as a subprocess with rlimits and a timeout.

pub mod model;
pub mod options;

pub use model::*;
pub use options::Options;

#[cfg(feature = "pdf")]
mod pdf;
#[cfg(feature = "pdf")]
pub use pdf::{inspect, PdfInfo};

#[cfg(feature = "extract")]
pub mod cli;
#[cfg(feature = "extract")]
mod extract;
#[cfg(feature = "extract")]
pub use extract::{extract, page_texts};
#[cfg(feature = "extract")]
mod layout;
#[cfg(feature = "extract")]
pub mod normalize;
#[cfg(feature = "extract")]
mod ocr;
#[cfg(feature = "extract")]
pub mod parse;
#[cfg(feature = "extract")]
mod text;
#[cfg(feature = "extract")]
pub mod validate;

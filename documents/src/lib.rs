//! Document extraction for Tarefa: school report cards (boletins) and
//! transcripts (históricos escolares) as PDF — text or scanned — to
//! structured, validated grades.
//!
//! # Layout
//! - [`model`]: the result shape shared with the job kind and the API.
//! - [`options`]: what a caller may tune (limits, OCR, languages, scale).
//! - [`review`]: precision first — whether a result may be written to the
//!   records as it is or must wait for a person (`needs_review`).
//! - [`validate`]: ranges, média vs terms, CNPJ check digits, as warnings;
//!   without features too, so the job can check a reviewer's corrections and
//!   an LLM's answer with the same rules.
//! - [`normalize`]: pt-BR values and subject names to canonical ones (the
//!   `ptbr` crate's rules plus the subject list); without features too, so
//!   `jobs` can build an extraction result by hand.
//! - `pdf` (feature `pdf`): bomb-safe loading and [`inspect`] (pages, encrypted).
//! - feature `extract`: [`extract`], [`page_texts`] (each page's text, for tests and
//!   the bench) and [`cli::run`] (the body of `worker extract`):
//!   - `text`: content-stream walk → positioned glyphs (fonts, encodings, ToUnicode);
//!   - `layout`: glyphs → words (by gaps) → lines (by y) → cells (by x);
//!   - `ocr`: render (hayro, pdftoppm fallback), orientation, deskew, Tesseract,
//!     grade cells one by one;
//!   - `parse`: lines → student, school, subjects and years, with
//!     [`normalize`];
//!   - `classify`: `not_a_transcript` for invoices, receipts, contracts and
//!     anything without a grade grid of curriculum subjects.
//!
//! Everything that touches a PDF runs under `catch_unwind`: a bad file fails
//! alone with an [`ExtractError`] code, never a panic. The worker additionally
//! runs `worker extract` as a subprocess with rlimits and a timeout.

pub mod model;
pub mod normalize;
pub mod options;
pub mod review;

pub use model::*;
pub use options::Options;

#[cfg(feature = "pdf")]
mod pdf;
#[cfg(feature = "pdf")]
pub use pdf::{inspect, PdfInfo};

#[cfg(feature = "extract")]
mod classify;
#[cfg(feature = "extract")]
pub mod cli;
#[cfg(feature = "extract")]
mod extract;
#[cfg(feature = "extract")]
pub use extract::{extract, extract_with_text, page_texts};
#[cfg(feature = "extract")]
mod layout;
#[cfg(feature = "extract")]
mod ocr;
#[cfg(feature = "extract")]
pub mod parse;
#[cfg(feature = "extract")]
mod text;
pub mod validate;

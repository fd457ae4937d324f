//! Document extraction for Tarefa: school report cards (boletins) and
//! transcripts (históricos escolares) as PDF — text or scanned — to
//! structured, validated grades. [`model`] is the result shape shared with
//! the job kind and the API; the `extract` feature holds the extractor.

pub mod model;

pub use model::*;

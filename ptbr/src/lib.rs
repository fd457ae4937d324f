//! pt-BR text rules, in one place for every crate that reads or writes
//! Brazilian data: the documents extractor, academic ingestion (CSV and
//! JSON), alert rules, tenant slugs and message templates. Two readings of
//! one subject must give one `academic_subjects.code`, so there is one
//! [`slug`], one [`fold`], one decimal-comma parser and one date parser.
//!
//! # Layout
//! - [`text`]: [`fold`] (lower case without accents, char for char) and
//!   [`slug`] (subject codes, tenant slugs: `Língua Portuguesa 1º ano` →
//!   `lingua-portuguesa-1-ano`, at most [`SLUG_MAX`] chars).
//! - [`number`]: [`parse_decimal`] (`8,5`, `1.234,56`, `72,5%`),
//!   [`format_decimal`] (`8,5`), [`format_number`], [`format_money`]
//!   (`R$ 1.234,56`).
//! - [`date`]: [`parse_date`] (`dd/mm/aaaa`, `d/m/aaaa`, ISO),
//!   [`parse_date_loose`] (also `dd-mm-aa`, as printed documents write
//!   them), [`format_date`] (`15/12/2025`).
//!
//! Pure functions on std and chrono only: `documents` must not depend on
//! `jobs`, and both depend on this.

pub mod date;
pub mod number;
pub mod text;

pub use date::{format_date, parse_date, parse_date_loose, YEARS};
pub use number::{format_cents, format_decimal, format_money, format_number, parse_decimal};
pub use text::{fold, fold_char, slug, SLUG_MAX};

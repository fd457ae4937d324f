//! Report rendering for Tarefa: report cards (boletins), class, campaign and
//! occupancy reports as PDF (typst as a library, charts from plotters as
//! SVG), XLSX (rust_xlsxwriter, native charts), CSV (`;`, BOM, decimal
//! comma) and ZIPs of PDFs; and [`ReportRenderer`], the `reports.render`
//! handler. Only the worker (and this crate's tests and the bench) link
//! this crate: the request model, rows and API live in
//! `jobs::kinds::reports` and api-lite (see that module for the seam).
//!
//! Layout:
//! - `world`: the typst World (embedded fonts, in-memory files)
//! - `pdf`: compile a template, concatenate batch PDFs
//! - `charts`: SVG charts
//! - `tables`: sheets → XLSX / CSV
//! - `card`: the boletim's numbers (média, frequência, situação)
//! - `data`: reading academic records
//! - `types`: one module per report type
//! - `output`: the render context, errors, the finished file
//! - `render`: the job handler (row → render → blob store → row)

pub mod card;
pub mod charts;
pub mod data;
pub mod output;
pub mod pdf;
pub mod render;
pub mod tables;
pub mod types;
pub mod world;

use std::sync::Arc;

use jobs::kinds::reports::RenderKind;
use jobs::kinds::Registry;

pub use render::ReportRenderer;

/// The kind registry with `reports.render` able to run (the worker's).
pub fn registry() -> Registry {
    let mut r = Registry::builtin();
    r.register_erased(Arc::new(RenderKind::with_renderer(Arc::new(
        ReportRenderer,
    ))));
    r
}

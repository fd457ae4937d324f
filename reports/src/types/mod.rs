//! One module per report type: load its data, compute, and lay it out as
//! typst data (PDF) and as sheets (XLSX, CSV).

pub mod campaign;
pub mod campaign_run;
pub mod class_report;
pub mod occupancy;
pub mod report_card;

//! Forecasting pipelines: CSV datasets validated into regular series,
//! models from augurs chosen by honest rolling-origin backtests, batch and
//! real-time predictions — and the `forecast.*` job kinds that run them.
//!
//! Layout. Pure parts (no I/O):
//! - `freq`: time stamps (ISO, `dd/mm/aaaa`), frequency detection, the grid.
//! - `table`: the CSV's text, delimiter and column roles.
//! - `dataset`: cells → regular series + the validation report.
//! - `models`: seasonal naive / naive baselines, AutoETS, MSTL+AutoETS (augurs).
//! - `metrics`: MAE, RMSE, MAPE, sMAPE, MASE.
//! - `train`: backtests, choice by MASE, fallbacks; many series in parallel.
//! - `monitor`: actuals scored against stored forecasts; drift.
//! - `export`: a batch prediction as an XLSX workbook.
//!
//! Jobs and storage (PostgreSQL, the queue engine, through `jobs`):
//! - `sql`: migration 0015's tables.
//! - `kinds`: `forecast.validate`, `forecast.train`, `forecast.predict`,
//!   registered by the worker and api-lite with [`kinds::register`].
//!
//! This crate sits beside `jobs` (not inside it) so augurs and rayon never
//! reach `jobs` or `scheduler`; api-lite uses it to answer real-time predictions.

pub mod dataset;
pub mod export;
pub mod freq;
pub mod metrics;
pub mod models;
pub mod monitor;
pub mod table;
pub mod train;

pub mod kinds;
pub mod sql;

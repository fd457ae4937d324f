//! The ops console at `/console`: server-rendered pages for people who watch
//! and steer queues, behind an ops-user login (argon2 password, session
//! cookie, CSRF token on every form). Admin API keys keep working on the JSON
//! API (`/v1/...`); the console is for browsers.
//!
//! Layout:
//! - [`session`]: login/logout, the `Ops` extractor, CSRF; [`users`]: their SQL and hashing.
//! - [`pages`]: overview, queue; [`job`]: one job; [`admin`]: workers, schedules, tenants, audit.
//! - [`actions`]: bulk retry/cancel/delete, pause/resume.
//! - Per tenant ([`tenant`]: the `?tenant=` choice): [`outbox`] (notification rows by
//!   status, `unknown` first), [`documents`] (failed ones with their reason, re-extract),
//!   [`review`] (the held documents' queue; a draft as a form), [`review_form`] (its
//!   corrections posted: approve or reject),
//!   [`alerts`] (by rule and status, ack), [`payments`] (by status, `needs_review` first), [`campaigns`] (progress, rates, ETA;
//!   pause/resume/cancel), [`reports`] (by status, progress, errors), [`forecasting`] (datasets
//!   and models with their training progress).
//! - [`events`]: event dead letters of every tenant (retry, discard).
//! - [`live`]: the JSON the page script polls every 2 s; [`mask`]: sensitive payload fields.
//! - [`harden`]: CSP and the other security headers, the cookies' `Secure` flag.
//! - [`html`]: escaping, layout, the embedded CSS and JS (`assets/`; no CDN).

pub mod actions;
pub mod admin;
pub mod alerts;
mod batches;
pub mod campaigns;
pub mod documents;
pub mod events;
pub mod forecasting;
pub mod harden;
pub mod html;
pub mod job;
pub mod live;
pub mod mask;
pub mod outbox;
pub mod pages;
pub mod payments;
pub mod reports;
pub mod review;
pub mod review_form;
pub mod session;
pub mod tenant;
pub mod users;

use axum::routing::{get, post};
use axum::Router;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console", get(pages::overview))
        .route(
            "/console/login",
            get(session::login_form).post(session::login),
        )
        .route("/console/logout", post(session::logout))
        .route("/console/assets/{name}", get(html::asset))
        .route("/console/live/queues", get(live::queues))
        .route("/console/queues/{queue}", get(pages::queue))
        .route("/console/queues/{queue}/bulk", post(actions::bulk))
        .route("/console/queues/{queue}/pause", post(actions::pause))
        .route("/console/queues/{queue}/resume", post(actions::resume))
        .route("/console/jobs/{queue}/{id}", get(job::job))
        .route("/console/workers", get(admin::workers))
        .route("/console/schedules", get(admin::schedules))
        .route(
            "/console/schedules/{id}/{action}",
            post(admin::schedule_action),
        )
        .route("/console/tenants", get(admin::tenants))
        .route("/console/audit", get(admin::audit_page))
        .route("/console/outbox", get(outbox::outbox))
        .route("/console/payments", get(payments::payments))
        .route("/console/campaigns", get(campaigns::campaigns))
        .route("/console/campaigns/{id}/{action}", post(campaigns::action))
        .route("/console/reports", get(reports::reports))
        .route("/console/batches", get(batches::batches))
        .route("/console/forecasting", get(forecasting::forecasting))
        .route("/console/documents", get(documents::documents))
        .route(
            "/console/documents/{id}/reextract",
            post(documents::reextract),
        )
        .route("/console/documents/review", get(review::queue))
        .route(
            "/console/documents/{id}/review",
            get(review::page).post(review_form::submit),
        )
        .route("/console/alerts", get(alerts::alerts))
        .route("/console/alerts/{id}/ack", post(alerts::ack))
        .route("/console/events", get(events::dead_letters))
        .route("/console/events/{id}/{action}", post(events::action))
}

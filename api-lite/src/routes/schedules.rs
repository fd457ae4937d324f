//! `/v1/schedules`: per-tenant cron schedules. A stub until the scheduler
//! work replaces this body with its CRUD routes.

use axum::Router;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
}

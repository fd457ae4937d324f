//! Row-level security per request (see `jobs::store::scope`): a request that
//! authenticated as a tenant runs its queries as that tenant, so a handler
//! that forgets its tenant filter still sees only that tenant's rows.
//! Routers that act across tenants by design (the console's operators,
//! provider webhooks that find their tenant from the payload, health and
//! metrics) are wrapped in [`system`] instead; any other request acts for
//! nobody and its queries find no tenant row.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;

use jobs::store::scope;

use crate::auth::Tenant;

/// Middleware (inside the limits middleware, which authenticates): the
/// authenticated tenant's scope for the rest of the request.
pub async fn tenant(req: Request, next: Next) -> Response {
    match req.extensions().get::<Tenant>().map(|t| t.id) {
        Some(id) => scope::as_tenant(id, next.run(req)).await,
        None => next.run(req).await,
    }
}

/// Middleware for routers that act across tenants by design.
pub async fn system(req: Request, next: Next) -> Response {
    scope::as_system(next.run(req)).await
}

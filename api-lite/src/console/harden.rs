//! Browser hardening of every console answer: a strict Content-Security-Policy
//! (the console serves its own CSS and JS from `/console/assets`, with no
//! inline script or style, so `'self'` is all it needs; `frame-ancestors
//! 'none'` against clickjacking), `Referrer-Policy: no-referrer`,
//! `X-Content-Type-Options: nosniff`, `X-Frame-Options: DENY` for old
//! browsers, and the `Secure` flag on its cookies as `console.secure_cookie`
//! says: `auto` marks them unless `api.listen` is a loopback address, and
//! always behind a proxy that sends `X-Forwarded-Proto: https`.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

use crate::state::AppState;

pub const CSP: &str =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/// Whether the console's cookies get `Secure` for this request.
pub fn secure_cookies(st: &AppState, headers: &HeaderMap) -> bool {
    let https = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"));
    match st.settings.console.secure_cookie.as_str() {
        "always" => true,
        "never" => https,
        _ => {
            https
                || !st
                    .settings
                    .api
                    .listen
                    .parse::<std::net::SocketAddr>()
                    .is_ok_and(|a| a.ip().is_loopback())
        }
    }
}

/// Middleware on the console's routes (see the module doc).
pub async fn harden(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let secure = secure_cookies(&st, req.headers());
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if secure {
        let cookies: Vec<HeaderValue> = h
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| match v.to_str() {
                Ok(s) if !s.to_ascii_lowercase().contains("; secure") => {
                    HeaderValue::from_str(&format!("{s}; Secure")).unwrap_or_else(|_| v.clone())
                }
                _ => v.clone(),
            })
            .collect();
        h.remove(header::SET_COOKIE);
        for c in cookies {
            h.append(header::SET_COOKIE, c);
        }
    }
    res
}

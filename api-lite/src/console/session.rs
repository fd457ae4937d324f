//! Console sign-in: the [`Ops`] extractor (session cookie → ops user), the
//! login and logout handlers, and the CSRF check every console POST runs.
//!
//! Cookie `tarefa_console`: a random token, `HttpOnly; SameSite=Strict;
//! Path=/console`, plus `Secure` as `console.secure_cookie` says (added by `harden.rs`). Without a valid one a
//! page redirects to the login (303) and a `/console/live/*` JSON call gets 401.
//! CSRF: each session has a token that every POST form carries (`csrf`); the
//! login form, before any session exists, uses a double-submit cookie.
//! Throttling: after [`LOGIN_FAILURES_MAX`] failed sign-ins of one e-mail
//! within [`LOGIN_WINDOW_MINUTES`] (counted from the audit trail, since its
//! last successful sign-in) the e-mail gets 429 with `Retry-After` until the
//! oldest of them leaves the window, without the password being checked.

use axum::body::Bytes;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use chrono::Utc;
use serde_json::json;

use super::html::{self, esc};
use super::users;
use crate::audit;
use crate::keys::hashes_match;
use crate::state::AppState;

pub const COOKIE: &str = "tarefa_console";
const LOGIN_CSRF_COOKIE: &str = "tarefa_login_csrf";

/// A signed-in ops user.
#[derive(Clone, Debug)]
pub struct Ops {
    pub email: String,
    pub csrf: String,
}

impl Ops {
    /// How the audit trail names this user.
    pub fn actor(&self) -> String {
        format!("ops:{}", self.email)
    }
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

impl FromRequestParts<AppState> for Ops {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Ops, Response> {
        let live = parts.uri.path().starts_with("/console/live");
        let refuse = || {
            if live {
                (StatusCode::UNAUTHORIZED, Json(json!({ "error": "unauthenticated", "message": "sign in at /console/login", "details": null }))).into_response()
            } else {
                Redirect::to("/console/login").into_response()
            }
        };
        let Some(token) = cookie(&parts.headers, COOKIE) else {
            return Err(refuse());
        };
        match users::session(&st.pool, token, Utc::now()).await {
            Ok(Some(s)) => Ok(Ops {
                email: s.email,
                csrf: s.csrf_token,
            }),
            Ok(None) => Err(refuse()),
            Err(e) => {
                tracing::error!(error = %e, "console session lookup failed");
                Err(html::error_page(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "database unavailable",
                ))
            }
        }
    }
}

/// A urlencoded form as pairs (repeated keys kept: `ids=a&ids=b`).
pub fn form(body: &Bytes) -> Vec<(String, String)> {
    serde_urlencoded::from_bytes(body).unwrap_or_default()
}

pub fn field<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// A POST without this session's CSRF token: 403.
#[derive(Debug)]
pub struct CsrfRejected;

impl IntoResponse for CsrfRejected {
    fn into_response(self) -> Response {
        html::error_page(
            StatusCode::FORBIDDEN,
            "missing or wrong CSRF token: reload the page and try again",
        )
    }
}

/// 403 unless the form carries this session's CSRF token.
pub fn check_csrf(ops: &Ops, form: &[(String, String)]) -> Result<(), CsrfRejected> {
    match field(form, "csrf") {
        Some(t) if hashes_match(t, &ops.csrf) => Ok(()),
        _ => Err(CsrfRejected),
    }
}

fn login_page(status: StatusCode, message: &str) -> Response {
    let csrf = hex::encode(rand::random::<[u8; 16]>());
    let msg = if message.is_empty() {
        String::new()
    } else {
        format!(r#"<p class="error" id="login-error">{}</p>"#, esc(message))
    };
    let body = format!(
        r#"{msg}<form method="post" action="/console/login" id="login">{}
<label>E-mail <input type="email" name="email" id="email" required autofocus></label>
<label>Password <input type="password" name="password" id="password" required></label>
<button type="submit" id="signin">Sign in</button></form>"#,
        html::csrf_field(&csrf)
    );
    let mut res = html::page("Sign in", None, &body);
    *res.status_mut() = status;
    // `Secure` is added by `harden.rs` as `console.secure_cookie` says.
    let c = format!("{LOGIN_CSRF_COOKIE}={csrf}; HttpOnly; SameSite=Strict; Path=/console/login");
    if let Ok(v) = c.parse() {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

/// Failed sign-ins of one e-mail (since its last successful one) that lock
/// it for the rest of [`LOGIN_WINDOW_MINUTES`]: the password is then not
/// even checked (argon2 costs the server more than the guess costs an attacker).
pub const LOGIN_FAILURES_MAX: i64 = 10;
pub const LOGIN_WINDOW_MINUTES: i64 = 15;

/// Seconds until `email` may try again: `Some` when it failed
/// [`LOGIN_FAILURES_MAX`] times within the window and since its last success.
async fn login_locked(pool: &sqlx::PgPool, email: &str) -> Result<Option<i64>, sqlx::Error> {
    let (failures, oldest): (i64, Option<chrono::DateTime<Utc>>) = sqlx::query_as(
        "select count(*), min(f.at) from audit_log f
         where f.action = 'login_failed' and f.target = $1
           and f.at > now() - make_interval(mins => $2::int)
           and f.at > coalesce((select max(s.at) from audit_log s
                                where s.action = 'login' and s.target = $1), '-infinity')",
    )
    .bind(email)
    .bind(LOGIN_WINDOW_MINUTES as i32)
    .fetch_one(pool)
    .await?;
    Ok((failures >= LOGIN_FAILURES_MAX).then(|| {
        let until =
            oldest.unwrap_or_else(Utc::now) + chrono::Duration::minutes(LOGIN_WINDOW_MINUTES);
        (until - Utc::now()).num_seconds().max(1)
    }))
}

pub async fn login_form() -> Response {
    login_page(StatusCode::OK, "")
}

pub async fn login(State(st): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let f = form(&body);
    let sent = field(&f, "csrf").unwrap_or("");
    let expected = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or("");
    if sent.is_empty() || !hashes_match(sent, expected) {
        return html::error_page(StatusCode::FORBIDDEN, "missing or wrong CSRF token");
    }
    let email = field(&f, "email").unwrap_or("").trim().to_lowercase();
    let password = field(&f, "password").unwrap_or("");
    match login_locked(&st.pool, &email).await {
        Ok(None) => {}
        Ok(Some(retry_after)) => {
            let mut res = login_page(
                StatusCode::TOO_MANY_REQUESTS,
                &format!(
                    "too many failed sign-ins for this e-mail: try again in {} minute(s)",
                    (retry_after + 59) / 60
                ),
            );
            res.headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(retry_after));
            return res;
        }
        Err(e) => {
            tracing::error!(error = %e, "console login throttle lookup failed");
            return html::error_page(StatusCode::SERVICE_UNAVAILABLE, "database unavailable");
        }
    }
    let user = match users::by_email(&st.pool, &email).await {
        Ok(u) => u,
        Err(e) => {
            tracing::error!(error = %e, "console login lookup failed");
            return html::error_page(StatusCode::SERVICE_UNAVAILABLE, "database unavailable");
        }
    };
    let ok = user
        .as_ref()
        .filter(|u| u.disabled_at.is_none())
        .filter(|u| users::verify_password(password, &u.password_hash));
    let Some(user) = ok else {
        let actor = format!("ops:{email}");
        audit::record(
            &st.pool,
            audit::NewEntry {
                actor: &actor,
                tenant_id: None,
                action: "login_failed",
                target: &email,
                details: json!({}),
            },
        )
        .await;
        return login_page(StatusCode::UNAUTHORIZED, "wrong e-mail or password");
    };
    let (token, _) = match users::create_session(&st.pool, user.id, Utc::now()).await {
        Ok(t) => t,
        Err(e) => {
            tracing::error!(error = %e, "console session insert failed");
            return html::error_page(StatusCode::SERVICE_UNAVAILABLE, "database unavailable");
        }
    };
    let actor = format!("ops:{}", user.email);
    audit::record(
        &st.pool,
        audit::NewEntry {
            actor: &actor,
            tenant_id: None,
            action: "login",
            target: &user.email,
            details: json!({}),
        },
    )
    .await;
    let mut res = Redirect::to("/console").into_response();
    let c = format!(
        "{COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/console; Max-Age={}",
        users::SESSION_TTL_HOURS * 3600
    );
    if let Ok(v) = c.parse() {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

pub async fn logout(
    State(st): State<AppState>,
    headers: HeaderMap,
    ops: Ops,
    body: Bytes,
) -> Response {
    let f = form(&body);
    if let Err(r) = check_csrf(&ops, &f) {
        return r.into_response();
    }
    if let Some(token) = cookie(&headers, COOKIE) {
        if let Err(e) = users::end_session(&st.pool, token).await {
            tracing::warn!(error = %e, "could not end console session");
        }
    }
    let mut res = Redirect::to("/console/login").into_response();
    if let Ok(v) = format!("{COOKIE}=; HttpOnly; SameSite=Strict; Path=/console; Max-Age=0").parse()
    {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

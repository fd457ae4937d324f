//! HTML building blocks for the console: escaping, the page layout (nav, CSS,
//! the live-update script), the CSRF hidden field, error pages ([`Refusal`]),
//! small table helpers, status tabs and the flash message.
//! Plain `format!` rather than a template engine: the pages are few and small,
//! every interpolation goes through [`esc`], and nothing is added to the build.

use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};

pub const CSS: &str = include_str!("assets/console.css");
pub const JS: &str = include_str!("assets/console.js");

/// Escapes text for an HTML body or a double-quoted attribute.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Percent-encodes a query-string value.
pub fn q(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            b => format!("%{b:02X}"),
        })
        .collect()
}

/// The hidden field every console POST form carries.
pub fn csrf_field(token: &str) -> String {
    format!(
        r#"<input type="hidden" name="csrf" value="{}">"#,
        esc(token)
    )
}

/// A whole page: nav (when signed in), `body`, the script.
pub fn page(title: &str, ops: Option<&super::session::Ops>, body: &str) -> Response {
    let nav = match ops {
        Some(ops) => format!(
            r#"<nav><a href="/console">Overview</a> <a href="/console/workers">Workers</a> <a href="/console/schedules">Schedules</a> <a href="/console/tenants">Tenants</a> <a href="/console/outbox">Outbox</a> <a href="/console/documents">Documents</a> <a href="/console/alerts">Alerts</a> <a href="/console/payments">Payments</a> <a href="/console/campaigns">Campaigns</a> <a href="/console/reports">Reports</a> <a href="/console/batches">Batches</a> <a href="/console/forecasting">Forecasting</a> <a href="/console/events">Events</a> <a href="/console/audit">Audit</a>
<span class="who">{} · <form method="post" action="/console/logout" class="inline">{}<button id="logout">Sign out</button></form></span></nav>"#,
            esc(&ops.email),
            csrf_field(&ops.csrf)
        ),
        None => String::new(),
    };
    let html = format!(
        r#"<!doctype html><html lang="pt-BR"><head><meta charset="utf-8"><title>{} · Tarefa</title>
<link rel="stylesheet" href="/console/assets/console.css"></head>
<body>{nav}<main><h1>{}</h1>{body}</main><script src="/console/assets/console.js"></script></body></html>"#,
        esc(title),
        esc(title)
    );
    no_store(Html(html).into_response())
}

/// Console pages show live data and secrets-adjacent details: never cached.
pub fn no_store(mut res: Response) -> Response {
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    res
}

/// A plain error page with a status.
pub fn error_page(status: StatusCode, message: &str) -> Response {
    let mut res = page(
        status.canonical_reason().unwrap_or("Error"),
        None,
        &format!(
            r#"<p class="error">{}</p><p><a href="/console">Back</a></p>"#,
            esc(message)
        ),
    );
    *res.status_mut() = status;
    res
}

/// A refused request, rendered as an [`error_page`]: what the small checks of
/// a page's filters or a form return (a `Response` is too large for an `Err`).
#[derive(Debug)]
pub struct Refusal {
    pub status: StatusCode,
    pub message: String,
}

impl Refusal {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Refusal {
        Refusal {
            status,
            message: message.into(),
        }
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        error_page(self.status, &self.message)
    }
}

/// A `<table>` with a header row and already-escaped cells.
pub fn table(id: &str, head: &[&str], rows: &[Vec<String>]) -> String {
    let th: String = head
        .iter()
        .map(|h| format!("<th>{}</th>", esc(h)))
        .collect();
    let body: String = rows
        .iter()
        .map(|r| {
            let tds: String = r.iter().map(|c| format!("<td>{c}</td>")).collect();
            format!("<tr>{tds}</tr>")
        })
        .collect();
    format!(r#"<table id="{id}"><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"#)
}

/// Status tabs: one link per value to `{base}?{keep}&status={value}`, the
/// current one bold. `keep` is the rest of the query string, already encoded.
pub fn tabs(base: &str, keep: &str, values: &[&str], current: &str) -> String {
    let links: String = values
        .iter()
        .map(|v| {
            let cls = if *v == current { r#" class="on""# } else { "" };
            format!(
                r#"<a{cls} id="tab-{}" href="{base}?{keep}&status={}">{}</a> "#,
                esc(v),
                q(v),
                esc(v)
            )
        })
        .collect();
    format!(r#"<p class="tabs">{links}</p>"#)
}

/// The message of the last action (`?done=`), shown once after its redirect.
pub fn flash(done: Option<&str>) -> String {
    done.map(|d| format!(r#"<p class="flash" id="flash">{}</p>"#, esc(d)))
        .unwrap_or_default()
}

/// An instant as the console shows it (`dd/mm/aaaa hh:mm:ss`, UTC); `—` for none.
pub fn utc(t: Option<chrono::DateTime<chrono::Utc>>) -> String {
    t.map(|t| t.format("%d/%m/%Y %H:%M:%S").to_string())
        .unwrap_or_else(|| "—".into())
}

/// The static files: `console.css`, `console.js`.
pub async fn asset(axum::extract::Path(name): axum::extract::Path<String>) -> Response {
    let (body, ctype) = match name.as_str() {
        "console.css" => (CSS, "text/css; charset=utf-8"),
        "console.js" => (JS, "text/javascript; charset=utf-8"),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    ([(header::CONTENT_TYPE, ctype)], body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn esc_neutralises_markup() {
        assert_eq!(
            esc(r#"<script>"x"&'y'</script>"#),
            "&lt;script&gt;&quot;x&quot;&amp;&#39;y&#39;&lt;/script&gt;"
        );
        assert_eq!(q("a b&c=ç"), "a%20b%26c%3D%C3%A7");
    }
}

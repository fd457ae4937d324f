//! The tenant a per-tenant console page shows (outbox, documents, alerts):
//! `?tenant=<id>`, picked from a `<select>` of every tenant by name. The
//! features' queries are scoped by tenant (as their API routes are), so these
//! pages list one tenant at a time; until one is chosen they list nothing.

use axum::http::StatusCode;
use axum::response::Response;
use uuid::Uuid;

use jobs::store::tenants::{self, Tenant};

use super::html::{self, esc, Refusal};
use super::pages::unavailable;
use crate::state::AppState;

/// Every tenant, and the one the page shows.
pub struct Choice {
    pub tenants: Vec<Tenant>,
    pub chosen: Option<Uuid>,
}

impl Choice {
    /// The chosen tenant's id as query-string text (`""` when none).
    pub fn param(&self) -> String {
        self.chosen.map(|t| t.to_string()).unwrap_or_default()
    }

    /// `<select name="tenant">` with the chosen one selected.
    pub fn select(&self) -> String {
        let options: String = self
            .tenants
            .iter()
            .map(|t| {
                let sel = if Some(t.id) == self.chosen {
                    " selected"
                } else {
                    ""
                };
                format!(
                    r#"<option value="{}"{sel}>{} ({})</option>"#,
                    t.id,
                    esc(&t.name),
                    esc(&t.slug)
                )
            })
            .collect();
        format!(
            r#"<select name="tenant" id="tenant"><option value="">— choose a tenant —</option>{options}</select>"#
        )
    }

    /// What an empty table says: choose a tenant, or nothing matches.
    pub fn empty_hint(&self, what: &str) -> String {
        let text = if self.chosen.is_none() {
            format!("Choose a tenant to see its {what}.")
        } else {
            format!("No {what} match.")
        };
        format!(r#"<p class="hint" id="empty">{}</p>"#, esc(&text))
    }
}

/// Reads `?tenant=`: empty → none chosen; not one of the tenants → 404 page.
pub async fn choose(st: &AppState, raw: Option<&str>) -> Result<Choice, Response> {
    let tenants = tenants::list(&st.pool).await.map_err(unavailable)?;
    let chosen = match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => match s.parse::<Uuid>() {
            Ok(id) if tenants.iter().any(|t| t.id == id) => Some(id),
            _ => return Err(html::error_page(StatusCode::NOT_FOUND, "no such tenant")),
        },
    };
    Ok(Choice { tenants, chosen })
}

/// A POST's `tenant` field as an id (400 when missing or malformed).
pub fn posted(raw: Option<&str>) -> Result<Uuid, Refusal> {
    raw.and_then(|s| s.trim().parse().ok())
        .ok_or_else(|| Refusal::new(StatusCode::BAD_REQUEST, "the form names no valid tenant"))
}

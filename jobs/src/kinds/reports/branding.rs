//! A tenant's report branding (`PUT /v1/report-branding`): primary and
//! accent colours (`#rrggbb`) and an optional logo (base64 PNG or SVG, at
//! most [`MAX_LOGO_BYTES`] decoded). Checked here, each error naming its
//! field; stored in `report_branding` (migration 0018); read by the render.

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sqlx::PgExecutor;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::kinds::FieldError;

/// The decoded logo's size limit.
pub const MAX_LOGO_BYTES: usize = 256 * 1024;
/// The colours a tenant without branding gets.
pub const DEFAULT_PRIMARY: u32 = 0x1f4e79;
pub const DEFAULT_ACCENT: u32 = 0xe08e1b;

/// What a tenant sends.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BrandingRequest {
    /// `#rrggbb`: page header, section titles, table headers (PDF and XLSX).
    pub primary_color: String,
    /// `#rrggbb`: second chart series, highlights.
    pub accent_color: String,
    /// Base64 of a PNG or SVG file, at most 256 KiB decoded; absent or null: no logo.
    pub logo: Option<String>,
}

/// The stored branding, as the API shows it (the logo's format and size, not its bytes).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BrandingView {
    pub primary_color: String,
    pub accent_color: String,
    /// `png` | `svg`; absent without a logo.
    pub logo_format: Option<String>,
    pub logo_bytes: Option<i64>,
}

/// A logo ready for the templates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logo {
    pub bytes: Vec<u8>,
    /// `png` | `svg`
    pub format: &'static str,
}

/// Branding checked and decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Branding {
    pub primary: u32,
    pub accent: u32,
    pub logo: Option<Logo>,
}

impl Default for Branding {
    fn default() -> Self {
        Branding {
            primary: DEFAULT_PRIMARY,
            accent: DEFAULT_ACCENT,
            logo: None,
        }
    }
}

/// `#rrggbb` (or `#rgb`) as 0xrrggbb.
pub fn parse_color(field: &str, s: &str) -> Result<u32, FieldError> {
    let bad = || FieldError::new(field, "must be a colour as #rrggbb");
    let hex = s.trim().strip_prefix('#').ok_or_else(bad)?;
    let hex = match hex.len() {
        6 => hex.to_string(),
        3 => hex.chars().flat_map(|c| [c, c]).collect(),
        _ => return Err(bad()),
    };
    u32::from_str_radix(&hex, 16).map_err(|_| bad())
}

/// The format of an image file by its content: PNG by signature, SVG by an
/// `<svg` root in UTF-8 text.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Some("png");
    }
    let text = std::str::from_utf8(bytes).ok()?;
    let head = text.trim_start_matches('\u{feff}').trim_start();
    let looks_xml =
        head.starts_with("<svg") || head.starts_with("<?xml") || head.starts_with("<!--");
    (looks_xml && text.contains("<svg")).then_some("svg")
}

impl BrandingRequest {
    pub fn validate(&self) -> Result<Branding, FieldError> {
        let primary = parse_color("primary_color", &self.primary_color)?;
        let accent = parse_color("accent_color", &self.accent_color)?;
        let logo = match self.logo.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(b64) => {
                // Base64 of the limit is at most 4/3 of it (plus padding).
                if b64.len() > MAX_LOGO_BYTES / 3 * 4 + 8 {
                    return Err(FieldError::new("logo", "larger than 256 KiB"));
                }
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(b64)
                    .map_err(|_| FieldError::new("logo", "not valid base64"))?;
                if bytes.len() > MAX_LOGO_BYTES {
                    return Err(FieldError::new("logo", "larger than 256 KiB"));
                }
                let format = sniff(&bytes)
                    .ok_or_else(|| FieldError::new("logo", "must be a PNG or SVG image"))?;
                Some(Logo { bytes, format })
            }
        };
        Ok(Branding {
            primary,
            accent,
            logo,
        })
    }
}

fn hex(c: u32) -> String {
    format!("#{c:06x}")
}

/// Stores (replaces) the tenant's branding.
pub async fn put(pg: impl PgExecutor<'_>, tenant: Uuid, b: &Branding) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into report_branding (tenant_id, primary_color, accent_color, logo, logo_format)
         values ($1, $2, $3, $4, $5)
         on conflict (tenant_id) do update set primary_color = $2, accent_color = $3,
             logo = $4, logo_format = $5, updated_at = now()",
    )
    .bind(tenant)
    .bind(hex(b.primary))
    .bind(hex(b.accent))
    .bind(b.logo.as_ref().map(|l| l.bytes.clone()))
    .bind(b.logo.as_ref().map(|l| l.format))
    .execute(pg)
    .await?;
    Ok(())
}

/// Removes the tenant's branding (reports go back to the defaults).
pub async fn delete(pg: impl PgExecutor<'_>, tenant: Uuid) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("delete from report_branding where tenant_id = $1")
        .bind(tenant)
        .execute(pg)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// primary, accent, logo format, logo size.
type ViewRow = (String, String, Option<String>, Option<i64>);

/// The tenant's branding as stored; `None` when it has none.
pub async fn view(
    pg: impl PgExecutor<'_>,
    tenant: Uuid,
) -> Result<Option<BrandingView>, sqlx::Error> {
    let row: Option<ViewRow> = sqlx::query_as(
        "select primary_color, accent_color, logo_format, octet_length(logo)::int8
           from report_branding where tenant_id = $1",
    )
    .bind(tenant)
    .fetch_optional(pg)
    .await?;
    Ok(row.map(|(p, a, f, n)| BrandingView {
        primary_color: p,
        accent_color: a,
        logo_format: f,
        logo_bytes: n,
    }))
}

/// primary, accent, logo, logo format.
type LoadRow = (String, String, Option<Vec<u8>>, Option<String>);

/// The branding a render uses: the tenant's, or the defaults.
pub async fn load(pg: impl PgExecutor<'_>, tenant: Uuid) -> Result<Branding, sqlx::Error> {
    let row: Option<LoadRow> = sqlx::query_as(
        "select primary_color, accent_color, logo, logo_format
           from report_branding where tenant_id = $1",
    )
    .bind(tenant)
    .fetch_optional(pg)
    .await?;
    let Some((p, a, logo, _)) = row else {
        return Ok(Branding::default());
    };
    Ok(Branding {
        primary: parse_color("primary_color", &p).unwrap_or(DEFAULT_PRIMARY),
        accent: parse_color("accent_color", &a).unwrap_or(DEFAULT_ACCENT),
        logo: logo.and_then(|bytes| sniff(&bytes).map(|format| Logo { bytes, format })),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(p: &str, a: &str, logo: Option<&[u8]>) -> BrandingRequest {
        BrandingRequest {
            primary_color: p.into(),
            accent_color: a.into(),
            logo: logo.map(|b| base64::engine::general_purpose::STANDARD.encode(b)),
        }
    }

    #[test]
    fn colours_and_logos_are_checked_naming_the_field() {
        let ok = req(
            "#0A7",
            "#123456",
            Some(b"<svg xmlns='http://www.w3.org/2000/svg'/>"),
        )
        .validate()
        .unwrap();
        assert_eq!((ok.primary, ok.accent), (0x00aa77, 0x123456));
        assert_eq!(ok.logo.unwrap().format, "svg");
        let field = |r: BrandingRequest| r.validate().unwrap_err().path;
        assert_eq!(field(req("blue", "#123456", None)), "primary_color");
        assert_eq!(field(req("#123456", "#12345g", None)), "accent_color");
        assert_eq!(
            field(req("#123456", "#123456", Some(b"GIF89a...."))),
            "logo"
        );
        let mut big = b"\x89PNG\r\n\x1a\n".to_vec();
        big.resize(MAX_LOGO_BYTES + 1, 0);
        assert_eq!(field(req("#123456", "#123456", Some(&big))), "logo");
        let mut bad = req("#123456", "#123456", None);
        bad.logo = Some("***".into());
        assert_eq!(field(bad), "logo");
    }
}

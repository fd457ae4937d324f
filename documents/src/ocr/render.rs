//! A page to grayscale pixels at a given dpi: `hayro` (pure Rust, decodes
//! the CCITT, JBIG2 and JPX images scanners write) under `catch_unwind`,
//! falling back to poppler's `pdftoppm -gray` as a subprocess when hayro
//! fails or draws a blank page.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::process::Command;
use std::sync::Arc;

use hayro::hayro_interpret::InterpreterSettings;
use hayro::hayro_syntax::Pdf;
use hayro::vello_cpu::color::palette::css::WHITE;
use hayro::{render, PixmapSettings, RenderCache, RenderSettings};

use super::image::{parse_pgm, Gray};
use crate::ExtractError;

/// The largest image we render (RGBA while rendering: 4 bytes a pixel):
/// 36 Mpx holds A3 at 400 dpi; anything larger is a crafted page size.
const MAX_PIXELS: f64 = 36e6;

/// Renders page `index` (0-based).
pub(crate) fn page(bytes: &Arc<Vec<u8>>, index: usize, dpi: u32) -> Result<Gray, ExtractError> {
    match with_hayro(bytes, index, dpi) {
        Ok(g) if g.has_ink() => Ok(g),
        hayro_result => with_pdftoppm(bytes, index, dpi).or_else(|e| match hayro_result {
            Ok(g) => Ok(g),
            Err(_) => Err(e),
        }),
    }
}

fn with_hayro(bytes: &Arc<Vec<u8>>, index: usize, dpi: u32) -> Result<Gray, ExtractError> {
    let data = bytes.clone();
    let run = move || -> Result<Gray, ExtractError> {
        let pdf =
            Pdf::new(data).map_err(|e| ExtractError::new("corrupt", format!("renderer: {e:?}")))?;
        let pages = pdf.pages();
        let page = pages
            .get(index)
            .ok_or_else(|| ExtractError::new("corrupt", "renderer: no such page"))?;
        let scale = dpi as f32 / 72.0;
        let (w, h) = page.render_dimensions();
        let (pw, ph) = (f64::from(w * scale), f64::from(h * scale));
        if pw * ph > MAX_PIXELS || pw >= 65535.0 || ph >= 65535.0 {
            return Err(ExtractError::new(
                "corrupt",
                format!("page renders to {pw:.0}×{ph:.0} px"),
            ));
        }
        let cache = RenderCache::new();
        let pix = render(
            page,
            &cache,
            &InterpreterSettings::default(),
            &RenderSettings::default(),
            &PixmapSettings {
                x_scale: scale,
                y_scale: scale,
                bg_color: WHITE,
            },
        );
        let (w, h) = (usize::from(pix.width()), usize::from(pix.height()));
        let rgba = pix.data_as_u8_slice();
        // Over a white background alpha is 255, so premultiplied = straight.
        let px = rgba
            .chunks_exact(4)
            .map(|p| {
                ((u32::from(p[0]) * 299 + u32::from(p[1]) * 587 + u32::from(p[2]) * 114) / 1000)
                    as u8
            })
            .collect();
        Ok(Gray { w, h, px })
    };
    catch_unwind(AssertUnwindSafe(run))
        .unwrap_or_else(|_| Err(ExtractError::new("corrupt", "renderer panicked")))
}

fn with_pdftoppm(bytes: &[u8], index: usize, dpi: u32) -> Result<Gray, ExtractError> {
    let dir =
        tempfile::tempdir().map_err(|e| ExtractError::new("internal", format!("temp dir: {e}")))?;
    let path = dir.path().join("in.pdf");
    std::fs::write(&path, bytes)
        .map_err(|e| ExtractError::new("internal", format!("temp file: {e}")))?;
    let n = (index + 1).to_string();
    let out = Command::new("pdftoppm")
        .args(["-r", &dpi.to_string(), "-gray", "-f", &n, "-l", &n])
        .arg(&path)
        .output()
        .map_err(|e| ExtractError::new("ocr_failed", format!("pdftoppm: {e}")))?;
    if !out.status.success() {
        let msg = String::from_utf8_lossy(&out.stderr);
        return Err(ExtractError::new(
            "ocr_failed",
            format!("pdftoppm failed: {}", msg.trim()),
        ));
    }
    parse_pgm(&out.stdout)
        .ok_or_else(|| ExtractError::new("ocr_failed", "pdftoppm output is not a PGM"))
}

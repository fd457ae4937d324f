//! OCR of pages without usable text, with the system libtesseract:
//! 1. render to gray ([`render`]: hayro, pdftoppm fallback);
//! 2. orientation: text lines across or down ([`image::Gray::text_is_horizontal`]),
//!    read the upright guess (upright when the whole page or its inked extent
//!    says lines run across); only when that read is poor, the upright one of
//!    the two quarter turns by Tesseract's confidence on a quick probe (middle
//!    third, half resolution); no OSD model needed (Debian ships it apart);
//!    (the image first cleaned of specks and its background normalised, so
//!    gray header fills and shading read as white paper);
//! 3. deskew up to ±3° (projection profiles);
//! 4. ruling lines found and removed (their positions locate table cells);
//! 5. whole-page OCR (`por+eng`, automatic segmentation) → words with boxes;
//! 6. later, [`Ocr::cell`] re-reads each grade cell alone (PSM 7, digits and
//!    `,.%` only), since whole-page OCR of a grid turns `8,5` into `85`.
//!
//! Threads: Debian's libtesseract uses OpenMP, whose threads spin-wait; on a
//! busy machine that roughly doubles a page's wall time (linn.pdf under
//! load: 23 s → 13 s with `OMP_THREAD_LIMIT=1`). libgomp reads that variable
//! when it loads, so the caller sets it: the worker when it spawns `worker
//! extract`, scripts/test.sh for the tests, bench/documents.sh for both sides.

pub(crate) mod image;
pub(crate) mod render;

use tesseract::{PageSegMode, Tesseract};

use crate::layout::Word;
use crate::ExtractError;
use image::Gray;

/// A page as OCR left it: the cleaned image (kept for cell re-reads).
pub(crate) struct OcrPage {
    pub words: Vec<Word>,
    pub text: String,
    pub conf: f32,
    /// Degrees turned before OCR (quarter turns plus deskew).
    pub rotation: f32,
    pub image: Gray,
    /// Ruling lines found (px): y of horizontal, x of vertical ones.
    pub hlines: Vec<usize>,
    pub vlines: Vec<usize>,
}

/// A first read at least this confident is upright: upside-down text reads
/// at 20-40, noisy upright scans at 55-90.
const ORIENTED_CONF: f32 = 55.0;
/// The other way up is read in full only when its probe beats this one's by
/// this much.
const PROBE_MARGIN: f32 = 5.0;
/// Largest skew corrected, degrees (scanner feeders stay within 2-3°).
const MAX_SKEW: f64 = 3.0;

/// Two Tesseract engines, reused across pages: one for pages, one set up
/// for single grade cells.
pub(crate) struct Ocr {
    page: Option<Tesseract>,
    cell: Option<Tesseract>,
    languages: String,
    pub dpi: u32,
}

fn failed(what: &str, e: impl std::fmt::Display) -> ExtractError {
    ExtractError::new("ocr_failed", format!("{what}: {e}"))
}

impl Ocr {
    pub(crate) fn new(languages: &str, dpi: u32) -> Result<Ocr, ExtractError> {
        let page =
            Tesseract::new(None, Some(languages)).map_err(|e| failed("tesseract init", e))?;
        Ok(Ocr {
            page: Some(page),
            cell: None,
            languages: languages.to_string(),
            dpi,
        })
    }

    /// Recognises `img` with the page engine: (text, words, mean confidence).
    fn recognize(&mut self, img: &Gray) -> Result<(String, Vec<Word>, f32), ExtractError> {
        let mut t = self
            .page
            .take()
            .ok_or_else(|| failed("tesseract", "engine lost after an error"))?;
        t.set_page_seg_mode(PageSegMode::PsmAuto);
        let mut t = t
            .set_frame(&img.px, img.w as i32, img.h as i32, 1, img.w as i32)
            .map_err(|e| failed("set image", e))?
            .set_source_resolution(self.dpi as i32)
            .recognize()
            .map_err(|e| failed("recognize", e))?;
        let text = t.get_text().map_err(|e| failed("text", e))?;
        let tsv = t.get_tsv_text(0).map_err(|e| failed("tsv", e))?;
        let conf = t.mean_text_conf().max(0) as f32;
        self.page = Some(t);
        Ok((text, words_from_tsv(&tsv, self.dpi), conf))
    }

    /// Mean confidence of a quick read: the middle third of the page at
    /// half resolution (about a twelfth of a full page's OCR time).
    fn probe(&mut self, img: &Gray) -> Result<f32, ExtractError> {
        let band = img.crop(0, img.h / 3, img.w, 2 * img.h / 3).half();
        let mut t = self
            .page
            .take()
            .ok_or_else(|| failed("tesseract", "engine lost after an error"))?;
        t.set_page_seg_mode(PageSegMode::PsmAuto);
        let mut t = t
            .set_frame(&band.px, band.w as i32, band.h as i32, 1, band.w as i32)
            .map_err(|e| failed("set image", e))?
            .set_source_resolution((self.dpi / 2) as i32)
            .recognize()
            .map_err(|e| failed("recognize", e))?;
        let conf = t.mean_text_conf().max(0) as f32;
        self.page = Some(t);
        Ok(conf)
    }

    /// Steps 2-5 for one rendered page.
    ///
    /// Time: the page is read once when it reads well (the common case,
    /// within the CLI's time for the same page): the orientation probes of
    /// the other quarter turn, and a second full read, happen only when the
    /// first read is poor (an upside-down or sideways page), since a full
    /// read costs about twelve probes.
    pub(crate) fn page(&mut self, img: Gray) -> Result<OcrPage, ExtractError> {
        let img = img
            .median3()
            .normalize_background((self.dpi as usize / 25).max(8));
        // Upright when the whole page or its inked extent says lines run
        // across: a small table in one corner of an empty page (a
        // continuation page, a landscape sheet) leaves the whole-page
        // profile ambiguous, and upright is the common case.
        let across = img.text_is_horizontal() || img.inked_text_is_horizontal();
        let quarters: [u32; 2] = if across { [0, 2] } else { [1, 3] };
        let first = self.read_turned(&img, quarters[0])?;
        if first.conf >= ORIENTED_CONF {
            return Ok(first);
        }
        // A poor read: is the page the other way up? Compare like with like.
        let (p0, p1) = (
            self.probe(&img.rotate90(quarters[0]))?,
            self.probe(&img.rotate90(quarters[1]))?,
        );
        if p1 <= p0 + PROBE_MARGIN {
            return Ok(first);
        }
        let second = self.read_turned(&img, quarters[1])?;
        Ok(if second.conf > first.conf {
            second
        } else {
            first
        })
    }

    /// Turn by `q` quarters, deskew, remove the ruling lines, read.
    fn read_turned(&mut self, img: &Gray, q: u32) -> Result<OcrPage, ExtractError> {
        let turned = img.rotate90(q);
        let skew = turned.skew_angle(MAX_SKEW);
        let mut straight = if skew.abs() >= 0.15 {
            turned.rotate(skew)
        } else {
            turned
        };
        let (hlines, vlines) = straight.remove_lines((self.dpi as usize / 3).max(40));
        straight.remove_dot_leaders((self.dpi as usize / 30).max(3));
        let (text, words, conf) = self.recognize(&straight)?;
        Ok(OcrPage {
            words,
            text,
            conf,
            rotation: (q * 90) as f32 - skew as f32,
            image: straight,
            hlines,
            vlines,
        })
    }

    /// Reads one cell `[x0,x1)×[y0,y1)` of `img` as a single line of
    /// digits: (text, confidence); `None` for an empty cell.
    pub(crate) fn cell(
        &mut self,
        img: &Gray,
        x0: usize,
        y0: usize,
        x1: usize,
        y1: usize,
    ) -> Result<Option<(String, f32)>, ExtractError> {
        let crop = img.crop(x0, y0, x1, y1);
        if crop.w < 4 || crop.h < 4 || !crop.has_ink() {
            return Ok(None);
        }
        let crop = crop.pad(12);
        let t = match self.cell.take() {
            Some(t) => t,
            None => Tesseract::new(None, Some(&self.languages))
                .map_err(|e| failed("tesseract init", e))?
                .set_variable("tessedit_char_whitelist", "0123456789,.%")
                .map_err(|e| failed("whitelist", e))?,
        };
        let mut t = t;
        t.set_page_seg_mode(PageSegMode::PsmSingleLine);
        let mut t = t
            .set_frame(&crop.px, crop.w as i32, crop.h as i32, 1, crop.w as i32)
            .map_err(|e| failed("set image", e))?
            .set_source_resolution(self.dpi as i32)
            .recognize()
            .map_err(|e| failed("recognize", e))?;
        let text = t.get_text().map_err(|e| failed("text", e))?;
        let conf = t.mean_text_conf().max(0) as f32;
        self.cell = Some(t);
        let text = text.trim().replace(' ', "");
        Ok((!text.is_empty()).then_some((text, conf)))
    }
}

impl Ocr {
    /// Header labels turned 90° (issue 14: `1º Bimestre` printed upwards
    /// over each column), which the page read cannot see: the band
    /// `[x0,x1)×[y0,y1)` of `img` is turned both ways and read as a block;
    /// the better-read turn gives each label line and the x (px, in the
    /// page) of the column it stands over. Empty when neither turn reads.
    pub(crate) fn turned_labels(
        &mut self,
        img: &Gray,
        (x0, y0, x1, y1): (usize, usize, usize, usize),
    ) -> Result<Vec<(String, f64, f32)>, ExtractError> {
        let band = img.crop(x0, y0, x1, y1);
        if band.w < 8 || band.h < 8 || !band.has_ink() {
            return Ok(Vec::new());
        }
        let mut best: (f32, Vec<(String, f64, f32)>) = (0.0, Vec::new());
        for q in [3u32, 1] {
            let turned = band.rotate90(q).pad(16);
            let mut t = self
                .page
                .take()
                .ok_or_else(|| failed("tesseract", "engine lost after an error"))?;
            t.set_page_seg_mode(PageSegMode::PsmSparseText);
            let mut t = t
                .set_frame(
                    &turned.px,
                    turned.w as i32,
                    turned.h as i32,
                    1,
                    turned.w as i32,
                )
                .map_err(|e| failed("set image", e))?
                .set_source_resolution(self.dpi as i32)
                .recognize()
                .map_err(|e| failed("recognize", e))?;
            let tsv = t.get_tsv_text(0).map_err(|e| failed("tsv", e))?;
            let conf = t.mean_text_conf().max(0) as f32;
            self.page = Some(t);
            if conf <= best.0 {
                continue;
            }
            // Words of one text line of the turned band are one label.
            let mut labels: Vec<TurnedLine> = Vec::new();
            for l in tsv.lines() {
                let f: Vec<&str> = l.split('\t').collect();
                if f.len() < 12 || f[0] != "5" || f[11].trim().is_empty() {
                    continue;
                }
                let key = (
                    f[2].parse().unwrap_or(0),
                    f[3].parse().unwrap_or(0),
                    f[4].parse().unwrap_or(0),
                );
                let (top, h): (f64, f64) =
                    (f[7].parse().unwrap_or(0.0), f[9].parse().unwrap_or(0.0));
                let c: f32 = f[10].parse().unwrap_or(0.0);
                match labels.iter_mut().find(|l| l.0 == key) {
                    Some(l) => {
                        l.1.push(' ');
                        l.1.push_str(f[11].trim());
                        l.2 = l.2.min(top);
                        l.3 = l.3.max(top + h);
                        l.4 = l.4.min(c);
                    }
                    None => labels.push((key, f[11].trim().to_string(), top, top + h, c)),
                }
            }
            // Back to page x: turned clockwise (q = 1), a row y' of the turned
            // band is the band's column x = y'; counter-clockwise, w - 1 - y'.
            let placed = labels.into_iter().map(|(_, text, top, bottom, c)| {
                let mid = (top + bottom) / 2.0 - 16.0;
                let x = if q == 1 {
                    mid
                } else {
                    band.w as f64 - 1.0 - mid
                };
                (text, x0 as f64 + x, c)
            });
            // One label split in two text lines by a wide gap (`1º` and
            // `Semestre` over the same column, 5 pt apart at most): joined.
            let near = f64::from(self.dpi) / 72.0 * 5.0;
            let mut out: Vec<(String, f64, f32)> = Vec::new();
            for (text, x, c) in placed {
                match out.last_mut() {
                    Some(prev) if (prev.1 - x).abs() < near => {
                        prev.0.push(' ');
                        prev.0.push_str(&text);
                        prev.1 = (prev.1 + x) / 2.0;
                        prev.2 = prev.2.min(c);
                    }
                    _ => out.push((text, x, c)),
                }
            }
            best = (conf, out);
        }
        Ok(best.1)
    }
}

/// One text line of a turned band: its (block, paragraph, line) in the
/// TSV, text, top and bottom (px of the turned band) and least word confidence.
type TurnedLine = ((u32, u32, u32), String, f64, f64, f32);

/// Tesseract's TSV (level 5 = word) to words in points.
fn words_from_tsv(tsv: &str, dpi: u32) -> Vec<Word> {
    let k = 72.0 / f64::from(dpi.max(1));
    tsv.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            if f.len() < 12 || f[0] != "5" {
                return None;
            }
            let text = f[11].trim();
            let conf: f32 = f[10].parse().ok()?;
            if text.is_empty() || conf < 0.0 {
                return None;
            }
            let (left, top, w, h): (f64, f64, f64, f64) = (
                f[6].parse().ok()?,
                f[7].parse().ok()?,
                f[8].parse().ok()?,
                f[9].parse().ok()?,
            );
            Some(Word {
                text: text.to_string(),
                x0: left * k,
                x1: (left + w) * k,
                y: (top + h / 2.0) * k,
                size: (h * k * 1.3).max(4.0),
                conf,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tsv_words_in_points() {
        let tsv = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n\
                   1\t1\t0\t0\t0\t0\t0\t0\t2480\t3508\t-1\t\n\
                   5\t1\t1\t1\t1\t1\t300\t600\t150\t30\t91.5\tNota\n";
        let w = words_from_tsv(tsv, 300);
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].text, "Nota");
        assert!((w[0].x0 - 72.0).abs() < 1e-9);
        assert!((w[0].y - 147.6).abs() < 1e-9);
        assert_eq!(w[0].conf, 91.5);
    }
}

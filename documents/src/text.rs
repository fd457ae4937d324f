//! Positioned glyphs from a text PDF page: our own walk over the content
//! stream (lopdf parses the operators), tracking the CTM, the text matrix
//! and the text state (`Tf Tc Tw Tz TL Ts`, `Td TD Tm T*`, `Tj TJ ' "`), and
//! Form XObjects. Each glyph gets its text (via [`crate::text::fonts`]'s
//! ToUnicode / encoding tables), its origin and advance in page space,
//! top-left origin. lopdf's own `extract_text` gives one string per text op
//! and loses positions, which tables need (see crates-checked.md §2).

pub(crate) mod fonts;

use std::collections::HashMap;

use lopdf::content::Content;
use lopdf::{Dictionary, Document, Object, ObjectId};

use crate::ExtractError;
use fonts::Font;

/// One glyph (or a ligature's text) where the page shows it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Glyph {
    pub text: String,
    /// Left edge, points from the page's left.
    pub x: f64,
    /// Baseline, points from the page's top.
    pub y: f64,
    /// Advance width in points.
    pub w: f64,
    /// Font size in points (after the matrices).
    pub size: f64,
    /// Text turned 90° (a rotated table header): `Some(true)` reading
    /// upwards, `Some(false)` downwards, `None` for horizontal text.
    pub vertical: Option<bool>,
}

/// What a page holds: glyphs and how much of it images cover.
#[derive(Debug, Default)]
pub(crate) struct PageText {
    pub glyphs: Vec<Glyph>,
    pub width: f64,
    pub height: f64,
    /// Fraction of the page area covered by images (0-1, may overlap).
    pub image_cover: f64,
}

/// Nested forms deeper than this are skipped (cycles and bombs).
const MAX_FORM_DEPTH: usize = 6;
/// Stops runaway content streams (glyphs per page).
const MAX_GLYPHS: usize = 200_000;

type Matrix = [f64; 6];
const IDENTITY: Matrix = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0];

/// `a × b` in PDF's row-vector convention (apply `a`, then `b`).
fn mul(a: &Matrix, b: &Matrix) -> Matrix {
    [
        a[0] * b[0] + a[1] * b[2],
        a[0] * b[1] + a[1] * b[3],
        a[2] * b[0] + a[3] * b[2],
        a[2] * b[1] + a[3] * b[3],
        a[4] * b[0] + a[5] * b[2] + b[4],
        a[4] * b[1] + a[5] * b[3] + b[5],
    ]
}

#[derive(Clone)]
struct TextState {
    font: Option<ObjectId>,
    font_key: Vec<u8>,
    size: f64,
    char_spacing: f64,
    word_spacing: f64,
    hscale: f64,
    leading: f64,
    rise: f64,
}

impl Default for TextState {
    fn default() -> Self {
        TextState {
            font: None,
            font_key: Vec::new(),
            size: 0.0,
            char_spacing: 0.0,
            word_spacing: 0.0,
            hscale: 1.0,
            leading: 0.0,
            rise: 0.0,
        }
    }
}

struct Walker<'a> {
    doc: &'a Document,
    limit: usize,
    /// Fonts by (resources dict address, key): decoding tables built once.
    fonts: HashMap<(usize, Vec<u8>), Font>,
    out: PageText,
    page: PageFrame,
}

/// The page's box and `/Rotate`: user space to the upright, top-down frame.
#[derive(Clone, Copy)]
struct PageFrame {
    page_box: [f64; 4],
    rotate: u32,
}

impl PageFrame {
    /// A user-space point as seen on the displayed (rotated) page, from its top-left.
    fn upright(&self, x: f64, y: f64) -> (f64, f64) {
        let [x0, y0, x1, y1] = self.page_box;
        match self.rotate {
            90 => (y - y0, x - x0),
            180 => (x1 - x, y - y0),
            270 => (y1 - y, x1 - x),
            _ => (x - x0, y1 - y),
        }
    }
}

/// Extracts the glyphs of one page. `limit` bounds every decompressed stream.
pub(crate) fn page_text(
    doc: &Document,
    page_id: ObjectId,
    limit: usize,
) -> Result<PageText, ExtractError> {
    let page = doc
        .get_dictionary(page_id)
        .map_err(|e| ExtractError::new("corrupt", format!("page object: {e}")))?;
    let page_box = media_box(doc, page).unwrap_or([0.0, 0.0, 612.0, 792.0]);
    let rotate = inherited(doc, page, b"Rotate")
        .and_then(|o| num(doc, o))
        .map_or(0, |r| (r as i64).rem_euclid(360) as u32 / 90 * 90);
    let (w, h) = (page_box[2] - page_box[0], page_box[3] - page_box[1]);
    let (w, h) = if rotate % 180 == 90 { (h, w) } else { (w, h) };
    let content = doc
        .get_page_content_with_limit(page_id, limit)
        .map_err(|e| crate::pdf::classify(&e))?;
    let resources = page_resources(doc, page_id);
    let mut walker = Walker {
        doc,
        limit,
        fonts: HashMap::new(),
        out: PageText {
            width: w,
            height: h,
            ..PageText::default()
        },
        page: PageFrame { page_box, rotate },
    };
    walker.run(&content, resources, IDENTITY, 0)?;
    Ok(walker.out)
}

/// A page attribute, inherited through the page tree.
fn inherited<'a>(doc: &'a Document, page: &'a Dictionary, key: &[u8]) -> Option<&'a Object> {
    let mut node = page;
    for _ in 0..32 {
        if let Ok(v) = node.get_deref(key, doc) {
            return Some(v);
        }
        node = node
            .get_deref(b"Parent", doc)
            .and_then(Object::as_dict)
            .ok()?;
    }
    None
}

/// `/MediaBox`, inherited through the page tree.
fn media_box(doc: &Document, page: &Dictionary) -> Option<[f64; 4]> {
    let b = inherited(doc, page, b"MediaBox")?.as_array().ok()?;
    let v: Vec<f64> = b.iter().filter_map(|o| num(doc, o)).collect();
    (v.len() == 4).then(|| {
        [
            v[0].min(v[2]),
            v[1].min(v[3]),
            v[0].max(v[2]),
            v[1].max(v[3]),
        ]
    })
}

/// The page's `/Resources`, inherited through the page tree.
fn page_resources(doc: &Document, page_id: ObjectId) -> Option<&Dictionary> {
    let (direct, ids) = doc.get_page_resources(page_id).ok()?;
    direct.or_else(|| ids.first().and_then(|id| doc.get_dictionary(*id).ok()))
}

pub(crate) fn num(doc: &Document, o: &Object) -> Option<f64> {
    let o = doc.dereference(o).ok()?.1;
    o.as_float().ok().map(f64::from)
}

impl<'a> Walker<'a> {
    fn run(
        &mut self,
        content: &[u8],
        resources: Option<&'a Dictionary>,
        ctm0: Matrix,
        depth: usize,
    ) -> Result<(), ExtractError> {
        let ops = Content::decode(content)
            .map_err(|e| ExtractError::new("corrupt", format!("content stream: {e}")))?
            .operations;
        let mut ctm = ctm0;
        let mut stack: Vec<(Matrix, TextState)> = Vec::new();
        let mut ts = TextState::default();
        let mut tm = IDENTITY;
        let mut tlm = IDENTITY;
        let doc = self.doc;
        let f = |o: &Object| num(doc, o).unwrap_or(0.0);
        for op in &ops {
            let a = &op.operands;
            let arg = |i: usize| a.get(i).map(f).unwrap_or(0.0);
            match op.operator.as_str() {
                "q" if stack.len() < 256 => stack.push((ctm, ts.clone())),
                "Q" => {
                    if let Some((m, t)) = stack.pop() {
                        ctm = m;
                        ts = t;
                    }
                }
                "cm" if a.len() == 6 => {
                    ctm = mul(&[arg(0), arg(1), arg(2), arg(3), arg(4), arg(5)], &ctm)
                }
                "BT" => {
                    tm = IDENTITY;
                    tlm = IDENTITY;
                }
                "Tf" => {
                    ts.font_key = a
                        .first()
                        .and_then(|o| o.as_name().ok())
                        .unwrap_or_default()
                        .to_vec();
                    ts.size = arg(1);
                    ts.font = None;
                }
                "Tc" => ts.char_spacing = arg(0),
                "Tw" => ts.word_spacing = arg(0),
                "Tz" => ts.hscale = arg(0) / 100.0,
                "TL" => ts.leading = arg(0),
                "Ts" => ts.rise = arg(0),
                "Td" | "TD" => {
                    if op.operator == "TD" {
                        ts.leading = -arg(1);
                    }
                    tlm = mul(&[1.0, 0.0, 0.0, 1.0, arg(0), arg(1)], &tlm);
                    tm = tlm;
                }
                "Tm" if a.len() == 6 => {
                    tlm = [arg(0), arg(1), arg(2), arg(3), arg(4), arg(5)];
                    tm = tlm;
                }
                "T*" => {
                    tlm = mul(&[1.0, 0.0, 0.0, 1.0, 0.0, -ts.leading], &tlm);
                    tm = tlm;
                }
                "Tj" | "'" | "\"" | "TJ" => {
                    if op.operator == "'" || op.operator == "\"" {
                        if op.operator == "\"" {
                            ts.word_spacing = arg(0);
                            ts.char_spacing = arg(1);
                        }
                        tlm = mul(&[1.0, 0.0, 0.0, 1.0, 0.0, -ts.leading], &tlm);
                        tm = tlm;
                    }
                    let font_key = (
                        resources.map_or(0, |r| r as *const _ as usize),
                        ts.font_key.clone(),
                    );
                    if !self.fonts.contains_key(&font_key) {
                        let font = fonts::load(doc, resources, &ts.font_key, self.limit)?;
                        self.fonts.insert(font_key.clone(), font);
                    }
                    let font = &self.fonts[&font_key];
                    let items: Vec<&Object> = match op.operator.as_str() {
                        "TJ" => a
                            .first()
                            .and_then(|o| o.as_array().ok())
                            .map(|v| v.iter().collect())
                            .unwrap_or_default(),
                        _ => a.last().into_iter().collect(),
                    };
                    for item in items {
                        match item {
                            Object::String(bytes, _) => {
                                show(&mut self.out, font, bytes, &ts, &mut tm, &ctm, self.page);
                            }
                            other => {
                                let adj = num(doc, other).unwrap_or(0.0);
                                let tx = -adj / 1000.0 * ts.size * ts.hscale;
                                tm = mul(&[1.0, 0.0, 0.0, 1.0, tx, 0.0], &tm);
                            }
                        }
                    }
                    if self.out.glyphs.len() > MAX_GLYPHS {
                        return Err(ExtractError::new(
                            "corrupt",
                            "more than 200000 glyphs on one page",
                        ));
                    }
                }
                "Do" => self.xobject(a, resources, &ctm, depth)?,
                "BI" => {
                    // Inline image: drawn in the unit square under the CTM.
                    self.cover(&ctm);
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn xobject(
        &mut self,
        a: &[Object],
        resources: Option<&'a Dictionary>,
        ctm: &Matrix,
        depth: usize,
    ) -> Result<(), ExtractError> {
        let doc = self.doc;
        let Some(name) = a.first().and_then(|o| o.as_name().ok()) else {
            return Ok(());
        };
        let Some(stream) = resources
            .and_then(|r| r.get_deref(b"XObject", doc).ok())
            .and_then(|o| o.as_dict().ok())
            .and_then(|d| d.get_deref(name, doc).ok())
            .and_then(|o| o.as_stream().ok())
        else {
            return Ok(());
        };
        match stream.dict.get(b"Subtype").and_then(Object::as_name) {
            Ok(b"Image") => self.cover(ctm),
            Ok(b"Form") if depth < MAX_FORM_DEPTH => {
                let content = stream
                    .decompressed_content_with_limit(self.limit)
                    .or_else(|e| match e {
                        lopdf::Error::Decompress(lopdf::DecompressError::MemoryLimitExceeded {
                            ..
                        }) => Err(e),
                        _ if stream.dict.get(b"Filter").is_err() => Ok(stream.content.clone()),
                        _ => Err(e),
                    })
                    .map_err(|e| crate::pdf::classify(&e))?;
                let m = stream
                    .dict
                    .get_deref(b"Matrix", doc)
                    .and_then(Object::as_array)
                    .ok()
                    .map(|v| {
                        v.iter()
                            .map(|o| num(doc, o).unwrap_or(0.0))
                            .collect::<Vec<_>>()
                    })
                    .filter(|v| v.len() == 6)
                    .map(|v| [v[0], v[1], v[2], v[3], v[4], v[5]])
                    .unwrap_or(IDENTITY);
                let inner = stream
                    .dict
                    .get_deref(b"Resources", doc)
                    .and_then(Object::as_dict)
                    .ok()
                    .or(resources);
                self.run(&content, inner, mul(&m, ctm), depth + 1)?;
            }
            _ => {}
        }
        Ok(())
    }

    /// Adds the area of the unit square under `ctm` to the image cover.
    fn cover(&mut self, ctm: &Matrix) {
        let area = (ctm[0] * ctm[3] - ctm[1] * ctm[2]).abs();
        let page = (self.out.width * self.out.height).max(1.0);
        self.out.image_cover += (area / page).min(1.0);
    }
}

/// Shows one string: a glyph per character code, advancing the text matrix.
fn show(
    out: &mut PageText,
    font: &Font,
    bytes: &[u8],
    ts: &TextState,
    tm: &mut Matrix,
    ctm: &Matrix,
    page: PageFrame,
) {
    for (code, width) in font.codes(bytes) {
        let text = font.text(code);
        let trm = mul(
            &mul(&[ts.size * ts.hscale, 0.0, 0.0, ts.size, 0.0, ts.rise], tm),
            ctm,
        );
        let size = (trm[2] * trm[2] + trm[3] * trm[3]).sqrt();
        let is_space = font.is_single_byte() && code == 32;
        let tx = (width / 1000.0 * ts.size
            + ts.char_spacing
            + if is_space { ts.word_spacing } else { 0.0 })
            * ts.hscale;
        // The advance in page space: the text-space vector (tx, 0) through tm × ctm.
        let m = mul(tm, ctm);
        let w = (tx * m[0]).hypot(tx * m[1]);
        if !text.is_empty() {
            let (x, y) = page.upright(trm[4], trm[5]);
            out.glyphs.push(Glyph {
                text,
                x,
                y,
                w: if is_space {
                    w
                } else {
                    (width / 1000.0 * size).max(0.0)
                },
                size,
                vertical: (trm[1].abs() > 2.0 * trm[0].abs() && page.rotate == 0)
                    .then_some(trm[1] > 0.0),
            });
        }
        *tm = mul(&[1.0, 0.0, 0.0, 1.0, tx, 0.0], tm);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matrices_compose_in_pdf_order() {
        let t = [1.0, 0.0, 0.0, 1.0, 10.0, 20.0];
        let s = [2.0, 0.0, 0.0, 2.0, 0.0, 0.0];
        // translate then scale: the translation is scaled too.
        assert_eq!(mul(&t, &s), [2.0, 0.0, 0.0, 2.0, 20.0, 40.0]);
        assert_eq!(mul(&IDENTITY, &t), t);
    }
}

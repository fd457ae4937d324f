//! A page font as the text walk needs it: how to cut a string into codes
//! (1 byte for simple fonts, 2 for Type0), each code's Unicode text
//! (ToUnicode CMap first, then `/Encoding` with `/Differences`, WinAnsi,
//! MacRoman or Standard, as lopdf resolves them) and each code's advance
//! width (`/Widths`, CID `/W` + `/DW`, or built-in metrics for the standard
//! 14 fonts, which carry no widths).

use std::collections::HashMap;

use lopdf::{Dictionary, Document, Encoding, Object};

use crate::ExtractError;

use super::num;

pub(crate) struct Font {
    two_byte: bool,
    /// Simple fonts: text per code.
    table: Vec<String>,
    /// Type0: the ToUnicode map, decoded per code on demand.
    cid_map: Option<Encoding<'static>>,
    widths: HashMap<u32, f64>,
    default_width: f64,
    /// Type3 glyph space to text space, in thousandths.
    width_scale: f64,
}

impl Font {
    pub(crate) fn is_single_byte(&self) -> bool {
        !self.two_byte
    }

    /// The codes of `bytes` with their widths (thousandths of an em).
    pub(crate) fn codes<'b>(&'b self, bytes: &'b [u8]) -> impl Iterator<Item = (u32, f64)> + 'b {
        let step = if self.two_byte { 2 } else { 1 };
        bytes.chunks(step).map(move |c| {
            let code = c.iter().fold(0u32, |acc, b| acc * 256 + u32::from(*b));
            let w = self
                .widths
                .get(&code)
                .copied()
                .unwrap_or(self.default_width)
                * self.width_scale;
            (code, w)
        })
    }

    /// The Unicode text of one code (`""` for unmapped control codes).
    pub(crate) fn text(&self, code: u32) -> String {
        if !self.two_byte {
            return self.table.get(code as usize).cloned().unwrap_or_default();
        }
        match &self.cid_map {
            Some(map) => {
                let bytes = [(code >> 8) as u8, code as u8];
                map.bytes_to_string(&bytes)
                    .unwrap_or_default()
                    .replace('\u{fffd}', "?")
            }
            None => "?".to_string(),
        }
    }
}

/// Builds the font named `key` in `resources`. A missing font gets a
/// Helvetica stand-in (text is still positioned), never an error; only a
/// decompression bomb in its streams fails.
pub(crate) fn load(
    doc: &Document,
    resources: Option<&Dictionary>,
    key: &[u8],
    limit: usize,
) -> Result<Font, ExtractError> {
    let dict = resources
        .and_then(|r| r.get_deref(b"Font", doc).ok())
        .and_then(|o| o.as_dict().ok())
        .and_then(|d| d.get_deref(key, doc).ok())
        .and_then(|o| o.as_dict().ok());
    let Some(dict) = dict else {
        return Ok(standard(&[], 1.0));
    };
    let subtype = dict
        .get(b"Subtype")
        .and_then(Object::as_name)
        .unwrap_or(b"Type1");
    let to_unicode = to_unicode(doc, dict, limit)?;
    if subtype == b"Type0" {
        return Ok(type0(doc, dict, to_unicode));
    }
    let base = font_encoding(doc, dict, limit)?;
    let mut table = Vec::with_capacity(256);
    for code in 0..=255u8 {
        let mut text = to_unicode
            .as_ref()
            .and_then(|m| m.bytes_to_string(&[code]).ok())
            .filter(|s| !s.is_empty() && !s.contains('\u{fffd}'))
            .unwrap_or_default();
        if text.is_empty() {
            text = base
                .as_ref()
                .and_then(|e| e.bytes_to_string(&[code]).ok())
                .filter(|s| !s.contains('\u{fffd}'))
                .unwrap_or_else(|| {
                    if code >= 32 {
                        char::from(code).to_string()
                    } else {
                        String::new()
                    }
                });
        }
        // Symbolic TrueType fonts often map to the private-use area.
        text = text.chars().filter(|c| !c.is_control()).collect();
        table.push(text);
    }
    let base_name = dict
        .get(b"BaseFont")
        .and_then(Object::as_name)
        .unwrap_or(b"");
    let mut font = standard(base_name, 1.0);
    font.table = table;
    let first = dict
        .get_deref(b"FirstChar", doc)
        .ok()
        .and_then(|o| num(doc, o))
        .unwrap_or(0.0) as u32;
    if let Ok(ws) = dict.get_deref(b"Widths", doc).and_then(Object::as_array) {
        font.widths = ws
            .iter()
            .enumerate()
            .filter_map(|(i, o)| num(doc, o).map(|w| (first + i as u32, w)))
            .collect();
        font.default_width = dict
            .get_deref(b"FontDescriptor", doc)
            .and_then(Object::as_dict)
            .ok()
            .and_then(|d| d.get_deref(b"MissingWidth", doc).ok())
            .and_then(|o| num(doc, o))
            .unwrap_or(500.0);
    }
    if subtype == b"Type3" {
        font.width_scale = dict
            .get_deref(b"FontMatrix", doc)
            .and_then(Object::as_array)
            .ok()
            .and_then(|m| m.first())
            .and_then(|o| num(doc, o))
            .map(|a| a * 1000.0)
            .unwrap_or(1.0);
    }
    Ok(font)
}

fn bomb(e: &lopdf::Error) -> bool {
    matches!(
        e,
        lopdf::Error::Decompress(lopdf::DecompressError::MemoryLimitExceeded { .. })
    )
}

/// The `/ToUnicode` CMap, parsed by lopdf: a font dict holding only that
/// stream resolves to lopdf's Unicode-map encoding.
fn to_unicode(
    doc: &Document,
    dict: &Dictionary,
    limit: usize,
) -> Result<Option<Encoding<'static>>, ExtractError> {
    let Ok(stream) = dict
        .get_deref(b"ToUnicode", doc)
        .and_then(Object::as_stream)
    else {
        return Ok(None);
    };
    let mut only = Dictionary::new();
    only.set("Type", Object::Name(b"Font".to_vec()));
    only.set("ToUnicode", Object::Stream(stream.clone()));
    match only.get_font_encoding_with_limit(doc, limit) {
        Ok(Encoding::UnicodeMapEncoding(map)) => Ok(Some(Encoding::UnicodeMapEncoding(map))),
        Ok(_) => Ok(None),
        Err(e) if bomb(&e) => Err(crate::pdf::classify(&e)),
        Err(_) => Ok(None),
    }
}

/// `/Encoding` as lopdf resolves it; `None` when the font has none of its own.
fn font_encoding<'a>(
    doc: &'a Document,
    dict: &'a Dictionary,
    limit: usize,
) -> Result<Option<Encoding<'a>>, ExtractError> {
    if dict.get(b"Encoding").is_err() {
        // Standard encoding for Type1, but TrueType fonts without one are
        // nearly always Latin text in WinAnsi order.
        return Ok(Some(Encoding::SimpleEncoding(b"WinAnsiEncoding")));
    }
    match dict.get_font_encoding_with_limit(doc, limit) {
        Ok(e) => Ok(Some(e)),
        Err(e) if bomb(&e) => Err(crate::pdf::classify(&e)),
        Err(_) => Ok(None),
    }
}

fn type0(doc: &Document, dict: &Dictionary, to_unicode: Option<Encoding<'static>>) -> Font {
    let mut font = standard(&[], 1.0);
    font.two_byte = true;
    font.cid_map = to_unicode;
    font.default_width = 1000.0;
    let Some(cid) = dict
        .get_deref(b"DescendantFonts", doc)
        .and_then(Object::as_array)
        .ok()
        .and_then(|a| a.first())
        .and_then(|o| doc.dereference(o).ok())
        .and_then(|(_, o)| o.as_dict().ok())
    else {
        return font;
    };
    if let Some(dw) = cid.get_deref(b"DW", doc).ok().and_then(|o| num(doc, o)) {
        font.default_width = dw;
    }
    if let Ok(w) = cid.get_deref(b"W", doc).and_then(Object::as_array) {
        let mut i = 0;
        while i < w.len() {
            let Some(first) = num(doc, &w[i]) else { break };
            let first = first as u32;
            match w
                .get(i + 1)
                .and_then(|o| doc.dereference(o).ok())
                .map(|(_, o)| o)
            {
                Some(Object::Array(list)) => {
                    for (k, o) in list.iter().enumerate().take(65536) {
                        if let Some(width) = num(doc, o) {
                            font.widths.insert(first + k as u32, width);
                        }
                    }
                    i += 2;
                }
                Some(last) => {
                    let last = num(doc, last).unwrap_or(0.0) as u32;
                    let width = w
                        .get(i + 2)
                        .and_then(|o| num(doc, o))
                        .unwrap_or(font.default_width);
                    for c in first..=last.min(first + 65535) {
                        font.widths.insert(c, width);
                    }
                    i += 3;
                }
                None => break,
            }
        }
    }
    font
}

/// Helvetica's advance widths for ASCII 32..=126 (Adobe's AFM).
const HELVETICA: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278,
    278, // ' '..'/'
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584,
    556, // '0'..'?'
    1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722,
    778, // '@'..'O'
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469,
    556, // 'P'..'_'
    333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556,
    556, // '`'..'o'
    556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584, // 'p'..'~'
];

/// Metrics for a font without `/Widths` (the standard 14): Courier is
/// monospaced, the rest approximated from Helvetica (accented letters take
/// their base letter's width).
fn standard(base_name: &[u8], scale: f64) -> Font {
    let name = String::from_utf8_lossy(base_name).to_ascii_lowercase();
    let mut widths = HashMap::new();
    if !name.contains("courier") {
        let factor = if name.contains("bold") {
            1.05
        } else if name.contains("times") {
            0.9
        } else {
            1.0
        };
        for (i, w) in HELVETICA.iter().enumerate() {
            widths.insert(32 + i as u32, f64::from(*w) * factor);
        }
    }
    Font {
        two_byte: false,
        table: Vec::new(),
        cid_map: None,
        widths,
        default_width: if name.contains("courier") {
            600.0
        } else {
            556.0
        },
        width_scale: scale,
    }
}

//! From positioned glyphs (text pages) or OCR words (scanned pages) to the
//! shape the parser reads: words (split on space glyphs *and* on gaps, since
//! some generators never emit a space — senate-expenditures.pdf), lines (by
//! baseline), and cells within a line (words closer than about an em),
//! which line up with table columns by x.

use crate::text::Glyph;

/// A word with its box, in points from the page's top-left.
#[derive(Debug, Clone, PartialEq)]
pub struct Word {
    pub text: String,
    pub x0: f64,
    pub x1: f64,
    /// Baseline (text) or box bottom (OCR).
    pub y: f64,
    /// Font size or box height, points.
    pub size: f64,
    /// 0-100; 100 for text PDFs.
    pub conf: f32,
}

/// Words close together on one line: a table cell or a phrase.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    pub text: String,
    pub x0: f64,
    pub x1: f64,
    pub conf: f32,
}

impl Cell {
    pub fn center(&self) -> f64 {
        (self.x0 + self.x1) / 2.0
    }
}

/// One line of the document (pages concatenated in order).
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub page: u32,
    pub y: f64,
    pub size: f64,
    pub words: Vec<Word>,
    pub cells: Vec<Cell>,
}

impl Line {
    /// The words joined by single spaces.
    pub fn text(&self) -> String {
        self.words
            .iter()
            .map(|w| w.text.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// A word gap wider than this fraction of the font size splits words
/// (a space is about 0.25-0.28 em; letters in a word sit closer than 0.1).
const WORD_GAP_EM: f64 = 0.18;
/// A gap wider than this fraction splits cells (table columns are further
/// apart than a space; the words of a subject name are not).
const CELL_GAP_EM: f64 = 0.9;

/// Glyphs to words: one pass over the glyphs in reading order per line;
/// text turned 90° becomes one word per run ([`rotated_words`]).
pub(crate) fn words_from_glyphs(glyphs: &[Glyph]) -> Vec<Word> {
    let (turned, flat): (Vec<&Glyph>, Vec<&Glyph>) =
        glyphs.iter().partition(|g| g.vertical.is_some());
    let mut words = flat_words(flat);
    words.extend(rotated_words(turned));
    words
}

/// Rotated header labels (`1º Bimestre` turned 90°): glyphs in one column
/// (same x) and one run (no gap over an em) make one word, placed where the
/// run starts — at the bottom of the header, on the line of the other
/// header cells — one em wide and centred on the column, so it lines up
/// with the values under it.
fn rotated_words(mut glyphs: Vec<&Glyph>) -> Vec<Word> {
    glyphs.sort_by(|a, b| a.x.total_cmp(&b.x).then(a.y.total_cmp(&b.y)));
    let mut runs: Vec<Vec<&Glyph>> = Vec::new();
    for g in glyphs {
        let joins = runs.last().and_then(|r| r.last()).is_some_and(|last| {
            (last.x - g.x).abs() < 0.3 * g.size && (g.y - last.y).abs() < last.w + g.size
        });
        if joins {
            runs.last_mut().unwrap().push(g);
        } else {
            runs.push(vec![g]);
        }
    }
    runs.into_iter()
        .filter_map(|mut r| {
            let up = r[0].vertical == Some(true);
            // Reading order: upwards = from the largest y (top-left origin) down.
            if up {
                r.sort_by(|a, b| b.y.total_cmp(&a.y));
            } else {
                r.sort_by(|a, b| a.y.total_cmp(&b.y));
            }
            let text: String = r.iter().map(|g| g.text.as_str()).collect();
            let text = text.trim().to_string();
            if text.is_empty() {
                return None;
            }
            let size = r.iter().map(|g| g.size).fold(0.0, f64::max);
            // The glyphs' boxes lie to the left of their origin (upwards) or right.
            let centre = if up {
                r[0].x - size * 0.35
            } else {
                r[0].x + size * 0.35
            };
            let bottom = r.iter().map(|g| g.y).fold(f64::NEG_INFINITY, f64::max);
            let bottom = if up { r[0].y } else { bottom };
            Some(Word {
                text,
                x0: centre - size / 2.0,
                x1: centre + size / 2.0,
                y: bottom,
                size,
                conf: 100.0,
            })
        })
        .collect()
}

fn flat_words(glyphs: Vec<&Glyph>) -> Vec<Word> {
    let mut lines = group_by_baseline(glyphs, |g| g.y, |g| g.size);
    let mut words = Vec::new();
    for line in &mut lines {
        line.sort_by(|a, b| a.x.total_cmp(&b.x));
        let mut cur: Option<Word> = None;
        for g in line.iter() {
            let blank = g.text.chars().all(char::is_whitespace);
            if let Some(w) = cur.as_mut() {
                let gap = g.x - w.x1;
                let tol = w.size.max(g.size).max(1.0);
                let split = blank || gap > WORD_GAP_EM * tol || gap < -0.5 * tol;
                if split {
                    words.push(cur.take().unwrap());
                } else {
                    w.text.push_str(&g.text);
                    w.x1 = w.x1.max(g.x + g.w);
                    continue;
                }
            }
            if !blank {
                cur = Some(Word {
                    text: g.text.clone(),
                    x0: g.x,
                    x1: g.x + g.w,
                    y: g.y,
                    size: g.size,
                    conf: 100.0,
                });
            }
        }
        words.extend(cur);
    }
    words
}

/// Groups items whose baselines differ by less than a third of their size.
fn group_by_baseline<T>(
    mut items: Vec<T>,
    y: impl Fn(&T) -> f64,
    size: impl Fn(&T) -> f64,
) -> Vec<Vec<T>> {
    items.sort_by(|a, b| y(a).total_cmp(&y(b)));
    let mut out: Vec<Vec<T>> = Vec::new();
    let mut base = f64::NEG_INFINITY;
    for it in items {
        let tol = (size(&it) * 0.35).max(1.0);
        if (y(&it) - base).abs() <= tol && !out.is_empty() {
            out.last_mut().unwrap().push(it);
        } else {
            base = y(&it);
            out.push(vec![it]);
        }
    }
    out
}

/// Words of one page to lines with cells.
pub(crate) fn lines(page: u32, words: Vec<Word>) -> Vec<Line> {
    let groups = group_by_baseline(words, |w| w.y, |w| w.size);
    groups
        .into_iter()
        .map(|mut ws| {
            ws.sort_by(|a, b| a.x0.total_cmp(&b.x0));
            let y = ws.iter().map(|w| w.y).sum::<f64>() / ws.len() as f64;
            let size = ws.iter().map(|w| w.size).fold(0.0, f64::max);
            let cells = cells(&ws);
            Line {
                page,
                y,
                size,
                words: ws,
                cells,
            }
        })
        .collect()
}

fn cells(words: &[Word]) -> Vec<Cell> {
    let mut out: Vec<Cell> = Vec::new();
    for w in words {
        if let Some(c) = out.last_mut() {
            if w.x0 - c.x1 <= CELL_GAP_EM * w.size.max(1.0) {
                c.text.push(' ');
                c.text.push_str(&w.text);
                c.x1 = c.x1.max(w.x1);
                c.conf = c.conf.min(w.conf);
                continue;
            }
        }
        out.push(Cell {
            text: w.text.clone(),
            x0: w.x0,
            x1: w.x1,
            conf: w.conf,
        });
    }
    out
}

/// Test lines: each `(text, x)` a cell starting at `x` on baseline `y`, its
/// words 5 pt per character apart by 2.5 pt (the parsers' unit tests).
#[cfg(test)]
pub(crate) fn words_at(cells: &[(&str, f64)], y: f64) -> Vec<Word> {
    let mut out = Vec::new();
    for (text, x) in cells {
        let mut x = *x;
        for t in text.split(' ') {
            let w = t.chars().count() as f64 * 5.0;
            out.push(Word {
                text: t.into(),
                x0: x,
                x1: x + w,
                y,
                size: 10.0,
                conf: 100.0,
            });
            x += w + 2.5;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn glyphs(s: &str, x: f64, y: f64, adv: f64) -> Vec<Glyph> {
        s.chars()
            .enumerate()
            .map(|(i, c)| Glyph {
                text: c.to_string(),
                x: x + i as f64 * adv,
                y,
                w: adv * 0.9,
                size: 10.0,
                vertical: None,
            })
            .collect()
    }

    #[test]
    fn splits_words_on_gaps_without_space_glyphs() {
        let mut g = glyphs("SENATE", 10.0, 100.0, 6.0);
        g.extend(glyphs("EXPENSES", 10.0 + 6.0 * 6.0 + 3.0, 100.2, 6.0));
        let words = words_from_glyphs(&g);
        let texts: Vec<_> = words.iter().map(|w| w.text.as_str()).collect();
        assert_eq!(texts, ["SENATE", "EXPENSES"]);
    }

    #[test]
    fn lines_by_baseline_and_cells_by_gap() {
        let mut g = glyphs("Língua Portuguesa", 50.0, 200.0, 5.0);
        g.extend(glyphs("8,5", 250.0, 200.0, 5.0));
        g.extend(glyphs("7,0", 300.0, 200.0, 5.0));
        g.extend(glyphs("Matemática", 50.0, 215.0, 5.0));
        let ls = lines(1, words_from_glyphs(&g));
        assert_eq!(ls.len(), 2);
        assert_eq!(ls[0].text(), "Língua Portuguesa 8,5 7,0");
        let cells: Vec<_> = ls[0].cells.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(cells, ["Língua Portuguesa", "8,5", "7,0"]);
        assert_eq!(ls[1].text(), "Matemática");
    }

    #[test]
    fn rotated_header_labels_become_words_on_the_header_line() {
        let mut g = glyphs("Disciplina", 50.0, 300.0, 5.0);
        // "Média" turned 90°, reading upwards from the header's baseline.
        for (i, c) in "Média".chars().enumerate() {
            g.push(Glyph {
                text: c.to_string(),
                x: 253.5,
                y: 301.0 - i as f64 * 5.0,
                w: 4.5,
                size: 10.0,
                vertical: Some(true),
            });
        }
        let ls = lines(1, words_from_glyphs(&g));
        assert_eq!(ls.len(), 1);
        assert_eq!(ls[0].text(), "Disciplina Média");
        let m = &ls[0].words[1];
        assert!(
            (m.x0 + m.x1) / 2.0 > 245.0 && (m.x0 + m.x1) / 2.0 < 252.0,
            "{m:?}"
        );
    }
}

//! The pipeline, one file at a time:
//! 1. load (bounded, `catch_unwind`), refuse encrypted, too many pages, bombs;
//! 2. per page: the text layer if it has usable text, else OCR
//!    (or `needs_ocr` when OCR is off and no page has text);
//! 3. layout → lines; parse → fields, subjects, years;
//! 4. OCR pages: each grade cell re-read alone, range-checked;
//! 5. normalise and validate → [`Extraction`] with warnings;
//! 6. precision first: `not_a_transcript` for anything that is not a
//!    boletim/histórico ([`crate::classify`]), `needs_review` with its
//!    reasons for anything doubtful ([`crate::review`]).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use crate::layout::{self, Line};
use crate::ocr::{Ocr, OcrPage};
use crate::parse::{self, rows::Col, Parsed};
use crate::validate::{validate, warn};
use crate::{
    pdf, text, DocType, ExtractError, Extraction, Method, Options, PageInfo, School, Student,
    Warning,
};

/// A page with fewer letters and digits than this is treated as scanned.
const MIN_TEXT_CHARS: usize = 16;
/// OCR'd pages whose images are kept for cell re-reads (memory bound:
/// about 9 MB each at 300 dpi).
const MAX_KEPT_IMAGES: usize = 8;

/// One page as read.
pub(crate) struct PageRead {
    pub info: PageInfo,
    pub lines: Vec<Line>,
    /// Plain text (reading order for OCR, line order for text pages).
    pub text: String,
    pub ocr: Option<OcrPage>,
}

/// Extracts one PDF. Blocking (OCR takes seconds a page); never panics.
pub fn extract(bytes: &[u8], opts: &Options) -> Result<Extraction, ExtractError> {
    extract_with_text(bytes, opts).map(|(x, _)| x)
}

/// [`extract`], plus the text of every page as it was read (text layer or
/// OCR) — what the optional LLM fallback is given (`worker extract
/// --page-text N`). One reading of the file serves both.
pub fn extract_with_text(
    bytes: &[u8],
    opts: &Options,
) -> Result<(Extraction, Vec<String>), ExtractError> {
    catch_unwind(AssertUnwindSafe(|| extract_inner(bytes, opts))).unwrap_or_else(|_| {
        Err(ExtractError::new(
            "internal",
            "the extractor panicked on this file",
        ))
    })
}

/// The text of every page (text layer or OCR), for tests, the bench and
/// debugging; same checks and errors as [`extract`].
pub fn page_texts(bytes: &[u8], opts: &Options) -> Result<Vec<(PageInfo, String)>, ExtractError> {
    catch_unwind(AssertUnwindSafe(|| {
        let (pages, _) = read_pages(bytes, opts)?;
        Ok(pages.into_iter().map(|p| (p.info, p.text)).collect())
    }))
    .unwrap_or_else(|_| {
        Err(ExtractError::new(
            "internal",
            "the extractor panicked on this file",
        ))
    })
}

fn read_pages(bytes: &[u8], opts: &Options) -> Result<(Vec<PageRead>, Option<Ocr>), ExtractError> {
    let doc = pdf::load(bytes, opts)?;
    if pdf::is_encrypted(&doc) {
        return Err(ExtractError::new(
            "encrypted",
            "the PDF is encrypted with a password",
        ));
    }
    let pages = doc.get_pages();
    pdf::check_pages(pages.len() as u32, opts)?;
    pdf::scan_for_bombs(&doc, opts)?;
    let limit = pdf::limit(opts);
    let mut reads = Vec::new();
    let mut scanned = Vec::new();
    for (i, (&number, &id)) in pages.iter().enumerate() {
        let page = catch_unwind(AssertUnwindSafe(|| text::page_text(&doc, id, limit)))
            .unwrap_or_else(|_| {
                Err(ExtractError::new(
                    "corrupt",
                    format!("page {number}: parser panicked"),
                ))
            });
        let page = match page {
            Ok(p) => p,
            Err(e) if e.code == "decompression_bomb" => return Err(e),
            // An unreadable content stream: maybe its images still render.
            Err(_) => text::PageText::default(),
        };
        let words = layout::words_from_glyphs(&page.glyphs);
        let chars: usize = words
            .iter()
            .map(|w| w.text.chars().filter(|c| c.is_alphanumeric()).count())
            .sum();
        let junk: usize = words
            .iter()
            .map(|w| {
                w.text
                    .chars()
                    .filter(|c| *c == '?' || *c == '\u{fffd}')
                    .count()
            })
            .sum();
        let usable = chars >= MIN_TEXT_CHARS && junk * 3 < chars;
        let lines = layout::lines(number, words);
        let text = lines.iter().map(Line::text).collect::<Vec<_>>().join("\n");
        if !usable {
            scanned.push(i);
        }
        reads.push(PageRead {
            info: PageInfo {
                page: number,
                method: Method::Text,
                confidence: 100.0,
                chars: chars as u32,
                rotation: 0.0,
            },
            lines,
            text,
            ocr: None,
        });
    }
    if scanned.is_empty() {
        return Ok((reads, None));
    }
    if !opts.ocr {
        if scanned.len() == reads.len() {
            return Err(ExtractError::new(
                "needs_ocr",
                "the pages have no text layer and OCR is disabled",
            ));
        }
        return Ok((reads, None));
    }
    let mut ocr = Ocr::new(&opts.languages, opts.dpi)?;
    let shared = Arc::new(bytes.to_vec());
    for (kept, i) in scanned.into_iter().enumerate() {
        let img = crate::ocr::render::page(&shared, i, opts.dpi)?;
        let mut page = ocr.page(img)?;
        let read = &mut reads[i];
        read.info.method = Method::Ocr;
        read.info.confidence = page.conf;
        read.info.rotation = page.rotation;
        let words = std::mem::take(&mut page.words);
        let words = turned_header(&mut ocr, &page, words, opts.dpi)?;
        read.info.chars = words
            .iter()
            .map(|w| w.text.chars().filter(|c| c.is_alphanumeric()).count() as u32)
            .sum();
        read.lines = layout::lines(read.info.page, words);
        read.text = std::mem::take(&mut page.text);
        if kept < MAX_KEPT_IMAGES {
            read.ocr = Some(page);
        }
    }
    Ok((reads, Some(ocr)))
}

/// Scans whose table header is printed turned 90°: the page read leaves
/// junk (or nothing) where the labels are. When no line of the page reads
/// as a table header but a subject row with grades does, the band above the
/// first such row is read turned ([`Ocr::turned_labels`]) and the labels
/// that name a column become words on one line at the band's foot, in
/// place of the junk, so the parser finds the header as on a text page.
fn turned_header(
    ocr: &mut Ocr,
    page: &OcrPage,
    words: Vec<layout::Word>,
    dpi: u32,
) -> Result<Vec<layout::Word>, ExtractError> {
    use crate::normalize::{is_known_subject, number};
    use crate::parse::rows::{column_kind, header, Col};
    let lines = layout::lines(0, words.clone());
    // A header with a grade column was read upright; junk from turned
    // labels (`%`, `F`) next to `Disciplina` is not one.
    let graded = |l: &Line| {
        header(l).is_some_and(|h| {
            h.cols
                .iter()
                .any(|(k, _)| matches!(k, Col::Term(_) | Col::Final))
        })
    };
    if lines.iter().any(graded) {
        return Ok(words);
    }
    let is_row = |l: &Line| {
        let name: Vec<&str> = l
            .words
            .iter()
            .map(|w| w.text.as_str())
            .take_while(|t| number(t).is_none())
            .collect();
        let values = l.words.iter().filter(|w| number(&w.text).is_some()).count();
        values >= 2 && !name.is_empty() && is_known_subject(&name.join(" "))
    };
    let Some(first) = lines.iter().position(is_row) else {
        return Ok(words);
    };
    let row = &lines[first];
    let bottom = row.y - row.size * 0.45;
    // The band reaches up to the last line of fields (`Turma: 7º A`) or
    // text across the page, at most ~1.6 in (a turned `1º Bimestre`).
    let top = lines[..first]
        .iter()
        .rev()
        .find(|l| l.text().contains(':') || l.y < bottom - 110.0)
        .map_or(bottom - 110.0, |l| l.y + l.size * 0.45)
        .max(bottom - 110.0);
    if bottom - top < 12.0 {
        return Ok(words);
    }
    let name_right = row.cells.first().map_or(0.0, |c| c.x1);
    let px = f64::from(dpi) / 72.0;
    let band = (
        (name_right * px) as usize,
        (top * px).max(0.0) as usize,
        page.image.w,
        (bottom * px) as usize,
    );
    let labels = ocr.turned_labels(&page.image, band)?;
    let found: Vec<layout::Word> = labels
        .into_iter()
        .filter(|(t, _, _)| column_kind(t).is_some())
        .map(|(text, x, conf)| layout::Word {
            text,
            x0: x / px - row.size * 0.5,
            x1: x / px + row.size * 0.5,
            y: bottom - row.size * 0.6,
            size: row.size,
            conf,
        })
        .collect();
    if found.len() < 2 {
        return Ok(words);
    }
    let mut out: Vec<layout::Word> = words
        .into_iter()
        .filter(|w| {
            let inside = w.y > top && w.y < bottom && w.x0 >= name_right;
            !inside
        })
        .map(|mut w| {
            // A horizontal `Disciplina` in the band joins the turned labels' line.
            if w.y > top && w.y < bottom && column_kind(&w.text).is_some() {
                w.y = bottom - row.size * 0.6;
            }
            w
        })
        .collect();
    out.extend(found);
    Ok(out)
}

fn extract_inner(bytes: &[u8], opts: &Options) -> Result<(Extraction, Vec<String>), ExtractError> {
    let (pages, ocr) = read_pages(bytes, opts)?;
    // Tables side by side become one after the other (parser and re-reading alike).
    let lines: Vec<Line> =
        parse::panels::unfold(pages.iter().flat_map(|p| p.lines.iter().cloned()).collect());
    let all_text = pages
        .iter()
        .map(|p| p.text.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    let page_text: Vec<String> = pages.iter().map(|p| p.text.clone()).collect();
    let mut parsed = parse::parse(&lines, opts.doc_type);
    let mut warnings = Vec::new();
    if let Some(mut ocr) = ocr {
        reread_cells(&mut ocr, &pages, &lines, &mut parsed, opts, &mut warnings)?;
    }
    let text_pages = pages
        .iter()
        .filter(|p| p.info.method == Method::Text)
        .count();
    let method = match text_pages {
        n if n == pages.len() => Method::Text,
        0 => Method::Ocr,
        _ => Method::Mixed,
    };
    let h = &parsed.header;
    if h.birth_date.is_none() {
        if let Some(raw) = &h.birth_date_raw {
            warnings.push(warn(
                "student.birth_date",
                format!("not a dd/mm/aaaa date: {raw:?}"),
            ));
        }
    }
    let skipped = pages
        .iter()
        .filter(|p| p.info.chars < MIN_TEXT_CHARS as u32 && p.info.method == Method::Text)
        .count();
    if skipped > 0 && !opts.ocr {
        warnings.push(warn(
            "pages",
            format!("{skipped} page(s) without text were not read (OCR is off)"),
        ));
    }
    if parsed.subjects.is_empty() && parsed.years.iter().all(|y| y.subjects.is_empty()) {
        warnings.push(warn("subjects", "no subject rows were recognised"));
    }
    let confidence =
        pages.iter().map(|p| p.info.confidence).sum::<f32>() / pages.len().max(1) as f32;
    let mut x = Extraction {
        document_id: None,
        doc_type: parsed.doc_type.unwrap_or(DocType::Unknown),
        pages: pages.len() as u32,
        method,
        confidence,
        student: Student {
            name: h.name.clone(),
            registration: h.registration.clone(),
            birth_date: h.birth_date.clone(),
            class_name: h
                .class_name
                .as_deref()
                .map(crate::normalize::level_ordinals),
        },
        school: School {
            name: h.school.clone(),
            cnpj: h.cnpj.clone(),
        },
        year: h.year,
        subjects: std::mem::take(&mut parsed.subjects),
        years: std::mem::take(&mut parsed.years),
        overall_attendance_pct: parsed.overall_attendance_pct,
        warnings,
        page_info: pages.into_iter().map(|p| p.info).collect(),
        needs_review: false,
        review_reasons: Vec::new(),
    };
    for y in &mut x.years {
        y.grade_level = y
            .grade_level
            .as_deref()
            .map(crate::normalize::level_ordinals);
    }
    validate(&mut x, opts.grade_scale_max);
    // Doubts lower the confidence; review (below) holds the document.
    x.confidence =
        (x.confidence - crate::validate::WARNING_PENALTY * x.warnings.len() as f32).max(0.0);
    // Precision first: refuse what is not a transcript, hold what is doubtful.
    crate::classify::gate(&x, &all_text)?;
    x.review_reasons = crate::review::assess(&x, opts.grade_scale_max);
    x.needs_review = !x.review_reasons.is_empty();
    Ok((x, page_text))
}

/// Step 4: for every table row read from an OCR'd page, OCR each numeric
/// cell alone and take its value when it is in range.
fn reread_cells(
    ocr: &mut Ocr,
    pages: &[PageRead],
    lines: &[Line],
    parsed: &mut Parsed,
    opts: &Options,
    warnings: &mut Vec<Warning>,
) -> Result<(), ExtractError> {
    let px = f64::from(opts.dpi) / 72.0;
    for src in parsed.rows.clone() {
        let line = &lines[src.line];
        let Some(page) = pages.iter().find(|p| p.info.page == line.page) else {
            continue;
        };
        if page.info.method != Method::Ocr {
            continue;
        }
        let path = match src.year {
            Some(y) => format!("years[{y}].subjects[{}]", src.subject),
            None => format!("subjects[{}]", src.subject),
        };
        let subject = match src.year {
            Some(y) => &mut parsed.years[y].subjects[src.subject],
            None => &mut parsed.subjects[src.subject],
        };
        infer_commas(subject, opts.grade_scale_max, &path, warnings);
        let Some(header) = &src.header else { continue };
        let Some(img) = &page.ocr else { continue };
        // Rows: between the ruling lines around the text, else ±0.6 em.
        let cy = line.y * px;
        let half = line.size * px * 0.6;
        let above = img
            .hlines
            .iter()
            .rev()
            .find(|&&y| (y as f64) < cy && cy - y as f64 <= half * 3.0)
            .copied();
        let below = img
            .hlines
            .iter()
            .find(|&&y| (y as f64) > cy && y as f64 - cy <= half * 3.0)
            .copied();
        let inset_y = (opts.dpi / 60) as usize;
        let y0 = above.map_or((cy - half).max(0.0) as usize, |y| y + inset_y);
        let y1 = below.map_or((cy + half) as usize, |y| y.saturating_sub(inset_y));
        for (k, left, right) in header_spans(header) {
            if !matches!(
                k,
                Col::Term(_) | Col::Final | Col::Absences | Col::Attendance | Col::Workload
            ) {
                continue;
            }
            let (mut x0, mut x1) = (left * px, right * px);
            let c = (x0 + x1) / 2.0;
            if let (Some(l), Some(r)) = (
                img.vlines
                    .iter()
                    .rev()
                    .find(|&&x| (x as f64) < c && c - x as f64 <= (x1 - x0))
                    .copied(),
                img.vlines
                    .iter()
                    .find(|&&x| (x as f64) > c && x as f64 - c <= (x1 - x0))
                    .copied(),
            ) {
                x0 = l as f64;
                x1 = r as f64;
            }
            // Stay clear of the rules' remnants, which Tesseract reads as digits.
            let inset = (f64::from(opts.dpi) / 50.0).round();
            let (x0, x1) = (x0 + inset, x1 - inset);
            let page_conf = line
                .cells
                .iter()
                .filter(|c| c.center() * px >= x0 && c.center() * px < x1)
                .map(|c| c.conf)
                .fold(None, |a: Option<f32>, c| Some(a.map_or(c, |a| a.min(c))));
            let cell = ocr.cell(
                &img.image,
                x0.max(0.0) as usize,
                y0,
                x1.max(0.0) as usize,
                y1,
            )?;
            let Some((raw, conf)) = cell else { continue };
            let subject = match src.year {
                Some(y) => &mut parsed.years[y].subjects[src.subject],
                None => &mut parsed.subjects[src.subject],
            };
            apply_cell(
                subject,
                k,
                &raw,
                conf,
                page_conf,
                opts.grade_scale_max,
                &path,
                warnings,
            );
        }
    }
    Ok(())
}

/// OCR drops decimal commas (`8,5` → `85`): a two-digit grade above the
/// scale whose tenth is within it is taken as that tenth, with a warning.
fn infer_commas(s: &mut crate::SubjectResult, scale: f64, path: &str, w: &mut Vec<Warning>) {
    let fix = |raw: Option<&str>, v: Option<f64>| -> Option<f64> {
        let (raw, v) = (raw?.trim(), v?);
        (v > scale
            && raw.len() == 2
            && raw.chars().all(|c| c.is_ascii_digit())
            && v / 10.0 <= scale)
            .then_some(v / 10.0)
    };
    for (i, t) in s.terms.iter_mut().enumerate() {
        if let Some(v) = fix(t.raw.as_deref(), t.grade) {
            w.push(warn(
                &format!("{path}.terms[{i}].grade"),
                format!(
                    "read {:?}; decimal comma inferred",
                    t.raw.as_deref().unwrap_or("")
                ),
            ));
            t.grade = Some(v);
        }
    }
    let final_raw = s.final_grade.map(|v| format!("{v}"));
    if let Some(v) = fix(final_raw.as_deref(), s.final_grade) {
        w.push(warn(
            &format!("{path}.final_grade"),
            format!("read {v}0; decimal comma inferred"),
        ));
        s.final_grade = Some(v);
    }
}

/// The data columns' x spans, in points (a finite right edge for the last).
fn header_spans(h: &parse::rows::Header) -> Vec<(Col, f64, f64)> {
    let data: Vec<(Col, f64)> = h
        .cols
        .iter()
        .copied()
        .filter(|(k, _)| !parse::rows::pre_name(*k))
        .collect();
    let mut out = Vec::new();
    for (i, (k, c)) in data.iter().enumerate() {
        let gap_left = if i > 0 {
            c - data[i - 1].1
        } else {
            data.get(1).map_or(40.0, |d| d.1 - c)
        };
        let gap_right = data.get(i + 1).map_or(gap_left, |d| d.1 - c);
        out.push((*k, c - gap_left / 2.0, c + gap_right / 2.0));
    }
    out
}

/// Takes a cell's re-read value when it is a number in range and the page
/// read nothing usable there or read it with less confidence; a two-digit
/// grade above the scale with no separator gets its comma back (`85` → 8.5)
/// with a warning. When both reads are values in range and differ, a
/// warning holds the document for review whichever is kept.
#[allow(clippy::too_many_arguments)]
fn apply_cell(
    s: &mut crate::SubjectResult,
    k: Col,
    raw: &str,
    conf: f32,
    page_conf: Option<f32>,
    scale: f64,
    path: &str,
    w: &mut Vec<Warning>,
) {
    let Some(mut v) = crate::normalize::number(raw) else {
        return;
    };
    let in_range = |g: Option<f64>| g.is_some_and(|g| (0.0..=scale).contains(&g));
    let page_value = match k {
        Col::Term(n) => s.terms.iter().find(|t| t.term == n).and_then(|t| t.grade),
        Col::Final => s.final_grade,
        Col::Absences => s.absences.map(f64::from),
        Col::Attendance => s.attendance_pct.filter(|p| (0.0..=100.0).contains(p)),
        Col::Workload => s.workload_hours.map(f64::from),
        _ => None,
    };
    let page_ok = match k {
        Col::Term(_) | Col::Final => in_range(page_value),
        _ => page_value.is_some(),
    };
    // Two reads of one cell that disagree: whichever is kept, the value is
    // doubtful (precision first — `18` against `78` is a wrong record).
    if page_ok {
        let alone = match k {
            Col::Term(_) | Col::Final
                if v > scale && !raw.contains([',', '.']) && raw.len() == 2 =>
            {
                v / 10.0
            }
            _ => v,
        };
        let in_scale = match k {
            Col::Term(_) | Col::Final => (0.0..=scale).contains(&alone),
            Col::Attendance => (0.0..=100.0).contains(&alone),
            _ => alone >= 0.0,
        };
        if let Some(pv) = page_value.filter(|pv| in_scale && (pv - alone).abs() > 1e-6) {
            let field = match k {
                Col::Term(n) => format!("{path}.terms[{}].grade", n.saturating_sub(1)),
                Col::Final => format!("{path}.final_grade"),
                Col::Absences => format!("{path}.absences"),
                Col::Attendance => format!("{path}.attendance_pct"),
                _ => format!("{path}.workload_hours"),
            };
            w.push(warn(
                &field,
                format!("OCR read {pv} on the page and {raw:?} in the cell alone"),
            ));
            // The read that lost the decimal part (`8` against `8,4`, or a
            // truncated `7,`) is the wrong one: keep the page's.
            let truncated =
                raw.ends_with([',', '.']) || (alone.fract() == 0.0 && pv.fract() != 0.0);
            if truncated {
                return;
            }
        }
    }
    if raw.ends_with([',', '.']) && page_ok {
        return;
    }
    if page_ok && page_conf.is_some_and(|p| p >= conf) {
        return;
    }
    match k {
        Col::Term(_) | Col::Final => {
            let mut inferred = false;
            if v > scale && !raw.contains([',', '.']) && raw.len() == 2 && v / 10.0 <= scale {
                v /= 10.0;
                inferred = true;
            }
            if !(0.0..=scale).contains(&v) {
                return;
            }
            let field = match k {
                Col::Term(n) => {
                    let Some(i) = s.terms.iter().position(|t| t.term == n) else {
                        s.terms.push(crate::TermGrade {
                            term: n,
                            grade: Some(v),
                            raw: Some(raw.to_string()),
                            confidence: Some(conf),
                        });
                        s.terms.sort_by_key(|t| t.term);
                        return;
                    };
                    let t = &mut s.terms[i];
                    t.grade = Some(v);
                    t.raw = Some(raw.to_string());
                    t.confidence = Some(conf);
                    format!("{path}.terms[{i}].grade")
                }
                _ => {
                    s.final_grade = Some(v);
                    format!("{path}.final_grade")
                }
            };
            if inferred {
                w.push(warn(
                    &field,
                    format!("read {raw:?}; decimal comma inferred"),
                ));
            }
        }
        Col::Absences if v.fract() == 0.0 => s.absences = Some(v as u32),
        Col::Attendance if (0.0..=100.0).contains(&v) => s.attendance_pct = Some(v),
        Col::Workload if v.fract() == 0.0 => s.workload_hours = Some(v as u32),
        _ => {}
    }
}

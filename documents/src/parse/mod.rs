//! Lines (from text or OCR) to the document's content: the header fields
//! ([`fields`]), the subject rows ([`rows`]: tables and line layouts), and,
//! for históricos, the split into school years (a heading such as `Ano
//! Letivo: 2023 - Série: 7º Ano` opens a year; its tables follow).

pub(crate) mod fields;
pub(crate) mod inline;
pub(crate) mod rows;

use crate::layout::Line;
use crate::normalize::{fold, number, status};
use crate::{DocType, SubjectResult, YearRecord};

/// What the parser found; `extract` turns it into an [`crate::Extraction`].
#[derive(Debug, Default)]
pub(crate) struct Parsed {
    pub doc_type: Option<DocType>,
    pub header: fields::Header,
    pub subjects: Vec<SubjectResult>,
    pub years: Vec<YearRecord>,
    pub overall_attendance_pct: Option<f64>,
    /// For OCR: which line each subject came from, and its table header.
    pub rows: Vec<RowSource>,
}

/// Where a subject was read, so OCR can re-read its grade cells.
#[derive(Debug, Clone)]
pub(crate) struct RowSource {
    /// Index in `years` (históricos) or `None` (boletim subjects).
    pub year: Option<usize>,
    pub subject: usize,
    pub line: usize,
    pub header: Option<rows::Header>,
}

/// A year heading: `Ano Letivo: 2023`, `2023 - 7º Ano`, `Ano: 2023 Série: 7º`.
fn year_heading(line: &Line) -> Option<(i32, Option<String>)> {
    let text = line.text();
    let pairs = fields::pairs(&text);
    let year = pairs
        .iter()
        .find(|(f, _)| *f == fields::Field::Year)
        .and_then(|(_, v)| fields::year(v))
        .or_else(|| {
            let f = fold(&text);
            let first = f.split_whitespace().next()?;
            let starts_with_year = first.len() == 4 && first.chars().all(|c| c.is_ascii_digit());
            let rest = &f[first.len()..];
            (starts_with_year && (rest.contains("ano") || rest.contains("serie")))
                .then(|| fields::year(first))
                .flatten()
        })?;
    let level = pairs
        .iter()
        .find(|(f, _)| *f == fields::Field::GradeLevel)
        .map(|(_, v)| v.clone())
        .or_else(|| grade_level(&text));
    Some((year, level))
}

/// `7º Ano`, `1ª Série` within a line.
fn grade_level(text: &str) -> Option<String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    for w in words.windows(2) {
        let f = fold(w[1]);
        let starts_digit = w[0].chars().next().is_some_and(|c| c.is_ascii_digit());
        if starts_digit && (f.starts_with("ano") || f.starts_with("serie")) {
            return Some(format!(
                "{} {}",
                w[0],
                w[1].trim_end_matches([',', ';', '.'])
            ));
        }
    }
    None
}

/// `Frequência Global: 94,5%` and friends.
fn overall_attendance(text: &str) -> Option<f64> {
    let f = fold(text);
    let labelled = [
        "frequencia global",
        "frequencia geral",
        "frequencia total",
        "frequencia anual",
        "freq. global",
        "frequencia final",
        "frequencia media",
    ]
    .iter()
    .any(|p| f.starts_with(p));
    if !labelled {
        return None;
    }
    let after = text.split_once(':').map_or(text, |(_, v)| v);
    after
        .split_whitespace()
        .find_map(|w| number(w.trim_end_matches('%')))
}

/// `Resultado Final: Aprovado` for a year.
fn year_status(text: &str) -> Option<String> {
    let f = fold(text);
    let at = [
        "resultado final",
        "situacao final",
        "resultado do ano",
        "situacao do aluno",
    ]
    .iter()
    .find_map(|p| f.find(p))?;
    // `fold` keeps char counts, so the char offset carries over.
    let rest: String = text.chars().skip(f[..at].chars().count()).collect();
    let (_, v) = rest.split_once(':')?;
    status(v.split_whitespace().next()?)
}

/// Parses all lines (every page, in order).
pub(crate) fn parse(lines: &[Line], hint: Option<DocType>) -> Parsed {
    let mut p = Parsed {
        header: fields::header(lines),
        ..Parsed::default()
    };
    let all: String = lines
        .iter()
        .take(15)
        .map(|l| fold(&l.text()))
        .collect::<Vec<_>>()
        .join("\n");
    let mut header: Option<rows::Header> = None;
    let mut year: Option<usize> = None;
    let mut headings = 0;
    for (i, line) in lines.iter().enumerate() {
        if let Some(h) = rows::header(line) {
            header = Some(h);
            continue;
        }
        let text = line.text();
        if let Some((y, level)) = year_heading(line) {
            // The document's own "Ano Letivo" before any table is a boletim's year.
            let before_tables = header.is_none() && p.subjects.is_empty() && p.years.is_empty();
            if !(before_tables && hint != Some(DocType::Historico) && !all.contains("historico")) {
                headings += 1;
                p.years.push(YearRecord {
                    year: Some(y),
                    grade_level: level,
                    school_name: None,
                    subjects: Vec::new(),
                    overall_attendance_pct: None,
                    status: None,
                });
                year = Some(p.years.len() - 1);
                header = None;
                continue;
            }
        }
        let attendance = overall_attendance(&text);
        if let Some(v) = attendance {
            match year {
                Some(y) => p.years[y].overall_attendance_pct = Some(v),
                None => p.overall_attendance_pct = Some(v),
            }
        }
        let year_result = year.zip(year_status(&text));
        if let Some((y, s)) = &year_result {
            p.years[*y].status = Some(s.clone());
        }
        if attendance.is_some() || year_result.is_some() {
            continue;
        }
        let row = match &header {
            Some(h) => h.row(line).or_else(|| inline::inline(line)),
            None => inline::inline(line),
        };
        if let Some(s) = row {
            let from_table = header.as_ref().and_then(|h| h.row(line).map(|_| h.clone()));
            let (target, y) = match year {
                Some(y) => (&mut p.years[y].subjects, Some(y)),
                None => (&mut p.subjects, None),
            };
            target.push(s);
            p.rows.push(RowSource {
                year: y,
                subject: target.len() - 1,
                line: i,
                header: from_table,
            });
        }
    }
    p.doc_type = Some(match hint {
        Some(t) if t != DocType::Unknown => t,
        _ if all.contains("historico") || headings >= 2 => DocType::Historico,
        _ if all.contains("boletim") || !p.subjects.is_empty() => DocType::Boletim,
        _ if !p.years.is_empty() => DocType::Historico,
        _ => DocType::Unknown,
    });
    // A boletim read as years (its one "Ano Letivo" heading) keeps its subjects flat.
    if p.doc_type == Some(DocType::Boletim) && p.subjects.is_empty() && p.years.len() == 1 {
        let y = p.years.remove(0);
        p.header.year = p.header.year.or(y.year);
        p.subjects = y.subjects;
        p.overall_attendance_pct = p.overall_attendance_pct.or(y.overall_attendance_pct);
        for r in &mut p.rows {
            r.year = None;
        }
    }
    if p.header.year.is_none() || p.doc_type == Some(DocType::Historico) {
        p.header.year = p
            .years
            .iter()
            .filter_map(|y| y.year)
            .max()
            .or(p.header.year);
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn year_headings_and_totals() {
        assert_eq!(
            grade_level("Ano Letivo: 2023 - 7º Ano").as_deref(),
            Some("7º Ano")
        );
        assert_eq!(overall_attendance("Frequência Global: 94,5%"), Some(94.5));
        assert_eq!(overall_attendance("Matemática 94,5"), None);
        assert_eq!(
            year_status("Resultado Final: APROVADO").as_deref(),
            Some("aprovado")
        );
    }
}

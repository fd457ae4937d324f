//! Lines (from text or OCR) to the document's content: the header fields
//! ([`fields`]), the subject rows ([`rows`]: tables and line layouts), and,
//! for históricos, the split into school years (a heading such as `Ano
//! Letivo: 2023 - Série: 7º Ano` opens a year; its tables follow).

pub(crate) mod fields;
pub(crate) mod inline;
pub(crate) mod rows;
pub(crate) mod yearcols;

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

/// An open heading-block subject: its name and the values read so far.
struct Block {
    name: String,
    line: usize,
    values: Vec<(rows::Col, String, f32)>,
}

/// A line that is only a subject's name (`MATEMÁTICA`, `Língua Portuguesa`):
/// no numbers, no `key:`, a component of the lexicon.
fn heading(line: &Line) -> Option<String> {
    let text = line.text();
    let t = text.trim();
    if t.is_empty() || t.contains(':') || line.words.iter().any(|w| number(&w.text).is_some()) {
        return None;
    }
    crate::normalize::is_known_subject(t).then(|| t.to_string())
}

/// Closes the open heading block: a subject when it read a grade.
fn flush(p: &mut Parsed, block: &mut Option<Block>, year: Option<usize>) {
    let Some(b) = block.take() else { return };
    if !b
        .values
        .iter()
        .any(|(k, _, _)| matches!(k, rows::Col::Term(_) | rows::Col::Final))
    {
        return;
    }
    let s = rows::build(&b.name, &[], b.values);
    let (target, y) = match year {
        Some(y) => (&mut p.years[y].subjects, Some(y)),
        None => (&mut p.subjects, None),
    };
    target.push(s);
    p.rows.push(RowSource {
        year: y,
        subject: target.len() - 1,
        line: b.line,
        header: None,
    });
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
    // Heading-block layout: a subject alone on a line, its values on the next ones.
    let mut block: Option<Block> = None;
    // The first half of a subject name wrapped over two lines.
    let mut prefix: Option<String> = None;
    // The line the last subject row was read from (for a wrapped name's tail).
    let mut last_row: Option<usize> = None;
    let mut i = 0;
    while i < lines.len() {
        let line = &lines[i];
        let text = line.text();
        if let Some((cols, used)) = yearcols::detect(lines, i) {
            flush(&mut p, &mut block, year);
            let read = yearcols::rows(&cols, &lines[i + used..]);
            if year.is_some_and(|y| p.years[y].subjects.is_empty() && p.years.len() == y + 1) {
                p.years.pop();
            }
            let first = p.years.len();
            for c in &cols {
                p.years.push(YearRecord {
                    year: Some(c.year),
                    grade_level: c.level.clone(),
                    school_name: None,
                    subjects: Vec::new(),
                    overall_attendance_pct: None,
                    status: None,
                });
            }
            headings += cols.len();
            for (k, subjects) in read.subjects.into_iter().enumerate() {
                p.years[first + k].subjects = subjects;
            }
            header = None;
            year = None;
            i += used + read.lines;
            continue;
        }
        if let Some(h) = rows::header(line) {
            flush(&mut p, &mut block, year);
            prefix = None;
            // `1º Bim` over `Nota | Faltas`: the next line completes the header.
            if let Some(two) = lines.get(i + 1).and_then(|n| rows::two_level(line, n)) {
                header = Some(two);
                i += 2;
            } else {
                header = Some(h);
                i += 1;
            }
            continue;
        }
        if let Some((y, level)) = year_heading(line) {
            // The document's own "Ano Letivo" before any table is a boletim's year.
            let before_tables = header.is_none() && p.subjects.is_empty() && p.years.is_empty();
            if !(before_tables && hint != Some(DocType::Historico) && !all.contains("historico")) {
                flush(&mut p, &mut block, year);
                headings += 1;
                // A heading with nothing under it yet (the title's `Ano
                // Letivo 2023` above the first year's own) gives way.
                if year.is_some_and(|y| p.years[y].subjects.is_empty())
                    && p.years.len() == year.unwrap() + 1
                {
                    p.years.pop();
                    p.rows
                        .retain(|r| r.year.is_none_or(|ry| ry < p.years.len()));
                }
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
                i += 1;
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
            flush(&mut p, &mut block, year);
            i += 1;
            continue;
        }
        // Heading-block layout: the values of the open block's subject.
        if let Some(b) = block.as_mut() {
            let (start, values) = inline::values(line);
            if start == Some(0) && !values.is_empty() {
                b.values.extend(values);
                i += 1;
                continue;
            }
        }
        if let Some(name) = heading(line) {
            if header.is_none()
                || lines
                    .get(i + 1)
                    .is_some_and(|n| inline::values(n).0 == Some(0))
            {
                flush(&mut p, &mut block, year);
                block = Some(Block {
                    name,
                    line: i,
                    values: Vec::new(),
                });
                i += 1;
                continue;
            }
        }
        flush(&mut p, &mut block, year);
        if let Some(h) = &header {
            if let Some(frag) = h.name_only(line) {
                let next_values_only = lines
                    .get(i + 1)
                    .is_some_and(|n| h.row(n).is_none() && h.row_with_prefix(n, &frag).is_some());
                if next_values_only {
                    prefix = Some(frag);
                    i += 1;
                    continue;
                }
                if last_row.is_some_and(|l| l + 1 == i) {
                    let target = match year {
                        Some(y) => p.years[y].subjects.last_mut(),
                        None => p.subjects.last_mut(),
                    };
                    if let Some(s) = target {
                        let joined = format!("{} {frag}", s.name_original);
                        let (name, code) = crate::normalize::subject(&joined);
                        s.name_original = joined;
                        s.name = name;
                        s.code = code;
                        i += 1;
                        continue;
                    }
                }
            }
        }
        let pre = prefix.take();
        let row = match &header {
            Some(h) => h
                .row_with_prefix(line, pre.as_deref().unwrap_or(""))
                .or_else(|| inline::inline(line)),
            None => inline::inline(line),
        };
        if let Some(s) = row {
            let from_table = header.as_ref().and_then(|h| {
                h.row_with_prefix(line, pre.as_deref().unwrap_or(""))
                    .map(|_| h.clone())
            });
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
            last_row = Some(i);
        }
        i += 1;
    }
    flush(&mut p, &mut block, year);
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

    fn text_lines(rows: &[&str]) -> Vec<Line> {
        let mut words = Vec::new();
        for (n, row) in rows.iter().enumerate() {
            let mut x = 40.0;
            for t in row.split(' ') {
                let w = t.chars().count() as f64 * 5.0;
                words.push(crate::layout::Word {
                    text: t.into(),
                    x0: x,
                    x1: x + w,
                    y: 100.0 + n as f64 * 14.0,
                    size: 10.0,
                    conf: 100.0,
                });
                x += w + 2.5;
            }
        }
        crate::layout::lines(1, words)
    }

    #[test]
    fn heading_blocks() {
        let p = parse(
            &text_lines(&[
                "BOLETIM ESCOLAR",
                "MATEMÁTICA",
                "B1: 9,5 B2: 8,0 B3: 7,0 B4: - Média: 8,2",
                "Faltas: 3 Frequência: 98,1%",
                "Língua Portuguesa",
                "1º Trim.: 7,0 2º Trim.: 8,0 MF: 7,5",
            ]),
            None,
        );
        assert_eq!(p.subjects.len(), 2);
        let m = &p.subjects[0];
        assert_eq!(m.code, "matematica");
        let grades: Vec<_> = m.terms.iter().map(|t| t.grade).collect();
        assert_eq!(grades, [Some(9.5), Some(8.0), Some(7.0), None]);
        assert_eq!(
            (m.final_grade, m.absences, m.attendance_pct),
            (Some(8.2), Some(3), Some(98.1))
        );
        assert_eq!(p.subjects[1].final_grade, Some(7.5));
    }
}

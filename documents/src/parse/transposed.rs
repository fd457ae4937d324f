//! Tables turned on their side: the subjects are the columns (`Ano | Série
//! | Português | Matemática | …`) and each row is a school year (`2021 6º
//! Ano 7,5 8,0 …`, a histórico) or a term (`1º Bim 7,5 8,0 …`, `Média
//! Final`, `Faltas`: a boletim). The header is recognised by the subject
//! lexicon (three or more components), not by position; each value goes to
//! the subject column whose centre is nearest, within half the columns'
//! spacing. A row whose label is neither a year, a grade level nor a known
//! column (term, média, faltas, frequência) ends the table.

use super::fields::year;
use super::rows::{build, column_kind, Col};
use super::yearcols::level;
use crate::layout::Line;
use crate::normalize::{fold, is_known_subject, number};
use crate::validate::is_blank_mark;
use crate::{SubjectResult, YearRecord};

/// Subject columns of a header line: (name as written, x centre).
pub(crate) fn detect(line: &Line) -> Option<Vec<(String, f64)>> {
    if line.text().contains(':')
        || line
            .words
            .iter()
            .any(|w| number(&w.text).is_some() && year(&w.text).is_none())
    {
        return None;
    }
    let mut cols = Vec::new();
    for cell in &line.cells {
        if is_known_subject(&cell.text) {
            cols.push((cell.text.clone(), cell.center()));
            continue;
        }
        // Close columns merge into one cell: the longest runs of words that
        // name a subject, left to right.
        let words: Vec<&crate::layout::Word> = line
            .words
            .iter()
            .filter(|w| w.x0 >= cell.x0 - 0.01 && w.x1 <= cell.x1 + 0.01)
            .collect();
        let mut i = 0;
        while i < words.len() {
            let run = (1..=4.min(words.len() - i)).rev().find(|n| {
                let t: Vec<&str> = words[i..i + n].iter().map(|w| w.text.as_str()).collect();
                is_known_subject(&t.join(" "))
            });
            match run {
                Some(n) => {
                    let t: Vec<&str> = words[i..i + n].iter().map(|w| w.text.as_str()).collect();
                    cols.push((t.join(" "), (words[i].x0 + words[i + n - 1].x1) / 2.0));
                    i += n;
                }
                None => i += 1,
            }
        }
    }
    (cols.len() >= 3).then_some(cols)
}

/// The header's columns after the subjects that hold one value per row
/// (`CH Anual | % Freq. | Situação`): a year row's attendance and result.
pub(crate) fn extras(line: &Line, cols: &[(String, f64)]) -> Vec<(Col, f64)> {
    let last = cols.iter().map(|c| c.1).fold(f64::NEG_INFINITY, f64::max);
    line.cells
        .iter()
        .filter(|c| c.center() > last)
        .filter_map(|c| match column_kind(&c.text) {
            Some(k @ (Col::Attendance | Col::Status | Col::Workload | Col::Absences)) => {
                Some((k, c.center()))
            }
            _ => None,
        })
        .collect()
}

/// What a row of a turned table is.
#[derive(Debug, Clone, PartialEq)]
enum Label {
    Year(Option<i32>, Option<String>),
    Col(Col),
}

fn label(text: &str) -> Option<Label> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    // `1º Bimestre  Média`: a term, then what its row holds (the grade;
    // `Faltas` beside a term is that term's own count, read and dropped).
    let words: Vec<&str> = t.split_whitespace().collect();
    if column_kind(t).is_none() && words.len() >= 2 {
        for n in 1..words.len().min(3) {
            if let Some(Col::Term(term)) = column_kind(&words[..n].join(" ")) {
                return match column_kind(&words[n..].join(" ")) {
                    Some(Col::Final) => Some(Label::Col(Col::Term(term))),
                    Some(Col::Absences | Col::Attendance | Col::Skip | Col::TermAbsences) => {
                        Some(Label::Col(Col::Skip))
                    }
                    _ => None,
                };
            }
        }
    }
    let y = year(t);
    let l = level(t).or_else(|| {
        // `6º ano` glued as `6ºAno` or a lone `6º`.
        let f = fold(t);
        (f.contains("ano") || f.contains("serie"))
            .then(|| t.to_string())
            .filter(|_| t.chars().next().is_some_and(|c| c.is_ascii_digit()) && y.is_none())
    });
    if y.is_some() || l.is_some() {
        return Some(Label::Year(y, l));
    }
    match column_kind(t)? {
        Col::Name | Col::Code | Col::Skip | Col::TermAbsences | Col::Year | Col::Level => None,
        k => Some(Label::Col(k)),
    }
}

/// What a turned table held.
#[derive(Debug, Default)]
pub(crate) struct Read {
    /// Rows labelled by years: one record each.
    pub years: Vec<YearRecord>,
    /// Rows labelled by terms / média / faltas: one subject per column.
    pub subjects: Vec<SubjectResult>,
    /// Lines consumed.
    pub lines: usize,
}

/// Reads the rows under a turned header.
pub(crate) fn rows(cols: &[(String, f64)], extra: &[(Col, f64)], lines: &[Line]) -> Read {
    let mut xs: Vec<f64> = cols.iter().map(|c| c.1).collect();
    xs.sort_by(f64::total_cmp);
    let spacing = xs
        .windows(2)
        .map(|w| w[1] - w[0])
        .fold(f64::INFINITY, f64::min)
        .min(120.0);
    let left = xs[0] - spacing / 2.0;
    let mut out = Read::default();
    // Per subject column: its (column kind, raw, confidence) values.
    let mut per_col: Vec<Vec<(Col, String, f32)>> = vec![Vec::new(); cols.len()];
    // Where the rows' labels start, and where a term's sub-labels start
    // (`1º BIM  MÉDIA` then `FALTAS` under `MÉDIA`: that term's absences).
    let mut label_x: Option<f64> = None;
    // The kinds of the rows read so far.
    let mut labels: Vec<Col> = Vec::new();
    let mut sub_x: Option<f64> = None;
    for line in lines {
        let first_x = line.words.first().map_or(0.0, |w| w.x0);
        let label_x0 = *label_x.get_or_insert(first_x);
        let indented = first_x > label_x0 + 15.0;
        let mut name = Vec::new();
        let mut values: Vec<(usize, String, f32)> = Vec::new();
        let mut extra_values: Vec<(Col, String)> = Vec::new();
        for w in &line.words {
            let x = (w.x0 + w.x1) / 2.0;
            if x < left {
                name.push(w.text.as_str());
                continue;
            }
            // Nearer an extra column than the last subject's: that column's.
            let nearest_subject = cols
                .iter()
                .map(|c| (c.1 - x).abs())
                .fold(f64::INFINITY, f64::min);
            if let Some((k, d)) = extra
                .iter()
                .map(|(k, ex)| (*k, (ex - x).abs()))
                .min_by(|a, b| a.1.total_cmp(&b.1))
            {
                if d < nearest_subject {
                    match extra_values.iter_mut().find(|v| v.0 == k) {
                        Some(v) => {
                            v.1.push(' ');
                            v.1.push_str(&w.text);
                        }
                        None => extra_values.push((k, w.text.clone())),
                    }
                    continue;
                }
            }
            if let Some((k, _)) = cols
                .iter()
                .enumerate()
                .filter(|(_, c)| (c.1 - x).abs() < spacing / 2.0)
                .min_by(|a, b| (a.1 .1 - x).abs().total_cmp(&(b.1 .1 - x).abs()))
            {
                match values.iter_mut().find(|v| v.0 == k) {
                    Some(v) => {
                        v.1.push(' ');
                        v.1.push_str(&w.text);
                    }
                    None => values.push((k, w.text.clone(), w.conf)),
                }
            }
        }
        let numeric = values
            .iter()
            .filter(|(_, v, _)| number(v).is_some() || is_blank_mark(v))
            .count();
        // `Frequência: 93,9%  Resultado: Promovido`: the block's footer of
        // `key: value` pairs, not a row of the table.
        if line.words.iter().any(|w| w.text.ends_with(':')) {
            break;
        }
        let Some(mut lab) = label(&name.join(" ")) else {
            break;
        };
        // A term's own sub-row: indented to where the term row's second
        // label word starts.
        if let (true, Some(x)) = (indented, sub_x) {
            if (first_x - x).abs() < 15.0 && matches!(lab, Label::Col(_)) {
                lab = Label::Col(Col::Skip);
            }
        }
        if !indented {
            sub_x = match &lab {
                Label::Col(Col::Term(_)) if name.len() >= 2 => line
                    .words
                    .iter()
                    .filter(|w| (w.x0 + w.x1) / 2.0 < left)
                    .nth(name.len() - 1)
                    .map(|w| w.x0),
                _ => None,
            };
        }
        let statuses = values
            .iter()
            .filter(|(_, v, _)| crate::normalize::status(v).is_some())
            .count();
        if numeric == 0 && statuses == 0 {
            // A row left empty (`Rec. Final` nobody sat) keeps the table going.
            if matches!(lab, Label::Col(_)) && values.is_empty() {
                out.lines += 1;
                continue;
            }
            break;
        }
        out.lines += 1;
        match lab {
            Label::Year(y, l) => {
                let of = |k: Col| extra_values.iter().find(|v| v.0 == k).map(|v| v.1.clone());
                out.years.push(YearRecord {
                    year: y,
                    grade_level: l,
                    school_name: None,
                    // `—` under a subject in a year's row: not taken that year.
                    subjects: values
                        .into_iter()
                        .filter(|(_, raw, _)| !is_blank_mark(raw))
                        .map(|(k, raw, conf)| build(&cols[k].0, &[], vec![(Col::Final, raw, conf)]))
                        .collect(),
                    overall_attendance_pct: of(Col::Attendance)
                        .and_then(|v| number(v.trim_end_matches('%')))
                        .filter(|v| (0.0..=100.0).contains(v)),
                    status: of(Col::Status).and_then(|v| crate::normalize::status(&v)),
                })
            }
            Label::Col(kind) => {
                // The same term labelling two rows (`N1 | N2 | MB`
                // under each term's merged cell): which row is the term's
                // grade is not known, so the table is not read at all.
                if matches!(kind, Col::Term(_)) && labels.contains(&kind) {
                    return Read::default();
                }
                labels.push(kind);
                for (k, raw, conf) in values {
                    per_col[k].push((kind, raw, conf));
                }
            }
        }
    }
    let terms: Vec<u8> = {
        let mut t: Vec<u8> = per_col
            .iter()
            .flatten()
            .filter_map(|(k, _, _)| match k {
                Col::Term(n) => Some(*n),
                _ => None,
            })
            .collect();
        t.sort_unstable();
        t.dedup();
        t
    };
    for (k, values) in per_col.into_iter().enumerate() {
        if !values.is_empty() {
            out.subjects.push(build(&cols[k].0, &terms, values));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::{lines, words_at as words};

    #[test]
    fn years_as_rows_subjects_as_columns() {
        let mut ws = words(
            &[
                ("Ano", 40.0),
                ("Série", 80.0),
                ("Port.", 160.0),
                ("Mat.", 220.0),
                ("História", 280.0),
            ],
            100.0,
        );
        ws.extend(words(
            &[
                ("2021", 40.0),
                ("6º Ano", 80.0),
                ("7,5", 162.0),
                ("8,0", 222.0),
                ("9,0", 282.0),
            ],
            114.0,
        ));
        ws.extend(words(
            &[
                ("2022", 40.0),
                ("7º Ano", 80.0),
                ("6,0", 162.0),
                ("-", 222.0),
                ("7,0", 282.0),
            ],
            128.0,
        ));
        ws.extend(words(&[("Observações: nenhuma", 40.0)], 150.0));
        let ls = lines(1, ws);
        let cols = detect(&ls[0]).unwrap();
        assert_eq!(cols.len(), 3);
        assert!(detect(&ls[1]).is_none(), "a row is not a header");
        let r = rows(&cols, &extras(&ls[0], &cols), &ls[1..]);
        assert_eq!(r.lines, 2);
        assert_eq!(r.years.len(), 2);
        assert_eq!(r.years[0].year, Some(2021));
        assert_eq!(r.years[0].grade_level.as_deref(), Some("6º Ano"));
        let g: Vec<(String, Option<f64>)> = r.years[1]
            .subjects
            .iter()
            .map(|s| (s.code.clone(), s.final_grade))
            .collect();
        // `-` under Matemática in 2022's row: not taken that year.
        assert_eq!(
            g,
            [
                ("lingua-portuguesa".into(), Some(6.0)),
                ("historia".into(), Some(7.0))
            ]
        );
    }

    #[test]
    fn a_year_rows_attendance_and_result_after_the_subjects() {
        let mut ws = words(
            &[
                ("Ano", 40.0),
                ("Port.", 160.0),
                ("Mat.", 220.0),
                ("Hist.", 280.0),
                ("% Freq.", 360.0),
                ("Situação", 440.0),
            ],
            100.0,
        );
        ws.extend(words(
            &[
                ("2021", 40.0),
                ("7,5", 162.0),
                ("8,0", 222.0),
                ("9,0", 282.0),
                ("91,9", 362.0),
                ("PROMOVIDO(A)", 430.0),
            ],
            114.0,
        ));
        let ls = lines(1, ws);
        let cols = detect(&ls[0]).unwrap();
        let r = rows(&cols, &extras(&ls[0], &cols), &ls[1..]);
        assert_eq!(r.years[0].subjects.len(), 3);
        assert_eq!(r.years[0].overall_attendance_pct, Some(91.9));
        assert_eq!(r.years[0].status.as_deref(), Some("promovido"));
    }

    #[test]
    fn terms_as_rows_subjects_as_columns() {
        let mut ws = words(
            &[
                ("Bimestre", 40.0),
                ("Língua Portuguesa", 130.0),
                ("Matemática", 230.0),
                ("Ciências", 300.0),
            ],
            100.0,
        );
        for (n, (label, vals)) in [
            ("1º Bim", ["8,0", "7,0", "9,0"]),
            ("2º Bim", ["7,0", "7,5", "8,0"]),
            ("Média Final", ["7,5", "7,3", "8,5"]),
            ("Faltas", ["2", "0", "4"]),
        ]
        .iter()
        .enumerate()
        {
            ws.extend(words(
                &[
                    (label, 40.0),
                    (vals[0], 150.0),
                    (vals[1], 240.0),
                    (vals[2], 305.0),
                ],
                114.0 + n as f64 * 14.0,
            ));
        }
        let ls = lines(1, ws);
        let cols = detect(&ls[0]).unwrap();
        let r = rows(&cols, &extras(&ls[0], &cols), &ls[1..]);
        assert_eq!(r.lines, 4);
        assert!(r.years.is_empty());
        let m = &r.subjects[1];
        assert_eq!(m.code, "matematica");
        let grades: Vec<_> = m.terms.iter().map(|t| t.grade).collect();
        assert_eq!(grades, [Some(7.0), Some(7.5)]);
        assert_eq!((m.final_grade, m.absences), (Some(7.3), Some(0)));
        assert_eq!(r.subjects[2].absences, Some(4));
    }

    /// `Avaliação | Português | Matemática | Geografia` at y 100.
    fn subjects_header() -> Vec<crate::layout::Word> {
        words(
            &[
                ("Avaliação", 40.0),
                ("Português", 200.0),
                ("Matemática", 260.0),
                ("Geografia", 320.0),
            ],
            100.0,
        )
    }

    #[test]
    fn a_terms_grade_and_absence_rows_under_one_label() {
        let mut ws = subjects_header();
        let rows_ = [
            (
                &[("1º BIM", 40.0), ("MÉDIA", 110.0)][..],
                ["8,0", "7,0", "9,0"],
            ),
            (&[("FALTAS", 110.0)][..], ["1", "2", "0"]),
            (
                &[("2º BIM", 40.0), ("MÉDIA", 110.0)][..],
                ["6,0", "5,0", "—"],
            ),
            (&[("FALTAS", 110.0)][..], ["0", "3", "1"]),
            (&[("REC. FINAL", 40.0)][..], ["", "", ""]),
            (&[("MF", 40.0)][..], ["7,0", "6,0", "9,0"]),
            (&[("FALTAS", 40.0)][..], ["1", "5", "1"]),
            (&[("SITUAÇÃO", 40.0)][..], ["APR.", "APR.", "APR."]),
        ];
        for (n, (label, vals)) in rows_.iter().enumerate() {
            let mut cells = label.to_vec();
            for (k, v) in vals.iter().enumerate() {
                if !v.is_empty() {
                    cells.push((v, 205.0 + 60.0 * k as f64));
                }
            }
            ws.extend(words(&cells, 114.0 + n as f64 * 14.0));
        }
        let ls = lines(1, ws);
        let cols = detect(&ls[0]).unwrap();
        let r = rows(&cols, &extras(&ls[0], &cols), &ls[1..]);
        assert_eq!(r.lines, 8);
        let m = &r.subjects[1];
        let grades: Vec<_> = m.terms.iter().map(|t| t.grade).collect();
        assert_eq!(grades, [Some(7.0), Some(5.0)]);
        assert_eq!((m.final_grade, m.absences), (Some(6.0), Some(5)));
        assert_eq!(m.status.as_deref(), Some("aprovado"));
        assert_eq!(r.subjects[2].terms[1].grade, None);
    }

    #[test]
    fn rows_that_repeat_a_term_are_not_read() {
        let mut ws = subjects_header();
        // `N1 | N2 | MB` under each term: N1 twice.
        for (n, label) in ["N1", "N2", "MB", "N1", "N2", "MB"].iter().enumerate() {
            ws.extend(words(
                &[
                    (label, 40.0),
                    ("7,0", 205.0),
                    ("8,0", 265.0),
                    ("6,0", 325.0),
                ],
                114.0 + n as f64 * 14.0,
            ));
        }
        let ls = lines(1, ws);
        let cols = detect(&ls[0]).unwrap();
        let r = rows(&cols, &[], &ls[1..]);
        assert!(r.subjects.is_empty() && r.lines == 0);
    }
}

//! Subject rows, in the two layouts schools use:
//! - tables: a header line names the columns (`Disciplina | 1º Bim | … |
//!   Média | Faltas | Freq. | Situação`, or `B1…B4`, `1º Trim`, `CH`), and
//!   each row's cells go to the column whose span holds their centre;
//! - lines: `Matemática … B1: 7,0  B2: 8,0  Média: 7,5  Faltas: 3`, in
//!   [`super::inline`], which shares [`column_kind`] and [`build`].

use crate::layout::{Cell, Line};
use crate::normalize::{fold, number, status, subject};
use crate::{SubjectResult, TermGrade};

/// What a column (or a `key:` in a line) holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Col {
    Name,
    Term(u8),
    Final,
    Absences,
    Attendance,
    Status,
    Workload,
}

/// Folded, without spaces, dots, parentheses or `º`'s `o` after a digit.
fn compact(s: &str) -> String {
    let f: Vec<char> = fold(s)
        .chars()
        .filter(|c| !matches!(c, ' ' | '.' | '(' | ')' | ':' | '-' | '/'))
        .collect();
    let mut out = String::new();
    for (i, c) in f.iter().enumerate() {
        // 1º → "1o", 1ª → "1a": drop the ordinal mark.
        if (*c == 'o' || *c == 'a')
            && i > 0
            && f[i - 1].is_ascii_digit()
            && f.get(i + 1).is_none_or(|n| !n.is_ascii_digit())
        {
            continue;
        }
        out.push(*c);
    }
    out
}

/// The column a header text (or an inline key) names.
pub(crate) fn column_kind(text: &str) -> Option<Col> {
    let c = compact(text);
    kind(&c).or_else(|| {
        // OCR reads `1` as `l`, `I` or `|` ("Bl:").
        let fixed: String = c
            .chars()
            .map(|ch| {
                if matches!(ch, 'l' | '|' | '!') {
                    '1'
                } else {
                    ch
                }
            })
            .collect();
        match kind(&fixed) {
            Some(Col::Term(n)) if fixed != c => Some(Col::Term(n)),
            _ => None,
        }
    })
}

fn kind(c: &str) -> Option<Col> {
    let term_words = [
        "bim",
        "bimestre",
        "b",
        "trim",
        "trimestre",
        "tri",
        "t",
        "etapa",
        "unid",
        "unidade",
        "u",
        "sem",
        "semestre",
        "av",
        "n",
        "nota",
        "e",
        "p",
    ];
    let digits: Vec<char> = c.chars().filter(char::is_ascii_digit).collect();
    if digits.len() == 1 && ('1'..='4').contains(&digits[0]) {
        let rest: String = c.chars().filter(|ch| !ch.is_ascii_digit()).collect();
        if term_words.contains(&rest.as_str()) {
            return Some(Col::Term(digits[0] as u8 - b'0'));
        }
    }
    for (roman, n) in [("iv", 4), ("iii", 3), ("ii", 2), ("i", 1)] {
        if let Some(rest) = c.strip_prefix(roman) {
            if [
                "bim",
                "bimestre",
                "trim",
                "trimestre",
                "etapa",
                "unid",
                "unidade",
            ]
            .contains(&rest)
            {
                return Some(Col::Term(n));
            }
        }
    }
    Some(match c {
        "disciplina"
        | "disciplinas"
        | "componentecurricular"
        | "componentescurriculares"
        | "materia"
        | "materias"
        | "componente" => Col::Name,
        "media" | "mediafinal" | "mf" | "notafinal" | "mediaanual" | "ma" | "mediageral"
        | "nota" | "notas" | "mfinal" => Col::Final,
        "faltas" | "f" | "totaldefaltas" | "tf" | "nfaltas" | "faltastotal" | "totalfaltas" => {
            Col::Absences
        }
        "freq" | "frequencia" | "freq%" | "frequencia%" | "%freq" | "%" | "%frequencia"
        | "%defrequencia" | "frequenciafinal" => Col::Attendance,
        "situacao" | "resultado" | "sit" | "res" | "resultadofinal" | "situacaofinal" => {
            Col::Status
        }
        "ch" | "cargahoraria" | "cht" | "chanual" | "cargahorariaanual" => Col::Workload,
        _ => return None,
    })
}

/// A table header: its columns with their x centres.
#[derive(Debug, Clone)]
pub(crate) struct Header {
    pub cols: Vec<(Col, f64)>,
}

/// Reads `line` as a table header: at least two data columns, one of them
/// grades, or a name column plus one data column.
pub(crate) fn header(line: &Line) -> Option<Header> {
    // Values or `key:` pairs mean a data line (a line-layout row), not a header.
    if line
        .words
        .iter()
        .any(|w| number(&w.text).is_some() || w.text.ends_with(':'))
    {
        return None;
    }
    let mut cols = Vec::new();
    for cell in &line.cells {
        if let Some(k) = column_kind(&cell.text) {
            cols.push((k, cell.center()));
            continue;
        }
        // Narrow columns can merge in one cell: try word by word, pairing
        // an ordinal with the next word ("1º Bim").
        let words: Vec<&crate::layout::Word> = line
            .words
            .iter()
            .filter(|w| w.x0 >= cell.x0 - 0.01 && w.x1 <= cell.x1 + 0.01)
            .collect();
        let mut i = 0;
        while i < words.len() {
            if i + 1 < words.len() {
                let two = format!("{} {}", words[i].text, words[i + 1].text);
                if let Some(k) = column_kind(&two) {
                    cols.push((k, (words[i].x0 + words[i + 1].x1) / 2.0));
                    i += 2;
                    continue;
                }
            }
            if let Some(k) = column_kind(&words[i].text) {
                cols.push((k, (words[i].x0 + words[i].x1) / 2.0));
            }
            i += 1;
        }
    }
    let data = cols.iter().filter(|(k, _)| *k != Col::Name).count();
    let grades = cols
        .iter()
        .filter(|(k, _)| matches!(k, Col::Term(_) | Col::Final))
        .count();
    let named = cols.iter().any(|(k, _)| *k == Col::Name);
    if (data >= 2 && grades >= 1) || (named && data >= 1) {
        Some(Header { cols })
    } else {
        None
    }
}

/// Lines that look like rows but are totals or notes.
pub(crate) fn not_a_subject(name: &str) -> bool {
    let f = fold(name);
    [
        "frequencia",
        "total",
        "media geral",
        "observ",
        "resultado",
        "legenda",
        "situacao",
        "assinatura",
        "carga horaria total",
        "dias letivos",
    ]
    .iter()
    .any(|p| f.starts_with(p))
        || name.contains(':')
        || !name.chars().any(char::is_alphabetic)
}

impl Header {
    /// The data columns' spans: midpoints between neighbouring centres.
    fn spans(&self) -> Vec<(Col, f64, f64)> {
        let data: Vec<(Col, f64)> = self
            .cols
            .iter()
            .copied()
            .filter(|(k, _)| *k != Col::Name)
            .collect();
        let mut out = Vec::new();
        for (i, (k, c)) in data.iter().enumerate() {
            let left = if i == 0 {
                let next = data.get(1).map_or(c + 40.0, |d| d.1);
                c - (next - c) / 2.0
            } else {
                (data[i - 1].1 + c) / 2.0
            };
            let right = match data.get(i + 1) {
                Some(d) => (c + d.1) / 2.0,
                None => f64::INFINITY,
            };
            out.push((*k, left, right));
        }
        out
    }

    /// Reads a row under this header; `None` when the line is not a subject row.
    pub(crate) fn row(&self, line: &Line) -> Option<SubjectResult> {
        let spans = self.spans();
        let name_right = spans.first().map_or(f64::INFINITY, |s| s.1);
        let mut name_parts: Vec<&str> = Vec::new();
        let mut values: Vec<(Col, Cell)> = Vec::new();
        for cell in &line.cells {
            if cell.x1 <= name_right + 1.0 && cell.center() < name_right {
                name_parts.push(&cell.text);
                continue;
            }
            let c = cell.center();
            let Some((k, _, _)) = spans.iter().find(|(_, l, r)| c >= *l && c < *r) else {
                continue;
            };
            match values.iter_mut().find(|(kk, _)| kk == k) {
                Some((_, prev)) => {
                    prev.text.push(' ');
                    prev.text.push_str(&cell.text);
                    prev.conf = prev.conf.min(cell.conf);
                }
                None => values.push((*k, cell.clone())),
            }
        }
        let name = name_parts.join(" ");
        let name = name.trim();
        if name.is_empty() || values.is_empty() || not_a_subject(name) {
            return None;
        }
        let terms: Vec<u8> = spans
            .iter()
            .filter_map(|(k, _, _)| if let Col::Term(n) = k { Some(*n) } else { None })
            .collect();
        Some(build(
            name,
            &terms,
            values
                .into_iter()
                .map(|(k, c)| (k, c.text, c.conf))
                .collect(),
        ))
    }
}

/// A subject from its name and `(column, raw text, confidence)` values;
/// `terms` lists every term column so missing cells show as empty terms.
pub(crate) fn build(name: &str, terms: &[u8], values: Vec<(Col, String, f32)>) -> SubjectResult {
    let (canonical, code) = subject(name);
    let mut s = SubjectResult {
        name: canonical,
        name_original: name.to_string(),
        code,
        terms: Vec::new(),
        final_grade: None,
        absences: None,
        attendance_pct: None,
        status: None,
        workload_hours: None,
    };
    let mut all_terms: Vec<u8> = terms.to_vec();
    for (k, _, _) in &values {
        if let Col::Term(n) = k {
            if !all_terms.contains(n) {
                all_terms.push(*n);
            }
        }
    }
    all_terms.sort_unstable();
    for n in all_terms {
        let v = values.iter().find(|(k, _, _)| *k == Col::Term(n));
        s.terms.push(TermGrade {
            term: n,
            grade: v.and_then(|(_, raw, _)| number(raw)),
            raw: v.map(|(_, raw, _)| raw.clone()),
            confidence: v.map(|(_, _, c)| *c),
        });
    }
    for (k, raw, _) in &values {
        match k {
            Col::Final => s.final_grade = number(raw),
            Col::Absences => {
                s.absences = number(raw)
                    .filter(|v| *v >= 0.0 && v.fract() == 0.0)
                    .map(|v| v as u32)
            }
            Col::Attendance => s.attendance_pct = number(raw),
            Col::Status => {
                s.status = status(raw).or_else(|| Some(fold(raw.trim())).filter(|x| !x.is_empty()))
            }
            Col::Workload => {
                s.workload_hours = number(raw).filter(|v| *v >= 0.0).map(|v| v.round() as u32)
            }
            Col::Term(_) | Col::Name => {}
        }
    }
    // Attendance as a percentage when only absences and hours are given.
    if s.attendance_pct.is_none() {
        if let (Some(a), Some(h)) = (s.absences, s.workload_hours) {
            if h > 0 && a <= h {
                s.attendance_pct =
                    Some(((1.0 - f64::from(a) / f64::from(h)) * 1000.0).round() / 10.0);
            }
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::{lines, Word};

    #[test]
    fn column_names() {
        assert_eq!(column_kind("1º Bim"), Some(Col::Term(1)));
        assert_eq!(column_kind("2° BIM."), Some(Col::Term(2)));
        assert_eq!(column_kind("B3"), Some(Col::Term(3)));
        assert_eq!(column_kind("Bl:"), Some(Col::Term(1)));
        assert_eq!(column_kind("4º Trim"), Some(Col::Term(4)));
        assert_eq!(column_kind("1ª Etapa"), Some(Col::Term(1)));
        assert_eq!(column_kind("II Bim"), Some(Col::Term(2)));
        assert_eq!(column_kind("Média Final"), Some(Col::Final));
        assert_eq!(column_kind("MF"), Some(Col::Final));
        assert_eq!(column_kind("Faltas"), Some(Col::Absences));
        assert_eq!(column_kind("Freq. (%)"), Some(Col::Attendance));
        assert_eq!(column_kind("Situação"), Some(Col::Status));
        assert_eq!(column_kind("C.H."), Some(Col::Workload));
        assert_eq!(column_kind("Componente Curricular"), Some(Col::Name));
        assert_eq!(column_kind("Matemática"), None);
        assert_eq!(column_kind("2024"), None);
    }

    fn line_of(cells: &[(&str, f64)]) -> Line {
        let mut words = Vec::new();
        for (text, x) in cells {
            let mut x = *x;
            for t in text.split(' ') {
                let w = t.chars().count() as f64 * 5.0;
                words.push(Word {
                    text: t.into(),
                    x0: x,
                    x1: x + w,
                    y: 100.0,
                    size: 10.0,
                    conf: 100.0,
                });
                x += w + 2.5;
            }
        }
        lines(1, words).remove(0)
    }

    #[test]
    fn table_rows_by_column() {
        let h = header(&line_of(&[
            ("Disciplina", 40.0),
            ("1º Bim", 200.0),
            ("2º Bim", 250.0),
            ("3º Bim", 300.0),
            ("4º Bim", 350.0),
            ("Média", 400.0),
            ("Faltas", 450.0),
            ("Situação", 500.0),
        ]))
        .unwrap();
        let row = h
            .row(&line_of(&[
                ("Língua Portuguesa", 40.0),
                ("8,5", 205.0),
                ("7,0", 255.0),
                ("9,0", 355.0),
                ("8,2", 405.0),
                ("3", 460.0),
                ("Aprovado", 500.0),
            ]))
            .unwrap();
        assert_eq!(row.code, "lingua-portuguesa");
        let grades: Vec<_> = row.terms.iter().map(|t| t.grade).collect();
        assert_eq!(grades, [Some(8.5), Some(7.0), None, Some(9.0)]);
        assert_eq!(row.final_grade, Some(8.2));
        assert_eq!(row.absences, Some(3));
        assert_eq!(row.status.as_deref(), Some("aprovado"));
        assert!(h
            .row(&line_of(&[("Frequência Global: 95%", 40.0), ("95", 455.0)]))
            .is_none());
    }
}

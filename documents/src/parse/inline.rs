//! Line-layout subjects: `Matemática … B1: 7,0  B2: 8,0  Média: 7,5
//! Faltas: 3  Frequência: 96%  Situação: Aprovado` — keys are column names
//! followed by a colon (tolerating OCR's `Faltas : 3` and `Faltas :3`).

use super::rows::{build, column_kind, not_a_subject, Col};
use crate::layout::Line;
use crate::normalize::number;
use crate::SubjectResult;

/// Reads a line-layout subject: `Name [sep] key: value key: value …`.
pub(crate) fn inline(line: &Line) -> Option<SubjectResult> {
    let (end, values) = values(line);
    let end = end?;
    if !values
        .iter()
        .any(|(k, _, _)| matches!(k, Col::Term(_) | Col::Final))
    {
        return None;
    }
    let split = split_words(line);
    let words: Vec<&str> = split.iter().map(|w| w.0.as_str()).collect();
    name_and_build(&words, end, values)
}

/// The line's words, a `key:value` glued by OCR (`B2:8,0`) split after the colon.
fn split_words(line: &Line) -> Vec<(String, f32)> {
    let mut out = Vec::new();
    for w in &line.words {
        match w.text.split_once(':') {
            Some((k, v)) if !k.is_empty() && !v.is_empty() && column_kind(k).is_some() => {
                out.push((format!("{k}:"), w.conf));
                out.push((v.to_string(), w.conf));
            }
            _ => out.push((w.text.clone(), w.conf)),
        }
    }
    out
}

/// The `key: value` pairs of a line and the index of the first key's word.
pub(crate) fn values(line: &Line) -> (Option<usize>, Vec<(Col, String, f32)>) {
    let split = split_words(line);
    let words: Vec<(&str, f32)> = split.iter().map(|w| (w.0.as_str(), w.1)).collect();
    let mut name_end = None;
    let mut values: Vec<(Col, String, f32)> = Vec::new();
    let mut i = 0;
    while i < words.len() {
        // A key is one or two words, the last ending with ':' (or followed by ':').
        let mut matched = None;
        for n in [3, 2, 1] {
            if i + n > words.len() {
                continue;
            }
            let mut key: String = words[i..i + n]
                .iter()
                .map(|w| w.0)
                .collect::<Vec<_>>()
                .join(" ");
            let mut next = i + n;
            // `Faltas: 3`, `Faltas : 3` and `Faltas :3` (OCR spacing).
            let mut glued = None;
            if key.ends_with(':') {
                key.pop();
            } else if words.get(next).is_some_and(|w| w.0 == ":") {
                next += 1;
            } else if let Some(rest) = words.get(next).and_then(|w| w.0.strip_prefix(':')) {
                glued = Some(rest.to_string());
                next += 1;
            } else {
                continue;
            }
            if let Some(k) = column_kind(&key) {
                if k != Col::Name {
                    matched = Some((k, next, glued));
                    break;
                }
            }
        }
        let Some((k, next, glued)) = matched else {
            i += 1;
            continue;
        };
        name_end.get_or_insert(i);
        // The value: the next word, plus a lone '%'; a status may be words.
        let mut j = next;
        let mut raw = String::new();
        let mut conf = 100f32;
        if let Some(g) = glued {
            raw = g;
            conf = words[next - 1].1;
        } else if let Some((w, c)) = words.get(j) {
            raw.push_str(w);
            conf = *c;
            j += 1;
            if words.get(j).is_some_and(|w| w.0 == "%") {
                j += 1;
            }
        }
        values.push((k, raw, conf));
        i = j;
    }
    (name_end, values)
}

fn name_and_build(
    words: &[&str],
    end: usize,
    values: Vec<(Col, String, f32)>,
) -> Option<SubjectResult> {
    // The name: leading words up to the first value or key (OCR may have
    // mangled the first key, "B1:" → "_ 1:").
    // `Componente Curricular: Língua Portuguesa  1º TRI: 8,0 …`: the name's
    // own label is not part of it.
    let start = (0..end)
        .filter(|&k| words[k].ends_with(':'))
        .find(|&k| {
            (k.saturating_sub(2)..=k).any(|from| {
                let key = words[from..=k].join(" ");
                column_kind(key.trim_end_matches(':')) == Some(Col::Name)
            })
        })
        .map_or(0, |k| k + 1);
    let name_words: Vec<&str> = words[start..end]
        .iter()
        .copied()
        .take_while(|w| !w.contains(':') && number(w).is_none())
        .collect();
    let name: String = name_words.join(" ");
    let name = name.trim_end_matches(|c: char| c == '_' || c.is_whitespace());
    let name = name.trim_matches(|c: char| {
        c.is_whitespace() || matches!(c, '.' | '…' | '-' | '—' | '–' | ':' | '|')
    });
    let name = name.trim_end_matches(|c: char| {
        c == '.' || c == '…' || c.is_whitespace() || c == '—' || c == '-' || c == '–'
    });
    if name.is_empty() || not_a_subject(name) {
        return None;
    }
    Some(build(name, &[], values))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::lines;

    fn line_of(text: &str) -> Line {
        lines(1, crate::layout::words_at(&[(text, 40.0)], 100.0)).remove(0)
    }

    #[test]
    fn line_layout_rows() {
        let l = line_of("Matemática .......... B1: 7,0 B2: 8,0 Média: 7,5 Faltas: 3 Frequência: 96 % Situação: Aprovado");
        let s = inline(&l).unwrap();
        assert_eq!(s.name, "Matemática");
        assert_eq!(
            s.terms.iter().map(|t| t.grade).collect::<Vec<_>>(),
            [Some(7.0), Some(8.0)]
        );
        assert_eq!(s.final_grade, Some(7.5));
        assert_eq!(s.absences, Some(3));
        assert_eq!(s.attendance_pct, Some(96.0));
        assert_eq!(s.status.as_deref(), Some("aprovado"));
        let l = line_of("Educação Física — 1º Bim: 9,0 2º Bim: 8,5 Média Final: 8,8");
        let s = inline(&l).unwrap();
        assert_eq!(s.code, "educacao-fisica");
        assert_eq!(s.final_grade, Some(8.8));
        assert!(inline(&line_of("Aluno: Fulano de Tal")).is_none());
        // The name's own label before it.
        let l = line_of("COMPONENTE CURRICULAR: LÍNGUA PORTUGUESA 1º TRI: 8,0 2º TRI: 6,5 MÉDIA: 7,3 AUSÊNCIAS: 6 FREQUÊNCIA: 96,0%");
        let s = inline(&l).unwrap();
        assert_eq!(s.code, "lingua-portuguesa");
        assert_eq!(
            (s.final_grade, s.absences, s.attendance_pct),
            (Some(7.3), Some(6), Some(96.0))
        );
        // OCR spacing and a mangled first key.
        let l = line_of("Língua Portuguesa _ 1: 7,0 B2: 7,5 Média: 7,8 Faltas :8");
        let s = inline(&l).unwrap();
        assert_eq!(s.code, "lingua-portuguesa");
        assert_eq!(
            s.terms
                .iter()
                .map(|t| (t.term, t.grade))
                .collect::<Vec<_>>(),
            [(2, Some(7.5))]
        );
        assert_eq!(s.absences, Some(8));
    }
}

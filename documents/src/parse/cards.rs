//! Subject cards: a subject's name as a heading, then one `label value` per
//! line under it, without colons (`1º Trim.  6,3`, `Média  5,9`, `Total de
//! Faltas  0`, `Resultado  Aprovado`) — and often two or three such cards
//! side by side, so that one printed line holds the same label for each
//! card. A heading line is only names of the lexicon (no numbers); each
//! `label value` pair goes to the card whose heading starts at or left of
//! the label. The cards end at the first line that is not all pairs.
//!
//! Written by hand: the layout is the reading of cells that `layout` made,
//! and the labels are `rows::column_kind`'s vocabulary.

use super::rows::{build, column_kind, Col};
use crate::layout::{Cell, Line};
use crate::normalize::{is_known_subject, number, status};
use crate::validate::is_blank_mark;
use crate::SubjectResult;

/// What a run of card lines gave.
pub(crate) struct Cards {
    /// The subjects, in reading order (row of cards by row, left to right),
    /// each with the line its heading was on.
    pub subjects: Vec<(SubjectResult, usize)>,
    /// Lines consumed from the heading on.
    pub lines: usize,
}

/// A heading line of cards: every cell a subject of the lexicon, no number.
fn headings(line: &Line) -> Option<Vec<(String, f64)>> {
    if line.cells.is_empty()
        || line.text().contains(':')
        || line.words.iter().any(|w| number(&w.text).is_some())
    {
        return None;
    }
    // A long name may break into two cells (`Língua Estrangeira Moderna` `- Inglês`).
    let mut out: Vec<(String, f64)> = Vec::new();
    let mut cur: Option<(String, f64)> = None;
    for c in &line.cells {
        let t = c.text.trim();
        cur = Some(match cur.take() {
            None => (t.to_string(), c.x0),
            Some((name, x)) => {
                let joined = format!("{name} {t}");
                if !is_known_subject(&name) && is_known_subject(&joined) {
                    (joined, x)
                } else if is_known_subject(&name) {
                    out.push((name, x));
                    (t.to_string(), c.x0)
                } else {
                    return None;
                }
            }
        });
    }
    let last = cur.filter(|(n, _)| is_known_subject(n))?;
    out.push(last);
    Some(out)
}

fn value_like(t: &str) -> bool {
    number(t).is_some() || is_blank_mark(t) || status(t).is_some()
}

/// The line as `label value` pairs (label's x0), or `None` when any cell is
/// neither; a label and its value set close together may share a cell.
fn pairs(line: &Line) -> Option<Vec<(Col, String, f32, f64)>> {
    // `B1: 9,5` forms are the heading blocks' (`inline`), not cards.
    if line.words.iter().any(|w| w.text.contains(':')) {
        return None;
    }
    let label = |t: &str| {
        column_kind(t)
            .filter(|k| !matches!(k, Col::Name | Col::Code | Col::Skip | Col::TermAbsences))
    };
    let mut out = Vec::new();
    let cells: &[Cell] = &line.cells;
    let mut i = 0;
    while i < cells.len() {
        let c = &cells[i];
        if let Some(k) = label(&c.text) {
            // Its value, even one OCR garbled (`5)`, `Bi`): kept as read, it
            // is no grade, and the card's structure still holds.
            // (`Recuperação` is a label and a result: after a label, a value.)
            let v = cells
                .get(i + 1)
                .filter(|v| value_like(&v.text) || label(&v.text).is_none())?;
            out.push((k, v.text.clone(), v.conf.min(c.conf), c.x0));
            i += 2;
            continue;
        }
        // `MF 67` in one cell: the last word is the value.
        let (head, last) = c.text.rsplit_once(' ')?;
        let k = label(head)?;
        if !value_like(last) {
            return None;
        }
        out.push((k, last.to_string(), c.conf, c.x0));
        i += 1;
    }
    (!out.is_empty()).then_some(out)
}

/// Cards starting at `lines[i]` (a heading line followed by at least one
/// line of pairs, and at least one grade in all).
pub(crate) fn read(lines: &[Line], i: usize) -> Option<Cards> {
    let mut subjects: Vec<(SubjectResult, usize)> = Vec::new();
    let mut at = i;
    while let Some(heads) = lines.get(at).and_then(headings) {
        let mut values: Vec<Vec<(Col, String, f32)>> = vec![Vec::new(); heads.len()];
        let mut j = at + 1;
        while let Some(ps) = lines
            .get(j)
            .filter(|l| l.page == lines[at].page)
            .and_then(pairs)
        {
            for (k, raw, conf, x0) in ps {
                // The card whose heading starts at or left of the label (a
                // little slack: labels are often indented under it).
                let slack = lines[j].size.max(6.0);
                let card = heads
                    .iter()
                    .rposition(|(_, hx)| *hx <= x0 + slack)
                    .unwrap_or(0);
                values[card].push((k, raw, conf));
            }
            j += 1;
        }
        if j == at + 1 {
            break;
        }
        for ((name, _), vals) in heads.iter().zip(values) {
            if vals
                .iter()
                .any(|(k, _, _)| matches!(k, Col::Term(_) | Col::Final))
            {
                subjects.push((build(name, &[], vals), at));
            }
        }
        at = j;
        // Blank space between rows of cards is no line; a page break is.
    }
    (!subjects.is_empty()).then_some(Cards {
        subjects,
        lines: at - i,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::{lines, words_at as words};

    #[test]
    fn cards_side_by_side() {
        let mut ws = words(&[("L. Portuguesa", 40.0), ("Matemática", 300.0)], 100.0);
        let rows = [
            ("1º Trim.", "6,3", "8,0"),
            ("2º Trim.", "6,4", "--"),
            ("Média", "5,9", "8,7"),
            ("Total de Faltas", "0", "5"),
            ("Resultado", "Reprov.", "Aprov."),
        ];
        for (k, (label, a, b)) in rows.iter().enumerate() {
            ws.extend(words(
                &[(label, 44.0), (a, 230.0), (label, 304.0), (b, 490.0)],
                114.0 + 14.0 * k as f64,
            ));
        }
        ws.extend(words(&[("Observações: nenhuma", 40.0)], 200.0));
        let ls = lines(1, ws);
        let c = read(&ls, 0).unwrap();
        assert_eq!(c.lines, 6);
        let (port, mat) = (&c.subjects[0].0, &c.subjects[1].0);
        assert_eq!(port.code, "lingua-portuguesa");
        assert_eq!(
            port.terms.iter().map(|t| t.grade).collect::<Vec<_>>(),
            [Some(6.3), Some(6.4)]
        );
        assert_eq!(
            (port.final_grade, port.absences, port.status.as_deref()),
            (Some(5.9), Some(0), Some("reprovado"))
        );
        assert_eq!(mat.code, "matematica");
        assert_eq!(
            mat.terms.iter().map(|t| t.grade).collect::<Vec<_>>(),
            [Some(8.0), None]
        );
        assert_eq!((mat.final_grade, mat.absences), (Some(8.7), Some(5)));
        // A table header is not a heading line; a name line with numbers is no card.
        assert!(read(&ls, 1).is_none());
    }

    #[test]
    fn a_name_split_in_two_cells_and_a_garbled_value() {
        let mut ws = words(
            &[("Língua Estrangeira Moderna", 40.0), ("- Inglês", 200.0)],
            100.0,
        );
        ws.extend(words(&[("1º Trim.", 44.0), ("5)", 230.0)], 114.0));
        ws.extend(words(&[("2º Trim.", 44.0), ("7,5", 230.0)], 128.0));
        ws.extend(words(&[("Resultado", 44.0), ("Recuperação", 230.0)], 142.0));
        // A colon line belongs to the heading-block reader, not to the card.
        ws.extend(words(&[("Média: 6,0", 44.0)], 156.0));
        let ls = lines(1, ws);
        let c = read(&ls, 0).unwrap();
        assert_eq!(c.lines, 4);
        let s = &c.subjects[0].0;
        assert_eq!(s.code, "lingua-inglesa");
        // OCR's `5)` is no grade: not a wrong one either.
        assert_eq!(
            s.terms.iter().map(|t| t.grade).collect::<Vec<_>>(),
            [None, Some(7.5)]
        );
        assert_eq!(s.status.as_deref(), Some("recuperação"));
        assert_eq!(s.final_grade, None);
    }
}

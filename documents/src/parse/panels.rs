//! Tables set side by side (a compact card with its subjects split into two
//! tables whose rows share baselines: `Componente | 1º Bim … | Faltas` twice
//! on one header line). Lines are cut at each repeated name column and the
//! panels read one after the other, left to right, as if printed one under
//! the other; everything else passes through unchanged. Runs before the
//! parser and before OCR's cell re-reading, so both see the same lines.

use crate::layout::Line;
use crate::normalize::number;

use super::rows::{self, Col};

/// `lines` with every side-by-side table turned into its panels in turn.
pub(crate) fn unfold(lines: Vec<Line>) -> Vec<Line> {
    let mut out = Vec::with_capacity(lines.len());
    let mut i = 0;
    while i < lines.len() {
        let Some(edges) = panel_edges(&lines[i]) else {
            out.push(lines[i].clone());
            i += 1;
            continue;
        };
        let end = table_end(&lines, i);
        // Each panel's own year heading on the line above (`6º ANO - 2020 …
        // 7º ANO - 2021`) goes with its panel.
        let start = match i.checked_sub(1).map(|k| &lines[k]) {
            Some(above)
                if above.page == lines[i].page
                    && edges.windows(2).all(|w| {
                        part(above, w[0], w[1])
                            .is_some_and(|p| super::fields::year(&p.text()).is_some())
                    }) =>
            {
                out.pop();
                i - 1
            }
            _ => i,
        };
        for w in edges.windows(2) {
            out.extend(lines[start..end].iter().filter_map(|l| part(l, w[0], w[1])));
        }
        i = end;
    }
    out
}

/// Where a header line repeats its name column with a table after each:
/// the panels' edges (the left edges of the second and later name cells,
/// between -∞ and +∞).
fn panel_edges(line: &Line) -> Option<Vec<f64>> {
    let names: Vec<f64> = line
        .cells
        .iter()
        .filter(|c| rows::column_kind(&c.text) == Some(Col::Name))
        .map(|c| c.x0)
        .collect();
    if names.len() < 2 {
        return None;
    }
    let mut edges = vec![f64::NEG_INFINITY];
    edges.extend(names[1..].iter().map(|x| x - 0.5));
    edges.push(f64::INFINITY);
    // Each panel must be a table header of its own, with grades.
    let all_tables = edges.windows(2).all(|w| {
        part(line, w[0], w[1])
            .and_then(|p| rows::header(&p))
            .is_some_and(|h| {
                h.cols
                    .iter()
                    .any(|(k, _)| matches!(k, Col::Term(_) | Col::Final))
            })
    });
    all_tables.then_some(edges)
}

/// The header, an unnumbered line under it (a second header row), and the
/// rows after it: lines of the same page with a number.
fn table_end(lines: &[Line], header: usize) -> usize {
    let page = lines[header].page;
    let has_number = |l: &Line| l.words.iter().any(|w| number(&w.text).is_some());
    let mut j = header + 1;
    if lines
        .get(j)
        .is_some_and(|l| l.page == page && !has_number(l) && !l.text().contains(':'))
    {
        j += 1;
    }
    // (The next year's heading, `8º ANO - 2022`, starts what follows.)
    while j < lines.len()
        && lines[j].page == page
        && has_number(&lines[j])
        && !(lines[j].words.len() <= 5 && super::year_heading(&lines[j]).is_some())
    {
        j += 1;
    }
    j
}

/// The words and cells of `line` whose centres lie in `[left, right)`.
fn part(line: &Line, left: f64, right: f64) -> Option<Line> {
    let inside = |a: f64, b: f64| {
        let c = (a + b) / 2.0;
        c >= left && c < right
    };
    let words: Vec<_> = line
        .words
        .iter()
        .filter(|w| inside(w.x0, w.x1))
        .cloned()
        .collect();
    if words.is_empty() {
        return None;
    }
    Some(Line {
        page: line.page,
        y: line.y,
        size: line.size,
        words,
        cells: line
            .cells
            .iter()
            .filter(|c| inside(c.x0, c.x1))
            .cloned()
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::{lines, words_at};

    #[test]
    fn year_panels_take_their_headings_and_stop_at_the_next_year() {
        let mut words = words_at(&[("6º Ano - 2020", 40.0), ("7º Ano - 2021", 300.0)], 88.0);
        words.extend(words_at(
            &[
                ("Componente", 40.0),
                ("MF", 210.0),
                ("Componente", 300.0),
                ("MF", 470.0),
            ],
            100.0,
        ));
        words.extend(words_at(
            &[
                ("Matemática", 40.0),
                ("8,5", 210.0),
                ("Matemática", 300.0),
                ("6,5", 470.0),
            ],
            112.0,
        ));
        words.extend(words_at(&[("8º Ano - 2022", 40.0)], 130.0));
        words.extend(words_at(&[("Componente", 40.0), ("MF", 210.0)], 142.0));
        let unfolded = unfold(lines(1, words));
        let texts: Vec<String> = unfolded.iter().map(Line::text).collect();
        assert_eq!(
            texts,
            [
                "6º Ano - 2020",
                "Componente MF",
                "Matemática 8,5",
                "7º Ano - 2021",
                "Componente MF",
                "Matemática 6,5",
                "8º Ano - 2022",
                "Componente MF",
            ]
        );
    }

    #[test]
    fn two_tables_side_by_side_are_read_one_after_the_other() {
        let mut words = words_at(
            &[
                ("Componente", 40.0),
                ("1º Bim", 130.0),
                ("2º Bim", 170.0),
                ("Média", 210.0),
                ("Componente", 300.0),
                ("1º Bim", 390.0),
                ("2º Bim", 430.0),
                ("Média", 470.0),
            ],
            100.0,
        );
        words.extend(words_at(
            &[
                ("Matemática", 40.0),
                ("8,0", 130.0),
                ("9,0", 170.0),
                ("8,5", 210.0),
                ("Arte", 300.0),
                ("7,0", 390.0),
                ("6,0", 430.0),
                ("6,5", 470.0),
            ],
            112.0,
        ));
        words.extend(words_at(&[("História", 40.0), ("5,0", 130.0)], 124.0));
        words.extend(words_at(&[("Assinatura do responsável", 40.0)], 150.0));
        let unfolded = unfold(lines(1, words));
        let texts: Vec<String> = unfolded.iter().map(Line::text).collect();
        assert_eq!(
            texts,
            [
                "Componente 1º Bim 2º Bim Média",
                "Matemática 8,0 9,0 8,5",
                "História 5,0",
                "Componente 1º Bim 2º Bim Média",
                "Arte 7,0 6,0 6,5",
                "Assinatura do responsável",
            ]
        );
    }

    #[test]
    fn one_table_with_two_name_like_cells_is_left_alone() {
        // `Disciplina` twice but no grades after the second: not two tables.
        let words = words_at(
            &[
                ("Disciplina", 40.0),
                ("Nota", 130.0),
                ("Disciplina", 300.0),
                ("Professor", 390.0),
            ],
            100.0,
        );
        let l = lines(1, words);
        assert_eq!(unfold(l.clone()), l);
    }
}

//! Históricos with the school years as columns: a header of grade levels
//! (`6º Ano | 7º Ano | 8º Ano`, `1ª Série`) and/or years (`2021 | 2022`),
//! possibly on two lines, then one row per subject with a grade under each
//! year. Each value goes to the column whose centre is nearest, within half
//! the columns' spacing; a year column without its year is not read (a
//! grade is never filed under a guessed year).

use super::fields::year;
use super::rows::{build, column_kind, not_a_subject, strip_code, Col};
use crate::layout::Line;
use crate::normalize::{fold, number};
use crate::SubjectResult;

/// One year column.
#[derive(Debug, Clone)]
pub(crate) struct YearCol {
    pub x: f64,
    pub year: i32,
    pub level: Option<String>,
}

/// `6º Ano`, `1ª Série`, `6o ano` in a cell's text.
pub(crate) fn level(text: &str) -> Option<String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    for w in words.windows(2) {
        let f = fold(w[1]);
        let d = w[0].trim_end_matches(['º', 'ª', '°', 'o', 'a']);
        if !d.is_empty()
            && d.len() <= 2
            && d.chars().all(|c| c.is_ascii_digit())
            && (f.starts_with("ano") || f.starts_with("serie"))
        {
            return Some(format!("{} {}", w[0], w[1]));
        }
    }
    None
}

/// Cells of a line that are a year alone (`2021`).
fn year_cells(line: &Line) -> Vec<(f64, i32)> {
    line.cells
        .iter()
        .flat_map(|c| {
            // Narrow columns may merge: look at the words.
            line.words
                .iter()
                .filter(move |w| w.x0 >= c.x0 - 0.01 && w.x1 <= c.x1 + 0.01)
        })
        .filter(|w| w.text.len() == 4)
        .filter_map(|w| year(&w.text).map(|y| ((w.x0 + w.x1) / 2.0, y)))
        .collect()
}

/// A year-columns header at `lines[i]`: the columns and how many lines it took.
pub(crate) fn detect(lines: &[Line], i: usize) -> Option<(Vec<YearCol>, usize)> {
    let line = &lines[i];
    if line.text().contains(':') {
        return None;
    }
    // Word pairs, not cells: close columns merge their labels into one cell.
    let levels: Vec<(f64, String)> = line
        .words
        .windows(2)
        .filter_map(|w| {
            level(&format!("{} {}", w[0].text, w[1].text)).map(|l| ((w[0].x0 + w[1].x1) / 2.0, l))
        })
        .collect();
    let years = year_cells(line);
    let named = line
        .cells
        .iter()
        .any(|c| column_kind(&c.text) == Some(Col::Name));
    // Values on a header line mean it is not one.
    let other_numbers = line
        .words
        .iter()
        .filter(|w| number(&w.text).is_some() && year(&w.text).is_none())
        .count();
    if other_numbers > 0 {
        return None;
    }
    if levels.len() >= 2 {
        // Years on this line or the next, aligned with the levels.
        let (years, used) = if years.len() >= levels.len() {
            (years, 1)
        } else {
            let next = lines.get(i + 1).map(year_cells).unwrap_or_default();
            (next, 2)
        };
        if years.len() < 2 {
            return None;
        }
        let spacing = (levels[1].0 - levels[0].0).abs();
        let cols: Vec<YearCol> = levels
            .iter()
            .filter_map(|(x, l)| {
                let (_, y) = years
                    .iter()
                    .filter(|(yx, _)| (yx - x).abs() < spacing / 2.0)
                    .min_by(|a, b| (a.0 - x).abs().total_cmp(&(b.0 - x).abs()))?;
                Some(YearCol {
                    x: *x,
                    year: *y,
                    level: Some(l.clone()),
                })
            })
            .collect();
        return (cols.len() >= 2).then_some((cols, used));
    }
    if named && years.len() >= 2 {
        let cols = years
            .into_iter()
            .map(|(x, y)| YearCol {
                x,
                year: y,
                level: None,
            })
            .collect();
        return Some((cols, 1));
    }
    None
}

/// The subjects read under a year-columns header.
pub(crate) struct Rows {
    /// Per column, its subjects.
    pub subjects: Vec<Vec<SubjectResult>>,
    /// Lines consumed.
    pub lines: usize,
}

/// Reads subject rows under `cols` until a line that is not one.
pub(crate) fn rows(cols: &[YearCol], lines: &[Line]) -> Rows {
    let mut out = Rows {
        subjects: vec![Vec::new(); cols.len()],
        lines: 0,
    };
    let spacing = if cols.len() >= 2 {
        (cols[1].x - cols[0].x).abs()
    } else {
        60.0
    };
    let left = cols.iter().map(|c| c.x).fold(f64::INFINITY, f64::min) - spacing / 2.0;
    for line in lines {
        let mut name = Vec::new();
        let mut values: Vec<(usize, String, f32)> = Vec::new();
        for cell in &line.cells {
            if cell.center() < left {
                name.push(cell.text.as_str());
                continue;
            }
            for w in line
                .words
                .iter()
                .filter(|w| w.x0 >= cell.x0 - 0.01 && w.x1 <= cell.x1 + 0.01)
            {
                let x = (w.x0 + w.x1) / 2.0;
                if let Some((k, _)) = cols
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| (c.x - x).abs() < spacing / 2.0)
                    .min_by(|a, b| (a.1.x - x).abs().total_cmp(&(b.1.x - x).abs()))
                {
                    values.push((k, w.text.clone(), w.conf));
                }
            }
        }
        let name = strip_code(&name.join(" "));
        let name = name.trim();
        let numeric = values.iter().any(|(_, v, _)| number(v).is_some());
        if name.is_empty() || !numeric || not_a_subject(name) {
            break;
        }
        out.lines += 1;
        for (k, raw, conf) in values {
            out.subjects[k].push(build(name, &[], vec![(Col::Final, raw, conf)]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::{lines, Word};

    fn words(cells: &[(&str, f64)], y: f64) -> Vec<Word> {
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

    #[test]
    fn years_as_columns() {
        let mut ws = words(
            &[
                ("Componente Curricular", 40.0),
                ("6º Ano", 220.0),
                ("7º Ano", 290.0),
                ("8º Ano", 360.0),
            ],
            100.0,
        );
        ws.extend(words(
            &[("2021", 222.0), ("2022", 292.0), ("2023", 362.0)],
            114.0,
        ));
        ws.extend(words(
            &[
                ("Matemática", 40.0),
                ("7,5", 226.0),
                ("8,0", 296.0),
                ("9,5", 366.0),
            ],
            128.0,
        ));
        ws.extend(words(
            &[
                ("História", 40.0),
                ("6,0", 226.0),
                ("-", 296.0),
                ("7,0", 366.0),
            ],
            142.0,
        ));
        ws.extend(words(&[("Resultado: Aprovado", 40.0)], 170.0));
        let ls = lines(1, ws);
        let (cols, used) = detect(&ls, 0).unwrap();
        assert_eq!(used, 2);
        let years: Vec<i32> = cols.iter().map(|c| c.year).collect();
        assert_eq!(years, [2021, 2022, 2023]);
        assert_eq!(cols[0].level.as_deref(), Some("6º Ano"));
        let r = rows(&cols, &ls[2..]);
        assert_eq!(r.lines, 2);
        let finals: Vec<Vec<(String, Option<f64>)>> = r
            .subjects
            .iter()
            .map(|ss| ss.iter().map(|s| (s.code.clone(), s.final_grade)).collect())
            .collect();
        assert_eq!(
            finals[0],
            [
                ("matematica".into(), Some(7.5)),
                ("historia".into(), Some(6.0))
            ]
        );
        assert_eq!(
            finals[1],
            [("matematica".into(), Some(8.0)), ("historia".into(), None)]
        );
        assert!(detect(&ls, 2).is_none(), "a row is not a header");
    }
}

//! Históricos with the school years as columns: a header of grade levels
//! (`6º Ano | 7º Ano | 8º Ano`, `1ª Série`) and/or years (`2021 | 2022`),
//! possibly on two lines, then one row per subject with a grade under each
//! year. Each value goes to the column whose centre is nearest, within half
//! the columns' spacing; a year column without its year is not read (a
//! grade is never filed under a guessed year). A second header line may
//! split each year into its own columns (`MÉDIA | C.H.`, `Nota | Faltas`);
//! footer rows give each year's attendance (`Frequência (%)`) and result
//! (`Situação`), and a `Carga Horária Total` row is passed over.

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
    /// The year's own columns (`MÉDIA | C.H.`) with their x centres; empty
    /// when the year is one grade column at `x`.
    pub sub: Vec<(Col, f64)>,
    /// The year's result from the table of studies, when one gave the year.
    pub status: Option<String>,
}

/// A line of per-year column names under a year-columns header: every cell
/// a data column (grade, workload, absences, attendance, result), at least
/// one per year; each year takes an equal share in order (or, when they do
/// not divide evenly, the ones from its left edge to the next year's).
fn sub_columns(cols: &mut [YearCol], line: &Line) -> bool {
    let mut subs: Vec<(Col, f64)> = Vec::new();
    for c in &line.cells {
        // A lone `|` is a table rule OCR read.
        if c.text
            .trim()
            .chars()
            .all(|ch| matches!(ch, '|' | '!' | '[' | ']' | ' '))
        {
            continue;
        }
        let words: Vec<&crate::layout::Word> = line
            .words
            .iter()
            .filter(|w| w.x0 >= c.x0 - 0.01 && w.x1 <= c.x1 + 0.01)
            .collect();
        let rule = |t: &str| t.chars().all(|ch| matches!(ch, '|' | '!' | '[' | ']'));
        let whole = column_kind(c.text.trim_matches(|ch: char| ch == '|' || ch == ' '))
            .map(|k| vec![(k, c.center())]);
        // Word by word, a pair first (`Média Final | Média Final`).
        let parts = whole.or_else(|| {
            let ws: Vec<&&crate::layout::Word> = words.iter().filter(|w| !rule(&w.text)).collect();
            let mut out = Vec::new();
            let mut k = 0;
            while k < ws.len() {
                if let Some(two) = ws.get(k + 1).and_then(|n| {
                    column_kind(&format!("{} {}", ws[k].text, n.text)).map(|c| (c, n))
                }) {
                    out.push((two.0, (ws[k].x0 + two.1.x1) / 2.0));
                    k += 2;
                    continue;
                }
                out.push((column_kind(&ws[k].text)?, (ws[k].x0 + ws[k].x1) / 2.0));
                k += 1;
            }
            Some(out)
        });
        match parts {
            Some(p) => subs.extend(p),
            None => return false,
        }
    }
    let data = |k: &Col| {
        matches!(
            k,
            Col::Final
                | Col::Workload
                | Col::Absences
                | Col::Attendance
                | Col::Status
                | Col::Recovery
                | Col::Skip
                | Col::TermAbsences
        )
    };
    if subs.len() < cols.len() || !subs.iter().all(|(k, _)| data(k)) {
        return false;
    }
    subs.sort_by(|a, b| a.1.total_cmp(&b.1));
    let n = cols.len();
    if subs.len().is_multiple_of(n) {
        let per = subs.len() / n;
        for (k, c) in cols.iter_mut().enumerate() {
            c.sub = subs[k * per..(k + 1) * per].to_vec();
        }
    } else {
        let spacing = if n >= 2 { cols[1].x - cols[0].x } else { 60.0 };
        for sub in &subs {
            if let Some(c) = cols.iter_mut().rev().find(|c| c.x - spacing / 2.0 <= sub.1) {
                c.sub.push(*sub);
            }
        }
    }
    // Grades read as `Final`, one per year: a second grade-like column is dropped.
    for c in cols.iter_mut() {
        let mut seen = false;
        for s in c.sub.iter_mut() {
            if s.0 == Col::Final {
                if seen {
                    s.0 = Col::Skip;
                }
                seen = true;
            }
        }
    }
    cols.iter().all(|c| !c.sub.is_empty())
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

/// The levels inside one word (`Série/20212ª`: the end of one, the start
/// of the next), with their x centres in proportion to their characters;
/// only when the word holds two or more.
fn glued_levels(w: &crate::layout::Word) -> Vec<(f64, String)> {
    let chars: Vec<char> = w.text.chars().collect();
    let folded: Vec<char> = fold(&w.text).chars().collect();
    let per = (w.x1 - w.x0) / chars.len().max(1) as f64;
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let start = i;
        let mut j = i;
        while j < chars.len() && j - i < 2 && chars[j].is_ascii_digit() {
            j += 1;
        }
        if j == i {
            i += 1;
            continue;
        }
        if j < chars.len() && matches!(chars[j], 'º' | 'ª' | '°') {
            j += 1;
        }
        while j < chars.len() && chars[j] == ' ' {
            j += 1;
        }
        let rest: String = folded[j..].iter().collect();
        let Some(word) = ["serie", "ano"].iter().find(|p| rest.starts_with(*p)) else {
            i += 1;
            continue;
        };
        let mut end = j + word.len();
        // `/2021`: the year, four digits and no more.
        if chars.get(end) == Some(&'/')
            && chars.len() >= end + 5
            && chars[end + 1..end + 5].iter().all(char::is_ascii_digit)
        {
            end += 5;
        }
        let text: String = chars[start..end].iter().collect();
        out.push((w.x0 + per * (start + end) as f64 / 2.0, text));
        i = end;
    }
    if out.len() >= 2 {
        out
    } else {
        Vec::new()
    }
}

/// `1ª Série` and `1ª SERIE`, `6º Ano` and `6o ano`: the same level.
fn same_level(a: &str, b: &str) -> bool {
    let key = |t: &str| {
        let f = fold(t);
        let d: String = f.chars().take_while(char::is_ascii_digit).collect();
        let word = if f.contains("serie") { "serie" } else { "ano" };
        format!("{d} {word}")
    };
    key(a) == key(b)
}

/// Rows pairing a level with its year (`1ª Série  2020  Escola …`), as in a
/// histórico's table of the studies done.
fn level_years(lines: &[Line]) -> Vec<(String, i32, Option<String>)> {
    lines
        .iter()
        .filter(|l| l.words.len() <= 16)
        .filter_map(|l| {
            let lv = l.cells.iter().find_map(|c| level(&c.text))?;
            let (_, y) = *year_cells(l).first()?;
            let st = l
                .cells
                .iter()
                .rev()
                .find_map(|c| crate::normalize::status(&c.text));
            Some((lv, y, st))
        })
        .collect()
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
    let mut levels: Vec<(f64, String)> = line
        .words
        .windows(2)
        .filter_map(|w| {
            level(&format!("{} {}", w[0].text, w[1].text)).map(|l| ((w[0].x0 + w[1].x1) / 2.0, l))
        })
        .collect();
    // Levels a generator's metrics glued into one word (`1ª Série/20212ª Série/2022`).
    let glued: Vec<(f64, String)> = line
        .cells
        .iter()
        .flat_map(|c| {
            glued_levels(&crate::layout::Word {
                text: c.text.clone(),
                x0: c.x0,
                x1: c.x1,
                y: line.y,
                size: line.size,
                conf: c.conf,
            })
        })
        .collect();
    if glued.len() > levels.len() {
        levels = glued;
    }
    let years = year_cells(line);
    let named = line
        .cells
        .iter()
        .any(|c| column_kind(&c.text) == Some(Col::Name));
    // Values on a header line mean it is not one.
    // (`62 ANO`: OCR read the ordinal of `6º Ano` as a digit; a level, not a value.)
    let other_numbers = line
        .words
        .iter()
        .enumerate()
        .filter(|(k, w)| {
            let of_level = line
                .words
                .get(k + 1)
                .is_some_and(|n| level(&format!("{} {}", w.text, n.text)).is_some());
            number(&w.text).is_some() && year(&w.text).is_none() && !of_level
        })
        .count();
    if other_numbers > 0 {
        return None;
    }
    if levels.len() >= 2 {
        // `1ª Série/2021`: each level with its year.
        let embedded: Vec<(f64, i32)> = levels
            .iter()
            .filter_map(|(x, l)| {
                l.split_once('/')
                    .and_then(|(_, y)| year(y))
                    .map(|y| (*x, y))
            })
            .collect();
        let levels: Vec<(f64, String)> = levels
            .iter()
            .map(|(x, l)| {
                (
                    *x,
                    l.split_once('/').map_or(l.as_str(), |(a, _)| a).to_string(),
                )
            })
            .collect();
        let years = if years.len() < levels.len() && embedded.len() == levels.len() {
            embedded
        } else {
            years
        };
        // Years on this line or the next, aligned with the levels.
        let (years, used) = if years.len() >= levels.len() {
            (years, 1)
        } else {
            let next = lines.get(i + 1).map(year_cells).unwrap_or_default();
            (next, 2)
        };
        if years.len() < 2 {
            // No year over the levels: the document's own table of studies
            // (`1ª Série | 2020 | Escola … | Aprovado`) may say each level's year.
            let studied = level_years(&lines[i + 1..]);
            let cols: Vec<YearCol> = levels
                .iter()
                .filter_map(|(x, l)| {
                    // (A level studied twice, `1ª Série 2019 Retido` then
                    // `1ª Série 2020`: which year the column holds is not known.)
                    let mut matches = studied.iter().filter(|(sl, _, _)| same_level(sl, l));
                    let (_, y, st) = matches.next()?;
                    if matches.any(|(_, y2, _)| y2 != y) {
                        return None;
                    }
                    Some(YearCol {
                        x: *x,
                        year: *y,
                        level: Some(l.clone()),
                        sub: Vec::new(),
                        status: st.clone(),
                    })
                })
                .collect();
            if cols.len() < 2 || cols.len() < levels.len() {
                return None;
            }
            return Some(with_sub_columns(cols, lines, i + 1, 1));
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
                    sub: Vec::new(),
                    status: None,
                })
            })
            .collect();
        if cols.len() < 2 {
            return None;
        }
        if let Some(grouped) = i.checked_sub(1).and_then(|a| grouped(&cols, &lines[a])) {
            return Some((grouped, used));
        }
        return Some(with_sub_columns(cols, lines, i + used, used));
    }
    if named && years.len() >= 2 {
        let cols = years
            .into_iter()
            .map(|(x, y)| YearCol {
                x,
                year: y,
                level: None,
                sub: Vec::new(),
                status: None,
            })
            .collect();
        return Some(with_sub_columns(cols, lines, i + 1, 1));
    }
    None
}

/// What a column group's title names (`NOTAS / MÉDIAS`, `C.H. (HORAS)`):
/// the whole text, else its first part that names a column.
fn group_kind(text: &str) -> Option<Col> {
    column_kind(text).or_else(|| {
        text.split(['/', '(', ')', ' '])
            .filter(|p| !p.trim().is_empty())
            .find_map(column_kind)
    })
}

/// The same years repeated once per group (`NOTAS / MÉDIAS` over `1ª 2ª 3ª
/// Série`, then `C.H.` over `1ª 2ª 3ª Série` again): one column per year,
/// with a sub-column per group, each of the kind its title above names.
fn grouped(cols: &[YearCol], above: &Line) -> Option<Vec<YearCol>> {
    let n = (2..=cols.len() / 2).find(|&n| {
        cols.len().is_multiple_of(n)
            && (0..cols.len())
                .all(|k| cols[k].year == cols[k % n].year && cols[k].level == cols[k % n].level)
    })?;
    let groups = cols.len() / n;
    let titles: Vec<(Col, f64)> = above
        .cells
        .iter()
        .filter_map(|c| group_kind(&c.text).map(|k| (k, c.center())))
        .filter(|(k, _)| !matches!(k, Col::Name | Col::Code | Col::Year | Col::Level))
        .collect();
    let mut kinds = Vec::new();
    for g in 0..groups {
        let mid = cols[g * n..(g + 1) * n].iter().map(|c| c.x).sum::<f64>() / n as f64;
        let (k, _) = titles
            .iter()
            .min_by(|a, b| (a.1 - mid).abs().total_cmp(&(b.1 - mid).abs()))?;
        kinds.push(*k);
    }
    let mut seen = kinds.clone();
    seen.sort_by_key(|k| format!("{k:?}"));
    seen.dedup();
    if seen.len() != groups {
        return None;
    }
    Some(
        (0..n)
            .map(|k| YearCol {
                sub: (0..groups).map(|g| (kinds[g], cols[g * n + k].x)).collect(),
                ..cols[k].clone()
            })
            .collect(),
    )
}

/// The columns, with the per-year line at `lines[at]` when there is one.
fn with_sub_columns(
    mut cols: Vec<YearCol>,
    lines: &[Line],
    at: usize,
    used: usize,
) -> (Vec<YearCol>, usize) {
    match lines.get(at) {
        Some(l) if sub_columns(&mut cols, l) => (cols, used + 1),
        _ => {
            for c in cols.iter_mut() {
                c.sub.clear();
            }
            (cols, used)
        }
    }
}

/// The subjects read under a year-columns header.
pub(crate) struct Rows {
    /// Per column, its subjects.
    pub subjects: Vec<Vec<SubjectResult>>,
    /// Per column, the footer's attendance (`Frequência (%)`) and result (`Situação`).
    pub attendance: Vec<Option<f64>>,
    pub status: Vec<Option<String>>,
    /// Lines consumed.
    pub lines: usize,
}

/// Where a value at `x` goes: (year column, what it is), within half a column's spacing.
fn place(cols: &[YearCol], x: f64) -> Option<(usize, Col)> {
    let spots: Vec<(usize, Col, f64)> = cols
        .iter()
        .enumerate()
        .flat_map(|(k, c)| {
            if c.sub.is_empty() {
                vec![(k, Col::Final, c.x)]
            } else {
                c.sub.iter().map(|(kind, sx)| (k, *kind, *sx)).collect()
            }
        })
        .collect();
    let mut xs: Vec<f64> = spots.iter().map(|s| s.2).collect();
    xs.sort_by(f64::total_cmp);
    let spacing = xs
        .windows(2)
        .map(|w| w[1] - w[0])
        .fold(f64::INFINITY, f64::min)
        .min(120.0);
    let spacing = if spacing.is_finite() { spacing } else { 60.0 };
    spots
        .iter()
        .filter(|s| (s.2 - x).abs() < spacing / 2.0 + 2.0)
        .min_by(|a, b| (a.2 - x).abs().total_cmp(&(b.2 - x).abs()))
        .map(|s| (s.0, s.1))
}

/// Reads subject rows under `cols` until a line that is not one.
pub(crate) fn rows(cols: &[YearCol], lines: &[Line]) -> Rows {
    let mut out = Rows {
        subjects: vec![Vec::new(); cols.len()],
        attendance: vec![None; cols.len()],
        status: vec![None; cols.len()],
        lines: 0,
    };
    let spacing = if cols.len() >= 2 {
        (cols[1].x - cols[0].x).abs()
    } else {
        60.0
    };
    let first_x = cols
        .iter()
        .flat_map(|c| c.sub.iter().map(|s| s.1).chain([c.x]))
        .fold(f64::INFINITY, f64::min);
    // Half the narrowest gap between value columns (a year's sub-columns
    // side by side, or groups of years apart) left of the first one.
    let mut spots: Vec<f64> = cols
        .iter()
        .flat_map(|c| {
            if c.sub.is_empty() {
                vec![c.x]
            } else {
                c.sub.iter().map(|s| s.1).collect()
            }
        })
        .collect();
    spots.sort_by(f64::total_cmp);
    let gap = spots
        .windows(2)
        .map(|w| w[1] - w[0])
        .fold(spacing, f64::min);
    let left = first_x - gap / 2.0;
    for line in lines {
        let mut name = Vec::new();
        let mut values: Vec<(usize, Col, String, f32)> = Vec::new();
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
                if let Some((k, kind)) = place(cols, (w.x0 + w.x1) / 2.0) {
                    values.push((k, kind, w.text.clone(), w.conf));
                }
            }
        }
        // An area's merged cell beside the component (`LINGUAGENS E SUAS |
        // Arte`): the component alone.
        // (Only when every other cell reads as an area: `Física | Experimental`
        // keeps its name.)
        if name.len() > 1
            && name.iter().any(|n| crate::normalize::is_known_subject(n))
            && name
                .iter()
                .all(|n| crate::normalize::is_known_subject(n) || super::rows::area_label(n))
        {
            name.retain(|n| crate::normalize::is_known_subject(n));
        }
        let name = strip_code(&name.join(" "));
        let name = name.trim();
        let f = fold(name);
        // The footer: the years' attendance and results; their workload total
        // (values under the year columns, not a line of its own below).
        if values.is_empty() {
            // `BASE NACIONAL COMUM`, `Parte Diversificada`: a section of the table.
            if super::rows::section_heading(name) {
                out.lines += 1;
                continue;
            }
            break;
        }
        // A footer's values by their columns; when several fall in one
        // column (set apart from the columns) and there is one per year,
        // in order.
        let footer = |read: &dyn Fn(&str) -> bool| -> Vec<(usize, String)> {
            let vals: Vec<(usize, String)> = values
                .iter()
                .filter(|v| read(&v.2))
                .map(|v| (v.0, v.2.clone()))
                .collect();
            let collide = vals.windows(2).any(|w| w[0].0 == w[1].0);
            if collide && vals.len() == cols.len() {
                vals.into_iter()
                    .enumerate()
                    .map(|(k, (_, r))| (k, r))
                    .collect()
            } else {
                values
                    .iter()
                    .map(|(k, _, raw, _)| (*k, raw.clone()))
                    .collect()
            }
        };
        // `Carga Horária Total`, `C.H. Total`, `Total de Carga Horária`: a totals row.
        if f.starts_with("carga horaria total")
            || f.starts_with("total")
            || f.starts_with("c.h. total")
            || f.starts_with("ch total")
        {
            out.lines += 1;
            continue;
        }
        if f.starts_with("frequencia") || f.starts_with("freq") || f.starts_with("% de freq") {
            let pct = |raw: &str| number(raw.trim_end_matches('%')).is_some();
            let placed = footer(&pct);
            for (k, raw) in &placed {
                if let Some(v) =
                    number(raw.trim_end_matches('%')).filter(|v| (0.0..=100.0).contains(v))
                {
                    out.attendance[*k].get_or_insert(v);
                }
            }
            out.lines += 1;
            continue;
        }
        if f.starts_with("situacao") || f.starts_with("resultado") {
            let result = |raw: &str| crate::normalize::status(raw).is_some();
            let placed = footer(&result);
            for (k, raw) in &placed {
                if let Some(st) = crate::normalize::status(raw) {
                    out.status[*k].get_or_insert(st);
                }
            }
            out.lines += 1;
            continue;
        }
        let numeric = values.iter().any(|(_, _, v, _)| number(v).is_some());
        if name.is_empty() || !numeric || not_a_subject(name) {
            break;
        }
        out.lines += 1;
        for (k, subject) in out.subjects.iter_mut().enumerate() {
            let mine: Vec<(Col, String, f32)> = values
                .iter()
                .filter(|v| v.0 == k)
                .map(|(_, kind, raw, conf)| (*kind, raw.clone(), *conf))
                .collect();
            if !mine.is_empty() {
                subject.push(build(name, &[], mine));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::{lines, words_at as words};

    #[test]
    fn the_same_years_once_per_group_grades_then_workload() {
        // `Notas / Médias` over three years, `C.H.` over the same three again,
        // the levels glued to their years in one run of text.
        let mut ws = words(
            &[
                ("Componentes", 40.0),
                ("Notas / Médias", 230.0),
                ("C.H. (horas)", 400.0),
            ],
            100.0,
        );
        ws.extend(words(
            &[(
                "1ª Série/2021 2ª Série/2022 1ª Série/2021 2ª Série/2022",
                180.0,
            )],
            112.0,
        ));
        ws.extend(words(&[("BASE NACIONAL COMUM", 40.0)], 124.0));
        ws.extend(words(
            &[
                ("Matemática", 40.0),
                ("7,5", 210.0),
                ("8,0", 280.0),
                ("200", 350.0),
                ("160", 420.0),
            ],
            136.0,
        ));
        ws.extend(words(
            &[
                ("Total de Carga Horária", 40.0),
                ("200", 350.0),
                ("160", 420.0),
            ],
            148.0,
        ));
        ws.extend(words(
            &[("Frequência (%)", 40.0), ("91,0", 190.0), ("88,5", 230.0)],
            160.0,
        ));
        let ls = lines(1, ws);
        let (cols, used) = detect(&ls, 1).unwrap();
        assert_eq!(used, 1);
        let years: Vec<i32> = cols.iter().map(|c| c.year).collect();
        assert_eq!(years, [2021, 2022]);
        assert_eq!(cols[0].level.as_deref(), Some("1ª Série"));
        let r = rows(&cols, &ls[2..]);
        assert_eq!(r.lines, 4);
        let m = &r.subjects[1][0];
        assert_eq!((m.final_grade, m.workload_hours), (Some(8.0), Some(160)));
        assert_eq!(
            r.attendance,
            [Some(91.0), Some(88.5)],
            "in order when set apart"
        );
    }

    #[test]
    fn levels_without_years_take_them_from_the_table_of_studies() {
        let mut ws = words(
            &[
                ("Área", 20.0),
                ("Componentes", 80.0),
                ("1ª Série", 220.0),
                ("2ª Série", 290.0),
            ],
            100.0,
        );
        ws.extend(words(
            &[("Média Final", 220.0), ("Média Final", 290.0)],
            112.0,
        ));
        ws.extend(words(
            &[("Português", 80.0), ("9,3", 222.0), ("8,0", 292.0)],
            124.0,
        ));
        ws.extend(words(
            &[
                ("LINGUAGENS", 20.0),
                ("Arte", 80.0),
                ("7,6", 222.0),
                ("6,5", 292.0),
            ],
            136.0,
        ));
        ws.extend(words(&[("TECNOLOGIAS", 20.0)], 148.0));
        ws.extend(words(
            &[("História", 80.0), ("7,0", 222.0), ("7,5", 292.0)],
            160.0,
        ));
        ws.extend(words(&[("ESTUDOS REALIZADOS", 20.0)], 180.0));
        ws.extend(words(
            &[
                ("1ª Série", 20.0),
                ("2020", 90.0),
                ("E.E. Tiradentes", 150.0),
                ("APR", 300.0),
            ],
            192.0,
        ));
        ws.extend(words(
            &[
                ("2ª Série", 20.0),
                ("2021", 90.0),
                ("E.E. Tiradentes", 150.0),
                ("Retido", 300.0),
            ],
            204.0,
        ));
        let ls = lines(1, ws);
        let (cols, used) = detect(&ls, 0).unwrap();
        assert_eq!(used, 2);
        let years: Vec<(i32, Option<&str>)> =
            cols.iter().map(|c| (c.year, c.status.as_deref())).collect();
        assert_eq!(years, [(2020, Some("aprovado")), (2021, Some("retido"))]);
        let r = rows(&cols, &ls[2..]);
        let names: Vec<&str> = r.subjects[1].iter().map(|s| s.code.as_str()).collect();
        assert_eq!(
            names,
            ["lingua-portuguesa", "arte", "historia"],
            "the area cell is no part of a name"
        );
        assert_eq!(r.subjects[1][1].final_grade, Some(6.5));
        // A level studied twice (retained): which year the column holds is unknown.
        let mut twice = ls.clone();
        twice.extend(lines(
            1,
            words(
                &[
                    ("1ª Série", 20.0),
                    ("2021", 90.0),
                    ("E.E. Tiradentes", 150.0),
                    ("APR", 300.0),
                ],
                216.0,
            ),
        ));
        assert!(detect(&twice, 0).is_none());
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

    #[test]
    fn years_split_in_grade_and_workload_with_a_footer() {
        let mut ws = words(
            &[
                ("BASE NACIONAL COMUM", 40.0),
                ("6º ANO / 2016", 200.0),
                ("7º ANO / 2017", 300.0),
            ],
            100.0,
        );
        ws.extend(words(
            &[
                ("MEDIA", 200.0),
                ("C.H.", 250.0),
                ("MEDIA", 300.0),
                ("C.H.", 350.0),
            ],
            114.0,
        ));
        ws.extend(words(
            &[
                ("MATEM.", 40.0),
                ("7,5", 205.0),
                ("120", 252.0),
                ("7,6", 305.0),
                ("40", 352.0),
            ],
            128.0,
        ));
        ws.extend(words(
            &[
                ("HIST.", 40.0),
                ("6,5", 205.0),
                ("80", 252.0),
                ("-", 308.0),
                ("160", 352.0),
            ],
            142.0,
        ));
        ws.extend(words(
            &[
                ("CARGA HORARIA TOTAL", 40.0),
                ("920", 252.0),
                ("920", 352.0),
            ],
            156.0,
        ));
        ws.extend(words(
            &[("FREQUENCIA (%)", 40.0), ("90,3", 205.0), ("92,1", 305.0)],
            170.0,
        ));
        ws.extend(words(
            &[
                ("SITUACAO", 40.0),
                ("PROMOVIDO", 200.0),
                ("APROVADO", 300.0),
            ],
            184.0,
        ));
        ws.extend(words(&[("ESTUDOS REALIZADOS", 40.0)], 210.0));
        let ls = lines(1, ws);
        let (cols, used) = detect(&ls, 0).unwrap();
        assert_eq!(used, 2, "the per-year line is part of the header");
        assert_eq!(
            cols.iter().map(|c| c.year).collect::<Vec<_>>(),
            [2016, 2017]
        );
        let r = rows(&cols, &ls[2..]);
        assert_eq!(r.lines, 5);
        type Read = (String, Option<f64>, Option<u32>);
        let read: Vec<Vec<Read>> = r
            .subjects
            .iter()
            .map(|ss| {
                ss.iter()
                    .map(|s| (s.code.clone(), s.final_grade, s.workload_hours))
                    .collect()
            })
            .collect();
        assert_eq!(
            read[0],
            [
                ("matematica".into(), Some(7.5), Some(120)),
                ("historia".into(), Some(6.5), Some(80))
            ]
        );
        assert_eq!(
            read[1],
            [
                ("matematica".into(), Some(7.6), Some(40)),
                ("historia".into(), None, Some(160))
            ]
        );
        assert_eq!(r.attendance, [Some(90.3), Some(92.1)]);
        assert_eq!(
            r.status,
            [Some("promovido".to_string()), Some("aprovado".to_string())]
        );
    }
}

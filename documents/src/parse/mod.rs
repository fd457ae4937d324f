//! Lines (from text or OCR) to the document's content: the header fields
//! ([`fields`]), the subject rows ([`rows`]: tables and line layouts;
//! [`cards`]: subject cards, side by side or not; [`panels`]: tables side
//! by side, unfolded before parsing; [`yearcols`] and
//! [`transposed`]: years or subjects as columns), and,
//! for históricos, the split into school years (a heading such as `Ano
//! Letivo: 2023 - Série: 7º Ano` opens a year; its tables follow).

pub(crate) mod cards;
pub(crate) mod fields;
pub(crate) mod inline;
pub(crate) mod legend;
pub(crate) mod nested;
pub(crate) mod panels;
pub(crate) mod prose;
pub(crate) mod rows;
pub(crate) mod transposed;
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
        })
        .or_else(|| {
            // `2ª Série (2019)`, `7º Ano - 2020`: a level, then its year, alone.
            let words: Vec<&str> = text.split_whitespace().collect();
            let last = words.last()?.trim_matches(|c: char| !c.is_ascii_digit());
            (words.len() <= 5 && last.len() == 4 && grade_level(&text).is_some())
                .then(|| fields::year(last))
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

/// `Frequência Global: 94,5%` and friends; with `bare`, also a line that
/// opens with `Frequência: 93,6%` / `Freq.: 90,2%` (a percentage), which
/// outside a subject's heading block is the year's (or the document's).
fn overall_attendance(text: &str, bare: bool) -> Option<f64> {
    let f = fold(text);
    let bare_label = bare
        && [
            "frequencia:",
            "frequencia :",
            "freq.:",
            "freq:",
            "frequencia (%):",
        ]
        .iter()
        .any(|p| f.starts_with(p))
        && text
            .split_once(':')
            .and_then(|(_, v)| v.split_whitespace().next())
            .is_some_and(|w| w.ends_with('%'));
    let labelled = bare_label
        || [
            "frequencia global",
            "frequencia geral",
            "frequencia total",
            "frequencia anual",
            "freq. global",
            "frequencia final",
            "frequencia media",
            "freq. anual",
            "freq anual",
            "freq. total",
            "freq total",
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
        "resultado:",
        "situacao:",
    ]
    .iter()
    .filter_map(|p| f.find(p))
    .min()?;
    let (_, rest) = crate::normalize::split_at_folded(text, &f, at);
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
/// no numbers, no `key:`, a component of the lexicon; or a key/value
/// block's first line, `Disciplina: Matemática` (any name-column word as
/// the key, the name a lexicon component or at least not a number).
fn heading(line: &Line) -> Option<String> {
    let text = line.text();
    let t = text.trim();
    if let Some((k, v)) = t.split_once(':') {
        let v = v.trim().trim_end_matches(['.', ';']).trim();
        let keyed = rows::column_kind(k) == Some(rows::Col::Name);
        let plain = !v.contains(':') && number(v).is_none() && v.chars().any(char::is_alphabetic);
        return (keyed && plain && !rows::not_a_subject(v)).then(|| rows::strip_code(v));
    }
    if t.is_empty() || line.words.iter().any(|w| number(&w.text).is_some()) {
        return None;
    }
    crate::normalize::is_known_subject(t).then(|| t.to_string())
}

/// A line that is only a term's name (`1ª Unidade`, `2º BIMESTRE`,
/// `3º Trimestre`): the table under it holds that term's grades.
fn term_heading(line: &Line) -> Option<u8> {
    // `2º Bimestre: -` is a value line of a subject's block.
    if line.words.len() > 3
        || line
            .words
            .iter()
            .any(|w| w.text.contains(':') || crate::validate::is_blank_mark(&w.text))
    {
        return None;
    }
    match rows::column_kind(line.text().trim()) {
        Some(rows::Col::Term(n)) => Some(n),
        _ => None,
    }
}

/// The line above `lines[at]` titles an attendance section (`FREQUÊNCIA`,
/// `2. Faltas e Frequência`, `ASSIDUIDADE`).
fn attendance_title(lines: &[Line], at: usize) -> bool {
    let Some(prev) = at.checked_sub(1).map(|k| &lines[k]) else {
        return false;
    };
    let f = fold(&prev.text());
    let f =
        f.trim_start_matches(|c: char| c.is_ascii_digit() || matches!(c, '.' | ' ' | '-' | ')'));
    prev.words.len() <= 4
        && !f.contains(':')
        && ["frequencia", "assiduidade", "faltas", "controle de faltas"]
            .iter()
            .any(|p| f.starts_with(p))
}

/// A second table over subjects already read with their term grades whose
/// header has terms and absences or attendance but no grade column: its
/// term columns count absences.
fn repeats_terms_as_counts(p: &Parsed, year: Option<usize>, h: &rows::Header) -> bool {
    use rows::Col;
    let read = match year {
        Some(y) => &p.years[y].subjects,
        None => &p.subjects,
    };
    let has = |f: &dyn Fn(&Col) -> bool| h.cols.iter().any(|(k, _)| f(k));
    // The same terms as those already read (a second semester's table,
    // `3º Bim | 4º Bim | Faltas`, is grades of other terms).
    let same_terms = h.cols.iter().all(|(k, _)| match k {
        Col::Term(n) => read
            .iter()
            .all(|s| s.terms.iter().any(|t| t.term == *n && t.grade.is_some())),
        _ => true,
    });
    read.len() >= 3
        && same_terms
        && read
            .iter()
            .all(|s| s.terms.iter().any(|t| t.grade.is_some()))
        && has(&|k| matches!(k, Col::Term(_)))
        && has(&|k| matches!(k, Col::Absences | Col::Attendance))
        && !has(&|k| matches!(k, Col::Final | Col::Recovery | Col::Status))
}

/// A table under a term heading whose columns name no term (`Componente |
/// Nota | Faltas` under `2ª Unidade`): its grade is that term's, its
/// absences the term's own (dropped: a year total, when printed, comes from
/// the summary table).
fn under_term(mut h: rows::Header, term: u8) -> rows::Header {
    if h.cols.iter().any(|(k, _)| matches!(k, rows::Col::Term(_))) {
        return h;
    }
    let Some(at) = h.cols.iter().position(|(k, _)| *k == rows::Col::Final) else {
        return h;
    };
    h.cols[at].0 = rows::Col::Term(term);
    for (k, _) in h.cols.iter_mut() {
        if *k == rows::Col::Absences {
            *k = rows::Col::Skip;
        }
    }
    h
}

/// Page furniture between a table's rows at a page break: `Página 1 de 2`,
/// `Documento emitido em …`, `(continua)`, `Continuação`.
fn furniture(text: &str) -> bool {
    let f = fold(text.trim());
    [
        "pagina ",
        "pag. ",
        "pag ",
        "folha ",
        "fl. ",
        "documento emitido",
        "emitido em",
        "impresso em",
        "gerado em",
        "(continua",
        "continua na",
        "continuacao",
        "(continuacao",
        "... continua",
        "autenticidade",
        "codigo de validacao",
        "validacao:",
    ]
    .iter()
    .any(|p| f.starts_with(p) || f.contains(&format!(" {p}")))
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
    add_subject(p, year, s, b.line, None);
}

/// Files a subject under the current year (or the boletim) and records the
/// line it was read from.
fn add_subject(
    p: &mut Parsed,
    year: Option<usize>,
    s: SubjectResult,
    line: usize,
    header: Option<rows::Header>,
) {
    let target = match year {
        Some(y) => &mut p.years[y].subjects,
        None => &mut p.subjects,
    };
    // The same subject in another table of the same year (one table per
    // term, then a summary; grades in one table and attendance in another):
    // one subject with what each table gave.
    let same = target
        .iter()
        .position(|t| !t.code.is_empty() && t.code == s.code && merges(t, &s));
    let subject = match same {
        Some(k) => {
            merge_into(&mut target[k], s);
            k
        }
        None => {
            target.push(s);
            target.len() - 1
        }
    };
    p.rows.push(RowSource {
        year,
        subject,
        line,
        header,
    });
}

/// Two reads of a subject join when they do not disagree: no term, final
/// grade, absences or status that both give differently.
fn merges(a: &SubjectResult, b: &SubjectResult) -> bool {
    let same = |x: Option<f64>, y: Option<f64>| x.zip(y).is_none_or(|(x, y)| (x - y).abs() < 1e-9);
    a.terms.iter().all(|t| {
        b.terms
            .iter()
            .find(|u| u.term == t.term)
            .is_none_or(|u| same(t.grade, u.grade))
    }) && same(a.final_grade, b.final_grade)
        && same(a.recovery_grade, b.recovery_grade)
        && a.absences.zip(b.absences).is_none_or(|(x, y)| x == y)
        && a.status
            .as_ref()
            .zip(b.status.as_ref())
            .is_none_or(|(x, y)| x == y)
}

/// Fills what `a` lacks from `b` (terms it has not, values it left empty).
fn merge_into(a: &mut SubjectResult, b: SubjectResult) {
    for t in b.terms {
        match a.terms.iter_mut().find(|u| u.term == t.term) {
            Some(u) if u.grade.is_none() => *u = t,
            Some(_) => {}
            None => a.terms.push(t),
        }
    }
    a.terms.sort_by_key(|t| t.term);
    a.final_grade = a.final_grade.or(b.final_grade);
    a.recovery_grade = a.recovery_grade.or(b.recovery_grade);
    a.absences = a.absences.or(b.absences);
    a.attendance_pct = a.attendance_pct.or(b.attendance_pct);
    a.status = a.status.take().or(b.status);
    a.workload_hours = a.workload_hours.or(b.workload_hours);
}

/// Parses all lines (every page, in order).
pub(crate) fn parse(lines: &[Line], hint: Option<DocType>) -> Parsed {
    // Column acronyms a legend spells out (same lines, same indices).
    let expanded = legend::expand(lines);
    let lines = expanded.as_deref().unwrap_or(lines);
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
    // The last term heading (`2ª Unidade`) and its line.
    let mut term: Option<(u8, usize)> = None;
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
                let y = &mut p.years[first + k];
                y.subjects = subjects;
                y.overall_attendance_pct = read.attendance[k];
                y.status = read.status[k].clone().or_else(|| cols[k].status.clone());
            }
            header = None;
            year = None;
            i += used + read.lines;
            continue;
        }
        if furniture(&text) {
            i += 1;
            continue;
        }
        if let Some(read) = cards::read(lines, i) {
            flush(&mut p, &mut block, year);
            for (s, at) in read.subjects {
                add_subject(&mut p, year, s, at, None);
            }
            header = None;
            i += read.lines;
            continue;
        }
        if let Some(cols) = transposed::detect(line) {
            let read = transposed::rows(&cols, &transposed::extras(line, &cols), &lines[i + 1..]);
            if read.lines > 0 {
                flush(&mut p, &mut block, year);
                headings += read.years.len();
                let made_years = !read.years.is_empty();
                for y in read.years {
                    match p
                        .years
                        .iter_mut()
                        .find(|r| y.year.is_some() && r.year == y.year)
                    {
                        Some(r) => r.subjects.extend(y.subjects),
                        None => p.years.push(y),
                    }
                }
                // Rows of years make their own records; rows of terms or
                // grades belong to the open year, whose footer may follow.
                match year {
                    Some(y) => p.years[y].subjects.extend(read.subjects),
                    None => p.subjects.extend(read.subjects),
                }
                header = None;
                if made_years {
                    year = None;
                }
                i += 1 + read.lines;
                continue;
            }
        }
        if let Some(n) = term_heading(line) {
            flush(&mut p, &mut block, year);
            term = Some((n, i));
            header = None;
            i += 1;
            continue;
        }
        if let Some(h) = rows::header(line) {
            flush(&mut p, &mut block, year);
            prefix = None;
            // `1º Bim` over `Nota | Faltas`: the next line completes the header.
            let (h, used) = match lines.get(i + 1).and_then(|n| rows::two_level(line, n)) {
                Some(two) => (two, 2),
                None => (h, 1),
            };
            let h = if attendance_title(lines, i) || repeats_terms_as_counts(&p, year, &h) {
                rows::as_attendance_table(h, line)
            } else {
                h
            };
            header = Some(match term.take() {
                Some((n, at)) if i - at <= 2 => under_term(h, n),
                _ => h,
            });
            i += used;
            continue;
        }
        // Years as rows (`Ano | Etapa | Disciplina | …`): `2022 1ª Série
        // Port. 120 7,8` is a row of that table, not a year heading.
        let row_of_year_table = header
            .as_ref()
            .is_some_and(|h| h.years_as_rows() && h.row(line).is_some());
        if let Some((y, level)) = year_heading(line).filter(|_| !row_of_year_table) {
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
                // The same year again (a continuation page repeats its
                // heading): its rows continue that year's table, under the
                // same columns unless a new header follows.
                if let Some(k) = p.years.iter().position(|r| r.year == Some(y)) {
                    if p.years[k].grade_level.is_none() {
                        p.years[k].grade_level = level;
                    }
                    if year != Some(k) {
                        header = None;
                    }
                    year = Some(k);
                    i += 1;
                    continue;
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
        let attendance = overall_attendance(&text, block.is_none());
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
        // A block of rows per subject under the header (assessments, the
        // means, the absences).
        if block.is_none() {
            if let Some((s, used, at)) = header.as_ref().and_then(|h| nested::read(h, lines, i)) {
                add_subject(&mut p, year, s, at, header.clone());
                last_row = Some(i + used - 1);
                i += used;
                continue;
            }
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
                let next_values_only = lines.get(i + 1).is_some_and(|n| {
                    n.page == line.page
                        && h.row(n).is_none()
                        && h.row_with_prefix(n, &frag).is_some()
                });
                if next_values_only {
                    prefix = Some(frag);
                    i += 1;
                    continue;
                }
                let close_below = |l: usize| {
                    let prev = &lines[l];
                    l + 1 == i
                        && prev.page == line.page
                        && line.y - prev.y < 1.8 * prev.size.max(line.size)
                };
                if last_row.is_some_and(close_below) {
                    let target = match year {
                        Some(y) => p.years[y].subjects.last_mut(),
                        None => p.subjects.last_mut(),
                    };
                    // Joined only when that makes a name the lexicon knows, or
                    // the first line alone was none: `Língua Estrangeira
                    // Moderna - Inglês` then `Matemática e suas Tecnologias` is
                    // a subject, then an area heading, not one long name.
                    let joins = |s: &SubjectResult| {
                        let joined = format!("{} {frag}", s.name_original);
                        !crate::normalize::is_known_subject(&s.name_original)
                            || crate::normalize::is_known_subject(&joined)
                    };
                    if let Some(s) = target.filter(|s| joins(s)) {
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
            // Years as rows (`Ano | Série | Disciplina | …`): the row's own
            // year cell says which year record it belongs to.
            if let Some(h) = &from_table {
                if let (Some(yt), level) = h.year_and_level(line) {
                    if let Some(y) = fields::year(&yt) {
                        let k = match p.years.iter().position(|r| r.year == Some(y)) {
                            Some(k) => k,
                            None => {
                                if year.is_some_and(|cur| {
                                    p.years[cur].subjects.is_empty() && p.years.len() == cur + 1
                                }) {
                                    p.years.pop();
                                }
                                headings += 1;
                                p.years.push(YearRecord {
                                    year: Some(y),
                                    grade_level: level.clone(),
                                    school_name: None,
                                    subjects: Vec::new(),
                                    overall_attendance_pct: None,
                                    status: None,
                                });
                                p.years.len() - 1
                            }
                        };
                        year = Some(k);
                    }
                }
            }
            add_subject(&mut p, year, s, i, from_table);
            last_row = Some(i);
        }
        i += 1;
    }
    flush(&mut p, &mut block, year);
    // The years written as running text: taken when they give more grades
    // than the tables and lines did (a clause's `Matemática: 5,5;` alone
    // on a wrapped line reads as a line of values too).
    let read = p.subjects.len() + p.years.iter().map(|y| y.subjects.len()).sum::<usize>();
    let text: String = lines.iter().map(|l| l.text()).collect::<Vec<_>>().join(" ");
    let ys = prose::years(&text);
    let in_prose = ys.iter().map(|y| y.subjects.len()).sum::<usize>();
    if in_prose >= 3 && in_prose > read {
        let mut h = p.header.clone();
        prose::header(&text, &mut h);
        // Only a student's own record: someone named.
        if h.name.is_some() {
            headings += ys.len();
            p.years = ys;
            p.subjects.clear();
            p.overall_attendance_pct = None;
            p.rows.clear();
            p.header = h;
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
        assert_eq!(
            overall_attendance("Frequência Global: 94,5%", false),
            Some(94.5)
        );
        assert_eq!(overall_attendance("Matemática 94,5", true), None);
        assert_eq!(
            overall_attendance("Freq.: 90,2% Resultado: APROVADO", true),
            Some(90.2)
        );
        assert_eq!(
            overall_attendance("Frequência: 93,6% Resultado: Aprovado", false),
            None
        );
        assert_eq!(
            year_status("Resultado Final: APROVADO").as_deref(),
            Some("aprovado")
        );
        assert_eq!(
            year_status("Freq. anual: 88,7%  Resultado: Promovido(a)").as_deref(),
            Some("promovido")
        );
        let heading = |t: &str| year_heading(&text_lines(&[t])[0]);
        assert_eq!(
            heading("2ª Série (2019)"),
            Some((2019, Some("2ª Série".into())))
        );
        assert_eq!(heading("Matemática 7,5 8,0 2019"), None);
    }

    fn text_lines(rows: &[&str]) -> Vec<Line> {
        let words = rows
            .iter()
            .enumerate()
            .flat_map(|(n, row)| crate::layout::words_at(&[(*row, 40.0)], 100.0 + n as f64 * 14.0))
            .collect();
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

    /// Lines of cells: each row's cells at the given x, one row per 14 pt.
    fn table_lines(rows: &[&[(&str, f64)]]) -> Vec<Line> {
        let words = rows
            .iter()
            .enumerate()
            .flat_map(|(n, cells)| crate::layout::words_at(cells, 100.0 + n as f64 * 14.0))
            .collect();
        crate::layout::lines(1, words)
    }

    /// Parses rows of `(text, x)` cells laid one under the other.
    fn parse_table(rows: &[Vec<(&str, f64)>]) -> Parsed {
        let refs: Vec<&[(&str, f64)]> = rows.iter().map(Vec::as_slice).collect();
        parse(&table_lines(&refs), None)
    }

    #[test]
    fn one_table_per_term_then_a_summary_make_one_subject_each() {
        let row = |a: &'static str, b: &'static str, c: &'static str| -> Vec<(&'static str, f64)> {
            vec![(a, 40.0), (b, 200.0), (c, 260.0)]
        };
        let rows: Vec<Vec<(&str, f64)>> = vec![
            vec![("BOLETIM ESCOLAR 2024", 40.0)],
            vec![("1ª Unidade", 40.0)],
            row("Componente", "Nota", "Faltas"),
            row("Matemática", "6,0", "1"),
            row("História", "7,5", "2"),
            vec![("2ª Unidade", 40.0)],
            row("Componente", "Nota", "Faltas"),
            row("Matemática", "8,0", "0"),
            row("História", "6,5", "3"),
            vec![("RESULTADO FINAL", 40.0)],
            row("Componente", "MF", "Faltas"),
            row("Matemática", "7,0", "1"),
            row("História", "7,0", "5"),
        ];
        let p = parse_table(&rows);
        let got: Vec<_> = p
            .subjects
            .iter()
            .map(|s| {
                let terms: Vec<_> = s.terms.iter().map(|t| (t.term, t.grade)).collect();
                (s.code.as_str(), terms, s.final_grade, s.absences)
            })
            .collect();
        assert_eq!(
            got,
            [
                (
                    "matematica",
                    vec![(1, Some(6.0)), (2, Some(8.0))],
                    Some(7.0),
                    Some(1)
                ),
                (
                    "historia",
                    vec![(1, Some(7.5)), (2, Some(6.5))],
                    Some(7.0),
                    Some(5)
                ),
            ]
        );
        // A value line of a subject's block is no term heading.
        assert_eq!(term_heading(&text_lines(&["2º Bimestre: -"])[0]), None);
        assert_eq!(term_heading(&text_lines(&["2º BIMESTRE"])[0]), Some(2));
    }

    #[test]
    fn an_attendance_table_after_the_grades_counts_absences_per_term() {
        let row = |c: [&'static str; 5]| -> Vec<(&'static str, f64)> {
            vec![
                (c[0], 40.0),
                (c[1], 200.0),
                (c[2], 250.0),
                (c[3], 300.0),
                (c[4], 350.0),
            ]
        };
        for title in ["FREQUÊNCIA", ""] {
            let mut rows: Vec<Vec<(&str, f64)>> = vec![
                row(["Disciplina", "T1", "T2", "Média", "Resultado"]),
                row(["Matemática", "6,0", "8,0", "7,0", "Aprovado"]),
                row(["História", "7,5", "6,5", "7,0", "Aprovado"]),
                row(["Geografia", "9,0", "8,0", "8,5", "Aprovado"]),
            ];
            if !title.is_empty() {
                rows.push(vec![(title, 40.0)]);
            }
            rows.extend([
                row(["Disciplina", "T1", "T2", "Total", "% Freq."]),
                row(["Matemática", "1", "2", "3", "97,5"]),
                row(["História", "0", "4", "4", "96,0"]),
                row(["Geografia", "0", "0", "0", "100,0"]),
            ]);
            let p = parse_table(&rows);
            let got: Vec<_> = p
                .subjects
                .iter()
                .map(|s| {
                    let terms: Vec<_> = s.terms.iter().map(|t| t.grade).collect();
                    (s.code.as_str(), terms, s.absences, s.attendance_pct)
                })
                .collect();
            assert_eq!(
                got[..2],
                [
                    (
                        "matematica",
                        vec![Some(6.0), Some(8.0)],
                        Some(3),
                        Some(97.5)
                    ),
                    ("historia", vec![Some(7.5), Some(6.5)], Some(4), Some(96.0)),
                ],
                "title {title:?}"
            );
            assert_eq!(got.len(), 3);
        }
    }

    #[test]
    fn the_same_subject_twice_with_different_grades_stays_two() {
        let p = parse(
            &table_lines(&[
                &[("Componente", 40.0), ("1º Bim", 200.0), ("2º Bim", 260.0)],
                &[("Matemática", 40.0), ("6,0", 200.0), ("7,0", 260.0)],
                &[("Matemática", 40.0), ("9,0", 200.0), ("7,0", 260.0)],
            ]),
            None,
        );
        assert_eq!(p.subjects.len(), 2);
    }

    #[test]
    fn key_value_blocks_per_subject() {
        let p = parse(
            &text_lines(&[
                "BOLETIM ESCOLAR 2024",
                "Aluno: Rui Prado",
                "Disciplina: Matemática",
                "1º Bimestre: 8,0",
                "2º Bimestre: 7,0",
                "Média Final: 7,5",
                "Faltas: 4",
                "Componente Curricular: História",
                "1º Bimestre: 6,0",
                "2º Bimestre: -",
                "Média Final: 6,0",
            ]),
            None,
        );
        let got: Vec<_> = p
            .subjects
            .iter()
            .map(|s| (s.code.as_str(), s.final_grade, s.absences))
            .collect();
        assert_eq!(
            got,
            [
                ("matematica", Some(7.5), Some(4)),
                ("historia", Some(6.0), None)
            ]
        );
        assert_eq!(p.subjects[1].terms[1].grade, None);
    }

    #[test]
    fn recovery_and_final_columns() {
        let p = parse(
            &grid(&[
                "Disciplina|1ºB|2ºB|Média|Rec.|MF",
                "Matemática|4,0|5,0|4,5|6,0|6,0",
                "História|8,0|9,0|8,5|-|8,5",
            ]),
            None,
        );
        let m = &p.subjects[0];
        assert_eq!((m.final_grade, m.recovery_grade), (Some(6.0), Some(6.0)));
        assert_eq!(
            m.terms.iter().map(|t| t.grade).collect::<Vec<_>>(),
            [Some(4.0), Some(5.0)]
        );
        let h = &p.subjects[1];
        assert_eq!((h.final_grade, h.recovery_grade), (Some(8.5), None));
    }

    /// Table lines: cells split on `|`, the first at x = 40, the others
    /// every 50 pt from 200 (a line without `|` is one cell at 40).
    fn grid(rows: &[&str]) -> Vec<Line> {
        let mut words = Vec::new();
        for (n, row) in rows.iter().enumerate() {
            for (c, cell) in row.split('|').enumerate() {
                let mut x = if c == 0 {
                    40.0
                } else {
                    150.0 + 50.0 * c as f64
                };
                for t in cell.split_whitespace() {
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
        }
        crate::layout::lines(1, words)
    }

    /// Lines of several pages: `rows` per page, each page's y from the top.
    fn pages(pages: &[&[&str]]) -> Vec<Line> {
        let mut out = Vec::new();
        for (n, rows) in pages.iter().enumerate() {
            for mut l in grid(rows) {
                l.page = n as u32 + 1;
                out.push(l);
            }
        }
        out
    }

    #[test]
    fn continuation_pages_keep_the_column_model() {
        // A histórico split mid-table: page 2 repeats the title and the
        // year's heading, has a page footer, and no column header.
        let p = parse(
            &pages(&[
                &[
                    "HISTÓRICO ESCOLAR",
                    "Aluno: Ana Lima",
                    "Ano Letivo: 2022 - Série: 7º Ano",
                    "Disciplina|CH|Média|Faltas",
                    "Língua Portuguesa|160|7,5|4",
                    "Matemática|160|8,0|2",
                    "Página 1 de 2",
                ],
                &[
                    "HISTÓRICO ESCOLAR (continuação)",
                    "Ano Letivo: 2022 - Série: 7º Ano",
                    "História   80 6,5 0",
                    "Geografia   80 7,0 1",
                    "Ano Letivo: 2023 - Série: 8º Ano",
                    "Disciplina|CH|Média|Faltas",
                    "Matemática|160|9,0|0",
                ],
            ]),
            None,
        );
        assert_eq!(p.doc_type, Some(DocType::Historico));
        assert_eq!(p.years.len(), 2);
        let codes: Vec<_> = p.years[0]
            .subjects
            .iter()
            .map(|s| s.code.as_str())
            .collect();
        assert_eq!(
            codes,
            ["lingua-portuguesa", "matematica", "historia", "geografia"]
        );
        let g = &p.years[0].subjects[3];
        assert_eq!(
            (g.final_grade, g.absences, g.workload_hours),
            (Some(7.0), Some(1), Some(80))
        );
        assert_eq!(p.years[1].subjects.len(), 1);
    }

    #[test]
    fn space_aligned_monospaced_columns() {
        // A text export in a monospaced font: columns padded with spaces,
        // numbers right-aligned, one space between some of them.
        let mono = |rows: &[&str]| -> Vec<Line> {
            let mut words = Vec::new();
            for (n, row) in rows.iter().enumerate() {
                let chars: Vec<char> = row.chars().collect();
                let mut i = 0;
                while i < chars.len() {
                    if chars[i] == ' ' {
                        i += 1;
                        continue;
                    }
                    let start = i;
                    while i < chars.len() && chars[i] != ' ' {
                        i += 1;
                    }
                    words.push(crate::layout::Word {
                        text: chars[start..i].iter().collect(),
                        x0: 40.0 + start as f64 * 6.0,
                        x1: 40.0 + i as f64 * 6.0,
                        y: 100.0 + n as f64 * 12.0,
                        size: 10.0,
                        conf: 100.0,
                    });
                }
            }
            crate::layout::lines(1, words)
        };
        let p = parse(
            &mono(&[
                "COMPONENTE            B1   B2   B3   B4   MF  FT",
                "LINGUA PORTUGUESA    7,0  8,0 10,0  9,0  8,5   3",
                "MATEMATICA           6,0  5,5  7,0  6,5  6,3  12",
                "CIENCIAS              -   8,0  8,0  9,0  8,3   0",
            ]),
            None,
        );
        let got: Vec<_> = p
            .subjects
            .iter()
            .map(|s| {
                (
                    s.code.as_str(),
                    s.terms.iter().map(|t| t.grade).collect::<Vec<_>>(),
                    s.final_grade,
                    s.absences,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (
                    "lingua-portuguesa",
                    vec![Some(7.0), Some(8.0), Some(10.0), Some(9.0)],
                    Some(8.5),
                    Some(3)
                ),
                (
                    "matematica",
                    vec![Some(6.0), Some(5.5), Some(7.0), Some(6.5)],
                    Some(6.3),
                    Some(12)
                ),
                (
                    "ciencias",
                    vec![None, Some(8.0), Some(8.0), Some(9.0)],
                    Some(8.3),
                    Some(0)
                ),
            ]
        );
    }

    /// Lines of cells set at the given x (words of a cell 2.5 pt apart).
    fn cell_lines(rows: &[&[(&str, f64)]]) -> Vec<Line> {
        let mut words = Vec::new();
        for (n, row) in rows.iter().enumerate() {
            for (text, x) in row.iter() {
                let mut x = *x;
                for t in text.split(' ') {
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
        }
        crate::layout::lines(1, words)
    }

    #[test]
    fn years_as_rows_starting_with_the_year_are_rows_not_headings() {
        let at = [40.0, 80.0, 150.0, 250.0, 290.0, 330.0, 380.0];
        let row = |cells: [&'static str; 7]| -> Vec<(&'static str, f64)> {
            cells.iter().copied().zip(at).collect()
        };
        let rows = [
            row([
                "Ano",
                "Etapa",
                "Disciplina",
                "CH",
                "MF",
                "Freq. (%)",
                "Resultado",
            ]),
            row([
                "2022",
                "1ª Série",
                "Port.",
                "120",
                "7,8",
                "89,3",
                "APROVADO",
            ]),
            row(["2022", "1ª Série", "Mat.", "160", "6,0", "96,9", "Aprov."]),
            row(["2023", "2ª Série", "Port.", "80", "7,0", "90,2", "APROVADO"]),
            row(["2023", "2ª Série", "Mat.", "40", "7,7", "94,7", "Aprovado"]),
        ];
        let refs: Vec<&[(&str, f64)]> = rows.iter().map(Vec::as_slice).collect();
        let mut all = vec![crate::layout::lines(
            1,
            vec![crate::layout::Word {
                text: "HISTÓRICO".into(),
                x0: 40.0,
                x1: 90.0,
                y: 80.0,
                size: 10.0,
                conf: 100.0,
            }],
        )
        .remove(0)];
        all.extend(cell_lines(&refs));
        let p = parse(&all, None);
        assert_eq!(p.doc_type, Some(DocType::Historico));
        type YearRead = (Option<i32>, Option<String>, Vec<(String, Option<f64>)>);
        let got: Vec<YearRead> = p
            .years
            .iter()
            .map(|y| {
                (
                    y.year,
                    y.grade_level.clone(),
                    y.subjects
                        .iter()
                        .map(|s| (s.code.clone(), s.final_grade))
                        .collect(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (
                    Some(2022),
                    Some("1ª Série".into()),
                    vec![
                        ("lingua-portuguesa".into(), Some(7.8)),
                        ("matematica".into(), Some(6.0))
                    ]
                ),
                (
                    Some(2023),
                    Some("2ª Série".into()),
                    vec![
                        ("lingua-portuguesa".into(), Some(7.0)),
                        ("matematica".into(), Some(7.7))
                    ]
                ),
            ]
        );
    }
}

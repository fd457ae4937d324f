//! A block of rows per subject under one table header: the subject alone on
//! a line (maybe with its teacher, `MATEMÁTICA - PROF.(A) LETÍCIA`), then
//! rows of the header's columns named by what they hold rather than by a
//! subject: one per assessment (`Prova Mensal (peso 3)`, `Trabalho`), the
//! term means (`Média`), the absences (`Nº de Faltas`), the recovery, the
//! attendance. The subject's grades are the means row's; assessments are
//! read and dropped; absences are the row's total column, else the sum of
//! its terms.

use super::rows::Header;
use crate::layout::Line;
use crate::normalize::{fold, is_known_subject, number};
use crate::SubjectResult;

/// What a row inside a subject's block holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Grades,
    Absences,
    Attendance,
    Recovery,
    /// An assessment's own marks (`Prova`, `Trabalho`, `Simulado`): dropped.
    Assessment,
}

fn role(label: &str) -> Role {
    let f = fold(label.trim());
    let f = f.trim_start_matches(|c: char| !c.is_alphanumeric());
    let starts = |ps: &[&str]| ps.iter().any(|p| f.starts_with(p));
    // The class's or the school's figures are not the student's.
    let others = ["geral", "turma", "classe", "escola"]
        .iter()
        .any(|w| f.contains(w));
    if others {
        Role::Assessment
    } else if starts(&[
        "media",
        "nota final",
        "nota do periodo",
        "nota do bim",
        "nota bim",
        "md ",
    ]) || f == "md"
    {
        Role::Grades
    } else if starts(&["falta", "no de falta", "n de falta", "total de falta"])
        || f.contains("faltas")
    {
        Role::Absences
    } else if starts(&["freq", "de freq"]) {
        Role::Attendance
    } else if starts(&["rec", "exame"]) {
        Role::Recovery
    } else {
        Role::Assessment
    }
}

/// The subject a block's first line names: the whole line, or its head
/// before ` - Prof.`/`(Prof.`/`Professor` when that head is a component.
fn subject_line(line: &Line) -> Option<String> {
    let text = line.text();
    // (A scan's specks around it: `“FÍSICA - PROF.(A) …`.)
    let t = text
        .trim()
        .trim_matches(|c: char| !c.is_alphanumeric() && c != '.' && c != ')');
    if t.is_empty() || t.contains(':') || line.words.iter().any(|w| number(&w.text).is_some()) {
        return None;
    }
    if is_known_subject(t) {
        return Some(t.to_string());
    }
    let f = fold(t);
    let cut = [
        " - prof",
        " – prof",
        " — prof",
        " (prof",
        " prof.",
        " professor",
        " / prof",
    ]
    .iter()
    .filter_map(|m| f.find(m))
    .min()?;
    let (head, _) = crate::normalize::split_at_folded(t, &f, cut);
    let head = head
        .trim()
        .trim_end_matches(['-', '–', '—'])
        .trim()
        .trim_start_matches(|c: char| !c.is_alphanumeric());
    is_known_subject(head).then(|| head.to_string())
}

/// `Situação  Aprovado(a)`, `Resultado: Reprovado`: a result line.
fn result_line(line: &Line) -> Option<String> {
    let text = line.text();
    let f = fold(&text);
    let rest = ["situacao", "resultado", "sit.", "parecer"]
        .iter()
        .find_map(|p| f.strip_prefix(p))?;
    let rest = rest.trim_start_matches([':', ' ', '.', '-']);
    crate::normalize::status(rest)
}

/// Reads the block starting at `at`; `(subject, lines used, line of its
/// grades row)`. `None` unless the block has a grades row.
pub(crate) fn read(h: &Header, lines: &[Line], at: usize) -> Option<(SubjectResult, usize, usize)> {
    let name = subject_line(&lines[at])?;
    let mut grades: Option<(SubjectResult, usize)> = None;
    let mut absences: Option<u32> = None;
    let mut attendance: Option<f64> = None;
    let mut recovery: Option<f64> = None;
    let mut status: Option<String> = None;
    let mut j = at + 1;
    while let Some(line) = lines.get(j) {
        if line.page != lines[at].page || subject_line(line).is_some() {
            break;
        }
        // A scan's specks (`~~`, `|`) between the rows.
        if line.text().chars().filter(|c| c.is_alphanumeric()).count() <= 1 {
            j += 1;
            continue;
        }
        // The row's values under the header's columns, named after the
        // subject so the row reader takes a `Frequência` label as a name.
        let Some(row) = h.row_with_prefix(line, &name) else {
            // `Situação … Em recuperação`: the subject's result, no number.
            match result_line(line) {
                Some(s) => {
                    status = Some(s);
                    j += 1;
                    continue;
                }
                None => break,
            }
        };
        let Some(label) = row
            .name_original
            .strip_prefix(name.as_str())
            .map(|l| l.trim().to_string())
        else {
            break;
        };
        if label.is_empty() || is_known_subject(&label) {
            break;
        }
        let values: Vec<f64> = row.terms.iter().filter_map(|t| t.grade).collect();
        let total = row.final_grade.or(row.absences.map(f64::from));
        match role(&label) {
            Role::Grades if grades.is_none() => grades = Some((row, j)),
            Role::Absences => {
                let sum = (!values.is_empty() && values.iter().all(|v| v.fract() == 0.0))
                    .then(|| values.iter().sum::<f64>());
                absences = total
                    .or(sum)
                    .filter(|v| *v >= 0.0 && v.fract() == 0.0)
                    .map(|v| v as u32);
            }
            Role::Attendance => {
                attendance = total.or(row.attendance_pct).or(values.last().copied())
            }
            Role::Recovery => recovery = total.or(values.last().copied()),
            Role::Grades | Role::Assessment => {}
        }
        j += 1;
    }
    // A block is a means row and at least one other labelled row (an
    // assessment, the absences): a subject alone on its line followed by a
    // summary row (`Média Geral`) is no block.
    if j - at < 3 {
        return None;
    }
    let (mut s, line) = grades?;
    let (canonical, code) = crate::normalize::subject(&name);
    s.name = canonical;
    s.name_original = name;
    s.code = code;
    s.absences = absences.or(s.absences);
    s.attendance_pct = attendance
        .filter(|v| (0.0..=100.0).contains(v))
        .or(s.attendance_pct);
    s.recovery_grade = recovery.or(s.recovery_grade);
    s.status = status.or(s.status);
    Some((s, j - at, line))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::words_at;
    use crate::parse::rows;

    fn line(y: f64, cells: &[(&str, f64)]) -> Line {
        crate::layout::lines(1, words_at(cells, y)).remove(0)
    }

    #[test]
    fn a_subject_block_takes_its_means_row_and_totals_its_absences() {
        let head = line(
            100.0,
            &[
                ("Disciplina", 40.0),
                ("1º Bim", 200.0),
                ("2º Bim", 260.0),
                ("Média Final", 330.0),
            ],
        );
        let h = rows::header(&head).unwrap();
        let lines = vec![
            line(120.0, &[("MATEMÁTICA - PROF.(A) LETÍCIA MAGALHÃES", 40.0)]),
            line(
                132.0,
                &[("Prova (peso 3)", 50.0), ("4,8", 200.0), ("7,3", 260.0)],
            ),
            line(
                144.0,
                &[
                    ("Média", 50.0),
                    ("5,1", 200.0),
                    ("6,9", 260.0),
                    ("6,0", 330.0),
                ],
            ),
            line(156.0, &[("Nº de Faltas", 50.0), ("4", 200.0), ("1", 260.0)]),
            line(168.0, &[("Situação", 50.0), ("Em recuperação", 330.0)]),
            line(180.0, &[("HISTÓRIA", 40.0)]),
        ];
        let (s, used, at) = read(&h, &lines, 0).unwrap();
        assert_eq!((s.code.as_str(), used, at), ("matematica", 5, 2));
        assert_eq!(s.status.as_deref(), Some("recuperação"));
        let terms: Vec<_> = s.terms.iter().map(|t| t.grade).collect();
        assert_eq!(terms, vec![Some(5.1), Some(6.9)]);
        assert_eq!((s.final_grade, s.absences), (Some(6.0), Some(5)));
        // No means row: not a block.
        assert!(read(&h, &lines[..2], 0).is_none());
        // A subject alone then the class's summary row: not a block.
        let summary = vec![
            line(120.0, &[("ENSINO RELIGIOSO", 40.0)]),
            line(
                132.0,
                &[("Média Geral", 50.0), ("7,1", 200.0), ("7,3", 260.0)],
            ),
            line(144.0, &[("Total de Faltas", 50.0), ("12", 330.0)]),
        ];
        assert!(read(&h, &summary, 0).is_none());
    }
}

//! Históricos written as running text (a certidão de estudos): `Em 2019,
//! cursou o 8º Ano com as médias finais: Língua Portuguesa: 6,5; Matemática
//! 8,7; …; frequência de 84,4%; resultado: aprovado.` One clause per school
//! year, opened by a year after `em`/`de`/`letivo`; in it each grade is the
//! number after a component's name (the longest run of words before it the
//! lexicon knows), the percentage is the year's attendance and the result
//! word after the grades its result. The student's own sentence
//! (`Certificamos que NOME, nascido(a) em 28/06/2005, … RA 9198…`) gives the
//! header fields no label gave. A clause must say the year was studied
//! (`cursou`, `concluiu`, `obteve`, …); the parser takes these years only
//! when they give more grades than its tables did, for a named student.

use super::fields::{year, Header};
use super::rows::build;
use super::rows::Col;
use super::yearcols::level;
use crate::normalize::{date, fold, is_known_subject, number, status};
use crate::YearRecord;

/// Words that may stand between a component's name and its grade.
const FILLER: &[&str] = &[
    "nota", "media", "com", "de", "=", "-", "–", "obteve", "conceito",
];

fn bare(w: &str) -> &str {
    w.trim_matches(|c: char| matches!(c, ';' | ',' | '.' | ')' | '(' | ':'))
}

/// A year that opens a clause: after `em`, `de`, `letivo`, `ano`.
fn opens_year(words: &[&str], i: usize) -> Option<i32> {
    let w = words[i];
    let b = bare(w);
    if b.len() != 4 || i == 0 {
        return None;
    }
    let prev = fold(bare(words[i - 1]));
    ["em", "de", "letivo", "ano"]
        .contains(&prev.as_str())
        .then(|| year(b))
        .flatten()
}

/// One year's clause read: its record, when it gave two grades or more.
fn clause(y: i32, words: &[&str]) -> Option<YearRecord> {
    let mut subjects = Vec::new();
    let mut last_grade = 0;
    let mut attendance = None;
    for (i, w) in words.iter().enumerate() {
        let b = bare(w);
        if b.ends_with('%') || words.get(i + 1).is_some_and(|n| n.starts_with('%')) {
            if let Some(v) = number(b.trim_end_matches('%')).filter(|v| (0.0..=100.0).contains(v)) {
                attendance.get_or_insert(v);
            }
            continue;
        }
        let Some(v) = number(b) else { continue };
        if !(0.0..=100.0).contains(&v) || year(b).is_some() {
            continue;
        }
        // The name: the words before the number back to the previous
        // delimiter (`;`, `:` after another name's words, or a number).
        let mut name: Vec<&str> = Vec::new();
        let mut k = i;
        while k > 0 && name.len() < 7 {
            k -= 1;
            let p = words[k];
            if number(bare(p)).is_some() || (k + 1 < i && (p.ends_with(';') || p.ends_with(':'))) {
                break;
            }
            name.insert(0, bare(p));
            if p.ends_with(';') {
                break;
            }
        }
        while name
            .last()
            .is_some_and(|l| FILLER.contains(&fold(l).as_str()))
        {
            name.pop();
        }
        let found = (0..name.len()).find_map(|s| {
            let t = name[s..].join(" ");
            is_known_subject(&t).then_some(t)
        });
        if let Some(n) = found {
            subjects.push(build(&n, &[], vec![(Col::Final, b.to_string(), 100.0)]));
            last_grade = i;
        }
    }
    // A year names each component once: a clause with repeats is a list of
    // several students' marks (a class council's minutes), not a record.
    let mut codes: Vec<&str> = subjects.iter().map(|s| s.code.as_str()).collect();
    codes.sort_unstable();
    codes.dedup();
    if subjects.len() < 2 || codes.len() < subjects.len() {
        return None;
    }
    // The clause says the year was studied.
    let said = words.iter().any(|w| {
        let f = fold(bare(w));
        [
            "cursou",
            "concluiu",
            "obteve",
            "obtendo",
            "frequentou",
            "cursando",
            "cursada",
            "cursado",
            "concluida",
            "concluido",
        ]
        .contains(&f.as_str())
    });
    if !said {
        return None;
    }
    // The result after `resultado`/`situação` when the clause names it
    // (`submetido a exame final; resultado: aprovado`), else the first
    // result word after the grades.
    let after = &words[last_grade + 1..];
    let labelled = after
        .iter()
        .position(|w| matches!(fold(bare(w)).as_str(), "resultado" | "situacao"))
        .map_or(after, |k| &after[k + 1..]);
    let status = labelled
        .iter()
        .find_map(|w| status(bare(w)).filter(|_| !bare(w).is_empty()));
    let text = words.join(" ");
    Some(YearRecord {
        year: Some(y),
        grade_level: level(&text).map(|l| l.trim_end_matches([',', ';', '.']).to_string()),
        school_name: None,
        subjects,
        overall_attendance_pct: attendance,
        status,
    })
}

/// The year records of a running text, in order.
pub(crate) fn years(text: &str) -> Vec<YearRecord> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let starts: Vec<(usize, i32)> = (0..words.len())
        .filter_map(|i| opens_year(&words, i).map(|y| (i, y)))
        .collect();
    starts
        .iter()
        .enumerate()
        .filter_map(|(k, (at, y))| {
            let end = starts.get(k + 1).map_or(words.len(), |s| s.0);
            clause(*y, &words[at + 1..end])
        })
        .collect()
}

/// Header fields from the student's sentence, where no label gave them.
pub(crate) fn header(text: &str, h: &mut Header) {
    let words: Vec<&str> = text.split_whitespace().collect();
    let folded: Vec<String> = words.iter().map(|w| fold(bare(w))).collect();
    for i in 0..words.len() {
        let f = folded[i].as_str();
        let next = |k: usize| words.get(i + k).map(|w| bare(w));
        // `Certificamos que NOME,`: the name up to the comma.
        if h.name.is_none()
            && f == "que"
            && i > 0
            && [
                "certificamos",
                "atestamos",
                "declaramos",
                "certifico",
                "atesto",
                "declaro",
            ]
            .contains(&folded[i - 1].as_str())
        {
            // (`que o(a) aluno(a) FULANO,`: the article and the role go.)
            let mut name = Vec::new();
            let mut ended = false;
            for w in &words[i + 1..] {
                let f = fold(w.trim_end_matches(','));
                if name.is_empty()
                    && [
                        "o",
                        "a",
                        "o(a)",
                        "aluno",
                        "aluna",
                        "aluno(a)",
                        "estudante",
                        "o(a)aluno(a)",
                    ]
                    .contains(&f.as_str())
                {
                    continue;
                }
                name.push(w.trim_end_matches(','));
                if w.ends_with(',') {
                    ended = true;
                    break;
                }
                if name.len() >= 8 {
                    break;
                }
            }
            let n = name.join(" ");
            if ended && n.split_whitespace().count() >= 2 && !n.chars().any(|c| c.is_ascii_digit())
            {
                h.name = Some(n);
            }
        }
        if h.birth_date.is_none() && (f.starts_with("nascid") || f == "nasc") {
            if let Some(d) = (1..=2).filter_map(next).find(|t| date(t).is_some()) {
                h.birth_date = date(d);
                h.birth_date_raw = Some(d.to_string());
            }
        }
        // `RA 9198…`, `matrícula nº 3598412`, `código de aluno 2962…`.
        let reg_label = matches!(f, "ra" | "matricula" | "rm")
            || (f == "aluno" && i > 1 && folded[i - 2] == "codigo");
        if h.registration.is_none() && reg_label {
            if let Some(v) = (1..=2).filter_map(next).find(|t| {
                let d = t.chars().filter(char::is_ascii_digit).count();
                d >= 5 && d * 10 >= t.chars().count() * 8 && date(t).is_none()
            }) {
                h.registration = Some(v.to_string());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_clause_per_year_with_its_grades_attendance_and_result() {
        let text = "Certificamos que CAMILA PEREIRA, nascido(a) em 28/06/2005, natural de Contagem/MG, \
            RA 919898393500, cursou os anos abaixo: Em 2018, cursou o 7º Ano com as médias finais: \
            Língua Portuguesa: 6.7; LEM - Inglês: 5.0; Matemática 5,5; frequência de 86,9%; \
            resultado: aprovado. Em 2019, concluiu o 8º Ano obtendo: Português: 8,0; História nota 7,5; \
            Arte: 9,0; resultado: promovido(a). Porto Alegre, 2 de julho de 2021.";
        let ys = years(text);
        assert_eq!(ys.len(), 2, "the date's year gives no record");
        let minutes = "Aos 19 dias do mês de janeiro de 2021: Larissa Mat. 4,0; Inglês 4,6. Yasmin Mat. 3,1; História 2,8.";
        assert!(
            years(minutes).is_empty(),
            "several students' marks are no year"
        );
        let codes: Vec<(&str, Option<f64>)> = ys[0]
            .subjects
            .iter()
            .map(|s| (s.code.as_str(), s.final_grade))
            .collect();
        assert_eq!(
            codes,
            [
                ("lingua-portuguesa", Some(6.7)),
                ("lingua-inglesa", Some(5.0)),
                ("matematica", Some(5.5))
            ]
        );
        assert_eq!(ys[0].grade_level.as_deref(), Some("7º Ano"));
        assert_eq!(
            (ys[0].overall_attendance_pct, ys[0].status.as_deref()),
            (Some(86.9), Some("aprovado"))
        );
        assert_eq!(ys[1].subjects[1].final_grade, Some(7.5));
        assert_eq!(ys[1].status.as_deref(), Some("promovido"));
        let mut h = Header::default();
        header(text, &mut h);
        assert_eq!(h.name.as_deref(), Some("CAMILA PEREIRA"));
        assert_eq!(h.birth_date.as_deref(), Some("2005-06-28"));
        assert_eq!(h.registration.as_deref(), Some("919898393500"));
        // The article and the role before the name go; a book's `Registro` is no code.
        let mut h = Header::default();
        header(
            "Declaramos que o(a) aluno(a) FULANO DA SILVA, Registro nº 12345, Livro 3",
            &mut h,
        );
        assert_eq!(
            (h.name.as_deref(), h.registration),
            (Some("FULANO DA SILVA"), None)
        );
        // The result the clause names, not the exam it mentions.
        let ys = years("Em 2020, cursou o 9º Ano: Matemática 5,0; História 6,0; Arte 7,0; submetido a exame final; resultado: aprovado.");
        assert_eq!(ys[0].status.as_deref(), Some("aprovado"));
        // A clause that does not say the year was studied gives nothing.
        assert!(years("Em 2020: Matemática 5,0; História 6,0; Arte 7,0.").is_empty());
    }
}

//! Is it a boletim or histórico at all? A document is accepted only with
//! positive evidence — at least [`MIN_KNOWN_SUBJECTS`] subjects from the
//! curriculum lexicon carrying grades — and no stronger evidence that it is
//! something else: the vocabulary of invoices (NFS-e, boletos), receipts,
//! contracts, timetables and declarations. Anything else fails with
//! `not_a_transcript` and nothing is written (issue 14: an NFS-e for the
//! tuition was once read as a boletim).

use crate::normalize::{fold, is_known_subject};
use crate::{ExtractError, Extraction, SubjectResult};

/// Distinct lexicon subjects with a grade needed to call it a transcript.
pub const MIN_KNOWN_SUBJECTS: usize = 3;

/// Letters on the pages above which a document without grades or a
/// transcript's vocabulary is called something else (below: a blank or
/// damaged page, `no_grades`).
const MIN_LETTERS_OTHER: usize = 200;

/// Phrases of non-academic documents (folded). Two or more of them, and the
/// document is refused unless its grade grid is overwhelming.
const OTHER: &[&str] = &[
    "nota fiscal",
    "nfs-e",
    "nfse",
    "danfe",
    "prestador de servico",
    "tomador de servico",
    "codigo de verificacao",
    "discriminacao dos servicos",
    "valor total",
    "valor do servico",
    "valor do iss",
    "base de calculo",
    "aliquota",
    "inscricao municipal",
    "fatura",
    "boleto",
    "vencimento",
    "nosso numero",
    "linha digitavel",
    "cedente",
    "sacado",
    "total a pagar",
    "recibo",
    "recebemos de",
    "a importancia de",
    "contrato",
    "contratante",
    "contratada",
    "clausula",
    "horario de aulas",
    "declaracao de matricula",
    "declaramos que",
    "regularmente matriculad",
    "mensalidade",
    "r$",
];

/// Words of report cards and transcripts (folded).
const ACADEMIC: &[&str] = &[
    "boletim",
    "historico escolar",
    "bimestre",
    "trimestre",
    "media final",
    "componente curricular",
    "disciplina",
    "frequencia",
    "resultado final",
];

fn known_graded(subjects: &[SubjectResult]) -> Vec<String> {
    let mut codes: Vec<String> = subjects
        .iter()
        .filter(|s| is_known_subject(&s.name_original))
        .filter(|s| s.final_grade.is_some() || s.terms.iter().any(|t| t.grade.is_some()))
        .map(|s| s.code.clone())
        .collect();
    codes.sort();
    codes.dedup();
    codes
}

/// `Ok` when `x` (read from pages whose text is `text`) is a transcript.
pub(crate) fn gate(x: &Extraction, text: &str) -> Result<(), ExtractError> {
    let f = fold(text);
    let others: Vec<&str> = OTHER.iter().copied().filter(|p| f.contains(p)).collect();
    let academic = ACADEMIC.iter().filter(|p| f.contains(*p)).count();
    let mut best = known_graded(&x.subjects).len();
    for y in &x.years {
        best = best.max(known_graded(&y.subjects).len());
    }
    if others.len() >= 2 && (academic < 2 || best < 5 || others.len() > academic) {
        return Err(ExtractError::new(
            "not_a_transcript",
            format!(
                "this looks like another kind of document ({}), not a boletim or histórico; nothing was written",
                others.iter().take(4).copied().collect::<Vec<_>>().join(", ")
            ),
        ));
    }
    let read_any = !x.subjects.is_empty() || x.years.iter().any(|y| !y.subjects.is_empty());
    if !read_any && !others.is_empty() {
        return Err(ExtractError::new(
            "not_a_transcript",
            format!(
                "no grades, and this looks like another kind of document ({}); nothing was written",
                others
                    .iter()
                    .take(4)
                    .copied()
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    // Nothing read, from pages with text but not a transcript's words (a
    // menu, a timetable, a medical certificate, an attendance list):
    // something else, not an unreadable transcript.
    let letters = f.chars().filter(|c| c.is_alphabetic()).count();
    if !read_any && academic < 2 && letters >= MIN_LETTERS_OTHER {
        return Err(ExtractError::new(
            "not_a_transcript",
            "no grades and hardly a word of a boletim or histórico (boletim, disciplina, bimestre, média final…); nothing was written",
        ));
    }
    // Nothing read at all is the job's `no_grades` (a blank or damaged page,
    // or a transcript whose grid could not be read).
    if read_any && best < MIN_KNOWN_SUBJECTS {
        return Err(ExtractError::new(
            "not_a_transcript",
            format!(
                "no grade grid of school subjects was found ({best} known subject(s) with grades; at least {MIN_KNOWN_SUBJECTS} are needed); is it a boletim or histórico, and is it complete?"
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DocType, Method, School, Student, TermGrade};

    fn x(names: &[&str]) -> Extraction {
        let subjects = names
            .iter()
            .map(|n| {
                let (name, code) = crate::normalize::subject(n);
                SubjectResult {
                    name,
                    name_original: n.to_string(),
                    code,
                    terms: vec![TermGrade {
                        term: 1,
                        grade: Some(8.5),
                        raw: Some("8,5".into()),
                        confidence: Some(100.0),
                    }],
                    final_grade: None,
                    recovery_grade: None,
                    absences: None,
                    attendance_pct: None,
                    status: None,
                    workload_hours: None,
                }
            })
            .collect();
        Extraction {
            document_id: None,
            doc_type: DocType::Boletim,
            pages: 1,
            method: Method::Text,
            confidence: 100.0,
            student: Student::default(),
            school: School::default(),
            year: Some(2024),
            subjects,
            years: vec![],
            overall_attendance_pct: None,
            warnings: vec![],
            page_info: vec![],
            needs_review: false,
            review_reasons: vec![],
        }
    }

    #[test]
    fn only_grade_grids_of_subjects_pass() {
        let grid = x(&["Matemática", "Português", "História", "Geografia"]);
        assert!(gate(&grid, "BOLETIM ESCOLAR\nDisciplina 1º Bim").is_ok());
        // The NFS-e of issue 14: a "subject" row and a few numbers.
        let nfse = x(&["Número da Parcela"]);
        let e = gate(
            &nfse,
            "NOTA FISCAL DE SERVIÇOS ELETRÔNICA - NFS-e\nTomador de Serviços",
        )
        .unwrap_err();
        assert_eq!(e.code, "not_a_transcript");
        let e = gate(&nfse, "Documento").unwrap_err();
        assert_eq!(e.code, "not_a_transcript");
        // Invoice vocabulary beats a few subject-like lines.
        let e = gate(&grid, "Fatura\nVencimento: 10/04\nValor total R$ 1.250,00").unwrap_err();
        assert!(e.message.contains("fatura"), "{e}");
        // Nothing read at all is left to the job's `no_grades`.
        assert!(gate(&x(&[]), "página em branco").is_ok());
        // ...and so is a transcript whose grid could not be read; a page of
        // other words without grades is something else.
        let unread = "HISTÓRICO ESCOLAR\nDisciplina CH MF Frequência\n".repeat(8);
        assert!(gate(&x(&[]), &unread).is_ok());
        let menu = "Cardápio da semana: arroz, feijão, salada de alface e tomate, frango assado. "
            .repeat(5);
        let e = gate(&x(&[]), &menu).unwrap_err();
        assert_eq!(e.code, "not_a_transcript");
    }
}

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
    /// The recovery exam (`Rec.`, `Recuperação`, `Exame Final`).
    Recovery,
    Absences,
    Attendance,
    Status,
    Workload,
    /// A code before the subject (`Código`: `MAT01`): not part of the name.
    Code,
    /// A histórico's school year on each row (`Ano`: `2021`), years as rows.
    Year,
    /// The grade level on each row (`Série`, `Etapa`: `6º Ano`).
    Level,
    /// A column read and dropped (a term's own `Faltas` under `1º Bim`).
    Skip,
    /// A term's own absences (`Faltas T1`): read and dropped, like `Skip`,
    /// but it makes a following `Total` the absences' total.
    TermAbsences,
    /// The teacher's name beside the subject (`Professor(a)`): text left of
    /// the values that is not part of the subject's name.
    Teacher,
    /// The curriculum area before the subject (`Área`: `LINGUAGENS`, `MAT`).
    Area,
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
    // `M. Anual` (compacted it would read `manual`).
    if matches!(
        fold(text.trim()).as_str(),
        "m. anual" | "m.anual" | "m anual"
    ) {
        return Some(Col::Final);
    }
    let c = compact(text);
    kind(&c).or_else(|| {
        // OCR reads `1` as `l`, `I` or `|` ("Bl:").
        // A final `i` after a letter too (`AVi` for `AV1`).
        let n = c.chars().count();
        let fixed: String = c
            .chars()
            .enumerate()
            .map(|(i, ch)| {
                if matches!(ch, 'l' | '|' | '!') || (ch == 'i' && i + 1 == n && i > 0) {
                    '1'
                } else {
                    ch
                }
            })
            .collect();
        match kind(&fixed) {
            Some(Col::Term(n)) if fixed != c => Some(Col::Term(n)),
            // Roman terms read with `l`/`1`/`|` for `I` (`ll Unidade`, `1V Bim`).
            _ => {
                let ones = fixed
                    .chars()
                    .take_while(|&ch| ch == '1' || ch == 'i')
                    .count();
                let (n, rest) = match fixed.get(ones..ones + 1) {
                    Some("v") if ones == 1 => (4, &fixed[2..]),
                    _ => (ones, &fixed[ones..]),
                };
                let roman_words = [
                    "bim",
                    "bimestre",
                    "trim",
                    "trimestre",
                    "etapa",
                    "unid",
                    "unidade",
                ];
                ((2..=4).contains(&n) && roman_words.contains(&rest)).then_some(Col::Term(n as u8))
            }
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
        "aval",
        "avaliacao",
        "n",
        "nota",
        "e",
        "p",
        "per",
        "periodo",
        "bi",
        "tr",
        "ciclo",
        // `S1 | S2`: semesters.
        "s",
    ];
    // `Nota 1º Bim.`, `Média do 2º Trimestre`: the term's grade.
    for p in ["notado", "nota", "mediado", "media"] {
        if let Some(Col::Term(n)) = c.strip_prefix(p).filter(|r| !r.is_empty()).and_then(kind) {
            return Some(Col::Term(n));
        }
    }
    // `Faltas T1`, `Faltas do 2º Trim.`: a term's own absences, read and
    // dropped (the year's total has a column of its own).
    for p in ["faltasdo", "faltasno", "faltas", "falta"] {
        if let Some(Col::Term(_)) = c.strip_prefix(p).filter(|r| !r.is_empty()).and_then(kind) {
            return Some(Col::TermAbsences);
        }
    }
    let mut digits: Vec<char> = c.chars().filter(char::is_ascii_digit).collect();
    // OCR reads the ordinal mark of `1ª`/`2º` as a `2` or `9` (`12 ETAPA`,
    // `22ETAPA`): a digit, then that mark, then a term word.
    if digits.len() == 2
        && matches!(digits[1], '2' | '9')
        && c.starts_with(digits[0])
        && c[1..].starts_with(digits[1])
    {
        digits.truncate(1);
    }
    if digits.len() == 1 && ('1'..='4').contains(&digits[0]) {
        let rest: String = c.chars().filter(|ch| !ch.is_ascii_digit()).collect();
        if term_words.contains(&rest.as_str()) {
            return Some(Col::Term(digits[0] as u8 - b'0'));
        }
        // `RS1`, `Rec. 2`, `RP1`: a semester's or term's own recovery,
        // read and dropped (the final grade counts it).
        if ["rs", "rec", "recs", "recsem", "rp", "recup", "recuperacao"].contains(&rest.as_str()) {
            return Some(Col::Skip);
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
        | "componente"
        | "componentes"
        | "areadeconhecimento"
        | "disciplinacurricular"
        | "unidadecurricular"
        | "unidadescurriculares" => Col::Name,
        "media"
        | "mediafinal"
        | "mf"
        | "notafinal"
        | "mediaanual"
        | "ma"
        | "mediageral"
        | "nota"
        | "notas"
        | "mfinal"
        | "nf"
        | "mediaaposrec"
        | "mediaposrec"
        | "mediaaposrecuperacao"
        | "mediaaprec"
        | "mfa"
        | "mediafinalanual"
        | "mediadoano"
        | "notaanual"
        | "resultadonota"
        | "mdfinal"
        | "mdf"
        | "med"
        | "medfinal"
        | "medfin"
        | "medanual"
        | "mb"
        | "mediabimestral"
        | "mediabim"
        | "mediatrimestral"
        | "mt"
        | "mediadobimestre"
        | "mediadotrimestre"
        | "mediaponderada"
        | "medias"
        | "mediasfinais"
        | "notasfinais"
        | "notasmedias"
        | "mediasnotas"
        | "mp" => Col::Final,
        "rec"
        | "recup"
        | "recuperacao"
        | "notarec"
        | "notarecuperacao"
        | "recfinal"
        | "recuperacaofinal"
        | "rf"
        | "exame"
        | "examefinal"
        | "exfinal"
        | "ex"
        | "recanual"
        | "recuperacaoanual"
        | "provafinal"
        | "pf"
        | "ef"
        | "recparalela"
        | "recuperacaoparalela" => Col::Recovery,
        // Letter concepts (`A`-`E`) are not grades; aulas dadas are not hours.
        // `1ª Etapa | C`: a term's letter concept beside its grade.
        "conceito" | "conceitofinal" | "cf" | "conc" | "conceitos" | "c" | "ad" | "aulasdadas"
        | "aulas" | "no" | "ordem" => Col::Skip,
        "ano" | "anoletivo" | "anos" => Col::Year,
        "serie" | "etapa" | "anoserie" | "serieano" | "nivel" => Col::Level,
        "faltas" | "f" | "fts" | "flts" | "horasdefalta" | "horasfalta" | "totaldefaltas"
        | "tf" | "nfaltas" | "faltastotal" | "totalfaltas" | "ft" | "fal" | "flt" | "faltasano"
        | "qtdfaltas" | "nodefaltas" | "ausencias" | "faltasanuais" => Col::Absences,
        "freq" | "frequencia" | "freq%" | "frequencia%" | "%freq" | "%" | "%frequencia"
        | "%defrequencia" | "frequenciafinal" | "%f" | "fr" | "fr%" | "freqfinal"
        | "frequenciaanual" | "freqanual" | "percfreq" => Col::Attendance,
        "situacao" | "resultado" | "sit" | "res" | "resultadofinal" | "situacaofinal"
        | "sitfinal" | "resfinal" | "parecer" | "parecerfinal" => Col::Status,
        "ch" | "horas" | "horasanuais" | "cargahoraria" | "cht" | "chanual"
        | "cargahorariaanual" | "chtotal" | "cargahor" | "ha" | "horasaula" | "aulasprevistas"
        | "chs" | "chanuals" => Col::Workload,
        "codigo" | "cod" | "cd" | "codigodadisciplina" | "coddisc" => Col::Code,
        "professor"
        | "professora"
        | "professores"
        | "prof"
        | "profa"
        | "docente"
        | "docentes"
        | "nomedoprofessor"
        | "professorresponsavel" => Col::Teacher,
        "area" | "areas" => Col::Area,
        _ => return None,
    })
}

/// A table header: its columns with their x centres.
#[derive(Debug, Clone)]
pub(crate) struct Header {
    pub cols: Vec<(Col, f64)>,
    /// The page the header was printed on: rows on a later page (a
    /// continuation without its own header) may be set at other x.
    pub page: u32,
}

/// Reads `line` as a table header: at least two data columns, one of them
/// grades, or a name column plus one data column.
pub(crate) fn header(line: &Line) -> Option<Header> {
    // `key:` pairs mean a data line (a line-layout row), not a header (a
    // lone `:` or `|` is a rule's remnant on a scan).
    if line
        .words
        .iter()
        .any(|w| w.text.ends_with(':') && w.text.chars().any(char::is_alphanumeric))
    {
        return None;
    }
    // So do values; but OCR turns a label into digits now and then (`T3`
    // read `73`): one bare integer among many column names is tolerated
    // below, never a decimal (a grade).
    // (`1 Unidade`, `111 Unidade`: a roman term OCR read as ones is no value.)
    let numbers: Vec<&str> = line
        .words
        .iter()
        .enumerate()
        .filter(|(i, w)| {
            number(&w.text).is_some()
                && !line.words.get(i + 1).is_some_and(|n| {
                    matches!(
                        column_kind(&format!("{} {}", w.text, n.text)),
                        Some(Col::Term(_))
                    )
                })
        })
        .map(|(_, w)| w.text.as_str())
        .collect();
    if numbers.len() > 1
        || numbers
            .iter()
            .any(|t| !t.chars().all(|c| c.is_ascii_digit()) || t.len() > 2)
    {
        return None;
    }
    let mut cols = Vec::new();
    // Cells naming no column: candidates for a term label OCR garbled.
    let mut unknown: Vec<(String, f64)> = Vec::new();
    let mut term_labels: Vec<String> = Vec::new();
    for cell in &line.cells {
        if let Some(k) = column_kind(&cell.text) {
            if matches!(k, Col::Term(_)) {
                term_labels.push(compact(&cell.text));
            }
            cols.push((k, cell.center()));
            continue;
        }
        // Narrow columns can merge in one cell: try word by word, pairing
        // an ordinal with the next word ("1º Bim").
        let words: Vec<crate::layout::Word> = line
            .words
            .iter()
            .filter(|w| w.x0 >= cell.x0 - 0.01 && w.x1 <= cell.x1 + 0.01)
            .flat_map(unglue)
            .collect();
        let mut i = 0;
        while i < words.len() {
            // `Rec. 1º Sem.`: three words naming one column that is no term
            // (read in pairs, `Sem. 3º` would take the next term's place).
            if i + 2 < words.len() {
                let three = format!(
                    "{} {} {}",
                    words[i].text,
                    words[i + 1].text,
                    words[i + 2].text
                );
                if let Some(k) = column_kind(&three).filter(|k| !matches!(k, Col::Term(_))) {
                    cols.push((k, (words[i].x0 + words[i + 2].x1) / 2.0));
                    i += 3;
                    continue;
                }
            }
            if i + 1 < words.len() {
                let two = format!("{} {}", words[i].text, words[i + 1].text);
                if let Some(k) = column_kind(&two) {
                    if matches!(k, Col::Term(_)) {
                        term_labels.push(compact(&two));
                    }
                    cols.push((k, (words[i].x0 + words[i + 1].x1) / 2.0));
                    i += 2;
                    continue;
                }
            }
            match column_kind(&words[i].text) {
                Some(k) => {
                    if matches!(k, Col::Term(_)) {
                        term_labels.push(compact(&words[i].text));
                    }
                    cols.push((k, (words[i].x0 + words[i].x1) / 2.0))
                }
                None => unknown.push((words[i].text.clone(), (words[i].x0 + words[i].x1) / 2.0)),
            }
            i += 1;
        }
    }
    // A title in one run of text (`Boletim de Notas e Frequência`) is no
    // header: a header spreads its columns apart or names its subjects'.
    if line.cells.len() == 1 && !unknown.is_empty() && !cols.iter().any(|(k, _)| *k == Col::Name) {
        return None;
    }
    if !numbers.is_empty() {
        // The tolerated number must be a garbled label of a real header:
        // a name column and at least three other columns read.
        let named = cols.iter().any(|(k, _)| *k == Col::Name);
        let others = cols.iter().filter(|(k, _)| *k != Col::Name).count();
        if !named || others < 3 {
            return None;
        }
    }
    absences_total(&mut cols, unknown.iter().map(|(t, x)| (t.as_str(), *x)));
    cols.sort_by(|a, b| a.1.total_cmp(&b.1));
    complete_terms(&mut cols, &unknown, &term_labels);
    renumber_terms(&mut cols);
    let data = cols
        .iter()
        .filter(|(k, _)| !matches!(k, Col::Name | Col::Code))
        .count();
    let grades = cols
        .iter()
        .filter(|(k, _)| matches!(k, Col::Term(_) | Col::Final))
        .count();
    let named = cols.iter().any(|(k, _)| *k == Col::Name);
    if (data >= 2 && grades >= 1) || (named && data >= 1) {
        Some(Header {
            cols: one_final(cols),
            page: line.page,
        })
    } else {
        None
    }
}

/// A table of attendance (`FREQUÊNCIA` over `Disciplina | T1 | T2 | T3 |
/// Total | % Freq.`): its term columns are each term's absences, its
/// `Total` their sum.
pub(crate) fn as_attendance_table(mut h: Header, line: &Line) -> Header {
    for (k, _) in h.cols.iter_mut() {
        if matches!(k, Col::Term(_)) {
            *k = Col::TermAbsences;
        }
    }
    absences_total(
        &mut h.cols,
        line.cells.iter().map(|c| (c.text.as_str(), c.center())),
    );
    h.cols.sort_by(|a, b| a.1.total_cmp(&b.1));
    h
}

/// `Faltas T1 | Faltas T2 | Total`: the one `Total` cell right of the last
/// term's absences is their total (none when the header already has an
/// absences column, or two `Total` cells stand there).
fn absences_total<'a>(cols: &mut Vec<(Col, f64)>, cells: impl Iterator<Item = (&'a str, f64)>) {
    let Some(last) = cols
        .iter()
        .filter(|(k, _)| *k == Col::TermAbsences)
        .map(|c| c.1)
        .reduce(f64::max)
    else {
        return;
    };
    if cols.iter().any(|(k, _)| *k == Col::Absences) {
        return;
    }
    let totals: Vec<f64> = cells
        .filter(|(t, x)| compact(t) == "total" && *x > last)
        .map(|(_, x)| x)
        .collect();
    if let [x] = totals[..] {
        cols.push((Col::Absences, x));
    }
}

/// Term labels OCR garbled (`T1 T2 T3` read `Ti T2 73`, `1º Bim` read
/// `lº Bim`): term columns are consecutive and evenly spaced, so an
/// unreadable cell exactly where the sequence has a hole (between two read
/// terms), or one step before the first read term (when it is not term 1)
/// or after the last, at the terms' spacing (±25 %) and no further than
/// the next read column, is that term. Inside the sequence any short cell
/// (1-12 letters or digits) counts; outside it, only one shaped like the
/// read labels (their length ±1, and a digit or their first letter): a
/// `Méd. Anual` after the last term is not a term.
fn complete_terms(cols: &mut Vec<(Col, f64)>, unknown: &[(String, f64)], labels: &[String]) {
    let terms: Vec<(u8, f64)> = cols
        .iter()
        .filter_map(|(k, x)| {
            if let Col::Term(n) = k {
                Some((*n, *x))
            } else {
                None
            }
        })
        .collect();
    if terms.is_empty() || unknown.is_empty() {
        return;
    }
    // Spacing per term step: from two read terms, else from the unknown
    // neighbours on both sides of a single read term (they must agree).
    let step = if terms.len() >= 2 {
        let (a, b) = (terms[0], terms[terms.len() - 1]);
        (b.1 - a.1) / f64::from(b.0.saturating_sub(a.0).max(1))
    } else {
        let x = terms[0].1;
        let left = unknown
            .iter()
            .filter(|u| u.1 < x)
            .map(|u| x - u.1)
            .fold(f64::INFINITY, f64::min);
        let right = unknown
            .iter()
            .filter(|u| u.1 > x)
            .map(|u| u.1 - x)
            .fold(f64::INFINITY, f64::min);
        if !(left.is_finite() && right.is_finite()) || (left - right).abs() > 0.2 * left.max(right)
        {
            return;
        }
        (left + right) / 2.0
    };
    if step <= 0.0 {
        return;
    }
    let len = |t: &str| t.chars().filter(|c| c.is_alphanumeric()).count() as i64;
    let first = terms[0];
    let last = terms[terms.len() - 1];
    let mut want: Vec<(u8, f64)> = Vec::new();
    for n in 1..=6u8 {
        if terms.iter().any(|t| t.0 == n) {
            continue;
        }
        let inside = n > first.0 && n < last.0;
        let before = n + 1 == first.0;
        let after = n == last.0 + 1;
        if inside || before || after {
            want.push((n, first.1 + (f64::from(n) - f64::from(first.0)) * step));
        }
    }
    for (n, x) in want {
        let Some((text, ux)) = unknown
            .iter()
            .filter(|u| (u.1 - x).abs() <= 0.25 * step)
            .min_by(|a, b| (a.1 - x).abs().total_cmp(&(b.1 - x).abs()))
        else {
            continue;
        };
        if !(1..=12).contains(&len(text)) {
            continue;
        }
        let c = compact(text);
        let shaped = labels.iter().any(|l| {
            (c.chars().count() as i64 - l.chars().count() as i64).abs() <= 1
                && (c.chars().any(|ch| ch.is_ascii_digit()) || c.chars().next() == l.chars().next())
        });
        let inside = n > first.0 && n < last.0;
        if !inside && !shaped {
            continue;
        }
        // No read column may stand between the hole and the terms.
        let (lo, hi) = if *ux < first.1 {
            (*ux, first.1)
        } else {
            (last.1.min(*ux), last.1.max(*ux))
        };
        let blocked = cols
            .iter()
            .any(|(k, cx)| *cx > lo && *cx < hi && !matches!(k, Col::Term(_)));
        if blocked {
            continue;
        }
        cols.push((Col::Term(n), *ux));
    }
    cols.sort_by(|a, b| a.1.total_cmp(&b.1));
}

/// Term columns read out of sequence (`I Unidade` and `II Unidade` both
/// read `1 Unidade`): when the terms, left to right, are one step apart
/// and renumbering them from the first read number changes exactly one of
/// them (the misread), they are renumbered. Anything else is left as read
/// (and a repeated term holds the document for review downstream).
fn renumber_terms(cols: &mut [(Col, f64)]) {
    let idx: Vec<usize> = (0..cols.len())
        .filter(|&i| matches!(cols[i].0, Col::Term(_)))
        .collect();
    let nums: Vec<u8> = idx
        .iter()
        .map(|&i| if let Col::Term(n) = cols[i].0 { n } else { 0 })
        .collect();
    if nums.len() < 3 || nums.windows(2).all(|w| w[1] == w[0] + 1) {
        return;
    }
    let xs: Vec<f64> = idx.iter().map(|&i| cols[i].1).collect();
    let gaps: Vec<f64> = xs.windows(2).map(|w| w[1] - w[0]).collect();
    let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
    if gaps.iter().any(|g| (g - mean).abs() > 0.25 * mean) {
        return;
    }
    // Start from the first number, or from the last one counted back.
    for start in [
        nums[0],
        nums[nums.len() - 1].saturating_sub(nums.len() as u8 - 1),
    ] {
        if start == 0 || usize::from(start) + nums.len() - 1 > 6 {
            continue;
        }
        let want: Vec<u8> = (0..nums.len() as u8).map(|k| start + k).collect();
        let off = want.iter().zip(&nums).filter(|(a, b)| a != b).count();
        if off == 1 {
            for (k, &i) in idx.iter().enumerate() {
                cols[i].0 = Col::Term(want[k]);
            }
            return;
        }
    }
}

/// `Média | Rec. | Média Final`: the mean before recovery and the final
/// grade after it. The last final-grade column is the final grade; earlier
/// ones are read and dropped (the recovery column keeps its own value).
pub(crate) fn one_final(mut cols: Vec<(Col, f64)>) -> Vec<(Col, f64)> {
    let finals = cols.iter().filter(|(k, _)| *k == Col::Final).count();
    if finals > 1 {
        let mut seen = 0;
        for (k, _) in cols.iter_mut() {
            if *k == Col::Final {
                seen += 1;
                if seen < finals {
                    *k = Col::Skip;
                }
            }
        }
    }
    cols
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
        "escala",
        "med. turma",
        "med turma",
        "media da turma",
        "media turma",
        "turma",
        "media minima",
        "nota minima",
        "criterio",
    ]
    .iter()
    .any(|p| f.starts_with(p))
        || place_and_date(name)
        || name.contains(':')
        || name.contains('=')
        || !name.chars().any(char::is_alphabetic)
}

/// A line naming a part of the curriculum, not a component: `BASE NACIONAL
/// COMUM`, `Parte Diversificada`, `Itinerário Formativo`, `Área de
/// Linguagens`, `Ciências Humanas e Sociais Aplicadas`.
pub(crate) fn section_heading(text: &str) -> bool {
    let f = fold(text.trim());
    !f.is_empty()
        && !f.chars().any(|c| c.is_ascii_digit())
        && [
            "base nacional",
            "base comum",
            "nucleo comum",
            "parte comum",
            "parte diversificada",
            "diversificada",
            "itinerario",
            "formacao geral",
            "formacao basica",
            "area de",
            "areas de",
            "linguagens",
            "ciencias humanas",
            "ciencias da natureza e",
            "ciencias da natureza",
            "matematica e suas",
            "tecnologias",
            "sociais aplicadas",
            "e suas",
            "natureza",
            "humanas",
            "componentes obrigatorios",
            "componentes eletivos",
            "eletivas",
        ]
        .iter()
        .any(|p| f.starts_with(p) || f.contains(&format!(" {p}")) || f.contains(&format!("/ {p}")))
}

/// `Juazeiro do Norte, 3 de dezembro de 2019.`, `Salvador, 7 de`: the
/// place and date a document is signed at.
pub(crate) fn place_and_date(text: &str) -> bool {
    let f = fold(text);
    let month = [
        "janeiro",
        "fevereiro",
        "marco",
        "abril",
        "maio",
        "junho",
        "julho",
        "agosto",
        "setembro",
        "outubro",
        "novembro",
        "dezembro",
    ]
    .iter()
    .any(|m| f.contains(&format!(" de {m}")));
    // `Cidade, 3 de`: a comma, a day, `de` (the month in the next cell).
    let day_of = f.split_once(", ").is_some_and(|(_, rest)| {
        let mut w = rest.split_whitespace();
        matches!((w.next(), w.next()), (Some(d), Some("de")) if d.len() <= 2 && d.chars().all(|c| c.is_ascii_digit()))
    });
    month || day_of
}

/// Columns read from the cells left of the values: the name and what may
/// stand before it (a code, the row's year and grade level).
pub(crate) fn pre_name(k: Col) -> bool {
    matches!(
        k,
        Col::Name | Col::Code | Col::Year | Col::Level | Col::Teacher | Col::Area
    )
}

impl Header {
    /// The row's year and grade level cells when the table has years as
    /// rows (`Ano | Série | Disciplina | …`): each cell left of the values
    /// goes to the pre-name column whose header is nearest.
    /// Whether rows carry their own year or grade level (`Ano | Série | Disciplina | …`).
    pub(crate) fn years_as_rows(&self) -> bool {
        self.cols
            .iter()
            .any(|(k, _)| matches!(k, Col::Year | Col::Level))
    }

    pub(crate) fn year_and_level(&self, line: &Line) -> (Option<String>, Option<String>) {
        let mut year = None;
        let mut level = None;
        if !self.years_as_rows() {
            return (year, level);
        }
        for (k, text) in self.pre_name_cells(line) {
            match k {
                Col::Year => year = Some(text),
                Col::Level => level = Some(text),
                _ => {}
            }
        }
        (year, level)
    }

    /// The cells left of the first value column, each with the pre-name
    /// column whose header centre is nearest (the name when there is no header).
    fn pre_name_cells(&self, line: &Line) -> Vec<(Col, String)> {
        let spans = self.spans();
        let name_right = spans.first().map_or(f64::INFINITY, |s| s.1);
        let pre: Vec<(Col, f64)> = self
            .cols
            .iter()
            .copied()
            .filter(|(k, _)| pre_name(*k))
            .collect();
        let cells: Vec<&Cell> = line
            .cells
            .iter()
            .filter(|c| c.x1 <= name_right + 1.0 && c.center() < name_right)
            .collect();
        // The name is the last column before the values (`Ano | Série |
        // Disciplina`): the line's last cell there is the name even when the
        // year and level cells are left blank under the first row of a
        // year, and a short name (`HIST.`) sits nearer the `Série` header's
        // centre than the long `Componente Curricular`'s.
        let name_last = pre
            .iter()
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .is_some_and(|p| p.0 == Col::Name)
            && pre.iter().any(|(k, _)| matches!(k, Col::Year | Col::Level));
        let others: Vec<(Col, f64)> = pre
            .iter()
            .copied()
            .filter(|(k, _)| !name_last || *k != Col::Name)
            .collect();
        let last = cells.len().saturating_sub(1);
        let teacher = pre.iter().any(|(k, _)| *k == Col::Teacher);
        let teacher_x = pre.iter().find(|(k, _)| *k == Col::Teacher).map(|p| p.1);
        let name_x = pre
            .iter()
            .find(|(k, _)| *k == Col::Name)
            .map_or(f64::NEG_INFINITY, |p| p.1);
        let mut out = Vec::new();
        for (i, c) in cells.iter().enumerate() {
            if name_last && i == last {
                out.push((Col::Name, c.text.clone()));
                continue;
            }
            let k = others
                .iter()
                .min_by(|a, b| {
                    (a.1 - c.center())
                        .abs()
                        .total_cmp(&(b.1 - c.center()).abs())
                })
                .map_or(Col::Name, |p| p.0);
            // A subject set close to its teacher's name shares one cell
            // (`Língua Portuguesa Yasmin Almeida`): the subject the lexicon
            // knows, then the teacher.
            // Only when the rest starts well towards the teacher's column
            // (`Matemática Financeira` in the name column stays whole).
            if teacher && k != Col::Year {
                if let Some((name, rest)) = known_subject_prefix(&c.text) {
                    let cell_words: Vec<&crate::layout::Word> = line
                        .words
                        .iter()
                        .filter(|w| w.x0 >= c.x0 - 0.01 && w.x1 <= c.x1 + 0.01)
                        .collect();
                    let rest_x = cell_words
                        .get(name.split_whitespace().count())
                        .map_or(f64::NEG_INFINITY, |w| w.x0);
                    if teacher_x.is_some_and(|tx| rest_x >= name_x + 0.4 * (tx - name_x)) {
                        out.push((Col::Name, name));
                        out.push((Col::Teacher, rest));
                        continue;
                    }
                }
            }
            out.push((k, c.text.clone()));
        }
        // A short name left-aligned under a wide header sits nearer the area
        // column's centre (`ARTE` under `COMPONENTE`): with no name read, the
        // last area cell the lexicon knows is the name.
        // (`MAT Matem.` in one cell: its component.)
        if !out.iter().any(|(k, _)| *k == Col::Name) {
            if let Some(o) = out.iter_mut().rev().find(|(k, t)| {
                *k == Col::Area
                    && (crate::normalize::is_known_subject(t) || after_area(t).is_some())
            }) {
                if let Some(tail) = after_area(&o.1) {
                    o.1 = tail;
                }
                o.0 = Col::Name;
            }
        }
        out
    }

    /// The data columns' spans: midpoints between neighbouring centres.
    fn spans(&self) -> Vec<(Col, f64, f64)> {
        let data: Vec<(Col, f64)> = self
            .cols
            .iter()
            .copied()
            .filter(|(k, _)| !pre_name(*k))
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
        self.row_with_prefix(line, "")
    }

    /// A line holding only a name (no value cells): half of a subject name
    /// wrapped over two lines.
    pub(crate) fn name_only(&self, line: &Line) -> Option<String> {
        let spans = self.spans();
        let name_right = spans.first().map_or(f64::INFINITY, |s| s.1);
        if line.cells.iter().any(|c| c.center() >= name_right)
            || line.words.iter().any(|w| number(&w.text).is_some())
        {
            return None;
        }
        let text = strip_code(&line.text());
        let text = text.trim();
        // (`Rec. = Recuperação Final` under the table is a legend.)
        if text.is_empty()
            || text.contains(':')
            || text.contains('=')
            || !text.chars().any(char::is_alphabetic)
            || column_kind(text).is_some()
            || not_a_subject(text)
        {
            return None;
        }
        Some(text.to_string())
    }

    /// A row on a continuation page (no header of its own, maybe set at
    /// other x): when its values after the name are exactly as many as the
    /// data columns, they are taken in the columns' order.
    fn row_by_order(&self, line: &Line, prefix: &str) -> Option<SubjectResult> {
        let spans = self.spans();
        let is_value = |t: &str| {
            number(t).is_some() || crate::validate::is_blank_mark(t) || status(t).is_some()
        };
        let first = line.words.iter().position(|w| is_value(&w.text))?;
        let values: Vec<&crate::layout::Word> = line.words[first..].iter().collect();
        if values.len() != spans.len() || !values.iter().all(|w| is_value(&w.text)) {
            return None;
        }
        let name: Vec<&str> = line.words[..first]
            .iter()
            .map(|w| w.text.as_str())
            .collect();
        let name = format!("{prefix} {}", strip_code(&name.join(" ")));
        let name = name.trim();
        if name.is_empty() || not_a_subject(name) {
            return None;
        }
        let terms: Vec<u8> = spans
            .iter()
            .filter_map(|(k, _, _)| if let Col::Term(n) = k { Some(*n) } else { None })
            .collect();
        Some(build(
            name,
            &terms,
            spans
                .iter()
                .zip(values)
                .map(|((k, _, _), w)| (*k, w.text.clone(), w.conf))
                .collect(),
        ))
    }

    /// [`Header::row`] with `prefix` before the name read on the line (the
    /// first half of a wrapped name, or the whole name for a line of values only).
    pub(crate) fn row_with_prefix(&self, line: &Line, prefix: &str) -> Option<SubjectResult> {
        if line.page != self.page {
            if let Some(s) = self.row_by_order(line, prefix) {
                return Some(s);
            }
        }
        let spans = self.spans();
        let name_right = spans.first().map_or(f64::INFINITY, |s| s.1);
        let mut name_parts: Vec<String> = Vec::new();
        let mut values: Vec<(Col, Cell)> = Vec::new();
        // Cells left of the values go to their nearest pre-name column when
        // the table has more of them than the name (years, levels, teachers).
        let assigned_pre_names = self
            .cols
            .iter()
            .any(|(k, _)| matches!(k, Col::Year | Col::Level | Col::Teacher | Col::Area));
        for cell in &line.cells {
            if cell.x1 <= name_right + 1.0 && cell.center() < name_right {
                if !assigned_pre_names {
                    name_parts.push(cell.text.clone());
                }
                continue;
            }
            let span_of = |c: f64| {
                spans
                    .iter()
                    .find(|(_, l, r)| c >= *l && c < *r)
                    .map(|s| s.0)
            };
            // Neighbouring values set close together merge into one cell
            // (`100,0 Recuperação`): split it when its words sit in different columns.
            let words: Vec<Cell> = line
                .words
                .iter()
                .filter(|w| w.x0 >= cell.x0 - 0.01 && w.x1 <= cell.x1 + 0.01)
                .map(|w| Cell {
                    text: w.text.clone(),
                    x0: w.x0,
                    x1: w.x1,
                    conf: w.conf,
                })
                .collect();
            // A long name that runs past the name column's share of the
            // line (`Língua Portuguesa e Literatura` under a short header):
            // a cell that starts in the name column keeps its leading words
            // as the name, up to the first value.
            let mut words = words;
            if cell.x0 < name_right && values.is_empty() && !assigned_pre_names {
                let lead = words
                    .iter()
                    .take_while(|w| {
                        number(&w.text).is_none()
                            && !crate::validate::is_blank_mark(&w.text)
                            && status(&w.text).is_none()
                    })
                    .count();
                if lead < words.len() || span_of(cell.center()).is_none() {
                    name_parts.extend(words.drain(..lead).map(|w| w.text));
                }
                if words.is_empty() {
                    continue;
                }
            }
            let mut kinds: Vec<Option<Col>> = words.iter().map(|w| span_of(w.center())).collect();
            kinds.dedup();
            let parts: Vec<Cell> = if kinds.len() > 1 || words.len() == 1 {
                words
            } else {
                vec![cell.clone()]
            };
            for part in parts {
                let Some(k) = span_of(part.center()) else {
                    // A name set close to the first value shares its cell.
                    if part.center() < name_right && values.is_empty() {
                        name_parts.push(part.text.clone());
                    }
                    continue;
                };
                match values.iter_mut().find(|(kk, _)| *kk == k) {
                    Some((_, prev)) => {
                        prev.text.push(' ');
                        prev.text.push_str(&part.text);
                        prev.conf = prev.conf.min(part.conf);
                    }
                    None => values.push((k, part)),
                }
            }
        }
        if assigned_pre_names {
            let cells = self.pre_name_cells(line);
            name_parts.splice(
                0..0,
                cells
                    .into_iter()
                    .filter(|(k, _)| *k == Col::Name)
                    .map(|(_, t)| t),
            );
        }
        // A code column before the subject: its cells are not the name.
        let code_x = self.cols.iter().find(|(k, _)| *k == Col::Code).map(|c| c.1);
        let name_x = self.cols.iter().find(|(k, _)| *k == Col::Name).map(|c| c.1);
        if let (Some(_), Some(_)) = (code_x, name_x) {
            if name_parts.len() > 1 {
                name_parts.retain(|p| !code_like(p));
            }
        }
        // An area's cell before the component (`MAT | Matem.`, `LINGUAGENS |
        // Arte`): the part the lexicon knows, when the whole is none.
        let area_column = self.cols.iter().any(|(k, _)| *k == Col::Area);
        if prefix.is_empty()
            && area_column
            && name_parts.len() > 1
            && !not_a_subject(&name_parts.join(" "))
            && !crate::normalize::is_known_subject(&name_parts.join(" "))
        {
            let known: Vec<String> = name_parts
                .iter()
                .filter(|p| crate::normalize::is_known_subject(p))
                .cloned()
                .collect();
            // The other parts must read as areas (a date or a code is no area).
            let areas = name_parts
                .iter()
                .all(|p| crate::normalize::is_known_subject(p) || area_label(p));
            // (`MAT | Matem.`: both spell a component; the last is the one.)
            if let (true, Some(last)) = (areas, known.last()) {
                name_parts = vec![last.clone()];
            }
        }
        // Or in the same cell: `MAT Matem.`, `LINGUAGENS ARTE`.
        if prefix.is_empty() && area_column && name_parts.len() == 1 {
            if let Some(tail) = after_area(&name_parts[0]) {
                name_parts = vec![tail];
            }
        }
        let name = format!("{prefix} {}", strip_code(&name_parts.join(" ")));
        // `L. Portuguesa | Aluno` over `| Méd. Turma`: the student's row of
        // the subject (the class's row is no subject).
        let name = match known_subject_prefix(name.trim()) {
            Some((head, rest)) if ROW_ROLES.contains(&fold(&rest).as_str()) => head,
            _ => name,
        };
        let name = name.trim();
        if name.is_empty()
            || values.is_empty()
            || not_a_subject(name)
            || place_and_date(&line.text())
        {
            return None;
        }
        // A line under the table that is not a subject and holds no number
        // (`Documento gerado eletronicamente em …`, `Secretário(a) Diretor(a)`)
        // is page furniture, not a row.
        if !crate::normalize::is_known_subject(name)
            && !values
                .iter()
                .any(|(_, c)| c.text.split_whitespace().any(|t| number(t).is_some()))
        {
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

/// `MAT Matem.` → `Matem.`, `LINGUAGENS ARTE` → `ARTE`: a component after
/// its area's acronym (up to four capitals) or name, when the whole is no
/// component (`História e Geografia` keeps its name).
fn after_area(text: &str) -> Option<String> {
    use crate::normalize::is_known_subject;
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.len() < 2 || is_known_subject(text) || not_a_subject(text) {
        return None;
    }
    (1..words.len()).find_map(|n| {
        let (head, tail) = (words[..n].join(" "), words[n..].join(" "));
        (area_label(&head) && is_known_subject(&tail)).then_some(tail)
    })
}

/// A curriculum area's label: its acronym (`LIN`, `CN`: two to four
/// capitals) or its name (`LINGUAGENS`, `Ciências Humanas`).
pub(crate) fn area_label(text: &str) -> bool {
    let t = text.trim();
    let acronym = !t.contains(' ')
        && (2..=4).contains(&t.chars().count())
        && t.chars().all(|c| c.is_uppercase());
    acronym || section_heading(t)
}

/// What a second label after the subject says its row holds: the
/// student's own marks.
const ROW_ROLES: &[&str] = &[
    "aluno",
    "aluna",
    "aluno(a)",
    "estudante",
    "nota",
    "notas",
    "desempenho",
];

/// `Língua Portuguesa Yasmin Almeida` → (`Língua Portuguesa`, `Yasmin
/// Almeida`): the longest run of leading words the lexicon knows as a
/// subject, when the whole text is none and something follows it.
fn known_subject_prefix(text: &str) -> Option<(String, String)> {
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.len() < 2 || crate::normalize::is_known_subject(text) {
        return None;
    }
    (1..words.len()).rev().find_map(|n| {
        let head = words[..n].join(" ");
        crate::normalize::is_known_subject(&head).then(|| (head, words[n..].join(" ")))
    })
}

/// `MAT01 Matemática` → `Matemática`: a leading code-like token (letters and
/// digits, at least one digit) before a known subject.
pub(crate) fn strip_code(name: &str) -> String {
    let name = name.trim();
    if let Some((first, rest)) = name.split_once(' ') {
        if code_like(first) && crate::normalize::is_known_subject(rest.trim()) {
            return rest.trim().to_string();
        }
    }
    name.to_string()
}

/// `MAT01`, `LP-2`, `2216`: one token of letters and digits, with a digit
/// (all digits: at least two, a code number rather than a grade).
fn code_like(t: &str) -> bool {
    let t = t.trim();
    let digits_only = t.len() >= 2 && t.chars().all(|c| c.is_ascii_digit());
    !t.contains(' ')
        && t.len() <= 10
        && t.chars().any(|c| c.is_ascii_digit())
        && (digits_only || t.chars().any(char::is_alphabetic))
        && t.chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '/'))
}

/// Header words glued by a generator's width metrics (`Semestre2º`,
/// `FaltasFrequência`): split before a digit or a capital that follows a
/// lower-case letter, the parts' boxes in proportion to their lengths.
fn unglue(w: &crate::layout::Word) -> Vec<crate::layout::Word> {
    let chars: Vec<char> = w.text.chars().collect();
    let mut cuts = vec![0];
    for i in 1..chars.len() {
        if chars[i - 1].is_lowercase() && (chars[i].is_ascii_digit() || chars[i].is_uppercase()) {
            cuts.push(i);
        }
    }
    if cuts.len() == 1 {
        return vec![w.clone()];
    }
    cuts.push(chars.len());
    let per = (w.x1 - w.x0) / chars.len().max(1) as f64;
    cuts.windows(2)
        .map(|c| crate::layout::Word {
            text: chars[c[0]..c[1]].iter().collect(),
            x0: w.x0 + per * c[0] as f64,
            x1: w.x0 + per * c[1] as f64,
            ..w.clone()
        })
        .collect()
}

/// The cells of a line with their column kind, a multi-word cell split into
/// words when it names no column as a whole (`Nota Faltas` merged).
fn kinds(line: &Line) -> Vec<(Option<Col>, f64)> {
    let mut out = Vec::new();
    // `I Unidade | II Unidade | 1º Sem | III Unidade | …`: a semester among
    // finer terms is their aggregate, not a term of its own.
    let semester = |t: &str| {
        let c = compact(t);
        c.contains("sem") && !c.contains("bim") && !c.contains("unid") && !c.contains("tri")
    };
    let finer = line
        .cells
        .iter()
        .filter(|c| matches!(column_kind(&c.text), Some(Col::Term(_))) && !semester(&c.text))
        .count();
    for cell in &line.cells {
        let k = column_kind(&cell.text);
        if finer >= 2 && matches!(k, Some(Col::Term(_))) && semester(&cell.text) {
            out.push((Some(Col::Skip), cell.center()));
            continue;
        }
        if k.is_some() || !cell.text.contains(' ') {
            out.push((k, cell.center()));
            continue;
        }
        for w in line
            .words
            .iter()
            .filter(|w| w.x0 >= cell.x0 - 0.01 && w.x1 <= cell.x1 + 0.01)
        {
            out.push((column_kind(&w.text), (w.x0 + w.x1) / 2.0));
        }
    }
    out
}

/// A two-level header: `top` (`1º Bim | 2º Bim | … | Média | Total`) over
/// `sub` (`Disciplina | Nota | Faltas | Nota | Faltas | … | Final | Faltas`).
/// Each sub-column takes its meaning from the top cell nearest above it:
/// `Nota` under a term is that term's grade, `Faltas` under a term is
/// dropped, `Final` under `Média` is the final grade, `Faltas` under
/// `Total` the absences.
pub(crate) fn two_level(top: &Line, sub: &Line) -> Option<Header> {
    let top_h = header(top)?;
    if sub
        .words
        .iter()
        .any(|w| number(&w.text).is_some() || w.text.ends_with(':'))
    {
        return None;
    }
    let tops = kinds(top);
    let subs = kinds(sub);
    // The top's columns a sub line splits (not the code, workload or
    // teacher set once beside the name).
    let top_data = top_h
        .cols
        .iter()
        .filter(|(k, _)| !pre_name(*k) && *k != Col::Workload)
        .count();
    let sub_known = subs.iter().filter(|(k, _)| k.is_some()).count();
    let named_top = tops.iter().find(|(k, _)| *k == Some(Col::Name)).copied();
    let named_sub = subs.iter().any(|(k, _)| *k == Some(Col::Name));
    if sub_known <= top_data || !(named_sub || named_top.is_some()) {
        return None;
    }
    let mut cols = Vec::new();
    let mut subs_kinds = Vec::new();
    // `Disciplina` on the top line only (the sub line starts at the values).
    if let (false, Some((_, x))) = (named_sub, named_top) {
        cols.push((Col::Name, x));
        subs_kinds.push(Some(Col::Name));
    }
    // Each top cell stands over the sub-columns between the midpoints to its
    // neighbours (the outer ones as far out as the spacing), so a `Média
    // Anual` past the last term's group has nothing above it.
    let mut tx: Vec<(Option<Col>, f64)> = tops.clone();
    tx.sort_by(|a, b| a.1.total_cmp(&b.1));
    let bounds: Vec<(Option<Col>, f64, f64)> = tx
        .iter()
        .enumerate()
        .map(|(i, (k, c))| {
            let prev = i.checked_sub(1).map(|j| tx[j].1);
            let next = tx.get(i + 1).map(|t| t.1);
            let left = prev.map_or_else(
                || c - next.map_or(60.0, |n| (n - c) / 2.0),
                |p| (p + c) / 2.0,
            );
            let right = next.map_or_else(
                || c + prev.map_or(60.0, |p| (c - p) / 2.0),
                |n| (c + n) / 2.0,
            );
            (*k, left, right)
        })
        .collect();
    for &(k, x) in &subs {
        let above = bounds
            .iter()
            .find(|(_, l, r)| x >= *l && x < *r)
            .and_then(|t| t.0);
        let col = match (above, k) {
            (_, Some(Col::Name)) => Col::Name,
            (Some(Col::Term(n)), Some(Col::Final | Col::Term(_))) => Col::Term(n),
            (Some(Col::Term(_)), Some(_)) => Col::Skip,
            (Some(Col::Final), None | Some(Col::Final)) => Col::Final,
            (None | Some(Col::Absences), Some(Col::Absences)) => Col::Absences,
            (_, Some(k)) => k,
            (Some(k), None) => k,
            // An unknown sub-column still owns its values (`A.D.`).
            (None, None) => Col::Skip,
        };
        cols.push((col, x));
        subs_kinds.push(k);
    }
    // Top cells with nothing under them (`Cód. | Componente | CH | 1º Bim
    // …` over `| | | N | F …`) keep their own column.
    for (k, l, r) in &bounds {
        let Some(k) = k else { continue };
        if matches!(k, Col::Term(_) | Col::Name | Col::Skip)
            || subs.iter().any(|(_, x)| x >= l && x < r)
        {
            continue;
        }
        let c = (l + r) / 2.0;
        let x = tops
            .iter()
            .filter(|t| t.0 == Some(*k))
            .map(|t| t.1)
            .min_by(|a, b| (a - c).abs().total_cmp(&(b - c).abs()))
            .unwrap_or(c);
        cols.push((*k, x));
        subs_kinds.push(None);
    }
    let mut order: Vec<usize> = (0..cols.len()).collect();
    order.sort_by(|&a, &b| cols[a].1.total_cmp(&cols[b].1));
    let cols: Vec<(Col, f64)> = order.iter().map(|&i| cols[i]).collect();
    let subs_kinds: Vec<Option<Col>> = order.iter().map(|&i| subs_kinds[i]).collect();
    if !cols.iter().any(|(k, _)| matches!(k, Col::Term(_))) {
        return None;
    }
    Some(Header {
        cols: one_final(one_grade_per_term(cols, &subs_kinds)),
        page: sub.page,
    })
}

/// `1º Bim` over `N1 | N2 | Rec | Média`: several sub-columns of one term
/// map to its grade. The term's grade is its `Média` (or `Nota`, `MB`)
/// sub-column when there is one, else the only grade-like one; with
/// several and no média (`N1 | N2`), none is guessed: they are dropped and
/// the term reads as missing, which holds the document for review.
fn one_grade_per_term(mut cols: Vec<(Col, f64)>, sub: &[Option<Col>]) -> Vec<(Col, f64)> {
    let terms: Vec<u8> = cols
        .iter()
        .filter_map(|(k, _)| if let Col::Term(n) = k { Some(*n) } else { None })
        .collect();
    for n in terms {
        let idx: Vec<usize> = (0..cols.len())
            .filter(|&i| cols[i].0 == Col::Term(n))
            .collect();
        if idx.len() < 2 {
            continue;
        }
        let mean = idx
            .iter()
            .copied()
            .find(|&i| sub.get(i).copied().flatten() == Some(Col::Final));
        for i in idx {
            if Some(i) != mean {
                cols[i].0 = Col::Skip;
            }
        }
    }
    cols
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
        recovery_grade: None,
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
            Col::Recovery => s.recovery_grade = number(raw),
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
            Col::Term(_)
            | Col::Name
            | Col::Code
            | Col::Skip
            | Col::TermAbsences
            | Col::Year
            | Col::Level
            | Col::Teacher
            | Col::Area => {}
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
    use crate::layout::lines;

    #[test]
    fn column_names() {
        assert_eq!(column_kind("1º Bim"), Some(Col::Term(1)));
        assert_eq!(column_kind("2° BIM."), Some(Col::Term(2)));
        assert_eq!(column_kind("B3"), Some(Col::Term(3)));
        assert_eq!(column_kind("Bl:"), Some(Col::Term(1)));
        assert_eq!(column_kind("4º Trim"), Some(Col::Term(4)));
        assert_eq!(column_kind("1ª Etapa"), Some(Col::Term(1)));
        assert_eq!(column_kind("II Bim"), Some(Col::Term(2)));
        assert_eq!(column_kind("ll Unidade"), Some(Col::Term(2)));
        assert_eq!(column_kind("12 ETAPA"), Some(Col::Term(1)));
        assert_eq!(column_kind("111 Unidade"), Some(Col::Term(3)));
        assert_eq!(column_kind("Avi"), Some(Col::Term(1)));
        assert_eq!(column_kind("42ETAPA"), Some(Col::Term(4)));
        assert_eq!(column_kind("12"), None);
        assert_eq!(column_kind("Nota 1º Bim."), Some(Col::Term(1)));
        assert_eq!(column_kind("Média do 3º Trimestre"), Some(Col::Term(3)));
        assert_eq!(column_kind("Nota Final"), Some(Col::Final));
        assert_eq!(column_kind("1V Unidade"), Some(Col::Term(4)));
        assert_eq!(column_kind("lll Bim"), Some(Col::Term(3)));
        assert_eq!(column_kind("Média Final"), Some(Col::Final));
        assert_eq!(column_kind("MF"), Some(Col::Final));
        assert_eq!(column_kind("Faltas"), Some(Col::Absences));
        assert_eq!(column_kind("Freq. (%)"), Some(Col::Attendance));
        assert_eq!(column_kind("C"), Some(Col::Skip), "a term's letter concept");
        assert_eq!(column_kind("Situação"), Some(Col::Status));
        assert_eq!(column_kind("C.H."), Some(Col::Workload));
        assert_eq!(column_kind("MÉDIAS FINAIS"), Some(Col::Final));
        assert_eq!(column_kind("Faltas T1"), Some(Col::TermAbsences));
        assert_eq!(column_kind("Faltas do 2º Trim."), Some(Col::TermAbsences));
        assert_eq!(column_kind("Professor(a)"), Some(Col::Teacher));
        assert_eq!(column_kind("Componente Curricular"), Some(Col::Name));
        assert_eq!(column_kind("Matemática"), None);
        assert_eq!(column_kind("2024"), None);
    }

    fn line_of(cells: &[(&str, f64)]) -> Line {
        lines(1, crate::layout::words_at(cells, 100.0)).remove(0)
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
        // The student's row beside the class's mean row.
        let mine = h
            .row(&line_of(&[
                ("Arte", 40.0),
                ("Aluno", 120.0),
                ("8,0", 205.0),
                ("7,5", 405.0),
            ]))
            .unwrap();
        assert_eq!((mine.code.as_str(), mine.final_grade), ("arte", Some(7.5)));
        assert!(h
            .row(&line_of(&[
                ("Méd. Turma", 120.0),
                ("6,0", 205.0),
                ("6,5", 405.0)
            ]))
            .is_none());
        // A title in one run of text is no header.
        assert!(header(&line_of(&[("Boletim de Notas e Frequência", 40.0)])).is_none());
    }

    #[test]
    fn a_teachers_column_is_not_part_of_the_subject() {
        let h = header(&line_of(&[
            ("Componente", 40.0),
            ("Professor(a)", 160.0),
            ("1º Período", 260.0),
            ("2º Período", 310.0),
            ("Média", 360.0),
        ]))
        .unwrap();
        // A long name that stays in its column is never cut for a teacher.
        let s = h
            .row(&line_of(&[
                ("Matemática Financeira", 40.0),
                ("5,5", 262.0),
                ("5,8", 362.0),
            ]))
            .unwrap();
        assert_eq!(s.name_original, "Matemática Financeira");
        // Apart, and glued in one cell with the subject.
        for cells in [
            &[("Arte", 40.0), ("Valentina de Souza", 150.0)][..],
            &[("Língua Portuguesa Valentina Souza", 40.0)][..],
        ] {
            let mut row = cells.to_vec();
            row.extend([("5,5", 262.0), ("6,0", 312.0), ("5,8", 362.0)]);
            let s = h.row(&line_of(&row)).unwrap();
            let want = if cells.len() == 2 {
                "arte"
            } else {
                "lingua-portuguesa"
            };
            assert_eq!(
                (s.code.as_str(), s.final_grade),
                (want, Some(5.8)),
                "{cells:?}"
            );
        }
    }

    #[test]
    fn an_area_column_before_the_component() {
        let h = header(&line_of(&[
            ("Área", 20.0),
            ("Componente", 90.0),
            ("1º Bim", 200.0),
            ("2º Bim", 250.0),
            ("Média", 300.0),
        ]))
        .unwrap();
        for cells in [
            &[("MAT", 20.0), ("Matem.", 75.0)][..],
            &[("MAT Matem.", 20.0)][..],
            &[("LINGUAGENS", 10.0), ("Arte", 75.0)][..],
            &[("Arte", 75.0)][..],
        ] {
            let mut row = cells.to_vec();
            row.extend([("7,0", 202.0), ("8,0", 252.0), ("7,5", 302.0)]);
            let s = h.row(&line_of(&row)).unwrap_or_else(|| panic!("{cells:?}"));
            let want = if cells[0].0.contains("MAT") {
                "matematica"
            } else {
                "arte"
            };
            assert_eq!(
                (s.code.as_str(), s.final_grade),
                (want, Some(7.5)),
                "{cells:?}"
            );
        }
        // A date before the subject is no area: the name stays unknown.
        let h = header(&line_of(&[
            ("Disciplina", 90.0),
            ("Nota", 200.0),
            ("Média", 300.0),
        ]))
        .unwrap();
        let s = h
            .row(&line_of(&[
                ("27/04/2022", 20.0),
                ("QUIMICA", 90.0),
                ("3,0", 202.0),
                ("5,0", 302.0),
            ]))
            .unwrap();
        assert_ne!(s.code, "quimica");
        assert_eq!(after_area("História e Geografia"), None);
        // Without an area column, a capitalised first word stays in the name.
        let h = header(&line_of(&[
            ("Disciplina", 40.0),
            ("1º Bim", 200.0),
            ("Média", 300.0),
        ]))
        .unwrap();
        let s = h
            .row(&line_of(&[
                ("EDU FÍSICA", 40.0),
                ("7,0", 202.0),
                ("7,0", 302.0),
            ]))
            .unwrap();
        assert_ne!(s.code, "fisica");
    }

    #[test]
    fn two_level_headers_and_code_columns() {
        let top = line_of(&[
            ("1º Bim", 200.0),
            ("2º Bim", 260.0),
            ("Média", 320.0),
            ("Total", 370.0),
        ]);
        let sub = line_of(&[
            ("Disciplina", 40.0),
            ("Nota", 190.0),
            ("Faltas", 218.0),
            ("Nota", 250.0),
            ("Faltas", 278.0),
            ("Final", 320.0),
            ("Faltas", 370.0),
        ]);
        let h = two_level(&top, &sub).unwrap();
        let kinds: Vec<Col> = h.cols.iter().map(|c| c.0).collect();
        assert_eq!(
            kinds,
            [
                Col::Name,
                Col::Term(1),
                Col::Skip,
                Col::Term(2),
                Col::Skip,
                Col::Final,
                Col::Absences
            ]
        );
        let row = h
            .row(&line_of(&[
                ("Matemática", 40.0),
                ("8,5", 192.0),
                ("2", 225.0),
                ("7,0", 252.0),
                ("1", 285.0),
                ("7,8", 322.0),
                ("3", 378.0),
            ]))
            .unwrap();
        let grades: Vec<_> = row.terms.iter().map(|t| t.grade).collect();
        assert_eq!(grades, [Some(8.5), Some(7.0)]);
        assert_eq!((row.final_grade, row.absences), (Some(7.8), Some(3)));

        let h = header(&line_of(&[
            ("Código", 40.0),
            ("Componente Curricular", 90.0),
            ("CH", 260.0),
            ("Média", 310.0),
        ]))
        .unwrap();
        let row = h
            .row(&line_of(&[
                ("MAT42", 40.0),
                ("Matemática", 90.0),
                ("80", 262.0),
                ("7,5", 312.0),
            ]))
            .unwrap();
        assert_eq!(
            (row.code.as_str(), row.final_grade),
            ("matematica", Some(7.5))
        );
        assert_eq!(row.workload_hours, Some(80));
        assert_eq!(strip_code("LP01 Língua Portuguesa"), "Língua Portuguesa");
        assert_eq!(strip_code("9º Ano"), "9º Ano");
    }

    #[test]
    fn garbled_term_labels_are_completed_by_position() {
        // OCR read `T1 T2 T3` as `Ti T2 73`.
        let h = header(&line_of(&[
            ("Componente Curricular", 40.0),
            ("Ti", 200.0),
            ("T2", 250.0),
            ("73", 300.0),
            ("Méd. Anual", 350.0),
            ("MF", 400.0),
            ("Faltas", 450.0),
        ]))
        .unwrap();
        let kinds: Vec<Col> = h.cols.iter().map(|c| c.0).collect();
        assert_eq!(
            kinds,
            [
                Col::Name,
                Col::Term(1),
                Col::Term(2),
                Col::Term(3),
                Col::Skip,
                Col::Final,
                Col::Absences
            ]
        );
        // Roman terms OCR read as ones: `I Unidade` and `II Unidade` both `1 Unidade`.
        let h = header(&line_of(&[
            ("Componente Curricular", 40.0),
            ("1 Unidade", 200.0),
            ("1 Unidade", 250.0),
            ("111 Unidade", 300.0),
            ("IV Unidade", 350.0),
            ("Faltas", 400.0),
        ]))
        .unwrap();
        let kinds: Vec<Col> = h.cols.iter().map(|c| c.0).collect();
        assert_eq!(
            kinds,
            [
                Col::Name,
                Col::Term(1),
                Col::Term(2),
                Col::Term(3),
                Col::Term(4),
                Col::Absences
            ]
        );
        // A row of values is never a header, nor a line with a grade.
        assert!(header(&line_of(&[
            ("Matemática", 40.0),
            ("7", 200.0),
            ("8", 250.0)
        ]))
        .is_none());
        assert!(header(&line_of(&[
            ("Disciplina", 40.0),
            ("B1", 200.0),
            ("7,5", 250.0),
            ("B3", 300.0),
            ("Média", 350.0)
        ]))
        .is_none());
        // A hole between read terms is filled; a stray word far off is not a term.
        let h = header(&line_of(&[
            ("Disciplina", 40.0),
            ("1º Bim", 200.0),
            ("2º 8im", 250.0),
            ("3º Bim", 300.0),
            ("Média", 350.0),
            ("Observações gerais", 480.0),
        ]))
        .unwrap();
        let kinds: Vec<Col> = h.cols.iter().map(|c| c.0).collect();
        assert_eq!(
            kinds,
            [
                Col::Name,
                Col::Term(1),
                Col::Term(2),
                Col::Term(3),
                Col::Final
            ]
        );
    }

    #[test]
    fn semesters_among_units_are_aggregates_and_top_only_columns_stay() {
        let top = line_of(&[
            ("Cód.", 20.0),
            ("Componente", 60.0),
            ("CH", 120.0),
            ("I Unidade", 170.0),
            ("II Unidade", 230.0),
            ("1º Sem", 290.0),
        ]);
        let sub = line_of(&[
            ("N", 160.0),
            ("F", 180.0),
            ("N", 220.0),
            ("F", 240.0),
            ("MS", 280.0),
            ("RS", 300.0),
            ("RF", 330.0),
            ("MF", 350.0),
            ("TF", 370.0),
        ]);
        let h = two_level(&top, &sub).unwrap();
        let row = h
            .row(&line_of(&[
                ("7701", 20.0),
                ("Matemática", 60.0),
                ("80", 120.0),
                ("6,0", 160.0),
                ("2", 180.0),
                ("8,0", 220.0),
                ("1", 240.0),
                ("7,0", 280.0),
                ("7,5", 300.0),
                ("7,5", 350.0),
                ("3", 370.0),
            ]))
            .unwrap();
        let grades: Vec<_> = row.terms.iter().map(|t| (t.term, t.grade)).collect();
        assert_eq!(grades, [(1, Some(6.0)), (2, Some(8.0))]);
        assert_eq!((row.final_grade, row.workload_hours), (Some(7.5), Some(80)));
        assert_eq!(row.absences, Some(3));
        assert_eq!(row.code, "matematica");
    }

    #[test]
    fn per_term_sub_columns_take_the_terms_mean() {
        let top = line_of(&[("1º Bim", 215.0), ("2º Bim", 335.0), ("Média Final", 420.0)]);
        let sub = line_of(&[
            ("Disciplina", 40.0),
            ("N1", 190.0),
            ("N2", 215.0),
            ("Rec", 240.0),
            ("MB", 265.0),
            ("N1", 310.0),
            ("N2", 335.0),
            ("Rec", 360.0),
            ("MB", 385.0),
            ("MF", 430.0),
        ]);
        let h = two_level(&top, &sub).unwrap();
        let row = h
            .row(&line_of(&[
                ("Geografia", 40.0),
                ("6,0", 190.0),
                ("4,0", 215.0),
                ("7,0", 240.0),
                ("7,0", 265.0),
                ("8,0", 310.0),
                ("9,0", 335.0),
                ("-", 360.0),
                ("8,5", 385.0),
                ("7,8", 430.0),
            ]))
            .unwrap();
        let grades: Vec<_> = row.terms.iter().map(|t| t.grade).collect();
        assert_eq!(grades, [Some(7.0), Some(8.5)]);
        assert_eq!(row.final_grade, Some(7.8));
    }
}

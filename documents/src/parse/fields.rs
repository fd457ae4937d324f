//! `Label: value` fields of the document header: student name, matrícula,
//! birth date, class, school, CNPJ, year. A label counts only when a colon
//! follows it (so "7º Ano B" is not the year), except `Ano Letivo 2024`.
//! The value runs to the next label on the same line.

use crate::layout::Line;
use crate::normalize::{date, digits, fold};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Field {
    Name,
    Registration,
    BirthDate,
    Class,
    School,
    Cnpj,
    Year,
    GradeLevel,
    Other,
}

/// Labels, folded (lower case, no accents), longest first within a field so
/// `data de nascimento` wins over `nascimento`.
const LABELS: &[(&str, Field)] = &[
    ("nome do aluno", Field::Name),
    ("nome do(a) aluno(a)", Field::Name),
    ("nome da aluna", Field::Name),
    ("nome do estudante", Field::Name),
    ("nome do(a) estudante", Field::Name),
    ("nome da estudante", Field::Name),
    ("nome completo", Field::Name),
    ("aluno(a)", Field::Name),
    ("aluno/a", Field::Name),
    ("aluno", Field::Name),
    ("aluna", Field::Name),
    ("estudante", Field::Name),
    ("discente", Field::Name),
    ("educando(a)", Field::Name),
    ("educando", Field::Name),
    ("nome", Field::Name),
    ("nome da escola", Field::School),
    ("nome da mae", Field::Other),
    ("nome do pai", Field::Other),
    ("filiacao", Field::Other),
    ("responsavel", Field::Other),
    ("mae", Field::Other),
    ("pai", Field::Other),
    ("matricula", Field::Registration),
    ("no da matricula", Field::Registration),
    ("no de matricula", Field::Registration),
    ("no matricula", Field::Registration),
    ("n. matricula", Field::Registration),
    ("n.o matricula", Field::Registration),
    ("num. matricula", Field::Registration),
    ("numero de matricula", Field::Registration),
    ("numero da matricula", Field::Registration),
    ("matricula no", Field::Registration),
    ("cod. aluno", Field::Registration),
    ("registro", Field::Registration),
    ("mat.", Field::Registration),
    ("codigo do aluno", Field::Registration),
    ("codigo", Field::Registration),
    ("registro do aluno", Field::Registration),
    ("registro do estudante", Field::Registration),
    ("ra", Field::Registration),
    ("r.a.", Field::Registration),
    ("r.a", Field::Registration),
    ("rm", Field::Registration),
    ("r.m.", Field::Registration),
    ("r.m", Field::Registration),
    ("prontuario", Field::Registration),
    ("no do prontuario", Field::Registration),
    ("codigo do estudante", Field::Registration),
    ("id do aluno", Field::Registration),
    ("data de nascimento", Field::BirthDate),
    ("data nasc.", Field::BirthDate),
    ("data nasc", Field::BirthDate),
    ("data de nasc.", Field::BirthDate),
    ("dt. nasc.", Field::BirthDate),
    ("dt nasc", Field::BirthDate),
    ("dt. nascimento", Field::BirthDate),
    ("nasc.", Field::BirthDate),
    ("nasc", Field::BirthDate),
    ("nascido(a) em", Field::BirthDate),
    ("nascimento", Field::BirthDate),
    ("d.n.", Field::BirthDate),
    ("serie/turma", Field::Class),
    ("turma/serie", Field::Class),
    ("turma/ano", Field::Class),
    ("ano/turma", Field::Class),
    ("turma", Field::Class),
    ("classe", Field::Class),
    ("unidade escolar", Field::School),
    ("unidade de ensino", Field::School),
    ("u.e.", Field::School),
    ("instituicao de ensino", Field::School),
    ("instituicao", Field::School),
    ("estabelecimento de ensino", Field::School),
    ("estabelecimento", Field::School),
    ("escola", Field::School),
    ("colegio", Field::School),
    ("cnpj", Field::Cnpj),
    ("cnpj no", Field::Cnpj),
    ("cnpj n.o", Field::Cnpj),
    ("cnpj da escola", Field::Cnpj),
    ("cnpj/mf", Field::Cnpj),
    ("c.n.p.j.", Field::Cnpj),
    ("c.n.p.j", Field::Cnpj),
    ("cnp)", Field::Cnpj), // OCR
    ("cnp", Field::Cnpj),  // OCR dropped the J
    ("ano letivo", Field::Year),
    ("ano-letivo", Field::Year),
    ("periodo letivo", Field::Year),
    ("exercicio", Field::Year),
    ("ano de referencia", Field::Year),
    ("ano", Field::Year),
    ("serie", Field::GradeLevel),
    ("ano/serie", Field::GradeLevel),
    ("serie/ano", Field::GradeLevel),
    ("etapa", Field::GradeLevel),
    ("curso", Field::Other),
    ("turno", Field::Other),
    ("inep", Field::Other),
    ("codigo inep", Field::Other),
    ("cod. inep", Field::Other),
    ("cod inep", Field::Other),
    ("inep da escola", Field::Other),
    ("inep escola", Field::Other),
    ("inep do aluno", Field::Other),
    ("inep aluno", Field::Other),
    ("cidade", Field::Other),
    ("municipio", Field::Other),
    ("uf", Field::Other),
    ("endereco", Field::Other),
    ("telefone", Field::Other),
    ("tel.", Field::Other),
    ("e-mail", Field::Other),
    ("periodo", Field::Other),
    ("bimestre", Field::Other),
    ("emissao", Field::Other),
    ("data de emissao", Field::Other),
    ("emitido em", Field::Other),
    ("cpf", Field::Other),
    ("rg", Field::Other),
    ("sexo", Field::Other),
    ("naturalidade", Field::Other),
    ("nacionalidade", Field::Other),
    ("diretor(a)", Field::Other),
    ("diretor", Field::Other),
    ("secretario(a)", Field::Other),
    ("modalidade", Field::Other),
    ("nivel de ensino", Field::Other),
    ("ensino", Field::Other),
    ("rede", Field::Other),
    ("dependencia administrativa", Field::Other),
];

/// `(field, value)` pairs found in one line, in order.
pub(crate) fn pairs(line: &str) -> Vec<(Field, String)> {
    let folded = fold(line);
    let chars: Vec<char> = line.chars().collect();
    let fchars: Vec<char> = folded.chars().collect();
    // (start, value start, field) of every label occurrence.
    let mut hits: Vec<(usize, usize, Field)> = Vec::new();
    let mut i = 0;
    while i < fchars.len() {
        let at_word_start = i == 0 || !fchars[i - 1].is_alphanumeric();
        let mut matched = None;
        if at_word_start {
            for (label, field) in LABELS {
                let l: Vec<char> = label.chars().collect();
                if fchars.len() >= i + l.len() && fchars[i..i + l.len()] == l[..] {
                    let mut j = i + l.len();
                    if j < fchars.len() && fchars[j].is_alphanumeric() {
                        continue;
                    }
                    while j < fchars.len() && fchars[j] == ' ' {
                        j += 1;
                    }
                    let colon = j < fchars.len() && fchars[j] == ':';
                    // `CNPJ 98.765.432/0001-10`, `CNPJ nº 98...`: no colon, a number follows.
                    // `CNPJ - 98.765...`, `CNPJ – 98...`: a dash for a colon.
                    let mut d = j;
                    if matches!(fchars.get(d), Some('-' | '–' | '—')) {
                        d += 1;
                        while d < fchars.len() && fchars[d] == ' ' {
                            d += 1;
                        }
                    }
                    let cnpj_no_colon =
                        *field == Field::Cnpj && fchars.get(d).is_some_and(char::is_ascii_digit);
                    let year_no_colon = *field == Field::Year
                        && *label != "ano"
                        && fchars.len() >= d + 4
                        && fchars[d..d + 4].iter().all(char::is_ascii_digit);
                    if colon || year_no_colon || cnpj_no_colon {
                        let v = if colon { j + 1 } else { d };
                        if matched.is_none_or(|(_, _, len)| l.len() > len) {
                            matched = Some((v, *field, l.len()));
                        }
                    }
                }
            }
        }
        if let Some((v, field, _)) = matched {
            hits.push((i, v, field));
            i = v;
        } else {
            i += 1;
        }
    }
    let mut out = Vec::new();
    for (k, (_, v, field)) in hits.iter().enumerate() {
        let end = hits.get(k + 1).map_or(chars.len(), |h| h.0);
        let value: String = chars[*v..end].iter().collect();
        let value = value
            .trim()
            .trim_matches(|c: char| {
                matches!(c, '-' | '—' | '–' | '|' | ',' | ';' | '·' | '•' | '/')
            })
            .trim();
        let value = before_next_label(value);
        if !value.is_empty() {
            out.push((*field, value.to_string()));
        }
    }
    out
}

/// A value that ran into a label this reader does not know (`8º ANO
/// SITUACAO: CURSANDO`, `BERNARDO DA SILVA REGISTRO DO ALUNO: 123`) ends
/// before it: at a word ending in `:`, and before the words just ahead of it
/// that open a known label (`Registro do Aluno:`).
fn before_next_label(value: &str) -> &str {
    let words: Vec<(usize, &str)> = value
        .split_whitespace()
        .map(|w| (w.as_ptr() as usize - value.as_ptr() as usize, w))
        .collect();
    let Some(k) = words
        .iter()
        .position(|(_, w)| w.len() > 1 && w.ends_with(':'))
        .filter(|&k| k > 0)
    else {
        return value;
    };
    let mut cut = k;
    for back in 1..=3.min(k) {
        let phrase: Vec<&str> = words[k - back..=k].iter().map(|(_, w)| *w).collect();
        let f = fold(&phrase.join(" "));
        let f = f.trim_end_matches(':');
        if LABELS.iter().any(|(l, _)| f == *l) {
            cut = k - back;
        }
    }
    value[..words[cut].0].trim_end()
}

/// The header fields of a document (first occurrence wins).
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Header {
    pub name: Option<String>,
    pub registration: Option<String>,
    pub birth_date: Option<String>,
    pub birth_date_raw: Option<String>,
    pub class_name: Option<String>,
    pub school: Option<String>,
    pub cnpj: Option<String>,
    pub year: Option<i32>,
}

/// Whether a cell's text is exactly a label (`Aluno`, `Nasc.:`): forms
/// drawn as boxes print the label in one cell and the value in the next,
/// or the label over its value, without a colon.
fn label_cell(text: &str) -> bool {
    let f = fold(text.trim());
    let f = f.trim_end_matches(':').trim();
    !f.is_empty() && LABELS.iter().any(|(l, _)| *l == f)
}

/// The line's `label: value` text, a colon added after a cell that is a
/// label alone and followed by a value cell; and, when every cell of the
/// line is a label and the next line holds no label, each label paired
/// with the value cell under it.
fn labelled(line: &Line, next: Option<&Line>) -> Vec<String> {
    let cells = &line.cells;
    if cells.iter().all(|c| label_cell(&c.text)) {
        if let Some(n) = next.filter(|n| !n.cells.iter().any(|c| label_cell(&c.text))) {
            return cells
                .iter()
                .filter_map(|c| {
                    let v = n
                        .cells
                        .iter()
                        .find(|v| v.x0 < c.x1 + 2.0 && v.x1 > c.x0 - 2.0)?;
                    Some(format!(
                        "{}: {}",
                        c.text.trim().trim_end_matches(':'),
                        v.text
                    ))
                })
                .collect();
        }
        return Vec::new();
    }
    // Two labels side by side (`Ano | Série | Estabelecimento | Município/UF`)
    // is a table's header row, not a form: no pairs from it.
    if cells
        .windows(2)
        .any(|w| label_cell(&w[0].text) && label_cell(&w[1].text))
    {
        return Vec::new();
    }
    let mut out = String::new();
    for (i, c) in cells.iter().enumerate() {
        if !out.is_empty() {
            out.push_str("  ");
        }
        out.push_str(&c.text);
        if label_cell(&c.text) && !c.text.trim_end().ends_with(':') && i + 1 < cells.len() {
            out.push(':');
        }
    }
    vec![out]
}

pub(crate) fn header(lines: &[Line]) -> Header {
    let mut h = Header::default();
    // Every school a label names, in order.
    let mut schools: Vec<String> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let mut found = pairs(&line.text());
        // Forms without colons, only when the plain reading found nothing
        // on the line (a colon-less label is weaker evidence).
        if found.is_empty() {
            found = labelled(line, lines.get(i + 1))
                .iter()
                .flat_map(|t| pairs(t))
                .collect();
        }
        for (field, value) in found {
            match field {
                // (A name has letters: `Aluno | 5,0` is a table's row.)
                Field::Name if value.chars().any(char::is_alphabetic) => {
                    set(&mut h.name, clean_name(within_cell(line, &value)))
                }
                Field::Name => {}
                // (A registration has digits: `Código | Componente` is a header.)
                Field::Registration if value.chars().any(|c| c.is_ascii_digit()) => {
                    set(&mut h.registration, first_token(&value))
                }
                Field::Registration => {}
                Field::BirthDate => {
                    let token = first_token(&value);
                    if h.birth_date_raw.is_none() {
                        h.birth_date = date(&token);
                        h.birth_date_raw = Some(token);
                    }
                }
                Field::Class => set(&mut h.class_name, ocr_ordinal(&value)),
                Field::School => {
                    // (`Escola X` and `Escola X - Cidade/UF` are one school.)
                    let v = value.trim().to_string();
                    let same = |a: &String| {
                        let (a, b) = (fold(a), fold(&v));
                        a.starts_with(&b) || b.starts_with(&a)
                    };
                    // (A school's name has letters: `65699213` is a code.)
                    if !v.chars().any(char::is_alphabetic) {
                        continue;
                    }
                    if !schools.iter().any(same) {
                        schools.push(v);
                    }
                    set(&mut h.school, value.clone())
                }
                Field::Cnpj => {
                    let d = cnpj_digits(&value);
                    if !d.is_empty() {
                        set(&mut h.cnpj, d);
                    }
                }
                Field::Year => {
                    if h.year.is_none() {
                        h.year = year(&value);
                    }
                }
                Field::GradeLevel | Field::Other => {}
            }
        }
    }
    if h.year.is_none() {
        // A title with the year: `Boletim Individual - 2024`, `BOLETIM ESCOLAR 2024`.
        h.year = lines.iter().take(15).find_map(|l| {
            let t = l.text();
            let f = fold(&t);
            let dated = t.split_whitespace().any(|w| date(w).is_some());
            (!dated
                && [
                    "boletim",
                    "ficha individual",
                    "letivo",
                    "relatorio de notas",
                    "notas e faltas",
                    "rendimento escolar",
                    "desempenho escolar",
                    "ficha de avaliacao",
                    "avaliacoes",
                    "aproveitamento",
                    "quadro de notas",
                    "mapa de notas",
                    "resultados finais",
                    "notas parciais",
                    "notas finais",
                    "rendimento",
                    "desempenho",
                    "relatorio de",
                ]
                .iter()
                .any(|w| f.contains(w)))
            .then(|| year(&t))
            .flatten()
        });
    }
    // Several schools by label (a histórico's years at other schools): none
    // of them is surely the issuing one; the letterhead's is, else the last.
    if schools.len() >= 2 {
        h.school = title_school(lines).or_else(|| schools.last().cloned());
    }
    if h.school.is_none() {
        h.school = title_school(lines);
    }
    h
}

/// The letterhead's school: a title line naming one (`ESCOLA ESTADUAL …`,
/// `Colégio …`) among the first lines.
fn title_school(lines: &[Line]) -> Option<String> {
    {
        // A title line naming the school ("ESCOLA ESTADUAL ...", "Colégio ..."):
        // the cell that does (a right-aligned `Pág. 1/2` on the line is not
        // the name; a box of two columns puts it beside the student's).
        lines
            .iter()
            .take(12)
            .flat_map(|l| l.cells.iter().map(|c| c.text.clone()))
            .find(|t| {
                let f = fold(t);
                ([
                    "escola ",
                    "colegio ",
                    "instituto ",
                    "centro educacional",
                    "centro de ensino",
                    "e. e. ",
                    "e.e. ",
                    "e. m. ",
                    "e.m. ",
                    "emei ",
                    "emef ",
                    "emeif ",
                    "emeb ",
                    "eeefm ",
                    "eef ",
                    "cei ",
                    "cmei ",
                    "ciep ",
                ]
                .iter()
                .any(|p| f.starts_with(p))
                    || dotted_school(&f))
                    && !f.contains(':')
            })
    }
}

/// `E.M.E.F. Nossa Senhora`, `E. E. E. F. M. Rui Barbosa`: a school's
/// dotted initials (starting with `E.`, for escola), then its name.
fn dotted_school(folded: &str) -> bool {
    let mut letters = 0;
    let mut rest = folded;
    loop {
        let t = rest.trim_start();
        let mut c = t.chars();
        match (c.next(), c.next()) {
            (Some(l), Some('.')) if l.is_ascii_alphabetic() => {
                if letters == 0 && l != 'e' {
                    return false;
                }
                letters += 1;
                rest = &t[2..];
            }
            _ => return letters >= 2 && t.chars().next().is_some_and(char::is_alphabetic),
        }
    }
}

/// A value read across the joined line that runs on into a later cell of
/// its own (`NOME: LUIZA CLARA OLIVEIRA` then, a column away, `Nº 25`):
/// it ends where that cell starts.
fn within_cell<'a>(line: &Line, value: &'a str) -> &'a str {
    let Some(first) = value.split_whitespace().next() else {
        return value;
    };
    // The cell the value starts in, then every cell after it.
    let Some(start) = line
        .cells
        .iter()
        .position(|c| c.text.split_whitespace().any(|w| w == first))
    else {
        return value;
    };
    for c in &line.cells[start + 1..] {
        let t = c.text.trim();
        if let Some(at) = value.find(t).filter(|&at| at > 0) {
            if value[..at].ends_with(' ') {
                return value[..at].trim_end();
            }
        }
    }
    value
}

/// The CNPJ's digits: the first run of digits and its punctuation
/// (`98.765.432/0001-10`), not whatever number follows on the line.
fn cnpj_digits(v: &str) -> String {
    let mut out = String::new();
    for c in v.chars() {
        if c.is_ascii_digit() {
            out.push(c);
        } else if matches!(c, '.' | '/' | '-' | ' ') && out.len() < 14 {
            if c == ' ' && !out.is_empty() {
                break;
            }
        } else if !out.is_empty() {
            break;
        }
    }
    if out.len() >= 14 {
        out.truncate(14);
        return out;
    }
    digits(v)
}

/// OCR reads `1ª Série` / `6º Ano` as `12 Série` / `62 Ano`: no school has
/// a 12th série or a 62nd ano, so a two-digit number ending in 2 before
/// `Ano`/`Série` gets its ordinal mark back.
fn ocr_ordinal(v: &str) -> String {
    let words: Vec<&str> = v.split_whitespace().collect();
    let mut out: Vec<String> = words.iter().map(|w| w.to_string()).collect();
    for i in 0..words.len().saturating_sub(1) {
        let w = words[i];
        let next = fold(words[i + 1]);
        let serie = next.starts_with("serie");
        if (next.starts_with("ano") || serie)
            && w.len() == 2
            && w.ends_with('2')
            && w.chars().all(|c| c.is_ascii_digit())
            && w != "12"
            || (w == "12" && serie)
        {
            let mark = if serie { 'ª' } else { 'º' };
            out[i] = format!("{}{mark}", &w[..1]);
        }
    }
    out.join(" ")
}

fn set(slot: &mut Option<String>, v: String) {
    if slot.is_none() && !v.is_empty() {
        *slot = Some(v);
    }
}

fn first_token(v: &str) -> String {
    v.split_whitespace().next().unwrap_or("").to_string()
}

/// Names end at a stray label-like tail; collapse spaces.
fn clean_name(v: &str) -> String {
    v.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The first 4-digit year in 1990..=2100.
pub(crate) fn year(v: &str) -> Option<i32> {
    let chars: Vec<char> = v.chars().collect();
    for i in 0..chars.len().saturating_sub(3) {
        let w = &chars[i..i + 4];
        let bounded = (i == 0 || !chars[i - 1].is_ascii_digit())
            && chars.get(i + 4).is_none_or(|c| !c.is_ascii_digit());
        if bounded && w.iter().all(char::is_ascii_digit) {
            let y: i32 = w.iter().collect::<String>().parse().ok()?;
            if (1990..=2100).contains(&y) {
                return Some(y);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_value_pairs_on_one_line() {
        let p = pairs("Aluno(a): João Pedro de Souza   Matrícula: 2024001234");
        assert_eq!(
            p,
            [
                (Field::Name, "João Pedro de Souza".into()),
                (Field::Registration, "2024001234".into())
            ]
        );
        let p = pairs("Data de Nascimento: 15/03/2011 Turma: 7º Ano B");
        assert_eq!(
            p,
            [
                (Field::BirthDate, "15/03/2011".into()),
                (Field::Class, "7º Ano B".into())
            ]
        );
        let p = pairs("BOLETIM ESCOLAR - ANO LETIVO 2024");
        assert_eq!(p, [(Field::Year, "2024".into())]);
        // A value stops at a label the reader does not know, and at one it does.
        assert_eq!(before_next_label("8º ANO SITUACAO: CURSANDO"), "8º ANO");
        assert_eq!(
            before_next_label("BERNARDO DA SILVA REGISTRO DO ALUNO:"),
            "BERNARDO DA SILVA"
        );
        assert_eq!(before_next_label("Maria Souza"), "Maria Souza");
        assert!(pairs("Turma 7º Ano B sem dois pontos").is_empty());
        let p = pairs("CNPJ 98.765.432/0001-10    INEP: 35742684");
        assert_eq!(p[0], (Field::Cnpj, "98.765.432/0001-10".into()));
        assert_eq!(cnpj_digits("98.765.432/0001-10    8"), "98765432000110");
        let p = pairs("C.N.P.J.: 98.765.432/0001-10");
        assert_eq!(p, [(Field::Cnpj, "98.765.432/0001-10".into())]);
        let p = pairs("Escola: E. E. Prof. Maria | CNPJ: 11.222.333/0001-81");
        assert_eq!(
            p,
            [
                (Field::School, "E. E. Prof. Maria".into()),
                (Field::Cnpj, "11.222.333/0001-81".into())
            ]
        );
    }

    #[test]
    fn a_name_ends_at_its_cell_and_dotted_initials_are_a_school() {
        let l = line(
            &[
                ("NOME DO ESTUDANTE: LUIZA CLARA OLIVEIRA", 30.0),
                ("Nº 25", 300.0),
                ("TURMA: 6º ANO E", 360.0),
            ],
            100.0,
        );
        let h = header(&[l]);
        assert_eq!(h.name.as_deref(), Some("LUIZA CLARA OLIVEIRA"));
        assert_eq!(h.class_name.as_deref(), Some("6º ANO E"));
        assert!(dotted_school("e.m.e.f. nossa senhora aparecida"));
        assert!(dotted_school("e. e. e. f. m. rui barbosa"));
        assert!(!dotted_school("s.a. comercio"));
        assert!(!dotted_school("e. silva"));
    }

    fn line(cells: &[(&str, f64)], y: f64) -> Line {
        crate::layout::lines(1, crate::layout::words_at(cells, y)).remove(0)
    }

    #[test]
    fn usual_wordings_of_the_labels() {
        let h = header(&[
            line(&[("Nome do Estudante: Ana Souza Lima", 40.0)], 100.0),
            line(
                &[("Nº de Matrícula: 2024-0042  Nasc.: 03/02/2012", 40.0)],
                114.0,
            ),
            line(&[("Código INEP: 35012345  Exercício: 2024", 40.0)], 128.0),
            line(&[("Série/Turma: 7º Ano B", 40.0)], 142.0),
            line(
                &[("Colégio: Colégio Horizonte  CNPJ 11222333000181", 40.0)],
                156.0,
            ),
        ]);
        assert_eq!(h.name.as_deref(), Some("Ana Souza Lima"));
        assert_eq!(h.registration.as_deref(), Some("2024-0042"));
        assert_eq!(h.birth_date.as_deref(), Some("2012-02-03"));
        assert_eq!(h.year, Some(2024));
        assert_eq!(h.class_name.as_deref(), Some("7º Ano B"));
        assert_eq!(h.school.as_deref(), Some("Colégio Horizonte"));
        assert_eq!(h.cnpj.as_deref(), Some("11222333000181"));
        let h = header(&[line(
            &[("R.A.: 123456-7  Estudante: Caio Reis", 40.0)],
            100.0,
        )]);
        assert_eq!(h.registration.as_deref(), Some("123456-7"));
        assert_eq!(h.name.as_deref(), Some("Caio Reis"));
        // `Código:` is the student's code only with digits.
        let h = header(&[line(
            &[("Código: 13613260653  Turma: 2ª Série", 40.0)],
            100.0,
        )]);
        assert_eq!(h.registration.as_deref(), Some("13613260653"));
        let h = header(&[line(&[("Código:", 40.0), ("Componente", 120.0)], 100.0)]);
        assert_eq!(h.registration, None);
    }

    #[test]
    fn a_historico_of_several_schools_is_issued_by_its_letterhead() {
        let letterhead = line(&[("EMEF Nossa Senhora Aparecida", 200.0)], 80.0);
        let years = [
            line(&[("Escola: Colégio Estadual Anísio Teixeira", 40.0)], 100.0),
            line(
                &[("Escola: EMEF Nossa Senhora Aparecida - Londrina/PR", 40.0)],
                140.0,
            ),
        ];
        let mut all = vec![letterhead];
        all.extend(years.iter().cloned());
        let h = header(&all);
        assert_eq!(h.school.as_deref(), Some("EMEF Nossa Senhora Aparecida"));
        // No letterhead: the last school named, the one that issues it.
        assert_eq!(
            header(&years).school.as_deref(),
            Some("EMEF Nossa Senhora Aparecida - Londrina/PR")
        );
        // One school, named twice with its town: that school.
        let once = [
            line(&[("Unidade Escolar: E.E. Tiradentes", 40.0)], 100.0),
            line(&[("Escola: E.E. Tiradentes - Salvador/BA", 40.0)], 140.0),
        ];
        assert_eq!(header(&once).school.as_deref(), Some("E.E. Tiradentes"));
    }

    #[test]
    fn labels_in_boxes_without_colons() {
        // Label and value in neighbouring cells.
        let h = header(&[line(
            &[
                ("Aluno", 40.0),
                ("Bruno Dias", 120.0),
                ("RA", 300.0),
                ("99881", 340.0),
            ],
            100.0,
        )]);
        assert_eq!(h.name.as_deref(), Some("Bruno Dias"));
        assert_eq!(h.registration.as_deref(), Some("99881"));
        // Labels over their values.
        let h = header(&[
            line(
                &[("Estudante", 40.0), ("Turma", 250.0), ("Ano Letivo", 350.0)],
                100.0,
            ),
            line(
                &[("Carla Nunes", 40.0), ("8º A", 250.0), ("2023", 352.0)],
                114.0,
            ),
        ]);
        assert_eq!(h.name.as_deref(), Some("Carla Nunes"));
        assert_eq!(h.class_name.as_deref(), Some("8º A"));
        assert_eq!(h.year, Some(2023));
        // A subject name is not a label.
        assert!(
            header(&[line(&[("Matemática", 40.0), ("8,0", 200.0)], 100.0)])
                .name
                .is_none()
        );
    }

    #[test]
    fn ocr_ordinals() {
        assert_eq!(ocr_ordinal("12 Série B"), "1ª Série B");
        assert_eq!(ocr_ordinal("62 Ano A"), "6º Ano A");
        assert_eq!(ocr_ordinal("7º Ano B"), "7º Ano B");
        assert_eq!(ocr_ordinal("12 Ano"), "12 Ano");
    }

    #[test]
    fn years() {
        assert_eq!(year("2024"), Some(2024));
        assert_eq!(year("Ano letivo de 2023 - 6º ano"), Some(2023));
        assert_eq!(year("20245"), None);
        assert_eq!(year("1850"), None);
    }
}

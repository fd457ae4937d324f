//! pt-BR values of a document to canonical ones: decimal comma numbers
//! (`8,5`), dates (`15/03/2011` → `2011-03-15`), percentages, CNPJ digits,
//! and subject names to a canonical list with ASCII slug codes (`Língua
//! Portuguesa` → `lingua-portuguesa`). The rules themselves (fold, slug,
//! numbers, dates) are the `ptbr` crate's, shared with academic ingestion so
//! a subject read from a document and from a CSV gets one code; this module
//! adds what only printed documents need (OCR slips, the subject list).
//! Pure functions, compiled without features (`jobs` builds extraction
//! results by hand in its tests); the parser keeps the originals.

pub use ptbr::{fold, slug};

/// A pt-BR number: `8,5`, `8.5`, `10`, `1.234,5`, `92%`, `92,5 %`.
/// `None` for anything else (a dash, `—`, empty, letters).
pub fn number(s: &str) -> Option<f64> {
    let t = s.trim();
    let core = t.strip_suffix('%').unwrap_or(t).trim_end();
    // OCR reads a decimal comma as a semicolon now and then (`5;5`).
    let fixed;
    let t = if core.matches(';').count() == 1 && !core.starts_with(';') && !core.ends_with(';') {
        fixed = t.replace(';', ",");
        fixed.as_str()
    } else {
        t
    };
    // In a grade table a leading dash is an empty cell or a rule, never a sign.
    if t.starts_with('-') {
        return None;
    }
    ptbr::parse_decimal(t)
}

/// `dd/mm/aaaa` (or `dd-mm-aaaa`, `dd.mm.aaaa`, two-digit years as 19xx/20xx)
/// to ISO `aaaa-mm-dd`, checking the day exists.
pub fn date(s: &str) -> Option<String> {
    ptbr::parse_date_loose(s).map(|d| d.to_string())
}

/// The ordinal of a grade level as printed: `1ª Série`, `6º Ano`. OCR
/// reads the mark as `°`, `o`, `a` or a digit (`13 Série`, `62 Ano`, `2º
/// Série`); before `Série` it is `ª`, before `Ano` `º` (a level is one
/// digit, so `13` there is `1` and a misread mark).
pub fn level_ordinals(s: &str) -> String {
    let words: Vec<&str> = s.split(' ').collect();
    let mut out: Vec<String> = Vec::with_capacity(words.len());
    for (i, w) in words.iter().enumerate() {
        let next = words.get(i + 1).map(|n| fold(n)).unwrap_or_default();
        let mark = if next.starts_with("serie") {
            'ª'
        } else if next.trim_end_matches([',', '-', ';']) == "ano" {
            'º'
        } else {
            out.push((*w).to_string());
            continue;
        };
        let c: Vec<char> = w.chars().collect();
        let fixed = match c.as_slice() {
            [d] if d.is_ascii_digit() => None,
            [d, m]
                if d.is_ascii_digit()
                    && matches!(m, 'º' | 'ª' | '°' | 'o' | 'a' | '2' | '3' | '9') =>
            {
                Some(format!("{d}{mark}"))
            }
            _ => None,
        };
        out.push(fixed.unwrap_or_else(|| (*w).to_string()));
    }
    out.join(" ")
}

/// Splits `text` where byte `at` of its [`fold`] falls: `fold` maps one
/// char to one char, so a match found in the folded text (a label, a
/// keyword) cuts the original at the same char. `(before, from)`.
pub(crate) fn split_at_folded(text: &str, folded: &str, at: usize) -> (String, String) {
    let n = folded[..at].chars().count();
    (
        text.chars().take(n).collect(),
        text.chars().skip(n).collect(),
    )
}

/// Digits only.
pub fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

/// Canonical subjects of the Brazilian basic-education curriculum (BNCC and
/// the usual high-school split), with the spellings seen on boletins.
const SUBJECTS: &[(&str, &[&str])] = &[
    (
        "Língua Portuguesa",
        &[
            "lingua portuguesa",
            "portugues",
            "port",
            "lp",
            "lingua portuguesa e literatura",
            "portugues e literatura",
            "l portuguesa",
            "lingua port",
            "l port",
            "lingua portuguesa e literatura",
            "portugues e redacao",
            "portugues e literatura brasileira",
            "lingua portuguesa e literatura brasileira",
            "lingua portuguesa e redacao",
        ],
    ),
    (
        "Matemática",
        &[
            "matematica",
            "mat",
            "matem",
            "matematica e suas tecnologias",
        ],
    ),
    ("História", &["historia", "hist"]),
    ("Geografia", &["geografia", "geo", "geog"]),
    (
        "Ciências",
        &[
            "ciencias",
            "cien",
            "ciencias naturais",
            "cie",
            "ciencias da natureza",
            "ciencias da natureza e suas tecnologias",
        ],
    ),
    (
        "Arte",
        &["arte", "artes", "educacao artistica", "artes visuais"],
    ),
    (
        "Educação Física",
        &[
            "educacao fisica",
            "ed fisica",
            "ed. fisica",
            "edf",
            "ef",
            "educ fisica",
        ],
    ),
    (
        "Língua Inglesa",
        &[
            "lingua inglesa",
            "ingles",
            "lingua estrangeira ingles",
            "lem ingles",
            "lingua estrangeira moderna ingles",
            "l inglesa",
            "lem",
        ],
    ),
    (
        "Língua Espanhola",
        &[
            "lingua espanhola",
            "espanhol",
            "lem espanhol",
            "lingua estrangeira moderna espanhol",
            "lingua estrangeira espanhol",
        ],
    ),
    (
        "Ensino Religioso",
        &[
            "ensino religioso",
            "religiao",
            "ens religioso",
            "ens relig",
            "educacao religiosa",
        ],
    ),
    ("Física", &["fisica"]),
    ("Química", &["quimica"]),
    ("Biologia", &["biologia", "bio"]),
    ("Filosofia", &["filosofia", "filo"]),
    ("Sociologia", &["sociologia", "socio"]),
    ("Literatura", &["literatura"]),
    (
        "Redação",
        &["redacao", "producao textual", "producao de texto"],
    ),
    ("Projeto de Vida", &["projeto de vida"]),
    ("Informática", &["informatica"]),
];

/// `(canonical name, code)` for a subject as written; the original and its
/// slug when it is not in the list.
pub fn subject(original: &str) -> (String, String) {
    let key: String = fold(original)
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == ' ' {
                c
            } else {
                ' '
            }
        })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let spelled = |s: &str| {
        s.replace('.', " ")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    for (name, spellings) in SUBJECTS {
        if spellings.iter().any(|s| spelled(s) == key) {
            return (name.to_string(), slug(name));
        }
    }
    // `Educação Física e Práticas Corporais`: a component's full name (two
    // words or more) and ` e ` something is that component.
    for (name, spellings) in SUBJECTS {
        if spellings.iter().any(|s| {
            let s = spelled(s);
            s.contains(' ') && key.starts_with(&format!("{s} e "))
        }) {
            return (name.to_string(), slug(name));
        }
    }
    if let Some(name) = abbreviated(original) {
        return (name.to_string(), slug(name));
    }
    let trimmed = original.trim().to_string();
    let code = slug(&trimmed);
    (trimmed, code)
}

/// Words a school drops or joins with when it abbreviates a name.
const LINKS: &[&str] = &["e", "de", "da", "do", "das", "dos", "-", "–", "/"];

/// Abbreviations the list does not spell out (`Educ. Fís.`, `L. Ingl.`,
/// `Matem.`, `Quím.`, `Ciên.`, `Sociol.`, `Ens. Rel.`): each written word
/// ending in a dot is a prefix of the matching word of one spelling, the
/// others equal it, and exactly one component fits. A word without a dot
/// must be whole, so `Física` stays Física and `Ed` alone matches nothing.
fn abbreviated(original: &str) -> Option<&'static str> {
    let folded = fold(original);
    let words: Vec<(String, bool)> = folded
        .split_whitespace()
        .filter(|w| !LINKS.contains(w))
        .map(|w| {
            let dotted = w.ends_with('.');
            let core: String = w.chars().filter(|c| c.is_alphanumeric()).collect();
            (core, dotted)
        })
        .filter(|(c, _)| !c.is_empty())
        .collect();
    if words.is_empty() || !words.iter().any(|(_, d)| *d) {
        return None;
    }
    let fits = |spelling: &str| {
        let target: Vec<String> = spelling
            .split_whitespace()
            .filter(|w| !LINKS.contains(w))
            .map(|w| w.chars().filter(|c| c.is_alphanumeric()).collect())
            .collect();
        target.len() == words.len()
            && words.iter().zip(&target).all(|((w, dotted), t)| {
                if *dotted {
                    t.starts_with(w.as_str()) && (w.len() >= 3 || words.len() > 1)
                } else {
                    w == t
                }
            })
    };
    let mut found: Option<&'static str> = None;
    for (name, spellings) in SUBJECTS {
        if spellings.iter().any(|s| fits(s)) {
            if found.is_some_and(|f| f != *name) {
                return None;
            }
            found = Some(name);
        }
    }
    found
}

/// Whether `s` names a known subject (used to tell rows from other lines).
pub fn is_known_subject(s: &str) -> bool {
    let (name, _) = subject(s);
    SUBJECTS.iter().any(|(n, _)| *n == name)
}

/// `Aprovado`, `APROVADO`, `Aprov.` → `aprovado`; keeps accents
/// (`recuperação`) as the model documents.
pub fn status(s: &str) -> Option<String> {
    let f = fold(s.trim());
    // `Rec.`, `Rep.`: an abbreviation's dot.
    let f = f.trim_end_matches('.');
    // `Em recuperação`, `Em exame`: the state the student is in.
    let r = f.strip_prefix("em ").unwrap_or(f);
    let canonical = if f.starts_with("aprov") || f == "ap" || f == "apr" {
        "aprovado"
    } else if f.starts_with("reprov") || f == "rp" || f == "rep" {
        "reprovado"
    } else if r.starts_with("recup") || f == "rec" || r == "exame" {
        "recuperação"
    } else if f.starts_with("cursando")
        || f == "cur"
        || f.starts_with("em curso")
        || f.starts_with("em andamento")
    {
        "cursando"
    } else if f.starts_with("promovid") {
        "promovido"
    } else if f.starts_with("retid") {
        "retido"
    } else if f.starts_with("transfer") {
        "transferido"
    } else {
        return None;
    };
    Some(canonical.to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn grade_level_ordinals_as_printed() {
        assert_eq!(level_ordinals("13 Série A"), "1ª Série A");
        assert_eq!(level_ordinals("2º Série"), "2ª Série");
        assert_eq!(level_ordinals("3° SÉRIE"), "3ª SÉRIE");
        assert_eq!(level_ordinals("62 Ano B"), "6º Ano B");
        assert_eq!(level_ordinals("7º Ano"), "7º Ano");
        assert_eq!(level_ordinals("1ª Série - C"), "1ª Série - C");
        assert_eq!(level_ordinals("Turma 302"), "Turma 302");
        assert_eq!(level_ordinals("2020 Ano"), "2020 Ano");
    }

    use super::*;

    #[test]
    fn numbers_with_decimal_comma() {
        assert_eq!(number("8,5"), Some(8.5));
        assert_eq!(number(" 10 "), Some(10.0));
        assert_eq!(number("7.25"), Some(7.25));
        assert_eq!(number("92%"), Some(92.0));
        assert_eq!(number("92,5 %"), Some(92.5));
        assert_eq!(number("1.234,5"), Some(1234.5));
        assert_eq!(number("5;5"), Some(5.5));
        assert_eq!(number(";"), None);
        assert_eq!(number("-"), None);
        assert_eq!(number("—"), None);
        assert_eq!(number(""), None);
        assert_eq!(number("8,5a"), None);
        assert_eq!(number(","), None);
        assert_eq!(number("-5"), None);
        assert_eq!(number("1.0.0"), None);
    }

    #[test]
    fn dates_to_iso() {
        assert_eq!(date("15/03/2011").as_deref(), Some("2011-03-15"));
        assert_eq!(date("1/2/2010").as_deref(), Some("2010-02-01"));
        assert_eq!(date("29/02/2012").as_deref(), Some("2012-02-29"));
        assert_eq!(date("29/02/2011"), None);
        assert_eq!(date("31/04/2011"), None);
        assert_eq!(date("15-03-11").as_deref(), Some("2011-03-15"));
        assert_eq!(date("março"), None);
    }

    #[test]
    fn subjects_to_canonical_codes() {
        assert_eq!(
            subject("MATEMÁTICA"),
            ("Matemática".into(), "matematica".into())
        );
        assert_eq!(
            subject("Matematica"),
            ("Matemática".into(), "matematica".into())
        );
        assert_eq!(
            subject("Português"),
            ("Língua Portuguesa".into(), "lingua-portuguesa".into())
        );
        assert_eq!(
            subject("Ed. Física"),
            ("Educação Física".into(), "educacao-fisica".into())
        );
        assert_eq!(
            subject("Inglês"),
            ("Língua Inglesa".into(), "lingua-inglesa".into())
        );
        assert_eq!(
            subject("Robótica Educacional"),
            ("Robótica Educacional".into(), "robotica-educacional".into())
        );
        assert!(is_known_subject("Ciências"));
        assert_eq!(subject("L. Portuguesa").1, "lingua-portuguesa");
        assert_eq!(subject("Ens. Religioso").1, "ensino-religioso");
        assert_eq!(
            subject("Educação Física e Práticas Corporais").1,
            "educacao-fisica"
        );
        assert_eq!(subject("Física e Química").1, "fisica-e-quimica");
        assert!(!is_known_subject("Nome do Aluno"));
    }

    #[test]
    fn abbreviations_by_prefix() {
        for (written, code) in [
            ("Educ. Fís.", "educacao-fisica"),
            ("EDUC. FÍS.", "educacao-fisica"),
            ("L. INGL.", "lingua-inglesa"),
            ("Matem.", "matematica"),
            ("Quím.", "quimica"),
            ("Ciên.", "ciencias"),
            ("CIÊNC.", "ciencias"),
            ("Sociol.", "sociologia"),
            ("Biol.", "biologia"),
            ("Ens. Rel.", "ensino-religioso"),
            ("Geog.", "geografia"),
            ("LEM - Inglês", "lingua-inglesa"),
            ("Língua Estrangeira Moderna - Espanhol", "lingua-espanhola"),
        ] {
            assert_eq!(subject(written).1, code, "{written}");
        }
        // Ambiguous or too short: not guessed.
        assert!(!is_known_subject("Líng."));
        assert!(!is_known_subject("Ed."));
        assert!(!is_known_subject("Número da Nota"));
    }

    #[test]
    fn unlisted_subjects_get_the_shared_slug() {
        let name = "Língua Portuguesa 1º ano – Redação";
        assert_eq!(
            subject(name),
            (name.into(), "lingua-portuguesa-1-ano-redacao".into())
        );
        let long = "Introdução à Educação Ambiental e às Práticas Sustentáveis na Ética Escolar";
        let (_, code) = subject(long);
        assert_eq!(code, ptbr::slug(long));
        assert_eq!(code.len(), 63);
    }

    #[test]
    fn statuses_and_slugs() {
        assert_eq!(status("APROVADO").as_deref(), Some("aprovado"));
        assert_eq!(status("Recuperação").as_deref(), Some("recuperação"));
        assert_eq!(status("xyz"), None);
        assert_eq!(status("Rec.").as_deref(), Some("recuperação"));
        assert_eq!(status("REP.").as_deref(), Some("reprovado"));
        assert_eq!(status("EM CURSO").as_deref(), Some("cursando"));
        assert_eq!(status("Em recuperação").as_deref(), Some("recuperação"));
        let t = "LEGENDA: POR – Língua";
        let f = fold(t);
        let at = f.find("por").unwrap();
        assert_eq!(
            split_at_folded(t, &f, at),
            ("LEGENDA: ".into(), "POR – Língua".into())
        );
        assert_eq!(slug("  Língua  Portuguesa! "), "lingua-portuguesa");
    }
}

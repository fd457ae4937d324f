//! Accent folding and slugs. A slug is what `academic_subjects.code`
//! (migration 0005) and `tenants.slug` (0001) hold; both check
//! `^[a-z0-9][a-z0-9-]{0,62}$`.
//!
//! The slug rule is the one academic ingestion and alert rules always used
//! (most stored codes came that way): ordinal marks separate words
//! (`1º ano` → `1-ano`) and the result stops at 63 chars. The documents
//! extractor used to turn `º` into `o` (`1o-ano`) and not cut; migration
//! 0010 merged the subjects that split.

/// Longest slug: the `{0,62}` of the 0001 and 0005 checks, plus the first char.
pub const SLUG_MAX: usize = 63;

/// Lower case without accents, one char out for each char in, so a
/// position found in the folded text is the same char position in the
/// original. `º` and `°` (typed for `º`) fold to `o`, `ª` to `a`, so
/// `1º Bim` and `1o bim` read the same.
pub fn fold(s: &str) -> String {
    s.chars().map(fold_char).collect()
}

/// [`fold`] of one char.
pub fn fold_char(c: char) -> char {
    // The first char of the lower case: one char out per char in
    // (only `İ` lowers to two, `i` + a combining dot).
    let c = c.to_lowercase().next().unwrap_or(c);
    match c {
        'á' | 'à' | 'â' | 'ã' | 'ä' => 'a',
        'é' | 'è' | 'ê' | 'ë' => 'e',
        'í' | 'ì' | 'î' | 'ï' => 'i',
        'ó' | 'ò' | 'ô' | 'õ' | 'ö' => 'o',
        'ú' | 'ù' | 'û' | 'ü' => 'u',
        'ç' => 'c',
        'ñ' => 'n',
        'º' | '°' => 'o',
        'ª' => 'a',
        _ => c,
    }
}

/// Ordinal marks, and the degree sign typed for `º`: a slug drops them.
fn is_ordinal_mark(c: char) -> bool {
    matches!(c, 'º' | 'ª' | '°')
}

/// The slug of a name: `Língua Portuguesa 1º ano – Redação` →
/// `lingua-portuguesa-1-ano-redacao`. Folded; ordinal marks count as
/// spaces; every run of chars that are not ASCII letters or digits becomes
/// one `-`, none at either end; at most [`SLUG_MAX`] chars (cut, then a
/// trailing `-` dropped). A slug is its own slug, so a code given where a
/// name is expected stays that code. Empty when nothing is left.
pub fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        let c = if is_ordinal_mark(c) {
            ' '
        } else {
            fold_char(c)
        };
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
        if out.len() > SLUG_MAX {
            break;
        }
    }
    // ASCII only, so any byte index is a char boundary.
    out.truncate(SLUG_MAX);
    while out.ends_with('-') {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn fold_drops_accents_and_case_char_for_char() {
        assert_eq!(fold("Língua Portuguesa"), "lingua portuguesa");
        assert_eq!(fold("AÇÃO É ÓTIMA"), "acao e otima");
        assert_eq!(fold("Educação Física"), "educacao fisica");
        assert_eq!(fold("1º Bim 2ª Etapa 3° Trim"), "1o bim 2a etapa 3o trim");
        assert_eq!(fold("ÑANDÚ"), "nandu");
        let s = "São João — Ciências (7ª série)";
        assert_eq!(fold(s).chars().count(), s.chars().count());
        assert_eq!(fold("İ").chars().count(), 1);
    }

    #[test]
    fn slug_is_ascii_words_joined_by_dashes() {
        assert_eq!(slug("Língua Portuguesa"), "lingua-portuguesa");
        assert_eq!(slug("  Língua  Portuguesa! "), "lingua-portuguesa");
        assert_eq!(slug("Escola Estadual São João"), "escola-estadual-sao-joao");
        assert_eq!(slug("  Ação & Cia.  "), "acao-cia");
        assert_eq!(slug("EDUCAÇÃO FÍSICA"), "educacao-fisica");
        assert_eq!(slug("matematica"), "matematica");
        assert_eq!(slug("lingua-portuguesa"), "lingua-portuguesa");
        assert_eq!(slug("!!!"), "");
        assert_eq!(slug(""), "");
    }

    #[test]
    fn ordinal_marks_separate_words() {
        assert_eq!(
            slug("Língua Portuguesa 1º ano – Redação"),
            "lingua-portuguesa-1-ano-redacao"
        );
        assert_eq!(slug("1ª Série"), "1-serie");
        assert_eq!(slug("2° Bimestre"), "2-bimestre");
        assert_eq!(slug("9ºano"), "9-ano");
        assert_eq!(slug("º"), "");
        // An `o` that is a letter stays.
        assert_eq!(slug("Ciclo 1o"), "ciclo-1o");
    }

    #[test]
    fn mixed_whitespace_is_one_dash() {
        assert_eq!(
            slug("Arte\t\tVisual\n e\u{a0}Música\r\n"),
            "arte-visual-e-musica"
        );
        assert_eq!(slug(" \u{2003}Química – Orgânica "), "quimica-organica");
    }

    #[test]
    fn slugs_stop_at_63_chars_without_a_trailing_dash() {
        // 62 ASCII chars of slug, then a word: the cut leaves `…-` and drops it.
        let name = format!("{} Ética", "a".repeat(62));
        assert_eq!(slug(&name), "a".repeat(62));
        // Accents right at the cut: counted as the one ASCII char they fold to.
        let name = "Introdução à Educação Ambiental e às Práticas Sustentáveis \
                    na Ética Escolar";
        let s = slug(name);
        assert_eq!(
            s,
            "introducao-a-educacao-ambiental-e-as-praticas-sustentaveis-na-e"
        );
        assert_eq!(s.len(), SLUG_MAX);
        assert_eq!(slug(&s), s, "a cut slug is its own slug");
        let long = "História da Arte Brasileira: do Período Colonial ao Modernismo Ç";
        assert!(slug(long).len() <= SLUG_MAX);
        assert!(!slug(long).ends_with('-'));
    }

    proptest! {
        #[test]
        fn slugs_pass_the_migration_check(s in "\\PC{0,120}") {
            let out = slug(&s);
            prop_assert!(out.len() <= SLUG_MAX);
            prop_assert!(out.is_empty() || (!out.starts_with('-') && !out.ends_with('-')));
            prop_assert!(!out.contains("--"));
            prop_assert!(out.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'));
            prop_assert_eq!(slug(&out), out.clone());
        }

        #[test]
        fn fold_keeps_the_char_count(s in "\\PC{0,80}") {
            prop_assert_eq!(fold(&s).chars().count(), s.chars().count());
        }
    }
}

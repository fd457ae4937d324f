//! A legend that spells out the column acronyms (`LEGENDA: POR - LÍNGUA
//! PORTUGUESA; MAT - MATEMÁTICA; ING - LÍNGUA INGLESA`): the document's own
//! abbreviations, which no general lexicon can know (`POR`, `ENR`, `ESP`).
//! The legend is read wherever it is printed (often under the table), and a
//! line holding at least three of its acronyms as whole cells (the header)
//! has them replaced by the components they stand for before parsing.

use crate::layout::Line;
use crate::normalize::{fold, is_known_subject};

/// `(acronym as printed, component)` pairs a legend spells out.
fn entries(lines: &[Line]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in lines {
        let text = line.text();
        let folded = fold(&text);
        let body: String = match folded.find("legenda") {
            Some(at) => crate::normalize::split_at_folded(&text, &folded, at + "legenda".len()).1,
            None => text.clone(),
        };
        let body = body.trim_start_matches([':', ' ', '-']);
        for part in body.split([';', ',', '|']) {
            let part = part.trim().trim_end_matches('.');
            let Some((acr, name)) = [" - ", " – ", " = ", ": ", " — "]
                .iter()
                .find_map(|sep| part.split_once(sep))
            else {
                continue;
            };
            let acr = acr.trim();
            let name = name.trim();
            let short = (1..=6).contains(&acr.chars().count())
                && acr.chars().all(|c| c.is_alphanumeric() || c == '.')
                && acr.chars().any(char::is_alphabetic);
            if short && is_known_subject(name) && !out.iter().any(|(a, _)| a == acr) {
                out.push((acr.to_string(), crate::normalize::subject(name).0));
            }
        }
    }
    if out.len() >= 3 {
        out
    } else {
        Vec::new()
    }
}

/// The lines with a legend's acronyms spelled out where three or more of
/// them stand as cells of one line; `None` when there is no legend or no
/// such line.
pub(crate) fn expand(lines: &[Line]) -> Option<Vec<Line>> {
    let legend = entries(lines);
    if legend.is_empty() {
        return None;
    }
    let meaning = |t: &str| {
        let t = t.trim();
        legend
            .iter()
            .find(|(a, _)| a == t || a.trim_end_matches('.') == t.trim_end_matches('.'))
            .map(|(_, n)| n.clone())
    };
    let mut changed = false;
    let out = lines
        .iter()
        .map(|line| {
            let hits = line
                .cells
                .iter()
                .filter(|c| meaning(&c.text).is_some())
                .count();
            if hits < 3 {
                return line.clone();
            }
            changed = true;
            let mut l = line.clone();
            for c in &mut l.cells {
                if let Some(n) = meaning(&c.text) {
                    c.text = n;
                }
            }
            for w in &mut l.words {
                if let Some(n) = meaning(&w.text) {
                    w.text = n;
                }
            }
            l
        })
        .collect();
    changed.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::{lines, words_at};

    #[test]
    fn a_legend_spells_out_the_headers_acronyms() {
        let mut ws = words_at(
            &[
                ("AVALIAÇÃO", 40.0),
                ("POR", 200.0),
                ("MAT", 240.0),
                ("ENR", 280.0),
            ],
            100.0,
        );
        ws.extend(words_at(
            &[
                ("1º BIM", 40.0),
                ("7,0", 200.0),
                ("8,0", 240.0),
                ("9,0", 280.0),
            ],
            114.0,
        ));
        ws.extend(words_at(
            &[(
                "LEGENDA: POR - LÍNGUA PORTUGUESA; MAT - MATEMÁTICA; ENR - ENSINO RELIGIOSO",
                40.0,
            )],
            140.0,
        ));
        let ls = lines(1, ws);
        let out = expand(&ls).unwrap();
        let head: Vec<&str> = out[0].cells.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(
            head[1..],
            ["Língua Portuguesa", "Matemática", "Ensino Religioso"]
        );
        assert_eq!(out[1].text(), ls[1].text(), "a row of values is left alone");
        // Two acronyms are no legend.
        let ls = lines(
            1,
            words_at(
                &[("LEGENDA: POR - LÍNGUA PORTUGUESA; MAT - MATEMÁTICA", 40.0)],
                100.0,
            ),
        );
        assert!(expand(&ls).is_none());
    }
}

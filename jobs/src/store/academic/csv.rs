//! A small RFC 4180 reader for ingestion uploads: a header row, then records;
//! fields may be quoted (`"8,5"`, `"Silva, Ana"`, `""` inside quotes is a
//! quote). The delimiter is `;` when the header has one (spreadsheets saved
//! with a decimal comma export that way), else `,`. A UTF-8 BOM is skipped.
//! Each record becomes a JSON object of strings so JSON and CSV rows share
//! one validator (`fields.rs`); empty cells are left out.

use serde_json::{Map, Value};

/// A CSV that cannot be read at all (as opposed to a bad row).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct CsvError {
    pub line: usize,
    pub message: String,
}

/// A data record: its 1-based line in the file and its cells by header name.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub line: usize,
    pub fields: Map<String, Value>,
}

/// Splits `text` into rows of fields, each with the line it starts on.
fn rows(text: &str, delim: char) -> Result<Vec<(usize, Vec<String>)>, CsvError> {
    let mut out = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut line = 1;
    let mut row_line = 1;
    let mut chars = text.chars().peekable();
    let mut any = false;
    while let Some(c) = chars.next() {
        any = true;
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                '\n' => {
                    line += 1;
                    field.push('\n');
                }
                c => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.is_empty() => quoted = true,
            c if c == delim => row.push(std::mem::take(&mut field)),
            '\r' => {}
            '\n' => {
                row.push(std::mem::take(&mut field));
                out.push((row_line, std::mem::take(&mut row)));
                line += 1;
                row_line = line;
                any = false;
            }
            c => field.push(c),
        }
    }
    if quoted {
        return Err(CsvError {
            line: row_line,
            message: "a quoted field is not closed".into(),
        });
    }
    if any {
        row.push(field);
        out.push((row_line, row));
    }
    Ok(out)
}

/// Header names: trimmed, lower case, spaces as `_` (`Matrícula` stays accented; aliases are mapped by the caller).
fn header_name(h: &str) -> String {
    h.trim().to_lowercase().replace([' ', '-'], "_")
}

/// Parses an upload into records keyed by header; blank lines are skipped.
pub fn parse(text: &str) -> Result<Vec<Record>, CsvError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let first = text.lines().next().unwrap_or("");
    let delim = if first.contains(';') { ';' } else { ',' };
    let mut rows = rows(text, delim)?.into_iter();
    let Some((_, header)) = rows.next() else {
        return Err(CsvError {
            line: 1,
            message: "empty file: expected a header row".into(),
        });
    };
    let header: Vec<String> = header.iter().map(|h| header_name(h)).collect();
    if header.iter().all(String::is_empty) {
        return Err(CsvError {
            line: 1,
            message: "empty header row".into(),
        });
    }
    for (i, h) in header.iter().enumerate() {
        if h.is_empty() {
            return Err(CsvError {
                line: 1,
                message: format!("column {} has no name", i + 1),
            });
        }
        if header[..i].contains(h) {
            return Err(CsvError {
                line: 1,
                message: format!("column {h:?} appears twice"),
            });
        }
    }
    let mut out = Vec::new();
    for (line, cells) in rows {
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        if cells.len() > header.len() {
            return Err(CsvError {
                line,
                message: format!(
                    "{} fields but the header has {} (a decimal comma needs quotes or a ';' delimiter)",
                    cells.len(),
                    header.len()
                ),
            });
        }
        let mut fields = Map::new();
        for (h, c) in header.iter().zip(cells) {
            let c = c.trim();
            if !c.is_empty() {
                fields.insert(h.clone(), Value::String(c.to_string()));
            }
        }
        out.push(Record { line, fields });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn semicolons_quotes_and_decimal_commas() {
        let r = parse("\u{feff}matrícula;disciplina;nota\r\n2024001;Matemática;8,5\n\n2024002;\"Língua; Portuguesa\";\"7,0\"\n").unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].line, 2);
        assert_eq!(r[0].fields["nota"], "8,5");
        assert_eq!(r[1].line, 4);
        assert_eq!(r[1].fields["disciplina"], "Língua; Portuguesa");
        let r = parse("a,b\n\"x \"\"y\"\"\",\n").unwrap();
        assert_eq!(r[0].fields["a"], "x \"y\"");
        assert!(!r[0].fields.contains_key("b"));
        assert_eq!(parse("a,b\n1,2,3\n").unwrap_err().line, 2);
        assert_eq!(parse("a,b\n\"1,2\n").unwrap_err().line, 2);
        assert!(parse("").is_err());
    }

    proptest! {
        #[test]
        fn written_cells_read_back(cells in proptest::collection::vec("[a-zA-Z0-9áç][a-zA-Z0-9 ,;\"áç]{0,11}", 1..6)) {
            let header: Vec<String> = (0..cells.len()).map(|i| format!("c{i}")).collect();
            let quote = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
            let text = format!("{}\n{}\n", header.join(","), cells.iter().map(|c| quote(c)).collect::<Vec<_>>().join(","));
            let r = parse(&text).unwrap();
            for (i, c) in cells.iter().enumerate() {
                let got = r[0].fields.get(&format!("c{i}")).and_then(|v| v.as_str()).unwrap_or("");
                prop_assert_eq!(got, c.trim());
            }
        }
    }
}

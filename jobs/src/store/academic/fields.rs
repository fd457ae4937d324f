//! Reading one ingestion row (a JSON object, or a CSV record turned into
//! one) into typed values, collecting every problem with its row and field
//! instead of stopping at the first. pt-BR forms are accepted: decimal comma
//! (`8,5`) and `dd/mm/aaaa` dates by the `ptbr` crate's rules (the documents
//! extractor reads them the same way), `sim`/`não`, `P`/`F` for presence.

use chrono::NaiveDate;
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// One bad field of one row.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RowError {
    /// 1-based position among the data rows.
    pub row: usize,
    /// The line in the CSV file (the header is line 1); absent for JSON.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// The field (`grade`, `guardians[0].email`); `row` for the row as a whole.
    pub field: String,
    pub message: String,
}

/// Natural keys seen so far in one batch: a key given again is an error on
/// the later row, naming the row that last had it ("same code as row 3").
pub struct SeenKeys<K>(std::collections::HashMap<K, usize>);

impl<K: std::hash::Hash + Eq> Default for SeenKeys<K> {
    fn default() -> Self {
        SeenKeys(std::collections::HashMap::new())
    }
}

impl<K: std::hash::Hash + Eq> SeenKeys<K> {
    /// Records `key` for `row`; `Some(error)` when an earlier row had it.
    /// `what` names the key in the message, `field` is the error's field.
    pub fn repeat(
        &mut self,
        key: K,
        row: usize,
        line: Option<usize>,
        field: &str,
        what: &str,
    ) -> Option<RowError> {
        let first = self.0.insert(key, row)?;
        Some(RowError {
            row,
            line,
            field: field.into(),
            message: format!("same {what} as row {first}"),
        })
    }
}

/// `true`/`false`, `sim`/`não`, `s`/`n`, `1`/`0`, `P` (presente)/`F` (falta).
pub fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_lowercase().as_str() {
        "true" | "sim" | "s" | "1" | "p" | "presente" | "yes" | "y" => Some(true),
        "false" | "não" | "nao" | "n" | "0" | "f" | "falta" | "ausente" | "no" => Some(false),
        _ => None,
    }
}

/// A row being read: typed getters record errors and remember which fields were used.
pub struct Reader<'a, 'e> {
    pub row: usize,
    pub line: Option<usize>,
    prefix: String,
    map: &'a Map<String, Value>,
    used: Vec<&'static str>,
    pub errors: &'e mut Vec<RowError>,
}

impl<'a, 'e> Reader<'a, 'e> {
    pub fn new(
        row: usize,
        line: Option<usize>,
        prefix: &str,
        map: &'a Map<String, Value>,
        errors: &'e mut Vec<RowError>,
    ) -> Reader<'a, 'e> {
        Reader {
            row,
            line,
            prefix: prefix.to_string(),
            map,
            used: Vec::new(),
            errors,
        }
    }

    pub fn error(&mut self, field: &str, message: impl Into<String>) {
        let field = if field.is_empty() {
            if self.prefix.is_empty() {
                "row".to_string()
            } else {
                self.prefix.trim_end_matches('.').to_string()
            }
        } else {
            format!("{}{field}", self.prefix)
        };
        self.errors.push(RowError {
            row: self.row,
            line: self.line,
            field,
            message: message.into(),
        });
    }

    /// The value of the first present name (`names[0]` is the canonical one, the rest aliases).
    fn raw(&mut self, names: &[&'static str]) -> Option<(&'static str, &'a Value)> {
        self.used.extend_from_slice(names);
        names
            .iter()
            .find_map(|n| self.map.get(*n).filter(|v| !v.is_null()).map(|v| (*n, v)))
    }

    pub fn has(&self, name: &str) -> bool {
        self.map.get(name).is_some_and(|v| !v.is_null())
    }

    pub fn text(&mut self, names: &[&'static str], max: usize) -> Option<String> {
        let (n, v) = self.raw(names)?;
        let s = match v {
            Value::String(s) => s.trim().to_string(),
            Value::Number(n) => n.to_string(),
            _ => {
                self.error(n, "must be text");
                return None;
            }
        };
        if s.is_empty() {
            return None;
        }
        if s.chars().count() > max {
            self.error(n, format!("at most {max} characters"));
            return None;
        }
        Some(s)
    }

    pub fn text_req(&mut self, names: &[&'static str], max: usize) -> Option<String> {
        let v = self.text(names, max);
        if v.is_none()
            && !self
                .errors
                .iter()
                .any(|e| e.row == self.row && e.field.ends_with(names[0]))
        {
            self.error(names[0], "required");
        }
        v
    }

    pub fn decimal(&mut self, names: &[&'static str]) -> Option<f64> {
        let (n, v) = self.raw(names)?;
        let x = match v {
            Value::Number(x) => x.as_f64(),
            Value::String(s) if s.trim().is_empty() => return None,
            Value::String(s) => ptbr::parse_decimal(s),
            _ => None,
        };
        if x.is_none() {
            self.error(n, format!("not a number: {v} (use 8,5 or 8.5)"));
        }
        x
    }

    pub fn integer(&mut self, names: &[&'static str], min: i64, max: i64) -> Option<i64> {
        let (n, v) = self.raw(names)?;
        let x = match v {
            Value::Number(x) => x.as_i64(),
            Value::String(s) if s.trim().is_empty() => return None,
            Value::String(s) => s
                .trim()
                .trim_end_matches('º')
                .trim_end_matches('°')
                .parse()
                .ok(),
            _ => None,
        };
        match x {
            Some(x) if (min..=max).contains(&x) => Some(x),
            _ => {
                self.error(n, format!("must be a whole number {min}-{max}"));
                None
            }
        }
    }

    pub fn date(&mut self, names: &[&'static str]) -> Option<NaiveDate> {
        let (n, v) = self.raw(names)?;
        let d = match v {
            Value::String(s) if s.trim().is_empty() => return None,
            Value::String(s) => ptbr::parse_date(s),
            _ => None,
        };
        if d.is_none() {
            self.error(n, format!("not a date: {v} (use dd/mm/aaaa or aaaa-mm-dd)"));
        }
        d
    }

    pub fn boolean(&mut self, names: &[&'static str]) -> Option<bool> {
        let (n, v) = self.raw(names)?;
        let b = match v {
            Value::Bool(b) => Some(*b),
            Value::Number(x) => x.as_i64().and_then(|x| match x {
                0 => Some(false),
                1 => Some(true),
                _ => None,
            }),
            Value::String(s) if s.trim().is_empty() => return None,
            Value::String(s) => parse_bool(s),
            _ => None,
        };
        if b.is_none() {
            self.error(
                n,
                format!("not a yes/no value: {v} (true/false, sim/não, P/F)"),
            );
        }
        b
    }

    /// A nested value (arrays and objects of the JSON form).
    pub fn value(&mut self, names: &[&'static str]) -> Option<&'a Value> {
        self.raw(names).map(|(_, v)| v)
    }

    /// Refuses fields no getter asked for (a typo would otherwise be dropped silently).
    pub fn finish(mut self) {
        let unknown: Vec<String> = self
            .map
            .keys()
            .filter(|k| !self.used.contains(&k.as_str()))
            .cloned()
            .collect();
        for k in unknown {
            self.error(&k, "unknown field");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_given_twice_names_the_first_row() {
        let mut seen = SeenKeys::default();
        assert_eq!(seen.repeat("A1", 1, None, "code", "code"), None);
        assert_eq!(seen.repeat("B2", 2, None, "code", "code"), None);
        assert_eq!(
            seen.repeat("A1", 3, Some(4), "code", "code"),
            Some(RowError {
                row: 3,
                line: Some(4),
                field: "code".into(),
                message: "same code as row 1".into(),
            })
        );
    }

    fn read(map: serde_json::Value) -> (Option<f64>, Option<NaiveDate>, Vec<RowError>) {
        let map = map.as_object().unwrap().clone();
        let mut errors = Vec::new();
        let mut r = Reader::new(1, None, "", &map, &mut errors);
        let x = r.decimal(&["nota"]);
        let d = r.date(&["data"]);
        r.finish();
        (x, d, errors)
    }

    #[test]
    fn pt_br_forms() {
        let (x, d, errors) = read(serde_json::json!({"nota": "1.234,5", "data": "5/3/2026"}));
        assert_eq!((x, d), (Some(1234.5), NaiveDate::from_ymd_opt(2026, 3, 5)));
        assert!(errors.is_empty());
        let (x, d, errors) = read(serde_json::json!({"nota": 8.5, "data": "2026-03-15"}));
        assert_eq!((x, d), (Some(8.5), NaiveDate::from_ymd_opt(2026, 3, 15)));
        assert!(errors.is_empty());
        let (x, d, errors) = read(serde_json::json!({"nota": "oito", "data": "31/02/2026"}));
        assert_eq!((x, d), (None, None));
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["nota", "data"]);
        assert_eq!(parse_bool("Não"), Some(false));
        assert_eq!(parse_bool("P"), Some(true));
    }
}

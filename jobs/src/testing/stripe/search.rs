//! The part of Stripe's search query language the payments code needs, for
//! PaymentIntents: `field:'value'` clauses on `metadata['key']`, `status`,
//! `currency`, `customer` and `amount`, optionally negated with `-`, joined by
//! all-`AND` or all-`OR` (Stripe refuses to mix them too).

use std::collections::BTreeMap;

#[derive(Debug, PartialEq)]
pub struct Query {
    /// Joined by `OR` (else `AND`, or a single clause).
    pub any: bool,
    pub clauses: Vec<Clause>,
}

#[derive(Debug, PartialEq)]
pub struct Clause {
    pub negate: bool,
    pub field: Field,
    pub value: String,
}

#[derive(Debug, PartialEq)]
pub enum Field {
    Metadata(String),
    Status,
    Currency,
    Customer,
    Amount,
}

/// The searchable fields of one intent.
pub struct Doc<'a> {
    pub metadata: &'a BTreeMap<String, String>,
    pub status: &'a str,
    pub currency: &'a str,
    pub customer: Option<&'a str>,
    pub amount: i64,
}

impl Query {
    pub fn matches(&self, doc: &Doc<'_>) -> bool {
        let hit = |c: &Clause| {
            let eq = match &c.field {
                Field::Metadata(k) => doc.metadata.get(k) == Some(&c.value),
                Field::Status => doc.status == c.value,
                Field::Currency => doc.currency.eq_ignore_ascii_case(&c.value),
                Field::Customer => doc.customer == Some(c.value.as_str()),
                Field::Amount => doc.amount.to_string() == c.value,
            };
            eq != c.negate
        };
        if self.any {
            self.clauses.iter().any(hit)
        } else {
            self.clauses.iter().all(hit)
        }
    }
}

pub fn parse(query: &str) -> Result<Query, String> {
    let mut rest = query.trim();
    let mut clauses = Vec::new();
    let mut joiner: Option<&str> = None;
    loop {
        let (clause, after) = clause(rest)?;
        clauses.push(clause);
        rest = after.trim_start();
        if rest.is_empty() {
            break;
        }
        let (word, after) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
        if word != "AND" && word != "OR" {
            return Err(format!("expected AND or OR before `{rest}`"));
        }
        if joiner.is_some_and(|j| j != word) {
            return Err("AND and OR cannot be mixed in one query".into());
        }
        joiner = Some(word);
        rest = after.trim_start();
    }
    Ok(Query {
        any: joiner == Some("OR"),
        clauses,
    })
}

fn clause(s: &str) -> Result<(Clause, &str), String> {
    let (negate, s) = match s.strip_prefix('-') {
        Some(after) => (true, after),
        None => (false, s),
    };
    let (field, s) = if let Some(after) = s.strip_prefix("metadata[") {
        let (key, after) = quoted(after)?;
        let after = after
            .strip_prefix(']')
            .ok_or("expected `]` after the metadata key")?;
        (Field::Metadata(key), after)
    } else {
        let end = s
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(s.len());
        let field = match &s[..end] {
            "status" => Field::Status,
            "currency" => Field::Currency,
            "customer" => Field::Customer,
            "amount" => Field::Amount,
            "" => return Err(format!("expected a field at `{s}`")),
            other => return Err(format!("`{other}` is not a supported search field")),
        };
        (field, &s[end..])
    };
    let s = s
        .strip_prefix(':')
        .ok_or("expected `:` after the field (only equality is supported)")?;
    let (value, rest) = if s.starts_with(['\'', '"']) {
        quoted(s)?
    } else {
        let end = s.find(char::is_whitespace).unwrap_or(s.len());
        (s[..end].to_string(), &s[end..])
    };
    Ok((
        Clause {
            negate,
            field,
            value,
        },
        rest,
    ))
}

/// `'text'` or `"text"` (with `\` escaping the quote) and what follows it.
fn quoted(s: &str) -> Result<(String, &str), String> {
    let mut chars = s.char_indices();
    let quote = match chars.next() {
        Some((_, q @ ('\'' | '"'))) => q,
        _ => return Err(format!("expected a quoted string at `{s}`")),
    };
    let mut out = String::new();
    let mut escaped = false;
    for (i, c) in chars {
        if escaped {
            out.push(c);
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == quote {
            return Ok((out, &s[i + 1..]));
        } else {
            out.push(c);
        }
    }
    Err("unterminated string".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_and_status_clauses() {
        let q = parse("metadata['payment_id']:'pay-1' AND status:\"succeeded\"").unwrap();
        assert!(!q.any);
        assert_eq!(
            q.clauses[0],
            Clause {
                negate: false,
                field: Field::Metadata("payment_id".into()),
                value: "pay-1".into()
            }
        );
        assert_eq!(q.clauses[1].field, Field::Status);
        let md = BTreeMap::from([("payment_id".to_string(), "pay-1".to_string())]);
        let doc = Doc {
            metadata: &md,
            status: "succeeded",
            currency: "brl",
            customer: None,
            amount: 100,
        };
        assert!(q.matches(&doc));
        assert!(!parse("-amount:100").unwrap().matches(&doc));
        assert!(parse("currency:'xyz' OR amount:100").unwrap().matches(&doc));
    }

    #[test]
    fn bad_queries_are_refused() {
        for bad in [
            "",
            "metadata['k':'v'",
            "status:'a' AND currency:'b' OR amount:1",
            "created>100",
            "email:'x'",
            "status:'open",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}

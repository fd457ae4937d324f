//! Masking of sensitive payload fields on the job page. A field is sensitive
//! by its key name (phone, e-mail, CPF/CNPJ, document contents, tokens,
//! passwords, secrets...), at any depth; its value is replaced, keeping only a
//! hint (the last 2 characters of short strings) so ops can tell values apart
//! without reading them. The JSON API is not masked: its callers own the data.
//! The outbox page masks its recipients the same way ([`masked_text`]).

use serde_json::Value;

/// Key-name fragments that mark a field sensitive (matched on the lowercased key).
const SENSITIVE: [&str; 20] = [
    "phone",
    "telefone",
    "celular",
    "whatsapp",
    "email",
    "e_mail",
    "cpf",
    "cnpj",
    "rg",
    "document",
    "content",
    "base64",
    "token",
    "password",
    "senha",
    "secret",
    "api_key",
    "authorization",
    "card",
    "iban",
];

/// Whether a key names sensitive data (`guardian_phone`, `email`, `documentContents`).
pub fn is_sensitive(key: &str) -> bool {
    let k = key.to_ascii_lowercase().replace('-', "_");
    // `rg` only as a whole word: "charge" or "org_id" are not identity numbers.
    SENSITIVE.iter().any(|s| {
        if *s == "rg" {
            k == "rg" || k.ends_with("_rg") || k.starts_with("rg_")
        } else {
            k.contains(s)
        }
    })
}

fn masked(v: &Value) -> Value {
    match v {
        Value::Null => Value::Null,
        Value::String(s) if s.chars().count() > 6 && s.chars().count() <= 40 => {
            let tail: String = s
                .chars()
                .rev()
                .take(2)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            Value::String(format!("•••••{tail}"))
        }
        _ => Value::String("•••••".into()),
    }
}

/// A sensitive text (an outbox recipient: e-mail, phone, device token) as the
/// console shows it: masked like a sensitive field's value.
pub fn masked_text(s: &str) -> String {
    match masked(&Value::String(s.to_string())) {
        Value::String(m) => m,
        _ => "•••••".into(),
    }
}

/// A copy of `v` with every sensitive field's value masked.
pub fn mask(v: &Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, val)| {
                    let out = if is_sensitive(k) {
                        masked(val)
                    } else {
                        mask(val)
                    };
                    (k.clone(), out)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(mask).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sensitive_fields_are_masked_at_any_depth() {
        let p = json!({
            "student": "Ana Júlia", "guardian_phone": "+5511987654321",
            "contacts": [{ "email": "mae@escola.com.br", "name": "Maria" }],
            "cpf": "123.456.789-09", "document_content": "JVBERi0xLjQK...", "org_id": 7,
            "charge": 10, "rg": "12.345.678-9"
        });
        let m = mask(&p);
        assert_eq!(m["student"], "Ana Júlia");
        assert_eq!(m["guardian_phone"], "•••••21");
        assert_eq!(m["contacts"][0]["email"], "•••••br");
        assert_eq!(m["contacts"][0]["name"], "Maria");
        assert_eq!(m["cpf"], "•••••09");
        assert_eq!(m["org_id"], 7);
        assert_eq!(m["charge"], 10);
        assert_eq!(m["rg"], "•••••-9");
        assert!(!m.to_string().contains("987654"));
        assert_eq!(masked_text("+5511987654321"), "•••••21");
        assert_eq!(masked_text("oi"), "•••••");
    }
}

//! Message templates: minijinja with strict undefined (a missing variable is
//! an error, never an empty string) and pt-BR filters: `decimal_br` (8.5 →
//! `8,5`), `date_br` (`2025-12-15` → `15/12/2025`), `money_brl` (1234.56 →
//! `R$ 1.234,56`), the `ptbr` crate's formatting. [`check`] runs when a
//! template is saved: syntax errors and variables outside the declared list
//! are refused then, not at send time.

use minijinja::{Environment, UndefinedBehavior, Value};

/// A template problem, naming the part (`subject`, `body`, `html`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct TemplateError {
    pub field: String,
    pub message: String,
}

/// Names a template may always use besides its declared variables.
const GLOBALS: [&str; 2] = ["loop", "recipient"];

fn env() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.add_filter("decimal_br", decimal_br);
    env.add_filter("money_brl", money_brl);
    env.add_filter("date_br", date_br);
    env
}

/// Checks each `(part, source)`: it parses, and uses only `declared` variables.
pub fn check(parts: &[(&str, &str)], declared: &[String]) -> Result<(), TemplateError> {
    let env = env();
    for (field, src) in parts {
        let tmpl = env.template_from_str(src).map_err(|e| TemplateError {
            field: field.to_string(),
            message: format!("syntax error: {}", e.detail().unwrap_or("invalid template")),
        })?;
        let mut unknown: Vec<String> = tmpl
            .undeclared_variables(false)
            .into_iter()
            .filter(|v| !declared.contains(v) && !GLOBALS.contains(&v.as_str()))
            .collect();
        unknown.sort();
        if !unknown.is_empty() {
            return Err(TemplateError {
                field: field.to_string(),
                message: format!(
                    "unknown variable(s): {} (declare them in `variables`)",
                    unknown.join(", ")
                ),
            });
        }
    }
    Ok(())
}

/// Renders `src` with `data` (strict: a missing variable is an error).
pub fn render(src: &str, data: &serde_json::Value) -> Result<String, String> {
    Renderer::new().render(src, &Value::from_serialize(data))
}

fn render_error(e: minijinja::Error) -> String {
    match e.detail() {
        Some(d) => format!("{}: {d}", e.kind()),
        None => e.kind().to_string(),
    }
}

/// Renders many messages from a few templates (an alert run: one template
/// per rule, thousands of recipients): each source is parsed once, and the
/// caller converts its data to a [`Value`] once for all the parts it renders.
pub struct Renderer {
    env: Environment<'static>,
}

impl Default for Renderer {
    fn default() -> Self {
        Renderer::new()
    }
}

impl Renderer {
    pub fn new() -> Renderer {
        Renderer { env: env() }
    }

    /// Renders `src` (parsed on first use, then kept under its own text).
    pub fn render(&mut self, src: &str, data: &Value) -> Result<String, String> {
        if self.env.get_template(src).is_err() {
            self.env
                .add_template_owned(src.to_string(), src.to_string())
                .map_err(|e| e.to_string())?;
        }
        let tmpl = self.env.get_template(src).map_err(|e| e.to_string())?;
        tmpl.render(data).map_err(render_error)
    }
}

fn number(v: &Value) -> Result<f64, minijinja::Error> {
    if let Some(s) = v.as_str() {
        return ptbr::parse_decimal(s).ok_or_else(|| bad_arg("not a number"));
    }
    f64::try_from(v.clone()).map_err(|_| bad_arg("not a number"))
}

fn bad_arg(msg: &str) -> minijinja::Error {
    minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, msg.to_string())
}

/// `1234.5` → `1.234,5`; `places` fixes the decimals (`8.5|decimal_br(2)` → `8,50`).
pub fn format_decimal(x: f64, places: Option<usize>) -> String {
    match places {
        Some(p) => ptbr::format_decimal(x, p),
        None => ptbr::format_number(x),
    }
}

fn decimal_br(v: Value, places: Option<usize>) -> Result<String, minijinja::Error> {
    Ok(format_decimal(number(&v)?, places))
}

/// `R$ 1.234,56` (two places; negative as `-R$ 10,00`).
pub fn format_brl(x: f64) -> String {
    ptbr::format_money(x)
}

fn money_brl(v: Value) -> Result<String, minijinja::Error> {
    Ok(format_brl(number(&v)?))
}

/// `2025-12-15` or an RFC 3339 timestamp → `15/12/2025` (the date as written).
pub fn format_date(s: &str) -> Option<String> {
    let date = chrono::NaiveDate::parse_from_str(s.get(..10)?, "%Y-%m-%d").ok()?;
    Some(ptbr::format_date(date))
}

fn date_br(v: Value) -> Result<String, minijinja::Error> {
    let s = v
        .as_str()
        .ok_or_else(|| bad_arg("date_br expects a YYYY-MM-DD string"))?;
    format_date(s).ok_or_else(|| bad_arg("date_br expects a YYYY-MM-DD string"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn a_renderer_parses_each_source_once_and_stays_strict() {
        let mut r = Renderer::new();
        let src = "Olá {{ nome }}: {{ nota|decimal_br }}";
        for (nome, nota, want) in [("Ana", 7.5, "Olá Ana: 7,5"), ("Bruno", 4.0, "Olá Bruno: 4")] {
            let data = Value::from_serialize(json!({"nome": nome, "nota": nota}));
            assert_eq!(r.render(src, &data).unwrap(), want);
        }
        let missing = r.render(src, &Value::from_serialize(json!({"nota": 5})));
        let e = missing.unwrap_err();
        assert!(e.contains("undefined"), "strict undefined: {e}");
        assert!(r
            .render("{{ nome", &Value::from_serialize(json!({})))
            .is_err());
    }

    #[test]
    fn pt_br_filters() {
        let out = render(
            "Nota {{ nota|decimal_br }} em {{ dia|date_br }}: {{ valor|money_brl }}",
            &json!({"nota": 8.5, "dia": "2025-12-15T10:00:00-03:00", "valor": 1234.56}),
        )
        .unwrap();
        assert_eq!(out, "Nota 8,5 em 15/12/2025: R$ 1.234,56");
        assert_eq!(format_brl(-10.0), "-R$ 10,00");
        assert_eq!(format_decimal(1234567.0, Some(0)), "1.234.567");
    }

    #[test]
    fn unknown_variable_is_refused_at_save_time() {
        let declared = vec!["aluno".to_string(), "nota".to_string()];
        assert!(check(
            &[("body", "{{ aluno }} tirou {{ nota|decimal_br }}")],
            &declared
        )
        .is_ok());
        let e = check(
            &[("subject", "Olá"), ("body", "{{ aluno }} {{ turma }}")],
            &declared,
        )
        .unwrap_err();
        assert_eq!(e.field, "body");
        assert!(e.message.contains("turma"), "{e}");
        let e = check(&[("body", "{{ aluno ")], &declared).unwrap_err();
        assert!(e.message.contains("syntax"), "{e}");
    }

    #[test]
    fn missing_data_fails_render() {
        assert!(render("{{ aluno }}", &json!({})).is_err());
    }

    proptest! {
        #[test]
        fn brl_round_trips(cents in 0i64..10_000_000_000) {
            let s = format_brl(cents as f64 / 100.0);
            let back: f64 = s.trim_start_matches("R$ ").replace('.', "").replace(',', ".").parse().unwrap();
            prop_assert_eq!((back * 100.0).round() as i64, cents);
        }
    }
}

//! The words of a reminder (pure): pt-BR text with the tenant's labels
//! ("Aula", "Sala") and the start in the tenant's zone as `dd/mm/aaaa` and
//! `HH:MM`. A rule's own minijinja template gets the same variables.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde_json::{json, Value};

use super::plan::Trigger;
use super::state::Booking;

/// Template variables for one recipient.
pub fn variables(b: &Booking, labels: &Value, tz: Tz, name: Option<&str>, family: &str) -> Value {
    let label = |k: &str, default: &str| {
        labels
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or(default)
            .to_string()
    };
    let default_booking = if family == "session" {
        "Aula"
    } else {
        "Reserva"
    };
    let local = |t: Option<DateTime<Utc>>| t.map(|t| t.with_timezone(&tz));
    let start = local(b.start_time);
    json!({
        "booking_label": label("booking", default_booking),
        "resource_label": label("resource", "Recurso"),
        "client_label": label("client", "Cliente"),
        "staff_label": label("staff", "Profissional"),
        "name": name.unwrap_or(""),
        "date": start.map(|s| ptbr::format_date(s.date_naive())).unwrap_or_default(),
        "time": start.map(|s| s.format("%H:%M").to_string()).unwrap_or_default(),
        "end_time": local(b.end_time).map(|s| s.format("%H:%M").to_string()).unwrap_or_default(),
        "resource_id": b.resource_id.clone().unwrap_or_default(),
    })
}

/// The built-in text for a trigger, in pt-BR.
pub fn default_template(trigger: Trigger) -> &'static str {
    match trigger {
        Trigger::BeforeStart { .. } | Trigger::DayBeforeAt(_) => {
            "{% if name %}Olá, {{ name }}! {% endif %}Lembrete: {{ booking_label | lower }} em {{ date }} às {{ time }}{% if resource_id %} ({{ resource_label }} {{ resource_id }}){% endif %}."
        }
        Trigger::AfterEnd { .. } => {
            "{% if name %}Olá, {{ name }}! {% endif %}Como foi sua {{ booking_label | lower }} de {{ date }}? Conte para nós deixando sua avaliação."
        }
        Trigger::OnCancel => {
            "{% if name %}Olá, {{ name }}. {% endif %}{{ booking_label }} de {{ date }} às {{ time }} cancelada."
        }
        Trigger::OnNoShow => {
            "{% if name %}Olá, {{ name }}. {% endif %}Sentimos sua falta na {{ booking_label | lower }} de {{ date }} às {{ time }}. Quer remarcar?"
        }
        Trigger::OnConfirm => {
            "{% if name %}Olá, {{ name }}! {% endif %}{{ booking_label }} de {{ date }} às {{ time }} confirmada."
        }
    }
}

/// The email subject for a trigger.
pub fn subject(trigger: Trigger, vars: &Value) -> String {
    let label = vars["booking_label"].as_str().unwrap_or("Reserva");
    let date = vars["date"].as_str().unwrap_or("");
    match trigger {
        Trigger::AfterEnd { .. } => format!("Avalie sua {} de {date}", label.to_lowercase()),
        Trigger::OnCancel => format!("{label} cancelada: {date}"),
        Trigger::OnConfirm => format!("{label} confirmada: {date}"),
        Trigger::OnNoShow => format!("Sentimos sua falta: {} de {date}", label.to_lowercase()),
        _ => format!("Lembrete: {label} em {date}"),
    }
}

/// Renders the rule's template (or the built-in one).
pub fn render(template: Option<&str>, trigger: Trigger, vars: &Value) -> Result<String, String> {
    crate::channels::templates::render(template.unwrap_or(default_template(trigger)), vars)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reminder_text_uses_labels_and_local_date_and_time() {
        let b = Booking {
            start_time: Some("2026-03-02T01:30:00Z".parse().unwrap()),
            resource_id: Some("12".into()),
            ..Booking::default()
        };
        let vars = variables(
            &b,
            &json!({"booking": "Aula", "resource": "Sala"}),
            chrono_tz::America::Sao_Paulo,
            Some("Ana"),
            "session",
        );
        let trig = Trigger::BeforeStart { minutes: 60 };
        let text = render(None, trig, &vars).unwrap();
        assert_eq!(
            text,
            "Olá, Ana! Lembrete: aula em 01/03/2026 às 22:30 (Sala 12)."
        );
        assert_eq!(subject(trig, &vars), "Lembrete: Aula em 01/03/2026");
        let own = render(Some("{{ booking_label }} às {{ time }}"), trig, &vars).unwrap();
        assert_eq!(own, "Aula às 22:30");
    }
}

//! The event envelope, as a stream entry or an element of `POST /v1/events`,
//! and its parsing into an [`Event`] (pure). Every rejection names the field
//! (`payload.start_time`), so a 422 or a dead letter says what to fix.
//!
//! Wire shape (the booking platform's, kept as it is):
//! `event_type`, `payload` (JSON: `booking_id, user_id, resource_id, status,
//! start_time, end_time` or `changes`), `metadata` (JSON: `tenant_id`,
//! optional `occurred_at`), optional `id` (the event's own id). Tutoring uses
//! `session_id` (and `student` / `tutor` contacts) instead.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::kinds::FieldError;

/// One event as received.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Envelope {
    /// The event's own id; events are idempotent by it (per tenant).
    #[serde(default, alias = "event_id")]
    pub id: Option<String>,
    /// `booking.created`, `booking.updated`, `booking.cancelled`,
    /// `booking.status_changed`, `session.scheduled`, `session.rescheduled`,
    /// `session.cancelled`, `session.completed`, `session.no_show`, `review.created`.
    pub event_type: String,
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    #[serde(default)]
    pub metadata: Metadata,
}

/// `metadata` of an envelope.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct Metadata {
    /// The product's tenant id (streams; ignored over HTTP, where the API key says who).
    #[serde(default)]
    pub tenant_id: Option<serde_json::Value>,
    /// When the change happened at the producer (RFC 3339); orders out-of-order
    /// deliveries. Missing: the time Tarefa received it.
    #[serde(default, alias = "timestamp")]
    pub occurred_at: Option<String>,
}

/// booking (white-label booking) or session (tutoring).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    Booking,
    Session,
}

impl Family {
    pub fn as_str(self) -> &'static str {
        match self {
            Family::Booking => "booking",
            Family::Session => "session",
        }
    }
}

/// What the event does to the booking.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Created,
    Updated,
    Cancelled,
    StatusChanged,
    Completed,
    NoShow,
    ReviewCreated,
}

/// Someone to remind.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub push_token: Option<String>,
}

/// The booking fields an event sets (absent = unchanged).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Changes {
    pub start_time: Option<DateTime<Utc>>,
    pub end_time: Option<DateTime<Utc>>,
    pub status: Option<String>,
    pub user_id: Option<String>,
    pub resource_id: Option<String>,
    pub client: Option<Contact>,
    pub staff: Option<Contact>,
}

/// A parsed, valid event.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    pub event_id: Option<String>,
    pub event_type: String,
    pub family: Family,
    pub action: Action,
    pub booking_id: String,
    pub occurred_at: Option<DateTime<Utc>>,
    pub external_tenant: Option<String>,
    pub changes: Changes,
}

/// Most events in one `POST /v1/events`.
pub const MAX_BATCH: usize = 1_000;

fn kind_of(event_type: &str) -> Option<(Family, Action)> {
    Some(match event_type {
        "booking.created" => (Family::Booking, Action::Created),
        "booking.updated" => (Family::Booking, Action::Updated),
        "booking.cancelled" => (Family::Booking, Action::Cancelled),
        "booking.status_changed" => (Family::Booking, Action::StatusChanged),
        "session.scheduled" => (Family::Session, Action::Created),
        "session.rescheduled" => (Family::Session, Action::Updated),
        "session.cancelled" => (Family::Session, Action::Cancelled),
        "session.completed" => (Family::Session, Action::Completed),
        "session.no_show" => (Family::Session, Action::NoShow),
        "review.created" => (Family::Session, Action::ReviewCreated),
        _ => return None,
    })
}

fn time(v: &serde_json::Value, path: &str) -> Result<Option<DateTime<Utc>>, FieldError> {
    match v {
        serde_json::Value::Null => Ok(None),
        serde_json::Value::String(s) => DateTime::parse_from_rfc3339(s)
            .map(|t| Some(t.with_timezone(&Utc)))
            .map_err(|_| {
                FieldError::new(
                    path,
                    "must be an RFC 3339 time with offset (2026-03-01T14:00:00-03:00)",
                )
            }),
        _ => Err(FieldError::new(path, "must be a string")),
    }
}

/// A string or a number, as text (ids come both ways).
fn id_text(v: &serde_json::Value, path: &str) -> Result<Option<String>, FieldError> {
    let s = match v {
        serde_json::Value::Null => return Ok(None),
        serde_json::Value::String(s) => s.trim().to_string(),
        serde_json::Value::Number(n) => n.to_string(),
        _ => return Err(FieldError::new(path, "must be a string or a number")),
    };
    if s.is_empty() || s.len() > 200 {
        return Err(FieldError::new(path, "must be 1-200 bytes"));
    }
    Ok(Some(s))
}

fn contact(v: &serde_json::Value, path: &str) -> Result<Option<Contact>, FieldError> {
    if v.is_null() {
        return Ok(None);
    }
    serde_path_to_error::deserialize(v).map(Some).map_err(|e| {
        let inner = e.path().to_string();
        let p = if inner == "." {
            path.to_string()
        } else {
            format!("{path}.{inner}")
        };
        FieldError::new(p, e.inner().to_string())
    })
}

/// Reads the booking fields of `obj` (`payload` or `payload.changes`) into `c`.
fn read_fields(
    obj: &serde_json::Map<String, serde_json::Value>,
    at: &str,
    c: &mut Changes,
) -> Result<(), FieldError> {
    let null = serde_json::Value::Null;
    let get = |k: &str| obj.get(k).unwrap_or(&null);
    if let Some(t) = time(get("start_time"), &format!("{at}.start_time"))? {
        c.start_time = Some(t);
    }
    if let Some(t) = time(get("end_time"), &format!("{at}.end_time"))? {
        c.end_time = Some(t);
    }
    if let Some(s) = id_text(get("status"), &format!("{at}.status"))? {
        c.status = Some(s);
    }
    for key in ["user_id", "student_id"] {
        if let Some(s) = id_text(get(key), &format!("{at}.{key}"))? {
            c.user_id = Some(s);
        }
    }
    for key in ["resource_id", "tutor_id"] {
        if let Some(s) = id_text(get(key), &format!("{at}.{key}"))? {
            c.resource_id = Some(s);
        }
    }
    for key in ["client", "student"] {
        if let Some(x) = contact(get(key), &format!("{at}.{key}"))? {
            c.client = Some(x);
        }
    }
    for key in ["staff", "tutor"] {
        if let Some(x) = contact(get(key), &format!("{at}.{key}"))? {
            c.staff = Some(x);
        }
    }
    Ok(())
}

impl Event {
    /// Validates an envelope; errors name the field relative to the envelope.
    pub fn parse(env: &Envelope) -> Result<Event, FieldError> {
        let (family, action) = kind_of(&env.event_type).ok_or_else(|| {
            FieldError::new(
                "event_type",
                format!("unknown event type {:?}", env.event_type),
            )
        })?;
        let event_id = match &env.id {
            Some(id) if id.trim().is_empty() || id.len() > 200 => {
                return Err(FieldError::new("id", "must be 1-200 bytes"))
            }
            Some(id) => Some(id.trim().to_string()),
            None => None,
        };
        let obj = env
            .payload
            .as_object()
            .ok_or_else(|| FieldError::new("payload", "must be a JSON object"))?;
        let id_key = match (family, action) {
            (_, Action::ReviewCreated) | (Family::Session, _) => "session_id",
            (Family::Booking, _) => "booking_id",
        };
        let null = serde_json::Value::Null;
        let booking_id = id_text(
            obj.get(id_key).unwrap_or(&null),
            &format!("payload.{id_key}"),
        )?
        .ok_or_else(|| FieldError::new(format!("payload.{id_key}"), "required"))?;
        let mut changes = Changes::default();
        read_fields(obj, "payload", &mut changes)?;
        match obj.get("changes") {
            None | Some(serde_json::Value::Null) => {}
            Some(serde_json::Value::Object(ch)) => {
                read_fields(ch, "payload.changes", &mut changes)?
            }
            Some(_) => return Err(FieldError::new("payload.changes", "must be a JSON object")),
        }
        if action == Action::Created && changes.start_time.is_none() {
            return Err(FieldError::new("payload.start_time", "required"));
        }
        if action == Action::StatusChanged && changes.status.is_none() {
            return Err(FieldError::new("payload.status", "required"));
        }
        if let (Some(s), Some(e)) = (changes.start_time, changes.end_time) {
            if e < s {
                return Err(FieldError::new(
                    "payload.end_time",
                    "must not be before start_time",
                ));
            }
        }
        let occurred_at = match &env.metadata.occurred_at {
            None => None,
            Some(s) => time(
                &serde_json::Value::String(s.clone()),
                "metadata.occurred_at",
            )?,
        };
        let external_tenant = id_text(
            env.metadata.tenant_id.as_ref().unwrap_or(&null),
            "metadata.tenant_id",
        )?;
        Ok(Event {
            event_id,
            event_type: env.event_type.clone(),
            family,
            action,
            booking_id,
            occurred_at,
            external_tenant,
            changes,
        })
    }

    /// Reads a stream entry's fields (`event_type`, `payload`, `metadata`, `id`).
    pub fn from_stream_fields(fields: &[(String, String)]) -> Result<Envelope, FieldError> {
        let get = |k: &str| fields.iter().find(|(f, _)| f == k).map(|(_, v)| v.as_str());
        let event_type =
            get("event_type").ok_or_else(|| FieldError::new("event_type", "required"))?;
        let json = |k: &str| -> Result<serde_json::Value, FieldError> {
            match get(k) {
                None => Ok(serde_json::Value::Null),
                Some(s) => serde_json::from_str(s)
                    .map_err(|e| FieldError::new(k, format!("not JSON: {e}"))),
            }
        };
        let payload = json("payload")?;
        if payload.is_null() {
            return Err(FieldError::new("payload", "required"));
        }
        let metadata = match json("metadata")? {
            serde_json::Value::Null => Metadata::default(),
            v => serde_path_to_error::deserialize(&v).map_err(|e| {
                FieldError::new(format!("metadata.{}", e.path()), e.inner().to_string())
            })?,
        };
        Ok(Envelope {
            id: get("id").or_else(|| get("event_id")).map(str::to_string),
            event_type: event_type.to_string(),
            payload,
            metadata,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn env(event_type: &str, payload: serde_json::Value) -> Envelope {
        Envelope {
            id: Some("evt-1".into()),
            event_type: event_type.into(),
            payload,
            metadata: Metadata {
                tenant_id: Some(json!(42)),
                occurred_at: None,
            },
        }
    }

    #[test]
    fn created_booking_parses_with_offsets_in_utc() {
        let e = Event::parse(&env(
            "booking.created",
            json!({"booking_id": "b1", "user_id": 7, "start_time": "2026-03-01T14:00:00-03:00",
                   "end_time": "2026-03-01T15:00:00-03:00", "client": {"email": "ana@example.com"}}),
        ))
        .unwrap();
        assert_eq!(e.action, Action::Created);
        assert_eq!(e.family, Family::Booking);
        assert_eq!(e.booking_id, "b1");
        assert_eq!(e.external_tenant.as_deref(), Some("42"));
        assert_eq!(e.changes.user_id.as_deref(), Some("7"));
        assert_eq!(
            e.changes.start_time.unwrap().to_rfc3339(),
            "2026-03-01T17:00:00+00:00"
        );
        assert_eq!(
            e.changes.client.unwrap().email.as_deref(),
            Some("ana@example.com")
        );
    }

    #[test]
    fn changes_override_top_level_fields() {
        let e = Event::parse(&env(
            "booking.updated",
            json!({"booking_id": "b1", "changes": {"start_time": "2026-03-02T10:00:00Z"}}),
        ))
        .unwrap();
        assert_eq!(
            e.changes.start_time.unwrap().to_rfc3339(),
            "2026-03-02T10:00:00+00:00"
        );
        assert_eq!(e.changes.end_time, None);
    }

    #[test]
    fn errors_name_the_field() {
        let cases = [
            (env("booking.exploded", json!({})), "event_type"),
            (env("booking.created", json!([1])), "payload"),
            (
                env(
                    "booking.created",
                    json!({"start_time": "2026-03-01T14:00:00Z"}),
                ),
                "payload.booking_id",
            ),
            (
                env("booking.created", json!({"booking_id": "b"})),
                "payload.start_time",
            ),
            (
                env(
                    "booking.created",
                    json!({"booking_id": "b", "start_time": "01/03/2026"}),
                ),
                "payload.start_time",
            ),
            (
                env(
                    "booking.updated",
                    json!({"booking_id": "b", "changes": {"end_time": 5}}),
                ),
                "payload.changes.end_time",
            ),
            (
                env(
                    "booking.created",
                    json!({"booking_id": "b", "start_time": "2026-03-01T14:00:00Z",
                "end_time": "2026-03-01T13:00:00Z"}),
                ),
                "payload.end_time",
            ),
            (
                env("booking.status_changed", json!({"booking_id": "b"})),
                "payload.status",
            ),
            (
                env(
                    "session.scheduled",
                    json!({"session_id": "s", "start_time": "2026-03-01T14:00:00Z",
                "tutor": {"mail": "x"}}),
                ),
                "payload.tutor",
            ),
            (
                env("review.created", json!({"booking_id": "s"})),
                "payload.session_id",
            ),
        ];
        for (e, field) in cases {
            let err = Event::parse(&e).expect_err(field);
            assert!(err.path.starts_with(field), "{field}: got {err:?}");
        }
    }

    #[test]
    fn stream_fields_become_an_envelope() {
        let fields = vec![
            ("event_type".to_string(), "booking.cancelled".to_string()),
            ("payload".to_string(), r#"{"booking_id": "b9"}"#.to_string()),
            (
                "metadata".to_string(),
                r#"{"tenant_id": "acme", "occurred_at": "2026-03-01T10:00:00Z"}"#.to_string(),
            ),
        ];
        let e = Event::parse(&Event::from_stream_fields(&fields).unwrap()).unwrap();
        assert_eq!(e.action, Action::Cancelled);
        assert_eq!(e.external_tenant.as_deref(), Some("acme"));
        assert!(e.event_id.is_none());
        let bad = vec![
            ("event_type".to_string(), "booking.created".to_string()),
            ("payload".to_string(), "{oops".to_string()),
        ];
        assert_eq!(Event::from_stream_fields(&bad).unwrap_err().path, "payload");
        let missing = vec![("payload".to_string(), "{}".to_string())];
        assert_eq!(
            Event::from_stream_fields(&missing).unwrap_err().path,
            "event_type"
        );
    }
}

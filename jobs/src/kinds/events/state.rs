//! The version rules (pure): what one event does to what Tarefa knows of a
//! booking, whatever order events arrive in.
//!
//! - A cancel is terminal: once seen, the booking stays cancelled (a create
//!   or an update arriving after it plans nothing).
//! - Times (start/end) and the status each carry the `occurred_at` of the
//!   event that set them; an older event does not overwrite a newer one
//!   (it is recorded as `stale`). A create arriving after an update only
//!   fills what the update did not set.
//! - `version` grows when the times change or the booking is cancelled:
//!   reminders are planned for one version, and one planned for an older
//!   version never sends.

use chrono::{DateTime, Utc};

use super::envelope::{Action, Contact, Event, Family};

/// What Tarefa knows of one booking (a row of `event_bookings`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Booking {
    pub family: Option<Family>,
    pub version: i64,
    pub status: Option<String>,
    pub user_id: Option<String>,
    pub resource_id: Option<String>,
    pub start_time: Option<DateTime<Utc>>,
    pub end_time: Option<DateTime<Utc>>,
    pub client: Option<Contact>,
    pub staff: Option<Contact>,
    pub cancelled: bool,
    pub review_received: bool,
    pub created_seen: bool,
    pub time_changed_at: Option<DateTime<Utc>>,
    pub status_changed_at: Option<DateTime<Utc>>,
}

/// `events.outcome`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The event changed (or confirmed) the booking.
    Applied,
    /// Older than what the booking already reflects: recorded, nothing changed.
    Stale,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Applied => "applied",
            Outcome::Stale => "stale",
        }
    }
}

/// The booking after one event, and what must follow.
#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    pub booking: Booking,
    pub outcome: Outcome,
    /// The version moved: supersede pending reminders and plan the new set.
    pub replan: bool,
    /// This event cancelled the booking: cancel reminders, send the notices.
    pub cancelled_now: bool,
    /// The status became `confirmed`: send the confirmation notices.
    pub confirmed_now: bool,
    /// The product reported a no-show: send the follow-up.
    pub no_show_now: bool,
}

impl Decision {
    /// Does it plan anything (reminders for a new version, or a notice)?
    pub fn plans(&self) -> bool {
        self.outcome == Outcome::Applied
            && (self.replan || self.cancelled_now || self.confirmed_now || self.no_show_now)
    }
}

fn newer(at: DateTime<Utc>, than: Option<DateTime<Utc>>) -> bool {
    than.is_none_or(|t| at >= t)
}

fn merge_contact(old: &mut Option<Contact>, new: &Option<Contact>, overwrite: bool) {
    match (old.as_mut(), new) {
        (_, None) => {}
        (None, Some(n)) => *old = Some(n.clone()),
        (Some(o), Some(n)) => {
            let pick = |o: &mut Option<String>, n: &Option<String>| {
                if n.is_some() && (overwrite || o.is_none()) {
                    o.clone_from(n);
                }
            };
            pick(&mut o.name, &n.name);
            pick(&mut o.email, &n.email);
            pick(&mut o.phone, &n.phone);
            pick(&mut o.push_token, &n.push_token);
        }
    }
}

/// Applies `event`, which happened at `at`, to `current` (`None`: never seen).
pub fn apply(current: Option<&Booking>, event: &Event, at: DateTime<Utc>) -> Decision {
    let mut b = current.cloned().unwrap_or(Booking {
        family: Some(event.family),
        version: 1,
        ..Booking::default()
    });
    let before = b.clone();
    let c = &event.changes;
    let mut outcome = Outcome::Applied;
    let mut cancelled_now = false;
    let mut confirmed_now = false;
    let mut no_show_now = false;
    let is_create = event.action == Action::Created;
    // Times: an update (or a create) newer than the last time change wins; a
    // create older than an update that already arrived only fills the gaps.
    let has_times = c.start_time.is_some() || c.end_time.is_some();
    let times_win = newer(at, b.time_changed_at);
    if has_times && matches!(event.action, Action::Created | Action::Updated) {
        if times_win {
            if c.start_time.is_some() {
                b.start_time = c.start_time;
            }
            if c.end_time.is_some() {
                b.end_time = c.end_time;
            }
            b.time_changed_at = Some(at);
        } else if is_create {
            b.start_time = b.start_time.or(c.start_time);
            b.end_time = b.end_time.or(c.end_time);
        } else {
            outcome = Outcome::Stale;
        }
    }
    let overwrite = times_win;
    if c.user_id.is_some() && (overwrite || b.user_id.is_none()) {
        b.user_id.clone_from(&c.user_id);
    }
    if c.resource_id.is_some() && (overwrite || b.resource_id.is_none()) {
        b.resource_id.clone_from(&c.resource_id);
    }
    merge_contact(&mut b.client, &c.client, overwrite);
    merge_contact(&mut b.staff, &c.staff, overwrite);
    if is_create {
        b.created_seen = true;
    }
    // Status: newest wins; `cancelled` as a status is a cancel.
    let status = match event.action {
        Action::Cancelled => Some("cancelled".to_string()),
        Action::Completed => Some("completed".to_string()),
        Action::NoShow => Some("no_show".to_string()),
        _ => c.status.clone(),
    };
    if let Some(s) = status {
        if newer(at, b.status_changed_at) {
            confirmed_now = s == "confirmed" && b.status.as_deref() != Some("confirmed");
            no_show_now = s == "no_show" && b.status.as_deref() != Some("no_show");
            b.status = Some(s);
            b.status_changed_at = Some(at);
        } else if event.action == Action::StatusChanged {
            outcome = Outcome::Stale;
        }
    }
    let cancels = event.action == Action::Cancelled
        || (event.action == Action::StatusChanged && c.status.as_deref() == Some("cancelled"));
    if cancels && !b.cancelled {
        b.cancelled = true;
        cancelled_now = true;
        outcome = Outcome::Applied;
    }
    if b.cancelled {
        // Terminal: the status stays cancelled whatever arrives later.
        b.status = Some("cancelled".into());
        confirmed_now = false;
        no_show_now = false;
    }
    if event.action == Action::ReviewCreated {
        b.review_received = true;
    }
    let times_moved = b.start_time != before.start_time || b.end_time != before.end_time;
    let moved = (times_moved && current.is_some()) || cancelled_now;
    if moved {
        b.version += 1;
    }
    Decision {
        replan: (moved || current.is_none()) && !b.cancelled && b.start_time.is_some(),
        booking: b,
        outcome,
        cancelled_now,
        confirmed_now,
        no_show_now,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::events::envelope::{Envelope, Metadata};
    use serde_json::json;

    fn ev(event_type: &str, payload: serde_json::Value) -> Event {
        Event::parse(&Envelope {
            id: None,
            event_type: event_type.into(),
            payload,
            metadata: Metadata::default(),
        })
        .unwrap()
    }
    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }
    fn create(start: &str) -> Event {
        ev(
            "booking.created",
            json!({"booking_id": "b", "start_time": start, "status": "pending"}),
        )
    }
    fn update(start: &str) -> Event {
        ev(
            "booking.updated",
            json!({"booking_id": "b", "changes": {"start_time": start}}),
        )
    }
    fn cancel() -> Event {
        ev("booking.cancelled", json!({"booking_id": "b"}))
    }

    #[test]
    fn create_then_update_moves_the_version_and_replans() {
        let d1 = apply(
            None,
            &create("2026-03-10T13:00:00Z"),
            t("2026-03-01T00:00:00Z"),
        );
        assert!(d1.replan && d1.booking.version == 1 && d1.booking.created_seen);
        let d2 = apply(
            Some(&d1.booking),
            &update("2026-03-11T13:00:00Z"),
            t("2026-03-01T00:01:00Z"),
        );
        assert_eq!(d2.booking.version, 2);
        assert!(d2.replan);
        assert_eq!(d2.booking.start_time, Some(t("2026-03-11T13:00:00Z")));
    }

    #[test]
    fn the_same_time_again_changes_no_version() {
        let d1 = apply(
            None,
            &create("2026-03-10T13:00:00Z"),
            t("2026-03-01T00:00:00Z"),
        );
        let d2 = apply(
            Some(&d1.booking),
            &update("2026-03-10T13:00:00Z"),
            t("2026-03-01T00:01:00Z"),
        );
        assert_eq!(d2.booking.version, 1);
        assert!(!d2.replan);
    }

    #[test]
    fn an_update_before_its_create_keeps_the_newer_time() {
        let d1 = apply(
            None,
            &update("2026-03-11T13:00:00Z"),
            t("2026-03-01T00:01:00Z"),
        );
        assert!(d1.replan);
        let d2 = apply(
            Some(&d1.booking),
            &create("2026-03-10T13:00:00Z"),
            t("2026-03-01T00:00:00Z"),
        );
        assert_eq!(d2.booking.start_time, Some(t("2026-03-11T13:00:00Z")));
        assert_eq!(d2.booking.version, d1.booking.version);
        assert!(!d2.replan && d2.booking.created_seen);
        // No status was set yet: the create's fills it.
        assert_eq!(d2.booking.status.as_deref(), Some("pending"));
    }

    #[test]
    fn an_older_update_is_stale() {
        let d1 = apply(
            None,
            &create("2026-03-10T13:00:00Z"),
            t("2026-03-01T00:00:00Z"),
        );
        let d2 = apply(
            Some(&d1.booking),
            &update("2026-03-12T13:00:00Z"),
            t("2026-03-01T00:05:00Z"),
        );
        let d3 = apply(
            Some(&d2.booking),
            &update("2026-03-11T13:00:00Z"),
            t("2026-03-01T00:03:00Z"),
        );
        assert_eq!(d3.outcome, Outcome::Stale);
        assert_eq!(d3.booking, d2.booking);
        assert!(!d3.replan);
    }

    #[test]
    fn a_cancel_is_terminal_whatever_arrives_after() {
        let d1 = apply(None, &cancel(), t("2026-03-01T00:02:00Z"));
        assert!(d1.cancelled_now && d1.booking.cancelled && !d1.replan);
        let d2 = apply(
            Some(&d1.booking),
            &create("2026-03-10T13:00:00Z"),
            t("2026-03-01T00:00:00Z"),
        );
        assert!(d2.booking.cancelled && !d2.replan && !d2.cancelled_now);
        let d3 = apply(
            Some(&d2.booking),
            &update("2026-03-12T13:00:00Z"),
            t("2026-03-01T00:09:00Z"),
        );
        assert!(d3.booking.cancelled && !d3.replan);
        assert_eq!(d3.booking.status.as_deref(), Some("cancelled"));
        let again = apply(Some(&d3.booking), &cancel(), t("2026-03-01T00:10:00Z"));
        assert!(!again.cancelled_now);
    }

    #[test]
    fn confirmation_fires_once_and_newest_status_wins() {
        let d1 = apply(
            None,
            &create("2026-03-10T13:00:00Z"),
            t("2026-03-01T00:00:00Z"),
        );
        let conf = ev(
            "booking.status_changed",
            json!({"booking_id": "b", "status": "confirmed"}),
        );
        let d2 = apply(Some(&d1.booking), &conf, t("2026-03-01T00:01:00Z"));
        assert!(d2.confirmed_now && d2.booking.version == 1);
        let d3 = apply(Some(&d2.booking), &conf, t("2026-03-01T00:02:00Z"));
        assert!(!d3.confirmed_now);
        let old = ev(
            "booking.status_changed",
            json!({"booking_id": "b", "status": "pending"}),
        );
        let d4 = apply(Some(&d3.booking), &old, t("2026-03-01T00:00:30Z"));
        assert_eq!(d4.outcome, Outcome::Stale);
        assert_eq!(d4.booking.status.as_deref(), Some("confirmed"));
    }

    #[test]
    fn a_no_show_is_reported_once() {
        let s = ev(
            "session.scheduled",
            json!({"session_id": "s", "start_time": "2026-03-10T13:00:00Z"}),
        );
        let d1 = apply(None, &s, t("2026-03-01T00:00:00Z"));
        let ns = ev("session.no_show", json!({"session_id": "s"}));
        let d2 = apply(Some(&d1.booking), &ns, t("2026-03-10T14:00:00Z"));
        assert!(d2.no_show_now && !d2.replan);
        assert_eq!(d2.booking.status.as_deref(), Some("no_show"));
        assert!(!apply(Some(&d2.booking), &ns, t("2026-03-10T14:01:00Z")).no_show_now);
    }

    #[test]
    fn review_created_marks_the_session() {
        let s = ev(
            "session.scheduled",
            json!({"session_id": "s", "start_time": "2026-03-10T13:00:00Z"}),
        );
        let d1 = apply(None, &s, t("2026-03-01T00:00:00Z"));
        let r = ev("review.created", json!({"session_id": "s"}));
        let d2 = apply(Some(&d1.booking), &r, t("2026-03-10T15:00:00Z"));
        assert!(d2.booking.review_received && !d2.replan && d2.booking.version == 1);
    }
}

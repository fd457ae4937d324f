//! From alerts to messages, through the notifications engine's outbox: for
//! each alert whose episode was not notified yet, its rule's audience
//! (guardians, the current class's teacher and coordinator), one message per
//! recipient on the first of the rule's channels they have a contact for
//! (their own preferred channels first), rendered in pt-BR from the rule's
//! template and the alert's details.
//!
//! Dedup key `alert:<alert id>:<episode>:<recipient id>`: a retried job finds
//! its outbox rows instead of sending twice; a re-opened alert (new episode)
//! is a new message, unless the rule's cooldown since the last notification
//! has not passed. Recipients without a usable contact are recorded on the
//! alert (`unreachable`) and in its `notified` event. Opt-outs, quiet hours
//! and provider failures are the notifications engine's business.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};
use sqlx::PgPool;
use uuid::Uuid;

use super::lifecycle::{AlertsError, Evaluation, Pending};
use super::rule::{Audience, Urgency};
use super::sql::RuleRow;
use crate::channels::templates::{self, format_date, format_decimal};
use crate::engine::Engine;
use crate::kinds::notify::{outbox, sql as outbox_sql, ChannelName, MessageSpec};

/// One outbox row to write: id, dedup key, recipient, message.
type OutboxRow = (Uuid, String, String, Value);

/// Outbox rows per insert.
const CHUNK: usize = 1_000;

/// Someone an alert may reach.
#[derive(Clone, Debug, sqlx::FromRow)]
struct Person {
    /// The student (guardians) this person belongs to, or the class (staff).
    owner: Uuid,
    id: Uuid,
    name: String,
    email: Option<String>,
    phone: Option<String>,
    push_token: Option<String>,
    preferred_channels: Vec<String>,
}

impl Person {
    fn contact(&self, ch: ChannelName) -> Option<&str> {
        let c = match ch {
            ChannelName::Email => self.email.as_deref(),
            ChannelName::Sms | ChannelName::Whatsapp => self.phone.as_deref(),
            ChannelName::Push => self.push_token.as_deref(),
            ChannelName::Webhook => None,
        };
        c.map(str::trim).filter(|c| !c.is_empty())
    }

    /// Their preferred channels the rule allows, then the rule's order.
    fn pick(&self, allowed: &[ChannelName]) -> Option<(ChannelName, String)> {
        let preferred = self
            .preferred_channels
            .iter()
            .filter_map(|c| ChannelName::parse(c))
            .filter(|c| allowed.contains(c));
        preferred
            .chain(allowed.iter().copied())
            .find_map(|ch| self.contact(ch).map(|c| (ch, c.to_string())))
    }
}

#[derive(Clone, Debug, sqlx::FromRow)]
struct CurrentClass {
    student_id: Uuid,
    name: String,
    teacher_id: Option<Uuid>,
    coordinator_id: Option<Uuid>,
}

/// Counts of one delivery round.
#[derive(Debug, Default)]
pub struct Delivered {
    pub messages: usize,
    pub notified: usize,
    pub cooldown_skipped: usize,
    pub unreachable: usize,
}

/// Notifies `pending` alerts; marks each one's episode as handled.
pub async fn deliver(
    pool: &PgPool,
    engine: &Engine,
    tenant: Uuid,
    run: &Evaluation,
    rules: &[RuleRow],
    pending: &[Pending],
    now: DateTime<Utc>,
) -> Result<Delivered, AlertsError> {
    let (today, year) = (run.as_of, run.year);
    let mut out = Delivered::default();
    if pending.is_empty() {
        return Ok(out);
    }
    let rules: HashMap<Uuid, &RuleRow> = rules.iter().map(|r| (r.id, r)).collect();
    let mut students: Vec<Uuid> = pending.iter().map(|p| p.student_id).collect();
    students.sort();
    students.dedup();
    let guardians: Vec<Person> = sqlx::query_as(
        "select student_id as owner, id, name, email, phone, push_token, preferred_channels
         from guardians where tenant_id = $1 and student_id = any($2) order by name, id",
    )
    .bind(tenant)
    .bind(&students)
    .fetch_all(pool)
    .await?;
    let mut guardians_of: HashMap<Uuid, Vec<&Person>> = HashMap::new();
    for g in &guardians {
        guardians_of.entry(g.owner).or_default().push(g);
    }
    // The current class: the latest enrollment that has started and not ended.
    let classes: Vec<CurrentClass> = sqlx::query_as(
        "select distinct on (e.student_id) e.student_id, c.name, c.teacher_id, c.coordinator_id
         from enrollments e join classes c on c.id = e.class_id
         where e.tenant_id = $1 and e.student_id = any($2)
           and (e.ended_on is null or e.ended_on >= $3) and (e.started_on is null or e.started_on <= $3)
         order by e.student_id, e.started_on desc nulls last, c.year desc",
    )
    .bind(tenant)
    .bind(&students)
    .bind(today)
    .fetch_all(pool)
    .await?;
    let class_of: HashMap<Uuid, &CurrentClass> =
        classes.iter().map(|c| (c.student_id, c)).collect();
    let staff_ids: Vec<Uuid> = classes
        .iter()
        .flat_map(|c| [c.teacher_id, c.coordinator_id])
        .flatten()
        .collect();
    let staff: Vec<Person> = sqlx::query_as(
        "select id as owner, id, name, email, phone, null::text as push_token, preferred_channels
         from staff where tenant_id = $1 and id = any($2)",
    )
    .bind(tenant)
    .bind(&staff_ids)
    .fetch_all(pool)
    .await?;
    let staff_by_id: HashMap<Uuid, &Person> = staff.iter().map(|s| (s.id, s)).collect();

    // (channel, urgent) → outbox rows (id, dedup key, recipient, message)
    let mut rows: HashMap<(ChannelName, bool), Vec<OutboxRow>> = HashMap::new();
    let mut marks = Marks::default();
    let mut renderer = templates::Renderer::new();
    for a in pending {
        let Some(rule) = rules.get(&a.rule_id) else {
            continue;
        };
        let in_cooldown = a
            .notified_at
            .is_some_and(|t| (now - t).num_seconds() < i64::from(rule.cooldown_secs));
        if in_cooldown {
            out.cooldown_skipped += 1;
            marks.push(
                a,
                "notify_skipped",
                json!({ "reason": "cooldown", "cooldown_secs": rule.cooldown_secs }),
                json!([]),
                false,
            );
            continue;
        }
        let class = class_of.get(&a.student_id).copied();
        let mut people: Vec<(&'static str, Option<&Person>, &'static str)> = Vec::new();
        for aud in &rule.audience {
            match aud {
                Audience::Guardians => match guardians_of.get(&a.student_id) {
                    Some(gs) => people.extend(gs.iter().map(|g| ("guardian", Some(*g), ""))),
                    None => people.push(("guardian", None, "student has no guardian")),
                },
                Audience::ClassTeacher => people.push((
                    "class_teacher",
                    class
                        .and_then(|c| c.teacher_id)
                        .and_then(|id| staff_by_id.get(&id).copied()),
                    "no current class teacher",
                )),
                Audience::Coordinator => people.push((
                    "coordinator",
                    class
                        .and_then(|c| c.coordinator_id)
                        .and_then(|id| staff_by_id.get(&id).copied()),
                    "no current class coordinator",
                )),
            }
        }
        let mut unreachable = Vec::new();
        let mut sent = 0usize;
        let mut channels_used = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for (kind, person, missing) in people {
            let Some(p) = person else {
                unreachable.push(json!({ "kind": kind, "reason": missing }));
                continue;
            };
            // A teacher who is also the coordinator gets one message.
            if !seen.insert(p.id) {
                continue;
            }
            let Some((ch, contact)) = p.pick(&rule.channels) else {
                unreachable.push(json!({ "kind": kind, "id": p.id, "name": p.name,
                    "reason": "no contact for the rule's channels" }));
                continue;
            };
            let data = minijinja::Value::from_serialize(variables(
                a,
                rule,
                class.map(|c| c.name.as_str()),
                &p.name,
                year,
            ));
            let text = renderer.render(&rule.template, &data);
            let subject = renderer.render(&rule.subject, &data);
            let (text, subject) = match (text, subject) {
                (Ok(t), Ok(s)) => (t, s),
                (Err(e), _) | (_, Err(e)) => {
                    tracing::warn!(tenant_id = %tenant, alert_id = %a.id, error = %e, "alert template failed");
                    unreachable.push(json!({ "kind": kind, "id": p.id, "name": p.name,
                        "reason": format!("template: {e}") }));
                    continue;
                }
            };
            let message = MessageSpec {
                subject: (ch == ChannelName::Email).then_some(subject),
                text: Some(text),
                data: Map::from_iter([
                    ("alert_id".to_string(), json!(a.id)),
                    ("student_id".to_string(), json!(a.student_id)),
                    (
                        "tipo".to_string(),
                        a.details.get("tipo").cloned().unwrap_or(Value::Null),
                    ),
                ]),
                ..MessageSpec::default()
            };
            let key = format!("alert:{}:{}:{}", a.id, a.episode, p.id);
            rows.entry((ch, rule.urgency == Urgency::High))
                .or_default()
                .push((
                    Uuid::now_v7(),
                    key,
                    contact,
                    serde_json::to_value(&message).expect("message serialises"),
                ));
            channels_used.push(json!({ "kind": kind, "id": p.id, "channel": ch.as_str() }));
            sent += 1;
        }
        out.unreachable += unreachable.len();
        out.messages += sent;
        out.notified += 1;
        marks.push(
            a,
            "notified",
            json!({ "recipients": channels_used, "unreachable": unreachable }),
            Value::Array(unreachable),
            sent > 0,
        );
    }

    let mut conn = pool.acquire().await?;
    for ((channel, urgent), rows) in &rows {
        for chunk in rows.chunks(CHUNK) {
            let found =
                outbox_sql::insert_many(&mut conn, tenant, channel.as_str(), *urgent, chunk)
                    .await?;
            let jobs: Vec<_> = found
                .iter()
                .filter(|n| n.status == "queued")
                .map(|n| outbox::send_job(tenant, n))
                .collect();
            if !jobs.is_empty() {
                engine.push_bulk(jobs).await?;
            }
        }
    }
    marks.apply(&mut conn, tenant, now).await?;
    Ok(out)
}

/// The template variables of one message.
fn variables(
    a: &Pending,
    rule: &RuleRow,
    class: Option<&str>,
    recipient: &str,
    year: i32,
) -> Map<String, Value> {
    let mut data = match &a.details {
        Value::Object(m) => m.clone(),
        _ => Map::new(),
    };
    if let Some(Value::Array(items)) = a.details.get("motivos") {
        data.insert(
            "motivos".into(),
            Value::Array(items.iter().map(|d| Value::String(reason(d))).collect()),
        );
    }
    for (k, v) in [
        ("aluno", json!(a.student_name)),
        ("matricula", json!(a.registration)),
        ("turma", json!(class.unwrap_or(""))),
        ("regra", json!(rule.name)),
        ("urgencia", json!(rule.urgency.pt_br())),
        ("ano", json!(year)),
        ("destinatario", json!(recipient)),
    ] {
        data.insert(k.into(), v);
    }
    data
}

fn num(d: &Value, k: &str) -> String {
    d.get(k)
        .and_then(Value::as_f64)
        .map(|x| format_decimal(x, None))
        .unwrap_or_default()
}

fn text<'a>(d: &'a Value, k: &str) -> &'a str {
    d.get(k).and_then(Value::as_str).unwrap_or("")
}

fn in_subject(d: &Value) -> String {
    match text(d, "disciplina") {
        "" => String::new(),
        s => format!(" em {s}"),
    }
}

/// One child of a composite rule, as a short pt-BR phrase.
pub fn reason(d: &Value) -> String {
    match text(d, "tipo") {
        "grade_below" => format!(
            "nota {} em {} no {}º bimestre",
            num(d, "nota"),
            text(d, "disciplina"),
            num(d, "bimestre")
        ),
        "average_below" => format!("média {}{}", num(d, "media"), in_subject(d)),
        "attendance_below" => format!("frequência de {}%{}", num(d, "frequencia"), in_subject(d)),
        "consecutive_absences" => format!("{} faltas seguidas{}", num(d, "faltas"), in_subject(d)),
        "falling_trend" => format!(
            "queda de {} pontos em {}",
            num(d, "queda"),
            text(d, "disciplina")
        ),
        "occurrence" => format!(
            "ocorrência de gravidade {} ({}) em {}",
            num(d, "gravidade"),
            text(d, "ocorrencia"),
            format_date(text(d, "data")).unwrap_or_default()
        ),
        _ => match d.get("motivos") {
            Some(Value::Array(items)) => {
                format!(
                    "({})",
                    items.iter().map(reason).collect::<Vec<_>>().join(", ")
                )
            }
            _ => String::new(),
        },
    }
}

/// The per-alert outcome, written in one statement.
#[derive(Default)]
struct Marks {
    ids: Vec<Uuid>,
    episodes: Vec<i32>,
    events: Vec<String>,
    details: Vec<Value>,
    unreachable: Vec<Value>,
    sent: Vec<bool>,
}

impl Marks {
    fn push(&mut self, a: &Pending, event: &str, details: Value, unreachable: Value, sent: bool) {
        self.ids.push(a.id);
        self.episodes.push(a.episode);
        self.events.push(event.to_string());
        self.details.push(details);
        self.unreachable.push(unreachable);
        self.sent.push(sent);
    }

    async fn apply(
        &self,
        conn: &mut sqlx::PgConnection,
        tenant: Uuid,
        now: DateTime<Utc>,
    ) -> Result<(), sqlx::Error> {
        for start in (0..self.ids.len()).step_by(10 * CHUNK) {
            let end = (start + 10 * CHUNK).min(self.ids.len());
            sqlx::query(
                "with v as (select * from unnest($3::uuid[], $4::int[], $5::text[], $6::jsonb[], $7::jsonb[], $8::bool[])
                            as v(id, episode, event, details, unreachable, sent)),
                      u as (update alerts a set notified_episode = greatest(a.notified_episode, v.episode),
                                   notified_at = case when v.sent then $2 else a.notified_at end,
                                   unreachable = case when v.event = 'notified' then v.unreachable else a.unreachable end
                            from v where a.tenant_id = $1 and a.id = v.id and a.episode = v.episode
                            returning a.id)
                 insert into alert_events (tenant_id, alert_id, event, episode, details, at)
                 select $1, v.id, v.event, v.episode, v.details, $2 from v join u on u.id = v.id",
            )
            .bind(tenant)
            .bind(now)
            .bind(&self.ids[start..end])
            .bind(&self.episodes[start..end])
            .bind(&self.events[start..end])
            .bind(&self.details[start..end])
            .bind(&self.unreachable[start..end])
            .bind(&self.sent[start..end])
            .execute(&mut *conn)
            .await?;
        }
        Ok(())
    }
}

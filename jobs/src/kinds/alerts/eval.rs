//! The set-based half of `alerts.evaluate`: one SQL statement per condition
//! of a rule, over every student in the evaluation's scope at once, writing
//! the students (and subjects) it holds for into the `eval_hits` temp table.
//! Composite conditions combine their children's rows there, in SQL too.
//!
//! Every statement reads the temp table `eval_scope (student_id, active)`
//! (the students being evaluated) and binds `$1` tenant, `$2` year, `$3`
//! today (in the tenant's zone), `$4` the node, `$5` the rule; its own
//! parameters follow. Each hit carries `details`: the template variables of
//! its type (`tipo`, `disciplina`, `frequencia`, ...).

use sqlx::PgConnection;
use uuid::Uuid;

use super::rule::{subject_codes, Condition, Scope};
use crate::store::tenants::slugify;

/// The year, today and tenant every statement of one evaluation shares.
#[derive(Clone, Copy, Debug)]
pub struct Frame {
    pub tenant: Uuid,
    pub year: i32,
    pub today: chrono::NaiveDate,
}

/// Creates the evaluation's temp tables (dropped at commit).
pub async fn create_temp_tables(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query(
        "create temp table eval_scope (student_id uuid primary key, active boolean not null) on commit drop",
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "create temp table eval_hits (node int not null, rule_id uuid not null, student_id uuid not null, \
         scope text not null, details jsonb not null) on commit drop",
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

// A term's grade on 0-10: its row without assessment, else the mean of its assessments.
const TERM_GRADES: &str = "term_grades as (
    select g.student_id, g.subject_code, g.term,
           coalesce(max(g.grade * 10 / g.scale_max) filter (where g.assessment = ''),
                    avg(g.grade * 10 / g.scale_max) filter (where g.assessment <> '')) as grade
    from grades g join eval_scope sc on sc.student_id = g.student_id and sc.active
    where g.tenant_id = $1 and g.year = $2 and g.term between 1 and 6
      and ($6::text[] is null or g.subject_code = any($6))
    group by 1, 2, 3)";

fn grade_below_sql() -> String {
    format!(
        "with {TERM_GRADES},
         picked as (select t.*, row_number() over (partition by t.student_id, t.subject_code order by t.term desc) as rn
                    from term_grades t where t.grade is not null and ($8::int is null or t.term = $8))
         select p.student_id, p.subject_code as scope,
                jsonb_build_object('tipo', 'grade_below', 'disciplina', sub.name, 'disciplina_codigo', p.subject_code,
                                   'nota', round(p.grade, 2), 'minimo', $7::numeric, 'bimestre', p.term) as details
         from picked p join academic_subjects sub on sub.tenant_id = $1 and sub.code = p.subject_code
         where p.rn = 1 and p.grade < $7::numeric"
    )
}

fn average_below_sql(scope: Scope) -> String {
    let avgs = format!(
        "with {TERM_GRADES},
         finals as (select g.student_id, g.subject_code, g.grade * 10 / g.scale_max as media
                    from grades g join eval_scope sc on sc.student_id = g.student_id and sc.active
                    where g.tenant_id = $1 and g.year = $2 and g.term = 0 and g.assessment = ''
                      and ($6::text[] is null or g.subject_code = any($6))),
         terms as (select student_id, subject_code, avg(grade) as media from term_grades group by 1, 2),
         avgs as (select coalesce(f.student_id, t.student_id) as student_id,
                         coalesce(f.subject_code, t.subject_code) as subject_code,
                         coalesce(f.media, t.media) as media
                  from terms t full join finals f on f.student_id = t.student_id and f.subject_code = t.subject_code)"
    );
    match scope {
        Scope::Subject => format!(
            "{avgs}
             select a.student_id, a.subject_code as scope,
                    jsonb_build_object('tipo', 'average_below', 'disciplina', sub.name, 'disciplina_codigo', a.subject_code,
                                       'media', round(a.media, 2), 'minimo', $7::numeric) as details
             from avgs a join academic_subjects sub on sub.tenant_id = $1 and sub.code = a.subject_code
             where a.media < $7::numeric"
        ),
        Scope::Overall => format!(
            "{avgs}
             select a.student_id, '' as scope,
                    jsonb_build_object('tipo', 'average_below', 'disciplina', '', 'disciplina_codigo', '',
                                       'media', round(avg(a.media), 2), 'minimo', $7::numeric) as details
             from avgs a where a.media is not null group by a.student_id having avg(a.media) < $7::numeric"
        ),
    }
}

// Attendance per (student, subject; '' = the whole day): periods when the
// student has any for that subject (a year row, term 0, wins over terms;
// counts when every row has them, else the mean of the percentages), else days.
const ATTENDANCE: &str = "per_rows as (
    select p.student_id, p.subject_code, p.term, p.classes_given, least(p.absences, p.classes_given) as absences,
           coalesce(p.attendance_pct,
                    case when p.classes_given > 0 and p.absences is not null
                         then 100.0 * (p.classes_given - least(p.absences, p.classes_given)) / p.classes_given end) as pct
    from attendance_periods p join eval_scope sc on sc.student_id = p.student_id and sc.active
    where p.tenant_id = $1 and p.year = $2),
  per_pick as (select r.* from per_rows r
               where r.term = 0 or not exists (select 1 from per_rows y where y.student_id = r.student_id
                                                and y.subject_code = r.subject_code and y.term = 0)),
  per_agg as (select student_id, subject_code,
                     case when bool_and(classes_given is not null and absences is not null) and sum(classes_given) > 0
                          then 100.0 * (sum(classes_given) - sum(absences)) / sum(classes_given) else avg(pct) end as pct,
                     case when bool_and(classes_given is not null and absences is not null) then sum(classes_given) end as given,
                     case when bool_and(classes_given is not null and absences is not null) then sum(absences) end as absent
              from per_pick group by 1, 2),
  day_agg as (select d.student_id, d.subject_code, count(*) as given,
                     count(*) filter (where not d.present and not d.justified) as absent
              from attendance_days d join eval_scope sc on sc.student_id = d.student_id and sc.active
              where d.tenant_id = $1 and d.day >= make_date($2, 1, 1) and d.day < make_date($2 + 1, 1, 1) and d.day <= $3
              group by 1, 2),
  att as (select student_id, subject_code, pct, given, absent from per_agg where pct is not null
          union all
          select d.student_id, d.subject_code, 100.0 * (d.given - d.absent) / d.given, d.given, d.absent
          from day_agg d
          where not exists (select 1 from per_agg p where p.student_id = d.student_id
                            and p.subject_code = d.subject_code and p.pct is not null))";

fn attendance_below_sql(scope: Scope) -> String {
    match scope {
        Scope::Subject => format!(
            "with {ATTENDANCE}
             select a.student_id, a.subject_code as scope,
                    jsonb_build_object('tipo', 'attendance_below', 'disciplina', coalesce(sub.name, a.subject_code),
                                       'disciplina_codigo', a.subject_code, 'frequencia', round(a.pct, 1),
                                       'minimo', $7::numeric, 'aulas', a.given, 'faltas', a.absent) as details
             from att a left join academic_subjects sub on sub.tenant_id = $1 and sub.code = a.subject_code
             where a.subject_code <> '' and ($6::text[] is null or a.subject_code = any($6)) and a.pct < $7::numeric"
        ),
        // Overall: the whole-day figure when the student has one, else all subjects together.
        Scope::Overall => format!(
            "with {ATTENDANCE},
             overall as (select student_id, pct, given, absent from att where subject_code = ''
                         union all
                         select a.student_id,
                                case when bool_and(a.given is not null) and sum(a.given) > 0
                                     then 100.0 * (sum(a.given) - sum(a.absent)) / sum(a.given) else avg(a.pct) end,
                                case when bool_and(a.given is not null) then sum(a.given) end,
                                case when bool_and(a.given is not null) then sum(a.absent) end
                         from att a
                         where a.subject_code <> '' and ($6::text[] is null or a.subject_code = any($6))
                           and not exists (select 1 from att b where b.student_id = a.student_id and b.subject_code = '')
                         group by a.student_id)
             select o.student_id, '' as scope,
                    jsonb_build_object('tipo', 'attendance_below', 'disciplina', '', 'disciplina_codigo', '',
                                       'frequencia', round(o.pct, 1), 'minimo', $7::numeric,
                                       'aulas', o.given, 'faltas', o.absent) as details
             from overall o where o.pct < $7::numeric"
        ),
    }
}

const CONSECUTIVE_SQL: &str = "with d as (
        select ad.student_id, ad.day, ad.present, ad.justified
        from attendance_days ad join eval_scope sc on sc.student_id = ad.student_id and sc.active
        where ad.tenant_id = $1 and ad.subject_code = $6
          and ad.day >= make_date($2, 1, 1) and ad.day < make_date($2 + 1, 1, 1) and ad.day <= $3),
     last_ok as (select student_id, max(day) as day from d where present or (justified and not $8) group by 1)
     select d.student_id, $6 as scope,
            jsonb_build_object('tipo', 'consecutive_absences', 'disciplina', coalesce(sub.name, ''),
                               'disciplina_codigo', $6, 'faltas', count(*), 'desde', min(d.day)) as details
     from d left join last_ok l on l.student_id = d.student_id
            left join academic_subjects sub on sub.tenant_id = $1 and sub.code = $6
     where not d.present and (l.day is null or d.day > l.day)
     group by d.student_id, sub.name
     having count(*) >= $7";

fn falling_trend_sql() -> String {
    format!(
        "with {TERM_GRADES},
         ranked as (select t.*, row_number() over (partition by t.student_id, t.subject_code order by t.term desc) as rn
                    from term_grades t where t.grade is not null)
         select r.student_id, r.subject_code as scope,
                jsonb_build_object('tipo', 'falling_trend', 'disciplina', sub.name, 'disciplina_codigo', r.subject_code,
                    'de', round(max(r.grade) filter (where r.rn = $8), 2),
                    'para', round(max(r.grade) filter (where r.rn = 1), 2),
                    'queda', round(max(r.grade) filter (where r.rn = $8) - max(r.grade) filter (where r.rn = 1), 2),
                    'notas', jsonb_agg(round(r.grade, 2) order by r.term)) as details
         from ranked r join academic_subjects sub on sub.tenant_id = $1 and sub.code = r.subject_code
         where r.rn <= $8
         group by r.student_id, r.subject_code, sub.name
         having count(*) = $8
            and max(r.grade) filter (where r.rn = $8) - max(r.grade) filter (where r.rn = 1) >= $7::numeric"
    )
}

// `$2` only keeps the shared parameter list typed; an occurrence is not bound to the year.
const OCCURRENCE_SQL: &str = "select o.student_id, 'occurrence:' || o.external_id as scope,
        jsonb_build_object('tipo', 'occurrence', 'ocorrencia', o.kind, 'gravidade', o.severity,
                           'descricao', o.description, 'data', o.occurred_on, 'ano', $2::int) as details
     from occurrences o join eval_scope sc on sc.student_id = o.student_id and sc.active
     where o.tenant_id = $1 and o.severity >= $6 and o.occurred_on >= $3 - $7::int
       and ($8::text[] is null or o.kind = any($8))";

fn wrap(inner: &str) -> String {
    format!(
        "insert into eval_hits (node, rule_id, student_id, scope, details)
         select $4, $5, q.student_id, q.scope, q.details from ({inner}) q"
    )
}

/// Evaluates `cond` as node `node` of `rule` (and its children as the
/// following nodes); returns the next free node number. One statement per leaf.
pub fn run<'a>(
    conn: &'a mut PgConnection,
    f: Frame,
    rule: Uuid,
    cond: &'a Condition,
    node: i32,
) -> futures::future::BoxFuture<'a, Result<i32, sqlx::Error>> {
    Box::pin(async move {
        match cond {
            Condition::GradeBelow {
                threshold,
                term,
                subjects,
            } => {
                let sql = wrap(&grade_below_sql());
                sqlx::query(&sql)
                    .bind(f.tenant)
                    .bind(f.year)
                    .bind(f.today)
                    .bind(node)
                    .bind(rule)
                    .bind(subject_codes(subjects))
                    .bind(threshold)
                    .bind(term.map(i32::from))
                    .execute(&mut *conn)
                    .await?;
                Ok(node + 1)
            }
            Condition::AverageBelow {
                threshold,
                scope,
                subjects,
            } => {
                let sql = wrap(&average_below_sql(*scope));
                sqlx::query(&sql)
                    .bind(f.tenant)
                    .bind(f.year)
                    .bind(f.today)
                    .bind(node)
                    .bind(rule)
                    .bind(subject_codes(subjects))
                    .bind(threshold)
                    .execute(&mut *conn)
                    .await?;
                Ok(node + 1)
            }
            Condition::AttendanceBelow {
                min_pct,
                scope,
                subjects,
            } => {
                let sql = wrap(&attendance_below_sql(*scope));
                sqlx::query(&sql)
                    .bind(f.tenant)
                    .bind(f.year)
                    .bind(f.today)
                    .bind(node)
                    .bind(rule)
                    .bind(subject_codes(subjects))
                    .bind(min_pct)
                    .execute(&mut *conn)
                    .await?;
                Ok(node + 1)
            }
            Condition::ConsecutiveAbsences {
                count,
                subject,
                include_justified,
            } => {
                let sql = wrap(CONSECUTIVE_SQL);
                sqlx::query(&sql)
                    .bind(f.tenant)
                    .bind(f.year)
                    .bind(f.today)
                    .bind(node)
                    .bind(rule)
                    .bind(subject.as_deref().map(slugify).unwrap_or_default())
                    .bind(*count as i64)
                    .bind(include_justified)
                    .execute(&mut *conn)
                    .await?;
                Ok(node + 1)
            }
            Condition::FallingTrend {
                drop,
                last,
                subjects,
            } => {
                let sql = wrap(&falling_trend_sql());
                sqlx::query(&sql)
                    .bind(f.tenant)
                    .bind(f.year)
                    .bind(f.today)
                    .bind(node)
                    .bind(rule)
                    .bind(subject_codes(subjects))
                    .bind(drop)
                    .bind(*last as i64)
                    .execute(&mut *conn)
                    .await?;
                Ok(node + 1)
            }
            Condition::Occurrence {
                min_severity,
                within_days,
                kinds,
            } => {
                let sql = wrap(OCCURRENCE_SQL);
                let kinds: Option<Vec<String>> = (!kinds.is_empty())
                    .then(|| kinds.iter().map(|k| k.trim().to_string()).collect());
                sqlx::query(&sql)
                    .bind(f.tenant)
                    .bind(f.year)
                    .bind(f.today)
                    .bind(node)
                    .bind(rule)
                    .bind(min_severity)
                    .bind(*within_days as i32)
                    .bind(kinds)
                    .execute(&mut *conn)
                    .await?;
                Ok(node + 1)
            }
            Condition::AllOf { conditions } | Condition::AnyOf { conditions } => {
                let mut next = node + 1;
                let mut children = Vec::with_capacity(conditions.len());
                for c in conditions {
                    children.push(next);
                    next = run(&mut *conn, f, rule, c, next).await?;
                }
                let need = if matches!(cond, Condition::AllOf { .. }) {
                    children.len() as i64
                } else {
                    1
                };
                // The student-level combination: each child counts once per
                // student, whatever subjects it held for.
                sqlx::query(
                    "insert into eval_hits (node, rule_id, student_id, scope, details)
                     select $1, $2, h.student_id, '',
                            jsonb_build_object('tipo', $5::text, 'motivos', jsonb_agg(h.details order by h.node, h.scope))
                     from eval_hits h where h.node = any($3)
                     group by h.student_id having count(distinct h.node) >= $4",
                )
                .bind(node)
                .bind(rule)
                .bind(&children)
                .bind(need)
                .bind(cond.type_name())
                .execute(&mut *conn)
                .await?;
                Ok(next)
            }
        }
    })
}

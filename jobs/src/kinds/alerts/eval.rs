//! The set-based half of `alerts.evaluate`: one SQL statement per condition
//! of a rule, over every student in the evaluation's scope at once, writing
//! the students (and subjects) it holds for into the `eval_hits` temp table.
//! Composite conditions combine their children's rows there, in SQL too.
//!
//! Grades and attendance are first reduced, once per evaluation, to one row
//! per student and subject (`eval_grades`, `eval_att`: `build_bases`); the
//! grade and attendance rules read those, so eight rules over 100,000
//! students scan the 4,000,000 grade rows once, not once per rule.
//!
//! Every statement reads the temp table `eval_scope (student_id, active)`
//! (the students being evaluated) and binds `$1` tenant, `$2` year, `$3`
//! today (in the tenant's zone), `$4` the node, `$5` the rule; its own
//! parameters follow. Each hit carries `details`: the template variables of
//! its type (`tipo`, `disciplina`, `frequencia`, ...).

use sqlx::postgres::PgArguments;
use sqlx::query::Query;
use sqlx::{PgConnection, Postgres};
use uuid::Uuid;

use super::rule::{subject_codes, Condition, Scope, TrendOver};

/// The year, today and tenant every statement of one evaluation shares.
#[derive(Clone, Copy, Debug)]
pub struct Frame {
    pub tenant: Uuid,
    pub year: i32,
    pub today: chrono::NaiveDate,
}

/// Creates the evaluation's temp tables (dropped at commit); `eval_grades`,
/// `eval_att` and `eval_days` are created by `build_bases` when a rule needs them.
pub async fn create_temp_tables(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    for ddl in [
        "create temp table eval_scope (student_id uuid primary key, active boolean not null) on commit drop",
        "create temp table eval_hits (node int not null, rule_id uuid not null, student_id uuid not null, \
         scope text not null, details jsonb not null) on commit drop",
        // The hits that change an alert (lifecycle.rs).
        "create temp table eval_diff (rule_id uuid not null, student_id uuid not null, scope text not null, \
         details jsonb not null, alert_id uuid, status text) on commit drop",
    ] {
        sqlx::query(ddl).execute(&mut *conn).await?;
    }
    Ok(())
}

// The per-(student, subject) tables are built with CREATE TABLE AS, which
// PostgreSQL may run with parallel workers (an INSERT … SELECT never is, and
// neither is a query reading a temp table): for a whole-institution
// evaluation the students are read from `students` itself. CREATE TABLE AS
// takes no bind parameters, so the tenant, year and day are formatted in;
// all three are typed values (uuid, integer, date), never caller text.

/// Which students a base table covers, as a join on the alias `x`.
fn scope_join(f: Frame, whole_tenant: bool) -> String {
    if whole_tenant {
        format!(
            "join students s on s.id = x.student_id and s.active and (s.left_on is null or s.left_on > '{}'::date)",
            f.today
        )
    } else {
        "join eval_scope sc on sc.student_id = x.student_id and sc.active".to_string()
    }
}

// `eval_grades`: one row per (student, subject) of the year. A term's grade
// on 0-10 is its row without assessment, else the mean of its assessments;
// `g1`..`g6` are the terms' grades (null: not graded), `term_avg` their
// mean, `final` the year's grade (term 0, the row without assessment).
// Terms are pivoted with filtered aggregates: no per-group sort.
fn build_grades_sql(f: Frame, whole_tenant: bool) -> String {
    let term = |k: u8| {
        format!(
            "coalesce(max(grade) filter (where term = {k} and plain), avg(grade) filter (where term = {k} and not plain)) as g{k}"
        )
    };
    let terms: Vec<String> = (1..=6).map(term).collect();
    format!(
        "create temp table eval_grades on commit drop as
         with x as (
             select x.student_id, x.subject_code, x.term, x.assessment = '' as plain,
                    case when x.scale_max = 10 then x.grade else x.grade * 10 / x.scale_max end as grade
             from grades x {join}
             where x.tenant_id = '{tenant}'::uuid and x.year = {year} and x.term between 0 and 6),
         p as (
             select student_id, subject_code, {terms},
                    max(grade) filter (where term = 0 and plain) as final
             from x group by 1, 2)
         select student_id, subject_code, g1, g2, g3, g4, g5, g6,
                (coalesce(g1, 0) + coalesce(g2, 0) + coalesce(g3, 0) + coalesce(g4, 0) + coalesce(g5, 0) + coalesce(g6, 0))
                  / nullif(num_nonnulls(g1, g2, g3, g4, g5, g6), 0) as term_avg,
                final
         from p",
        join = scope_join(f, whole_tenant),
        tenant = f.tenant,
        year = f.year,
        terms = terms.join(",\n                    "),
    )
}

// `eval_att`: attendance per (student, subject; '' = the whole day). From
// attendance periods when the student has any for that subject: the year row
// (term 0) wins over the terms; counts when every row of the set has them,
// else the mean of its percentages (rare: filled in by ATTENDANCE_FALLBACK).
// Else from daily attendance up to today (justified absences don't count).
fn build_attendance_sql(f: Frame, whole_tenant: bool) -> [String; 2] {
    let join = scope_join(f, whole_tenant);
    let (tenant, year, today) = (f.tenant, f.year, f.today);
    [
        format!(
            "create temp table eval_att on commit drop as
             with x as (
                 select x.student_id, x.subject_code, x.term = 0 as yr, x.classes_given as given,
                        least(x.absences, x.classes_given) as absent,
                        x.classes_given is not null and x.absences is not null as counted
                 from attendance_periods x {join}
                 where x.tenant_id = '{tenant}'::uuid and x.year = {year}),
             sums as (
                 select student_id, subject_code, bool_or(yr) as has_year,
                        bool_and(counted) filter (where yr) as y_counted, sum(given) filter (where yr) as y_given,
                        sum(absent) filter (where yr) as y_absent,
                        bool_and(counted) filter (where not yr) as t_counted, sum(given) filter (where not yr) as t_given,
                        sum(absent) filter (where not yr) as t_absent
                 from x group by 1, 2),
             picked as (
                 select student_id, subject_code, has_year,
                        case when has_year then y_counted else t_counted end as counted,
                        case when has_year then y_given else t_given end as given,
                        case when has_year then y_absent else t_absent end as absent
                 from sums)
             select student_id, subject_code, has_year,
                    case when counted and given > 0 then 100.0 * (given - absent) / given end as pct,
                    case when counted then given end as given,
                    case when counted then absent end as absent
             from picked"
        ),
        format!(
            "create temp table eval_days on commit drop as
             select x.student_id, x.subject_code, count(*) as given,
                    count(*) filter (where not x.present and not x.justified) as absent
             from attendance_days x {join}
             where x.tenant_id = '{tenant}'::uuid and x.day >= make_date({year}, 1, 1)
               and x.day < make_date({year} + 1, 1, 1) and x.day <= '{today}'::date
             group by 1, 2"
        ),
    ]
}

// The sets without counts everywhere: the mean of their rows' percentages
// (given, or from the counts of the rows that have them).
const ATTENDANCE_FALLBACK: &str = "update eval_att a set pct = f.pct
    from (select p.student_id, p.subject_code,
                 avg(coalesce(p.attendance_pct,
                              case when p.classes_given > 0 and p.absences is not null
                                   then 100.0 * (p.classes_given - least(p.absences, p.classes_given)) / p.classes_given end)) as pct
          from eval_att a2 join attendance_periods p
               on p.tenant_id = $1 and p.student_id = a2.student_id and p.subject_code = a2.subject_code
              and p.year = $2 and (p.term = 0) = a2.has_year
          where a2.pct is null
          group by 1, 2) f
    where a.student_id = f.student_id and a.subject_code = f.subject_code and a.pct is null";

// Daily attendance counts where no period figure exists for that subject.
const ATTENDANCE_DAYS: &str = "insert into eval_att (student_id, subject_code, has_year, pct, given, absent)
    select d.student_id, d.subject_code, false, 100.0 * (d.given - d.absent) / d.given, d.given, d.absent
    from eval_days d
    where not exists (select 1 from eval_att a where a.student_id = d.student_id and a.subject_code = d.subject_code)";

/// Builds the per-(student, subject) tables the rules read (`eval_grades`,
/// `eval_att`), each only when some condition needs it. `whole_tenant`: the
/// scope is every student of the tenant (no narrowing).
pub async fn build_bases(
    conn: &mut PgConnection,
    f: Frame,
    whole_tenant: bool,
    conditions: &[&Condition],
) -> Result<(), sqlx::Error> {
    let (mut grades, mut attendance) = (false, false);
    for c in conditions {
        c.visit(&mut |leaf| match leaf {
            Condition::GradeBelow { .. }
            | Condition::AverageBelow { .. }
            | Condition::FallingTrend {
                over: TrendOver::Terms,
                ..
            } => grades = true,
            Condition::AttendanceBelow { .. } => attendance = true,
            _ => {}
        });
    }
    if grades {
        sqlx::query(&build_grades_sql(f, whole_tenant))
            .execute(&mut *conn)
            .await?;
        sqlx::query("analyze eval_grades")
            .execute(&mut *conn)
            .await?;
    }
    if attendance {
        for sql in build_attendance_sql(f, whole_tenant) {
            sqlx::query(&sql).execute(&mut *conn).await?;
        }
        sqlx::query("analyze eval_att").execute(&mut *conn).await?;
        sqlx::query(ATTENDANCE_FALLBACK)
            .bind(f.tenant)
            .bind(f.year)
            .execute(&mut *conn)
            .await?;
        sqlx::query("delete from eval_att where pct is null")
            .execute(&mut *conn)
            .await?;
        sqlx::query(ATTENDANCE_DAYS).execute(&mut *conn).await?;
        sqlx::query("analyze eval_att").execute(&mut *conn).await?;
    }
    Ok(())
}

// The latest graded term's grade (or term `$8`'s) below `$7`.
const GRADE_BELOW_SQL: &str = "select p.student_id, p.subject_code as scope,
        jsonb_build_object('tipo', 'grade_below', 'disciplina', sub.name, 'disciplina_codigo', p.subject_code,
                           'nota', round(p.grade, 2), 'minimo', $7::numeric, 'bimestre', p.term) as details
    from (select g.student_id, g.subject_code,
                 case $8::int when 1 then g.g1 when 2 then g.g2 when 3 then g.g3 when 4 then g.g4
                              when 5 then g.g5 when 6 then g.g6
                              else coalesce(g.g6, g.g5, g.g4, g.g3, g.g2, g.g1) end as grade,
                 coalesce($8::int, case when g.g6 is not null then 6 when g.g5 is not null then 5
                                       when g.g4 is not null then 4 when g.g3 is not null then 3
                                       when g.g2 is not null then 2 when g.g1 is not null then 1 end) as term
          from eval_grades g where $6::text[] is null or g.subject_code = any($6)) p
    join academic_subjects sub on sub.tenant_id = $1 and sub.code = p.subject_code
    where p.grade < $7::numeric";

fn average_below_sql(scope: Scope) -> &'static str {
    match scope {
        Scope::Subject => {
            "select g.student_id, g.subject_code as scope,
                jsonb_build_object('tipo', 'average_below', 'disciplina', sub.name, 'disciplina_codigo', g.subject_code,
                                   'media', round(coalesce(g.final, g.term_avg), 2), 'minimo', $7::numeric) as details
             from eval_grades g join academic_subjects sub on sub.tenant_id = $1 and sub.code = g.subject_code
             where ($6::text[] is null or g.subject_code = any($6)) and coalesce(g.final, g.term_avg) < $7::numeric"
        }
        Scope::Overall => {
            "select g.student_id, '' as scope,
                jsonb_build_object('tipo', 'average_below', 'disciplina', '', 'disciplina_codigo', '',
                                   'media', round(avg(coalesce(g.final, g.term_avg)), 2), 'minimo', $7::numeric) as details
             from eval_grades g
             where ($6::text[] is null or g.subject_code = any($6)) and coalesce(g.final, g.term_avg) is not null
             group by g.student_id having avg(coalesce(g.final, g.term_avg)) < $7::numeric"
        }
    }
}

fn attendance_below_sql(scope: Scope) -> &'static str {
    match scope {
        Scope::Subject => {
            "select a.student_id, a.subject_code as scope,
                jsonb_build_object('tipo', 'attendance_below', 'disciplina', coalesce(sub.name, a.subject_code),
                                   'disciplina_codigo', a.subject_code, 'frequencia', round(a.pct, 1),
                                   'minimo', $7::numeric, 'aulas', a.given, 'faltas', a.absent) as details
             from eval_att a left join academic_subjects sub on sub.tenant_id = $1 and sub.code = a.subject_code
             where a.subject_code <> '' and ($6::text[] is null or a.subject_code = any($6)) and a.pct < $7::numeric"
        }
        // Overall: the whole-day figure when the student has one, else all subjects together.
        Scope::Overall => {
            "with overall as (
                select student_id, pct, given, absent from eval_att where subject_code = ''
                union all
                select a.student_id,
                       case when bool_and(a.given is not null) and sum(a.given) > 0
                            then 100.0 * (sum(a.given) - sum(a.absent)) / sum(a.given) else avg(a.pct) end,
                       case when bool_and(a.given is not null) then sum(a.given) end,
                       case when bool_and(a.given is not null) then sum(a.absent) end
                from eval_att a
                where a.subject_code <> '' and ($6::text[] is null or a.subject_code = any($6))
                  and not exists (select 1 from eval_att b where b.student_id = a.student_id and b.subject_code = '')
                group by a.student_id)
             select o.student_id, '' as scope,
                jsonb_build_object('tipo', 'attendance_below', 'disciplina', '', 'disciplina_codigo', '',
                                   'frequencia', round(o.pct, 1), 'minimo', $7::numeric,
                                   'aulas', o.given, 'faltas', o.absent) as details
             from overall o where o.pct < $7::numeric"
        }
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

// The last `$8` graded terms fell by at least `$7` from the oldest to the newest.
const FALLING_TREND_SQL: &str = "select t.student_id, t.subject_code as scope,
        jsonb_build_object('tipo', 'falling_trend', 'disciplina', sub.name, 'disciplina_codigo', t.subject_code,
                           'de', round(t.first, 2), 'para', round(t.last, 2), 'queda', round(t.first - t.last, 2),
                           'notas', (select jsonb_agg(round(x, 2) order by i) from unnest(t.recent) with ordinality u(x, i))) as details
    from (select a.student_id, a.subject_code, a.grades[cardinality(a.grades) - $8::int + 1] as first,
                 a.grades[cardinality(a.grades)] as last,
                 a.grades[cardinality(a.grades) - $8::int + 1 : cardinality(a.grades)] as recent
          from (select g.student_id, g.subject_code, array_remove(array[g.g1, g.g2, g.g3, g.g4, g.g5, g.g6], null) as grades
                from eval_grades g
                where num_nonnulls(g.g1, g.g2, g.g3, g.g4, g.g5, g.g6) >= $8::int
                  and ($6::text[] is null or g.subject_code = any($6))) a) t
    join academic_subjects sub on sub.tenant_id = $1 and sub.code = t.subject_code
    where t.first - t.last >= $7::numeric";

// The last `$8` single assessments of the year fell by at least `$7`.
const FALLING_ASSESSMENTS_SQL: &str = "with a as (
        select x.student_id, x.subject_code, x.grade * 10 / x.scale_max as grade,
               row_number() over (partition by x.student_id, x.subject_code
                                  order by x.term desc, x.assessed_on desc nulls last, x.assessment desc) as rn
        from grades x join eval_scope sc on sc.student_id = x.student_id and sc.active
        where x.tenant_id = $1 and x.year = $2 and x.assessment <> ''
          and ($6::text[] is null or x.subject_code = any($6)))
    select a.student_id, a.subject_code as scope,
           jsonb_build_object('tipo', 'falling_trend', 'disciplina', sub.name, 'disciplina_codigo', a.subject_code,
               'de', round(max(a.grade) filter (where a.rn = $8::int), 2),
               'para', round(max(a.grade) filter (where a.rn = 1), 2),
               'queda', round(max(a.grade) filter (where a.rn = $8::int) - max(a.grade) filter (where a.rn = 1), 2),
               'notas', jsonb_agg(round(a.grade, 2) order by a.rn desc)) as details
    from a join academic_subjects sub on sub.tenant_id = $1 and sub.code = a.subject_code
    where a.rn <= $8::int
    group by a.student_id, a.subject_code, sub.name
    having count(*) = $8::int
       and max(a.grade) filter (where a.rn = $8::int) - max(a.grade) filter (where a.rn = 1) >= $7::numeric";

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

/// A leaf statement with the five parameters every one shares bound; the
/// caller binds its own from `$6`.
fn leaf(sql: &str, f: Frame, node: i32, rule: Uuid) -> Query<'_, Postgres, PgArguments> {
    sqlx::query(sql)
        .bind(f.tenant)
        .bind(f.year)
        .bind(f.today)
        .bind(node)
        .bind(rule)
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
                leaf(&wrap(GRADE_BELOW_SQL), f, node, rule)
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
                leaf(&wrap(average_below_sql(*scope)), f, node, rule)
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
                leaf(&wrap(attendance_below_sql(*scope)), f, node, rule)
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
                leaf(&wrap(CONSECUTIVE_SQL), f, node, rule)
                    .bind(subject.as_deref().map(ptbr::slug).unwrap_or_default())
                    .bind(*count as i64)
                    .bind(include_justified)
                    .execute(&mut *conn)
                    .await?;
                Ok(node + 1)
            }
            Condition::FallingTrend {
                drop,
                last,
                over,
                subjects,
            } => {
                let sql = match over {
                    TrendOver::Terms => FALLING_TREND_SQL,
                    TrendOver::Assessments => FALLING_ASSESSMENTS_SQL,
                };
                leaf(&wrap(sql), f, node, rule)
                    .bind(subject_codes(subjects))
                    .bind(drop)
                    .bind(*last as i32)
                    .execute(&mut *conn)
                    .await?;
                Ok(node + 1)
            }
            Condition::Occurrence {
                min_severity,
                within_days,
                kinds,
            } => {
                let kinds: Option<Vec<String>> = (!kinds.is_empty())
                    .then(|| kinds.iter().map(|k| k.trim().to_string()).collect());
                leaf(&wrap(OCCURRENCE_SQL), f, node, rule)
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

//! Property test: on random academic records and random rule parameters,
//! the set-based SQL evaluation opens exactly the alerts a plain in-memory
//! evaluation of the same rules says should hold (rule, student, scope).
//! Grades are in halves and comparisons are done on exact fractions, so
//! "exactly at the threshold" cases are judged the same way PostgreSQL's
//! numeric does. Cases are drawn with proptest's generator inside one
//! database (a fresh tenant per case); a failing case prints its data.

mod alerts_common;

use std::collections::BTreeSet;

use chrono::NaiveDate;
use jobs::kinds::alerts::{self, sql, EvaluatePayload, RuleSpec};
use jobs::store::academic::{self, Rows};
use jobs::store::tenants;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

const SUBJECTS: [&str; 2] = ["matematica", "historia"];
const CASES: u32 = 24;

#[derive(Clone, Debug)]
struct Student {
    /// grades[subject][term-1] in halves (0..=20), if given
    grades: [[Option<i64>; 4]; 2],
    /// periods[subject][term-1] = (classes given, absences)
    periods: [[Option<(i64, i64)>; 4]; 2],
    /// June 1.. in order: 'P' present, 'F' absent, 'J' justified absence
    days: Vec<char>,
    /// (severity, days before today)
    occurrences: Vec<(i64, i64)>,
}

#[derive(Clone, Debug)]
struct Params {
    grade_t2: i64,
    grade_term: Option<i64>,
    avg_t2: i64,
    att_min: i64,
    streak: i64,
    drop2: i64,
    last: usize,
    min_sev: i64,
    within: i64,
}

fn student() -> impl Strategy<Value = Student> {
    let g = prop::option::weighted(0.7, 0i64..=20);
    let p = prop::option::weighted(0.6, (1i64..=20).prop_flat_map(|n| (Just(n), 0..=n)));
    (
        prop::array::uniform2(prop::array::uniform4(g)),
        prop::array::uniform2(prop::array::uniform4(p)),
        prop::collection::vec(prop::sample::select(vec!['P', 'F', 'J']), 0..8),
        prop::collection::vec((1i64..=5, 0i64..60), 0..3),
    )
        .prop_map(|(grades, periods, days, occurrences)| Student {
            grades,
            periods,
            days,
            occurrences,
        })
}

fn params() -> impl Strategy<Value = Params> {
    (
        (0i64..=20, prop::option::of(1i64..=4), 0i64..=20),
        (prop::sample::select(vec![50i64, 60, 75, 80, 90]), 1i64..=4),
        (1i64..=8, 2usize..=4, 1i64..=5, 1i64..=60),
    )
        .prop_map(
            |(
                (grade_t2, grade_term, avg_t2),
                (att_min, streak),
                (drop2, last, min_sev, within),
            )| Params {
                grade_t2,
                grade_term,
                avg_t2,
                att_min,
                streak,
                drop2,
                last,
                min_sev,
                within,
            },
        )
}

/// a/b < c/d for positive denominators.
fn lt(a: i64, b: i64, c: i64, d: i64) -> bool {
    (a as i128) * (d as i128) < (c as i128) * (b as i128)
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 6, 15).unwrap()
}

/// The in-memory evaluation: (rule name, student index, scope).
fn expected(students: &[Student], p: &Params, incl: bool) -> BTreeSet<(String, usize, String)> {
    let mut out = BTreeSet::new();
    for (i, s) in students.iter().enumerate() {
        let mut subj_means: Vec<(i64, i64)> = Vec::new(); // (sum in halves, count)
        for (si, code) in SUBJECTS.iter().enumerate() {
            let terms: Vec<(usize, i64)> = s.grades[si]
                .iter()
                .enumerate()
                .filter_map(|(t, g)| g.map(|g| (t + 1, g)))
                .collect();
            // grade_below: the given term, else the latest graded term
            let pick = match p.grade_term {
                Some(t) => terms.iter().find(|x| x.0 as i64 == t).map(|x| x.1),
                None => terms.last().map(|x| x.1),
            };
            if pick.is_some_and(|g| g < p.grade_t2) {
                out.insert(("nota".into(), i, code.to_string()));
            }
            if !terms.is_empty() {
                let sum: i64 = terms.iter().map(|x| x.1).sum();
                let n = terms.len() as i64;
                if lt(sum, n, p.avg_t2, 1) {
                    out.insert(("média".into(), i, code.to_string()));
                }
                subj_means.push((sum, n));
            }
            // falling trend over the last `last` term grades
            if terms.len() >= p.last {
                let window = &terms[terms.len() - p.last..];
                if window[0].1 - window[p.last - 1].1 >= p.drop2 {
                    out.insert(("queda".into(), i, code.to_string()));
                }
            }
            // attendance per subject
            let rows: Vec<(i64, i64)> = s.periods[si].iter().flatten().copied().collect();
            if !rows.is_empty() {
                let (g, a): (i64, i64) = rows
                    .iter()
                    .fold((0, 0), |acc, r| (acc.0 + r.0, acc.1 + r.1));
                if lt(100 * (g - a), g, p.att_min, 1) {
                    out.insert(("frequência".into(), i, code.to_string()));
                }
            }
        }
        // overall average: mean of subject means < t  ⇔  Σ sum_s/n_s < t·k
        if !subj_means.is_empty() {
            let den: i64 = subj_means.iter().map(|m| m.1).product();
            let num: i64 = subj_means.iter().map(|m| m.0 * (den / m.1)).sum();
            if lt(num, den * subj_means.len() as i64, p.avg_t2, 1) {
                out.insert(("média geral".into(), i, String::new()));
            }
        }
        // overall attendance: the whole school days when there are any, else all subjects together
        let overall = if !s.days.is_empty() {
            let absent = s.days.iter().filter(|d| **d == 'F').count() as i64;
            Some((100 * (s.days.len() as i64 - absent), s.days.len() as i64))
        } else {
            let rows: Vec<(i64, i64)> = s.periods.iter().flatten().flatten().copied().collect();
            (!rows.is_empty()).then(|| {
                let (g, a) = rows
                    .iter()
                    .fold((0, 0), |acc, r| (acc.0 + r.0, acc.1 + r.1));
                (100 * (g - a), g)
            })
        };
        if overall.is_some_and(|(n, d)| lt(n, d, p.att_min, 1)) {
            out.insert(("frequência geral".into(), i, String::new()));
        }
        // consecutive absences at the end of the record
        let breaks = |d: char| d == 'P' || (d == 'J' && !incl);
        let run = s.days.iter().rev().take_while(|d| !breaks(**d)).count() as i64;
        if run >= p.streak {
            out.insert(("faltas seguidas".into(), i, String::new()));
        }
        for (j, (sev, ago)) in s.occurrences.iter().enumerate() {
            if *sev >= p.min_sev && *ago <= p.within {
                out.insert(("ocorrência".into(), i, format!("occurrence:S{i}-O{j}")));
            }
        }
    }
    out
}

fn rows(v: Vec<Value>) -> Rows {
    Rows::from_json(v).unwrap()
}

async fn load(pool: &PgPool, tenant: Uuid, students: &[Student]) {
    let reg = |i: usize| format!("S{i}");
    let st: Vec<Value> = (0..students.len())
        .map(|i| json!({"registration": reg(i), "name": format!("Aluno {i}")}))
        .collect();
    academic::students::ingest(pool, tenant, &rows(st))
        .await
        .unwrap();
    let (mut grades, mut att, mut occ) = (vec![], vec![], vec![]);
    for (i, s) in students.iter().enumerate() {
        for (si, code) in SUBJECTS.iter().enumerate() {
            for t in 0..4 {
                if let Some(g) = s.grades[si][t] {
                    grades.push(json!({"registration": reg(i), "subject": code, "year": 2026, "term": t + 1, "grade": g as f64 / 2.0}));
                }
                if let Some((given, abs)) = s.periods[si][t] {
                    att.push(
                        json!({"registration": reg(i), "subject": code, "year": 2026, "term": t + 1,
                                    "classes_given": given, "absences": abs}),
                    );
                }
            }
        }
        for (d, m) in s.days.iter().enumerate() {
            att.push(
                json!({"registration": reg(i), "date": format!("2026-06-{:02}", d + 1),
                            "present": *m == 'P', "justified": *m == 'J'}),
            );
        }
        for (j, (sev, ago)) in s.occurrences.iter().enumerate() {
            occ.push(json!({"registration": reg(i), "external_id": format!("S{i}-O{j}"), "kind": "indisciplina",
                            "severity": sev, "date": (today() - chrono::Duration::days(*ago)).to_string()}));
        }
    }
    for (f, v) in [(0, grades), (1, att), (2, occ)] {
        if v.is_empty() {
            continue;
        }
        let r = rows(v);
        match f {
            0 => academic::grades::ingest(pool, tenant, &r).await.unwrap(),
            1 => academic::attendance::ingest(pool, tenant, &r)
                .await
                .unwrap(),
            _ => academic::occurrences::ingest(pool, tenant, &r)
                .await
                .unwrap(),
        };
    }
}

async fn save(pool: &PgPool, tenant: Uuid, name: &str, condition: Value) {
    let spec: RuleSpec = serde_json::from_value(json!({"name": name, "condition": condition,
        "audience": ["guardians"], "channels": ["email"], "cooldown_secs": 0}))
    .unwrap();
    spec.validate().unwrap();
    sql::create_rule(pool, tenant, &spec).await.unwrap();
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn sql_evaluation_matches_a_plain_in_memory_evaluation(pool: PgPool) {
    let te = jobs::testing::TestEngine::new().await;
    let mut runner = TestRunner::new(Config {
        cases: CASES,
        ..Config::default()
    });
    let strategy = (
        prop::collection::vec(student(), 1..7),
        params(),
        any::<bool>(),
    );
    for case in 0..CASES {
        let (students, p, incl) = strategy.new_tree(&mut runner).unwrap().current();
        let t = tenants::create(
            &pool,
            &tenants::NewTenant {
                name: format!("Escola {case}"),
                slug: format!("escola-prop-{case}"),
                timezone: "America/Sao_Paulo".into(),
                plan: "standard".into(),
            },
        )
        .await
        .unwrap();
        load(&pool, t.id, &students).await;
        let half = |x: i64| x as f64 / 2.0;
        let mut grade = json!({"type": "grade_below", "threshold": half(p.grade_t2)});
        if let Some(term) = p.grade_term {
            grade["term"] = json!(term);
        }
        save(&pool, t.id, "nota", grade).await;
        save(
            &pool,
            t.id,
            "média",
            json!({"type": "average_below", "threshold": half(p.avg_t2)}),
        )
        .await;
        save(
            &pool,
            t.id,
            "média geral",
            json!({"type": "average_below", "threshold": half(p.avg_t2), "scope": "overall"}),
        )
        .await;
        save(
            &pool,
            t.id,
            "frequência",
            json!({"type": "attendance_below", "min_pct": p.att_min}),
        )
        .await;
        save(
            &pool,
            t.id,
            "frequência geral",
            json!({"type": "attendance_below", "min_pct": p.att_min, "scope": "overall"}),
        )
        .await;
        save(
            &pool,
            t.id,
            "faltas seguidas",
            json!({"type": "consecutive_absences", "count": p.streak, "include_justified": incl}),
        )
        .await;
        save(
            &pool,
            t.id,
            "queda",
            json!({"type": "falling_trend", "drop": half(p.drop2), "last": p.last}),
        )
        .await;
        save(
            &pool,
            t.id,
            "ocorrência",
            json!({"type": "occurrence", "min_severity": p.min_sev, "within_days": p.within}),
        )
        .await;

        let out = alerts::run(
            &pool,
            &te.engine,
            t.id,
            &EvaluatePayload::default(),
            alerts_common::now(),
        )
        .await
        .unwrap();
        let got: BTreeSet<(String, usize, String)> = sqlx::query_as::<_, (String, String, String)>(
            "select r.name, s.registration, a.scope from alerts a join alert_rules r on r.id = a.rule_id
             join students s on s.id = a.student_id where a.tenant_id = $1 and a.status = 'open'",
        )
        .bind(t.id)
        .fetch_all(&pool)
        .await
        .unwrap()
        .into_iter()
        .map(|(r, s, scope)| (r, s[1..].parse().unwrap(), scope))
        .collect();
        let want = expected(&students, &p, incl);
        assert_eq!(got, want, "case {case}: params {p:?} include_justified {incl}\nstudents {students:#?}\noutcome {out:?}");
        // Evaluating again changes nothing.
        let again = alerts::run(
            &pool,
            &te.engine,
            t.id,
            &EvaluatePayload::default(),
            alerts_common::now(),
        )
        .await
        .unwrap();
        assert_eq!(
            (again.opened, again.resolved, again.reopened),
            (0, 0, 0),
            "case {case}"
        );
    }
}

//! `class_report`: a class's summary (KPIs, situations), per subject the
//! term averages and the grade distribution (a chart each), the attendance
//! ranking (lowest first) and the students at risk (open academic alerts).
//! XLSX: students, subjects (with a native chart), distribution, ranking,
//! alerts; CSV: the students sheet.

use std::collections::BTreeMap;
use std::io::Write;

use serde_json::{json, Value};
use uuid::Uuid;

use jobs::kinds::reports::{Format, Params};

use crate::card::{self, grade, pct, ReportCard, Situation};
use crate::charts;
use crate::data::academic::{self, OpenAlert};
use crate::output::{blocking, slug, Output, RenderCtx, RenderError};
use crate::tables::{Cell, ChartKind, ChartSpec, Sheet};
use crate::types::report_card::term_labels;

const TEMPLATE: &str = include_str!("../../templates/class_report.typ");
pub const BINS: [&str; 5] = ["0–2", "2–4", "4–6", "6–8", "8–10"];

/// The computed class report.
pub struct ClassReport {
    pub class: academic::ClassInfo,
    pub year: i32,
    pub labels: Vec<String>,
    pub cards: Vec<ReportCard>,
    /// code, name, term means, mean of averages, distribution, below pass
    pub subjects: Vec<SubjectStats>,
    pub alerts: Vec<OpenAlert>,
}

pub struct SubjectStats {
    pub name: String,
    pub term_means: Vec<Option<f64>>,
    pub mean: Option<f64>,
    pub bins: [u32; 5],
    pub below: u32,
}

fn bin(g: f64) -> usize {
    ((g / 2.0).floor() as usize).min(4)
}

fn mean(xs: impl IntoIterator<Item = f64>) -> Option<f64> {
    let v: Vec<f64> = xs.into_iter().collect();
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

/// Aggregates the cards of a class (pure).
pub fn aggregate(
    cards: &[ReportCard],
    class_means: &BTreeMap<(String, i16), f64>,
) -> Vec<SubjectStats> {
    let mut by: BTreeMap<String, (String, Vec<f64>)> = BTreeMap::new();
    for c in cards {
        for l in &c.lines {
            let e = by
                .entry(l.code.clone())
                .or_insert_with(|| (l.name.clone(), Vec::new()));
            if let Some(a) = l.average {
                e.1.push(a);
            }
        }
    }
    let n_terms = cards.first().map_or(1, |c| c.n_terms);
    let mut out: Vec<SubjectStats> = by
        .into_iter()
        .map(|(code, (name, avgs))| {
            let mut bins = [0u32; 5];
            for a in &avgs {
                bins[bin(*a)] += 1;
            }
            SubjectStats {
                term_means: (1..=n_terms as i16)
                    .map(|t| class_means.get(&(code.clone(), t)).copied())
                    .collect(),
                mean: mean(avgs.iter().copied()),
                below: avgs.iter().filter(|a| **a < card::PASS_GRADE).count() as u32,
                bins,
                name,
            }
        })
        .collect();
    out.sort_by_key(|s| ptbr::fold(&s.name));
    out
}

async fn load(ctx: &RenderCtx, p: &Params) -> Result<ClassReport, RenderError> {
    let year = p
        .year
        .ok_or_else(|| RenderError::Data("params.year is missing".into()))?;
    let code = p.class.as_deref().unwrap_or_default();
    let class = academic::class_by_code(&ctx.pg, ctx.tenant, code).await?;
    let students = academic::class_students(&ctx.pg, ctx.tenant, class.id).await?;
    if students.is_empty() {
        return Err(RenderError::Data(format!("class {code:?} has no students")));
    }
    let ids: Vec<Uuid> = students.iter().map(|s| s.id).collect();
    let subjects = academic::subjects(&ctx.pg, ctx.tenant).await?;
    let class_means = academic::class_term_means(&ctx.pg, ctx.tenant, year, &ids).await?;
    let total = students.len();
    (ctx.progress)(0, total).await;
    let mut all = Vec::with_capacity(total);
    for batch in students.chunks(ctx.batch_size.max(1) * 4) {
        ctx.check_cancel()?;
        let bids: Vec<Uuid> = batch.iter().map(|s| s.id).collect();
        let mut recs = academic::records(&ctx.pg, ctx.tenant, year, &bids).await?;
        for s in batch {
            all.push((s.clone(), recs.remove(&s.id).unwrap_or_default()));
        }
        (ctx.progress)(all.len(), total).await;
    }
    let n = card::terms_in_year(all.iter().map(|(_, r)| r));
    let cards: Vec<ReportCard> = all
        .iter()
        .map(|(s, r)| card::build(s, Some(&class), year, n, r, &subjects, &class_means))
        .collect();
    let stats = aggregate(&cards, &class_means);
    let alerts = academic::open_alerts(&ctx.pg, ctx.tenant, &ids).await?;
    Ok(ClassReport {
        class,
        year,
        labels: term_labels(n),
        cards,
        subjects: stats,
        alerts,
    })
}

fn ranking(r: &ClassReport) -> Vec<&ReportCard> {
    let mut v: Vec<&ReportCard> = r.cards.iter().collect();
    v.sort_by(|a, b| {
        a.overall_attendance_pct
            .unwrap_or(100.0)
            .total_cmp(&b.overall_attendance_pct.unwrap_or(100.0))
            .then_with(|| a.student.name.cmp(&b.student.name))
    });
    v
}

pub fn to_json(ctx: &RenderCtx, r: &ClassReport) -> Result<Value, RenderError> {
    let count = |s: Situation| r.cards.iter().filter(|c| c.situation == s).count();
    let situations = [
        Situation::Approved,
        Situation::Recovery,
        Situation::Failed,
        Situation::FailedAttendance,
        Situation::InProgress,
    ];
    let sit_chart = charts::bars(
        &situations
            .iter()
            .map(|s| s.label().to_string())
            .collect::<Vec<_>>(),
        &situations
            .iter()
            .map(|s| count(*s) as f64)
            .collect::<Vec<_>>(),
        &[
            charts::GOOD,
            charts::ACCENT,
            charts::DANGER,
            charts::DANGER,
            charts::NEUTRAL,
        ],
        (640, 200),
    )
    .map_err(RenderError::Chart)?;
    let subjects = r
        .subjects
        .iter()
        .map(|s| {
            let chart = charts::bars(
                &BINS.iter().map(|b| b.to_string()).collect::<Vec<_>>(),
                &s.bins.iter().map(|b| *b as f64).collect::<Vec<_>>(),
                &[
                    charts::DANGER,
                    charts::DANGER,
                    charts::ACCENT,
                    charts::PRIMARY,
                    charts::GOOD,
                ],
                (330, 170),
            )
            .map_err(RenderError::Chart)?;
            let mut row = vec![s.name.clone()];
            row.extend(s.term_means.iter().map(|g| grade(*g)));
            row.push(grade(s.mean));
            row.push(s.below.to_string());
            Ok(json!({ "name": s.name, "row": row, "chart": chart }))
        })
        .collect::<Result<Vec<_>, RenderError>>()?;
    let mut subject_header = vec!["Disciplina".to_string()];
    subject_header.extend(r.labels.iter().cloned());
    subject_header.extend(["Média".into(), "Abaixo de 6".into()]);
    let rank: Vec<Value> = ranking(r)
        .iter()
        .enumerate()
        .map(|(i, c)| {
            json!([
                format!("{}º", i + 1),
                c.student.name,
                c.student.registration,
                pct(c.overall_attendance_pct),
                c.total_absences.to_string(),
                grade(c.overall_average),
                c.situation.label(),
            ])
        })
        .collect();
    let low_att: Vec<Value> = ranking(r)
        .iter()
        .enumerate()
        .filter(|(_, c)| {
            c.overall_attendance_pct
                .is_some_and(|p| p < card::MIN_ATTENDANCE_PCT)
        })
        .map(|(i, _)| json!([i, 3]))
        .collect();
    let alerts: Vec<Value> = r
        .alerts
        .iter()
        .map(|a| {
            json!([
                a.student,
                a.rule,
                if a.scope.is_empty() {
                    "—".to_string()
                } else {
                    a.scope.clone()
                },
                ptbr::format_date(a.opened_at.with_timezone(&ctx.tz).date_naive()),
            ])
        })
        .collect();
    let class_avg = mean(r.cards.iter().filter_map(|c| c.overall_average));
    let class_att = mean(r.cards.iter().filter_map(|c| c.overall_attendance_pct));
    let mut data = ctx.base_json();
    data.insert("year".into(), r.year.into());
    data.insert(
        "class".into(),
        format!("{} ({})", r.class.name, r.class.code).into(),
    );
    data.insert(
        "teacher".into(),
        r.class.teacher.clone().unwrap_or_else(|| "—".into()).into(),
    );
    data.insert(
        "coordinator".into(),
        r.class
            .coordinator
            .clone()
            .unwrap_or_else(|| "—".into())
            .into(),
    );
    data.insert("students".into(), r.cards.len().to_string().into());
    data.insert("average".into(), grade(class_avg).into());
    data.insert("attendance".into(), pct(class_att).into());
    data.insert("at_risk".into(), r.alerts.len().to_string().into());
    data.insert(
        "approved".into(),
        count(Situation::Approved).to_string().into(),
    );
    data.insert("situation_chart".into(), sit_chart.into());
    data.insert("subject_header".into(), json!(subject_header));
    data.insert("subjects".into(), Value::Array(subjects));
    data.insert("ranking".into(), Value::Array(rank));
    data.insert("low_attendance".into(), Value::Array(low_att));
    data.insert("alerts".into(), Value::Array(alerts));
    Ok(Value::Object(data))
}

pub fn to_sheets(r: &ClassReport) -> Vec<Sheet> {
    let mut head: Vec<String> = [
        "Aluno",
        "Matrícula",
        "Média geral",
        "Frequência (%)",
        "Faltas",
        "Situação",
    ]
    .map(String::from)
    .to_vec();
    head.extend(r.subjects.iter().map(|s| s.name.clone()));
    let mut students = Sheet::new("Alunos", &[]);
    students.header = head;
    students.widths = vec![32.0, 12.0];
    for c in &r.cards {
        let mut row = vec![
            Cell::text(&c.student.name),
            Cell::text(&c.student.registration),
            Cell::opt(c.overall_average, 1),
            Cell::opt_pct(c.overall_attendance_pct),
            Cell::Int(c.total_absences),
            Cell::text(c.situation.label()),
        ];
        for s in &r.subjects {
            let avg = c
                .lines
                .iter()
                .find(|l| l.name == s.name)
                .and_then(|l| l.average);
            row.push(Cell::opt(avg, 1));
        }
        students.rows.push(row);
    }
    let mut shead: Vec<String> = vec!["Disciplina".into()];
    shead.extend(r.labels.iter().cloned());
    shead.extend(["Média".into(), "Abaixo de 6".into()]);
    let mut subjects = Sheet::new("Disciplinas", &[]);
    subjects.header = shead;
    subjects.chart = Some(ChartSpec {
        title: "Médias por período".into(),
        kind: ChartKind::Column,
        categories: 0,
        series: (1..=r.labels.len() as u16).collect(),
    });
    let mut dist = Sheet::new(
        "Distribuição",
        &["Disciplina", BINS[0], BINS[1], BINS[2], BINS[3], BINS[4]],
    );
    for s in &r.subjects {
        let mut row = vec![Cell::text(&s.name)];
        row.extend(s.term_means.iter().map(|g| Cell::opt(*g, 1)));
        row.push(Cell::opt(s.mean, 1));
        row.push(Cell::Int(s.below as i64));
        subjects.rows.push(row);
        let mut d = vec![Cell::text(&s.name)];
        d.extend(s.bins.iter().map(|b| Cell::Int(*b as i64)));
        dist.rows.push(d);
    }
    dist.chart = Some(ChartSpec {
        title: "Distribuição das médias".into(),
        kind: ChartKind::Column,
        categories: 0,
        series: (1..=5).collect(),
    });
    let mut rank = Sheet::new(
        "Frequência",
        &[
            "Posição",
            "Aluno",
            "Matrícula",
            "Frequência (%)",
            "Faltas",
            "Média geral",
            "Situação",
        ],
    );
    rank.widths = vec![9.0, 32.0, 12.0];
    for (i, c) in ranking(r).iter().enumerate() {
        rank.rows.push(vec![
            Cell::Int(i as i64 + 1),
            Cell::text(&c.student.name),
            Cell::text(&c.student.registration),
            Cell::opt_pct(c.overall_attendance_pct),
            Cell::Int(c.total_absences),
            Cell::opt(c.overall_average, 1),
            Cell::text(c.situation.label()),
        ]);
    }
    let mut alerts = Sheet::new(
        "Alunos em risco",
        &["Aluno", "Alerta", "Escopo", "Aberto em"],
    );
    alerts.widths = vec![32.0, 32.0, 16.0, 12.0];
    for a in &r.alerts {
        alerts.rows.push(vec![
            Cell::text(&a.student),
            Cell::text(&a.rule),
            Cell::text(&a.scope),
            Cell::text(ptbr::format_date(a.opened_at.date_naive())),
        ]);
    }
    vec![students, subjects, dist, rank, alerts]
}

pub async fn render(ctx: &RenderCtx, p: &Params, format: Format) -> Result<Output, RenderError> {
    let r = load(ctx, p).await?;
    ctx.check_cancel()?;
    let name = format!("relatorio-turma-{}", slug(&r.class.code));
    finish_output(
        ctx,
        format,
        &name,
        TEMPLATE,
        to_json(ctx, &r)?,
        to_sheets(&r),
    )
    .await
}

/// Writes the report in `format`: the template over `data` (PDF) or the sheets.
pub async fn finish_output(
    ctx: &RenderCtx,
    format: Format,
    name: &str,
    template: &'static str,
    data: Value,
    sheets: Vec<Sheet>,
) -> Result<Output, RenderError> {
    let mut file = ctx.temp(&format!(".{}", format.as_str()))?;
    let pages = match format {
        Format::Pdf | Format::Zip => {
            let (today, logo) = (ctx.today, ctx.logo.clone());
            let pdf = blocking(move || {
                Ok(crate::pdf::compile(
                    template,
                    &data,
                    today,
                    logo.as_deref(),
                )?)
            })
            .await?;
            file.write_all(&pdf.bytes)?;
            Some(pdf.pages)
        }
        Format::Xlsx => {
            let primary = ctx.primary;
            let w = file.reopen()?;
            blocking(move || Ok(crate::tables::write_xlsx(&sheets, primary, w)?)).await?;
            None
        }
        Format::Csv => {
            crate::tables::write_csv(&sheets[0], std::io::BufWriter::new(file.as_file_mut()))?;
            None
        }
    };
    Ok(Output {
        file,
        pages,
        file_name: format!("{name}.{}", format.as_str()),
    })
}

//! `student_report_card`: the boletim of one student or of every student of
//! a class, as one PDF (a page per student, laid out `batch_size` students at
//! a time and concatenated), a ZIP of one PDF per student, an XLSX (cards,
//! summary with a chart, term means) or a CSV (one line per student and subject).

use std::collections::{BTreeMap, HashMap};
use std::io::{Seek, Write};

use serde_json::{json, Value};
use uuid::Uuid;

use jobs::kinds::reports::{Format, Params};

use crate::card::{self, grade, pct, ReportCard};
use crate::data::academic::{self, ClassInfo, StudentInfo};
use crate::output::{blocking, slug, Output, RenderCtx, RenderError};
use crate::tables::{Cell, ChartKind, ChartSpec, Sheet};

const TEMPLATE: &str = include_str!("../../templates/report_card.typ");

/// `1º bim`, `1º tri`, `1º sem` by how many terms the year has.
pub fn term_labels(n: usize) -> Vec<String> {
    let unit = match n {
        4 => "bim",
        3 => "tri",
        2 => "sem",
        _ => "per",
    };
    (1..=n).map(|i| format!("{i}º {unit}")).collect()
}

/// One card as the template wants it (strings already in pt-BR).
pub fn card_json(
    c: &ReportCard,
    index: usize,
    total: usize,
    observations: &str,
) -> Result<Value, RenderError> {
    let labels = term_labels(c.n_terms);
    let has_final = c.lines.iter().any(|l| l.final_grade.is_some());
    let mut header: Vec<String> = vec!["Disciplina".into()];
    header.extend(labels.iter().cloned());
    if has_final {
        header.push("Final".into());
    }
    header.extend(["Média", "Faltas", "Freq.", "Situação"].map(String::from));
    let mut rows = Vec::new();
    let mut bad = Vec::new();
    for (y, l) in c.lines.iter().enumerate() {
        let mut row = vec![l.name.clone()];
        for (i, g) in l.terms.iter().enumerate() {
            if g.is_some_and(|g| g < card::PASS_GRADE) {
                bad.push(json!([y, i + 1]));
            }
            row.push(grade(*g));
        }
        if has_final {
            row.push(grade(l.final_grade));
        }
        let base = row.len();
        if l.average.is_some_and(|a| a < card::PASS_GRADE) {
            bad.push(json!([y, base]));
        }
        if l.attendance_pct
            .is_some_and(|p| p < card::MIN_ATTENDANCE_PCT)
        {
            bad.push(json!([y, base + 2]));
        }
        if l.situation.is_bad() {
            bad.push(json!([y, base + 3]));
        }
        row.push(grade(l.average));
        row.push(
            l.absences
                .map(|a| a.to_string())
                .unwrap_or_else(|| "—".into()),
        );
        row.push(pct(l.attendance_pct));
        row.push(l.situation.label().to_string());
        rows.push(row);
    }
    let chart = crate::charts::term_averages(&labels, &c.term_means, &c.class_term_means)
        .map_err(RenderError::Chart)?;
    let class = c
        .class
        .as_ref()
        .map(|k| format!("{} ({})", k.name, k.code))
        .unwrap_or_else(|| "—".into());
    Ok(json!({
        "student": c.student.name,
        "registration": c.student.registration,
        "class": class,
        "teacher": c.class.as_ref().and_then(|k| k.teacher.clone()).unwrap_or_else(|| "—".into()),
        "year": c.year,
        "average": grade(c.overall_average),
        "average_bad": c.overall_average.is_some_and(|a| a < card::PASS_GRADE),
        "attendance": pct(c.overall_attendance_pct),
        "attendance_bad": c.overall_attendance_pct.is_some_and(|p| p < card::MIN_ATTENDANCE_PCT),
        "absences": c.total_absences.to_string(),
        "situation": c.situation.label(),
        "situation_bad": c.situation.is_bad(),
        "header": header,
        "rows": rows,
        "bad": bad,
        "chart": chart,
        "observations": observations,
        "footer": if total > 1 { format!("Aluno {} de {}", index + 1, total) } else { String::new() },
    }))
}

/// Compiles a batch of cards into one PDF.
pub fn cards_pdf(
    ctx: &RenderCtx,
    year: i32,
    cards: Vec<Value>,
) -> Result<crate::pdf::Pdf, RenderError> {
    let mut data = ctx.base_json();
    data.insert("year".into(), year.into());
    data.insert("cards".into(), Value::Array(cards));
    Ok(crate::pdf::compile(
        TEMPLATE,
        &Value::Object(data),
        ctx.today,
        ctx.logo.as_deref(),
    )?)
}

/// Who the report is about.
struct Scope {
    class: Option<ClassInfo>,
    students: Vec<StudentInfo>,
    /// Students whose grades make the class means (the whole class).
    peers: Vec<Uuid>,
    name: String,
}

async fn scope(ctx: &RenderCtx, p: &Params, year: i32) -> Result<Scope, RenderError> {
    if let Some(code) = &p.class {
        let class = academic::class_by_code(&ctx.pg, ctx.tenant, code).await?;
        let students = academic::class_students(&ctx.pg, ctx.tenant, class.id).await?;
        if students.is_empty() {
            return Err(RenderError::Data(format!("class {code:?} has no students")));
        }
        let peers = students.iter().map(|s| s.id).collect();
        let name = format!("boletins-{}", slug(&class.code));
        Ok(Scope {
            class: Some(class),
            students,
            peers,
            name,
        })
    } else {
        let reg = p.student.as_deref().unwrap_or_default();
        let (student, class) =
            academic::student_by_registration(&ctx.pg, ctx.tenant, reg, year).await?;
        let peers = match &class {
            Some(c) => academic::class_students(&ctx.pg, ctx.tenant, c.id)
                .await?
                .iter()
                .map(|s| s.id)
                .collect(),
            None => vec![student.id],
        };
        let name = format!("boletim-{}", slug(&student.registration));
        Ok(Scope {
            class,
            students: vec![student],
            peers,
            name,
        })
    }
}

async fn n_terms(ctx: &RenderCtx, year: i32, peers: &[Uuid]) -> Result<usize, RenderError> {
    let n: (Option<i16>,) = sqlx::query_as(
        "select max(term) from grades where tenant_id = $1 and year = $2 and student_id = any($3)",
    )
    .bind(ctx.tenant)
    .bind(year)
    .bind(peers)
    .fetch_one(&ctx.pg)
    .await?;
    Ok(n.0.unwrap_or(0).max(1) as usize)
}

/// Renders the report card(s) in `format`.
pub async fn render(ctx: &RenderCtx, p: &Params, format: Format) -> Result<Output, RenderError> {
    let year = p
        .year
        .ok_or_else(|| RenderError::Data("params.year is missing".into()))?;
    let sc = scope(ctx, p, year).await?;
    if sc.students.len() > ctx.max_students {
        return Err(RenderError::Data(format!(
            "{} students is more than reports.max_students ({})",
            sc.students.len(),
            ctx.max_students
        )));
    }
    let subjects = academic::subjects(&ctx.pg, ctx.tenant).await?;
    let class_means = academic::class_term_means(&ctx.pg, ctx.tenant, year, &sc.peers).await?;
    let n = n_terms(ctx, year, &sc.peers).await?;
    let total = sc.students.len();
    let observations = p.observations.clone().unwrap_or_default();
    (ctx.progress)(0, total).await;
    let mut out = Batches::new(ctx, format, n)?;
    let mut done = 0;
    for batch in sc.students.chunks(ctx.batch_size.max(1)) {
        ctx.check_cancel()?;
        let ids: Vec<Uuid> = batch.iter().map(|s| s.id).collect();
        let mut recs = academic::records(&ctx.pg, ctx.tenant, year, &ids).await?;
        let cards: Vec<ReportCard> = batch
            .iter()
            .map(|s| {
                let rec = recs.remove(&s.id).unwrap_or_default();
                card::build(s, sc.class.as_ref(), year, n, &rec, &subjects, &class_means)
            })
            .collect();
        out.add(ctx, year, done, total, &observations, cards)
            .await?;
        done += batch.len();
        (ctx.progress)(done, total).await;
    }
    ctx.check_cancel()?;
    out.finish(ctx, &sc.name).await
}

/// The output being built, batch after batch.
enum Batches {
    /// Batch PDFs on disk, concatenated at the end.
    Pdf {
        parts: Vec<tempfile::NamedTempFile>,
    },
    /// One PDF per student, streamed into the ZIP.
    Zip {
        zip: Box<zip::ZipWriter<std::fs::File>>,
        file: tempfile::NamedTempFile,
        pages: usize,
    },
    Table {
        sheets: Vec<Sheet>,
        csv: bool,
    },
}

impl Batches {
    fn new(ctx: &RenderCtx, format: Format, n_terms: usize) -> Result<Batches, RenderError> {
        Ok(match format {
            Format::Pdf => Batches::Pdf { parts: Vec::new() },
            Format::Zip => {
                let file = ctx.temp(".zip")?;
                let zip = Box::new(zip::ZipWriter::new(file.reopen()?));
                Batches::Zip {
                    zip,
                    file,
                    pages: 0,
                }
            }
            Format::Xlsx | Format::Csv => Batches::Table {
                sheets: sheets(n_terms),
                csv: format == Format::Csv,
            },
        })
    }

    async fn add(
        &mut self,
        ctx: &RenderCtx,
        year: i32,
        first: usize,
        total: usize,
        observations: &str,
        cards: Vec<ReportCard>,
    ) -> Result<(), RenderError> {
        match self {
            Batches::Pdf { parts } => {
                let json = cards
                    .iter()
                    .enumerate()
                    .map(|(i, c)| card_json(c, first + i, total, observations))
                    .collect::<Result<Vec<_>, _>>()?;
                let c2 = ctx.clone();
                let pdf = blocking(move || cards_pdf(&c2, year, json)).await?;
                let mut part = ctx.temp(".pdf")?;
                part.write_all(&pdf.bytes)?;
                parts.push(part);
            }
            Batches::Zip { zip, pages, .. } => {
                for (i, c) in cards.iter().enumerate() {
                    let json = vec![card_json(c, first + i, total, observations)?];
                    let c2 = ctx.clone();
                    let pdf = blocking(move || cards_pdf(&c2, year, json)).await?;
                    *pages += pdf.pages;
                    let name = format!(
                        "boletim-{}-{}.pdf",
                        slug(&c.student.registration),
                        slug(&c.student.name)
                    );
                    zip.start_file(name, zip::write::SimpleFileOptions::default())?;
                    zip.write_all(&pdf.bytes)?;
                }
            }
            Batches::Table { sheets, .. } => add_rows(sheets, &cards),
        }
        Ok(())
    }

    async fn finish(self, ctx: &RenderCtx, name: &str) -> Result<Output, RenderError> {
        match self {
            Batches::Pdf { parts } => {
                let mut file = ctx.temp(".pdf")?;
                let pages = if parts.len() == 1 {
                    let bytes = std::fs::read(parts[0].path())?;
                    file.write_all(&bytes)?;
                    lopdf::Document::load_mem(&bytes)
                        .map(|d| d.get_pages().len())
                        .unwrap_or(0)
                } else {
                    let mut w = std::io::BufWriter::new(file.reopen()?);
                    let paths: Vec<_> = parts.iter().map(|p| p.path().to_path_buf()).collect();
                    let pages = blocking(move || {
                        Ok(crate::pdf::concat(paths.iter().map(std::fs::read), &mut w)?)
                    })
                    .await?;
                    pages
                };
                Ok(Output {
                    file,
                    pages: Some(pages),
                    file_name: format!("{name}.pdf"),
                })
            }
            Batches::Zip { zip, file, pages } => {
                let mut f = zip.finish()?;
                f.flush()?;
                Ok(Output {
                    file,
                    pages: Some(pages),
                    file_name: format!("{name}.zip"),
                })
            }
            Batches::Table { sheets, csv } => {
                let mut file = ctx.temp(if csv { ".csv" } else { ".xlsx" })?;
                if csv {
                    crate::tables::write_csv(
                        &sheets[0],
                        std::io::BufWriter::new(file.as_file_mut()),
                    )?;
                } else {
                    let primary = ctx.primary;
                    let w = file.reopen()?;
                    blocking(move || Ok(crate::tables::write_xlsx(&sheets, primary, w)?)).await?;
                }
                file.as_file_mut().seek(std::io::SeekFrom::End(0))?;
                Ok(Output {
                    file,
                    pages: None,
                    file_name: format!("{name}.{}", if csv { "csv" } else { "xlsx" }),
                })
            }
        }
    }
}

fn sheets(n_terms: usize) -> Vec<Sheet> {
    let labels = term_labels(n_terms);
    let mut cards_head: Vec<&str> = vec!["Matrícula", "Aluno", "Turma", "Disciplina"];
    cards_head.extend(labels.iter().map(String::as_str));
    cards_head.extend(["Final", "Média", "Faltas", "Frequência (%)", "Situação"]);
    let mut cards = Sheet::new("Boletins", &cards_head);
    cards.widths = vec![12.0, 32.0, 12.0, 24.0];
    let mut summary = Sheet::new(
        "Resumo",
        &[
            "Aluno",
            "Matrícula",
            "Média geral",
            "Frequência (%)",
            "Faltas",
            "Situação",
        ],
    );
    summary.widths = vec![32.0, 12.0];
    summary.chart = Some(ChartSpec {
        title: "Média geral por aluno".into(),
        kind: ChartKind::Column,
        categories: 0,
        series: vec![2],
    });
    let mut terms_head: Vec<String> = vec!["Aluno".into()];
    for l in &labels {
        terms_head.push(format!("{l} (aluno)"));
        terms_head.push(format!("{l} (turma)"));
    }
    let mut terms = Sheet::new("Médias por período", &[]);
    terms.header = terms_head;
    terms.widths = vec![32.0];
    vec![cards, summary, terms]
}

fn add_rows(sheets: &mut [Sheet], cards: &[ReportCard]) {
    for c in cards {
        let class = c.class.as_ref().map(|k| k.code.clone()).unwrap_or_default();
        for l in &c.lines {
            let mut row = vec![
                Cell::text(&c.student.registration),
                Cell::text(&c.student.name),
                Cell::text(&class),
                Cell::text(&l.name),
            ];
            row.extend(l.terms.iter().map(|g| Cell::opt(*g, 1)));
            row.push(Cell::opt(l.final_grade, 1));
            row.push(Cell::opt(l.average, 1));
            row.push(l.absences.map_or(Cell::Empty, Cell::Int));
            row.push(Cell::opt_pct(l.attendance_pct));
            row.push(Cell::text(l.situation.label()));
            sheets[0].rows.push(row);
        }
        sheets[1].rows.push(vec![
            Cell::text(&c.student.name),
            Cell::text(&c.student.registration),
            Cell::opt(c.overall_average, 1),
            Cell::opt_pct(c.overall_attendance_pct),
            Cell::Int(c.total_absences),
            Cell::text(c.situation.label()),
        ]);
        let mut row = vec![Cell::text(&c.student.name)];
        for (s, k) in c.term_means.iter().zip(&c.class_term_means) {
            row.push(Cell::opt(*s, 1));
            row.push(Cell::opt(*k, 1));
        }
        sheets[2].rows.push(row);
    }
}

/// Cards built from in-memory records (tests, bench): no database.
pub fn build_cards(
    students: &[(StudentInfo, academic::StudentRecords)],
    class: Option<&ClassInfo>,
    year: i32,
    subjects: &HashMap<String, String>,
    class_means: &BTreeMap<(String, i16), f64>,
) -> Vec<ReportCard> {
    let n = card::terms_in_year(students.iter().map(|(_, r)| r));
    students
        .iter()
        .map(|(s, r)| card::build(s, class, year, n, r, subjects, class_means))
        .collect()
}

//! Every report type in every format on generated data: the PDF's text holds
//! each student's grades and the computed averages, pages don't overflow
//! (long names, 20 subjects, a missing term), the XLSX re-read with calamine
//! holds the values and its native charts, the CSV parses with `;`.

mod common;

use std::io::Read;

use calamine::{Data, Reader, Xlsx};
use common::*;
use jobs::kinds::reports::{Format, Params, ReportType};
use reports::render::render_report;
use sqlx::PgPool;

fn f1(x: f64) -> String {
    ptbr::format_decimal(x, 1)
}

fn card_params(class: &str) -> Params {
    Params {
        year: Some(YEAR),
        class: Some(class.into()),
        ..Default::default()
    }
}

/// Student `s`'s expected tokens for subject `j`: term grades (— if missing), média.
fn expected_line(school: &School, s: usize, j: usize) -> Vec<String> {
    let n = school.students.len();
    let mut tokens = Vec::new();
    let mut got = Vec::new();
    for t in 1..=school.terms {
        if s == n - 1 && n > 1 && t == 2 {
            tokens.push("—".to_string());
        } else {
            let g = grade(s, j, t);
            got.push(g);
            tokens.push(f1(g));
        }
    }
    tokens.push(f1(got.iter().sum::<f64>() / got.len() as f64));
    tokens
}

fn is_subsequence(needles: &[String], hay: &[&str]) -> bool {
    let mut it = hay.iter();
    needles.iter().all(|n| it.any(|h| h == n))
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn report_cards_pdf_has_every_grade_and_average_one_page_each(pool: PgPool) {
    let t = tenant(&pool).await;
    let school = school(&pool, t, "9A-2026", 7, 4, 4).await;
    // Batches of 3: three typst runs, concatenated.
    let (ctx, progress) = ctx(&pool, t, 3);
    let out = render_report(
        &ctx,
        ReportType::StudentReportCard,
        Format::Pdf,
        &card_params("9A-2026"),
    )
    .await
    .unwrap();
    keep(&out, "boletins.pdf");
    assert_eq!(out.pages, Some(7));
    assert_eq!(pdf_pages(out.file.path()), 7);
    assert_eq!(progress.load(std::sync::atomic::Ordering::SeqCst), 7);
    let text = pdf_text(out.file.path());
    let pages: Vec<&str> = text.split('\u{c}').collect();
    for (s, (_, reg, name)) in school.students.iter().enumerate() {
        // Pages follow the students' names, not the generation order.
        let at = pages
            .iter()
            .position(|p| p.contains(reg.as_str()))
            .expect("a page per student");
        let page = pages[at];
        let first_words: String = name.split(' ').take(3).collect::<Vec<_>>().join(" ");
        assert!(page.contains(&first_words), "page {s} names {first_words}");
        assert!(page.contains(&format!("Aluno {} de 7", at + 1)));
        for (j, (_, subject)) in school.subjects.iter().enumerate() {
            let line = page
                .lines()
                .find(|l| l.contains(subject.as_str()))
                .unwrap_or_else(|| panic!("{subject} on page {s}"));
            let tokens: Vec<&str> = line.split_whitespace().collect();
            let want = expected_line(&school, s, j);
            assert!(
                is_subsequence(&want, &tokens),
                "page {s} {subject}: want {want:?} in {line:?}"
            );
        }
        for label in [
            "Boletim Escolar",
            "Direção",
            "Coordenação pedagógica",
            "Responsável",
            "Média da turma",
        ] {
            assert!(page.contains(label), "page {s} has {label}");
        }
    }
    // The last student misses term 2: in progress, not approved.
    let last = pages
        .iter()
        .find(|p| p.contains(school.students[6].1.as_str()))
        .unwrap();
    assert!(last.contains("Em curso"));
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn long_names_twenty_subjects_and_missing_terms_keep_one_page_per_student(pool: PgPool) {
    let t = tenant(&pool).await;
    let school = school(&pool, t, "3B-2026", 3, 20, 4).await;
    let (ctx, _) = ctx(&pool, t, 25);
    let mut p = card_params("3B-2026");
    p.observations = Some("Reunião de pais em 12/12/2026 às 19h. ".repeat(6));
    let out = render_report(&ctx, ReportType::StudentReportCard, Format::Pdf, &p)
        .await
        .unwrap();
    keep(&out, "boletins-20-disciplinas.pdf");
    assert_eq!(pdf_pages(out.file.path()), 3, "one page per student");
    let text = pdf_text(out.file.path());
    for (_, subject) in &school.subjects {
        assert!(text.contains(subject.as_str()), "{subject}");
    }
    assert!(text.contains("Reunião de pais"));
    // One student alone: one page, no "Aluno 1 de 1".
    let one = Params {
        year: Some(YEAR),
        student: Some(school.students[1].1.clone()),
        ..Default::default()
    };
    let out = render_report(&ctx, ReportType::StudentReportCard, Format::Pdf, &one)
        .await
        .unwrap();
    assert_eq!(pdf_pages(out.file.path()), 1);
    let text = pdf_text(out.file.path());
    assert!(text.contains("Maria Eduarda"));
    assert!(!text.contains("Aluno 1 de 1"));
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn report_cards_zip_holds_one_pdf_per_student(pool: PgPool) {
    let t = tenant(&pool).await;
    let school = school(&pool, t, "9A-2026", 4, 3, 2).await;
    let (ctx, _) = ctx(&pool, t, 2);
    let out = render_report(
        &ctx,
        ReportType::StudentReportCard,
        Format::Zip,
        &card_params("9A-2026"),
    )
    .await
    .unwrap();
    assert_eq!(out.file_name, "boletins-9a-2026.zip");
    let mut zip = zip::ZipArchive::new(std::fs::File::open(out.file.path()).unwrap()).unwrap();
    assert_eq!(zip.len(), 4);
    for (i, (_, reg, _)) in school.students.iter().enumerate() {
        let name = zip
            .file_names()
            .filter_map(Result::ok)
            .find(|n| n.contains(&ptbr::slug(reg)))
            .unwrap()
            .to_string();
        let mut f = zip.by_name(&name).unwrap();
        let mut bytes = Vec::new();
        f.read_to_end(&mut bytes).unwrap();
        assert!(bytes.starts_with(b"%PDF"), "entry {i} is a PDF");
    }
}

fn cell_f64(d: &Data) -> Option<f64> {
    match d {
        Data::Float(f) => Some(*f),
        Data::Int(i) => Some(*i as f64),
        _ => None,
    }
}

fn xlsx_charts(path: &std::path::Path) -> usize {
    let zip = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    zip.file_names()
        .filter_map(Result::ok)
        .filter(|n| n.starts_with("xl/charts/chart"))
        .count()
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn report_cards_xlsx_and_csv_hold_the_grades(pool: PgPool) {
    let t = tenant(&pool).await;
    let school = school(&pool, t, "9A-2026", 5, 3, 4).await;
    let (ctx, _) = ctx(&pool, t, 2);
    let out = render_report(
        &ctx,
        ReportType::StudentReportCard,
        Format::Xlsx,
        &card_params("9A-2026"),
    )
    .await
    .unwrap();
    keep(&out, "boletins.xlsx");
    let mut wb: Xlsx<_> = calamine::open_workbook(out.file.path()).unwrap();
    assert_eq!(
        wb.sheet_names(),
        vec!["Boletins", "Resumo", "Médias por período"]
    );
    let range = wb.worksheet_range("Boletins").unwrap();
    let rows: Vec<&[Data]> = range.rows().collect();
    assert_eq!(rows[0][3], Data::String("Disciplina".into()));
    assert_eq!(rows.len(), 1 + 5 * 3);
    for (s, (_, reg, _)) in school.students.iter().enumerate() {
        for (j, (_, subject)) in school.subjects.iter().enumerate() {
            let row = rows
                .iter()
                .find(|r| {
                    r[0] == Data::String(reg.clone()) && r[3] == Data::String(subject.clone())
                })
                .unwrap();
            for t in 1..=4i16 {
                let v = cell_f64(&row[3 + t as usize]);
                if s == 4 && t == 2 {
                    assert_eq!(v, None);
                } else {
                    assert!((v.unwrap() - grade(s, j, t)).abs() < 1e-9);
                }
            }
            let avg = cell_f64(&row[9]).unwrap();
            assert_eq!(f1(avg), *expected_line(&school, s, j).last().unwrap());
        }
    }
    assert_eq!(
        xlsx_charts(out.file.path()),
        1,
        "the summary's native chart"
    );

    let out = render_report(
        &ctx,
        ReportType::StudentReportCard,
        Format::Csv,
        &card_params("9A-2026"),
    )
    .await
    .unwrap();
    let bytes = std::fs::read(out.file.path()).unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "UTF-8 BOM");
    let mut r = csv::ReaderBuilder::new()
        .delimiter(b';')
        .from_reader(&bytes[3..]);
    let header = r.headers().unwrap().clone();
    assert_eq!(&header[0], "Matrícula");
    assert_eq!(&header[4], "1º bim");
    let recs: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    assert_eq!(recs.len(), 15);
    let first = recs
        .iter()
        .find(|r| r[0] == school.students[0].1 && r[3] == school.subjects[0].1)
        .unwrap();
    assert_eq!(&first[4], f1(grade(0, 0, 1)));
    assert_eq!(
        &first[9],
        expected_line(&school, 0, 0).last().unwrap().as_str()
    );
    assert!(
        first[11].contains(','),
        "frequency with a decimal comma: {:?}",
        &first[11]
    );
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn class_report_in_every_format(pool: PgPool) {
    let t = tenant(&pool).await;
    let school = school(&pool, t, "9A-2026", 8, 4, 3).await;
    let (ctx, _) = ctx(&pool, t, 25);
    let p = card_params("9A-2026");
    let out = render_report(&ctx, ReportType::ClassReport, Format::Pdf, &p)
        .await
        .unwrap();
    keep(&out, "turma.pdf");
    let text = pdf_text(out.file.path());
    assert!(text.contains("Relatório da turma"));
    assert!(
        text.contains("Frequência abaixo de 75% (9A-2026)"),
        "the open alert"
    );
    for (_, _, name) in &school.students[2..] {
        assert!(text.contains(name.as_str()), "{name} in the ranking");
    }
    // Class mean of subject 0, term 1, as computed from the generated grades.
    // (PostgreSQL averages exact decimals: either rounding of a x,x5 tie is fine.)
    let mean = (0..8).map(|s| grade(s, 0, 1)).sum::<f64>() / 8.0;
    let shown = [f1(mean - 1e-9), f1(mean + 1e-9)];
    let line = text
        .lines()
        .find(|l| l.contains("Matemática") && shown.iter().any(|m| l.contains(m.as_str())));
    assert!(line.is_some(), "Matemática's term-1 mean {shown:?}");

    let out = render_report(&ctx, ReportType::ClassReport, Format::Xlsx, &p)
        .await
        .unwrap();
    keep(&out, "turma.xlsx");
    let mut wb: Xlsx<_> = calamine::open_workbook(out.file.path()).unwrap();
    assert_eq!(
        wb.sheet_names(),
        vec![
            "Alunos",
            "Disciplinas",
            "Distribuição",
            "Frequência",
            "Alunos em risco"
        ]
    );
    let subjects = wb.worksheet_range("Disciplinas").unwrap();
    let mat = subjects
        .rows()
        .find(|r| r[0] == Data::String("Matemática".into()))
        .unwrap();
    assert!((cell_f64(&mat[1]).unwrap() - mean).abs() < 1e-9);
    let dist = wb.worksheet_range("Distribuição").unwrap();
    let total: f64 = dist.rows().nth(1).unwrap()[1..]
        .iter()
        .filter_map(cell_f64)
        .sum();
    assert_eq!(total, 8.0, "every student in one bin");
    assert_eq!(wb.worksheet_range("Alunos em risco").unwrap().height(), 2);
    assert!(xlsx_charts(out.file.path()) >= 2);

    let out = render_report(&ctx, ReportType::ClassReport, Format::Csv, &p)
        .await
        .unwrap();
    let bytes = std::fs::read(out.file.path()).unwrap();
    let mut r = csv::ReaderBuilder::new()
        .delimiter(b';')
        .from_reader(&bytes[3..]);
    assert_eq!(&r.headers().unwrap()[0], "Aluno");
    assert_eq!(r.records().count(), 8);
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn campaign_report_in_every_format(pool: PgPool) {
    let t = tenant(&pool).await;
    outbox(&pool, t).await;
    let (ctx, _) = ctx(&pool, t, 25);
    let p = Params {
        from: chrono::NaiveDate::from_ymd_opt(2026, 11, 1),
        to: chrono::NaiveDate::from_ymd_opt(2026, 11, 30),
        ..Default::default()
    };
    let out = render_report(&ctx, ReportType::CampaignReport, Format::Pdf, &p)
        .await
        .unwrap();
    keep(&out, "envios.pdf");
    let text = pdf_text(out.file.path());
    assert!(text.contains("Relatório de envios"));
    assert!(text.contains("01/11/2026 a 30/11/2026"));
    assert!(text.contains("550 mailbox unavailable"));
    assert!(text.contains("131026 message undeliverable"));
    let out = render_report(&ctx, ReportType::CampaignReport, Format::Xlsx, &p)
        .await
        .unwrap();
    let mut wb: Xlsx<_> = calamine::open_workbook(out.file.path()).unwrap();
    let funnel = wb.worksheet_range("Funil").unwrap();
    let counts: Vec<f64> = funnel
        .rows()
        .skip(1)
        .map(|r| cell_f64(&r[1]).unwrap())
        .collect();
    // created 35, sent 30, delivered 26 (12 + 5 + 9), read 14, failed 5
    assert_eq!(counts, vec![35.0, 30.0, 26.0, 14.0, 5.0]);
    assert!(xlsx_charts(out.file.path()) >= 2);
    let out = render_report(&ctx, ReportType::CampaignReport, Format::Csv, &p)
        .await
        .unwrap();
    let bytes = std::fs::read(out.file.path()).unwrap();
    let mut r = csv::ReaderBuilder::new()
        .delimiter(b';')
        .from_reader(&bytes[3..]);
    let recs: Vec<_> = r.records().map(Result::unwrap).collect();
    assert_eq!(recs.len(), 30, "one line per day");
    assert_eq!(&recs[0][0], "01/11/2026");
    let created: i64 = recs.iter().map(|r| r[1].parse::<i64>().unwrap()).sum();
    assert_eq!(created, 35);
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn occupancy_report_in_every_format(pool: PgPool) {
    let t = tenant(&pool).await;
    bookings(&pool, t).await;
    let (ctx, _) = ctx(&pool, t, 25);
    let p = Params {
        from: chrono::NaiveDate::from_ymd_opt(2026, 11, 1),
        to: chrono::NaiveDate::from_ymd_opt(2026, 11, 30),
        ..Default::default()
    };
    let out = render_report(&ctx, ReportType::OccupancyReport, Format::Pdf, &p)
        .await
        .unwrap();
    keep(&out, "ocupacao.pdf");
    let text = pdf_text(out.file.path());
    assert!(text.contains("Relatório de ocupação"));
    for room in ["Sala 1", "Sala 2", "Sala 3"] {
        assert!(text.contains(room));
    }
    assert!(text.contains("6,7%"), "2 of 30 cancelled");
    assert!(text.contains("42,0"), "28 bookings × 1,5 h");
    let out = render_report(&ctx, ReportType::OccupancyReport, Format::Xlsx, &p)
        .await
        .unwrap();
    let mut wb: Xlsx<_> = calamine::open_workbook(out.file.path()).unwrap();
    let res = wb.worksheet_range("Por recurso").unwrap();
    let booked: f64 = res.rows().skip(1).map(|r| cell_f64(&r[1]).unwrap()).sum();
    let cancelled: f64 = res.rows().skip(1).map(|r| cell_f64(&r[3]).unwrap()).sum();
    assert_eq!((booked, cancelled), (28.0, 2.0));
    let heat = wb.worksheet_range("Mapa de calor").unwrap();
    let cells: f64 = heat
        .rows()
        .skip(1)
        .flat_map(|r| r[1..].iter().filter_map(cell_f64))
        .sum();
    assert_eq!(cells, 28.0);
    let out = render_report(&ctx, ReportType::OccupancyReport, Format::Csv, &p)
        .await
        .unwrap();
    let bytes = std::fs::read(out.file.path()).unwrap();
    let mut r = csv::ReaderBuilder::new()
        .delimiter(b';')
        .from_reader(&bytes[3..]);
    let recs: Vec<_> = r.records().map(Result::unwrap).collect();
    let n: i64 = recs.iter().map(|r| r[2].parse::<i64>().unwrap()).sum();
    assert_eq!(n, 28);
    assert!(
        recs.iter().all(|r| r[3].contains(',')),
        "hours with a decimal comma"
    );
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn missing_data_is_a_clear_error(pool: PgPool) {
    let t = tenant(&pool).await;
    let (ctx, _) = ctx(&pool, t, 25);
    let err = render_report(
        &ctx,
        ReportType::StudentReportCard,
        Format::Pdf,
        &card_params("NOPE"),
    )
    .await
    .err()
    .unwrap();
    assert_eq!(err.to_string(), "no class with code \"NOPE\"");
    let p = Params {
        year: Some(YEAR),
        student: Some("000".into()),
        ..Default::default()
    };
    let err = render_report(&ctx, ReportType::StudentReportCard, Format::Pdf, &p)
        .await
        .err()
        .unwrap();
    assert_eq!(err.to_string(), "no student with registration \"000\"");
}

/// A campaign of `tenant` with ten recipients in known states, all on
/// 10/11/2026 from 13:00 UTC (10:00 in São Paulo): 3 read (1 replied),
/// 2 delivered, 1 sent, 2 failed with Meta 131026, 1 with 131049, 1 skipped.
async fn campaign(pool: &PgPool, tenant: uuid::Uuid) -> uuid::Uuid {
    use chrono::TimeZone;
    let template = uuid::Uuid::new_v4();
    sqlx::query(
        "insert into whatsapp_templates (id, tenant_id, name, category) values ($1, $2, 'black_friday', 'marketing')",
    )
    .bind(template)
    .bind(tenant)
    .execute(pool)
    .await
    .unwrap();
    let id = uuid::Uuid::new_v4();
    sqlx::query(
        "insert into campaigns (id, tenant_id, name, state, sender_phone_number_id, template_id, audience,
                                rate_per_second, effective_rate, recipients_count)
         values ($1, $2, 'Black Friday 2026', 'completed', '1234567890', $3, '{\"type\": \"all\"}', 20, 20, 10)",
    )
    .bind(id)
    .bind(tenant)
    .bind(template)
    .execute(pool)
    .await
    .unwrap();
    let at = |m: i64| {
        chrono::Utc
            .with_ymd_and_hms(2026, 11, 10, 13, 0, 0)
            .unwrap()
            + chrono::Duration::minutes(m)
    };
    // status, sent, delivered, read, replied, failed, error code, skip reason
    type Row = (
        &'static str,
        Option<i64>,
        Option<i64>,
        Option<i64>,
        Option<i64>,
        Option<i64>,
        Option<i32>,
        Option<&'static str>,
    );
    let rows: Vec<Row> = vec![
        ("read", Some(0), Some(1), Some(2), Some(3), None, None, None),
        ("read", Some(0), Some(1), Some(2), None, None, None, None),
        ("read", Some(0), Some(1), Some(2), None, None, None, None),
        ("delivered", Some(0), Some(1), None, None, None, None, None),
        ("delivered", Some(0), Some(1), None, None, None, None, None),
        ("sent", Some(1), None, None, None, None, None, None),
        (
            "failed",
            None,
            None,
            None,
            None,
            Some(2),
            Some(131026),
            None,
        ),
        (
            "failed",
            None,
            None,
            None,
            None,
            Some(2),
            Some(131026),
            None,
        ),
        (
            "failed",
            None,
            None,
            None,
            None,
            Some(3),
            Some(131049),
            None,
        ),
        (
            "skipped",
            None,
            None,
            None,
            None,
            None,
            None,
            Some("opted_out"),
        ),
    ];
    for (i, (status, sent, delivered, read, replied, failed, code, reason)) in
        rows.into_iter().enumerate()
    {
        let contact = uuid::Uuid::new_v4();
        let phone = format!("+55119876500{i:02}");
        sqlx::query(
            "insert into contacts (id, tenant_id, external_id, phone) values ($1, $2, $3, $4)",
        )
        .bind(contact)
        .bind(tenant)
        .bind(format!("c{i}"))
        .bind(&phone)
        .execute(pool)
        .await
        .unwrap();
        sqlx::query(
            "insert into campaign_recipients (id, campaign_id, tenant_id, contact_id, phone, status, reason, error_code,
                                              sent_at, delivered_at, read_at, replied_at, failed_at)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(uuid::Uuid::new_v4())
        .bind(id)
        .bind(tenant)
        .bind(contact)
        .bind(&phone)
        .bind(status)
        .bind(reason)
        .bind(code)
        .bind(sent.map(at))
        .bind(delivered.map(at))
        .bind(read.map(at))
        .bind(replied.map(at))
        .bind(failed.map(at))
        .execute(pool)
        .await
        .unwrap();
    }
    id
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn campaign_report_of_one_campaign_from_its_metrics(pool: PgPool) {
    let t = tenant(&pool).await;
    outbox(&pool, t).await;
    let id = campaign(&pool, t).await;
    let (ctx, _) = ctx(&pool, t, 25);
    let p = Params {
        campaign: Some(id),
        ..Default::default()
    };
    let price = ctx.campaigns.price("BR", "marketing");
    let out = render_report(&ctx, ReportType::CampaignReport, Format::Pdf, &p)
        .await
        .unwrap();
    keep(&out, "campanha.pdf");
    assert_eq!(out.file_name, "relatorio-campanha-black-friday-2026.pdf");
    let text = pdf_text(out.file.path());
    assert!(text.contains("Black Friday 2026"), "{text}");
    assert!(text.contains("Meta 131026"), "{text}");
    assert!(text.contains("Linha do tempo (por minuto)"), "{text}");
    assert!(text.contains("opted_out"), "{text}");
    assert!(
        !text.contains("550 mailbox unavailable"),
        "the outbox is not this report's source"
    );
    let out = render_report(&ctx, ReportType::CampaignReport, Format::Xlsx, &p)
        .await
        .unwrap();
    let mut wb: Xlsx<_> = calamine::open_workbook(out.file.path()).unwrap();
    let col = |wb: &mut Xlsx<_>, sheet: &str, c: usize| -> Vec<Option<f64>> {
        wb.worksheet_range(sheet)
            .unwrap()
            .rows()
            .skip(1)
            .map(|r| cell_f64(&r[c]))
            .collect()
    };
    // sent 6 (3 read + 2 delivered + 1 sent), delivered 5, read 3, replied 1
    let funnel: Vec<f64> = col(&mut wb, "Funil", 1).into_iter().flatten().collect();
    assert_eq!(funnel, vec![6.0, 5.0, 3.0, 1.0]);
    let fails = wb.worksheet_range("Falhas").unwrap();
    let fails: Vec<(String, f64)> = fails
        .rows()
        .skip(1)
        .map(|r| (r[0].to_string(), cell_f64(&r[1]).unwrap()))
        .collect();
    assert_eq!(
        fails,
        vec![
            ("Meta 131026".to_string(), 2.0),
            ("Meta 131049".to_string(), 1.0)
        ]
    );
    let cost = col(&mut wb, "Custo", 1);
    assert!(
        (cost[1].unwrap() - price * 6.0).abs() < 1e-4,
        "{cost:?} {price}"
    );
    assert!(price > 0.0);
    let out = render_report(&ctx, ReportType::CampaignReport, Format::Csv, &p)
        .await
        .unwrap();
    let bytes = std::fs::read(out.file.path()).unwrap();
    let mut r = csv::ReaderBuilder::new()
        .delimiter(b';')
        .from_reader(&bytes[3..]);
    let recs: Vec<_> = r.records().map(Result::unwrap).collect();
    // minutes with activity, in São Paulo time: 10:00 (5 sent), 10:01 (1 sent,
    // 5 delivered), 10:02 (3 read, 2 failed), 10:03 (1 failed)
    let got: Vec<Vec<String>> = recs
        .iter()
        .map(|r| r.iter().map(String::from).collect())
        .collect();
    assert_eq!(
        got,
        vec![
            vec!["10/11/2026 10:00", "5", "0", "0", "0"],
            vec!["10/11/2026 10:01", "1", "5", "0", "0"],
            vec!["10/11/2026 10:02", "0", "0", "3", "2"],
            vec!["10/11/2026 10:03", "0", "0", "0", "1"],
        ]
    );
    // Another tenant's campaign is missing data, not a report.
    let other = tenant(&pool).await;
    let (octx, _) = common::ctx(&pool, other, 25);
    let err = render_report(&octx, ReportType::CampaignReport, Format::Pdf, &p)
        .await
        .err()
        .unwrap();
    assert_eq!(err.to_string(), format!("no campaign {id}"));
}

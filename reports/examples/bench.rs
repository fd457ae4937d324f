//! `cargo run --release -p reports --example bench [-- --out bench/RESULTS.md]`:
//! report-card PDFs for a class of 40 (one PDF) and for 1,000 students
//! (batches of 25, concatenated) against the same 1,000 in one typst
//! document (the baseline), and an XLSX of 100,000 rows against the same
//! rows as CSV. Each scenario runs in its own child process so its peak RSS
//! (VmHWM) is its own. Data is generated in memory: no database.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::time::Instant;

use reports::card::ReportCard;
use reports::data::academic::{ClassInfo, StudentInfo, StudentRecords};
use reports::output::RenderCtx;
use reports::tables::{Cell, Sheet};
use reports::types::report_card::{build_cards, card_json, cards_pdf};
use uuid::Uuid;

const SUBJECTS: [&str; 12] = [
    "Matemática",
    "Língua Portuguesa",
    "História",
    "Geografia",
    "Ciências",
    "Inglês",
    "Artes",
    "Educação Física",
    "Física",
    "Química",
    "Biologia",
    "Redação",
];

fn peak_rss_mb() -> f64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn cards(n: usize) -> Vec<ReportCard> {
    let class = ClassInfo {
        id: Uuid::nil(),
        code: "9A-2026".into(),
        name: "9º ano A".into(),
        year: 2026,
        teacher: Some("Prof.ª Helena Ribeiro".into()),
        coordinator: None,
    };
    let subjects: HashMap<String, String> = SUBJECTS
        .iter()
        .map(|s| (ptbr::slug(s), s.to_string()))
        .collect();
    let mut means = BTreeMap::new();
    let students: Vec<(StudentInfo, StudentRecords)> = (0..n)
        .map(|s| {
            let mut rec = StudentRecords::default();
            for (j, name) in SUBJECTS.iter().enumerate() {
                for t in 1..=4i16 {
                    let g = (((s * 7 + j * 3 + t as usize * 5) % 61) as f64 / 10.0 + 4.0).min(10.0);
                    rec.grades.entry(ptbr::slug(name)).or_default().insert(t, g);
                    means.insert((ptbr::slug(name), t), 7.0);
                }
            }
            let info = StudentInfo {
                id: Uuid::new_v4(),
                registration: format!("2026{s:05}"),
                name: format!("Aluno de Teste Número {s}"),
            };
            (info, rec)
        })
        .collect();
    build_cards(&students, Some(&class), 2026, &subjects, &means)
}

async fn ctx(batch: usize) -> RenderCtx {
    RenderCtx {
        pg: sqlx::postgres::PgPoolOptions::new()
            .connect_lazy("postgres://bench@127.0.0.1/none")
            .unwrap(),
        tenant: Uuid::nil(),
        school: "Colégio Estadual Professora Maria José".into(),
        today: chrono::NaiveDate::from_ymd_opt(2026, 12, 5).unwrap(),
        generated: "05/12/2026 14:30".into(),
        tz: chrono_tz::America::Sao_Paulo,
        primary: 0x1f4e79,
        accent: 0xe08e1b,
        logo: None,
        campaigns: Default::default(),
        batch_size: batch,
        max_students: 100_000,
        cancel: Default::default(),
        progress: std::sync::Arc::new(|_, _| Box::pin(async {})),
    }
}

/// Renders `n` cards `batch` at a time into one PDF; prints `pages secs rss bytes`.
async fn pdf(n: usize, batch: usize) {
    let all = cards(n);
    let ctx = ctx(batch).await;
    let t = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let mut parts = Vec::new();
    for (b, chunk) in all.chunks(batch).enumerate() {
        let json: Vec<_> = chunk
            .iter()
            .enumerate()
            .map(|(i, c)| card_json(c, b * batch + i, n, "").unwrap())
            .collect();
        let pdf = cards_pdf(&ctx, 2026, json).unwrap();
        let path = dir.path().join(format!("{b}.pdf"));
        std::fs::write(&path, &pdf.bytes).unwrap();
        parts.push(path);
    }
    let out = dir.path().join("all.pdf");
    let pages = if parts.len() == 1 {
        std::fs::copy(&parts[0], &out).unwrap();
        n
    } else {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&out).unwrap());
        let p = reports::pdf::concat(parts.iter().map(std::fs::read), &mut f).unwrap();
        f.flush().unwrap();
        p
    };
    let secs = t.elapsed().as_secs_f64();
    let bytes = std::fs::metadata(&out).unwrap().len();
    println!("{pages} {secs:.3} {:.1} {bytes}", peak_rss_mb());
}

fn sheet(rows: usize) -> Sheet {
    let mut s = Sheet::new(
        "Notas",
        &[
            "Matrícula",
            "Aluno",
            "Turma",
            "Disciplina",
            "1º bim",
            "2º bim",
            "3º bim",
            "4º bim",
            "Média",
            "Frequência (%)",
        ],
    );
    for r in 0..rows {
        let g = |k: usize| ((r * 7 + k * 13) % 101) as f64 / 10.0;
        s.rows.push(vec![
            Cell::Text(format!("2026{r:06}")),
            Cell::Text(format!("Aluno de Teste Número {}", r / 12)),
            Cell::text("9A-2026"),
            Cell::text(SUBJECTS[r % 12]),
            Cell::Num(g(1), 1),
            Cell::Num(g(2), 1),
            Cell::Num(g(3), 1),
            Cell::Num(g(4), 1),
            Cell::Num((g(1) + g(2) + g(3) + g(4)) / 4.0, 1),
            Cell::Pct(75.0 + (r % 25) as f64),
        ]);
    }
    s
}

/// Writes `rows` rows as XLSX or CSV; prints `rows secs rss bytes`.
fn table(rows: usize, xlsx: bool) {
    let s = sheet(rows);
    let t = Instant::now();
    let f = tempfile::NamedTempFile::new().unwrap();
    if xlsx {
        reports::tables::write_xlsx(std::slice::from_ref(&s), 0x1f4e79, f.reopen().unwrap())
            .unwrap();
    } else {
        reports::tables::write_csv(&s, std::io::BufWriter::new(f.reopen().unwrap())).unwrap();
    }
    let secs = t.elapsed().as_secs_f64();
    let bytes = std::fs::metadata(f.path()).unwrap().len();
    println!("{rows} {secs:.3} {:.1} {bytes}", peak_rss_mb());
}

fn child(args: &[&str]) -> Vec<f64> {
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new(exe).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(|x| x.parse().unwrap())
        .collect()
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("pdf") => return pdf(args[2].parse().unwrap(), args[3].parse().unwrap()).await,
        Some("xlsx") => return table(args[2].parse().unwrap(), true),
        Some("csv") => return table(args[2].parse().unwrap(), false),
        _ => {}
    }
    let out = args
        .iter()
        .position(|a| a == "--out")
        .and_then(|i| args.get(i + 1).cloned());
    let mut md = String::new();
    md.push_str(&format!(
        "\n## {} — reports (`cargo run --release -p reports --example bench -- --out bench/RESULTS.md`)\n\n",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC")
    ));
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    md.push_str(&format!(
        "- machine: {cpus} CPUs, shared with other sessions' builds (compare ratios); report cards of 12 subjects × 4 terms, generated in memory (no database); each scenario in its own process (peak RSS = its VmHWM)\n\n"
    ));
    md.push_str("| scenario | pages / rows | seconds | pages/s or rows/s | peak RSS MB | output |\n|---|---|---|---|---|---|\n");
    let mut line = |name: &str, v: &[f64], unit: &str| {
        let rate = v[0] / v[1];
        let l = format!(
            "| {name} | {} | {:.2} | {} {unit} | {:.0} | {} KB |\n",
            v[0],
            v[1],
            ptbr::format_decimal(rate, 1),
            v[2],
            (v[3] / 1024.0).round()
        );
        print!("{l}");
        md.push_str(&l);
    };
    line(
        "boletins, class of 40, one PDF (1 typst run)",
        &child(&["pdf", "40", "40"]),
        "pages/s",
    );
    line(
        "boletins, 1,000 students, batches of 25 + lopdf concat (what the job does)",
        &child(&["pdf", "1000", "25"]),
        "pages/s",
    );
    line(
        "baseline: the same 1,000 in one typst document",
        &child(&["pdf", "1000", "1000"]),
        "pages/s",
    );
    line(
        "XLSX, 100,000 rows × 10 columns (constant memory)",
        &child(&["xlsx", "100000"]),
        "rows/s",
    );
    line(
        "baseline: the same rows as CSV",
        &child(&["csv", "100000"]),
        "rows/s",
    );
    if let Some(path) = out {
        let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
        f.write_all(md.as_bytes()).unwrap();
    }
}

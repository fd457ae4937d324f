//! The tabular side of every report: sheets of typed cells, written as XLSX
//! (formatted header, frozen first row, autofilter, pt-BR-friendly number
//! formats, native charts) or as CSV for Excel in pt-BR (`;`, UTF-8 BOM,
//! decimal comma). A CSV holds one table: the report's first sheet.

use std::io::Write;

use rust_xlsxwriter::{Chart, ChartType, Color, Format, FormatAlign, Workbook, XlsxError};

/// One cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    /// A number shown with this many decimals (`8,5`).
    Num(f64, usize),
    Int(i64),
    /// A percentage given as 0–100 (`92,5%`).
    Pct(f64),
    Money(f64),
    Empty,
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Cell {
        Cell::Text(s.into())
    }
    pub fn opt(x: Option<f64>, places: usize) -> Cell {
        x.map_or(Cell::Empty, |x| Cell::Num(x, places))
    }
    pub fn opt_pct(x: Option<f64>) -> Cell {
        x.map_or(Cell::Empty, Cell::Pct)
    }

    /// The cell as pt-BR text (CSV).
    pub fn to_ptbr(&self) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Num(x, p) => ptbr::format_decimal(*x, *p),
            Cell::Int(i) => i.to_string(),
            Cell::Pct(x) => ptbr::format_decimal(*x, 1),
            Cell::Money(x) => ptbr::format_decimal(*x, 2),
            Cell::Empty => String::new(),
        }
    }
}

/// A native chart over a sheet's columns (the data rows, all of them).
#[derive(Debug, Clone)]
pub struct ChartSpec {
    pub title: String,
    pub kind: ChartKind,
    /// The column of the categories (x axis).
    pub categories: u16,
    /// The columns of the series (their header is the series' name).
    pub series: Vec<u16>,
}

#[derive(Debug, Clone, Copy)]
pub enum ChartKind {
    Column,
    Line,
}

#[derive(Debug, Clone)]
pub struct Sheet {
    /// At most 31 characters (Excel's limit); cut here if longer.
    pub name: String,
    pub header: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
    pub widths: Vec<f64>,
    pub chart: Option<ChartSpec>,
}

impl Sheet {
    pub fn new(name: &str, header: &[&str]) -> Sheet {
        Sheet {
            name: name.chars().take(31).collect(),
            header: header.iter().map(|s| s.to_string()).collect(),
            rows: Vec::new(),
            widths: Vec::new(),
            chart: None,
        }
    }
}

fn header_format(primary: u32) -> Format {
    Format::new()
        .set_bold()
        .set_font_color(Color::White)
        .set_background_color(Color::RGB(primary))
        .set_align(FormatAlign::Center)
        .set_text_wrap()
}

/// Writes `sheets` as an XLSX workbook into `out`.
pub fn write_xlsx<W: Write + std::io::Seek + Send>(
    sheets: &[Sheet],
    primary: u32,
    out: W,
) -> Result<(), XlsxError> {
    let mut wb = Workbook::new();
    let head = header_format(primary);
    let formats: Vec<Format> = (0..=3)
        .map(|p| {
            Format::new().set_num_format(if p == 0 {
                "0".to_string()
            } else {
                format!("0.{}", "0".repeat(p))
            })
        })
        .collect();
    let pct = Format::new().set_num_format("0.0%");
    let money = Format::new().set_num_format("\"R$\" #,##0.00");
    for s in sheets {
        let ws = wb.add_worksheet_with_constant_memory()?;
        ws.set_name(&s.name)?;
        for (c, h) in s.header.iter().enumerate() {
            ws.write_string_with_format(0, c as u16, h, &head)?;
            let w = s
                .widths
                .get(c)
                .copied()
                .unwrap_or(if c == 0 { 28.0 } else { 12.0 });
            ws.set_column_width(c as u16, w)?;
        }
        ws.set_freeze_panes(1, 0)?;
        for (r, row) in s.rows.iter().enumerate() {
            let r = r as u32 + 1;
            for (c, cell) in row.iter().enumerate() {
                let c = c as u16;
                match cell {
                    Cell::Text(t) => {
                        ws.write_string(r, c, t)?;
                    }
                    Cell::Num(x, p) => {
                        ws.write_number_with_format(r, c, *x, &formats[(*p).min(3)])?;
                    }
                    Cell::Int(i) => {
                        ws.write_number(r, c, *i as f64)?;
                    }
                    Cell::Pct(x) => {
                        ws.write_number_with_format(r, c, *x / 100.0, &pct)?;
                    }
                    Cell::Money(x) => {
                        ws.write_number_with_format(r, c, *x, &money)?;
                    }
                    Cell::Empty => {}
                }
            }
        }
        let last = s.rows.len() as u32;
        if last > 0 && !s.header.is_empty() {
            ws.autofilter(0, 0, last, s.header.len() as u16 - 1)?;
        }
        if let (Some(spec), true) = (&s.chart, last > 0) {
            let mut chart = Chart::new(match spec.kind {
                ChartKind::Column => ChartType::Column,
                ChartKind::Line => ChartType::Line,
            });
            chart.title().set_name(&spec.title);
            for col in &spec.series {
                chart
                    .add_series()
                    .set_name((s.name.as_str(), 0, *col))
                    .set_categories((s.name.as_str(), 1, spec.categories, last, spec.categories))
                    .set_values((s.name.as_str(), 1, *col, last, *col));
            }
            chart.set_width(640).set_height(320);
            ws.insert_chart(1, s.header.len() as u16 + 1, &chart)?;
        }
    }
    wb.save_to_writer(out)
}

/// Writes one sheet as CSV for Excel in pt-BR: UTF-8 BOM, `;`, decimal comma.
pub fn write_csv<W: Write>(sheet: &Sheet, out: W) -> Result<(), csv::Error> {
    let mut out = out;
    out.write_all(b"\xEF\xBB\xBF")?;
    let mut w = csv::WriterBuilder::new().delimiter(b';').from_writer(out);
    w.write_record(&sheet.header)?;
    for row in &sheet.rows {
        w.write_record(row.iter().map(Cell::to_ptbr))?;
    }
    w.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_has_bom_semicolons_and_decimal_commas() {
        let mut s = Sheet::new("Notas", &["Aluno", "Média", "Frequência"]);
        s.rows.push(vec![
            Cell::text("Ana; \"Bia\""),
            Cell::Num(8.5, 1),
            Cell::Pct(92.5),
        ]);
        let mut buf = Vec::new();
        write_csv(&s, &mut buf).unwrap();
        let text = String::from_utf8(buf).unwrap();
        assert!(text.starts_with('\u{feff}'));
        assert_eq!(
            text.trim_start_matches('\u{feff}'),
            "Aluno;Média;Frequência\n\"Ana; \"\"Bia\"\"\";8,5;92,5\n"
        );
    }
}

//! A batch prediction as an XLSX workbook (rust_xlsxwriter): one sheet
//! `Previsões` with `série, data, passo, previsão, lo80, hi80, lo95, hi95`,
//! the header row frozen, dates as Excel dates (`dd/mm/aaaa`, with the time
//! for hourly series) and numbers as numbers in the pt-BR format
//! `[$-416]#.##0,00` (Excel shows `1.234,56` whatever the reader's locale).

use chrono::{Datelike, NaiveDateTime, Timelike};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, XlsxError};

use crate::sql::PointRow;

/// The sheet's name.
pub const SHEET: &str = "Previsões";
/// Column titles, in order.
pub const HEADER: [&str; 8] = [
    "série",
    "data",
    "passo",
    "previsão",
    "lo80",
    "hi80",
    "lo95",
    "hi95",
];
/// pt-BR (LCID 0x416) number format with thousands and two decimals.
pub const NUMBER_FORMAT: &str = "[$-416]#,##0.00";

fn excel_date(at: NaiveDateTime) -> Result<ExcelDateTime, XlsxError> {
    ExcelDateTime::from_ymd(at.year() as u16, at.month() as u8, at.day() as u8)?.and_hms(
        at.hour() as u16,
        at.minute() as u8,
        at.second(),
    )
}

/// The workbook's bytes.
pub fn prediction_xlsx(rows: &[PointRow]) -> Result<Vec<u8>, XlsxError> {
    let hourly = rows.iter().any(|r| r.at.time() != chrono::NaiveTime::MIN);
    let mut wb = Workbook::new();
    let head = Format::new().set_bold();
    let num = Format::new().set_num_format(NUMBER_FORMAT);
    let date = Format::new().set_num_format(if hourly {
        "dd/mm/yyyy hh:mm"
    } else {
        "dd/mm/yyyy"
    });
    let ws = wb.add_worksheet();
    ws.set_name(SHEET)?;
    for (c, h) in HEADER.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &head)?;
    }
    ws.set_freeze_panes(1, 0)?;
    ws.set_column_width(0, 18)?;
    ws.set_column_width(1, if hourly { 17 } else { 12 })?;
    for (i, r) in rows.iter().enumerate() {
        let row = i as u32 + 1;
        ws.write_string(row, 0, &r.key)?;
        ws.write_datetime_with_format(row, 1, excel_date(r.at)?, &date)?;
        ws.write_number(row, 2, r.step)?;
        for (c, v) in [r.point, r.lo80, r.hi80, r.lo95, r.hi95]
            .into_iter()
            .enumerate()
        {
            ws.write_number_with_format(row, 3 + c as u16, v, &num)?;
        }
    }
    wb.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;
    use calamine::{Data, Reader, Xlsx};
    use std::io::{Cursor, Read};

    #[test]
    fn reads_back_with_dates_numbers_and_a_frozen_header() {
        let at = crate::freq::parse_stamp("2026-05-01").unwrap();
        let rows: Vec<PointRow> = (1..=3)
            .map(|k| PointRow {
                key: "Centro".into(),
                step: k,
                at: at + chrono::Duration::days(k as i64 - 1),
                point: 1234.5 + k as f64,
                lo80: 1000.25,
                hi80: 1500.0,
                lo95: 900.125,
                hi95: 1600.0,
            })
            .collect();
        let bytes = prediction_xlsx(&rows).unwrap();
        let mut wb: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes.clone())).unwrap();
        let sheet = wb.worksheet_range(SHEET).unwrap();
        assert_eq!(sheet.get_size(), (4, 8));
        for (c, h) in HEADER.iter().enumerate() {
            assert_eq!(sheet.get((0, c)), Some(&Data::String(h.to_string())));
        }
        assert_eq!(sheet.get((2, 0)), Some(&Data::String("Centro".into())));
        match sheet.get((2, 1)) {
            // Excel's serial day: days since 1899-12-30.
            Some(Data::DateTime(d)) => assert_eq!(
                d.as_f64(),
                (at.date() + chrono::Duration::days(1)
                    - chrono::NaiveDate::from_ymd_opt(1899, 12, 30).unwrap())
                .num_days() as f64
            ),
            other => panic!("not a date: {other:?}"),
        }
        assert_eq!(sheet.get((2, 2)), Some(&Data::Float(2.0)));
        assert_eq!(sheet.get((2, 3)), Some(&Data::Float(1236.5)));
        assert_eq!(sheet.get((3, 7)), Some(&Data::Float(1600.0)));
        assert_eq!(sheet.get((1, 6)), Some(&Data::Float(900.125)));

        // The pt-BR number format and the frozen first row, as written in the parts.
        let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        let mut part = |name: &str| {
            let mut s = String::new();
            zip.by_name(name).unwrap().read_to_string(&mut s).unwrap();
            s
        };
        let styles = part("xl/styles.xml");
        assert!(
            styles.contains("formatCode=\"[$-416]#,##0.00\""),
            "{styles}"
        );
        assert!(styles.contains("formatCode=\"dd/mm/yyyy\""), "{styles}");
        let sheet1 = part("xl/worksheets/sheet1.xml");
        assert!(
            sheet1.contains("ySplit=\"1\"") && sheet1.contains("state=\"frozen\""),
            "{sheet1}"
        );
    }
}

//! Reading a CSV upload: text decoding (UTF-8, else Latin-1 as Excel in
//! pt-BR writes it), the delimiter (`;` or tab or `,`), and which column is
//! the time, which names the series and which hold values — guessed from a
//! sample of rows unless the caller says. Cells are parsed later
//! ([`crate::dataset`]); this module only knows the file's shape.

use serde::{Deserialize, Serialize};

use crate::freq::parse_stamp;

/// What the caller may fix instead of letting us guess.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ReadOptions {
    /// The time column (else the first column whose cells are dates).
    pub time_column: Option<String>,
    /// The column naming each series, for many series in one file (else a
    /// text column, if any; else the file is one series).
    pub id_column: Option<String>,
    /// The value columns (else every numeric column).
    pub value_columns: Option<Vec<String>>,
}

/// A column's role, as detected or given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Time,
    SeriesId,
    Value,
    Ignored,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Column {
    pub name: String,
    pub role: Role,
}

/// A problem with the file's shape (not with one cell).
#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize)]
pub enum ShapeError {
    #[error("the file is empty")]
    Empty,
    #[error("line {line}: {message}")]
    Malformed { line: u64, message: String },
    #[error("no time column: no column holds dates (ISO 2026-03-15 or 15/03/2026) in most rows")]
    NoTimeColumn,
    #[error("no value column: no column holds numbers in most rows")]
    NoValueColumn,
    #[error("column {0:?} is not in the file")]
    UnknownColumn(String),
}

/// The decoded text and its layout.
pub struct Table {
    pub text: String,
    pub delimiter: u8,
    pub headers: Vec<String>,
    pub columns: Vec<Column>,
}

impl Table {
    pub fn index_of(&self, role: Role) -> Vec<usize> {
        (0..self.columns.len())
            .filter(|&i| self.columns[i].role == role)
            .collect()
    }

    /// A csv reader over the data rows.
    pub fn reader(&self) -> csv::Reader<&[u8]> {
        csv::ReaderBuilder::new()
            .delimiter(self.delimiter)
            .flexible(false)
            .has_headers(true)
            .from_reader(self.text.as_bytes())
    }
}

/// UTF-8 (without its BOM), else Latin-1: every byte is a character, so
/// decoding never fails and `Previsão` from a Windows export survives.
pub fn decode(bytes: &[u8]) -> String {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => bytes.iter().map(|&b| b as char).collect(),
    }
}

/// `;` when the header has one (pt-BR exports, where `,` is the decimal
/// mark), else a tab, else `,`.
fn sniff_delimiter(text: &str) -> u8 {
    let header = text.lines().next().unwrap_or("");
    if header.contains(';') {
        b';'
    } else if header.contains('\t') {
        b'\t'
    } else {
        b','
    }
}

const SAMPLE_ROWS: usize = 500;
const TIME_NAMES: &[&str] = &[
    "ds",
    "date",
    "data",
    "time",
    "timestamp",
    "periodo",
    "período",
    "dia",
    "mes",
    "mês",
];
const ID_NAMES: &[&str] = &[
    "unique_id",
    "series",
    "serie",
    "série",
    "series_id",
    "id",
    "item",
    "sku",
    "loja",
    "store",
];

/// Reads the header and a sample of rows and decides each column's role.
pub fn open(bytes: &[u8], opts: &ReadOptions) -> Result<Table, ShapeError> {
    let text = decode(bytes);
    if text.trim().is_empty() {
        return Err(ShapeError::Empty);
    }
    let delimiter = sniff_delimiter(&text);
    let mut t = Table {
        text,
        delimiter,
        headers: vec![],
        columns: vec![],
    };
    let mut rdr = t.reader();
    let headers: Vec<String> = rdr
        .headers()
        .map_err(|e| malformed(&e))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    let n = headers.len();
    let (mut dates, mut numbers, mut filled) = (vec![0usize; n], vec![0usize; n], vec![0usize; n]);
    let mut rows = 0;
    for rec in rdr.records().take(SAMPLE_ROWS) {
        let rec = rec.map_err(|e| malformed(&e))?;
        rows += 1;
        for (i, cell) in rec.iter().enumerate() {
            let cell = cell.trim();
            if crate::dataset::is_missing(cell) {
                continue;
            }
            filled[i] += 1;
            if parse_stamp(cell).is_some() {
                dates[i] += 1;
            }
            if ptbr::parse_decimal(cell).is_some() {
                numbers[i] += 1;
            }
        }
    }
    if rows == 0 {
        return Err(ShapeError::Empty);
    }
    let most = |count: usize, i: usize| filled[i] > 0 && count * 10 >= filled[i] * 9;
    // Values need only half their cells to be numbers: the rest are then
    // reported one by one (a typo must not turn the column into a label).
    let half = |count: usize, i: usize| filled[i] > 0 && count * 2 >= filled[i];
    let named = |i: usize, names: &[&str]| names.contains(&ptbr::fold(&headers[i]).as_str());
    let find = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| ShapeError::UnknownColumn(name.to_string()))
    };
    // Time: given, else a date column with a time-like name, else the first date column.
    let is_date = |i: usize| most(dates[i], i);
    let time = match &opts.time_column {
        Some(c) => find(c)?,
        None => (0..n)
            // A time-like name needs only half its cells to be dates: the
            // rest are then reported one by one, with their lines.
            .find(|&i| named(i, TIME_NAMES) && dates[i] * 2 >= filled[i] && filled[i] > 0)
            .or_else(|| (0..n).find(|&i| is_date(i)))
            .ok_or(ShapeError::NoTimeColumn)?,
    };
    let values: Vec<usize> = match &opts.value_columns {
        Some(cs) => cs.iter().map(|c| find(c)).collect::<Result<_, _>>()?,
        None => (0..n)
            .filter(|&i| {
                i != time
                    && half(numbers[i], i)
                    && !(named(i, ID_NAMES) && opts.id_column.is_none())
            })
            .filter(|&i| opts.id_column.as_deref() != Some(headers[i].as_str()))
            .collect(),
    };
    if values.is_empty() {
        return Err(ShapeError::NoValueColumn);
    }
    let id = match &opts.id_column {
        Some(c) => Some(find(c)?),
        None => (0..n)
            .filter(|i| *i != time && !values.contains(i))
            .find(|&i| named(i, ID_NAMES))
            .or_else(|| (0..n).find(|&i| i != time && !values.contains(&i) && filled[i] > 0)),
    };
    t.columns = headers
        .iter()
        .enumerate()
        .map(|(i, name)| Column {
            name: name.clone(),
            role: if i == time {
                Role::Time
            } else if Some(i) == id {
                Role::SeriesId
            } else if values.contains(&i) {
                Role::Value
            } else {
                Role::Ignored
            },
        })
        .collect();
    t.headers = headers;
    Ok(t)
}

fn malformed(e: &csv::Error) -> ShapeError {
    let line = e.position().map(|p| p.line()).unwrap_or(0);
    let message = match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => {
            format!("{len} fields where the header has {expected_len}")
        }
        _ => e.to_string(),
    };
    ShapeError::Malformed { line, message }
}

/// The first `limit` data rows as text, for the preview endpoint.
pub fn preview(t: &Table, limit: usize) -> Vec<Vec<String>> {
    t.reader()
        .records()
        .take(limit)
        .filter_map(Result::ok)
        .map(|r| r.iter().map(str::to_string).collect())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roles(csv: &str) -> Vec<(String, Role)> {
        open(csv.as_bytes(), &ReadOptions::default())
            .unwrap()
            .columns
            .into_iter()
            .map(|c| (c.name, c.role))
            .collect()
    }

    #[test]
    fn detects_time_id_and_values() {
        let r = roles("loja;data;vendas;obs\nA;01/03/2026;8,5;x\nB;01/03/2026;9;y\n");
        assert_eq!(r[0].1, Role::SeriesId);
        assert_eq!(r[1].1, Role::Time);
        assert_eq!(r[2].1, Role::Value);
        assert_eq!(r[3].1, Role::Ignored);
        let r = roles("ds,y\n2026-03-01,1.5\n2026-03-02,2\n");
        assert_eq!((r[0].1, r[1].1), (Role::Time, Role::Value));
    }

    #[test]
    fn names_the_problem() {
        assert_eq!(
            open(b"", &ReadOptions::default()).err(),
            Some(ShapeError::Empty)
        );
        assert_eq!(
            open(b"a,b\nx,1\ny,2\n", &ReadOptions::default()).err(),
            Some(ShapeError::NoTimeColumn)
        );
        let e = open(
            b"ds,y\n2026-03-01,1\n2026-03-02,2,3\n",
            &ReadOptions::default(),
        )
        .err();
        assert!(
            matches!(e, Some(ShapeError::Malformed { line: 3, .. })),
            "{e:?}"
        );
    }
}

#![allow(dead_code)]
//! The field-by-field scorer of an [`Extraction`] against a ground-truth
//! JSON (make_pdfs.py's and layouts/gen_layouts.py's schema), shared by the
//! tests and the `layouts` measurement example.

use documents::Extraction;
use serde_json::Value;

/// Field-level score: how many ground-truth fields the extraction got right.
#[derive(Debug, Default)]
pub struct Score {
    pub right: usize,
    pub total: usize,
    pub wrong: Vec<String>,
}

impl Score {
    pub fn accuracy(&self) -> f64 {
        self.right as f64 / self.total.max(1) as f64
    }

    fn check(&mut self, field: &str, got: &Value, want: &Value) {
        if want.is_null() {
            return;
        }
        self.total += 1;
        let same = match (got.as_f64(), want.as_f64()) {
            (Some(a), Some(b)) => (a - b).abs() < 1e-6,
            _ => got == want,
        };
        if same {
            self.right += 1;
        } else {
            self.wrong.push(format!("{field}: got {got}, want {want}"));
        }
    }

    fn subjects(&mut self, path: &str, got: &Value, want: &Value) {
        let empty = vec![];
        let got = got.as_array().unwrap_or(&empty);
        for (i, w) in want.as_array().unwrap().iter().enumerate() {
            let code = &w["code"];
            let g = got
                .iter()
                .find(|s| &s["code"] == code)
                .cloned()
                .unwrap_or(Value::Null);
            let p = format!("{path}[{i}:{}]", code.as_str().unwrap());
            self.check(&format!("{p}.code"), &g["code"], code);
            if let Some(terms) = w["terms"].as_array() {
                for (t, grade) in terms.iter().enumerate() {
                    let term = g["terms"]
                        .as_array()
                        .and_then(|ts| ts.iter().find(|x| x["term"] == t + 1));
                    let got = term.map_or(Value::Null, |x| x["grade"].clone());
                    self.check(&format!("{p}.terms[{t}]"), &got, grade);
                }
            }
            for k in [
                "final_grade",
                "absences",
                "attendance_pct",
                "status",
                "workload_hours",
            ] {
                self.check(&format!("{p}.{k}"), &g[k], &w[k]);
            }
        }
    }
}

/// Scores `x` against the ground truth `want` (see make_pdfs.py).
pub fn score(x: &Extraction, want: &Value) -> Score {
    let got = serde_json::to_value(x).unwrap();
    let mut s = Score::default();
    s.check("doc_type", &got["doc_type"], &want["doc_type"]);
    s.check("year", &got["year"], &want["year"]);
    for k in ["name", "registration", "birth_date", "class_name"] {
        s.check(
            &format!("student.{k}"),
            &got["student"][k],
            &want["student"][k],
        );
    }
    for k in ["name", "cnpj"] {
        s.check(
            &format!("school.{k}"),
            &got["school"][k],
            &want["school"][k],
        );
    }
    s.check(
        "overall_attendance_pct",
        &got["overall_attendance_pct"],
        &want["overall_attendance_pct"],
    );
    s.subjects("subjects", &got["subjects"], &want["subjects"]);
    if let Some(years) = want["years"].as_array() {
        let empty = vec![];
        let got_years = got["years"].as_array().unwrap_or(&empty);
        for (i, w) in years.iter().enumerate() {
            let g = got_years
                .iter()
                .find(|y| y["year"] == w["year"])
                .cloned()
                .unwrap_or(Value::Null);
            let p = format!("years[{i}:{}]", w["year"]);
            for k in ["year", "grade_level", "overall_attendance_pct", "status"] {
                s.check(&format!("{p}.{k}"), &g[k], &w[k]);
            }
            s.subjects(&format!("{p}.subjects"), &g["subjects"], &w["subjects"]);
        }
    }
    s
}

//! The markdown the run appends to `bench/RESULTS.md`: one summary table
//! (each figure beside its same-run baseline, the ratio and the issue's
//! target) followed by the details of every phase.

use std::fmt::Write;

/// One line of the summary table.
#[derive(Clone, Debug, Default)]
pub struct Row {
    pub id: String,
    pub measure: String,
    pub tarefa: String,
    pub baseline: String,
    pub ratio: String,
    pub target: String,
    pub verdict: Verdict,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Verdict {
    Met,
    Missed,
    #[default]
    Info,
}

impl Verdict {
    pub fn from(ok: bool) -> Verdict {
        if ok {
            Verdict::Met
        } else {
            Verdict::Missed
        }
    }

    fn text(self) -> &'static str {
        match self {
            Verdict::Met => "met",
            Verdict::Missed => "**missed**",
            Verdict::Info => "",
        }
    }
}

/// Everything one run found.
#[derive(Debug, Default)]
pub struct Report {
    pub rows: Vec<Row>,
    /// Markdown sections, in phase order.
    pub details: Vec<(String, Vec<String>)>,
    pub notes: Vec<String>,
}

impl Report {
    pub fn row(&mut self, row: Row) {
        self.rows.push(row);
    }

    /// Adds a line under the details heading `section` (created on first use).
    pub fn detail(&mut self, section: &str, line: impl Into<String>) {
        match self.details.iter_mut().find(|(s, _)| s == section) {
            Some((_, lines)) => lines.push(line.into()),
            None => self.details.push((section.to_string(), vec![line.into()])),
        }
    }

    /// Appends another report's rows, details and notes.
    pub fn merge(&mut self, other: Report) {
        self.rows.extend(other.rows);
        for (section, lines) in other.details {
            for l in lines {
                self.detail(&section, l);
            }
        }
        self.notes.extend(other.notes);
    }

    pub fn note(&mut self, line: impl Into<String>) {
        self.notes.push(line.into());
    }

    pub fn markdown(&self) -> String {
        let mut out = String::new();
        out.push_str(
            "| | measure | Tarefa | raw baseline / reference (same run) | ratio | target | |\n",
        );
        out.push_str("|---|---|---|---|---|---|---|\n");
        for r in &self.rows {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} |",
                r.id,
                r.measure,
                r.tarefa,
                r.baseline,
                r.ratio,
                r.target,
                r.verdict.text()
            );
        }
        for (section, lines) in &self.details {
            let _ = writeln!(out, "\n#### {section}\n");
            for l in lines {
                let _ = writeln!(out, "- {l}");
            }
        }
        if !self.notes.is_empty() {
            out.push_str("\n#### Notes\n\n");
            for n in &self.notes {
                let _ = writeln!(out, "- {n}");
            }
        }
        out
    }
}

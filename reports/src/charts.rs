//! Charts as SVG strings (plotters), embedded in the typst documents: term
//! averages against the class, grade distributions, a timeline, a weekday ×
//! hour heatmap. Text is measured and named with the embedded Libertinus
//! Serif, which typst also has, so labels render in the report's font.

use std::sync::Once;

use plotters::prelude::*;
use plotters::style::FontStyle;

pub const FONT: &str = "Libertinus Serif";
/// The report palette: primary, accent, neutral, danger.
pub const PRIMARY: RGBColor = RGBColor(0x1f, 0x4e, 0x79);
pub const ACCENT: RGBColor = RGBColor(0xe0, 0x8e, 0x1b);
pub const NEUTRAL: RGBColor = RGBColor(0xa8, 0xb3, 0xbf);
pub const DANGER: RGBColor = RGBColor(0xc0, 0x39, 0x2b);
pub const GOOD: RGBColor = RGBColor(0x2e, 0x8b, 0x57);

fn register_fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        for (style, bold) in [(FontStyle::Normal, false), (FontStyle::Bold, true)] {
            if let Some(bytes) = crate::world::font_bytes(FONT, bold) {
                let _ = plotters::style::register_font(FONT, style, bytes);
            }
        }
    });
}

type ChartResult = Result<String, String>;

fn err(e: impl std::fmt::Display) -> String {
    format!("chart: {e}")
}

/// Grouped bars: the student's mean per term beside the class's (0–10).
pub fn term_averages(
    labels: &[String],
    student: &[Option<f64>],
    class: &[Option<f64>],
) -> ChartResult {
    register_fonts();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (520, 230)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let n = labels.len().max(1);
        let mut chart = ChartBuilder::on(&root)
            .margin(8)
            .x_label_area_size(26)
            .y_label_area_size(30)
            .build_cartesian_2d(0f64..n as f64, 0f64..10f64)
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(WHITE)
            .bold_line_style(RGBColor(0xe5, 0xe8, 0xec))
            .y_labels(6)
            .y_label_formatter(&|v| ptbr::format_decimal(*v, 0))
            .x_labels(2 * n + 1)
            .x_label_formatter(&|v| {
                let i = (*v - 0.5).round() as usize;
                if (*v - 0.5 - i as f64).abs() < 0.01 {
                    labels.get(i).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .label_style((FONT, 13))
            .axis_style(NEUTRAL)
            .draw()
            .map_err(err)?;
        let bar = |i: usize, off: f64, v: f64, c: RGBColor| {
            Rectangle::new(
                [(i as f64 + off, 0.0), (i as f64 + off + 0.3, v)],
                c.filled(),
            )
        };
        chart
            .draw_series(
                student
                    .iter()
                    .enumerate()
                    .filter_map(|(i, v)| v.map(|v| bar(i, 0.18, v, PRIMARY))),
            )
            .map_err(err)?
            .label("Aluno")
            .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], PRIMARY.filled()));
        chart
            .draw_series(
                class
                    .iter()
                    .enumerate()
                    .filter_map(|(i, v)| v.map(|v| bar(i, 0.52, v, NEUTRAL))),
            )
            .map_err(err)?
            .label("Média da turma")
            .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], NEUTRAL.filled()));
        // The passing line.
        chart
            .draw_series(LineSeries::new(
                [
                    (0.0, crate::card::PASS_GRADE),
                    (n as f64, crate::card::PASS_GRADE),
                ],
                DANGER.mix(0.6).stroke_width(1),
            ))
            .map_err(err)?;
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.9))
            .border_style(NEUTRAL)
            .label_font((FONT, 12))
            .draw()
            .map_err(err)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// Vertical bars with a label under each (counts), coloured per bar.
pub fn bars(
    labels: &[String],
    values: &[f64],
    colors: &[RGBColor],
    size: (u32, u32),
) -> ChartResult {
    register_fonts();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let n = labels.len().max(1);
        let top = values.iter().copied().fold(0.0, f64::max).max(1.0) * 1.15;
        let mut chart = ChartBuilder::on(&root)
            .margin(8)
            .x_label_area_size(24)
            .y_label_area_size(36)
            .build_cartesian_2d(0f64..n as f64, 0f64..top)
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(WHITE)
            .bold_line_style(RGBColor(0xe5, 0xe8, 0xec))
            .y_labels(5)
            .y_label_formatter(&|v| ptbr::format_number(v.round()))
            .x_labels(2 * n + 1)
            .x_label_formatter(&|v| {
                let i = (*v - 0.5).round() as usize;
                if (*v - 0.5 - i as f64).abs() < 0.01 {
                    labels.get(i).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .label_style((FONT, 12))
            .axis_style(NEUTRAL)
            .draw()
            .map_err(err)?;
        chart
            .draw_series(values.iter().enumerate().map(|(i, v)| {
                let c = colors
                    .get(i % colors.len().max(1))
                    .copied()
                    .unwrap_or(PRIMARY);
                Rectangle::new([(i as f64 + 0.15, 0.0), (i as f64 + 0.85, *v)], c.filled())
            }))
            .map_err(err)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// Lines over days: one series per (name, colour, values).
pub fn timeline(days: &[String], series: &[(&str, RGBColor, Vec<f64>)]) -> ChartResult {
    register_fonts();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (700, 260)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let n = days.len().max(2);
        let top = series
            .iter()
            .flat_map(|s| s.2.iter().copied())
            .fold(0.0, f64::max)
            .max(1.0)
            * 1.15;
        let mut chart = ChartBuilder::on(&root)
            .margin(8)
            .x_label_area_size(26)
            .y_label_area_size(40)
            .build_cartesian_2d(0f64..(n - 1) as f64, 0f64..top)
            .map_err(err)?;
        let step = (n / 8).max(1);
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(WHITE)
            .bold_line_style(RGBColor(0xe5, 0xe8, 0xec))
            .y_labels(5)
            .y_label_formatter(&|v| ptbr::format_number(v.round()))
            .x_labels(2 * n + 1)
            .x_label_formatter(&|v| {
                let i = v.round() as usize;
                if (v - i as f64).abs() < 0.01 && i.is_multiple_of(step) {
                    days.get(i).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .label_style((FONT, 12))
            .axis_style(NEUTRAL)
            .draw()
            .map_err(err)?;
        for (name, color, values) in series {
            let color = *color;
            chart
                .draw_series(LineSeries::new(
                    values.iter().enumerate().map(|(i, v)| (i as f64, *v)),
                    color.stroke_width(2),
                ))
                .map_err(err)?
                .label(*name)
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 14, y)], color.stroke_width(2))
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.9))
            .border_style(NEUTRAL)
            .label_font((FONT, 12))
            .draw()
            .map_err(err)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// A weekday (rows, Monday first) × hour (columns) heatmap of counts.
pub fn heatmap(counts: &[[u32; 24]; 7], first_hour: usize, last_hour: usize) -> ChartResult {
    register_fonts();
    const DAYS: [&str; 7] = ["seg", "ter", "qua", "qui", "sex", "sáb", "dom"];
    let hours = (last_hour.saturating_sub(first_hour) + 1).max(1);
    let (cell_w, cell_h, left, topm) = (28i32, 24i32, 44i32, 22i32);
    let size = (
        (left + cell_w * hours as i32 + 10) as u32,
        (topm + cell_h * 7 + 8) as u32,
    );
    let max = counts.iter().flatten().copied().max().unwrap_or(0).max(1) as f64;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let text = |s: &str, x: i32, y: i32| {
            Text::new(
                s.to_string(),
                (x, y),
                (FONT, 12).into_font().color(&BLACK.mix(0.75)),
            )
        };
        for h in 0..hours {
            root.draw(&text(
                &format!("{}h", first_hour + h),
                left + cell_w * h as i32 + 5,
                4,
            ))
            .map_err(err)?;
        }
        for (d, name) in DAYS.iter().enumerate() {
            let y = topm + cell_h * d as i32;
            root.draw(&text(name, 6, y + 5)).map_err(err)?;
            for h in 0..hours {
                let v = counts[d][first_hour + h] as f64 / max;
                let c = RGBColor(
                    (255.0 - v * (255.0 - PRIMARY.0 as f64)) as u8,
                    (255.0 - v * (255.0 - PRIMARY.1 as f64)) as u8,
                    (255.0 - v * (255.0 - PRIMARY.2 as f64)) as u8,
                );
                let x = left + cell_w * h as i32;
                root.draw(&Rectangle::new(
                    [(x, y), (x + cell_w - 2, y + cell_h - 2)],
                    c.filled(),
                ))
                .map_err(err)?;
                let n = counts[d][first_hour + h];
                if n > 0 {
                    let color = if v > 0.5 { WHITE } else { BLACK };
                    root.draw(&Text::new(
                        n.to_string(),
                        (x + 4, y + 5),
                        (FONT, 11).into_font().color(&color),
                    ))
                    .map_err(err)?;
                }
            }
        }
        root.present().map_err(err)?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_svg_with_their_labels() {
        let s = term_averages(
            &["1º bim".into(), "2º bim".into()],
            &[Some(8.5), None],
            &[Some(7.0), Some(6.5)],
        )
        .unwrap();
        assert!(s.starts_with("<svg"), "{s}");
        assert!(s.contains("Média da turma") && s.contains("1º bim"), "{s}");
        let mut counts = [[0u32; 24]; 7];
        counts[0][9] = 3;
        let h = heatmap(&counts, 7, 22).unwrap();
        assert!(
            h.contains("seg") && h.contains("dom") && h.contains("9h"),
            "{h}"
        );
    }
}

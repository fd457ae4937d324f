//! `occupancy_report`: the bookings Tarefa keeps from the booking platform's
//! events (`event_bookings`, migration 0012) starting in a period (tenant's
//! zone), optionally one resource: bookings and booked hours per resource
//! and per day, a weekday × hour heatmap of start times, the cancellation rate.
//! Cancelled bookings count in the rate, not in hours or the heatmap.

use chrono::{Days, NaiveDate};
use serde_json::{json, Value};

use jobs::kinds::reports::{Format, Params};

use crate::charts;
use crate::output::{Output, RenderCtx, RenderError};
use crate::tables::{Cell, ChartKind, ChartSpec, Sheet};
use crate::types::campaign::local_midnight;
use crate::types::class_report::finish_output;

const TEMPLATE: &str = include_str!("../../templates/occupancy_report.typ");

pub struct Occupancy {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// resource, bookings, hours, cancelled, days with a booking
    pub per_resource: Vec<(String, i64, f64, i64, i64)>,
    /// resource, day, bookings, hours
    pub per_day: Vec<(String, NaiveDate, i64, f64)>,
    /// day, bookings (all resources)
    pub daily: Vec<(NaiveDate, i64)>,
    /// [weekday Monday=0][hour]
    pub heat: [[u32; 24]; 7],
}

async fn load(ctx: &RenderCtx, p: &Params) -> Result<Occupancy, RenderError> {
    let (from, to) = match (p.from, p.to) {
        (Some(f), Some(t)) => (f, t),
        _ => {
            return Err(RenderError::Data(
                "params.from and params.to are required".into(),
            ))
        }
    };
    let start = local_midnight(ctx.tz, from);
    let end = local_midnight(ctx.tz, to + Days::new(1));
    let tz = ctx.tz.name();
    (ctx.progress)(0, 3).await;
    let filter = "tenant_id = $1 and start_time >= $2 and start_time < $3
                  and ($4::text is null or resource_id = $4)";
    let per_resource: Vec<(String, i64, f64, i64, i64)> = sqlx::query_as(&format!(
        "select coalesce(resource_id, '(sem recurso)'),
                count(*) filter (where not cancelled),
                coalesce(sum(extract(epoch from (end_time - start_time)) / 3600)
                    filter (where not cancelled and end_time > start_time), 0)::float8,
                count(*) filter (where cancelled),
                count(distinct (start_time at time zone $5)::date) filter (where not cancelled)
           from event_bookings where {filter}
          group by 1 order by 1"
    ))
    .bind(ctx.tenant)
    .bind(start)
    .bind(end)
    .bind(&p.resource)
    .bind(tz)
    .fetch_all(&ctx.pg)
    .await?;
    (ctx.progress)(1, 3).await;
    let per_day: Vec<(String, NaiveDate, i64, f64)> = sqlx::query_as(&format!(
        "select coalesce(resource_id, '(sem recurso)'), (start_time at time zone $5)::date,
                count(*),
                coalesce(sum(extract(epoch from (end_time - start_time)) / 3600)
                    filter (where end_time > start_time), 0)::float8
           from event_bookings where {filter} and not cancelled
          group by 1, 2 order by 1, 2"
    ))
    .bind(ctx.tenant)
    .bind(start)
    .bind(end)
    .bind(&p.resource)
    .bind(tz)
    .fetch_all(&ctx.pg)
    .await?;
    let heat_rows: Vec<(i32, i32, i64)> = sqlx::query_as(&format!(
        "select extract(isodow from start_time at time zone $5)::int4,
                extract(hour from start_time at time zone $5)::int4, count(*)
           from event_bookings where {filter} and not cancelled
          group by 1, 2"
    ))
    .bind(ctx.tenant)
    .bind(start)
    .bind(end)
    .bind(&p.resource)
    .bind(tz)
    .fetch_all(&ctx.pg)
    .await?;
    (ctx.progress)(3, 3).await;
    let mut heat = [[0u32; 24]; 7];
    for (dow, hour, n) in heat_rows {
        heat[(dow as usize).clamp(1, 7) - 1][(hour as usize).min(23)] += n as u32;
    }
    let mut daily: Vec<(NaiveDate, i64)> = from
        .iter_days()
        .take_while(|d| *d <= to)
        .map(|d| (d, 0))
        .collect();
    for (_, day, n, _) in &per_day {
        if let Some(e) = daily.iter_mut().find(|e| e.0 == *day) {
            e.1 += n;
        }
    }
    Ok(Occupancy {
        from,
        to,
        per_resource,
        per_day,
        daily,
        heat,
    })
}

fn hours(h: f64) -> String {
    ptbr::format_decimal(h, 1)
}

fn rate(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| 100.0 * part as f64 / whole as f64)
}

pub fn to_json(ctx: &RenderCtx, o: &Occupancy) -> Result<Value, RenderError> {
    let total: i64 = o.per_resource.iter().map(|r| r.1).sum();
    let cancelled: i64 = o.per_resource.iter().map(|r| r.3).sum();
    let booked: f64 = o.per_resource.iter().map(|r| r.2).sum();
    let (first, last) = {
        let hours: Vec<usize> = (0..24)
            .filter(|h| o.heat.iter().any(|d| d[*h] > 0))
            .collect();
        (
            hours.first().copied().unwrap_or(8).min(8),
            hours.last().copied().unwrap_or(18).max(18),
        )
    };
    let heat = charts::heatmap(&o.heat, first, last).map_err(RenderError::Chart)?;
    let daily = charts::timeline(
        &o.daily
            .iter()
            .map(|d| d.0.format("%d/%m").to_string())
            .collect::<Vec<_>>(),
        &[(
            "Reservas",
            charts::PRIMARY,
            o.daily.iter().map(|d| d.1 as f64).collect(),
        )],
    )
    .map_err(RenderError::Chart)?;
    let mut data = ctx.base_json();
    data.insert(
        "period".into(),
        format!(
            "{} a {}",
            ptbr::format_date(o.from),
            ptbr::format_date(o.to)
        )
        .into(),
    );
    data.insert("total".into(), ptbr::format_number(total as f64).into());
    data.insert("hours".into(), hours(booked).into());
    data.insert("cancelled".into(), cancelled.to_string().into());
    data.insert(
        "cancel_rate".into(),
        crate::card::pct(rate(cancelled, total + cancelled)).into(),
    );
    data.insert("resources".into(), o.per_resource.len().to_string().into());
    data.insert("daily_chart".into(), daily.into());
    data.insert("heatmap".into(), heat.into());
    data.insert(
        "per_resource".into(),
        Value::Array(
            o.per_resource
                .iter()
                .map(|r| {
                    json!([
                        r.0,
                        r.1.to_string(),
                        hours(r.2),
                        r.3.to_string(),
                        crate::card::pct(rate(r.3, r.1 + r.3)),
                        r.4.to_string()
                    ])
                })
                .collect(),
        ),
    );
    data.insert(
        "per_day".into(),
        Value::Array(
            o.per_day
                .iter()
                .map(|r| json!([r.0, ptbr::format_date(r.1), r.2.to_string(), hours(r.3)]))
                .collect(),
        ),
    );
    Ok(Value::Object(data))
}

pub fn to_sheets(o: &Occupancy) -> Vec<Sheet> {
    let mut per_day = Sheet::new(
        "Por recurso e dia",
        &["Recurso", "Dia", "Reservas", "Horas"],
    );
    per_day.widths = vec![24.0, 12.0];
    for r in &o.per_day {
        per_day.rows.push(vec![
            Cell::text(&r.0),
            Cell::text(ptbr::format_date(r.1)),
            Cell::Int(r.2),
            Cell::Num(r.3, 1),
        ]);
    }
    let mut res = Sheet::new(
        "Por recurso",
        &[
            "Recurso",
            "Reservas",
            "Horas",
            "Canceladas",
            "Cancelamento (%)",
            "Dias com reserva",
        ],
    );
    res.widths = vec![24.0];
    for r in &o.per_resource {
        res.rows.push(vec![
            Cell::text(&r.0),
            Cell::Int(r.1),
            Cell::Num(r.2, 1),
            Cell::Int(r.3),
            Cell::opt_pct(rate(r.3, r.1 + r.3)),
            Cell::Int(r.4),
        ]);
    }
    res.chart = Some(ChartSpec {
        title: "Horas reservadas por recurso".into(),
        kind: ChartKind::Column,
        categories: 0,
        series: vec![2],
    });
    let mut heat_head = vec!["Dia da semana".to_string()];
    heat_head.extend((0..24).map(|h| format!("{h}h")));
    let mut heat = Sheet::new("Mapa de calor", &[]);
    heat.header = heat_head;
    heat.widths = vec![14.0];
    for (d, name) in [
        "segunda", "terça", "quarta", "quinta", "sexta", "sábado", "domingo",
    ]
    .iter()
    .enumerate()
    {
        let mut row = vec![Cell::text(*name)];
        row.extend(o.heat[d].iter().map(|n| Cell::Int(*n as i64)));
        heat.rows.push(row);
    }
    let mut daily = Sheet::new("Por dia", &["Dia", "Reservas"]);
    for d in &o.daily {
        daily
            .rows
            .push(vec![Cell::text(ptbr::format_date(d.0)), Cell::Int(d.1)]);
    }
    daily.chart = Some(ChartSpec {
        title: "Reservas por dia".into(),
        kind: ChartKind::Line,
        categories: 0,
        series: vec![1],
    });
    vec![per_day, res, heat, daily]
}

pub async fn render(ctx: &RenderCtx, p: &Params, format: Format) -> Result<Output, RenderError> {
    let o = load(ctx, p).await?;
    ctx.check_cancel()?;
    let name = format!("relatorio-ocupacao-{}-a-{}", o.from, o.to);
    finish_output(
        ctx,
        format,
        &name,
        TEMPLATE,
        to_json(ctx, &o)?,
        to_sheets(&o),
    )
    .await
}

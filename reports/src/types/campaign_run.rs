//! `campaign_report` of one WhatsApp campaign (`params.campaign`): the
//! funnel sent → delivered → read → replied, failures by Meta error code,
//! skips by reason, counts per recipient status, the timeline (per minute
//! when the campaign's activity spans at most three hours, else per day in
//! the tenant's zone) and the cost. Every number comes from
//! `jobs::kinds::campaigns::metrics` (`compute`, `series`), the same the
//! campaign's API shows; nothing is re-queried here.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde_json::{json, Value};
use uuid::Uuid;

use jobs::kinds::campaigns::metrics::{self, Metrics, Minute};
use jobs::kinds::campaigns::{lifecycle, model::Campaign};
use jobs::kinds::reports::Format;

use crate::charts;
use crate::output::{Output, RenderCtx, RenderError};
use crate::tables::{Cell, ChartKind, ChartSpec, Sheet};
use crate::types::class_report::finish_output;

const TEMPLATE: &str = include_str!("../../templates/campaign_run.typ");
/// Activity spanning at most this many minutes is charted per minute.
const PER_MINUTE_SPAN: i64 = 180;
/// Upper bound of per-minute rows read (a year of minutes with activity).
const MAX_MINUTES: i64 = 527_040;

/// The recipient status as the report prints it.
pub fn status_label(s: &str) -> &'static str {
    match s {
        "queued" => "Na fila",
        "dispatched" => "Despachada",
        "sending" => "Enviando",
        "sent" => "Enviada",
        "delivered" => "Entregue",
        "read" => "Lida",
        "failed" => "Falhou",
        "skipped" => "Pulada",
        "deferred" => "Adiada",
        "cancelled" => "Cancelada",
        _ => "Incerta",
    }
}

pub struct Run {
    pub campaign: Campaign,
    pub template: String,
    pub metrics: Metrics,
    pub minutes: Vec<Minute>,
}

/// One timeline point: label, sent, delivered, read, failed.
pub type Point = (String, i64, i64, i64, i64);

async fn load(ctx: &RenderCtx, id: Uuid) -> Result<Run, RenderError> {
    (ctx.progress)(0, 2).await;
    let campaign = lifecycle::get(&ctx.pg, ctx.tenant, id)
        .await?
        .ok_or_else(|| RenderError::Data(format!("no campaign {id}")))?;
    let template = lifecycle::template_by_id(&ctx.pg, campaign.template_id).await?;
    let metrics = metrics::compute(&ctx.pg, &ctx.campaigns, &campaign, &template.category).await?;
    (ctx.progress)(1, 2).await;
    let minutes = metrics::series(&ctx.pg, id, MAX_MINUTES).await?;
    (ctx.progress)(2, 2).await;
    Ok(Run {
        campaign,
        template: format!("{} ({})", template.name, template.category),
        metrics,
        minutes,
    })
}

/// The timeline: per minute (`HH:MM` local) for a short campaign, else per local day.
pub fn timeline(ctx: &RenderCtx, minutes: &[Minute]) -> (bool, Vec<Point>) {
    let span = match (minutes.first(), minutes.last()) {
        (Some(a), Some(b)) => (b.minute - a.minute).num_minutes(),
        _ => 0,
    };
    if span <= PER_MINUTE_SPAN {
        let pts = minutes
            .iter()
            .map(|m| {
                (
                    m.minute.with_timezone(&ctx.tz).format("%H:%M").to_string(),
                    m.sent,
                    m.delivered,
                    m.read,
                    m.failed,
                )
            })
            .collect();
        return (true, pts);
    }
    let mut days: BTreeMap<NaiveDate, [i64; 4]> = BTreeMap::new();
    for m in minutes {
        let d = days
            .entry(m.minute.with_timezone(&ctx.tz).date_naive())
            .or_default();
        d[0] += m.sent;
        d[1] += m.delivered;
        d[2] += m.read;
        d[3] += m.failed;
    }
    let pts = days
        .into_iter()
        .map(|(d, v)| (ptbr::format_date(d), v[0], v[1], v[2], v[3]))
        .collect();
    (false, pts)
}

fn n(x: i64) -> String {
    ptbr::format_number(x as f64)
}

fn pct(r: f64) -> String {
    format!("{}%", ptbr::format_decimal(100.0 * r, 1))
}

fn money(currency: &str, x: f64) -> String {
    format!("{currency} {}", ptbr::format_decimal(x, 2))
}

pub fn to_json(ctx: &RenderCtx, r: &Run) -> Result<Value, RenderError> {
    let m = &r.metrics;
    let funnel = charts::bars(
        &["Enviadas", "Entregues", "Lidas", "Respondidas"].map(String::from),
        &[
            m.sent as f64,
            m.delivered as f64,
            m.read as f64,
            m.replied as f64,
        ],
        &[
            charts::PRIMARY,
            charts::ACCENT,
            charts::GOOD,
            charts::NEUTRAL,
        ],
        (600, 220),
    )
    .map_err(RenderError::Chart)?;
    let (per_minute, pts) = timeline(ctx, &r.minutes);
    let labels: Vec<String> = pts.iter().map(|p| p.0.clone()).collect();
    let timeline = charts::timeline(
        &labels,
        &[
            (
                "Enviadas",
                charts::PRIMARY,
                pts.iter().map(|p| p.1 as f64).collect(),
            ),
            (
                "Entregues",
                charts::ACCENT,
                pts.iter().map(|p| p.2 as f64).collect(),
            ),
            (
                "Lidas",
                charts::GOOD,
                pts.iter().map(|p| p.3 as f64).collect(),
            ),
            (
                "Falhas",
                charts::DANGER,
                pts.iter().map(|p| p.4 as f64).collect(),
            ),
        ],
    )
    .map_err(RenderError::Chart)?;
    let c = &r.campaign;
    let mut data = ctx.base_json();
    data.insert("name".into(), c.name.clone().into());
    data.insert(
        "scope".into(),
        format!(
            "Modelo: {} · estado: {} · número: {}",
            r.template, c.state, c.sender_phone_number_id
        )
        .into(),
    );
    data.insert("recipients".into(), n(m.recipients).into());
    data.insert(
        "sent".into(),
        format!("{} ({})", n(m.sent), pct(m.progress)).into(),
    );
    data.insert(
        "delivered".into(),
        format!("{} ({})", n(m.delivered), pct(m.delivery_rate)).into(),
    );
    data.insert(
        "read".into(),
        format!("{} ({})", n(m.read), pct(m.read_rate)).into(),
    );
    data.insert(
        "replied".into(),
        format!("{} ({})", n(m.replied), pct(m.reply_rate)).into(),
    );
    let failed = m.by_status.get("failed").copied().unwrap_or(0);
    data.insert("failed".into(), n(failed).into());
    data.insert("cost".into(), money(&m.cost.currency, m.cost.actual).into());
    data.insert(
        "cost_note".into(),
        format!(
            "Custo: {} por mensagem (tabela de {}); real {} pelo que foi enviado, estimado {} com o que falta enviar.",
            money(&m.cost.currency, m.cost.price_per_message),
            m.cost.prices_date,
            money(&m.cost.currency, m.cost.actual),
            money(&m.cost.currency, m.cost.estimated),
        )
        .into(),
    );
    data.insert("funnel_chart".into(), funnel.into());
    data.insert("timeline_chart".into(), timeline.into());
    data.insert(
        "timeline_title".into(),
        if per_minute {
            "Linha do tempo (por minuto)"
        } else {
            "Linha do tempo (por dia)"
        }
        .into(),
    );
    data.insert(
        "statuses".into(),
        Value::Array(
            m.by_status
                .iter()
                .filter(|(_, k)| **k > 0)
                .map(|(s, k)| json!([status_label(s), n(*k)]))
                .collect(),
        ),
    );
    data.insert(
        "failures".into(),
        Value::Array(
            m.failed_by_code
                .iter()
                .map(|(code, k)| json!([code_label(code), n(*k)]))
                .collect(),
        ),
    );
    data.insert(
        "skipped".into(),
        Value::Array(
            m.skipped_by_reason
                .iter()
                .map(|(why, k)| json!([why, n(*k)]))
                .collect(),
        ),
    );
    Ok(Value::Object(data))
}

fn code_label(code: &str) -> String {
    if code == "none" {
        "(sem código)".into()
    } else {
        format!("Meta {code}")
    }
}

pub fn to_sheets(ctx: &RenderCtx, r: &Run) -> Vec<Sheet> {
    let m = &r.metrics;
    let mut minutes = Sheet::new(
        "Por minuto",
        &["Minuto", "Enviadas", "Entregues", "Lidas", "Falhas"],
    );
    minutes.widths = vec![18.0];
    for p in &r.minutes {
        minutes.rows.push(vec![
            Cell::text(
                p.minute
                    .with_timezone(&ctx.tz)
                    .format("%d/%m/%Y %H:%M")
                    .to_string(),
            ),
            Cell::Int(p.sent),
            Cell::Int(p.delivered),
            Cell::Int(p.read),
            Cell::Int(p.failed),
        ]);
    }
    let (_, pts) = timeline(ctx, &r.minutes);
    let mut line = Sheet::new(
        "Linha do tempo",
        &["Quando", "Enviadas", "Entregues", "Lidas", "Falhas"],
    );
    line.widths = vec![12.0];
    for p in pts {
        line.rows.push(vec![
            Cell::text(p.0),
            Cell::Int(p.1),
            Cell::Int(p.2),
            Cell::Int(p.3),
            Cell::Int(p.4),
        ]);
    }
    line.chart = Some(ChartSpec {
        title: "Linha do tempo".into(),
        kind: ChartKind::Line,
        categories: 0,
        series: vec![1, 2, 3, 4],
    });
    let mut funnel = Sheet::new("Funil", &["Etapa", "Mensagens", "Taxa (%)"]);
    for (label, v, rate) in [
        ("Enviadas", m.sent, None),
        ("Entregues", m.delivered, Some(m.delivery_rate)),
        ("Lidas", m.read, Some(m.read_rate)),
        ("Respondidas", m.replied, Some(m.reply_rate)),
    ] {
        funnel.rows.push(vec![
            Cell::text(label),
            Cell::Int(v),
            Cell::opt_pct(rate.map(|r| 100.0 * r)),
        ]);
    }
    funnel.chart = Some(ChartSpec {
        title: "Funil".into(),
        kind: ChartKind::Column,
        categories: 0,
        series: vec![1],
    });
    let mut fails = Sheet::new("Falhas", &["Código Meta", "Destinatários"]);
    fails.widths = vec![20.0];
    for (code, k) in &m.failed_by_code {
        fails
            .rows
            .push(vec![Cell::text(code_label(code)), Cell::Int(*k)]);
    }
    let mut status = Sheet::new("Status", &["Status", "Destinatários"]);
    for (s, k) in &m.by_status {
        status
            .rows
            .push(vec![Cell::text(status_label(s)), Cell::Int(*k)]);
    }
    let mut cost = Sheet::new("Custo", &["Item", "Valor"]);
    cost.widths = vec![28.0];
    for (label, v) in [
        ("Preço por mensagem", Cell::Num(m.cost.price_per_message, 4)),
        ("Custo real", Cell::Num(m.cost.actual, 4)),
        ("Custo estimado", Cell::Num(m.cost.estimated, 4)),
    ] {
        cost.rows.push(vec![Cell::text(label), v]);
    }
    cost.rows
        .push(vec![Cell::text("Moeda"), Cell::text(&m.cost.currency)]);
    cost.rows.push(vec![
        Cell::text("Tabela de preços de"),
        Cell::text(&m.cost.prices_date),
    ]);
    vec![minutes, line, funnel, fails, status, cost]
}

pub async fn render(ctx: &RenderCtx, id: Uuid, format: Format) -> Result<Output, RenderError> {
    let r = load(ctx, id).await?;
    ctx.check_cancel()?;
    let name = format!(
        "relatorio-campanha-{}",
        crate::output::slug(&r.campaign.name)
    );
    finish_output(
        ctx,
        format,
        &name,
        TEMPLATE,
        to_json(ctx, &r)?,
        to_sheets(ctx, &r),
    )
    .await
}

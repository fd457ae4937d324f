//! `campaign_report` over a period: the notification outbox (migration
//! 0003) in the tenant's zone, optionally one channel: the funnel sent →
//! delivered → read, counts per channel and status, failures by reason, a
//! daily timeline. Replies and cost are not recorded by the outbox; the
//! report says so. With `params.campaign` the report is one campaign's
//! instead (`campaign_run`: replies, Meta codes, cost).

use chrono::{Days, NaiveDate, TimeZone};
use serde_json::{json, Value};

use jobs::kinds::reports::{Format, Params};

use crate::charts;
use crate::output::{Output, RenderCtx, RenderError};
use crate::tables::{Cell, ChartKind, ChartSpec, Sheet};
use crate::types::class_report::finish_output;

const TEMPLATE: &str = include_str!("../../templates/campaign_report.typ");
const STATUSES: [&str; 8] = [
    "queued",
    "sending",
    "sent",
    "delivered",
    "read",
    "failed",
    "suppressed",
    "unknown",
];

/// The outbox status as the report prints it.
fn status_label(s: &str) -> &'static str {
    match s {
        "queued" => "Na fila",
        "sending" => "Enviando",
        "sent" => "Enviada",
        "delivered" => "Entregue",
        "read" => "Lida",
        "failed" => "Falhou",
        "suppressed" => "Suprimida",
        _ => "Incerta",
    }
}

pub struct Campaign {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub channel: Option<String>,
    /// channel, status, count
    pub by_channel: Vec<(String, String, i64)>,
    pub total: i64,
    pub sent: i64,
    pub delivered: i64,
    pub read: i64,
    pub failed: i64,
    /// reason, channel, count
    pub failures: Vec<(String, String, i64)>,
    /// day, created, sent, failed
    pub days: Vec<(NaiveDate, i64, i64, i64)>,
}

/// The UTC instant of local midnight starting `d` in the tenant's zone.
pub fn local_midnight(tz: chrono_tz::Tz, d: NaiveDate) -> chrono::DateTime<chrono::Utc> {
    let naive = d.and_hms_opt(0, 0, 0).expect("midnight exists");
    tz.from_local_datetime(&naive)
        .earliest()
        .unwrap_or_else(|| chrono::Utc.from_utc_datetime(&naive).with_timezone(&tz))
        .with_timezone(&chrono::Utc)
}

async fn load(ctx: &RenderCtx, p: &Params) -> Result<Campaign, RenderError> {
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
    let by_channel: Vec<(String, String, i64)> = sqlx::query_as(
        "select channel, status, count(*) from notifications
          where tenant_id = $1 and created_at >= $2 and created_at < $3
            and ($4::text is null or channel = $4)
          group by channel, status order by channel, status",
    )
    .bind(ctx.tenant)
    .bind(start)
    .bind(end)
    .bind(&p.channel)
    .fetch_all(&ctx.pg)
    .await?;
    let (total, sent, delivered, read, failed): (i64, i64, i64, i64, i64) = sqlx::query_as(
        "select count(*),
                count(*) filter (where sent_at is not null or status in ('sent', 'delivered', 'read')),
                count(*) filter (where delivered_at is not null or status in ('delivered', 'read')),
                count(*) filter (where read_at is not null or status = 'read'),
                count(*) filter (where status = 'failed')
           from notifications
          where tenant_id = $1 and created_at >= $2 and created_at < $3
            and ($4::text is null or channel = $4)",
    )
    .bind(ctx.tenant)
    .bind(start)
    .bind(end)
    .bind(&p.channel)
    .fetch_one(&ctx.pg)
    .await?;
    (ctx.progress)(1, 3).await;
    let failures: Vec<(String, String, i64)> = sqlx::query_as(
        "select coalesce(nullif(last_error, ''), '(sem motivo registrado)'), channel, count(*)
           from notifications
          where tenant_id = $1 and created_at >= $2 and created_at < $3
            and ($4::text is null or channel = $4) and status = 'failed'
          group by 1, 2 order by 3 desc, 1 limit 50",
    )
    .bind(ctx.tenant)
    .bind(start)
    .bind(end)
    .bind(&p.channel)
    .fetch_all(&ctx.pg)
    .await?;
    let days: Vec<(NaiveDate, i64, i64, i64)> = sqlx::query_as(
        "select d::date,
                count(n.id),
                count(n.id) filter (where n.sent_at is not null or n.status in ('sent', 'delivered', 'read')),
                count(n.id) filter (where n.status = 'failed')
           from generate_series($5::date, $6::date, interval '1 day') d
           left join notifications n
             on n.tenant_id = $1 and n.created_at >= $2 and n.created_at < $3
            and ($4::text is null or n.channel = $4)
            and (n.created_at at time zone $7)::date = d::date
          group by d order by d",
    )
    .bind(ctx.tenant)
    .bind(start)
    .bind(end)
    .bind(&p.channel)
    .bind(from)
    .bind(to)
    .bind(tz)
    .fetch_all(&ctx.pg)
    .await?;
    (ctx.progress)(3, 3).await;
    Ok(Campaign {
        from,
        to,
        channel: p.channel.clone(),
        by_channel,
        total,
        sent,
        delivered,
        read,
        failed,
        failures,
        days,
    })
}

fn n(x: i64) -> String {
    ptbr::format_number(x as f64)
}

fn rate(part: i64, whole: i64) -> String {
    if whole == 0 {
        "—".into()
    } else {
        format!(
            "{}%",
            ptbr::format_decimal(100.0 * part as f64 / whole as f64, 1)
        )
    }
}

fn channels(c: &Campaign) -> Vec<String> {
    let mut v: Vec<String> = c.by_channel.iter().map(|r| r.0.clone()).collect();
    v.dedup();
    v
}

fn count(c: &Campaign, channel: &str, status: &str) -> i64 {
    c.by_channel
        .iter()
        .find(|r| r.0 == channel && r.1 == status)
        .map_or(0, |r| r.2)
}

pub fn to_json(ctx: &RenderCtx, c: &Campaign) -> Result<Value, RenderError> {
    let funnel = charts::bars(
        &["Criadas", "Enviadas", "Entregues", "Lidas", "Respondidas"].map(String::from),
        &[
            c.total as f64,
            c.sent as f64,
            c.delivered as f64,
            c.read as f64,
            0.0,
        ],
        &[
            charts::NEUTRAL,
            charts::PRIMARY,
            charts::ACCENT,
            charts::GOOD,
            charts::NEUTRAL,
        ],
        (600, 220),
    )
    .map_err(RenderError::Chart)?;
    let labels: Vec<String> = c
        .days
        .iter()
        .map(|d| d.0.format("%d/%m").to_string())
        .collect();
    let timeline = charts::timeline(
        &labels,
        &[
            (
                "Criadas",
                charts::NEUTRAL,
                c.days.iter().map(|d| d.1 as f64).collect(),
            ),
            (
                "Enviadas",
                charts::PRIMARY,
                c.days.iter().map(|d| d.2 as f64).collect(),
            ),
            (
                "Falhas",
                charts::DANGER,
                c.days.iter().map(|d| d.3 as f64).collect(),
            ),
        ],
    )
    .map_err(RenderError::Chart)?;
    let mut header = vec!["Canal".to_string()];
    header.extend(STATUSES.iter().map(|s| status_label(s).to_string()));
    header.push("Total".into());
    let rows: Vec<Value> = channels(c)
        .iter()
        .map(|ch| {
            let mut row = vec![ch.clone()];
            let mut t = 0;
            for s in STATUSES {
                let k = count(c, ch, s);
                t += k;
                row.push(n(k));
            }
            row.push(n(t));
            json!(row)
        })
        .collect();
    let mut data = ctx.base_json();
    data.insert(
        "period".into(),
        format!(
            "{} a {}",
            ptbr::format_date(c.from),
            ptbr::format_date(c.to)
        )
        .into(),
    );
    data.insert(
        "scope".into(),
        match &c.channel {
            Some(ch) => format!("Canal: {ch} · origem: fila de notificações"),
            None => "Todos os canais · origem: fila de notificações".into(),
        }
        .into(),
    );
    data.insert("total".into(), n(c.total).into());
    data.insert(
        "sent".into(),
        format!("{} ({})", n(c.sent), rate(c.sent, c.total)).into(),
    );
    data.insert(
        "delivered".into(),
        format!("{} ({})", n(c.delivered), rate(c.delivered, c.sent)).into(),
    );
    data.insert(
        "read".into(),
        format!("{} ({})", n(c.read), rate(c.read, c.delivered)).into(),
    );
    data.insert("failed".into(), n(c.failed).into());
    data.insert("funnel_chart".into(), funnel.into());
    data.insert(
        "funnel_note".into(),
        "Respostas e custo por mensagem não são registrados pela fila de notificações; o relatório de uma campanha (params.campaign) os mostra.".into(),
    );
    data.insert("channel_header".into(), json!(header));
    data.insert("channels".into(), Value::Array(rows));
    data.insert("timeline_chart".into(), timeline.into());
    data.insert(
        "failures".into(),
        Value::Array(
            c.failures
                .iter()
                .map(|f| json!([f.0, f.1, n(f.2)]))
                .collect(),
        ),
    );
    Ok(Value::Object(data))
}

pub fn to_sheets(c: &Campaign) -> Vec<Sheet> {
    let mut days = Sheet::new("Por dia", &["Dia", "Criadas", "Enviadas", "Falhas"]);
    days.widths = vec![12.0];
    for d in &c.days {
        days.rows.push(vec![
            Cell::text(ptbr::format_date(d.0)),
            Cell::Int(d.1),
            Cell::Int(d.2),
            Cell::Int(d.3),
        ]);
    }
    days.chart = Some(ChartSpec {
        title: "Envios por dia".into(),
        kind: ChartKind::Line,
        categories: 0,
        series: vec![1, 2, 3],
    });
    let mut funnel = Sheet::new("Funil", &["Etapa", "Mensagens", "Taxa (%)"]);
    for (label, v, base) in [
        ("Criadas", c.total, c.total),
        ("Enviadas", c.sent, c.total),
        ("Entregues", c.delivered, c.sent),
        ("Lidas", c.read, c.delivered),
        ("Falhas", c.failed, c.total),
    ] {
        funnel.rows.push(vec![
            Cell::text(label),
            Cell::Int(v),
            if base == 0 {
                Cell::Empty
            } else {
                Cell::Pct(100.0 * v as f64 / base as f64)
            },
        ]);
    }
    funnel.chart = Some(ChartSpec {
        title: "Funil".into(),
        kind: ChartKind::Column,
        categories: 0,
        series: vec![1],
    });
    let mut head = vec!["Canal"];
    head.extend(STATUSES.map(status_label));
    head.push("Total");
    let mut by = Sheet::new("Por canal", &head);
    for ch in channels(c) {
        let mut row = vec![Cell::text(&ch)];
        let mut t = 0;
        for s in STATUSES {
            let k = count(c, &ch, s);
            t += k;
            row.push(Cell::Int(k));
        }
        row.push(Cell::Int(t));
        by.rows.push(row);
    }
    let mut fails = Sheet::new("Falhas", &["Motivo", "Canal", "Mensagens"]);
    fails.widths = vec![60.0];
    for f in &c.failures {
        fails
            .rows
            .push(vec![Cell::text(&f.0), Cell::text(&f.1), Cell::Int(f.2)]);
    }
    vec![days, funnel, by, fails]
}

pub async fn render(ctx: &RenderCtx, p: &Params, format: Format) -> Result<Output, RenderError> {
    if let Some(id) = p.campaign {
        return crate::types::campaign_run::render(ctx, id, format).await;
    }
    let c = load(ctx, p).await?;
    ctx.check_cancel()?;
    let name = format!("relatorio-envios-{}-a-{}", c.from, c.to);
    finish_output(
        ctx,
        format,
        &name,
        TEMPLATE,
        to_json(ctx, &c)?,
        to_sheets(&c),
    )
    .await
}

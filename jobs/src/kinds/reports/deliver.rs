//! Scheduled reports: the `reports.scheduled` kind, which a tenant schedule
//! (`/v1/schedules`, cron + time zone, migration 0002) pushes with a report
//! request and e-mail recipients; it submits the report with `deliver_to`.
//! When the render is done, [`deliver`] e-mails the file through the
//! notification outbox — attached up to `attach_max_bytes`, else a signed
//! link — once per report and recipient (the outbox dedups on the key).

use std::time::Duration;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use utoipa::ToSchema;

use super::model::{Report, ReportRequest};
use super::{link, submit, ReportsSettings, SubmitError, QUEUE};
use crate::channels::Attachment;
use crate::engine::Engine;
use crate::kinds::notify::outbox;
use crate::kinds::notify::{ChannelName, MessageSpec, NotificationRequest, RecipientSpec};
use crate::kinds::{FieldError, JobContext, JobError, JobKind, KindPolicy};

pub const SCHEDULED: &str = "reports.scheduled";
const MAX_RECIPIENTS: usize = 50;

/// `reports.scheduled`: render `report` and e-mail it to `recipients`.
pub struct Scheduled;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduledPayload {
    pub report: ReportRequest,
    /// E-mail addresses (1-50).
    pub recipients: Vec<String>,
}

fn email_ok(s: &str) -> bool {
    let s = s.trim();
    match s.split_once('@') {
        Some((user, host)) => {
            !user.is_empty()
                && host.contains('.')
                && !host.starts_with('.')
                && !host.ends_with('.')
                && !s.chars().any(|c| c.is_whitespace() || c == ',' || c == ';')
                && s.len() <= 254
        }
        None => false,
    }
}

impl JobKind for Scheduled {
    const NAME: &'static str = SCHEDULED;
    type Payload = ScheduledPayload;

    fn policy() -> KindPolicy {
        KindPolicy {
            timeout: Duration::from_secs(30),
            // Personal data (recipients' e-mail addresses): sealed at rest.
            encrypt: true,
            ..KindPolicy::new(QUEUE)
        }
    }

    fn validate(p: &ScheduledPayload) -> Result<(), FieldError> {
        p.report
            .validate()
            .map_err(|e| FieldError::new(format!("report.{}", e.path), e.message))?;
        if p.recipients.is_empty() || p.recipients.len() > MAX_RECIPIENTS {
            return Err(FieldError::new("recipients", "give 1-50 e-mail addresses"));
        }
        for (i, r) in p.recipients.iter().enumerate() {
            if !email_ok(r) {
                return Err(FieldError::new(
                    format!("recipients[{i}]"),
                    "not an e-mail address",
                ));
            }
        }
        Ok(())
    }

    async fn run(p: ScheduledPayload, ctx: JobContext) -> Result<serde_json::Value, JobError> {
        let pg = ctx
            .resources
            .pg
            .clone()
            .ok_or_else(|| JobError::permanent("no database configured"))?;
        let tenant = ctx
            .tenant
            .parse()
            .map_err(|_| JobError::permanent("the job's tenant is not a tenant id"))?;
        let to: Vec<String> = p.recipients.iter().map(|r| r.trim().to_string()).collect();
        let (r, new) = submit(
            &pg,
            &ctx.resources.engine,
            &ctx.resources.settings.reports,
            tenant,
            &p.report,
            &to,
            ctx.traceparent_for_child(),
        )
        .await
        .map_err(|e| match e {
            SubmitError::Invalid(f) => JobError::permanent(format!("bad report: {f}")),
            e => JobError::retryable(e.to_string()),
        })?;
        Ok(serde_json::json!({ "report_id": r.id, "new": new }))
    }
}

/// Why a delivery could not be queued.
#[derive(Debug, thiserror::Error)]
pub enum DeliverError {
    #[error(transparent)]
    Outbox(#[from] outbox::EnqueueError),
    #[error("postgres: {0}")]
    Db(#[from] sqlx::Error),
}

fn label(r: &Report) -> &'static str {
    match r.report_type.as_str() {
        "student_report_card" => "Boletim escolar",
        "class_report" => "Relatório da turma",
        "campaign_report" => "Relatório de envios",
        "occupancy_report" => "Relatório de ocupação",
        _ => "Relatório",
    }
}

/// E-mails a done report's file to its `deliver_to` (nothing if empty).
/// Returns how many messages were queued.
pub async fn deliver(
    pg: &PgPool,
    engine: &Engine,
    settings: &ReportsSettings,
    school: &str,
    r: &Report,
    file: &[u8],
) -> Result<usize, DeliverError> {
    if r.deliver_to.is_empty() {
        return Ok(0);
    }
    let name = r
        .file_name
        .clone()
        .unwrap_or_else(|| format!("relatorio.{}", r.format));
    let title = format!("{} — {school}", label(r));
    let mut msg = MessageSpec {
        subject: Some(title.clone()),
        ..Default::default()
    };
    let size = ptbr::format_decimal(file.len() as f64 / 1024.0, 0);
    if (file.len() as i64) <= settings.attach_max_bytes {
        msg.text = Some(format!(
            "Olá,\n\nSegue em anexo: {title} ({name}, {size} KB).\n\nMensagem automática do Tarefa."
        ));
        msg.attachments = vec![Attachment {
            filename: name,
            content_type: r
                .file_format()
                .map_or("application/octet-stream", |f| f.content_type())
                .to_string(),
            content_base64: base64::engine::general_purpose::STANDARD.encode(file),
        }];
    } else {
        let link = match settings.url_secret() {
            Some(secret) => {
                let expires = chrono::Utc::now().timestamp() + settings.link_ttl_secs;
                format!(
                    "{}{}",
                    settings.public_base_url.trim_end_matches('/'),
                    link::path(&secret, r.tenant_id, r.id, expires)
                )
            }
            None => "(disponível no console do Tarefa, em Relatórios)".into(),
        };
        msg.text = Some(format!(
            "Olá,\n\n{title} ({name}, {size} KB) está pronto. O arquivo é grande demais para anexar; baixe-o em:\n{link}\n\nO link expira em {} dias.\n\nMensagem automática do Tarefa.",
            settings.link_ttl_secs / 86400
        ));
    }
    let req = NotificationRequest {
        channel: ChannelName::Email,
        recipient: None,
        dedup_key: None,
        recipients: r
            .deliver_to
            .iter()
            .map(|to| RecipientSpec {
                recipient: to.clone(),
                dedup_key: format!("report:{}:{to}", r.id),
                data: Default::default(),
            })
            .collect(),
        message: msg,
        urgent: false,
    };
    let queued = outbox::enqueue(pg, engine, r.tenant_id, &req).await?;
    super::sql::mark_delivered(pg, r.id).await?;
    Ok(queued.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipients_must_be_addresses() {
        let ok = ScheduledPayload {
            report: serde_json::from_value(serde_json::json!({
                "type": "class_report", "format": "pdf", "params": {"year": 2026, "class": "9A"}
            }))
            .unwrap(),
            recipients: vec!["coord@escola.com.br".into()],
        };
        assert!(Scheduled::validate(&ok).is_ok());
        let mut bad = ok.clone();
        bad.recipients.push("coord escola".into());
        assert_eq!(Scheduled::validate(&bad).unwrap_err().path, "recipients[1]");
        let mut none = ok.clone();
        none.recipients.clear();
        assert_eq!(Scheduled::validate(&none).unwrap_err().path, "recipients");
        let mut badreq = ok;
        badreq.report.format = "doc".into();
        assert_eq!(
            Scheduled::validate(&badreq).unwrap_err().path,
            "report.format"
        );
    }
}

//! The production [`EntryHandler`]: an entry becomes an event of the tenant
//! its `metadata.tenant_id` maps to (`tenant_external_ids`, per stream
//! `source`). One entry: `jobs::kinds::events::ingest` (a transaction); a
//! read batch: `jobs::kinds::events::batch` (one transaction for all). Then
//! the tenant webhooks of the recorded events (also for duplicates: a crash
//! between the commit and the push is repaired by the re-delivery).

use std::collections::HashMap;

use chrono::Utc;
use futures::future::BoxFuture;
use jobs::kinds::events::{ingest, sql, Event, IngestError, Source};
use sqlx::PgPool;
use uuid::Uuid;

use super::{Entry, EntryHandler, HandleError};

/// Records the entry as an event of the tenant its `metadata.tenant_id` maps to.
pub struct Ingest {
    pub pool: PgPool,
    /// `tenant_external_ids.source`.
    pub source: String,
    /// Pushes the tenant webhooks of recorded events (`None`: no webhooks).
    pub engine: Option<jobs::engine::Engine>,
}

impl EntryHandler for Ingest {
    fn handle(
        &self,
        stream: &str,
        entry_id: &str,
        fields: &[(String, String)],
    ) -> BoxFuture<'_, Result<(), HandleError>> {
        let (stream, entry_id, fields) =
            (stream.to_string(), entry_id.to_string(), fields.to_vec());
        Box::pin(async move {
            let (env, event) = self.parse(&fields)?;
            let external = event.external_tenant.clone().unwrap_or_default();
            let tenant = sql::tenant_by_external(&self.pool, &self.source, &external)
                .await
                .map_err(|e| HandleError::Retryable(format!("postgres: {e}")))?
                .ok_or_else(|| self.unknown(&external))?;
            let raw = serde_json::to_value(&env).unwrap_or_default();
            let source = Source {
                name: &stream,
                entry_id: Some(&entry_id),
            };
            match ingest(&self.pool, tenant, source, &event, &raw, Utc::now()).await {
                Ok(recorded) => {
                    if let Some(engine) = &self.engine {
                        // Also for duplicates: repairs a crash between the commit and this push.
                        jobs::kinds::events::ingest::publish(
                            &self.pool, engine, tenant, &event, &recorded, &raw,
                        )
                        .await
                        .map_err(|e| HandleError::Retryable(format!("webhook: {e}")))?;
                    }
                    Ok(())
                }
                Err(IngestError::Permanent(reason)) => Err(HandleError::Permanent {
                    reason,
                    tenant: Some(tenant),
                }),
                Err(IngestError::Db(e)) => Err(HandleError::Retryable(format!("postgres: {e}"))),
            }
        })
    }

    fn handle_batch<'a>(
        &'a self,
        stream: &'a str,
        entries: &'a [Entry],
    ) -> BoxFuture<'a, Result<Vec<Result<(), HandleError>>, HandleError>> {
        Box::pin(async move {
            let retry = |what: &str, e: &dyn std::fmt::Display| {
                HandleError::Retryable(format!("{what}: {e}"))
            };
            // Parse and map every entry; refusals are per entry.
            let mut results: Vec<Option<Result<(), HandleError>>> =
                Vec::with_capacity(entries.len());
            let mut items = Vec::new();
            let mut slots = Vec::new();
            let mut tenants: HashMap<String, Option<Uuid>> = HashMap::new();
            for (i, (entry_id, fields)) in entries.iter().enumerate() {
                match self.parse(fields) {
                    Err(e) => results.push(Some(Err(e))),
                    Ok((env, event)) => {
                        let external = event.external_tenant.clone().unwrap_or_default();
                        if !tenants.contains_key(&external) {
                            let t = sql::tenant_by_external(&self.pool, &self.source, &external)
                                .await
                                .map_err(|e| retry("postgres", &e))?;
                            tenants.insert(external.clone(), t);
                        }
                        let Some(tenant) = tenants[&external] else {
                            results.push(Some(Err(self.unknown(&external))));
                            continue;
                        };
                        results.push(None);
                        slots.push(i);
                        items.push(jobs::kinds::events::batch::Item {
                            tenant,
                            entry_id: Some(entry_id.clone()),
                            event,
                            raw: serde_json::to_value(&env).unwrap_or_default(),
                        });
                    }
                }
            }
            let recorded =
                jobs::kinds::events::batch::ingest_batch(&self.pool, stream, &items, Utc::now())
                    .await
                    .map_err(|e| retry("batch", &e))?;
            let mut deliveries = Vec::new();
            for ((slot, item), r) in slots.iter().zip(&items).zip(recorded) {
                results[*slot] = Some(match r {
                    Ok(rec) => {
                        // Also for duplicates: repairs a crash between the commit and the push.
                        deliveries.push(jobs::kinds::events::ingest::delivery(
                            item.tenant,
                            &item.event,
                            &rec,
                            &item.raw,
                        ));
                        Ok(())
                    }
                    Err(reason) => Err(HandleError::Permanent {
                        reason,
                        tenant: Some(item.tenant),
                    }),
                });
            }
            if let Some(engine) = &self.engine {
                jobs::kinds::events::webhook::publish_all(&self.pool, Some(engine), deliveries)
                    .await
                    .map_err(|e| retry("webhook", &e))?;
            }
            Ok(results.into_iter().map(|r| r.unwrap_or(Ok(()))).collect())
        })
    }
}

impl Ingest {
    /// The envelope and event of an entry, or why it is malformed.
    fn parse(
        &self,
        fields: &[(String, String)],
    ) -> Result<(jobs::kinds::events::Envelope, Event), HandleError> {
        let bad = |reason: String| HandleError::Permanent {
            reason,
            tenant: None,
        };
        let env =
            Event::from_stream_fields(fields).map_err(|e| bad(format!("malformed entry: {e}")))?;
        let event = Event::parse(&env).map_err(|e| bad(format!("malformed entry: {e}")))?;
        if event.external_tenant.is_none() {
            return Err(bad("malformed entry: metadata.tenant_id: required".into()));
        }
        Ok((env, event))
    }

    fn unknown(&self, external: &str) -> HandleError {
        HandleError::Permanent {
            reason: format!(
                "unknown tenant: {} {external:?} is mapped to no tenant",
                self.source
            ),
            tenant: None,
        }
    }
}

//! Trace context beyond the first job: follow-up jobs pushed by a handler
//! continue the job's trace (same trace id, the job's span as parent), and
//! provider HTTP calls send a `traceparent` with the job's trace id.

mod notify_common;

use jobs::engine::{trace, JobStatus, NewJob};
use jobs::kinds::notify::{ChannelName, MessageSpec, NotificationRequest};
use jobs::kinds::{JobContext, JobError, JobKind, KindPolicy, Registry};
use jobs::testing::{worker, Bed, TestEngine};
use notify_common::*;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::PgPool;

const TP: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

/// `test.parent`: pushes two `diag.noop` follow-ups, one built with
/// `ctx.child_job`, one a plain `NewJob` (the engine fills in the trace).
struct Parent;

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
struct ParentPayload {}

impl JobKind for Parent {
    const NAME: &'static str = "test.parent";
    type Payload = ParentPayload;
    fn policy() -> KindPolicy {
        KindPolicy::new("test")
    }
    async fn run(_p: ParentPayload, ctx: JobContext) -> Result<serde_json::Value, JobError> {
        let engine = &ctx.resources.engine;
        let a = engine
            .push(ctx.child_job("diag", "diag.noop", json!({})))
            .await
            .map_err(|e| JobError::retryable(e.to_string()))?;
        let b = engine
            .push(NewJob::new("diag", "diag.noop", &ctx.tenant, json!({})))
            .await
            .map_err(|e| JobError::retryable(e.to_string()))?;
        Ok(json!({ "children": [a.id, b.id], "trace": ctx.trace }))
    }
}

#[tokio::test]
async fn follow_up_jobs_continue_the_parents_trace() {
    let t = TestEngine::new().await;
    let mut reg = Registry::builtin();
    reg.register::<Parent>();
    let w = worker(&t.engine, "test", 2, reg);
    let mut job = NewJob::new("test", "test.parent", "tenant-a", json!({}));
    job.trace = Some(TP.into());
    let p = t.engine.push(job).await.unwrap();
    let j = t.wait_final("test", &p.id).await;
    assert_eq!(j.status, JobStatus::Succeeded, "{:?}", j.last_error);
    let result = j.result.unwrap();
    // The handler saw its own traceparent: the caller's trace, a new span.
    let own = result["trace"].as_str().unwrap().to_string();
    let (own_trace, own_span, _) = trace::parse(&own).expect("valid traceparent");
    assert_eq!(own_trace, TRACE_ID);
    assert_ne!(own_span, "00f067aa0ba902b7");
    for child in result["children"].as_array().unwrap() {
        let c = t
            .engine
            .job("diag", child.as_str().unwrap())
            .await
            .unwrap()
            .unwrap();
        let tp = c.trace.expect("follow-up carries a traceparent");
        let (trace_id, parent, _) = trace::parse(&tp).expect("valid traceparent");
        assert_eq!(trace_id, TRACE_ID, "{tp}");
        assert_eq!(parent, own_span, "the follow-up's parent is the job's span");
    }
    w.stop().await;
    // Outside a job there is no current trace: nothing is invented.
    let p = t
        .engine
        .push(NewJob::new("diag", "diag.noop", "tenant-a", json!({})))
        .await
        .unwrap();
    let c = t.engine.job("diag", &p.id).await.unwrap().unwrap();
    assert_eq!(c.trace, None);
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn notify_fanout_trace_reaches_send_jobs_and_the_whatsapp_call(pool: PgPool) {
    let bed = Bed::new(pool).await;
    Bed::set_env("TEST_WA_TOKEN", "EAAG-test-token");
    channel(
        &bed,
        ChannelName::Whatsapp,
        json!({"phone_number_id": "1098765", "access_token_env": "TEST_WA_TOKEN"}),
    )
    .await;
    let req = NotificationRequest {
        channel: ChannelName::Whatsapp,
        recipient: Some("+5511988887777".into()),
        dedup_key: Some("trace-1".into()),
        recipients: vec![],
        message: MessageSpec {
            text: Some("Reunião de pais amanhã".into()),
            ..Default::default()
        },
        urgent: false,
    };
    let mut job = NewJob::new(
        "notifications",
        jobs::kinds::notify::FANOUT,
        &bed.tenant.to_string(),
        serde_json::to_value(&req).unwrap(),
    );
    job.trace = Some(TP.into());
    let fanout = bed.engine.push(job).await.unwrap();

    let worker = bed.worker("notifications", 2);
    let seen = bed.fakes.wait_for("whatsapp", 1).await;
    let tp = seen[0]
        .traceparent
        .clone()
        .expect("the provider call carries a traceparent");
    let (trace_id, _, _) = trace::parse(&tp).expect("valid traceparent");
    assert_eq!(trace_id, TRACE_ID, "{tp}");

    // The `notify.send` job the fanout pushed continues the same trace.
    let id: uuid::Uuid = sqlx::query_scalar("select id from notifications where tenant_id = $1")
        .bind(bed.tenant)
        .fetch_one(&bed.pool)
        .await
        .unwrap();
    let send = bed
        .engine
        .job("notifications", &id.to_string())
        .await
        .unwrap()
        .unwrap();
    let send_tp = send.trace.expect("the send job carries a traceparent");
    assert!(send_tp.contains(TRACE_ID), "{send_tp}");
    let f = bed
        .engine
        .job("notifications", &fanout.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(f.trace.as_deref(), Some(TP));
    worker.stop().await;
}

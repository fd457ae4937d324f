//! The batches page (`/console/batches`): the newest batches of every queue
//! with their progress (succeeded, dead, cancelled of the total, pending),
//! state and callback jobs; below, the global concurrency limits of every
//! queue with their slots in use and the jobs parked waiting for one.
//! Read-only: batches are cancelled through the API.

use axum::extract::State;
use axum::response::Response;

use super::html::{self, esc, q};
use super::pages::unavailable;
use super::session::Ops;
use crate::state::AppState;

/// Batches shown per queue.
const LIMIT: usize = 50;

fn job_link(queue: &str, id: Option<&String>) -> String {
    match id {
        Some(id) => format!(
            r#"<a href="/console/jobs/{}/{}">{}</a>"#,
            q(queue),
            q(id),
            esc(id)
        ),
        None => String::new(),
    }
}

pub async fn batches(State(st): State<AppState>, ops: Ops) -> Response {
    let queues = st.registry.queues();
    let mut rows = Vec::new();
    let mut slots = Vec::new();
    for queue in &queues {
        match st.engine.batches(queue, LIMIT).await {
            Ok(bs) => rows.extend(bs),
            Err(e) => return unavailable(e),
        }
        match st.engine.concurrency(queue).await {
            Ok(us) => slots.extend(us.into_iter().map(|u| (queue.clone(), u))),
            Err(e) => return unavailable(e),
        }
    }
    rows.sort_by_key(|b| std::cmp::Reverse(b.created_at));
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|b| {
            let ended = b.succeeded + b.dead + b.cancelled;
            let pct = (ended * 100).checked_div(b.total).unwrap_or(100);
            vec![
                html::utc(Some(b.created_at)),
                esc(&b.id),
                esc(&b.queue),
                esc(&b.tenant),
                format!("{:?}", b.state).to_lowercase(),
                format!(
                    r#"<progress max="100" value="{pct}"></progress> {ended}/{}"#,
                    b.total
                ),
                b.succeeded.to_string(),
                b.dead.to_string(),
                b.cancelled.to_string(),
                b.pending.to_string(),
                job_link(&b.queue, b.on_complete.as_ref()),
                job_link(&b.queue, b.on_success.as_ref()),
                html::utc(b.finished_at),
            ]
        })
        .collect();
    let table = if cells.is_empty() {
        r#"<p class="hint" id="no-batches">No batches yet.</p>"#.to_string()
    } else {
        html::table(
            "batches",
            &[
                "created (UTC)",
                "id",
                "queue",
                "tenant",
                "state",
                "progress",
                "succeeded",
                "dead",
                "cancelled",
                "pending",
                "on_complete",
                "on_success",
                "finished (UTC)",
            ],
            &cells,
        )
    };
    let limit_cells: Vec<Vec<String>> = slots
        .iter()
        .map(|(queue, u)| {
            vec![
                esc(queue),
                esc(&u.key),
                u.limit.map(|n| n.to_string()).unwrap_or_default(),
                u.in_use.to_string(),
                u.parked.to_string(),
                u.holders
                    .iter()
                    .map(|h| job_link(queue, Some(&h.job)))
                    .collect::<Vec<_>>()
                    .join(" "),
            ]
        })
        .collect();
    let limits = if limit_cells.is_empty() {
        r#"<p class="hint" id="no-limits">No concurrency limits set.</p>"#.to_string()
    } else {
        html::table(
            "limits",
            &["queue", "key", "limit", "in use", "parked", "holders"],
            &limit_cells,
        )
    };
    let body = format!(
        r#"<p class="hint">Batches (<code>POST /v1/batches</code>): a batch is <b>done</b> when every member is final; its <b>on_complete</b> job is then pushed once, and <b>on_success</b> only if every member succeeded. The newest {LIMIT} per queue are shown.</p>
{table}
<h2>Global concurrency limits</h2>
<p class="hint">Slots held by claimed or running jobs across every worker; <b>parked</b> jobs wait in Redis for a free slot of their key.</p>
{limits}"#
    );
    html::page("Batches", Some(&ops), &body)
}

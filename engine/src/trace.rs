//! W3C Trace Context (`traceparent`) carried from an HTTP request into a job.
//!
//! The intake stores the caller's `traceparent` on the job (field `tp`); the
//! worker opens the job's span as its child: same trace id, the stored span id
//! as `parent_span_id`, a fresh `span_id`. Those ids land on every log line of
//! the run, so one trace id finds the request and the jobs it caused.
//!
//! While a handler runs, its own traceparent (the job's trace id, the job
//! span's id) is in a task-local ([`current`]): jobs it pushes without a trace
//! of their own get it (so follow-up jobs continue the trace), and provider
//! HTTP calls send it as their `traceparent` header.

use std::future::Future;

tokio::task_local! {
    static CURRENT: Option<String>;
}

/// Runs `fut` with `tp` as the current traceparent (see [`current`]).
pub async fn scope<F: Future>(tp: Option<String>, fut: F) -> F::Output {
    CURRENT.scope(tp, fut).await
}

/// The traceparent of the job running on this task, if any: what a follow-up
/// job or an outgoing call carries (its parent is the job's span).
pub fn current() -> Option<String> {
    CURRENT.try_with(|c| c.clone()).ok().flatten()
}

/// `(trace_id, parent_span_id, flags)` of a valid `traceparent` (version 00).
pub fn parse(tp: &str) -> Option<(&str, &str, &str)> {
    let mut parts = tp.trim().split('-');
    let (version, trace, span, flags) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let hex = |s: &str, n: usize| {
        s.len() == n && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    };
    let ok = parts.next().is_none()
        && version == "00"
        && hex(trace, 32)
        && hex(span, 16)
        && hex(flags, 2)
        && trace != "0".repeat(32)
        && span != "0".repeat(16);
    ok.then_some((trace, span, flags))
}

/// A new random span id (16 hex digits).
pub fn new_span_id() -> String {
    format!("{:016x}", rand::random::<u64>().max(1))
}

/// A traceparent for a new root trace (sampled).
pub fn new_root() -> String {
    format!(
        "00-{:032x}-{}-01",
        rand::random::<u128>().max(1),
        new_span_id()
    )
}

/// The traceparent a child of `parent` passes on, with span id `span_id`.
pub fn child(parent: &str, span_id: &str) -> Option<String> {
    let (trace, _, flags) = parse(parent)?;
    Some(format!("00-{trace}-{span_id}-{flags}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_valid_and_rejects_malformed_traceparents() {
        let tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        assert_eq!(
            parse(tp),
            Some(("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", "01"))
        );
        assert_eq!(
            parse("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"),
            None
        );
        assert_eq!(
            parse("00-00000000000000000000000000000000-00f067aa0ba902b7-01"),
            None
        );
        assert_eq!(
            parse("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
            None
        );
        assert_eq!(parse("garbage"), None);
        let root = new_root();
        assert!(parse(&root).is_some(), "{root}");
        let c = child(tp, "1111111111111111").unwrap();
        assert_eq!(c, "00-4bf92f3577b34da6a3ce929d0e0e4736-1111111111111111-01");
    }
}

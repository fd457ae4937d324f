//! OTLP trace export end to end: a local HTTP server acts as the collector
//! (`POST /v1/traces`, protobuf); after a job with a stored traceparent runs,
//! the exported job span carries that trace id and, as its parent, the
//! traceparent's span id.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use jobs::config::TelemetrySettings;
use jobs::engine::{JobStatus, NewJob};
use jobs::kinds::Registry;
use jobs::testing::{worker, TestEngine};
use serde_json::json;

const TP: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

/// One request the fake collector received.
struct Received {
    path: String,
    content_type: String,
    body: Vec<u8>,
}

/// A minimal HTTP/1.1 server on a thread of its own: records every request, answers 200.
fn collector() -> (String, Arc<Mutex<Vec<Received>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let out = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let seen = seen.clone();
            std::thread::spawn(move || {
                let mut writer = stream.try_clone().unwrap();
                let mut reader = BufReader::new(stream);
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let path = line.split(' ').nth(1).unwrap_or("").to_string();
                    let (mut len, mut content_type) = (0usize, String::new());
                    loop {
                        let mut h = String::new();
                        reader.read_line(&mut h).unwrap();
                        let h = h.trim_end();
                        if h.is_empty() {
                            break;
                        }
                        let (k, v) = h.split_once(':').unwrap_or((h, ""));
                        match k.to_ascii_lowercase().as_str() {
                            "content-length" => len = v.trim().parse().unwrap(),
                            "content-type" => content_type = v.trim().to_string(),
                            _ => {}
                        }
                    }
                    let mut body = vec![0; len];
                    reader.read_exact(&mut body).unwrap();
                    seen.lock().unwrap().push(Received {
                        path,
                        content_type,
                        body,
                    });
                    writer
                        .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: 0\r\n\r\n")
                        .unwrap();
                }
            });
        }
    });
    (base, out)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn job_spans_are_exported_over_otlp_as_children_of_the_stored_traceparent() {
    let (base, seen) = collector();
    let telemetry = jobs::telemetry::init_with(
        "worker-test",
        &TelemetrySettings {
            otlp_endpoint: base,
        },
    );
    assert!(telemetry.exporting());

    let t = TestEngine::new().await;
    let w = worker(&t.engine, "diag", 2, Registry::builtin());
    let mut job = NewJob::new("diag", "diag.noop", "tenant-a", json!({}));
    job.trace = Some(TP.into());
    let p = t.engine.push(job).await.unwrap();
    assert_eq!(
        t.wait_final("diag", &p.id).await.status,
        JobStatus::Succeeded
    );
    w.stop().await;
    // The batch processor exports on its own thread; flushing blocks until it did.
    tokio::task::spawn_blocking(move || telemetry.flush())
        .await
        .unwrap();

    let trace_id = hex::decode("4bf92f3577b34da6a3ce929d0e0e4736").unwrap();
    let parent_span = hex::decode("00f067aa0ba902b7").unwrap();
    let seen = seen.lock().unwrap();
    let export = seen
        .iter()
        .find(|r| contains(&r.body, &trace_id))
        .unwrap_or_else(|| panic!("no export carried the trace id ({} requests)", seen.len()));
    assert_eq!(export.path, "/v1/traces");
    assert_eq!(export.content_type, "application/x-protobuf");
    assert!(
        contains(&export.body, &parent_span),
        "the job span's parent is the traceparent's span"
    );
    assert!(contains(&export.body, p.id.as_bytes()), "job_id attribute");
}

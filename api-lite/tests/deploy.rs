//! The Kubernetes manifests in `deploy/k8s/` against the code they deploy:
//! every file is YAML; every setting they give the processes is one the
//! binaries accept (an unknown `TAREFA__*` stops startup), with values that
//! load; the worker's grace period outlasts its configured drain; and the
//! autoscaler's query reads gauges `/metrics` really exports.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;

use axum::http::{Method, StatusCode};
use common::*;
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use jobs::Settings;
use serde_json::Value;
use sqlx::PgPool;

fn dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../deploy/k8s"))
}

/// Every document of every `deploy/k8s/*.yaml`, as JSON values.
fn documents() -> Vec<(String, Value)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir())
        .expect("deploy/k8s")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 5, "{files:?}");
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        for doc in serde_yaml::Deserializer::from_str(&text) {
            let v: Value = serde::Deserialize::deserialize(doc)
                .unwrap_or_else(|e| panic!("{name} is not valid YAML: {e}"));
            if !v.is_null() {
                out.push((name.clone(), v));
            }
        }
    }
    out
}

fn named<'a>(docs: &'a [(String, Value)], kind: &str, name: &str) -> &'a Value {
    docs.iter()
        .map(|(_, d)| d)
        .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name}"))
}

/// What a container's environment holds: ConfigMap entries it loads, then its
/// own `env` (later wins, as in Kubernetes). `None` = from a Secret.
fn container_env(docs: &[(String, Value)], container: &Value) -> BTreeMap<String, Option<String>> {
    let mut env = BTreeMap::new();
    for from in container["envFrom"].as_array().into_iter().flatten() {
        let map = from["configMapRef"]["name"].as_str().expect("configMapRef");
        for (k, v) in named(docs, "ConfigMap", map)["data"]
            .as_object()
            .expect("data")
        {
            env.insert(k.clone(), Some(v.as_str().expect("string value").into()));
        }
    }
    for e in container["env"].as_array().into_iter().flatten() {
        let name = e["name"].as_str().expect("env name").to_string();
        env.insert(name, e["value"].as_str().map(str::to_string));
    }
    env
}

/// Settings as the binaries load them (config/default.toml, then the
/// environment), with `env` standing in for the pod's `TAREFA__*` variables.
fn load(env: &BTreeMap<String, Option<String>>, tag: &str) -> Result<Settings, String> {
    // Under a prefix of this test's own, so no other test's environment is touched.
    let prefix = format!("TAREFA_K8S_{tag}__");
    for (k, v) in env {
        if let (Some(rest), Some(v)) = (k.strip_prefix("TAREFA__"), v) {
            std::env::set_var(format!("{prefix}{rest}"), v);
        }
    }
    let config = concat!(env!("CARGO_MANIFEST_DIR"), "/../config/default.toml");
    let s: Settings = Figment::from(Serialized::defaults(Settings::default()))
        .merge(Toml::file(config))
        .merge(Env::prefixed(&prefix).split("__"))
        .extract()
        .map_err(|e| e.to_string())?;
    s.validate().map_err(|e| e.to_string())?;
    Ok(s)
}

#[test]
fn manifests_set_only_settings_the_binaries_accept() {
    let docs = documents();
    let defaults = serde_json::to_value(Settings::default()).unwrap();
    let mut containers = 0;
    for (file, d) in &docs {
        if d["kind"] != "Deployment" {
            continue;
        }
        let deployment = d["metadata"]["name"].as_str().unwrap();
        let spec = &d["spec"]["template"]["spec"];
        let all = [&spec["initContainers"], &spec["containers"]];
        for c in all.into_iter().filter_map(Value::as_array).flatten() {
            containers += 1;
            let env = container_env(&docs, c);
            let what = format!("{file}: {deployment}/{}", c["name"]);
            for (name, value) in &env {
                match name.strip_prefix("TAREFA__") {
                    // A setting: its path exists (values from Secrets cannot be checked here).
                    Some(rest) => {
                        let path: Vec<String> = rest.split("__").map(str::to_lowercase).collect();
                        let found = path.iter().try_fold(&defaults, |v, k| v.get(k));
                        assert!(found.is_some(), "{what}: {name} is no setting");
                        assert!(
                            value.is_some() || ["database.url"].contains(&path.join(".").as_str()),
                            "{what}: {name} from a Secret"
                        );
                    }
                    None => assert!(
                        ["RUST_LOG", "TAREFA_MASTER_KEYS"].contains(&name.as_str()),
                        "{what}: unexpected variable {name}"
                    ),
                }
            }
            let tag = format!("{containers}");
            let s = load(&env, &tag).unwrap_or_else(|e| panic!("{what}: {e}"));
            if deployment == "tarefa-worker" {
                // The pod outlives the drain SIGTERM starts.
                let grace_s = spec["terminationGracePeriodSeconds"].as_u64().unwrap();
                assert!(
                    grace_s * 1000 > s.engine.shutdown_grace_ms,
                    "{what}: terminationGracePeriodSeconds {grace_s} <= engine.shutdown_grace_ms {}",
                    s.engine.shutdown_grace_ms
                );
            }
            if deployment == "tarefa-api-lite" && c["name"] == "api-lite" {
                let port = c["ports"][0]["containerPort"].as_u64().unwrap();
                assert!(
                    s.api.listen.ends_with(&format!(":{port}")),
                    "{}",
                    s.api.listen
                );
            }
        }
    }
    assert!(containers >= 4, "api-lite (+ migrate), worker, scheduler");
    // A misspelt variable does fail: the check above would notice one.
    let mut typo = BTreeMap::new();
    typo.insert("TAREFA__ENGINE__LEASE_TTL".to_string(), Some("1000".into()));
    assert!(load(&typo, "TYPO").is_err());
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn the_autoscaler_reads_gauges_metrics_exports(pool: PgPool) {
    let docs = documents();
    let scaled = named(&docs, "ScaledObject", "tarefa-worker");
    assert_eq!(scaled["spec"]["scaleTargetRef"]["name"], "tarefa-worker");
    named(&docs, "Deployment", "tarefa-worker");
    let trigger = &scaled["spec"]["triggers"][0];
    assert_eq!(trigger["type"], "prometheus");
    let query = trigger["metadata"]["query"].as_str().unwrap();
    assert!(
        trigger["metadata"]["threshold"]
            .as_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            > 0
    );

    let ctx = Ctx::new(pool).await;
    ctx.enqueue_noop(&ctx.a.key).await;
    let (status, body) = ctx.req(Method::GET, "/metrics", None, None).await;
    assert_eq!(status, StatusCode::OK);
    let text = body.as_str().unwrap();
    let metrics: Vec<&str> = query
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| w.starts_with("tarefa_"))
        .collect();
    assert!(!metrics.is_empty(), "{query}");
    for m in metrics {
        assert!(
            text.contains(&format!("# TYPE {m} gauge")),
            "{m} (from the query {query}) is not a gauge of /metrics"
        );
    }
    // The backlog the query sums: the job just pushed, waiting with no worker.
    assert!(
        text.contains(r#"tarefa_queue_jobs{queue="diag",state="queued"} 1"#),
        "{text}"
    );
}

//! `/v1/datasets`, `/v1/models`, `/v1/predictions` over HTTP with the
//! `forecast.*` jobs served in-process on the real Redis and PostgreSQL:
//! upload → validation report → training by backtests → real-time and batch
//! predictions (rows and CSV); bad files name their line and column; bad
//! requests are 422s naming the field; another tenant's objects are 404s.

mod common;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::*;
use jobs::engine::testing::WorkerHandle;
use jobs::kinds::{KindHandler, Resources};
use jobs::testing::eventually;
use serde_json::{json, Value};
use sqlx::PgPool;
use tower::ServiceExt;

/// Serves the `forecasting` queue with the app's registry and the test's database.
fn worker(c: &Ctx) -> WorkerHandle {
    serve(c, forecasting::kinds::QUEUE)
}

/// Serves `queue` with the app's registry and the test's database.
fn serve(c: &Ctx, queue: &str) -> WorkerHandle {
    let resources = Resources {
        engine: c.state.engine.clone(),
        pg: Some(c.state.pool.clone()),
        settings: c.state.settings.clone(),
    };
    let handler = KindHandler::new(Arc::new(api_lite::state::registry()), resources);
    WorkerHandle::spawn(c.state.engine.clone(), queue, 2, handler)
}

fn csv_request(uri: &str, key: &str, body: &str) -> Request<Body> {
    Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header("authorization", format!("Bearer {key}"))
        .header("content-type", "text/csv")
        .body(Body::from(body.to_string()))
        .unwrap()
}

/// Three shops, 120 days from 01/01/2026, pt-BR (`;`, dd/mm/aaaa, decimal comma):
/// trend + weekly pattern + a little deterministic wobble.
fn shops_csv() -> String {
    let mut s = String::from("loja;data;vendas\n");
    let start = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    let week = [0.0, 3.0, 5.0, 2.0, -1.0, -9.0, -10.0];
    for (i, shop) in ["Centro", "Praia", "Serra"].iter().enumerate() {
        for t in 0..120 {
            let d = start + chrono::Duration::days(t);
            let y = 50.0
                + 10.0 * i as f64
                + 0.2 * t as f64
                + week[t as usize % 7]
                + ((t * 37 + i as i64 * 11) % 7) as f64 * 0.3;
            s.push_str(&format!(
                "{shop};{};{}\n",
                ptbr::format_date(d),
                ptbr::format_decimal(y, 2)
            ));
        }
    }
    s
}

async fn wait_dataset(c: &Ctx, id: &str) -> Value {
    eventually(|| async {
        let (_, b) = c
            .req(
                Method::GET,
                &format!("/v1/datasets/{id}"),
                Some(&c.a.key),
                None,
            )
            .await;
        Some(b)
    })
    .until(|b: &Value| b["status"] != "pending" && b["status"] != "validating")
    .await
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn upload_validate_train_and_predict(pool: PgPool) {
    // The drift webhook goes to a local receiver.
    let c = Ctx::with(pool, |s| {
        s.notifications.ssrf_allow = vec!["127.0.0.1".into()]
    })
    .await;
    let _w = worker(&c);
    let (s, ds) = c
        .call(csv_request(
            "/v1/datasets?name=vendas.csv",
            &c.a.key,
            &shops_csv(),
        ))
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{ds}");
    let id = ds["id"].as_str().unwrap().to_string();
    let ds = wait_dataset(&c, &id).await;
    assert_eq!(ds["status"], "ready", "{ds}");
    assert_eq!(ds["frequency"], "daily");
    assert_eq!(ds["series_count"], 3);
    assert_eq!(ds["targets"], json!(["vendas"]));
    let report = &ds["report"];
    assert_eq!(report["series"][0]["length"], 120);
    assert_eq!(report["series"][0]["start"], "2026-01-01");
    assert!(
        report["series"][0]["targets"][0]["seasonal_periods"].is_array(),
        "{report}"
    );

    let (s, pv) = c
        .req(
            Method::GET,
            &format!("/v1/datasets/{id}/preview?rows=2"),
            Some(&c.a.key),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{pv}");
    assert_eq!(pv["rows"][0], json!(["Centro", "01/01/2026", "50,00"]));
    assert_eq!(pv["columns"][1], json!({"name": "data", "role": "time"}));

    // Another tenant sees nothing.
    let (s, _) = c
        .req(
            Method::GET,
            &format!("/v1/datasets/{id}"),
            Some(&c.b.key),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = c
        .req(
            Method::POST,
            "/v1/models",
            Some(&c.b.key),
            Some(json!({"dataset": id, "horizon": 7})),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    let (s, m) = c
        .req(
            Method::POST,
            "/v1/models",
            Some(&c.a.key),
            Some(json!({"dataset": id, "horizon": 7, "models": "auto", "windows": 2})),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{m}");
    let mid = m["id"].as_str().unwrap().to_string();
    let m = eventually(|| async {
        let (_, b) = c
            .req(
                Method::GET,
                &format!("/v1/models/{mid}"),
                Some(&c.a.key),
                None,
            )
            .await;
        Some(b)
    })
    .until(|b: &Value| b["status"] == "ready" || b["status"] == "failed")
    .await;
    assert_eq!(m["status"], "ready", "{m}");
    assert_eq!(
        (m["progress"].as_i64(), m["series_done"].as_i64()),
        (Some(100), Some(3))
    );
    assert_eq!(m["data_start"], "2026-01-01T00:00:00");
    let series = m["series"].as_array().unwrap();
    assert_eq!(series.len(), 3);
    for s in series {
        let cands = s["candidates"].as_array().unwrap();
        assert_eq!(cands.len(), 3, "{s}");
        for cand in cands {
            assert_eq!(cand["windows"].as_array().unwrap().len(), 2, "{cand}");
        }
        // The chosen one has the lowest mean MASE.
        let best = cands
            .iter()
            .min_by(|a, b| {
                a["mean"]["mase"]
                    .as_f64()
                    .unwrap()
                    .total_cmp(&b["mean"]["mase"].as_f64().unwrap())
            })
            .unwrap();
        assert_eq!(s["method"], best["method"], "{s}");
        assert_eq!(s["forecast"]["point"].as_array().unwrap().len(), 7);
    }

    // Real time: 3 steps of one series, dated after the data.
    let (s, p) = c
        .req(
            Method::POST,
            &format!("/v1/models/{mid}/predict"),
            Some(&c.a.key),
            Some(json!({"horizon": 3, "series": ["Praia"]})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{p}");
    let rows = p["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0]["at"], "2026-05-01T00:00:00");
    assert!(
        rows[0]["lo95"].as_f64() < rows[0]["lo80"].as_f64()
            && rows[0]["hi80"].as_f64() < rows[0]["hi95"].as_f64(),
        "{p}"
    );
    // It matches the forecast stored at training (the same spec re-fitted on the same data).
    let praia = series.iter().find(|s| s["key"] == "Praia").unwrap();
    let stored = praia["forecast"]["point"][0].as_f64().unwrap();
    assert!(
        (rows[0]["point"].as_f64().unwrap() - stored).abs() < 1e-6 * stored.abs(),
        "{p} vs {praia}"
    );

    // Batch: every series, then the CSV.
    let (s, pr) = c
        .req(
            Method::POST,
            &format!("/v1/models/{mid}/predictions"),
            Some(&c.a.key),
            Some(json!({"horizon": 5})),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{pr}");
    let pid = pr["id"].as_str().unwrap().to_string();
    let pr = eventually(|| async {
        let (_, b) = c
            .req(
                Method::GET,
                &format!("/v1/predictions/{pid}"),
                Some(&c.a.key),
                None,
            )
            .await;
        Some(b)
    })
    .until(|b: &Value| b["status"] == "ready" || b["status"] == "failed")
    .await;
    assert_eq!(pr["row_count"], 15, "{pr}");
    let (s, csv) = c
        .req(
            Method::GET,
            &format!("/v1/predictions/{pid}/csv"),
            Some(&c.a.key),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let csv = csv.as_str().unwrap();
    assert_eq!(csv.lines().count(), 16, "{csv}");
    assert!(
        csv.starts_with("series,ds,step,yhat,lo80,hi80,lo95,hi95\nCentro,2026-05-01,1,"),
        "{csv}"
    );
    // The same rows as XLSX: values equal to the CSV's, dates as dates.
    let res = c
        .app
        .clone()
        .oneshot(common::request(
            Method::GET,
            &format!("/v1/predictions/{pid}/xlsx"),
            Some(&c.a.key),
            None,
        ))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()["content-type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    let mut wb: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).unwrap();
    use calamine::{Data, Reader};
    let sheet = wb.worksheet_range("Previsões").unwrap();
    assert_eq!(sheet.get_size(), (16, 8));
    assert_eq!(sheet.get((0, 3)), Some(&Data::String("previsão".into())));
    for (i, line) in csv.lines().skip(1).enumerate() {
        let f: Vec<&str> = line.split(',').collect();
        assert_eq!(sheet.get((i + 1, 0)), Some(&Data::String(f[0].into())));
        let Some(Data::DateTime(d)) = sheet.get((i + 1, 1)) else {
            panic!("row {i}: not a date")
        };
        // Excel's serial day: days since 1899-12-30.
        let day = chrono::NaiveDate::from_ymd_opt(1899, 12, 30).unwrap()
            + chrono::Duration::days(d.as_f64() as i64);
        assert_eq!(day.to_string(), f[1], "row {i}");
        for (c, text) in f.iter().enumerate().skip(2) {
            let want: f64 = text.parse().unwrap();
            assert_eq!(
                sheet.get((i + 1, c)),
                Some(&Data::Float(want)),
                "row {i} col {c}"
            );
        }
    }
    let (s, _) = c
        .req(
            Method::GET,
            &format!("/v1/predictions/{pid}"),
            Some(&c.b.key),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = c
        .req(
            Method::POST,
            &format!("/v1/models/{mid}/predict"),
            Some(&c.b.key),
            Some(json!({})),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // Monitoring: actuals near the forecast for Centro, far above it for Serra.
    let centro = series.iter().find(|s| s["key"] == "Centro").unwrap()["forecast"]["point"].clone();
    let mut rows = vec![];
    for k in 0..4 {
        let at = format!("{:02}/05/2026", k + 1);
        rows.push(
            json!({"series": "Centro", "at": at, "value": centro[k].as_f64().unwrap() + 0.1}),
        );
        rows.push(json!({"series": "Serra", "at": at, "value": format!("{},5", 500 + k)}));
    }
    // Tenant A hears `forecast.*` on its webhook (a local receiver).
    let hooks = jobs::testing::Providers::start().await;
    jobs::testing::Bed::set_env("TEST_FORECAST_WEBHOOK_SECRET", "whsec_fc");
    hooks.set_webhook_secret("whsec_fc");
    jobs::kinds::notify::admin::put_channel(
        &c.pool,
        c.a.id,
        "webhook",
        &json!({"url": format!("{}/hook", hooks.base_url()), "secret_env": "TEST_FORECAST_WEBHOOK_SECRET"}),
        true,
    )
    .await
    .unwrap();
    jobs::kinds::events::sql::set_webhook_events(&c.pool, c.a.id, &["forecast.*".to_string()])
        .await
        .unwrap();
    let _notify = serve(&c, jobs::kinds::notify::QUEUE);
    let (s, b) = c
        .req(
            Method::POST,
            &format!("/v1/datasets/{id}/rows"),
            Some(&c.a.key),
            Some(json!({"rows": rows})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["accepted"], 8);
    let verdict = |key: &str| {
        b["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["series"] == key)
            .unwrap()["drifted"]
            .clone()
    };
    assert_eq!(
        (verdict("Centro"), verdict("Serra")),
        (json!(false), json!(true)),
        "{b}"
    );
    // The drift reached the tenant's webhook, signed.
    let hook = eventually(|| async { hooks.seen("webhook").pop() })
        .some()
        .await;
    assert!(hook.verified);
    let body: Value = serde_json::from_str(&hook.body).unwrap();
    assert_eq!(body["event"], "forecast.drift", "{body}");
    assert_eq!(
        (
            body["data"]["model_id"].as_str(),
            body["data"]["series"].as_str(),
            body["data"]["window_start"].as_str()
        ),
        (Some(mid.as_str()), Some("Serra"), Some("2026-05-01")),
        "{body}"
    );
    assert!(body["data"]["mase"].as_f64() > body["data"]["threshold"].as_f64());
    // The same window drifting again (the same rows re-sent) queues nothing new.
    let (s, again) = c
        .req(
            Method::POST,
            &format!("/v1/datasets/{id}/rows"),
            Some(&c.a.key),
            Some(json!({"rows": rows})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{again}");
    let queued: i64 = sqlx::query_scalar(
        "select count(*) from notifications where tenant_id = $1 and channel = 'webhook' and recipient = 'forecast.drift'",
    )
    .bind(c.a.id)
    .fetch_one(&c.pool)
    .await
    .unwrap();
    assert_eq!(queued, 1);
    let (_, d) = c
        .req(
            Method::GET,
            &format!("/v1/models/{mid}/drift"),
            Some(&c.a.key),
            None,
        )
        .await;
    let alerts = d["alerts"].as_array().unwrap();
    assert_eq!(alerts.len(), 1, "{d}");
    assert_eq!(
        (alerts[0]["key"].as_str(), alerts[0]["points"].as_i64()),
        (Some("Serra"), Some(4))
    );
    let (s, b) = c
        .req(
            Method::POST,
            &format!("/v1/datasets/{id}/rows"),
            Some(&c.a.key),
            Some(json!({"rows": [{"series": "Serra", "at": "32/05/2026", "value": 1}]})),
        )
        .await;
    assert_eq!(
        (s, b["details"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("rows[0].at")),
        "{b}"
    );
    let (s, _) = c
        .req(
            Method::GET,
            &format!("/v1/models/{mid}/drift"),
            Some(&c.b.key),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn bad_files_name_their_line_and_column(pool: PgPool) {
    let c = Ctx::new(pool).await;
    let _w = worker(&c);
    // Refused at once: nothing to read, no dates anywhere, a ragged line.
    for (body, code) in [
        ("", "empty_file"),
        ("nome,valor\nana,1\nbia,2\n", "no_time_column"),
        ("ds,y\n2026-01-01,1\n2026-01-02,2,9\n", "malformed_csv"),
    ] {
        let (s, b) = c.call(csv_request("/v1/datasets", &c.a.key, body)).await;
        assert_eq!(
            (s, b["error"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(code)),
            "{body:?}: {b}"
        );
    }
    let (s, b) = c
        .call(csv_request(
            "/v1/datasets?time_column=quando",
            &c.a.key,
            "ds,y\n2026-01-01,1\n",
        ))
        .await;
    assert_eq!(
        (s, b["details"]["column"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("quando")),
        "{b}"
    );

    // Cell errors come from the job, with line and column.
    let bad =
        "id,ds,y\na,2026-01-01,1\na,2026-01-02,x\na,31/02/2026,3\na,2026-01-04,4\nb,2026-01-01,5\n";
    let (s, b) = c.call(csv_request("/v1/datasets", &c.a.key, bad)).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    let ds = wait_dataset(&c, b["id"].as_str().unwrap()).await;
    assert_eq!(ds["status"], "invalid", "{ds}");
    let errors = ds["report"]["errors"].as_array().unwrap();
    let at = |e: &Value| {
        (
            e["line"].as_u64().unwrap(),
            e["column"].as_str().map(str::to_string),
        )
    };
    assert_eq!(at(&errors[0]), (3, Some("y".into())), "{errors:?}");
    assert_eq!(errors[0]["value"], "x");
    assert_eq!(at(&errors[1]), (4, Some("ds".into())), "{errors:?}");
    assert!(
        errors.iter().any(|e| e["message"]
            .as_str()
            .unwrap()
            .contains("series \"b\" has 1 time step")),
        "{errors:?}"
    );
    // An invalid dataset cannot be trained.
    let (s, b) = c
        .req(
            Method::POST,
            "/v1/models",
            Some(&c.a.key),
            Some(json!({"dataset": ds["id"], "horizon": 3})),
        )
        .await;
    assert_eq!(
        (s, b["error"].as_str()),
        (StatusCode::CONFLICT, Some("dataset_not_ready")),
        "{b}"
    );
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn model_requests_name_the_bad_field(pool: PgPool) {
    let c = Ctx::new(pool).await;
    let _w = worker(&c);
    let (_, b) = c
        .call(csv_request("/v1/datasets", &c.a.key, &shops_csv()))
        .await;
    let id = b["id"].as_str().unwrap().to_string();
    assert_eq!(wait_dataset(&c, &id).await["status"], "ready");
    for (body, field) in [
        (json!({"dataset": id, "horizon": 0}), "horizon"),
        (
            json!({"dataset": id, "horizon": 7, "models": ["ets", "prophet"]}),
            "models[1]",
        ),
        (
            json!({"dataset": id, "horizon": 7, "models": "best"}),
            "models",
        ),
        (
            json!({"dataset": id, "horizon": 7, "target": "lucro"}),
            "target",
        ),
        (
            json!({"dataset": id, "horizon": 7, "series": ["Centro", "Lua"]}),
            "series[1]",
        ),
        (
            json!({"dataset": id, "horizon": 7, "season_lengths": [7, 1]}),
            "season_lengths[1]",
        ),
        (
            json!({"dataset": id, "horizon": 7, "windows": 50}),
            "windows",
        ),
        (json!({"dataset": "not-a-uuid", "horizon": 7}), "dataset"),
        (json!({"horizon": 7}), "body"),
    ] {
        let (s, b) = c
            .req(
                Method::POST,
                "/v1/models",
                Some(&c.a.key),
                Some(body.clone()),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {b}");
        assert_eq!(b["details"]["field"], field, "{body}: {b}");
    }
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn a_cancelled_training_stops_and_says_so(pool: PgPool) {
    let c = Ctx::new(pool).await;
    let _w = worker(&c);
    // 60 series of 400 days: long enough to train that the cancel lands first.
    let mut csv = String::from("unique_id,ds,y\n");
    let start = chrono::NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
    for i in 0..60 {
        for t in 0..400i64 {
            let y = 100.0
                + i as f64
                + 0.1 * t as f64
                + ((t * 7919 + i * 31) % 17) as f64
                + 5.0 * (t % 7) as f64;
            csv.push_str(&format!("s{i},{},{y}\n", start + chrono::Duration::days(t)));
        }
    }
    let (_, b) = c.call(csv_request("/v1/datasets", &c.a.key, &csv)).await;
    let id = b["id"].as_str().unwrap().to_string();
    assert_eq!(wait_dataset(&c, &id).await["status"], "ready");
    let (s, m) = c
        .req(
            Method::POST,
            "/v1/models",
            Some(&c.a.key),
            Some(json!({"dataset": id, "horizon": 14, "windows": 5})),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{m}");
    let mid = m["id"].as_str().unwrap().to_string();
    let job = m["job_id"].as_str().unwrap().to_string();
    eventually(|| async {
        let (_, b) = c
            .req(
                Method::GET,
                &format!("/v1/models/{mid}"),
                Some(&c.a.key),
                None,
            )
            .await;
        Some(b)
    })
    .until(|b: &Value| b["status"] == "training")
    .await;
    let (s, b) = c
        .req(
            Method::DELETE,
            &format!("/v1/jobs/{job}"),
            Some(&c.a.key),
            None,
        )
        .await;
    assert!(s.is_success(), "{b}");
    let m = eventually(|| async {
        let (_, b) = c
            .req(
                Method::GET,
                &format!("/v1/models/{mid}"),
                Some(&c.a.key),
                None,
            )
            .await;
        Some(b)
    })
    .until(|b: &Value| b["status"] != "training")
    .await;
    assert_eq!(m["status"], "cancelled", "{m}");
    assert!(m["series_done"].as_i64().unwrap() < 60, "{m}");
    assert_eq!(
        m["series"].as_array().unwrap().len(),
        0,
        "nothing stored: {m}"
    );

    let (_, doc) = c.req(Method::GET, "/openapi.json", None, None).await;
    for path in [
        "/v1/datasets",
        "/v1/datasets/{id}/rows",
        "/v1/models/{id}/predict",
        "/v1/predictions/{id}/csv",
        "/v1/predictions/{id}/xlsx",
        "/v1/models/{id}/schedule",
    ] {
        assert!(
            doc["paths"][path].is_object(),
            "{path} missing from the OpenAPI document"
        );
    }
}

async fn wait_model(c: &Ctx, mid: &str) -> Value {
    eventually(|| async {
        let (_, b) = c
            .req(
                Method::GET,
                &format!("/v1/models/{mid}"),
                Some(&c.a.key),
                None,
            )
            .await;
        Some(b)
    })
    .until(|b: &Value| b["status"] != "pending" && b["status"] != "training")
    .await
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn a_retraining_schedule_fires_a_new_model_version(pool: PgPool) {
    let c = Ctx::new(pool).await;
    let _w = worker(&c);
    let (_, b) = c
        .call(csv_request("/v1/datasets", &c.a.key, &shops_csv()))
        .await;
    let id = b["id"].as_str().unwrap().to_string();
    assert_eq!(wait_dataset(&c, &id).await["status"], "ready");
    let (s, m) = c
        .req(
            Method::POST,
            "/v1/models",
            Some(&c.a.key),
            Some(json!({"dataset": id, "horizon": 5, "models": ["seasonal_naive", "ets"], "windows": 1})),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{m}");
    let mid = m["id"].as_str().unwrap().to_string();
    assert_eq!(wait_model(&c, &mid).await["status"], "ready");

    // Bad cron: 422 naming the field; another tenant's model: 404.
    let (s, e) = c
        .req(
            Method::POST,
            &format!("/v1/models/{mid}/schedule"),
            Some(&c.a.key),
            Some(json!({"cron": "every day"})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["details"]["field"], "cron", "{e}");
    let (s, _) = c
        .req(
            Method::POST,
            &format!("/v1/models/{mid}/schedule"),
            Some(&c.b.key),
            Some(json!({"cron": "0 0 3 * * *"})),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    let (s, sch) = c
        .req(
            Method::POST,
            &format!("/v1/models/{mid}/schedule"),
            Some(&c.a.key),
            Some(
                json!({"cron": "0 0 3 * * *", "timezone": "America/Sao_Paulo", "catch_up": "last"}),
            ),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{sch}");
    assert_eq!(sch["kind"], "forecast.retrain");
    assert_eq!(sch["payload"], json!({"model_id": mid}));
    let (s, _) = c
        .req(
            Method::POST,
            &format!("/v1/models/{mid}/schedule"),
            Some(&c.a.key),
            Some(json!({"cron": "0 0 4 * * *"})),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);

    // As if created two days ago: the scheduler process's own registry and
    // fire function enqueue the latest missed 03:00 tick (catch_up = last),
    // not shelve it as an unknown kind.
    sqlx::query("update schedules set updated_at = now() - interval '2 days' where id = $1::uuid")
        .bind(sch["id"].as_str().unwrap())
        .execute(&c.pool)
        .await
        .unwrap();
    let sched = scheduler::Scheduler::new(
        c.pool.clone(),
        c.state.engine.clone(),
        Arc::new(scheduler::registry()),
        scheduler::Config::default(),
    );
    let out = sched.tick(chrono::Utc::now()).await.unwrap();
    assert_eq!((out.fired, out.invalid), (1, 0), "{out:?}");

    let models = eventually(|| async {
        let (_, b) = c.req(Method::GET, "/v1/models", Some(&c.a.key), None).await;
        Some(b)
    })
    .until(|b: &Value| {
        b["models"].as_array().unwrap().len() == 2
            && b["models"][0]["status"] != "pending"
            && b["models"][0]["status"] != "training"
    })
    .await;
    let new = &models["models"][0];
    assert_ne!(new["id"], json!(mid));
    assert_eq!(new["status"], "ready", "{new}");
    assert_eq!(new["dataset_id"], json!(id));
    assert_eq!(new["horizon"], 5);
    assert_eq!(new["methods"], json!(["seasonal_naive", "ets"]));
    assert_eq!(new["series_done"], 3);
    assert!(
        new["job_id"].as_str().unwrap().starts_with("cron-"),
        "{new}"
    );
}

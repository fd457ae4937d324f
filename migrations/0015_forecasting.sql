-- Forecasting pipelines (forecasting/ crate): datasets validated from CSV
-- uploads, a model registry trained by backtests, batch predictions.
-- Never edit this file once merged; add a new numbered migration instead.

-- One CSV upload. The file is kept as sent (`csv`) so a re-validation
-- with other options needs no new upload; `forecast.validate` fills the
-- report and, when the file is valid, `forecast_series`.
--   pending → validating → ready | invalid (bad cells: see report.errors)
--   validating → failed (the job itself failed: see error)
create table forecast_datasets (
    id uuid primary key,
    tenant_id uuid not null references tenants (id) on delete cascade,
    name text not null,
    status text not null default 'pending'
        check (status in ('pending', 'validating', 'ready', 'invalid', 'failed')),
    -- forecasting::table::ReadOptions: time_column, id_column, value_columns.
    options jsonb not null default '{}'::jsonb,
    csv bytea not null,
    size_bytes integer not null,
    -- hourly | daily | weekly | monthly | quarterly | yearly (once validated)
    frequency text,
    targets text[] not null default '{}',
    series_count integer,
    -- forecasting::dataset::Report (without its per-series part when large).
    report jsonb,
    error text,
    job_id text,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    validated_at timestamptz
);
create index forecast_datasets_tenant on forecast_datasets (tenant_id, created_at desc);

-- The regular series of a valid dataset, one row per series and value
-- column: `values[k]` is at `start` + k steps of the dataset's frequency
-- (gaps already filled, as the report says). float8[] keeps 1,000 × 730
-- points at ~6 MB, read whole by training.
create table forecast_series (
    dataset_id uuid not null references forecast_datasets (id) on delete cascade,
    target text not null,
    key text not null,
    start timestamp not null,
    "values" float8[] not null,
    primary key (dataset_id, target, key)
);

-- The model registry: one training run over (some of) a dataset's series.
--   pending → training → ready | failed | cancelled
create table forecast_models (
    id uuid primary key,
    tenant_id uuid not null references tenants (id) on delete cascade,
    dataset_id uuid not null references forecast_datasets (id) on delete cascade,
    target text not null,
    -- null: every series of the dataset.
    series text[],
    horizon integer not null check (horizon between 1 and 1000),
    -- The candidates (seasonal_naive, naive, ets, mstl_ets); "auto" is stored expanded.
    methods text[] not null,
    -- Season lengths in steps; null: from the frequency.
    season_lengths integer[],
    windows integer not null check (windows between 0 and 20),
    status text not null default 'pending'
        check (status in ('pending', 'training', 'ready', 'failed', 'cancelled')),
    progress integer not null default 0 check (progress between 0 and 100),
    series_total integer,
    series_done integer not null default 0,
    frequency text,
    data_start timestamp,
    data_end timestamp,
    -- Per method: how many series chose it and its mean backtest metrics.
    summary jsonb,
    error text,
    job_id text,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    trained_at timestamptz
);
create index forecast_models_tenant on forecast_models (tenant_id, created_at desc);

-- One trained series: the chosen spec (forecasting::models::Spec), every
-- candidate's backtest metrics per window, warnings, and the training values
-- themselves so a prediction re-fits the spec on exactly what was trained
-- (augurs' fitted models are not serialisable).
create table forecast_model_series (
    model_id uuid not null references forecast_models (id) on delete cascade,
    key text not null,
    method text not null,
    spec jsonb not null,
    candidates jsonb not null,
    warnings jsonb not null default '[]'::jsonb,
    start timestamp not null,
    "values" float8[] not null,
    -- forecasting::models::Forecast from the end of the training data.
    forecast jsonb not null,
    primary key (model_id, key)
);

-- A batch prediction (forecast.predict): every series of a model, `horizon` steps.
--   pending → running → ready | failed
create table forecast_predictions (
    id uuid primary key,
    tenant_id uuid not null references tenants (id) on delete cascade,
    model_id uuid not null references forecast_models (id) on delete cascade,
    horizon integer not null check (horizon between 1 and 1000),
    status text not null default 'pending'
        check (status in ('pending', 'running', 'ready', 'failed')),
    row_count integer,
    error text,
    job_id text,
    created_at timestamptz not null default now(),
    finished_at timestamptz
);
create index forecast_predictions_tenant on forecast_predictions (tenant_id, created_at desc);

create table forecast_prediction_rows (
    prediction_id uuid not null references forecast_predictions (id) on delete cascade,
    key text not null,
    step integer not null,
    at timestamp not null,
    point float8 not null,
    lo80 float8 not null,
    hi80 float8 not null,
    lo95 float8 not null,
    hi95 float8 not null,
    primary key (prediction_id, key, step)
);

-- Monitoring: actuals that arrive after training (`POST /v1/datasets/{id}/rows`),
-- scored against the forecasts the models stored.
create table forecast_actuals (
    dataset_id uuid not null references forecast_datasets (id) on delete cascade,
    target text not null,
    key text not null,
    at timestamp not null,
    value float8 not null,
    received_at timestamptz not null default now(),
    primary key (dataset_id, target, key, at)
);

-- A series whose forecast error on the actuals drifted past the threshold
-- (forecasting::monitor): one row per model and series, updated as actuals arrive.
create table forecast_drift_alerts (
    id uuid primary key,
    tenant_id uuid not null references tenants (id) on delete cascade,
    model_id uuid not null references forecast_models (id) on delete cascade,
    key text not null,
    points integer not null,
    mase float8 not null,
    backtest_mase float8,
    threshold float8 not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint forecast_drift_alerts_series unique (model_id, key)
);
create index forecast_drift_alerts_tenant on forecast_drift_alerts (tenant_id, created_at desc);

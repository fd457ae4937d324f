-- Reports: one row per requested report (a report card, a class, campaign or
-- occupancy report in PDF, XLSX, CSV or a ZIP of PDFs), rendered by the
-- `reports.render` job (reports/ crate, run by the worker) into the blob
-- store. Scheduled reports are ordinary tenant schedules (0002) of the
-- `reports.scheduled` kind, whose reports carry `deliver_to`.
-- Written by /v1/reports (api-lite) and by the render job; read by both.
-- Never edit this file once merged; add a new numbered migration instead.

create table reports (
    id uuid primary key,
    tenant_id uuid not null references tenants (id) on delete cascade,
    report_type text not null check (report_type in
        ('student_report_card', 'class_report', 'campaign_report', 'occupancy_report')),
    format text not null check (format in ('pdf', 'xlsx', 'csv', 'zip')),
    -- the validated, normalised request parameters (jobs/src/kinds/reports/model.rs)
    params jsonb not null,
    -- hex SHA-256 of (type, format, canonical params): an identical request
    -- within the dedup window returns the same report
    params_hash text not null,
    status text not null default 'queued' check (status in
        ('queued', 'running', 'done', 'failed', 'cancelled')),
    -- units rendered (students, sections) out of the total; total 0 = not known yet
    progress_done integer not null default 0 check (progress_done >= 0),
    progress_total integer not null default 0 check (progress_total >= 0),
    pages integer,
    size_bytes bigint,
    -- blob store key (`<tenant>/<aa>/<sha256>`) once done; never set before the file is complete
    blob_key text,
    file_name text,
    error text,
    job_id text,
    -- e-mail the finished file to these addresses (scheduled reports): attached
    -- up to `reports.attach_max_bytes`, else a signed link
    deliver_to text[] not null default '{}',
    delivered_at timestamptz,
    created_at timestamptz not null default now(),
    started_at timestamptz,
    finished_at timestamptz
);
create index reports_tenant_created on reports (tenant_id, created_at desc);
create index reports_dedup on reports (tenant_id, params_hash, created_at desc);

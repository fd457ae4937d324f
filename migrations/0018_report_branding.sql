-- Reports (issue 17): a tenant's branding on every report: header colours
-- (PDF header, tables, charts; XLSX header row) and a logo (PNG or SVG).
create table report_branding (
    tenant_id     uuid primary key references tenants(id) on delete cascade,
    primary_color text not null,
    accent_color  text not null,
    logo          bytea,
    logo_format   text check (logo_format in ('png', 'svg')),
    updated_at    timestamptz not null default now(),
    check ((logo is null) = (logo_format is null))
);

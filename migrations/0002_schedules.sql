-- Cron schedules: per-tenant rows managed through /v1/schedules, and system
-- rows mirrored from config/schedules.toml by the scheduler (tenant_id null).
-- Never edit this file once merged; add a new numbered migration instead.

create table schedules (
    id uuid primary key,
    -- null = a system schedule from config/schedules.toml (its jobs run as tenant `system`)
    tenant_id uuid references tenants (id) on delete cascade,
    name text not null check (length(name) between 1 and 100),
    -- `sec min hour day month weekday [year]`, checked in Rust (jobs::store::schedules::parse_cron)
    cron text not null,
    -- IANA zone the expression is read in (checked in Rust with chrono-tz)
    timezone text not null default 'America/Sao_Paulo',
    kind text not null,
    payload jsonb not null default '{}'::jsonb,
    enabled boolean not null default true,
    -- after downtime: `none` drops missed ticks, `last` enqueues the most recent one
    catch_up text not null default 'none' check (catch_up in ('none', 'last')),
    -- the latest tick enqueued
    last_fired_at timestamptz,
    -- the scheduler's cursor: every tick before it is handled; null = count from updated_at
    next_run_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint schedules_tenant_id_name_key unique (tenant_id, name)
);

-- unique (tenant_id, name) lets nulls repeat: system names get their own index
-- (also the conflict target of the scheduler's upsert).
create unique index schedules_system_name_key on schedules (name) where tenant_id is null;

-- the scheduler's query each tick: enabled rows whose cursor is due or unset
create index schedules_due on schedules (next_run_at nulls first) where enabled;

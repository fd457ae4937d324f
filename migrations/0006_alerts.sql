-- Academic alerts: a tenant's rules over the academic records (0005), the
-- alerts they raise per student (one row per rule, student and scope, whose
-- status moves open → acknowledged → resolved → open again), and every
-- change of an alert as an event (the history).
-- Read and written by `alerts.evaluate` (jobs/src/kinds/alerts) and the
-- /v1/alert-rules and /v1/alerts routes.
-- Never edit this file once merged; add a new numbered migration instead.

create table alert_rules (
    id uuid primary key,
    tenant_id uuid not null references tenants (id) on delete cascade,
    name text not null check (length(name) between 1 and 200),
    enabled boolean not null default true,
    -- The condition tree, checked in Rust (kinds/alerts/rule.rs):
    -- {"type": "attendance_below", "min_pct": 75, "scope": "subject"}, ...
    condition jsonb not null,
    -- who is told: subset of guardians | class_teacher | coordinator
    audience text[] not null check (cardinality(audience) > 0),
    -- channels the rule may use, in order of preference (email|sms|whatsapp|push)
    channels text[] not null check (cardinality(channels) > 0),
    urgency text not null default 'normal' check (urgency in ('low', 'normal', 'high')),
    -- pt-BR minijinja templates (the e-mail subject and the message)
    subject text,
    template text not null,
    -- after an alert was notified, a re-opened alert of the same rule,
    -- student and scope stays silent this long (flapping data)
    cooldown_secs integer not null default 604800 check (cooldown_secs >= 0),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint alert_rules_name_key unique (tenant_id, name)
);

create table alerts (
    id uuid primary key,
    tenant_id uuid not null references tenants (id) on delete cascade,
    rule_id uuid not null references alert_rules (id) on delete cascade,
    student_id uuid not null references students (id) on delete cascade,
    -- what inside the student the rule holds for: '' (the student),
    -- a subject code, or 'occurrence:<external id>'
    scope text not null default '',
    status text not null check (status in ('open', 'acknowledged', 'resolved')),
    -- 1 when first opened, +1 at each re-open; notifications are keyed on it
    episode integer not null default 1,
    -- the values the rule saw at its latest evaluation (template variables)
    details jsonb not null default '{}'::jsonb,
    opened_at timestamptz not null,
    last_seen_at timestamptz not null,
    resolved_at timestamptz,
    acknowledged_at timestamptz,
    acknowledged_by text,
    -- the episode whose notifications were handled (sent, or skipped by the cooldown)
    notified_episode integer not null default 0,
    notified_at timestamptz,
    -- recipients of the latest episode that could not be reached (no contact
    -- for any of the rule's channels): [{"kind", "id", "name", "reason"}]
    unreachable jsonb not null default '[]'::jsonb,
    constraint alerts_key unique (tenant_id, rule_id, student_id, scope)
);
create index alerts_tenant_status on alerts (tenant_id, status, opened_at desc);
create index alerts_student on alerts (student_id);

-- The history: opened, reopened, resolved, acknowledged, notified,
-- notify_skipped (cooldown), unreachable.
create table alert_events (
    id bigint generated always as identity primary key,
    tenant_id uuid not null references tenants (id) on delete cascade,
    alert_id uuid not null references alerts (id) on delete cascade,
    event text not null,
    episode integer not null,
    details jsonb not null default '{}'::jsonb,
    at timestamptz not null default now()
);
create index alert_events_alert on alert_events (alert_id, id);

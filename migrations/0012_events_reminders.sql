-- Events and reminders (issue 16): booking / tutoring events from Redis
-- Streams and `POST /v1/events`, the booking state they build (with a
-- version), per-tenant reminder rules, the reminder rows planned from them,
-- dead-lettered stream entries, and the product's tenant ids.
-- Code: jobs/src/kinds/events/. Never edit this file once merged.

-- A product's own tenant id (the stream's `metadata.tenant_id`) → a Tarefa
-- tenant. `source` names the product (a stream's `source` in config), so two
-- products may use the same ids.
create table tenant_external_ids (
    source text not null check (length(source) between 1 and 100),
    external_id text not null check (length(external_id) between 1 and 200),
    tenant_id uuid not null references tenants (id) on delete cascade,
    created_at timestamptz not null default now(),
    primary key (source, external_id)
);

create index tenant_external_ids_tenant on tenant_external_ids (tenant_id);

-- Every event recorded, once: unique per tenant and the event's own id (or
-- `<stream>:<entry id>` when it has none), so a re-delivered entry or a
-- repeated HTTP batch changes nothing.
create table events (
    id uuid primary key,
    tenant_id uuid not null references tenants (id) on delete cascade,
    event_id text not null check (length(event_id) between 1 and 200),
    event_type text not null,
    -- the booking or session the event is about
    booking_id text not null,
    -- 'http' or the stream key
    source text not null,
    stream_entry_id text,
    occurred_at timestamptz not null,
    received_at timestamptz not null default now(),
    -- applied | stale (older than what the booking already reflects) | ignored
    outcome text not null,
    payload jsonb not null,
    constraint events_tenant_event unique (tenant_id, event_id)
);

create index events_tenant_received on events (tenant_id, received_at desc);
create index events_booking on events (tenant_id, booking_id, occurred_at);

-- What Tarefa knows of one booking (white-label booking) or session
-- (tutoring). `version` grows with every change that moves reminders; a
-- reminder planned for an older version never sends.
create table event_bookings (
    tenant_id uuid not null references tenants (id) on delete cascade,
    booking_id text not null check (length(booking_id) between 1 and 200),
    -- booking | session
    family text not null check (family in ('booking', 'session')),
    version bigint not null default 1,
    status text,
    user_id text,
    resource_id text,
    start_time timestamptz,
    end_time timestamptz,
    -- who to remind: {"client": {"name","email","phone","push_token"}, "staff": {...}}
    contacts jsonb not null default '{}'::jsonb,
    -- set by a cancel, whatever order events arrive in: never undone
    cancelled boolean not null default false,
    -- set by review.created: no review request goes out after it
    review_received boolean not null default false,
    -- has a create (booking.created / session.scheduled) been seen?
    created_seen boolean not null default false,
    -- occurred_at of the newest applied schedule change (start/end)
    time_changed_at timestamptz,
    -- occurred_at of the newest applied status change
    status_changed_at timestamptz,
    updated_at timestamptz not null default now(),
    primary key (tenant_id, booking_id)
);

-- Per tenant and family: when to remind whom, on which channels, with which text.
create table reminder_rules (
    id uuid primary key,
    tenant_id uuid not null references tenants (id) on delete cascade,
    family text not null check (family in ('booking', 'session')),
    name text not null check (length(name) between 1 and 100),
    -- before_start: offset_minutes before the start; day_before_at: the local
    -- day before the start at local_time; after_end: offset_minutes after the
    -- end (review requests); on_cancel / on_confirm / on_no_show: notices,
    -- at once (on_no_show: the follow-up when the product reports a no-show).
    trigger text not null check (trigger in
        ('before_start', 'day_before_at', 'after_end', 'on_cancel', 'on_confirm', 'on_no_show')),
    offset_minutes integer not null default 0 check (offset_minutes between 0 and 525600),
    local_time time,
    audience text not null default 'client' check (audience in ('client', 'staff', 'both')),
    channels text[] not null check (
        cardinality(channels) > 0
        and channels <@ array['email', 'push', 'sms', 'whatsapp']::text[]
    ),
    -- minijinja body (pt-BR); null = the built-in text for the trigger
    template text,
    -- urgent notices ignore quiet hours
    urgent boolean not null default false,
    enabled boolean not null default true,
    created_at timestamptz not null default now(),
    check (trigger <> 'day_before_at' or local_time is not null)
);

create index reminder_rules_tenant on reminder_rules (tenant_id, family) where enabled;

-- The tenant's words in messages ("Aula", "Sala", "Aluno").
create table event_settings (
    tenant_id uuid primary key references tenants (id) on delete cascade,
    -- {"booking": "Aula", "resource": "Sala", "client": "Aluno", "staff": "Professor"}
    labels jsonb not null default '{}'::jsonb,
    -- event types delivered to the tenant's webhook channel (signed, retried,
    -- visible in /v1/notifications): 'booking.created', 'booking.*', 'reminder.sent', '*'
    webhook_events text[] not null default '{}',
    updated_at timestamptz not null default now()
);

-- One reminder (or notice) for one booking version and rule.
-- pending → enqueued (the scheduler pushed its `events.remind` job) → sent,
-- or skipped (stale version, cancelled, review already in, no address),
-- superseded (a newer version replaced it), cancelled (the booking was).
create table reminders (
    id uuid primary key,
    tenant_id uuid not null references tenants (id) on delete cascade,
    booking_id text not null,
    rule_id uuid not null references reminder_rules (id) on delete cascade,
    version bigint not null,
    due_at timestamptz not null,
    status text not null default 'pending' check (status in
        ('pending', 'enqueued', 'sent', 'skipped', 'superseded', 'cancelled')),
    reason text,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint reminders_booking_rule_version unique (tenant_id, booking_id, rule_id, version),
    foreign key (tenant_id, booking_id) references event_bookings (tenant_id, booking_id) on delete cascade
);

-- the scheduler's scan: due pending rows, oldest first
create index reminders_due on reminders (due_at) where status = 'pending';
create index reminders_booking on reminders (tenant_id, booking_id);

-- Stream entries that cannot be handled: malformed, unknown tenant, or
-- delivered `max_deliveries` times without success. Kept with their raw
-- fields and the last error; ops retry (re-handle) or discard them.
create table event_dead_letters (
    id uuid primary key,
    stream text not null,
    entry_id text not null,
    -- known when the entry named a mapped tenant
    tenant_id uuid references tenants (id) on delete cascade,
    fields jsonb not null,
    reason text not null,
    deliveries integer not null default 1,
    created_at timestamptz not null default now(),
    -- null while open; then 'retried' or 'discarded'
    resolution text check (resolution in ('retried', 'discarded')),
    resolved_at timestamptz,
    constraint event_dead_letters_entry unique (stream, entry_id)
);

create index event_dead_letters_open on event_dead_letters (created_at desc) where resolution is null;

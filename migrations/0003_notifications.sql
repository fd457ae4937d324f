-- Notifications: per-tenant channel settings, templates, opt-outs, quiet
-- hours, the outbox (one row per message, sent at most once), dead device
-- tokens and notices to tenants. See jobs/src/kinds/notify/README in mod.rs.
-- Never edit this file once merged; add a new numbered migration instead.

-- How a tenant reaches people on one channel. `settings` holds addresses,
-- ids and the NAMES of environment variables holding secrets
-- (`password_env`, `access_token_env`, ...), never a secret itself.
create table notification_channels (
    tenant_id uuid not null references tenants (id) on delete cascade,
    channel text not null check (channel in ('email', 'push', 'sms', 'whatsapp', 'webhook')),
    settings jsonb not null default '{}'::jsonb,
    enabled boolean not null default true,
    -- webhooks: failures in a row; at `notifications.webhook_max_failures` the channel is disabled
    consecutive_failures integer not null default 0,
    disabled_reason text,
    updated_at timestamptz not null default now(),
    primary key (tenant_id, channel)
);

-- minijinja templates, per tenant, name (the notification's kind, e.g.
-- `grade_posted`), channel and locale. `variables` is the declared list a
-- template may use; a template using anything else is refused when saved.
create table notification_templates (
    id uuid primary key,
    tenant_id uuid not null references tenants (id) on delete cascade,
    name text not null check (name ~ '^[a-z0-9][a-z0-9_.-]{0,99}$'),
    channel text not null check (channel in ('email', 'push', 'sms', 'whatsapp', 'webhook')),
    locale text not null default 'pt-BR',
    subject text,
    body text not null,
    html text,
    variables text[] not null default '{}',
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint notification_templates_name_key unique (tenant_id, name, channel, locale)
);

-- A recipient who asked not to be reached on a channel: messages to them
-- are recorded as `suppressed` and never sent.
create table notification_opt_outs (
    tenant_id uuid not null references tenants (id) on delete cascade,
    channel text not null,
    recipient text not null,
    reason text not null default '',
    created_at timestamptz not null default now(),
    primary key (tenant_id, channel, recipient)
);

-- Quiet hours in the tenant's timezone: non-urgent messages wait until `end_minute`.
-- Minutes after local midnight; start > end spans midnight (22:00-07:00).
create table notification_policies (
    tenant_id uuid primary key references tenants (id) on delete cascade,
    quiet_start_minute integer check (quiet_start_minute between 0 and 1439),
    quiet_end_minute integer check (quiet_end_minute between 0 and 1439),
    updated_at timestamptz not null default now()
);

-- The outbox: written BEFORE the provider call, unique per (tenant, dedup_key).
-- queued → sending → sent → delivered → read, or failed | suppressed | unknown.
-- `sending` found by a later run means a worker died during the provider call:
-- the row becomes `unknown` for ops, and is never silently re-sent.
create table notifications (
    id uuid primary key,
    tenant_id uuid not null references tenants (id) on delete cascade,
    dedup_key text not null check (length(dedup_key) between 1 and 200),
    channel text not null check (channel in ('email', 'push', 'sms', 'whatsapp', 'webhook')),
    recipient text not null,
    -- what to send: template name + data, or literal content (see kinds/notify/model.rs)
    message jsonb not null,
    urgent boolean not null default false,
    status text not null default 'queued' check (status in
        ('queued', 'sending', 'sent', 'delivered', 'read', 'failed', 'suppressed', 'unknown')),
    provider_message_id text,
    attempts integer not null default 0,
    last_error text,
    job_id text,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    sent_at timestamptz,
    delivered_at timestamptz,
    read_at timestamptz,
    constraint notifications_dedup_key unique (tenant_id, dedup_key)
);

create index notifications_tenant_created on notifications (tenant_id, created_at desc);
-- provider callbacks find their row by the provider's id
create index notifications_provider_id on notifications (channel, provider_message_id)
    where provider_message_id is not null;

-- FCM answered UNREGISTERED for this device token: never push to it again.
create table notification_dead_tokens (
    tenant_id uuid not null references tenants (id) on delete cascade,
    token text not null,
    reason text not null,
    created_at timestamptz not null default now(),
    primary key (tenant_id, token)
);

-- Things a tenant should hear about (a webhook disabled after repeated failures).
create table notification_notices (
    id uuid primary key,
    tenant_id uuid not null references tenants (id) on delete cascade,
    channel text not null,
    message text not null,
    created_at timestamptz not null default now()
);

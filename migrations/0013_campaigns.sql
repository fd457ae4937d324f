-- Campaigns: WhatsApp bulk sends (jobs/src/kinds/campaigns). Contacts with
-- tags, attributes and opt-out; the tenant's registered WhatsApp templates;
-- campaigns (a state machine) and their frozen recipients. Each recipient's
-- message goes through the notifications outbox (dedup key
-- `campaign:<campaign>:<contact>`), so it is sent at most once.
-- Never edit this file once merged; add a new numbered migration instead.

-- A person a tenant may message, by the product's own id (`external_id`).
-- `phone` is E.164 (`+5511987654321`) or null when the given number could not
-- be normalised (`phone_raw` keeps what was sent, `phone_error` says why).
create table contacts (
    id uuid primary key,
    tenant_id uuid not null references tenants (id) on delete cascade,
    external_id text not null check (length(external_id) between 1 and 200),
    name text not null default '',
    phone text check (phone ~ '^\+[1-9][0-9]{7,14}$'),
    phone_raw text not null default '',
    phone_error text,
    tags text[] not null default '{}',
    -- template variables and segment conditions (`{"city": "Recife", "plan": "gold"}`)
    attributes jsonb not null default '{}'::jsonb check (jsonb_typeof(attributes) = 'object'),
    opted_in_at timestamptz,
    opt_in_source text,
    opted_out_at timestamptz,
    opt_out_source text,
    blocked boolean not null default false,
    -- the user stopped marketing messages (Meta 131050) or asked to (a stop word)
    marketing_opt_out boolean not null default false,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint contacts_external_id unique (tenant_id, external_id)
);
create index contacts_tenant_phone on contacts (tenant_id, phone);
create index contacts_tags on contacts using gin (tags);
create index contacts_attributes on contacts using gin (attributes jsonb_path_ops);

-- Templates the tenant has had approved by Meta, as Tarefa needs to know them:
-- the body text (`Olá {{1}}, seu cupom {{2}}`) and the names of its body
-- parameters in order (`["first_name", "coupon"]`), which campaigns map to
-- contact fields.
create table whatsapp_templates (
    id uuid primary key,
    tenant_id uuid not null references tenants (id) on delete cascade,
    name text not null check (name ~ '^[a-z0-9_]+$' and length(name) <= 512),
    language text not null default 'pt_BR',
    category text not null check (category in ('marketing', 'utility', 'authentication')),
    body text not null default '',
    parameters text[] not null default '{}',
    -- Meta's `components` as registered (header/buttons), for reference
    components jsonb not null default '[]'::jsonb,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint whatsapp_templates_name unique (tenant_id, name, language)
);

-- Per-tenant campaign settings: the portfolio's messaging-limit tier (unique
-- contacts per rolling 24 h, shared by all campaigns and numbers; null =
-- unlimited) and the inbound stop words that opt a contact out.
create table campaign_settings (
    tenant_id uuid primary key references tenants (id) on delete cascade,
    messaging_limit integer check (messaging_limit in (250, 2000, 10000, 100000)),
    stop_words text[] not null default '{SAIR,PARAR,STOP,CANCELAR,DESCADASTRAR}',
    -- the WhatsApp Business Account id: its quality and account webhooks
    -- (`phone_number_quality_update`, `account_update`) pause the tenant's running campaigns
    waba_id text,
    updated_at timestamptz not null default now()
);

-- A campaign. States:
--   draft → scheduled → running ⇄ paused → completed | cancelled
--   draft → running (start now); any non-final → cancelled; running|paused → failed (reason)
create table campaigns (
    id uuid primary key,
    tenant_id uuid not null references tenants (id) on delete cascade,
    name text not null check (length(name) between 1 and 200),
    state text not null default 'draft' check (state in
        ('draft', 'scheduled', 'running', 'paused', 'completed', 'cancelled', 'failed')),
    -- why it paused, failed or was cancelled (`meta 131048: spam rate limit`, `quality_guard`, `by user`)
    state_reason text,
    -- the WhatsApp Business number (Cloud API phone_number_id) it sends from
    sender_phone_number_id text not null,
    template_id uuid not null references whatsapp_templates (id),
    -- template parameter name → {"source": "name" | "phone" | "external_id" | "attributes.<key>", "default": "…"}
    parameters jsonb not null default '{}'::jsonb,
    -- {"type": "all"} | {"type": "tags", "any_of": [], "all_of": [], "none_of": []}
    -- | {"type": "list", "external_ids": []} | {"type": "segment", "conditions": [...]}
    audience jsonb not null,
    start_at timestamptz,
    -- send window in the tenant's timezone, minutes after local midnight; null = any time
    window_start_minute integer check (window_start_minute between 0 and 1439),
    window_end_minute integer check (window_end_minute between 0 and 1440),
    -- messages per second asked for, and the rate in force (lowered after Meta 130429)
    rate_per_second integer not null check (rate_per_second between 1 and 1000),
    effective_rate integer not null check (effective_rate between 1 and 1000),
    min_delay_ms integer not null default 0 check (min_delay_ms between 0 and 3600000),
    -- the number's throughput (80 default, 1000 once Meta upgraded it)
    throughput integer not null default 80,
    -- the last Meta 130429: the rate climbs back only 10 s after it
    throttled_at timestamptz,
    -- only the dispatch chain carrying this number runs; bumped on each start/resume
    dispatch_seq bigint not null default 0,
    -- exclusions by reason when the audience was frozen
    exclusions jsonb not null default '{}'::jsonb,
    recipients_count integer not null default 0,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    started_at timestamptz,
    finished_at timestamptz
);
create index campaigns_tenant_created on campaigns (tenant_id, created_at desc, id desc);
create index campaigns_sender on campaigns (sender_phone_number_id);

-- One row per contact of a started campaign (the frozen audience).
-- queued → dispatched → sending → sent → delivered → read; or failed (error_code),
-- skipped (reason), deferred (until `deferred_until`, then queued again),
-- cancelled, unknown (the provider call ended without an answer: never re-sent).
create table campaign_recipients (
    id uuid primary key,
    campaign_id uuid not null references campaigns (id) on delete cascade,
    tenant_id uuid not null references tenants (id) on delete cascade,
    contact_id uuid not null references contacts (id) on delete cascade,
    phone text not null,
    status text not null default 'queued' check (status in
        ('queued', 'dispatched', 'sending', 'sent', 'delivered', 'read', 'failed',
         'skipped', 'deferred', 'cancelled', 'unknown')),
    reason text,
    error_code integer,
    notification_id uuid,
    wamid text,
    attempts integer not null default 0,
    dispatched_at timestamptz,
    sent_at timestamptz,
    delivered_at timestamptz,
    read_at timestamptz,
    replied_at timestamptz,
    failed_at timestamptz,
    deferred_until timestamptz,
    updated_at timestamptz not null default now(),
    constraint campaign_recipients_contact unique (campaign_id, contact_id),
    constraint campaign_recipients_phone unique (campaign_id, phone)
);
create index campaign_recipients_status on campaign_recipients (campaign_id, status);
create index campaign_recipients_wamid on campaign_recipients (wamid) where wamid is not null;
-- the rolling 24 h messaging limit and replies look these up
create index campaign_recipients_tenant_sent on campaign_recipients (tenant_id, sent_at) where sent_at is not null;
create index campaign_recipients_tenant_phone on campaign_recipients (tenant_id, phone, sent_at);

-- What happened to a campaign (transitions, auto-pauses, rate changes): its notices.
create table campaign_events (
    id bigserial primary key,
    campaign_id uuid not null references campaigns (id) on delete cascade,
    at timestamptz not null default now(),
    kind text not null,
    message text not null default ''
);
create index campaign_events_campaign on campaign_events (campaign_id, at);

-- A status webhook that arrived before the send recorded its wamid (Meta can
-- answer the API call after posting `sent`): kept here and applied when the
-- wamid is recorded. Rows older than a day are useless and may be deleted.
create table campaign_status_early (
    wamid text not null,
    status text not null,
    error_code integer,
    at timestamptz not null,
    primary key (wamid, status)
);

-- Payments: charges and refunds through a Stripe-compatible provider
-- (jobs/src/kinds/payments). Money is integer cents everywhere.
-- Never edit this file once merged; add a new numbered migration instead.

-- One charge. `idempotency_key` is the caller's (`Idempotency-Key` header):
-- the same key with the same request returns this row, with another request
-- is refused. The provider call itself uses a key derived from `id`, so every
-- attempt of the job is the same request at the provider.
-- Status moves forward only:
--   pending → requires_action | processing → succeeded → partially_refunded → refunded
--   pending → failed (a decline, for good) ; failed → succeeded (the customer
--   completed the payment later: a provider event says so)
--   needs_review: the provider refused the request in a way only ops can settle
--   (an idempotency mismatch, `Stripe-Should-Retry: false`, the outcome unknown
--   past the key window and not found by reconciliation).
create table payments (
    id uuid primary key,
    tenant_id uuid not null references tenants (id) on delete cascade,
    idempotency_key text,
    request_hash text not null,
    amount_cents bigint not null check (amount_cents > 0),
    currency text not null check (currency ~ '^[a-z]{3}$'),
    customer text,
    payment_method text,
    description text,
    reference text,
    receipt_email text,
    metadata jsonb not null default '{}'::jsonb,
    status text not null default 'pending' check (status in
        ('pending', 'requires_action', 'processing', 'succeeded', 'failed',
         'partially_refunded', 'refunded', 'needs_review')),
    amount_received_cents bigint not null default 0 check (amount_received_cents >= 0),
    amount_refunded_cents bigint not null default 0 check (amount_refunded_cents >= 0),
    provider_payment_id text,
    provider_charge_id text,
    failure_code text,
    decline_code text,
    failure_message text,
    job_id text,
    attempts integer not null default 0,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    succeeded_at timestamptz,
    constraint payments_refund_within check (amount_refunded_cents <= amount_received_cents),
    constraint payments_idempotency_key unique (tenant_id, idempotency_key)
);
create index payments_tenant_created on payments (tenant_id, created_at desc, id desc);
create index payments_tenant_status on payments (tenant_id, status);
create index payments_reference on payments (tenant_id, reference) where reference is not null;
create unique index payments_provider_id on payments (provider_payment_id) where provider_payment_id is not null;

-- Every call the charge job made to the provider, for `GET /v1/payments/{id}`.
create table payment_attempts (
    payment_id uuid not null references payments (id) on delete cascade,
    n integer not null,
    at timestamptz not null default now(),
    -- create | retrieve | search
    action text not null,
    -- succeeded | requires_action | processing | declined | retry | unknown | mismatch | not_found | error
    outcome text not null,
    http_status integer,
    error text,
    primary key (payment_id, n)
);

-- A refund of (part of) a payment. The sum of the refunds not failed never
-- exceeds what was received (checked under the payment's row lock).
create table payment_refunds (
    id uuid primary key,
    payment_id uuid not null references payments (id) on delete cascade,
    tenant_id uuid not null references tenants (id) on delete cascade,
    idempotency_key text,
    amount_cents bigint not null check (amount_cents > 0),
    reason text,
    status text not null default 'pending' check (status in ('pending', 'succeeded', 'failed', 'needs_review')),
    provider_refund_id text,
    failure_message text,
    job_id text,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint payment_refunds_idempotency_key unique (tenant_id, idempotency_key)
);
create index payment_refunds_payment on payment_refunds (payment_id);

-- Provider events (webhooks), each recorded once by its id; `applied` says
-- whether it moved a payment (a late or duplicate one does not).
create table payment_events (
    provider_event_id text primary key,
    payment_id uuid references payments (id) on delete cascade,
    event_type text not null,
    received_at timestamptz not null default now(),
    applied boolean not null,
    payload jsonb not null
);
create index payment_events_payment on payment_events (payment_id);

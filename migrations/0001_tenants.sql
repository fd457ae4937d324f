-- Tenants and their API keys: who may post jobs, and as whom.
-- Never edit this file once merged; add a new numbered migration instead.

-- One row per customer organisation (a school, a company, a booking brand).
-- Every job, key and domain row belongs to exactly one tenant.
create table tenants (
    id uuid primary key,
    name text not null check (length(name) between 1 and 200),
    -- URL-safe handle; also accepted as the tenant claim of a product-issued JWT.
    slug text not null unique check (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    -- IANA name (checked in Rust with chrono-tz): business rules run in this zone.
    timezone text not null default 'America/Sao_Paulo',
    plan text not null default 'standard',
    -- Per-tenant limits, e.g. {"jobs_per_minute": 600}; empty = plan defaults.
    quotas jsonb not null default '{}'::jsonb,
    -- Product-issued JWTs for this tenant: an RS256 public key (PEM) ...
    jwt_rs256_public_key text,
    -- ... and/or the NAME of an environment variable holding an HS256 secret
    -- (the secret itself never touches the database).
    jwt_hs256_secret_env text,
    -- Claim naming the tenant in those JWTs (e.g. institution_id); null = the global setting.
    jwt_tenant_claim text,
    created_at timestamptz not null default now()
);

-- API keys: `tfk_<prefix>_<secret>`. Only the prefix (for lookup) and the
-- SHA-256 of the whole key are stored; the key is shown once, at creation.
create table api_keys (
    id uuid primary key,
    tenant_id uuid not null references tenants (id) on delete cascade,
    prefix text not null unique,
    -- hex SHA-256 of the full key
    key_hash text not null,
    scopes text[] not null check (
        cardinality(scopes) > 0
        and scopes <@ array['jobs:write', 'jobs:read', 'admin']::text[]
    ),
    name text not null default '',
    created_at timestamptz not null default now(),
    -- updated at most once a minute per key, so a busy key costs no write per request
    last_used_at timestamptz,
    -- set once; a revoked key is refused (401) but kept for the audit trail
    revoked_at timestamptz
);

create index api_keys_tenant_id on api_keys (tenant_id);

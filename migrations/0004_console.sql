-- The ops console: its users, their sessions, and the audit trail of every
-- ops action (console or API). Never edit this file once merged.

-- People who sign in to /console. Platform-wide (not per tenant): ops see every queue.
create table ops_users (
    id uuid primary key,
    email text not null unique check (email ~ '^[^@\s]+@[^@\s]+$'),
    -- argon2id PHC string ($argon2id$v=19$...); the password itself is never stored
    password_hash text not null,
    created_at timestamptz not null default now(),
    disabled_at timestamptz
);

-- A signed-in browser. The cookie holds a random token; only its SHA-256 is
-- stored, so a leaked table row cannot be replayed as a cookie.
create table ops_sessions (
    token_hash text primary key,
    user_id uuid not null references ops_users (id) on delete cascade,
    -- sent in every console form; a POST without it is refused (403)
    csrf_token text not null,
    created_at timestamptz not null default now(),
    expires_at timestamptz not null
);

create index ops_sessions_expires_at on ops_sessions (expires_at);

-- Who did what, when: retry, delete, cancel, pause, resume, key created or
-- revoked, login. Append-only.
create table audit_log (
    id bigint generated always as identity primary key,
    at timestamptz not null default now(),
    -- `ops:<email>`, `key:<key prefix>`, `tenant:<id>` (JWT), or `cli`
    actor text not null,
    -- the tenant whose credential acted (API) or whose job was touched; null for platform-wide acts
    tenant_id uuid references tenants (id) on delete set null,
    -- retry, delete, cancel, pause, resume, bulk_retry, bulk_delete, bulk_cancel, key_created, key_revoked, login, login_failed
    action text not null,
    -- job id, queue name, key id, e-mail...
    target text not null default '',
    details jsonb not null default '{}'::jsonb
);

create index audit_log_at on audit_log (at desc);
create index audit_log_tenant_at on audit_log (tenant_id, at desc);

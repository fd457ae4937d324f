-- Encryption at rest (issue 21 item 2): each tenant's data keys.
-- Never edit this file once merged; add a new numbered migration instead.
--
-- Payloads and results of personal-data job kinds (in Redis) and uploaded
-- documents and rendered reports (in the blob store) are sealed with
-- AES-256-GCM under a per-tenant data key. The data key itself is stored only
-- wrapped (AES-256-GCM) by a master key that lives in the environment
-- (`TAREFA_MASTER_KEYS`), never in the database: a database dump alone opens
-- nothing. `worker keys rotate-master` re-wraps every row under the current
-- master key; the data keys (and so every sealed value) stay the same.
create table tenant_data_keys (
    tenant_id uuid not null references tenants (id) on delete cascade,
    -- 1, 2, …: the key id written beside each sealed value (`v1:<key_id>:…`).
    key_id integer not null check (key_id > 0),
    -- Name of the master key that wraps it (an entry of TAREFA_MASTER_KEYS).
    master_key_id text not null check (master_key_id ~ '^[A-Za-z0-9_.-]{1,64}$'),
    -- 12-byte nonce || AES-256-GCM(master key, data key) || 16-byte tag; the
    -- associated data names tenant and key id, so a row cannot be moved.
    wrapped bytea not null check (length(wrapped) = 60),
    created_at timestamptz not null default now(),
    rewrapped_at timestamptz,
    primary key (tenant_id, key_id)
);

-- Rotation looks for rows still under an old master key.
create index tenant_data_keys_master on tenant_data_keys (master_key_id);

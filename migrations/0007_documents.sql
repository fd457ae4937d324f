-- Uploaded documents (boletins, históricos escolares as PDF) and what their
-- extraction found. The file itself lives in the blob store, content-addressed
-- by SHA-256 (`<tenant>/<aa>/<sha256>`); this row is its system of record.
-- Written by `POST /v1/documents` and the `documents.extract` job kind
-- (jobs/src/kinds/documents); read by `GET /v1/documents[/{id}]`.
-- Never edit this file once merged; add a new numbered migration instead.

create table documents (
    id uuid primary key,
    tenant_id uuid not null references tenants (id) on delete cascade,
    -- Lower-case hex SHA-256 of the bytes: the same file twice for one tenant
    -- is the same document (see the unique constraint below).
    sha256 text not null check (sha256 ~ '^[0-9a-f]{64}$'),
    size_bytes bigint not null check (size_bytes > 0),
    -- As the uploader named it (display only; never used as a path).
    filename text not null default '' check (length(filename) <= 255),
    content_type text not null default 'application/pdf',
    -- Hints given at upload: the student the document is about, and what it is.
    student_id uuid references students (id) on delete set null,
    doc_type text check (doc_type in ('boletim', 'historico')),
    -- queued -> processing -> succeeded | failed; back to queued on `?reextract=true`
    -- or while a retryable failure waits for its retry.
    status text not null default 'queued'
        check (status in ('queued', 'processing', 'succeeded', 'failed')),
    pages int check (pages >= 0),
    method text check (method in ('text', 'ocr', 'mixed')),
    -- 0-100, mean of the pages' confidence.
    confidence real,
    -- The extraction (documents::Extraction as JSON, with `document_id`).
    result jsonb,
    -- The student whose academic records the result was written to, if any.
    records_student_id uuid references students (id) on delete set null,
    -- Why the last attempt failed: a code (`not_pdf`, `encrypted`, `timeout`,
    -- `crashed`, ...) and a human message.
    error_code text,
    error_message text,
    -- The engine job (Redis) of the latest extraction.
    job_id text,
    -- Extraction runs so far (every attempt of every job).
    attempts int not null default 0,
    extracted_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint documents_tenant_sha256_key unique (tenant_id, sha256)
);
create index documents_tenant_created on documents (tenant_id, created_at desc, id desc);
create index documents_tenant_status on documents (tenant_id, status, created_at desc);

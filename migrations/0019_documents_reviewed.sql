-- Documents, review flow (issue 14 items 2-3): a person approves a held
-- (`needs_review`) extraction, optionally correcting fields first — only then
-- are the academic records written and the document `succeeded` — or rejects
-- it: `rejected` is final and writes nothing.
-- `review` keeps the trail: the action, the note, the corrections as posted,
-- each field changed (from, to), the reasons the draft was held for, and the
-- draft itself as the reader left it. `reviewed_by` is `tenant:<id>` (an API
-- credential) or `ops:<email>` (the console).
-- Never edit this file once merged; add a new numbered migration instead.

alter table documents drop constraint documents_status_check;
alter table documents add constraint documents_status_check
    check (status in ('queued', 'processing', 'succeeded', 'failed', 'needs_review', 'rejected'));

alter table documents
    add column review jsonb,
    add column reviewed_by text,
    add column reviewed_at timestamptz;

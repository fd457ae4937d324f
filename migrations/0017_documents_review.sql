-- Documents, second pass (issue 14): precision first. An extraction the
-- reader is not sure of (missing student or year, a subject outside the
-- curriculum lexicon, a grade off the scale or unreadable, a média that does
-- not match its terms, a low OCR confidence...) is kept on the document as a
-- draft with status `needs_review` and is NOT written to the academic
-- records; `result.review_reasons` says why.
-- Never edit this file once merged; add a new numbered migration instead.

alter table documents drop constraint documents_status_check;
alter table documents add constraint documents_status_check
    check (status in ('queued', 'processing', 'succeeded', 'failed', 'needs_review'));

-- Status webhooks (three per message, issue 15) update rows in place.
-- Never edit this file once merged; add a new numbered migration instead.
--
-- A status webhook moves a recipient sent → delivered → read. While an index
-- names `status`, PostgreSQL cannot make that a HOT update (a new row version
-- on the same page, no index touched): each one wrote a new entry into each of
-- the recipients' seven indexes, on pages all over them, and after every
-- checkpoint each such page went into the WAL whole. So the only index on
-- `status` gives way to `pending`, derived from it and unchanged by the
-- statuses that come after the send: the dispatcher's queue (the campaign's
-- recipients still to send, in id order) is a partial index on it. Queries
-- that look for pending recipients say `pending` so that they use it.
--
-- Free space on every page (fillfactor) lets those updates stay on their page;
-- the outbox rows the same statuses move (`notifications`) get some too.

alter table campaign_recipients
    add column pending boolean not null
    generated always as (status in ('queued', 'dispatched', 'sending', 'deferred')) stored;

drop index campaign_recipients_status;
create index campaign_recipients_pending on campaign_recipients (campaign_id, id) where pending;

alter table campaign_recipients set (fillfactor = 60);
alter table notifications set (fillfactor = 80);

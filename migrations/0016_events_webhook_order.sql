-- Events and reminders, second part (issue 16): tenant webhooks delivered in
-- order per booking, and the outcome of a reminder's messages
-- (`reminder.sent` / `reminder.failed`). Code: jobs/src/kinds/events/webhook.rs
-- and follow.rs. Never edit this file once merged.

-- One webhook delivery of an event type the tenant subscribed to, in its
-- booking's sequence. Only one delivery per booking is `released` (its
-- outbox row exists and may be sent) at a time; the next waits until that
-- row is final (sent, failed, suppressed, unknown), so deliveries for one
-- booking go out in `seq` order whatever their retries.
create table event_webhooks (
    id uuid primary key,
    tenant_id uuid not null references tenants (id) on delete cascade,
    booking_id text not null,
    -- 1, 2, 3… per (tenant, booking), in commit order
    seq bigint not null,
    event_type text not null,
    -- the outbox row's dedup key: `evt:<event id>`, `reminder.sent:<id>`, …
    dedup_key text not null check (length(dedup_key) between 1 and 200),
    data jsonb not null,
    -- waiting → released (outbox row written, its job pushed) → done
    state text not null default 'waiting' check (state in ('waiting', 'released', 'done')),
    notification_id uuid,
    -- the outbox row's final status once done
    outcome text,
    created_at timestamptz not null default now(),
    released_at timestamptz,
    -- last time its `notify.send` job was pushed (a crash after the commit is repaired)
    pushed_at timestamptz,
    done_at timestamptz,
    constraint event_webhooks_key unique (tenant_id, dedup_key),
    constraint event_webhooks_seq unique (tenant_id, booking_id, seq)
);

-- the scheduler's round: released deliveries, oldest first
create index event_webhooks_released on event_webhooks (released_at) where state = 'released';

-- `failed`: the `events.remind` job itself gave up (its reason kept).
alter table reminders drop constraint reminders_status_check;
alter table reminders add constraint reminders_status_check check (status in
    ('pending', 'enqueued', 'sent', 'skipped', 'superseded', 'cancelled', 'failed'));

-- The outbox rows a sent reminder wrote, and what became of them:
-- pending (some row not final yet) → sent | failed. The scheduler's round
-- settles it and publishes `reminder.sent` or `reminder.failed`.
alter table reminders add column notification_ids uuid[] not null default '{}';
alter table reminders add column delivery text check (delivery in ('pending', 'sent', 'failed'));

create index reminders_delivery_pending on reminders (updated_at) where delivery = 'pending';

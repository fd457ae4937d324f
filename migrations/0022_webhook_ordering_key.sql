-- Ordered webhook deliveries are not only for bookings: forecasting's drift
-- alerts queue under `model:<id>`. The column says what it is: the key whose
-- deliveries go out one at a time, in order (a booking's id for booking events).
-- Never edit this file once merged; add a new numbered migration instead.

alter table event_webhooks rename column booking_id to ordering_key;
alter table event_webhooks rename constraint event_webhooks_seq to event_webhooks_key_seq;

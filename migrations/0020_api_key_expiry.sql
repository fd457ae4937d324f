-- Security (issue 21): API keys may expire. A key past `expires_at` is
-- refused (401 `expired_api_key`) like a revoked one; null = never expires.
-- Rotation: create the new key (with or without an expiry), move the
-- clients over while both are valid, then revoke the old one.
alter table api_keys add column expires_at timestamptz;

-- V006: per-key usage history and rate limits (core/usage.h, core/key_record.h; issue 16).
--
-- api_keys gains its rate limit (requests per `per` seconds; 0 and 0: none) and what the store
-- knows of its clients: the first presentation counted, and the address and user agent of the
-- latest one with the time they were seen (last_client_at; a flush from another node that saw
-- an earlier presentation does not overwrite them). The defaults make every existing key read
-- back without a limit and never counted.
--
-- key_usage: a key's counts per outcome for each hour (hour_start: Unix seconds, a multiple of
-- 3600), added to by every node's flush (Store::RecordUsage); gone with its key. The index on
-- hour_start serves the pruning of old hours and the busiest keys since a time.
-- The PostgreSQL twin differs only in types.

ALTER TABLE api_keys ADD COLUMN rate_limit_requests INTEGER NOT NULL DEFAULT 0;
ALTER TABLE api_keys ADD COLUMN rate_limit_per INTEGER NOT NULL DEFAULT 0;
ALTER TABLE api_keys ADD COLUMN first_used_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE api_keys ADD COLUMN last_address TEXT NOT NULL DEFAULT '';
ALTER TABLE api_keys ADD COLUMN last_user_agent TEXT NOT NULL DEFAULT '';
ALTER TABLE api_keys ADD COLUMN last_client_at INTEGER NOT NULL DEFAULT 0;

CREATE TABLE key_usage (
  key_id       INTEGER NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
  hour_start   INTEGER NOT NULL,
  allowed      INTEGER NOT NULL DEFAULT 0,
  expired      INTEGER NOT NULL DEFAULT 0,
  revoked      INTEGER NOT NULL DEFAULT 0,
  disabled     INTEGER NOT NULL DEFAULT 0,
  scope        INTEGER NOT NULL DEFAULT 0,
  tag          INTEGER NOT NULL DEFAULT 0,
  address      INTEGER NOT NULL DEFAULT 0,
  rate_limited INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (key_id, hour_start)
) STRICT;

CREATE INDEX key_usage_hour_start ON key_usage (hour_start);

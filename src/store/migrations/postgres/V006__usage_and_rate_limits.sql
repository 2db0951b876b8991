-- V006: per-key usage history and rate limits (core/usage.h, core/key_record.h; issue 16).
--
-- The PostgreSQL twin of migrations/sqlite/V006__usage_and_rate_limits.sql: the same columns,
-- defaults, table and index, with BIGINT for integers. The defaults make every existing key
-- read back without a limit and never counted, and a node of the previous release, still
-- running beside upgraded ones, inserts keys that read back the same way. Several nodes add
-- their counts to the same hour (INSERT ... ON CONFLICT DO UPDATE, Store::RecordUsage).

ALTER TABLE api_keys
  ADD COLUMN rate_limit_requests BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN rate_limit_per      BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN first_used_at       BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN last_address        TEXT   NOT NULL DEFAULT '',
  ADD COLUMN last_user_agent     TEXT   NOT NULL DEFAULT '',
  ADD COLUMN last_client_at      BIGINT NOT NULL DEFAULT 0;

CREATE TABLE key_usage (
  key_id       BIGINT NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
  hour_start   BIGINT NOT NULL,
  allowed      BIGINT NOT NULL DEFAULT 0,
  expired      BIGINT NOT NULL DEFAULT 0,
  revoked      BIGINT NOT NULL DEFAULT 0,
  disabled     BIGINT NOT NULL DEFAULT 0,
  scope        BIGINT NOT NULL DEFAULT 0,
  tag          BIGINT NOT NULL DEFAULT 0,
  address      BIGINT NOT NULL DEFAULT 0,
  rate_limited BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (key_id, hour_start)
);

CREATE INDEX key_usage_hour_start ON key_usage (hour_start);

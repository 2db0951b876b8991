-- V005: key lifecycle (rotation, edits, expiry announcements, idle revocation) and webhooks
-- (core/key_record.h, core/webhook.h; issue 15).
--
-- The PostgreSQL twin of migrations/sqlite/V005__key_lifecycle_and_webhooks.sql: the same
-- tables, columns, defaults, checks and indexes, with BYTEA for raw bytes and BIGINT for
-- integers and ids. The defaults make every existing row read back as before (enabled, validity
-- 0, nothing announced: -1), and a node of the previous release, still running beside upgraded
-- ones, inserts keys that read back the same way. Keys that expired long before the upgrade are
-- never announced (Store::ListKeysExpiredUnannounced stops a day after expiry). Lists are space-separated
-- ('' = all), matched with strpos() on ' ' || list || ' '. Compared text uses COLLATE "C".

ALTER TABLE api_keys
  ADD COLUMN description      TEXT   NOT NULL DEFAULT '',
  ADD COLUMN disabled         BIGINT NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
  ADD COLUMN validity         BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN idle_timeout     BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN revoke_on_reuse  BIGINT NOT NULL DEFAULT 0 CHECK (revoke_on_reuse IN (0, 1)),
  ADD COLUMN rotated_at       BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN announced_within BIGINT NOT NULL DEFAULT -1,
  -- Incremented by every edit and rotation: an edit applies only to the revision it read.
  ADD COLUMN revision         BIGINT NOT NULL DEFAULT 0;

-- The housekeeper's scans: keys by expiry, and the few keys with an idle timeout.
CREATE INDEX api_keys_expires_at ON api_keys (expires_at);
CREATE INDEX api_keys_idle ON api_keys (idle_timeout) WHERE idle_timeout > 0;

CREATE TABLE rotated_secrets (
  hash             BYTEA  NOT NULL PRIMARY KEY,
  key_id           BIGINT NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
  masked           TEXT   NOT NULL,
  rotated_at       BIGINT NOT NULL,
  grace_until      BIGINT NOT NULL,
  retire_when_idle BIGINT NOT NULL DEFAULT 0,
  last_used_at     BIGINT NOT NULL DEFAULT 0,
  expires_at       BIGINT NOT NULL
);

CREATE INDEX rotated_secrets_key_id ON rotated_secrets (key_id);
CREATE INDEX rotated_secrets_expires_at ON rotated_secrets (expires_at);

CREATE TABLE webhooks (
  id            TEXT COLLATE "C" NOT NULL PRIMARY KEY,
  url           TEXT   NOT NULL,
  events        TEXT COLLATE "C" NOT NULL DEFAULT '',
  users         TEXT COLLATE "C" NOT NULL DEFAULT '',
  sealed_secret BYTEA  NOT NULL,
  created_by    TEXT COLLATE "C" NOT NULL,
  created_at    BIGINT NOT NULL
);

CREATE TABLE webhook_events (
  id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  type         TEXT COLLATE "C" NOT NULL,
  occurred_at  BIGINT NOT NULL,
  user_id      TEXT COLLATE "C" NOT NULL DEFAULT '',
  data         TEXT   NOT NULL,
  only_webhook TEXT COLLATE "C" NOT NULL DEFAULT ''
);

CREATE INDEX webhook_events_occurred_at ON webhook_events (occurred_at);

CREATE TABLE webhook_deliveries (
  id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  webhook_id      TEXT COLLATE "C" NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
  event_id        BIGINT NOT NULL REFERENCES webhook_events (id) ON DELETE CASCADE,
  state           TEXT   NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
  attempts        BIGINT NOT NULL DEFAULT 0,
  next_attempt_at BIGINT NOT NULL,
  lease_until     BIGINT NOT NULL DEFAULT 0,
  last_attempt_at BIGINT NOT NULL DEFAULT 0,
  last_status     BIGINT NOT NULL DEFAULT 0,
  last_error      TEXT   NOT NULL DEFAULT '',
  UNIQUE (webhook_id, event_id)  -- also serves the listing of a webhook's deliveries
);

-- Due deliveries (ClaimDeliveries), and the cascade and pruning of events.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at);
CREATE INDEX webhook_deliveries_event_id ON webhook_deliveries (event_id);

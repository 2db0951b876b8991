-- V005: key lifecycle (rotation, edits, expiry announcements, idle revocation) and webhooks
-- (core/key_record.h, core/webhook.h; issue 15).
--
-- api_keys gains its lifecycle columns. Their defaults make every existing row read back as
-- before: no description, enabled, validity 0 (a rotation then renews expires_at - created_at),
-- no idle timeout, reuse kept, never rotated, nothing announced (-1), revision 0. A key that had already
-- expired before the upgrade is never announced as key.expired long afterwards: the store lists
-- keys for announcement only up to a day after their expiry
-- (Store::ListKeysExpiredUnannounced).
--
-- rotated_secrets: a key's earlier secrets after rotations, until their own expiry. Looked up
-- by hash (the primary key), listed by key, pruned by expiry; gone with their key.
--
-- webhooks, webhook_events (the outbox, written in the transaction of the change an event
-- announces) and webhook_deliveries (one per event and matching webhook). `events` and `users`
-- are space-separated lists ('' = all), matched with instr() on ' ' || list || ' '. States are
-- 'pending', 'delivered', 'failed'; lease_until 0: not leased. Times are Unix seconds. Never a
-- key, a secret or a hash of one in an event; webhook secrets are sealed with the master key.
-- The PostgreSQL twin differs only in types.

ALTER TABLE api_keys ADD COLUMN description TEXT NOT NULL DEFAULT '';
ALTER TABLE api_keys ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1));
ALTER TABLE api_keys ADD COLUMN validity INTEGER NOT NULL DEFAULT 0;
ALTER TABLE api_keys ADD COLUMN idle_timeout INTEGER NOT NULL DEFAULT 0;
ALTER TABLE api_keys ADD COLUMN revoke_on_reuse INTEGER NOT NULL DEFAULT 0
  CHECK (revoke_on_reuse IN (0, 1));
ALTER TABLE api_keys ADD COLUMN rotated_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE api_keys ADD COLUMN announced_within INTEGER NOT NULL DEFAULT -1;
-- Incremented by every edit and rotation: an edit applies only to the revision it read.
ALTER TABLE api_keys ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;

-- The housekeeper's scans: keys by expiry, and the few keys with an idle timeout.
CREATE INDEX api_keys_expires_at ON api_keys (expires_at);
CREATE INDEX api_keys_idle ON api_keys (idle_timeout) WHERE idle_timeout > 0;

CREATE TABLE rotated_secrets (
  hash             BLOB    NOT NULL PRIMARY KEY,
  key_id           INTEGER NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
  masked           TEXT    NOT NULL,
  rotated_at       INTEGER NOT NULL,
  grace_until      INTEGER NOT NULL,
  retire_when_idle INTEGER NOT NULL DEFAULT 0,
  last_used_at     INTEGER NOT NULL DEFAULT 0,
  expires_at       INTEGER NOT NULL
) STRICT;

CREATE INDEX rotated_secrets_key_id ON rotated_secrets (key_id);
CREATE INDEX rotated_secrets_expires_at ON rotated_secrets (expires_at);

CREATE TABLE webhooks (
  id            TEXT    NOT NULL PRIMARY KEY,
  url           TEXT    NOT NULL,
  events        TEXT    NOT NULL DEFAULT '',
  users         TEXT    NOT NULL DEFAULT '',
  sealed_secret BLOB    NOT NULL,
  created_by    TEXT    NOT NULL,
  created_at    INTEGER NOT NULL
) STRICT;

CREATE TABLE webhook_events (
  id           INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,  -- never reused: message ids
  type         TEXT    NOT NULL,
  occurred_at  INTEGER NOT NULL,
  user_id      TEXT    NOT NULL DEFAULT '',
  data         TEXT    NOT NULL,
  only_webhook TEXT    NOT NULL DEFAULT ''
) STRICT;

CREATE INDEX webhook_events_occurred_at ON webhook_events (occurred_at);

CREATE TABLE webhook_deliveries (
  id              INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
  webhook_id      TEXT    NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
  event_id        INTEGER NOT NULL REFERENCES webhook_events (id) ON DELETE CASCADE,
  state           TEXT    NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  lease_until     INTEGER NOT NULL DEFAULT 0,
  last_attempt_at INTEGER NOT NULL DEFAULT 0,
  last_status     INTEGER NOT NULL DEFAULT 0,
  last_error      TEXT    NOT NULL DEFAULT '',
  UNIQUE (webhook_id, event_id)  -- also serves the listing of a webhook's deliveries
) STRICT;

-- Due deliveries (ClaimDeliveries), and the cascade and pruning of events.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at);
CREATE INDEX webhook_deliveries_event_id ON webhook_deliveries (event_id);

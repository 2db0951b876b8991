-- V002: the audit log (docs/api.md, "Audit log").
--
-- One row per sign-in, key create, reveal and delete, user create and delete, and tag change,
-- successful or not. Rows name users by id and keys by name only: never a key, a password or a
-- token, nor a hash of one. No foreign keys: the record of a user outlives the user. The
-- PostgreSQL twin differs only in types. Times are Unix seconds (UTC).

CREATE TABLE audit_events (
  id          INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,  -- never reused
  occurred_at INTEGER NOT NULL,
  actor       TEXT    NOT NULL,
  action      TEXT    NOT NULL,
  user_id     TEXT    NOT NULL,
  target      TEXT    NOT NULL DEFAULT '',
  address     TEXT    NOT NULL DEFAULT '',
  outcome     TEXT    NOT NULL CHECK (outcome IN ('success', 'failure')),
  reason      TEXT    NOT NULL DEFAULT ''
) STRICT;

-- Queries select a time window, optionally of one user as actor or as the user concerned.
CREATE INDEX audit_events_time ON audit_events (occurred_at);
CREATE INDEX audit_events_actor ON audit_events (actor, occurred_at);
CREATE INDEX audit_events_user ON audit_events (user_id, occurred_at);

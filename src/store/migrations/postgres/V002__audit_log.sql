-- V002: the audit log (docs/api.md, "Audit log").
--
-- The PostgreSQL twin of migrations/sqlite/V002__audit_log.sql: the same table, columns and
-- indexes, with BIGINT for times and ids. Rows name users by id and keys by name only: never a
-- key, a password or a token, nor a hash of one. No foreign keys: the record of a user outlives
-- the user. Times are Unix seconds (UTC). Compared text uses COLLATE "C", as in V001.

CREATE TABLE audit_events (
  id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  occurred_at BIGINT NOT NULL,
  actor       TEXT COLLATE "C" NOT NULL,
  action      TEXT   NOT NULL,
  user_id     TEXT COLLATE "C" NOT NULL,
  target      TEXT   NOT NULL DEFAULT '',
  address     TEXT   NOT NULL DEFAULT '',
  outcome     TEXT   NOT NULL CHECK (outcome IN ('success', 'failure')),
  reason      TEXT   NOT NULL DEFAULT ''
);

-- Queries select a time window, optionally of one user as actor or as the user concerned.
CREATE INDEX audit_events_time ON audit_events (occurred_at);
CREATE INDEX audit_events_actor ON audit_events (actor, occurred_at);
CREATE INDEX audit_events_user ON audit_events (user_id, occurred_at);

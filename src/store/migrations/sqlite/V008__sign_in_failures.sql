-- V008: failed sign-ins counted in the store (service/login_throttle.h; issue 19).
--
-- A row per user name or client address with failed sign-ins, named by a keyed digest (never the
-- name typed: people paste passwords into that field), so that every node sharing the database
-- throttles with the same counts. Rows are read and written in one transaction each
-- (Store::UpdateSignInCounters) and forgotten once expires_at has passed
-- (Store::PruneSignInCounters, by the housekeeper). The PostgreSQL twin differs only in types.

CREATE TABLE sign_in_failures (
  subject      BLOB    NOT NULL PRIMARY KEY,
  failures     INTEGER NOT NULL,
  locked_until INTEGER NOT NULL,
  expires_at   INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX sign_in_failures_expires_at ON sign_in_failures (expires_at);

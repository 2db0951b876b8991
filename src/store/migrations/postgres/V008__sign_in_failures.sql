-- V008: failed sign-ins counted in the store (service/login_throttle.h; issue 19).
--
-- The PostgreSQL twin of migrations/sqlite/V008__sign_in_failures.sql, with BYTEA and BIGINT.
-- Every node sharing the database counts on these rows, so N nodes admit no more attempts than
-- one: Store::UpdateSignInCounters holds each row it reads (INSERT ... ON CONFLICT DO UPDATE
-- locks it, absent or not) until its transaction ends. A node of the previous release, still
-- running beside upgraded ones, keeps counting in its own memory and never reads this table.

CREATE TABLE sign_in_failures (
  subject      BYTEA  NOT NULL PRIMARY KEY,
  failures     BIGINT NOT NULL,
  locked_until BIGINT NOT NULL,
  expires_at   BIGINT NOT NULL
);

CREATE INDEX sign_in_failures_expires_at ON sign_in_failures (expires_at);

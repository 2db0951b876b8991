-- V003: what each API key may do (its grant, core/grant.h), and more about an audit event.
--
-- The PostgreSQL twin of migrations/sqlite/V003__key_grants.sql: the same columns, defaults and
-- check, with BIGINT for the flag as for every integer here. Every row that exists when this
-- runs becomes full_access = 1 through the column's default: keys made before scopes keep their
-- owner's full power. The store writes full_access explicitly for every new row (0 for a key
-- made with a grant). `tags` NULL: all of the owner's tags, live; lists are space-separated and
-- sorted. `detail` holds more about an audit success (for key.create, the grant as text), never
-- a key, a password or a token.

ALTER TABLE api_keys
  ADD COLUMN scopes            TEXT   NOT NULL DEFAULT '',
  ADD COLUMN tags              TEXT,
  ADD COLUMN allowed_addresses TEXT   NOT NULL DEFAULT '',
  ADD COLUMN full_access       BIGINT NOT NULL DEFAULT 1 CHECK (full_access IN (0, 1));

-- From now on a row that does not say is NOT full access: a node of the previous release, still
-- running beside upgraded ones, inserts keys without this column, and those must not gain full
-- power (they hold no scopes: they authenticate, and nothing more, until replaced).
ALTER TABLE api_keys ALTER COLUMN full_access SET DEFAULT 0;

ALTER TABLE audit_events ADD COLUMN detail TEXT NOT NULL DEFAULT '';

-- V001: users with tags, their API keys and their sign-in sessions.
--
-- Applied once, in one transaction, by the SQLite migration runner (sqlite/sqlite_migrations.cc),
-- which records it in schema_migrations. Never edit a migration that has shipped: add V002__….
-- Kept close to standard SQL so the PostgreSQL twin differs only in types (BLOB -> BYTEA,
-- INTEGER -> BIGINT) and in dropping STRICT. Times are Unix seconds (UTC). Hashes are raw bytes.

CREATE TABLE users (
  id            TEXT    NOT NULL PRIMARY KEY,
  name          TEXT    NOT NULL,
  type          TEXT    NOT NULL CHECK (type IN ('person', 'application')),
  password_hash TEXT    NOT NULL DEFAULT '',
  created_at    INTEGER NOT NULL
) STRICT;

CREATE TABLE user_tags (
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  tag     TEXT NOT NULL,
  PRIMARY KEY (user_id, tag)
) STRICT;

CREATE TABLE api_keys (
  id           INTEGER NOT NULL PRIMARY KEY,
  user_id      TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name         TEXT    NOT NULL,
  hash         BLOB    NOT NULL UNIQUE,
  sealed       BLOB    NOT NULL,
  masked       TEXT    NOT NULL,
  created_at   INTEGER NOT NULL,
  expires_at   INTEGER NOT NULL,
  last_used_at INTEGER NOT NULL DEFAULT 0,
  UNIQUE (user_id, name)
) STRICT;

CREATE TABLE sessions (
  hash       BLOB    NOT NULL PRIMARY KEY,
  user_id    TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
) STRICT;

-- The cascade from users and the periodic clean-up of expired sessions.
CREATE INDEX sessions_user_id ON sessions (user_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

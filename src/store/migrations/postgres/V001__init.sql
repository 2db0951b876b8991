-- V001: users with tags, their API keys and their sign-in sessions.
--
-- The PostgreSQL twin of migrations/sqlite/V001__init.sql: the same tables, columns and
-- constraints, with BYTEA for raw bytes and BIGINT for times and ids. Applied once by the
-- PostgreSQL migration runner (postgres/postgres_migrations.cc), in one transaction under an
-- advisory lock, and recorded in schema_migrations. Never edit a migration that has shipped: add
-- V002__…. Times are Unix seconds (UTC). Hashes are raw bytes.
--
-- Text that is sorted or compared uses COLLATE "C" (byte order), so lists come back in the same
-- order as from SQLite whatever the database's locale.

CREATE TABLE users (
  id            TEXT COLLATE "C" NOT NULL PRIMARY KEY,
  name          TEXT   NOT NULL,
  type          TEXT   NOT NULL CHECK (type IN ('person', 'application')),
  password_hash TEXT   NOT NULL DEFAULT '',
  created_at    BIGINT NOT NULL
);

CREATE TABLE user_tags (
  user_id TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  tag     TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (user_id, tag)
);

CREATE TABLE api_keys (
  id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id      TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name         TEXT COLLATE "C" NOT NULL,
  hash         BYTEA  NOT NULL UNIQUE,
  sealed       BYTEA  NOT NULL,
  masked       TEXT   NOT NULL,
  created_at   BIGINT NOT NULL,
  expires_at   BIGINT NOT NULL,
  last_used_at BIGINT NOT NULL DEFAULT 0,
  UNIQUE (user_id, name)
);

CREATE TABLE sessions (
  hash       BYTEA  NOT NULL PRIMARY KEY,
  user_id    TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL
);

-- The cascade from users and the periodic clean-up of expired sessions.
CREATE INDEX sessions_user_id ON sessions (user_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

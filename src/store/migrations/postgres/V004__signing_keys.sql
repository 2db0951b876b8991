-- V004: the token issuer's signing keys (core/signing_key_record.h, service/signing_key_ring.h).
--
-- The PostgreSQL twin of migrations/sqlite/V004__signing_keys.sql: the same columns and
-- constraints, with BYTEA for raw bytes and BIGINT for integers. The primary key on generation
-- and the unique kid make a rotation that two nodes attempt at once add exactly one key.
-- `sealed_private` is sealed with the master key, never the key in the clear.

CREATE TABLE signing_keys (
  generation     BIGINT NOT NULL PRIMARY KEY,
  kid            TEXT COLLATE "C" NOT NULL UNIQUE,
  alg            TEXT   NOT NULL,
  public_jwk     TEXT   NOT NULL,
  sealed_private BYTEA  NOT NULL,
  created_at     BIGINT NOT NULL,
  activates_at   BIGINT NOT NULL,
  retired_at     BIGINT NOT NULL DEFAULT 0
);

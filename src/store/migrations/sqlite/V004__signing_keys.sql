-- V004: the token issuer's signing keys (core/signing_key_record.h, service/signing_key_ring.h).
--
-- One row per key generation (1, 2, 3 …). The primary key on generation and the unique kid make
-- a rotation that two nodes attempt at once add exactly one key: the other insert fails and that
-- node reads the winner's. `public_jwk` is the public JWK as JSON text; `sealed_private` the
-- private key sealed with the master key (never stored in the clear). Times are Unix seconds;
-- retired_at 0: not retired early. The PostgreSQL twin differs only in types.

CREATE TABLE signing_keys (
  generation     INTEGER NOT NULL PRIMARY KEY,
  kid            TEXT    NOT NULL UNIQUE,
  alg            TEXT    NOT NULL,
  public_jwk     TEXT    NOT NULL,
  sealed_private BLOB    NOT NULL,
  created_at     INTEGER NOT NULL,
  activates_at   INTEGER NOT NULL,
  retired_at     INTEGER NOT NULL DEFAULT 0
) STRICT;

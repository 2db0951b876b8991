-- Data as Keyward wrote it at schema V004, which added the token issuer's signing keys: an upgrade
-- fixture (src/store/upgrade_fixture.h). The test makes the schema with the migration runner and
-- the V001 to V004 files themselves (so schema_migrations records versions 1 to 4 exactly as that
-- release did), then runs this, then opens the store so that the later migrations run on these
-- rows. The same rows as v004_postgres.sql, in SQLite's literals. Test data only: every key is a
-- throw-away key of no server whose SHA-256 is the stored hash; upgrade_fixture.h lists them with
-- the state each must keep. Sealed values are placeholders that no master key opens.

INSERT INTO users (id, name, type, password_hash, created_at) VALUES
  ('alice', 'Alice Example', 'person', '$argon2id$v=19$m=65536,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g',
   1700000000),
  ('bob', 'presto-driver', 'application', '', 1700000050);

INSERT INTO user_tags (user_id, tag) VALUES
  ('alice', 'roles:id:operator'),
  ('alice', 'team:a'),
  ('bob', 'team:b');

INSERT INTO api_keys (user_id, name, hash, sealed, masked, created_at, expires_at, last_used_at,
  scopes, tags, allowed_addresses, full_access)
VALUES
  ('alice', 'driver-key', X'77daeb81a787c89201333141eaded57031d8b3bebd386e1b1da108ef38ad7998',
   X'00112233445566778899aabbccddeeff0011223344556677c0ffee', 'kw_W2wQ…9feP', 1700000100,
   4102444800, 1700000200, '', NULL, '', 1),
  ('bob', 'old', X'e04d95eb2596e1c501bdb90c53490e743d8a65900e8ba5215ec768bd8d9a6b0d', X'',
   'kw_9toc…96G2', 1700000060, 1700000070, 0, '', NULL, '', 1),
  ('alice', 'scoped', X'3c3a7ab4306a3e3abc8737d195c6f21ae875f3fbac0dc32fba1ae60aac34a00b',
   X'a1a2a3a4', 'kw_FK0M…aMPX', 1710000000, 4102444800, 1710000500, 'keys:read keys:write',
   'team:a', '127.0.0.0/8', 0),
  ('bob', 'ci', X'fb47e493350214b8d6cf7b5f53e6624fbb1d8f2a31483b1d2cd5f26e20b4e50a', X'',
   'kw_tuMl…5qWa', 1710000100, 4102444800, 0, '', NULL, '', 0);

INSERT INTO sessions (hash, user_id, created_at, expires_at) VALUES
  (X'5e5510115e5510115e5510115e5510115e5510115e5510115e5510115e551011', 'alice', 1700000000,
   4102444800);

INSERT INTO audit_events (occurred_at, actor, action, user_id, target, address, outcome, reason,
  detail)
VALUES
  (1700000000, 'alice', 'signin', 'alice', '', '127.0.0.1', 'success', '', ''),
  (1700000100, 'alice', 'key.create', 'alice', 'driver-key', '2001:db8::7', 'success', '', ''),
  (1700000110, 'bob', 'key.reveal', 'alice', 'driver-key', '10.1.2.3', 'failure',
   'no such user or key', ''),
  (1710000000, 'alice', 'key.create', 'alice', 'scoped', '127.0.0.1', 'success', '',
   'scopes=keys:read,keys:write tags=team:a addresses=127.0.0.0/8'),
  (1715000000, 'alice', 'signing_key.created', '', 'fixture-kid-2', '', 'success', '',
   'generation=2');

-- Signing keys of the token issuer: generation 1 retired early, generation 2 signing.
INSERT INTO signing_keys (generation, kid, alg, public_jwk, sealed_private, created_at,
                          activates_at, retired_at)
VALUES
  (1, 'fixture-kid-1', 'ES256',
   '{"kty":"EC","crv":"P-256","x":"Zml4dHVyZS14MQ","y":"Zml4dHVyZS15MQ",' ||
   '"kid":"fixture-kid-1","use":"sig","alg":"ES256"}',
   X'd1d2d3d4', 1710000000, 1710000000, 1715000000),
  (2, 'fixture-kid-2', 'ES256',
   '{"kty":"EC","crv":"P-256","x":"Zml4dHVyZS14Mg","y":"Zml4dHVyZS15Mg",' ||
   '"kid":"fixture-kid-2","use":"sig","alg":"ES256"}',
   X'e1e2e3e4', 1715000000, 1715000000, 0);

-- Data as Keyward wrote it at schema V006, which added usage per hour, rate limits and a key's last
-- client: an upgrade fixture (src/store/upgrade_fixture.h). The test makes the schema with the
-- migration runner and the V001 to V006 files themselves (so schema_migrations records versions 1
-- to 6 exactly as that release did), then runs this, then opens the store so that the later
-- migrations run on these rows. The same rows as v006_postgres.sql, in SQLite's literals. Test data
-- only: every key is a throw-away key of no server whose SHA-256 is the stored hash;
-- upgrade_fixture.h lists them with the state each must keep. Sealed values are placeholders that
-- no master key opens.

INSERT INTO users (id, name, type, password_hash, created_at) VALUES
  ('alice', 'Alice Example', 'person', '$argon2id$v=19$m=65536,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g',
   1700000000),
  ('bob', 'presto-driver', 'application', '', 1700000050);

INSERT INTO user_tags (user_id, tag) VALUES
  ('alice', 'roles:id:operator'),
  ('alice', 'team:a'),
  ('bob', 'team:b');

INSERT INTO api_keys (user_id, name, hash, sealed, masked, created_at, expires_at, last_used_at,
  scopes, tags, allowed_addresses, full_access, description, disabled, validity, idle_timeout,
  revoke_on_reuse, rotated_at, announced_within, revision, rate_limit_requests, rate_limit_per,
  first_used_at, last_address, last_user_agent, last_client_at)
VALUES
  ('alice', 'driver-key', X'77daeb81a787c89201333141eaded57031d8b3bebd386e1b1da108ef38ad7998',
   X'00112233445566778899aabbccddeeff0011223344556677c0ffee', 'kw_W2wQ…9feP', 1700000100,
   4102444800, 1700000200, '', NULL, '', 1, '', 0, 0, 0, 0, 0, -1, 0, 0, 0, 0, '', '', 0),
  ('bob', 'old', X'e04d95eb2596e1c501bdb90c53490e743d8a65900e8ba5215ec768bd8d9a6b0d', X'',
   'kw_9toc…96G2', 1700000060, 1700000070, 0, '', NULL, '', 1, '', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
   '', '', 0),
  ('alice', 'scoped', X'3c3a7ab4306a3e3abc8737d195c6f21ae875f3fbac0dc32fba1ae60aac34a00b',
   X'a1a2a3a4', 'kw_FK0M…aMPX', 1710000000, 4102444800, 1710000500, 'keys:read keys:write',
   'team:a', '127.0.0.0/8', 0, '', 0, 0, 0, 0, 0, -1, 0, 0, 0, 0, '', '', 0),
  ('bob', 'ci', X'fb47e493350214b8d6cf7b5f53e6624fbb1d8f2a31483b1d2cd5f26e20b4e50a', X'',
   'kw_tuMl…5qWa', 1710000100, 4102444800, 0, '', NULL, '', 0, '', 0, 0, 0, 0, 0, -1, 0, 0, 0, 0,
   '', '', 0),
  ('alice', 'disabled', X'b9b5cb46e60a19a6464fa430f90f235446261d3b59a553705902da4e9ccd8a3a',
   X'b1b2', 'kw_CGAQ…229O', 1720000000, 4102444800, 1720000300, '', NULL, '', 0,
   'paused while the team moves', 1, 0, 0, 0, 0, -1, 1, 0, 0, 0, '', '', 0),
  ('alice', 'rotated', X'614362c18847ac43581063adfce2e052f7736129bf34e93cf4a9f07ef33d3e7b',
   X'c1c2c3', 'kw_8Gba…4aW4', 1720000100, 4102444800, 1725000000, 'keys:read', NULL, '', 0,
   'rotated once', 0, 2382444700, 3153600000, 1, 1724000000, -1, 2, 0, 0, 0, '', '', 0),
  ('alice', 'limited', X'eb59ed4c3bba054d5bf761d2f564e4e320ddf7641b013930efc747b839fa9ecc', X'',
   'kw_iTwL…GlQC', 1730000000, 4102444800, 1750003000, 'keys:read', NULL, '', 0, '', 0, 0, 0, 0,
   0, -1, 0, 100, 60, 1749999700, '203.0.113.9', 'presto-cli/0.287', 1750003000);

-- The rotated key's earlier secret, still accepted (grace until 2100).
INSERT INTO rotated_secrets (hash, key_id, masked, rotated_at, grace_until, retire_when_idle,
                             last_used_at, expires_at)
VALUES
  (X'3c5eea5e4e32df561c7d64e6d930ce301c79c92b29393dff02caef98deca401b',
   (SELECT id FROM api_keys WHERE user_id = 'alice' AND name = 'rotated'),
   'kw_1MkP…7T8j', 1724000000, 4102444800, 0, 1724000500, 4102444800);

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
   'generation=2'),
  (1720000010, 'alice', 'key.disable', 'alice', 'disabled', '127.0.0.1', 'success', '', ''),
  (1724000000, 'alice', 'key.rotate', 'alice', 'rotated', '127.0.0.1', 'success', '',
   'grace=2100-01-01T00:00:00Z'),
  (1724000100, 'alice', 'webhook.create', '', 'wh_fixture0000000001', '127.0.0.1', 'success', '',
   ''),
  (1730000100, 'alice', 'key.update', 'alice', 'limited', '127.0.0.1', 'success', '',
   'rate_limit=100/60s');

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

-- A webhook for key creations and deletions, with one delivery done and one given up.
INSERT INTO webhooks (id, url, events, users, sealed_secret, created_by, created_at) VALUES
  ('wh_fixture0000000001', 'https://hooks.example.com/keyward', 'key.created key.deleted', '',
   X'f1f2f3f4f5f6', 'alice', 1724000100);

INSERT INTO webhook_events (type, occurred_at, user_id, data, only_webhook) VALUES
  ('key.created', 1724000200, 'alice', '{"user":"alice","name":"rotated"}', ''),
  ('key.deleted', 1724000300, 'bob', '{"user":"bob","name":"gone"}', '');

INSERT INTO webhook_deliveries (webhook_id, event_id, state, attempts, next_attempt_at,
                                lease_until, last_attempt_at, last_status, last_error)
VALUES
  ('wh_fixture0000000001', (SELECT id FROM webhook_events WHERE type = 'key.created'),
   'delivered', 1, 1724000200, 0, 1724000201, 204, ''),
  ('wh_fixture0000000001', (SELECT id FROM webhook_events WHERE type = 'key.deleted'),
   'failed', 8, 1724090000, 0, 1724090000, 503, 'HTTP 503');

-- Two hours of the limited key's use.
INSERT INTO key_usage (key_id, hour_start, allowed, expired, revoked, disabled, scope, tag,
                       address, rate_limited)
VALUES
  ((SELECT id FROM api_keys WHERE user_id = 'alice' AND name = 'limited'), 1749996000, 40, 0, 0,
   0, 1, 0, 0, 2),
  ((SELECT id FROM api_keys WHERE user_id = 'alice' AND name = 'limited'), 1749999600, 7, 0, 0,
   0, 0, 0, 3, 0);

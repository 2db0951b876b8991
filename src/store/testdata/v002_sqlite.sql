-- Data as Keyward wrote it at schema V002 (before scopes): the upgrade test's fixture
-- (store_upgrade_test.cc). The test makes the V002 schema with the migration runner and the
-- V001 and V002 files themselves (so schema_migrations records versions 1 and 2 exactly as a
-- previous release did), then runs this, then opens the store so that V003 runs on these rows.
-- The same rows as v002_postgres.sql, in SQLite's literals. Test data only: the key below is a
-- throw-away key of no server.
--
-- alice's driver-key is kw_W2wQGOCsYtNe5J3BlieK7a6CSyMzWgt8JAudLd9TSma129feP (its SHA-256 is
-- the hash); bob's key was made with reveal off (no sealed value) and has expired.

INSERT INTO users (id, name, type, password_hash, created_at) VALUES
  ('alice', 'Alice Example', 'person', '$argon2id$v=19$m=65536,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g',
   1700000000),
  ('bob', 'presto-driver', 'application', '', 1700000050);

INSERT INTO user_tags (user_id, tag) VALUES
  ('alice', 'roles:id:operator'),
  ('alice', 'team:a'),
  ('bob', 'team:b');

INSERT INTO api_keys (user_id, name, hash, sealed, masked, created_at, expires_at, last_used_at)
VALUES
  ('alice', 'driver-key', X'77daeb81a787c89201333141eaded57031d8b3bebd386e1b1da108ef38ad7998',
   X'00112233445566778899aabbccddeeff0011223344556677c0ffee', 'kw_W2wQ…9feP', 1700000100,
   4102444800, 1700000200),
  ('bob', 'old', X'7d936c41cfe4ac1e3feeff3fd104e17dc5f78b5a0733510bbbe29aa95917e02c', X'',
   'kw_AbCd…9xYz', 1700000060, 1700000070, 0);

INSERT INTO sessions (hash, user_id, created_at, expires_at) VALUES
  (X'5e5510115e5510115e5510115e5510115e5510115e5510115e5510115e551011', 'alice', 1700000000,
   4102444800);

INSERT INTO audit_events (occurred_at, actor, action, user_id, target, address, outcome, reason)
VALUES
  (1700000000, 'alice', 'signin', 'alice', '', '127.0.0.1', 'success', ''),
  (1700000100, 'alice', 'key.create', 'alice', 'driver-key', '2001:db8::7', 'success', ''),
  (1700000110, 'bob', 'key.reveal', 'alice', 'driver-key', '10.1.2.3', 'failure',
   'no such user or key');

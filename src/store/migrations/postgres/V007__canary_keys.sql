-- V007: canary keys (core/key_record.h KeyRecord::canary; issue 17).
--
-- The PostgreSQL twin of migrations/sqlite/V007__canary_keys.sql, with BIGINT for the integer.
-- The default makes every existing key read back as an ordinary one, and a node of the previous
-- release, still running beside upgraded ones, inserts keys that are not canaries.

ALTER TABLE api_keys ADD COLUMN canary BIGINT NOT NULL DEFAULT 0 CHECK (canary IN (0, 1));

-- V007: canary keys (core/key_record.h KeyRecord::canary; issue 17).
--
-- A canary key looks like any key but never authorizes anything: each presentation is refused
-- as an unknown key would be and raises key.canary_used. The default makes every existing key
-- read back as an ordinary one. The PostgreSQL twin differs only in types.

ALTER TABLE api_keys ADD COLUMN canary INTEGER NOT NULL DEFAULT 0 CHECK (canary IN (0, 1));

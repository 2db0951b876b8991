-- V003: what each API key may do (its grant, core/grant.h), and more about an audit event.
--
-- api_keys gains the key's grant: `scopes` (space-separated), `tags` (NULL: all of the owner's
-- tags, live; else the subset it presents, space-separated, '' for none), `allowed_addresses`
-- (canonical CIDRs, space-separated, '' for anywhere) and `full_access`. Every row that exists
-- when this runs becomes full_access = 1 through the column's default: keys made before scopes
-- keep their owner's full power. The store writes full_access explicitly for every new row (0
-- for a key made with a grant), so the default never applies to them. Lists are written sorted
-- (NormalizeGrant) and never hold a space: scopes, tags and CIDRs cannot contain one.
--
-- audit_events gains `detail`: more about a success (for key.create, the grant as DescribeGrant
-- text). Never a key, a password or a token. The PostgreSQL twin differs only in types.

ALTER TABLE api_keys ADD COLUMN scopes TEXT NOT NULL DEFAULT '';
ALTER TABLE api_keys ADD COLUMN tags TEXT;
ALTER TABLE api_keys ADD COLUMN allowed_addresses TEXT NOT NULL DEFAULT '';
ALTER TABLE api_keys ADD COLUMN full_access INTEGER NOT NULL DEFAULT 1
  CHECK (full_access IN (0, 1));

ALTER TABLE audit_events ADD COLUMN detail TEXT NOT NULL DEFAULT '';

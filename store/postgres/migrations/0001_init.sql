-- 0001_init: the first schema. Times are bigint Unix nanoseconds (UTC), as in
-- the SQLite store, so that what a call returns equals what a later read
-- returns (timestamptz keeps only microseconds). Issued is RFC 3339 text
-- because feeds carry dates outside int64 nanoseconds and timestamptz.

-- What a scanner (name, version) found in a layer, opaque to the store.
CREATE TABLE layer_scan (
	layer   text  NOT NULL,
	scanner text  NOT NULL,
	version text  NOT NULL,
	data    bytea NOT NULL,
	PRIMARY KEY (layer, scanner, version)
);

-- One JSON vuln.IndexReport per manifest. bytea, not jsonb: the report reads
-- back byte for byte, and jsonb refuses \u0000 in strings.
CREATE TABLE index_report (
	manifest   text   NOT NULL PRIMARY KEY,
	data       bytea  NOT NULL,
	updated_at bigint NOT NULL
);

-- A feed's last stored snapshot.
CREATE TABLE feed (
	name        text    NOT NULL PRIMARY KEY,
	fingerprint text    NOT NULL,
	updated_at  bigint  NOT NULL,
	checked_at  bigint  NOT NULL,
	advisories  integer NOT NULL,
	operation   text    NOT NULL
);

-- History of snapshot replacements.
CREATE TABLE update_operation (
	id          text    NOT NULL PRIMARY KEY,
	feed        text    NOT NULL,
	fingerprint text    NOT NULL,
	date        bigint  NOT NULL,
	advisories  integer NOT NULL
);
CREATE INDEX update_operation_feed ON update_operation (feed, date);

-- Advisories without their details, one column per field. seq is the emit
-- order within the snapshot. ranges is '' for no ranges, '=' for exactly one
-- range {fixed: fixed_in} (nearly every distribution advisory, decoded
-- without JSON), otherwise a JSON array of {"i","f","l"} objects; versions is
-- NULL for none.
--
-- No primary key: nothing looks a single row up. advisory_lookup serves the
-- matcher (namespace = $1 AND package = ANY($2)), advisory_feed the delete of
-- the previous snapshot in ReplaceFeed. No foreign key to feed: the feed row
-- is written last in the same transaction, and a check per row would slow
-- COPY for nothing.
CREATE TABLE advisory (
	feed                text     NOT NULL,
	namespace           text     NOT NULL,
	package             text     NOT NULL,
	seq                 integer  NOT NULL,
	name                text     NOT NULL,
	state               text     NOT NULL,
	version_format      text     NOT NULL,
	fixed_in            text     NOT NULL,
	severity            text     NOT NULL,
	normalized_severity smallint NOT NULL,
	ranges              text     NOT NULL,
	versions            text[]
);
CREATE INDEX advisory_lookup ON advisory (namespace, package);
CREATE INDEX advisory_feed ON advisory (feed);

-- Details are per (feed, name), stored once however many packages and
-- releases the vulnerability touches. links and aliases are NULL for none,
-- issued RFC 3339 text ('' for none).
CREATE TABLE vulnerability_detail (
	feed        text NOT NULL,
	name        text NOT NULL,
	description text NOT NULL,
	links       text[],
	issued      text NOT NULL,
	aliases     text[],
	PRIMARY KEY (feed, name)
);

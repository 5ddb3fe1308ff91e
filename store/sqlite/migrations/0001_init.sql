-- 0001_init: the first schema. Times are INTEGER Unix nanoseconds (UTC);
-- Issued is RFC 3339 text because feeds carry dates outside int64 nanoseconds.

-- What a scanner (name, version) found in a layer, opaque to the store. A
-- rowid table: the data can be large and a WITHOUT ROWID row should stay small.
CREATE TABLE layer_scan (
	layer   TEXT NOT NULL,
	scanner TEXT NOT NULL,
	version TEXT NOT NULL,
	data    BLOB NOT NULL,
	PRIMARY KEY (layer, scanner, version)
);

-- One JSON vuln.IndexReport per manifest.
CREATE TABLE index_report (
	manifest   TEXT NOT NULL PRIMARY KEY,
	data       BLOB NOT NULL,
	updated_at INTEGER NOT NULL
);

-- A feed's last stored snapshot.
CREATE TABLE feed (
	name        TEXT NOT NULL PRIMARY KEY,
	fingerprint TEXT NOT NULL,
	updated_at  INTEGER NOT NULL,
	checked_at  INTEGER NOT NULL,
	advisories  INTEGER NOT NULL,
	operation   TEXT NOT NULL
) WITHOUT ROWID;

-- History of snapshot replacements.
CREATE TABLE update_operation (
	id          TEXT NOT NULL PRIMARY KEY,
	feed        TEXT NOT NULL,
	fingerprint TEXT NOT NULL,
	date        INTEGER NOT NULL,
	advisories  INTEGER NOT NULL
);
CREATE INDEX update_operation_feed ON update_operation (feed, date);

-- The namespaces each feed has advisories in, so that a match reads only the
-- feeds that can answer (see advisory).
CREATE TABLE feed_namespace (
	namespace TEXT NOT NULL,
	feed      TEXT NOT NULL,
	PRIMARY KEY (namespace, feed)
) WITHOUT ROWID;

-- Advisories without their details. WITHOUT ROWID clusters the rows on the
-- primary key: the rows of one (feed, namespace, package) sit together, so a
-- match reads a few contiguous pages per package, and ReplaceFeed deletes a
-- contiguous key range. seq is the emit order within the snapshot; it keeps the
-- key unique (a feed may say several things about one package and name).
--
-- Matching reads thousands of rows per image, and through the driver every
-- column of every row costs more than SQLite's own work, so the rest of the
-- advisory is one text record (see codec.go), NUL-separated (stores refuse NUL
-- in advisory strings, as PostgreSQL does):
--   name, state, version_format, fixed_in, severity, normalized_severity, ranges
-- where ranges is '' for no ranges and no versions, '=' for exactly one range
-- {fixed: fixed_in}, otherwise JSON {"r":[{"i":..,"f":..,"l":..}],"v":[..]}.
-- No foreign key to feed: the feed row is written last in the same
-- transaction, and a check per row would slow the bulk insert for nothing.
CREATE TABLE advisory (
	feed      TEXT NOT NULL,
	namespace TEXT NOT NULL,
	package   TEXT NOT NULL,
	seq       INTEGER NOT NULL,
	rec       TEXT NOT NULL,
	PRIMARY KEY (feed, namespace, package, seq)
) WITHOUT ROWID;

-- Details are per (feed, name), stored once however many packages and
-- releases the vulnerability touches. links and aliases are JSON arrays ('' for
-- none), issued RFC 3339 text ('' for none).
CREATE TABLE vulnerability_detail (
	feed        TEXT NOT NULL,
	name        TEXT NOT NULL,
	description TEXT NOT NULL,
	links       TEXT NOT NULL,
	issued      TEXT NOT NULL,
	aliases     TEXT NOT NULL,
	PRIMARY KEY (feed, name)
) WITHOUT ROWID;

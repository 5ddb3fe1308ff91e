-- Details move from one row per (feed, name) to one row per (feed,
-- package): the record of every name the feed has for that package, each
-- record name, description, links, issued, aliases, records and fields
-- separated by NUL (codec.go). A large image's report needs the details of
-- thousands of names from a hundred-odd packages; a seek per name cost some
-- 3 us each through the driver (most of a first report's time), a row per
-- package reads the same bytes in a few hundred seeks. A name a feed has
-- under several packages is stored under each: 11% more records on the
-- Debian tracker. recs is a BLOB: the driver hands a blob over in one copy,
-- text in two.
--
-- brief holds the same records cut to name, issued, aliases, ahead of recs
-- in the row: a report without descriptions and links (clairctl's table)
-- reads only brief, a twentieth of the bytes, and never the pages of recs.
--
-- A rowid table with its key in an index, unlike the other tables: a seek
-- in a WITHOUT ROWID table compares whole rows, and a row that overflows
-- its page (most here: megabytes for the Linux kernel) is read whole for
-- each comparison. The index's entries are small, and a row's columns are
-- read only when asked for.
CREATE TABLE package_detail (
	feed    TEXT NOT NULL,
	package TEXT NOT NULL,
	brief   BLOB NOT NULL,
	recs    BLOB NOT NULL
);
CREATE UNIQUE INDEX package_detail_key ON package_detail (feed, package);

-- The name is an advisory record's first field.
INSERT INTO package_detail (feed, package, brief, recs)
SELECT p.feed, p.package,
	CAST(group_concat(d.name || char(0) || d.issued || char(0) || d.aliases, char(0)) AS BLOB),
	CAST(group_concat(d.name || char(0) || d.description || char(0) || d.links || char(0) ||
	d.issued || char(0) || d.aliases, char(0)) AS BLOB)
FROM (SELECT DISTINCT feed, package, substr(rec, 1, instr(rec || char(0), char(0)) - 1) AS name FROM advisory) AS p
JOIN vulnerability_detail AS d ON d.feed = p.feed AND d.name = p.name
GROUP BY p.feed, p.package;

DROP TABLE vulnerability_detail;

-- 0002_update_history: what each update operation replaced, for update
-- diffs (store.Store.UpdateDiff), and an order of operations that does not
-- rest on clocks.

-- update_operation gets seq, the order operations were written in: dates
-- come from the clocks of whichever processes wrote them and may tie or
-- disagree. An INTEGER PRIMARY KEY (the rowid) survives VACUUM, which may
-- renumber an implicit rowid, and AUTOINCREMENT never hands out a number
-- again. SQLite cannot add a primary key to a table: the table is rebuilt,
-- its rows numbered by date (the best order there was).
CREATE TABLE update_operation_new (
	seq         INTEGER PRIMARY KEY AUTOINCREMENT,
	id          TEXT NOT NULL UNIQUE,
	feed        TEXT NOT NULL,
	fingerprint TEXT NOT NULL,
	date        INTEGER NOT NULL,
	advisories  INTEGER NOT NULL
);
INSERT INTO update_operation_new (id, feed, fingerprint, date, advisories)
	SELECT id, feed, fingerprint, date, advisories FROM update_operation ORDER BY date, rowid;
DROP TABLE update_operation;
ALTER TABLE update_operation_new RENAME TO update_operation;
CREATE INDEX update_operation_feed ON update_operation (feed, seq);

-- The advisories of the snapshot an operation wrote, as one compressed blob
-- (store/internal/snapshot). Operations written before this migration have
-- none: their diffs are not found. GC deletes an operation and, through the
-- cascade, its blob. A rowid table: the blob is large.
CREATE TABLE update_snapshot (
	operation TEXT NOT NULL PRIMARY KEY REFERENCES update_operation (id) ON DELETE CASCADE,
	data      BLOB NOT NULL
);

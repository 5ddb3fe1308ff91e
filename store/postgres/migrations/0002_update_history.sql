-- 0002_update_history: what each update operation replaced, for update
-- diffs (store.Store.UpdateDiff), and an order of operations that does not
-- rest on clocks.

-- seq is the order operations were written in. Dates come from the clocks of
-- the instances that wrote them and may tie or disagree; ReplaceFeed holds
-- the feed's lock when it takes a number, so a feed's numbers follow its
-- commits. Existing rows are numbered by date, the best order there was.
ALTER TABLE update_operation ADD COLUMN seq bigint;
UPDATE update_operation AS o SET seq = r.n
	FROM (SELECT id, row_number() OVER (ORDER BY date, id) AS n FROM update_operation) AS r
	WHERE o.id = r.id;
ALTER TABLE update_operation ALTER COLUMN seq SET NOT NULL;
ALTER TABLE update_operation ALTER COLUMN seq ADD GENERATED ALWAYS AS IDENTITY;
SELECT setval(pg_get_serial_sequence('update_operation', 'seq'),
	coalesce((SELECT max(seq) FROM update_operation), 0) + 1, false);
DROP INDEX update_operation_feed;
CREATE INDEX update_operation_feed ON update_operation (feed, seq);

-- The advisories of the snapshot an operation wrote, as one compressed blob
-- (store/internal/snapshot). Operations written before this migration have
-- none: their diffs are not found. GC deletes an operation and, through the
-- cascade, its blob. STORAGE EXTERNAL: the blob is compressed already, so
-- TOAST should not try again.
CREATE TABLE update_snapshot (
	operation text  NOT NULL PRIMARY KEY REFERENCES update_operation (id) ON DELETE CASCADE,
	data      bytea NOT NULL
);
ALTER TABLE update_snapshot ALTER COLUMN data SET STORAGE EXTERNAL;

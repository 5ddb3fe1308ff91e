-- 0003_notify: the notifier's tables (package notify).

-- manifest_index maps each key the matcher looks packages up under (image
-- namespace or language ecosystem, package name as the feed keys it) to the
-- manifests with such packages, and to the fragment of the index report
-- those packages make (match.Fragments): an update re-evaluates the
-- fragments under the keys it changed without decoding whole reports.
-- Written with the report, deleted with it (the cascade).
CREATE TABLE manifest_index (
	namespace TEXT NOT NULL,
	name      TEXT NOT NULL,
	manifest  TEXT NOT NULL REFERENCES index_report (manifest) ON DELETE CASCADE,
	fragment  TEXT NOT NULL,
	PRIMARY KEY (namespace, name, manifest)
) WITHOUT ROWID;
CREATE INDEX manifest_index_manifest ON manifest_index (manifest);
CREATE INDEX manifest_index_fragment ON manifest_index (namespace, name, fragment);
CREATE INDEX manifest_index_by_fragment ON manifest_index (fragment); -- unused fragments' GC

-- The fragments, once each: images on one base share most of theirs, so
-- an update evaluates each distinct fragment once. hash is the hex of the
-- SHA-256 of data (JSON). Fragments no index row names any more are
-- deleted by the notifier's GC.
CREATE TABLE index_fragment (
	hash TEXT  NOT NULL PRIMARY KEY,
	data BLOB NOT NULL
);

-- One notification set per update operation the notifier processed (an
-- empty one for a feed's first snapshot), in the order it stored them. No
-- foreign key to update_operation: the history's GC must not take
-- notifications not yet delivered with it.
CREATE TABLE notification_set (
	seq       INTEGER PRIMARY KEY AUTOINCREMENT,
	id        TEXT    NOT NULL UNIQUE,
	operation TEXT    NOT NULL UNIQUE,
	prev      TEXT    NOT NULL,
	feed      TEXT    NOT NULL,
	created   INTEGER  NOT NULL,
	count     INTEGER NOT NULL,
	read_at   INTEGER
);

-- A set's notifications, numbered from 1 in the set (the page cursor); data
-- is the JSON notify.Notification.
CREATE TABLE notification (
	set_id TEXT    NOT NULL REFERENCES notification_set (id) ON DELETE CASCADE,
	seq    INTEGER NOT NULL,
	data   BLOB   NOT NULL,
	PRIMARY KEY (set_id, seq)
);

-- Delivery receipts: a set acknowledged by a deliverer is never sent to it
-- again.
CREATE TABLE notification_delivery (
	set_id       TEXT   NOT NULL REFERENCES notification_set (id) ON DELETE CASCADE,
	deliverer    TEXT   NOT NULL,
	delivered_at INTEGER NOT NULL,
	PRIMARY KEY (set_id, deliverer)
);

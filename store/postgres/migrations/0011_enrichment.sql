-- 0011_enrichment: what the enrichment feeds (nvd, cvelist, epss, kev) say
-- of each CVE, one JSON vuln.Enrichment per feed and CVE (bytea, as
-- index_report: read back byte for byte). The primary key serves the
-- matcher's look-up by CVE; enrichment_feed the delete of a feed's previous
-- snapshot. (Numbered 0011, not 0003, so that migrations added on other
-- branches meanwhile keep their numbers.)
CREATE TABLE enrichment (
	cve  text  NOT NULL,
	feed text  NOT NULL,
	rec  bytea NOT NULL,
	PRIMARY KEY (cve, feed)
);
CREATE INDEX enrichment_feed ON enrichment (feed);

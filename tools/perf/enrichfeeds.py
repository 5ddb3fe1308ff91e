#!/usr/bin/env python3
"""Writes, for tools/perf/scan.sh --enriched, enrichment feeds in their
upstream forms that `clairctl update` reads through file:// URLs:

  OUT/epss.csv   FIRST's EPSS scores of 2021-08-31 (../shared/testdata keeps
                 them in vuls' JSON form) in FIRST's CSV form, percentiles
                 computed from the scores;
  OUT/nvd/       an NVD JSON 2.0 data feed folder (yearly files and an empty
                 modified file) holding every CVE the tracker names, each with
                 the CVSS metrics of the first record of the real 2021 sample
                 (NVD's bulk data is not in ../shared/testdata; only the
                 records' count and size matter here).

  enrichfeeds.py SHARED TRACKER_JSON OUT
"""
import bisect
import gzip
import json
import os
import re
import sys

shared, tracker, out = sys.argv[1:4]
os.makedirs(os.path.join(out, "nvd"), exist_ok=True)

day = json.load(gzip.open(os.path.join(shared, "feeds/epss/epss-2021-08-31.vuls-json.gz")))
scores = sorted(x["epss"] for x in day["data"])
with open(os.path.join(out, "epss.csv"), "w") as f:
    f.write("#model_version:v1,score_date:2021-08-31T00:00:00+0000\ncve,epss,percentile\n")
    for x in day["data"]:
        f.write("%s,%s,%.5f\n" % (x["id"], x["epss"], bisect.bisect_right(scores, x["epss"]) / len(scores)))

cves = sorted(set(re.findall(r"CVE-\d{4}-\d{4,}", open(tracker).read())))
sample = json.load(gzip.open(os.path.join(shared, "feeds/nvd/nvdcve-2.0-2021-sample.json.gz")))
rec = sample["vulnerabilities"][0]["cve"]
years = {}
for c in cves:
    years.setdefault(max(int(c.split("-")[1]), 2002), []).append(c)


def write(name, ids):
    doc = dict(sample)
    doc["vulnerabilities"] = [{"cve": dict(rec, id=c, descriptions=rec["descriptions"][:1])} for c in ids]
    doc["resultsPerPage"] = doc["totalResults"] = len(ids)
    with gzip.open(os.path.join(out, "nvd", name), "wt") as f:
        json.dump(doc, f)


for y, ids in years.items():
    write("nvdcve-2.0-%d.json.gz" % y, ids)
write("nvdcve-2.0-modified.json.gz", [])
print("%d CVEs in the NVD stand-in, %d EPSS scores" % (len(cves), len(day["data"])))

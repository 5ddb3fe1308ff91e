#!/usr/bin/python3
"""Independent computation of the (binary package, CVE) pairs a Debian image
is vulnerable to, straight from a dpkg status file and the security tracker
JSON, with dpkg's own version comparison (python3-apt's apt_pkg). It shares no
code with the scanner; tests compare the two.

usage: debian.py STATUS TRACKER_JSON[.gz] CODENAME  -> JSON {"pkg CVE": fixed}
"""
import gzip
import json
import sys

import apt_pkg


def installed(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        para = {}
        key = None
        for line in f.read().split("\n") + [""]:
            if line == "":
                if para:
                    yield para
                para, key = {}, None
            elif line[0] in " \t":
                continue
            else:
                key, _, val = line.partition(":")
                para[key] = val.strip()


def main():
    apt_pkg.init_system()
    status, tracker, codename = sys.argv[1:4]
    opener = gzip.open if tracker.endswith(".gz") else open
    with opener(tracker, "rt", encoding="utf-8") as f:
        data = json.load(f)
    out = {}
    for p in installed(status):
        st = p.get("Status", "install ok installed").split()
        if len(st) != 3 or st[2] != "installed":
            continue
        name, ver = p["Package"], p["Version"]
        src, srcver = name, ver
        if "Source" in p:
            parts = p["Source"].split()
            src = parts[0]
            if len(parts) > 1:
                srcver = parts[1].strip("()")
        for cve, info in data.get(src, {}).items():
            rel = info.get("releases", {}).get(codename)
            if rel is None:
                continue
            status_ = rel.get("status")
            fixed = rel.get("fixed_version", "")
            if status_ == "resolved":
                if fixed == "0" or fixed == "":
                    continue
                if apt_pkg.version_compare(srcver, fixed) < 0:
                    out[name + " " + cve] = fixed
            elif status_ in ("open", "undetermined"):
                out[name + " " + cve] = ""
    json.dump(out, sys.stdout, sort_keys=True)


if __name__ == "__main__":
    main()

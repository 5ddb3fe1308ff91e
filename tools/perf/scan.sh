#!/usr/bin/env bash
# Whole-process time of a warm `clairctl scan` (issue 12, item 10): the
# load test's 700-package Debian 12 image (tools/loadtest/mkimage.py, 10,275
# package/vulnerability pairs) already indexed, the full Debian tracker feed
# stored, --skip-update; beside the floor of `clairctl --version` as a
# process. Prints the minimum and median wall time and CPU time (user+sys)
# of N runs of each, and their ratios: on a shared machine the minimum and
# the CPU time say more than the mean.
#
# With --enriched, the database also holds what a default `clairctl scan`
# updates beside the distribution's feed: nvd, epss and kev, read by
# `clairctl update` from files in their upstream forms (enrichfeeds.py:
# FIRST's EPSS scores of a day, an NVD data feed folder with a CVSS record
# for every CVE of the tracker, CISA's KEV catalog).
#
#   tools/perf/scan.sh [--enriched] [runs]          (default 50)
#
# Needs python3 and ../shared/testdata (or CLAIR_SHARED).
set -euo pipefail
enriched=
if [ "${1:-}" = --enriched ]; then
	enriched=1
	shift
fi
runs=${1:-50}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
shared=${CLAIR_SHARED:-$repo/../shared/testdata}
[ -d "$shared" ] || { echo "perf: $shared is absent" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

(cd "$repo" && go build -o "$tmp/clairctl" ./cmd/clairctl)
python3 "$repo/tools/loadtest/mkimage.py" "$shared" "$tmp/layer.tar.gz" 700 >/dev/null
python3 "$here/dockerarchive.py" "$tmp/layer.tar.gz" "$tmp/img.tar"
gunzip -c "$shared/feeds/debian/tracker-json-from-osv.json.gz" > "$tmp/tracker.json"
db=$tmp/clair.db
"$tmp/clairctl" update -q --db "$db" --only debian --feed "debian=file://$tmp/tracker.json"
if [ -n "$enriched" ]; then
	python3 "$here/enrichfeeds.py" "$shared" "$tmp/tracker.json" "$tmp/enrich"
	"$tmp/clairctl" update -q --db "$db" --only nvd,epss,kev --feed "nvd=file://$tmp/enrich/nvd" \
		--feed "epss=file://$tmp/enrich/epss.csv" --feed "kev=file://$shared/feeds/kev/known_exploited_vulnerabilities.json"
fi
# The first scan indexes the image; the runs measured find it indexed.
"$tmp/clairctl" scan -q --db "$db" --skip-update "docker-archive:$tmp/img.tar" > "$tmp/first.txt"
tail -1 "$tmp/first.txt"

python3 - "$runs" "$tmp/clairctl" "$db" "docker-archive:$tmp/img.tar" <<'PY'
import os, resource, statistics, subprocess, sys, time
runs, exe, db, img = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
def measure(args):
    wall, cpu = [], []
    for _ in range(runs):
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run(args, stdout=subprocess.DEVNULL, check=True)
        wall.append(time.perf_counter() - t0)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
    return wall, cpu
floor = measure([exe, "--version"])
scan = measure([exe, "scan", "-q", "--db", db, "--skip-update", img])
ms = lambda v: "%.1f ms" % (v * 1000)
for name, (wall, cpu) in [("clairctl --version", floor), ("clairctl scan (warm)", scan)]:
    print("%-22s wall min %s median %s   cpu min %s median %s   (%d runs)" % (
        name, ms(min(wall)), ms(statistics.median(wall)), ms(min(cpu)), ms(statistics.median(cpu)), runs))
print("scan / floor: wall min %.1fx, median %.1fx" % (min(scan[0]) / min(floor[0]), statistics.median(scan[0]) / statistics.median(floor[0])))
PY

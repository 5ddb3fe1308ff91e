#!/usr/bin/env bash
# Load test of the server's GET vulnerability_report (issue 3): a
# 700-package Debian 12 image (real dpkg stanzas, see mkimage.py) indexed
# through the API, matched against the full-size Debian tracker feed, under
# wrk on loopback.
#
#   tools/loadtest/run.sh [sqlite|postgres] [seconds]
#
# Needs wrk (apt-get install wrk), python3, ../shared/testdata, and for
# postgres the local PostgreSQL (CLAIR_TEST_POSTGRES or the default below).
set -euo pipefail
store=${1:-sqlite}
secs=${2:-60}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
shared=${CLAIR_SHARED:-$repo/../shared/testdata}
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT

command -v wrk >/dev/null || { echo "loadtest: wrk is not installed (apt-get install wrk)" >&2; exit 2; }
[ -d "$shared" ] || { echo "loadtest: $shared is absent" >&2; exit 2; }

(cd "$repo" && go build -o "$tmp/clair" ./cmd/clair)
gunzip -c "$shared/feeds/debian/tracker-json-from-osv.json.gz" > "$tmp/tracker.json"
mkdir -p "$tmp/blobs"
read -r digest npkgs < <(python3 "$here/mkimage.py" "$shared" "$tmp/blobs/layer.tar.gz" 700)
(cd "$tmp/blobs" && exec python3 -m http.server --bind 127.0.0.1 18931 >/dev/null 2>&1) &
pids+=($!)

case $store in
sqlite) conn="sqlite:$tmp/clair.db" ;;
postgres)
	base=${CLAIR_TEST_POSTGRES:-host=127.0.0.1 port=5432 user=postgres dbname=test sslmode=disable}
	schema="clair_load_$$"
	psql "$base" -qc "SET client_min_messages = warning; DROP SCHEMA IF EXISTS $schema CASCADE; CREATE SCHEMA $schema" >/dev/null
	conn="$base search_path=$schema"
	trap 'cleanup; psql "$base" -qc "SET client_min_messages = warning; DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null' EXIT
	;;
*) echo "loadtest: store must be sqlite or postgres" >&2; exit 2 ;;
esac

cat > "$tmp/config.yaml" <<YAML
http_listen_addr: 127.0.0.1:18932
introspection_addr: 127.0.0.1:18933
log_level: warn
indexer:
  connstring: "$conn"
  allow_private_networks: true
updaters:
  sets: [debian]
  config:
    debian:
      url: file://$tmp/tracker.json
YAML
"$tmp/clair" -config "$tmp/config.yaml" 2>"$tmp/clair.log" &
pids+=($!)
api=http://127.0.0.1:18932
for _ in $(seq 600); do
	if curl -sf "$api/matcher/api/v1/internal/update_operation" | grep -q '"debian"'; then break; fi
	sleep 0.1
done
curl -sf "$api/matcher/api/v1/internal/update_operation" | grep -q '"debian"' || { echo "loadtest: feed never loaded" >&2; cat "$tmp/clair.log" >&2; exit 1; }

manifest="sha256:$(printf '%s' "$digest" | sha256sum | cut -c1-64)"
body=$(printf '{"hash":"%s","layers":[{"hash":"%s","uri":"http://127.0.0.1:18931/layer.tar.gz","headers":{}}]}' "$manifest" "$digest")
code=$(curl -s -o "$tmp/ir.json" -w '%{http_code}' -XPOST -d "$body" "$api/indexer/api/v1/index_report")
[ "$code" = 201 ] || { echo "loadtest: index: HTTP $code: $(cat "$tmp/ir.json")" >&2; exit 1; }
start=$(date +%s%N)
curl -sf -o /dev/null -XPOST -d "$body" "$api/indexer/api/v1/index_report"
echo "already-indexed POST: $(( ($(date +%s%N) - start) / 1000 )) µs (a store look-up)"
t=$(curl -sf -o "$tmp/vr.json" -w '%{time_total}' "$api/matcher/api/v1/vulnerability_report/$manifest")
echo "first vulnerability_report (matched and encoded, nothing cached): ${t}s"
vulns=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(len(r["packages"]), sum(len(v) for v in r["package_vulnerabilities"].values()))' "$tmp/vr.json")
echo "store=$store packages/pairs: $vulns (status stanzas: $npkgs)"

# Go's HTTP clients (clairctl, Quay) ask for gzip by default; LOADTEST_GZIP=0
# measures identity responses.
hdr=()
if [ "${LOADTEST_GZIP:-1}" = 1 ]; then hdr=(-H "Accept-Encoding: gzip"); fi
(sleep 3; [ -n "${LOADTEST_PROFILE:-}" ] && curl -s -o "$LOADTEST_PROFILE" "http://127.0.0.1:18933/debug/pprof/profile?seconds=5") &
wrk -t2 -c16 -d"${secs}s" --latency "${hdr[@]}" "$api/matcher/api/v1/vulnerability_report/$manifest" | tee "$tmp/wrk.txt"
if grep -q "Non-2xx" "$tmp/wrk.txt" || grep -q "Socket errors" "$tmp/wrk.txt"; then
	echo "loadtest: errors under load" >&2
	exit 1
fi

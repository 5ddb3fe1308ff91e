#!/usr/bin/env python3
"""Builds the load test's image layer: a Debian 12 root filesystem whose dpkg
status holds N real package stanzas, merged from the real status files of
../shared/testdata (first occurrence of each package name wins), written as a
gzip layer tar. Prints the layer's sha256 digest."""
import gzip, hashlib, io, os, sys, tarfile

shared, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
files = [
    "pkgdb/rootfs/debian-12-python3.12-slim-langflow/var/lib/dpkg/status",
    "pkgdb/rootfs/debian-11-nginx/var/lib/dpkg/status",
    "pkgdb/dpkg/claircore-texlive.status",
    "pkgdb/dpkg/claircore-postgresql.status",
    "pkgdb/dpkg/claircore-vcpkg.status",
    "pkgdb/dpkg/claircore-debian-only.status",
    # Ubuntu's packages fill the image up to 700; matched as Debian 12's
    # by source name, they load the matcher like Debian's own.
    "pkgdb/dpkg/trivy-dpkg_apt-status",
    "pkgdb/dpkg/trivy-ubuntu-status",
    "pkgdb/rootfs/ubuntu-20.04-base-industio/var/lib/dpkg/status",
]
seen, stanzas = set(), []
for f in files:
    for st in open(os.path.join(shared, f), encoding="utf-8", errors="replace").read().split("\n\n"):
        name = next((l[9:] for l in st.splitlines() if l.startswith("Package: ")), None)
        if not name or name in seen or "Status: install ok installed" not in st:
            continue
        seen.add(name)
        stanzas.append(st.strip() + "\n")
        if len(stanzas) == n:
            break
    if len(stanzas) == n:
        break
# Short of n, add the i386 twin of "Multi-Arch: same" libraries, as a
# multiarch image has them (same name, another architecture).
for st in list(stanzas):
    if len(stanzas) >= n:
        break
    if "Multi-Arch: same" in st and "Architecture: amd64" in st:
        stanzas.append(st.replace("Architecture: amd64", "Architecture: i386"))
osrel = open(os.path.join(shared, "pkgdb/rootfs/debian-12-python3.12-slim-langflow/usr/lib/os-release"), "rb").read()
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w") as tw:
    for path, data in [("etc/os-release", osrel), ("var/lib/dpkg/status", "\n".join(stanzas).encode())]:
        ti = tarfile.TarInfo(path)
        ti.size, ti.mtime, ti.mode = len(data), 1700000000, 0o644
        tw.addfile(ti, io.BytesIO(data))
blob = gzip.compress(buf.getvalue(), mtime=0)
open(out, "wb").write(blob)
print("sha256:" + hashlib.sha256(blob).hexdigest(), len(stanzas))

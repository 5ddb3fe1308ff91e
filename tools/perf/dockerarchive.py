#!/usr/bin/env python3
"""Wraps one gzip layer (tools/loadtest/mkimage.py's) in a "docker save"
tar, so that clairctl can scan it as docker-archive:PATH.

  dockerarchive.py LAYER.tar.gz OUT.tar"""
import gzip, hashlib, io, json, sys, tarfile

layer, out = sys.argv[1], sys.argv[2]
blob = open(layer, "rb").read()
diff_id = "sha256:" + hashlib.sha256(gzip.decompress(blob)).hexdigest()
config = json.dumps({
    "architecture": "amd64", "os": "linux",
    "config": {}, "rootfs": {"type": "layers", "diff_ids": [diff_id]},
    "history": [{"created": "2024-01-01T00:00:00Z", "created_by": "tools/loadtest/mkimage.py"}],
}).encode()
cfg_name = hashlib.sha256(config).hexdigest() + ".json"
manifest = json.dumps([{"Config": cfg_name, "RepoTags": ["loadtest:700"], "Layers": ["layer.tar.gz"]}]).encode()
with tarfile.open(out, "w") as tw:
    for name, data in [(cfg_name, config), ("layer.tar.gz", blob), ("manifest.json", manifest)]:
        ti = tarfile.TarInfo(name)
        ti.size, ti.mtime, ti.mode = len(data), 1700000000, 0o644
        tw.addfile(ti, io.BytesIO(data))

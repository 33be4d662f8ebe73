#!/usr/bin/env python3
"""Seed corpora for the control plane's fuzz targets, made from real inputs.

usage: make-seeds.py OUTDIR GEN_POOL_DATA TEST_MMDB_DIR CONFIG_YAML

registry/  kind byte + pool data (gen-pool-data.py, small), score feed, geodns JSON
files/     kind byte + the test GeoIP databases, the sample configuration
push/      push request streams: a status request, an image request with a body
"""

import os
import struct
import subprocess
import sys
import tempfile

GEODNS = b"""{"serial": "3", "ttl": 150, "max_hosts": "4",
 "contact": "hostmaster.pool.ntp.org", "targeting": "country continent @",
 "data": {"": {"ns": {"a.ntpns.org": null}, "mx": [{"mx": ".", "preference": 0}],
               "a": [["198.51.100.1", 100], ["198.51.100.2", "50"]], "txt": "x"},
          "0": {"a": [{"ip": "198.51.100.3", "weight": 10}, "198.51.100.4"]},
          "2": {"aaaa": [["2001:db8::1", 1]]},
          "0.de": {"a": [["198.51.100.5", 1]], "max_hosts": 2, "ttl": "60"},
          "0.debian": {"alias": "0"}, "www": {"cname": "www.ntppool.org."}}}"""


def put(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def request(kind, body):
    return b"PEPQ" + bytes([1, kind, 0, 0]) + struct.pack(">Q", len(body)) + body


def main():
    out, gen, mmdb_dir, config = sys.argv[1:5]
    with tempfile.TemporaryDirectory() as tmp:
        pool, scores = os.path.join(tmp, "p.json"), os.path.join(tmp, "s.json")
        subprocess.run([sys.executable, gen, "--scale", "0.01", "--generated", "1000000",
                        "--out", pool, "--scores-out", scores], check=True,
                       capture_output=True)
        put(f"{out}/registry/pool", b"\x00" + open(pool, "rb").read())
        put(f"{out}/registry/scores", b"\x01" + open(scores, "rb").read())
    put(f"{out}/registry/geodns", b"\x02" + GEODNS)
    for name in sorted(os.listdir(mmdb_dir)):
        if name.endswith(".mmdb"):
            put(f"{out}/files/{name}", b"\x00" + open(os.path.join(mmdb_dir, name), "rb").read())
    put(f"{out}/files/config", b"\x01" + open(config, "rb").read())
    put(f"{out}/push/status", request(2, b""))
    put(f"{out}/push/image", request(1, b"PEDGEIMG" + bytes(600)) + request(2, b""))
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env bash
# The README's first command: pooledge on its embedded defaults, answering real queries.
#
# What runs: the control plane's compiler (pooledge-control compile) turns generated,
# pool-sized sample registry data and the embedded GeoIP database into a signed zone image;
# pooledgectl inspects it; the zones answer engine serves it through the zones-serve test
# harness on a loopback UDP socket, and kdig shows the answers. The DPDK dataplane does not
# exist yet (its own issue); the demo says so as it runs.
#
#   scripts/demo.sh          run the queries, then keep serving until Ctrl-C
#   scripts/demo.sh --once   run the queries and exit
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
once=0
[ "${1:-}" = "--once" ] && once=1

"$root/scripts/setup.sh"
cmake -S "$root" -B "$root/build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$root/build" --target zones-serve pooledge-control pooledgectl -j "$(nproc)"

port=${POOLEDGE_DEMO_PORT:-5353}
work=$(mktemp -d)
log="$work/serve.log"
serve_pid=""
cleanup() {
    [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cat <<TXT

pooledge demo — what runs here
  1. scripts/gen-pool-data.py: sample registry data sized like the live pool (6,104
     servers, 5,382 eligible, real country codes, IPv4 and IPv6, vendor zones)
  2. pooledge-control compile: the real compiler, with the embedded GeoIP database
     (ip-location-db, $(cat "$root/.cache/geoip/VERSION" 2>/dev/null || echo "?")), signs the image with a fresh key
  3. zones-serve: the zones answer engine (the code the DPDK dataplane will run per
     packet) on 127.0.0.1:$port/udp — a test harness, NOT the DPDK dataplane, which
     does not exist yet
  Clients are placed by EDNS Client Subnet, located by the GeoIP database:
     85.214.0.0/16 and 2a01:4f8::/32 = Germany, 24.0.0.0/16 = USA, 133.0.0.0/16 = Japan;
     41.0.0.0/16 is overridden to Chad, which has no servers (falls back to Africa)

TXT

bin="$root/build"
python3 "$root/scripts/gen-pool-data.py" --seed 1 --out "$work/pool.json" \
    --scores-out "$work/scores.json"
"$bin/control/pooledge-control" keygen --out "$work/demo" >/dev/null
echo
echo "\$ pooledge-control compile --pool-data pool.json --scores scores.json --geoip ... --override 41.0.0.0/16=td"
"$bin/control/pooledge-control" compile --pool-data "$work/pool.json" --scores "$work/scores.json" \
    --geoip "$root/.cache/geoip/geo-whois-asn-country.mmdb" --key "$work/demo.key" \
    --override 41.0.0.0/16=td --out "$work/pool.img"
echo
echo "\$ pooledgectl inspect pool.img --key demo.pub"
"$bin/control/pooledgectl" inspect "$work/pool.img" --key "$work/demo.pub"

"$bin/tests/zones-serve" --image "$work/pool.img" --port "$port" --max-seconds 3600 \
    >"$log" 2>&1 &
serve_pid=$!
for _ in $(seq 1 600); do
    grep -q "serving image" "$log" && break
    kill -0 "$serve_pid" 2>/dev/null || { cat "$log"; exit 1; }
    sleep 0.1
done
echo
cat "$log"

# Each answered server, annotated with the countries the registry lists it in: the sample
# servers' addresses are random, so this is how to see who got whom.
annotate() {
    python3 -c '
import json, sys
zones = {s["ip"]: ",".join(s["zones"]) for s in json.load(open(sys.argv[1]))["servers"]}
for line in sys.stdin:
    line = line.rstrip("\n")
    addr = line.split()[-1] if line and not line.startswith(";") else ""
    print(line + ("    ; server in " + zones[addr] if addr in zones else ""))
' "$work/pool.json"
}
q() {
    echo
    echo "\$ kdig @127.0.0.1 -p $port $*"
    kdig @127.0.0.1 -p "$port" +notcp +retry=0 +timeout=2 "$@" |
        grep -vE '^;; (Received|Time|From)|^$' | annotate
}
q 0.pool.ntp.org +subnet=85.214.0.0/24 +nsid    # a client in Germany
q 0.pool.ntp.org +subnet=24.0.0.0/24            # in the USA
q 0.pool.ntp.org +subnet=133.0.0.0/24           # in Japan
q 0.pool.ntp.org +subnet=41.0.0.0/24            # in Chad: Africa answers
q 2.debian.pool.ntp.org AAAA +subnet=2a01:4f8::/32  # vendor zone, IPv6 only under 2.
q no-such-name.pool.ntp.org                     # NXDOMAIN with SOA
q -c CH id.server TXT                           # which node answered
q pool.ntp.org ANY                              # RFC 8482

if [ "$once" = 1 ]; then
    echo; echo "demo: done (--once)."
    exit 0
fi
echo
echo "demo: serving on 127.0.0.1:$port; try: kdig @127.0.0.1 -p $port 1.pool.ntp.org +subnet=85.214.0.0/24"
echo "demo: Ctrl-C to stop."
wait "$serve_pid"

#!/usr/bin/env bash
# The README's first command: pooledge on its embedded defaults, answering real queries.
#
# What exists today is the zones library (wire code, image, answer engine). The DPDK dataplane
# and the control plane come with their own issues; until then this demo builds the library,
# compiles the pool-sized sample into an image, serves it with the real answer engine through
# the zones-serve test harness on a loopback UDP socket (not the appliance), and shows what
# kdig decodes. It says so as it runs.
#
#   scripts/demo.sh          run the queries, then keep serving until Ctrl-C
#   scripts/demo.sh --once   run the queries and exit
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
once=0
[ "${1:-}" = "--once" ] && once=1

"$root/scripts/setup.sh"
cmake -S "$root" -B "$root/build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$root/build" --target zones-serve -j "$(nproc)"

port=${POOLEDGE_DEMO_PORT:-5353}
facts=$(mktemp)
log=$(mktemp)
serve_pid=""
cleanup() {
    [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null
    rm -f "$facts" "$log"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cat <<TXT

pooledge demo — what runs here
  * the zones answer engine (the code the DPDK dataplane will call per packet), serving a
    pool-sized sample image (6,132 servers, ~250 zones, a full-size synthetic geo table)
  * through zones-serve, a test harness on 127.0.0.1:$port/udp — NOT the DPDK dataplane,
    which does not exist yet; nor does the control plane (sample data is compiled in-process)
  * clients are placed in countries with EDNS Client Subnet and prefix overrides:
    81.0.0.0/16 and 2a01::/16 = Germany, 24.0.0.0/16 = USA, 133.0.0.0/16 = Japan,
    41.0.0.0/16 = Chad (no servers in the sample: falls back to Africa)

TXT

"$root/build/tests/zones-serve" --sample --port "$port" --facts "$facts" --max-seconds 3600 \
    --override 81.0.0.0/16=de --override 2a01::/16=de --override 24.0.0.0/16=us \
    --override 133.0.0.0/16=jp --override 41.0.0.0/16=td >"$log" 2>&1 &
serve_pid=$!
for _ in $(seq 1 600); do
    grep -q "serving image" "$log" && break
    kill -0 "$serve_pid" 2>/dev/null || { cat "$log"; exit 1; }
    sleep 0.1
done
cat "$log"

q() {
    echo
    echo "\$ kdig @127.0.0.1 -p $port $*"
    kdig @127.0.0.1 -p "$port" +notcp +retry=0 +timeout=2 "$@" | grep -vE '^;; (Received|Time|From)|^$'
}
q 0.pool.ntp.org +subnet=81.0.0.0/24 +nsid      # a client in Germany
q 0.pool.ntp.org +subnet=24.0.0.0/24            # in the USA
q 0.pool.ntp.org +subnet=133.0.0.0/24           # in Japan
q 0.pool.ntp.org +subnet=41.0.0.0/24            # in Chad: Africa answers
q 2.pool.ntp.org AAAA +subnet=2a01:4f8::/32     # IPv6 only under 2.
q no-such-name.pool.ntp.org                     # NXDOMAIN with SOA
q -c CH id.server TXT                           # which node answered
q pool.ntp.org ANY                              # RFC 8482

if [ "$once" = 1 ]; then
    echo; echo "demo: done (--once)."
    exit 0
fi
echo
echo "demo: serving on 127.0.0.1:$port; try: kdig @127.0.0.1 -p $port 1.pool.ntp.org +subnet=81.0.0.0/24"
echo "demo: Ctrl-C to stop."
wait "$serve_pid"

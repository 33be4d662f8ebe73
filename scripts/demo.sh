#!/usr/bin/env bash
# The README's first command: pooledge on its embedded defaults, answering real queries.
#
# What runs, all of it the real thing:
#   1. scripts/gen-pool-data.py: sample registry data sized like the live pool;
#   2. pooledge-control run: compiles it with the embedded GeoIP database, signs and pushes;
#   3. pooledge-dataplane: DPDK (net_af_xdp on a veth, or net_af_packet where XDP cannot
#      run; no hugepages) in a network namespace, its exception path a TAP interface for
#      ARP, ping and TCP;
#   4. kdig from a client namespace: clients in three countries (EDNS Client Subnet, located
#      by the GeoIP database), a fallback to the continent, AAAA, NXDOMAIN, NSID, id.server,
#      TCP, an NTP answer (ntpdig) over IPv4 and IPv6, a metrics excerpt, then a zone change
#      pushed live.
#
#   scripts/demo.sh          run the demo, then keep serving until Ctrl-C
#   scripts/demo.sh --once   run the demo and exit
#
# It makes two network namespaces (pe-demo-node, pe-demo-client) and removes them on exit.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
once=0
[ "${1:-}" = "--once" ] && once=1

"$root/scripts/setup.sh"
cmake -S "$root" -B "$root/build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$root/build" --target pooledge-dataplane pooledge-control pooledgectl \
    -j "$(nproc)"

node=pe-demo-node
client=pe-demo-client
svc4=10.53.0.1
svc6=fd00:53::1
bin="$root/build"
work=$(mktemp -d /tmp/pooledge-demo.XXXXXX)
chmod 755 "$work"
dp_pid=""
ctl_pid=""

cleanup() {
    set +e
    [ -n "$ctl_pid" ] && kill "$ctl_pid" 2>/dev/null && wait "$ctl_pid" 2>/dev/null
    [ -n "$dp_pid" ] && kill "$dp_pid" 2>/dev/null && wait "$dp_pid" 2>/dev/null
    ip netns del "$node" 2>/dev/null
    ip netns del "$client" 2>/dev/null
    rm -rf "$work" /var/run/dpdk/pooledge-demo
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

# Each answered server, annotated with the countries the registry lists it in: the sample
# servers' addresses are made up, so this is how to see who got whom.
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
    echo "\$ kdig @$svc4 $*"
    ip netns exec "$client" kdig @"$svc4" +retry=0 +timeout=2 "$@" |
        grep -vE '^;; (Received|Time)|^$' | annotate
}

cat <<TXT

pooledge demo — everything here is the real software:
  * sample registry data sized like the live pool (scripts/gen-pool-data.py),
  * pooledge-control compiling it with the embedded GeoIP database
    ($(cat "$root/.cache/geoip/VERSION" 2>/dev/null || echo "ip-location-db")), signing and pushing,
  * pooledge-dataplane (DPDK, net_af_xdp on a veth, no hugepages) in namespace $node,
  * kdig in namespace $client. Clients are placed by EDNS Client Subnet, located by the
    GeoIP database: 85.214.0.0/16 Germany, 24.0.0.0/16 USA, 133.0.0.0/16 Japan;
    41.0.0.0/16 is overridden to Chad, which has no servers (falls back to Africa).
TXT

say "network namespaces"
ip netns del "$node" 2>/dev/null || true
ip netns del "$client" 2>/dev/null || true
ip netns add "$node"
ip netns add "$client"
ip link add pe-demo-c type veth peer name pe-demo-n
ip link set pe-demo-c netns "$client"
ip link set pe-demo-n netns "$node"
ip -n "$client" addr add 10.53.0.2/24 dev pe-demo-c
ip -n "$client" addr add fd00:53::2/64 dev pe-demo-c nodad
for ns_dev in "$client pe-demo-c" "$client lo" "$node pe-demo-n" "$node lo"; do
    set -- $ns_dev
    ip -n "$1" link set "$2" up
done
# A trap of veth ports: the client's end would hand DPDK partial checksums.
ip netns exec "$client" ethtool -K pe-demo-c tx off >/dev/null
echo "$client: pe-demo-c 10.53.0.2/24 fd00:53::2/64  <--veth-->  $node: pe-demo-n (DPDK)"

say "sample registry data and keys"
python3 "$root/scripts/gen-pool-data.py" --seed 1 --out "$work/pool.json" \
    --scores-out "$work/scores.json"
"$bin/control/pooledge-control" keygen --out "$work/control"
mkdir -p "$work/images"

cat >"$work/dataplane.yaml" <<YAML
ports:
  - device: net_af_packet0
    exception_interface: pe0
service_addresses: [$svc4/24, "$svc6/64"]
identity: {nsid: demo-node-1, server_id: demo-node-1.pooledge.example, version: pooledge-demo}
images: {dir: $work/images, trusted_keys: [$work/control.pub]}
management: {listen: ["unix:$work/push.sock"]}
metrics: {listen: "127.0.0.1:9121"}
workers: 1
# This machine's clock may not be synchronised (then NTP answers say so: LI=3, stratum 0).
# The demo states a synchronised clock instead, through the documented test seam; a real
# node leaves clock_override out and answers from the kernel's clock state.
ntp:
  stratum: 2
  reference_id: DEMO
  clock_override: {synchronised: true, max_error: 0.001}
YAML
cat >"$work/control.yaml" <<YAML
registry:
  pool_data: $work/pool.json
  scores: $work/scores.json
  interval: 1s
geoip:
  path: $root/.cache/geoip/geo-whois-asn-country.mmdb
  overrides:
    41.0.0.0/16: td
signing:
  key: $work/control.key
state_dir: $work/control-state
push:
  targets: ["unix:$work/push.sock"]
  retry_min: 1s
  retry_max: 2s
metrics:
  listen: 127.0.0.1:9120
YAML

say "pooledge-dataplane"
health() { ip netns exec "$node" curl -s -m 2 http://127.0.0.1:9121/health || true; }
# af_xdp first: XDP hands the frames to DPDK and the node's kernel never sees them. Where it
# cannot run (no XDP support), af_packet, with the kernel told to ignore the DPDK-owned end.
start_dataplane() {  # $1: vdev
    ip netns exec "$node" "$bin/dataplane/pooledge-dataplane" -l 0-1 --no-huge -m 512 \
        --no-pci --file-prefix pooledge-demo --vdev "$1" \
        -- --config "$work/dataplane.yaml" >"$work/dataplane.log" 2>&1 &
    dp_pid=$!
    for _ in $(seq 1 50); do
        health | grep -q image && return 0
        kill -0 "$dp_pid" 2>/dev/null || break
        sleep 0.2
    done
    kill "$dp_pid" 2>/dev/null && wait "$dp_pid" 2>/dev/null
    dp_pid=""
    return 1
}
sed -i 's/device: net_af_packet0/device: net_af_xdp0/' "$work/dataplane.yaml"
if start_dataplane net_af_xdp0,iface=pe-demo-n; then
    echo "port: net_af_xdp on pe-demo-n"
else
    echo "af_xdp could not run here; using af_packet:"
    tail -3 "$work/dataplane.log"
    sed -i 's/device: net_af_xdp0/device: net_af_packet0/' "$work/dataplane.yaml"
    ip netns exec "$node" nft -f - <<'NFT'
table netdev pooledge { chain wire { type filter hook ingress device "pe-demo-n" priority 0; policy drop; }; }
NFT
    start_dataplane net_af_packet0,iface=pe-demo-n || { cat "$work/dataplane.log"; exit 1; }
fi
grep -E ' (info|warn|error) ' "$work/dataplane.log" | cut -d' ' -f2- | head -12
echo; echo "/health before any image:"; health | sed 's/^/  /'

say "pooledge-control: compile, sign, push"
"$bin/control/pooledge-control" run --config "$work/control.yaml" >"$work/control.log" 2>&1 &
ctl_pid=$!
for _ in $(seq 1 150); do
    health | grep -q '^ready' && break
    kill -0 "$ctl_pid" 2>/dev/null || { cat "$work/control.log"; exit 1; }
    sleep 0.2
done
cut -d' ' -f2- "$work/control.log" | head -8
echo; echo "/health:"; health | sed 's/^/  /'
"$bin/control/pooledgectl" inspect "$work/images/current.img" --key "$work/control.pub" |
    sed 's/^/  /' | head -9

say "answers"
q 0.pool.ntp.org +subnet=85.214.0.0/24 +nsid     # a client in Germany
q 0.pool.ntp.org +subnet=24.0.0.0/24             # in the USA
q 0.debian.pool.ntp.org +subnet=133.0.0.0/24     # a vendor zone, from Japan
q 0.pool.ntp.org +subnet=41.0.0.0/24             # in Chad: no servers, Africa answers
q 2.pool.ntp.org AAAA +subnet=2a01:4f8::/32      # IPv6 only under 2.
q no-such-name.pool.ntp.org                      # NXDOMAIN with SOA
q -c CH id.server TXT                            # which node answered
q 1.pool.ntp.org +tcp +subnet=85.214.0.0/24      # TCP, through the kernel
echo
for s in "$svc4" "$svc6"; do  # NTP on the same addresses, answered in the fast path
    echo "\$ ntpdig $s"
    ip netns exec "$client" ntpdig -t 2 "$s" || true
done
echo
echo "\$ ping -c 2 $svc6"
ip netns exec "$client" ping -6 -c 2 -W 2 "$svc6" | tail -2

say "metrics excerpt (http://127.0.0.1:9121/metrics in $node)"
ip netns exec "$node" curl -s http://127.0.0.1:9121/metrics |
    grep -E '^pooledge_(dataplane_packets|dns_responses|image_serial|image_swaps|dns_tcp_conn.*total|ntp_answers|ntp_clock_synchronised)' |
    head -18

say "a zone change, pushed live"
before=$(health | sed -n 's/^image: serial //p')
python3 - "$work/pool.json" <<'PY'
import json, sys, time
p = sys.argv[1]
d = json.load(open(p))
gone = [s for s in d["servers"] if s["zones"] == ["jp"]][:5]
d["servers"] = [s for s in d["servers"] if s not in gone]
d["generated"] = int(time.time())
json.dump(d, open(p, "w"))
print("removed %d Japanese servers from the registry data" % len(gone))
PY
for _ in $(seq 1 100); do
    now=$(health | sed -n 's/^image: serial //p')
    [ -n "$now" ] && [ "$now" != "$before" ] && break
    sleep 0.2
done
echo "serving serial: $before -> $now"
grep -E 'image serial' "$work/control.log" | tail -1 | cut -d' ' -f2-
grep -E 'serving \(pushed\)' "$work/dataplane.log" | tail -1 | cut -d' ' -f2-
q pool.ntp.org SOA +short

if [ "$once" = 1 ]; then
    echo; echo "demo: done (--once); cleaning up."
    exit 0
fi
cat <<TXT

demo: serving. Try, from another shell:
  ip netns exec $client kdig @$svc4 1.pool.ntp.org +subnet=85.214.0.0/24
  ip netns exec $client dig @$svc6 2.pool.ntp.org AAAA
  ip netns exec $client ntpdig $svc4
  ip netns exec $node curl -s http://127.0.0.1:9121/metrics
Edit $work/pool.json and the change is compiled and pushed within a second or two.
Ctrl-C stops everything and removes the namespaces.
TXT
wait "$dp_pid"

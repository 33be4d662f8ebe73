#!/usr/bin/env bash
# pooledge's NTP answers beside chronyd's on the same path: a veth pair between two
# namespaces made here, the server on CPU 1, perf/ntp_loadgen (sendmmsg/recvmmsg, 64
# sockets) on CPU 0, open loop at several rates and at its maximum; 3 repeats of each,
# median and min-max of the answered rate, Markdown and CSV.
#
#   perf/ntp-peers.sh [SECONDS_PER_RUN=5] [OUT_DIR=perf-ntp-results]
#
# Servers: pooledge-dataplane over net_af_xdp and over net_af_packet (one worker; main and
# worker lcore share CPU 1; the clock state from ntp.clock_override, since the machines here
# are unsynchronised), and chronyd 4.3 from Debian's package, unpacked into .cache/chrony
# rather than installed (installing it would replace systemd-timesyncd), run with -x (it
# never touches the clock), `local stratum 10` so it answers as synchronised, no rate limit.
# Known trap: veth's receive work runs on the sending CPU, so both directions' kernel work
# lands partly on the generator's core; compare the servers by answered rate at the same
# one-core budget, never by CPU%. Needs root and a Release build (build/).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
secs=${1:-5}
out=${2:-perf-ntp-results}
bin=$root/build
for b in dataplane/pooledge-dataplane control/pooledge-control perf/ntp_loadgen; do
    [[ -x $bin/$b ]] || { echo "ntp-peers.sh: build first ($bin/$b missing)" >&2; exit 2; }
done
chronyd=$root/.cache/chrony/usr/sbin/chronyd
if [[ ! -x $chronyd ]]; then
    tmp=$(mktemp -d)
    (cd "$tmp" && apt-get download chrony >/dev/null 2>&1)
    dpkg-deb -x "$tmp"/chrony_*.deb "$root/.cache/chrony"
    rm -rf "$tmp"
fi
mkdir -p "$out"
node=pe-np-node
client=pe-np-client
work=$(mktemp -d /tmp/pooledge-ntp-peers.XXXXXX)
pid=""
cleanup() {
    set +e
    [[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    ip netns del "$node" 2>/dev/null
    ip netns del "$client" 2>/dev/null
    rm -rf "$work" /var/run/dpdk/pe-ntp-peers
}
trap cleanup EXIT
trap 'exit 130' INT TERM

topology() {  # fresh namespaces for each server: no state carries over
    ip netns del "$node" 2>/dev/null || true
    ip netns del "$client" 2>/dev/null || true
    ip netns add "$node"
    ip netns add "$client"
    ip link add pe-np-c type veth peer name pe-np-n
    ip link set pe-np-c netns "$client"
    ip link set pe-np-n netns "$node"
    ip -n "$client" addr add 10.98.0.2/24 dev pe-np-c
    ip -n "$client" link set pe-np-c up
    ip -n "$client" link set lo up
    ip -n "$node" link set pe-np-n up
    ip -n "$node" link set lo up
    ip netns exec "$client" ethtool -K pe-np-c tx off >/dev/null  # no partial checksums
}

wait_answering() {
    for _ in $(seq 1 50); do
        r=$(ip netns exec "$client" taskset -c 0 "$bin/perf/ntp_loadgen" --server 10.98.0.1 \
            --seconds 0.2 --rate 1000 --sockets 4)
        [[ $(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["answered"] > 0)' "$r") == True ]] && return 0
        sleep 0.2
    done
    echo "ntp-peers.sh: $1 never answered" >&2
    return 1
}

start_pooledge() {  # $1: vdev
    topology
    if [[ $1 == net_af_packet* ]]; then
        ip netns exec "$node" nft -f - <<'NFT'
table netdev pooledge { chain wire { type filter hook ingress device "pe-np-n" priority 0; policy drop; }; }
NFT
    fi
    rm -f "$work/k.key" "$work/k.pub"
    "$bin/control/pooledge-control" keygen --out "$work/k" >/dev/null
    mkdir -p "$work/images"
    cat >"$work/dp.yaml" <<YAML
ports: [{device: ${1%%,*}, exception_interface: pe0}]
service_addresses: [10.98.0.1/24]
images: {dir: $work/images, trusted_keys: [$work/k.pub]}
# chronyd runs with no rate limit here, so neither do we: this measures answering.
ntp: {stratum: 2, reference_id: BNCH, clock_override: {synchronised: true, max_error: 0.001},
      rate_limit: {enabled: false}}
YAML
    ip netns exec "$node" "$bin/dataplane/pooledge-dataplane" --lcores 0@1,1@1 --no-huge -m 512 \
        --no-pci --file-prefix pe-ntp-peers --vdev "$1" -- --config "$work/dp.yaml" \
        >"$work/dp.log" 2>&1 &
    pid=$!
    wait_answering "pooledge ($1)" || { tail -5 "$work/dp.log"; return 1; }
}

start_chronyd() {
    topology
    ip -n "$node" addr add 10.98.0.1/24 dev pe-np-n
    cat >"$work/chrony.conf" <<CONF
allow all
local stratum 10
port 123
cmdport 0
pidfile $work/chronyd.pid
CONF
    ip netns exec "$node" taskset -c 1 "$chronyd" -x -d -u root -f "$work/chrony.conf" \
        >"$work/chronyd.log" 2>&1 &
    pid=$!
    wait_answering chronyd || { tail -5 "$work/chronyd.log"; return 1; }
}

stop_server() {
    kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
    pid=""
    rm -rf /var/run/dpdk/pe-ntp-peers
}

csv=$out/ntp-peers.csv
echo "server,offered_pps,repeat,sent,answered,answered_pps" >"$csv"
rates=(100000 300000 0)
load() {  # $1: server label
    for rate in "${rates[@]}"; do
        for rep in 1 2 3; do
            r=$(ip netns exec "$client" taskset -c 0 "$bin/perf/ntp_loadgen" --server 10.98.0.1 \
                --seconds "$secs" --rate "$rate" --sockets 64)
            python3 - "$1" "$rate" "$rep" "$r" >>"$csv" <<'PY'
import json, sys
label, rate, rep, r = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
print(f"{label},{rate if rate != '0' else 'max'},{rep},{r['sent']},{r['answered']},{r['answered_pps']:.0f}")
PY
        done
    done
}

echo "== pooledge, net_af_xdp"
if start_pooledge net_af_xdp0,iface=pe-np-n; then load "pooledge af_xdp"; fi
stop_server
echo "== pooledge, net_af_packet"
start_pooledge net_af_packet0,iface=pe-np-n && load "pooledge af_packet"
stop_server
echo "== chronyd"
start_chronyd && load "chronyd 4.3"
stop_server

python3 - "$csv" "$out/ntp-peers.md" "$secs" <<'PY'
import csv, statistics, sys, collections, subprocess
rows = list(csv.DictReader(open(sys.argv[1])))
by = collections.OrderedDict()
for r in rows:
    by.setdefault((r["server"], r["offered_pps"]), []).append(int(r["answered_pps"]))
cpu = subprocess.run(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"],
                     capture_output=True, text=True).stdout.strip()
lines = [f"NTP answered rate on a veth pair, server on one core ({cpu}), ntp_loadgen on the "
         f"other; {sys.argv[3]} s per run, 3 repeats", "",
         "| server | offered pps | answered pps median | min | max |", "|---|---|---|---|---|"]
peak = {}
for (server, offered), v in by.items():
    lines.append(f"| {server} | {offered} | {statistics.median(v):,.0f} | {min(v):,} | {max(v):,} |")
    peak[server] = max(peak.get(server, 0), statistics.median(v))
lines.append("")
chrony = peak.get("chronyd 4.3")
for server, p in peak.items():
    ratio = f" ({p / chrony:.1f}x chronyd)" if chrony and server != "chronyd 4.3" else ""
    lines.append(f"- peak over rates, {server}: {p:,.0f} answers/s{ratio}")
open(sys.argv[2], "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
echo "CSV: $csv, Markdown: $out/ntp-peers.md"

#!/usr/bin/env bash
# pooledge beside the DNS servers an operator would otherwise pick, on one path, one command:
# a veth pair between two namespaces made here, the server on CPU 1, the load on CPU 0,
# everybody serving the same pool-like zone (apex, 0-3, countries, continents, vendor names,
# A and AAAA; by GeoIP where the server can) and loaded with the same query mix.
#
#   perf/peers.sh [--smoke] [--seconds N] [--rates R,...] [--out DIR] [--build DIR]
#                 [--only LABEL,...]
#
#   --seconds N  per run (default 5): kxdpgun open loop at each rate, then dnsperf closed
#                loop; 3 repeats of each; median and min-max
#   --rates R,.. kxdpgun's offered qps (default 100000,300000,600000,max)
#   --smoke      what scripts/test.sh runs: every server must answer every distinct query
#                of the mix correctly (perf/peers_zones.py check), then one 1 s kxdpgun and
#                one 1 s dnsperf run each must get answers, every query sent to pooledge
#                must be accounted for in its /metrics, and pooledge must answer DNS
#                during and after a 1 s junk flood. Asserts nothing about speed.
#   --out DIR    peers.csv, accounting.csv, junk.csv and peers.md (default perf-peers-results)
#   --only L,... only these servers (labels as in the table, e.g. "knot-xdp,pooledge-af_xdp");
#                the tuning variant pooledge-af_xdp-busy0 (busy_budget=0) runs only if named
#
# After each pooledge server, the junk phase: DNS at half the capacity just measured mixed
# with perf/junk_flood at its maximum (SYN, ICMP echo, UDP to port 9), then the junk alone
# with strace -c on the worker lcores; what reached the kernel comes from /metrics.
#
# Servers: an XDP_TX reflector of ours (perf/xdp_reflector.c: the path's ceiling, not a DNS
# server), pooledge-dataplane over net_af_xdp and net_af_packet (main and worker lcore on
# CPU 1), Knot DNS in UDP and in XDP mode with mod-geoip, NSD (no GeoIP) and gdnsd with
# plugin_geoip. Every geo server reads one MaxMind-layout test database
# (tests/data/make-test-mmdb.pl); the client sits at 81.0.0.2, which it places in Germany,
# so the geo servers answer from the German set. Rate limiting is off everywhere (Debian's
# NSD has RRL on by default; pooledge's RRL would hold a one-address load at 100/s): this
# measures answering. Zones and configs: perf/peers_zones.py, from the compiled image.
#
# Known traps of this path, handled here: veth's receive work runs on the sending CPU, so
# part of each server's kernel work lands on the generator's core (RPS moves the socket
# servers' to CPU 1, XDP programs always run on the sender's): compare servers by answered
# qps at the same one-core budget, never by CPU%; the generator end has TX checksum offload
# off; native XDP_TX into a veth needs an XDP program on the peer, so the reflector's
# dnsperf runs put a pass program on the client end; kxdpgun leaves its XDP program
# attached, so it is detached after each run; knotd pins its XDP thread to CPU = queue
# index, so every thread is re-pinned; open-loop overload collapses kernel-path servers,
# so the summary reports the peak over rates, not only the "max" row.
# Needs root and a build (build/ unless --build).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
secs=5
out=perf-peers-results
bin=$root/build
smoke=0
only=""
rates="100000,300000,600000,max"
while [[ $# -gt 0 ]]; do
    case $1 in
    --smoke) smoke=1 ;;
    --seconds) secs=$2; shift ;;
    --out) out=$2; shift ;;
    --build) bin=$2; shift ;;
    --only) only=$2; shift ;;
    --rates) rates=$2; shift ;;
    *) echo "peers.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
    shift
done
die() { echo "peers.sh: $*" >&2; exit 1; }
for b in dataplane/pooledge-dataplane control/pooledge-control control/pooledgectl \
    perf/junk_flood; do
    [[ -x $bin/$b ]] || die "build first ($bin/$b missing)"
done
for t in kxdpgun kdig dnsperf knotd nsd gdnsd clang strace curl nft ethtool; do
    command -v "$t" >/dev/null || die "$t missing: run scripts/setup.sh"
done
py=/usr/bin/python3  # dnspython lives there, not in a pyenv python3
mmdb=$bin/control/test-mmdb/maxmind-layout.mmdb
[[ -f $mmdb ]] || die "$mmdb missing (the control_test_mmdb test writes it)"

node=pe-pr-node
client=pe-pr-client
nif=pe-pr-n
cif=pe-pr-c
svc=81.0.0.1
cli=81.0.0.2
work=$(mktemp -d /tmp/pooledge-peers.XXXXXX)
chmod 755 "$work"  # knotd, nsd and gdnsd drop privileges or check their paths
pid=""
# Everything this script started runs in one of its two namespaces: ending those processes
# (ip netns del does not) and the namespaces leaves nothing behind, also after a run that
# was killed before its trap ran.
clear_namespaces() {
    local ns p
    for ns in "$node" "$client"; do
        for p in $(ip netns pids "$ns" 2>/dev/null); do kill "$p" 2>/dev/null || true; done
    done
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        [[ -z "$(ip netns pids "$node" 2>/dev/null)$(ip netns pids "$client" 2>/dev/null)" ]] && break
        sleep 0.2
    done
    for ns in "$node" "$client"; do
        for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
        ip netns del "$ns" 2>/dev/null || true
    done
    ip link del "$cif" 2>/dev/null || true  # a pair left in the root namespace by a killed run
    rm -rf /var/run/dpdk/pe-peers
    return 0
}
cleanup() {
    set +e
    [[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    clear_namespaces
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ------------------------------------------------------------------ the zone, for all --
"$py" "$root/scripts/gen-pool-data.py" --seed 1 --generated 1767225600 \
    --out "$work/pool.json" --scores-out "$work/scores.json" 2>/dev/null
"$bin/control/pooledge-control" keygen --out "$work/k" >/dev/null
mkdir -p "$work/images"
"$bin/control/pooledge-control" compile --pool-data "$work/pool.json" --scores "$work/scores.json" \
    --geoip "$mmdb" --key "$work/k.key" --out "$work/images/current.img" --now 1767225700 \
    2>"$work/compile.log" || { cat "$work/compile.log"; die "compile failed"; }
"$bin/control/pooledgectl" addresses "$work/images/current.img" >"$work/addresses.json"
"$py" "$root/perf/peers_zones.py" build "$work/addresses.json" "$work/pool.json" "$work/z" \
    "$mmdb" "$svc"

# ------------------------------------------------------------------- the topology ------
topology() {  # fresh namespaces for each server: nothing carries over
    clear_namespaces
    ip netns add "$node"
    ip netns add "$client"
    ip link add "$cif" type veth peer name "$nif"
    ip link set "$cif" netns "$client"
    ip link set "$nif" netns "$node"
    ip -n "$client" addr add "$cli/24" dev "$cif"
    ip -n "$client" link set "$cif" up
    ip -n "$client" link set lo up
    ip -n "$node" link set "$nif" up
    ip -n "$node" link set lo up
    ip netns exec "$client" ethtool -K "$cif" tx off >/dev/null  # no partial checksums
    # Receive work of the socket path where its consumer runs: the server's on CPU 1, the
    # generator's answers on CPU 0.
    ip netns exec "$node" sh -c "echo 2 > /sys/class/net/$nif/queues/rx-0/rps_cpus"
    ip netns exec "$client" sh -c "echo 1 > /sys/class/net/$cif/queues/rx-0/rps_cpus"
}
kernel_address() { ip -n "$node" addr add "$svc/24" dev "$nif"; }
pin_all() {  # every thread in the node namespace on CPU 1 (knotd pins its XDP threads to
    # their queue's CPU; nsd and gdnsd fork their servers)
    local p t
    for p in $(ip netns pids "$node"); do
        for t in /proc/"$p"/task/*; do taskset -pc 1 "${t##*/}" >/dev/null 2>&1 || true; done
    done
}

wait_answering() {  # $1: label; the server must answer an A query for the apex, within 30 s
    local deadline=$((SECONDS + 30))
    while ((SECONDS < deadline)); do
        if ip netns exec "$client" kdig @"$svc" +retry=0 +timeout=1 +short pool.ntp.org A \
            2>/dev/null | grep -q '^[0-9]'; then
            return 0
        fi
        [[ -n $pid ]] && ! kill -0 "$pid" 2>/dev/null && break
        sleep 0.2
    done
    echo "peers.sh: $1 never answered" >&2
    return 1
}

start_reflector() {
    clang -O2 -g -Wall -Werror -target bpf -I"/usr/include/$(gcc -print-multiarch)" \
        -c "$root/perf/xdp_reflector.c" -o "$work/xdp_reflector.o"
    topology
    kernel_address  # the node's kernel answers ARP; the program answers port 53
    ip -n "$node" link set dev "$nif" xdpdrv obj "$work/xdp_reflector.o" sec xdp
    pid=""
}

start_pooledge() {  # $1: vdev
    topology
    if [[ $1 == net_af_packet* ]]; then  # the node's kernel must not see (and answer) DNS too
        ip netns exec "$node" nft -f - <<NFT
table netdev pooledge { chain wire { type filter hook ingress device "$nif" priority 0; policy drop; }; }
NFT
    fi
    cat >"$work/dp.yaml" <<YAML
ports: [{device: ${1%%,*}, exception_interface: pe0}]
service_addresses: [$svc/24]
images: {dir: $work/images, trusted_keys: [$work/k.pub]}
workers: 1
metrics: {listen: "127.0.0.1:9139"}
# The peers run without rate limits, so does pooledge: this measures answering.
rrl: {enabled: false}
YAML
    ip netns exec "$node" "$bin/dataplane/pooledge-dataplane" --lcores 0@1,1@1 --no-huge -m 512 \
        --no-pci --file-prefix pe-peers --vdev "$1" -- --config "$work/dp.yaml" \
        >"$work/server.log" 2>&1 &
    pid=$!
}

knot_conf() {  # $1: "xdp" for XDP mode
    mkdir -p "$work/knot"
    cat >"$work/knot/knot.conf" <<CONF
server:
    rundir: $work/knot
    listen: $svc@53
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
$( [[ $1 == xdp ]] && printf 'xdp:\n    listen: %s@53\n    udp: on\n' "$nif" )
log:
  - target: stderr
    any: warning
database:
    storage: $work/knot/db
mod-geoip:
  - id: pool
    config-file: $work/z/knot-geo.conf
    ttl: 150
    mode: geodb
    geodb-file: $mmdb
    geodb-key: [ continent/code, country/iso_code ]
template:
  - id: default
    storage: $work/z
    semantic-checks: off
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none
zone:
  - domain: pool.ntp.org
    file: pool.ntp.org.zone
    module: mod-geoip/pool
CONF
}
start_knot() {  # $1: udp | xdp
    topology
    kernel_address
    knot_conf "$1"
    ip netns exec "$node" taskset -c 1 knotd -c "$work/knot/knot.conf" >"$work/server.log" 2>&1 &
    pid=$!
}

start_nsd() {
    topology
    kernel_address
    mkdir -p "$work/nsd"
    cat >"$work/nsd/nsd.conf" <<CONF
server:
    ip-address: $svc
    port: 53
    server-count: 1
    username: ""
    chroot: ""
    zonesdir: "$work/z"
    database: ""
    zonelistfile: "$work/nsd/zone.list"
    pidfile: "$work/nsd/nsd.pid"
    xfrdfile: "$work/nsd/xfrd.state"
    logfile: "$work/nsd/nsd.log"
    rrl-ratelimit: 0
    rrl-whitelist-ratelimit: 0
remote-control:
    control-enable: no
zone:
    name: pool.ntp.org
    zonefile: pool.ntp.org.zone
CONF
    ip netns exec "$node" taskset -c 1 nsd -d -c "$work/nsd/nsd.conf" >"$work/server.log" 2>&1 &
    pid=$!
}

start_gdnsd() {
    topology
    kernel_address
    mkdir -p "$work/z/gdnsd/run" "$work/z/gdnsd/state"
    ip netns exec "$node" taskset -c 1 env GDNSD_RUNDIR="$work/z/gdnsd/run" \
        gdnsd -c "$work/z/gdnsd" start >"$work/server.log" 2>&1 &
    pid=$!
}

stop_server() {
    [[ -n $pid ]] && { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; }
    pid=""
    rm -rf /var/run/dpdk/pe-peers
}

# -------------------------------------------------------------------- the loads --------
cpu_ns() {  # CPU time so far of every thread in the node namespace (schedstat, ns)
    local p
    for p in $(ip netns pids "$node"); do cat /proc/"$p"/task/*/schedstat 2>/dev/null || true; done |
        awk '{s += $1} END {printf "%.0f\n", s}'  # mawk's %d stops at 2^31
}
node_mac() { ip -n "$node" -br link show "$nif" | awk '{print $3}'; }

csv=$out/peers.csv
kxdp() {  # $1 label, $2 offered qps or "max", $3 repeat, $4 seconds
    local q=$2 c0 c1 r
    [[ $q == max ]] && q=50000000
    c0=$(cpu_ns)
    [[ $1 == pooledge-* ]] && metrics >"$work/k0"
    r=$(ip netns exec "$client" kxdpgun -t "$4" -Q "$q" -i "$work/z/queries.txt" -I "$cif" \
        -F 0 -R "$(node_mac)" "$svc" 2>&1) || true
    c1=$(cpu_ns)
    ip -n "$client" link set dev "$cif" xdp off 2>/dev/null || true  # kxdpgun leaves it on
    if [[ $1 == pooledge-* ]]; then  # where every query went, from /metrics alone
        sleep 0.3
        metrics >"$work/k1"
        "$py" - "$1" "$2" "$3" "$r" "$work/k0" "$work/k1" >>"$out/accounting.csv" <<'PY'
import re, sys
label, offered, rep, r, before, after = sys.argv[1:7]
def num(pattern):
    m = re.search(pattern, r)
    return int(m.group(1)) if m else 0
def total(path, name, where):
    """The sum of a metric's series whose labels match `where`."""
    text = open(path).read()
    return sum(float(m.group(2)) for m in re.finditer(rf"^{name}{{([^}}]*)}} (\S+)$", text, re.M)
               if re.search(where, m.group(1)))
def delta(name, where):
    return round(total(after, name, where) - total(before, name, where))
port = r'port="net_af'
row = [label, offered, rep, num(r"total queries:\s+(\d+)"), num(r"total replies:\s+(\d+)"),
       delta("pooledge_port_rx_packets_total", port),
       delta("pooledge_dataplane_packets_total", "tx_answer"),
       delta("pooledge_port_rx_missed_total", port),
       delta("pooledge_port_interface_stat_total", r'stat="rx_queue_\d+_drops"'),
       delta("pooledge_port_socket_stat_total", "drop")]
print(",".join(str(v) for v in row))
PY
    fi
    "$py" - "$1" "$2" "$3" "$4" "$c0" "$c1" "$r" >>"$csv" <<'PY'
import re, sys
label, offered, rep, secs, c0, c1, r = sys.argv[1:8]
def num(pattern):
    m = re.search(pattern, r)
    return int(m.group(1)) if m else 0
sent = num(r"total queries:\s+(\d+)")
got = num(r"total replies:\s+(\d+)")
noerror = num(r"NOERROR:\s+(\d+)")
nx = num(r"NXDOMAIN:\s+(\d+)")
cpu = (int(c1) - int(c0)) / 1e9 / float(secs)
print(f"{label},kxdpgun,{offered},{rep},{sent},{got},{noerror + nx},{got / float(secs):.0f},"
      f"{cpu:.2f},,,")
PY
}
dnsperf_run() {  # $1 label, $2 repeat, $3 seconds
    local c0 c1
    [[ $1 == reflector ]] && ip -n "$client" link set dev "$cif" xdpdrv obj \
        "$work/xdp_reflector.o" sec xdp_pass
    c0=$(cpu_ns)
    ip netns exec "$client" taskset -c 0 dnsperf -s "$svc" -d "$work/z/queries.txt" -l "$3" \
        -c 8 -q 256 -v 2>/dev/null >"$work/dnsperf.out" || true
    c1=$(cpu_ns)
    [[ $1 == reflector ]] && ip -n "$client" link set dev "$cif" xdp off
    "$py" - "$1" "$2" "$3" "$c0" "$c1" "$work/dnsperf.out" >>"$csv" <<'PY'
import re, statistics, sys
label, rep, secs, c0, c1, path = sys.argv[1:7]
lat, sent, got, ok = [], 0, 0, 0
for line in open(path, errors="replace"):
    # verbose lines: "> NOERROR name type 0.000123" (rcode, query, latency in seconds)
    m = re.match(r"> (\S+) .* (\d+\.\d+)$", line)
    if m:
        lat.append(float(m.group(2)))
        ok += m.group(1) in ("NOERROR", "NXDOMAIN")
    if (m2 := re.search(r"Queries sent:\s+(\d+)", line)):
        sent = int(m2.group(1))
    if (m2 := re.search(r"Queries completed:\s+(\d+)", line)):
        got = int(m2.group(1))
lat.sort()
def pct(p):
    return f"{lat[min(len(lat) - 1, int(p / 100 * len(lat)))] * 1e6:.0f}" if lat else ""
cpu = (int(c1) - int(c0)) / 1e9 / float(secs)
print(f"{label},dnsperf,closed,{rep},{sent},{got},{ok},{got / float(secs):.0f},{cpu:.2f},"
      f"{pct(50)},{pct(99)},{pct(99.9)}")
PY
}

# The junk phase (pooledge only): DNS at half of the capacity just measured, mixed with
# junk_flood at its maximum (SYN, ICMP echo, UDP to port 9, all well formed); then junk alone
# with strace -c on the worker lcores. The kernel must get at most exception.rate (20000/s,
# the default), every DNS query must be answered.
metrics() {  # a scrape that fails leaves an empty file: that run's deltas read as 0
    ip netns exec "$node" curl -s -m 5 http://127.0.0.1:9139/metrics || true
}
worker_tids() {
    local t
    for t in /proc/"$pid"/task/*; do
        grep -q '^rte-worker\|^lcore-worker' "$t/comm" && echo "-p ${t##*/}"
    done
}
junk_phase() {  # $1 label
    local dns_rate jpid spid jsecs=$secs
    [[ $smoke == 1 ]] && jsecs=1
    dns_rate=$("$py" - "$csv" "$1" "$smoke" <<'PY'
import csv, statistics, sys, collections
if sys.argv[3] == "1":
    print(5000)
    sys.exit()
by = collections.defaultdict(list)
for r in csv.DictReader(open(sys.argv[1])):
    if r["server"] == sys.argv[2] and r["tool"] == "kxdpgun":
        by[r["offered_qps"]].append(int(r["answered_qps"]))
print(int(max(statistics.median(v) for v in by.values()) / 2))
PY
)
    metrics >"$work/m0"
    rm -f "$work/strace.out" "$work/junk.json"
    ip netns exec "$client" taskset -c 0 "$bin/perf/junk_flood" --iface "$cif" --src "$cli" \
        --dst "$svc" --dst-mac "$(node_mac)" --seconds "$jsecs" >"$work/junk.json" &
    jpid=$!
    ip netns exec "$client" kxdpgun -t "$jsecs" -Q "$dns_rate" -i "$work/z/queries.txt" \
        -I "$cif" -F 0 -R "$(node_mac)" "$svc" >"$work/kx.out" 2>&1 || true
    wait "$jpid" || true
    ip -n "$client" link set dev "$cif" xdp off 2>/dev/null || true
    metrics >"$work/m1"
    # Junk alone, the workers traced: what they do for it.
    ip netns exec "$client" taskset -c 0 "$bin/perf/junk_flood" --iface "$cif" --src "$cli" \
        --dst "$svc" --dst-mac "$(node_mac)" --seconds 3 >"$work/junk2.json" &
    jpid=$!
    sleep 0.5
    # shellcheck disable=SC2046  # one -p per worker thread
    strace -qq -c -o "$work/strace.out" $(worker_tids) &
    spid=$!
    sleep 2
    kill -INT "$spid" 2>/dev/null || true
    wait "$spid" 2>/dev/null || true
    wait "$jpid" || true
    cp "$work"/m0 "$work"/m1 "$work"/strace.out "$work"/kx.out "$out/" 2>/dev/null || true
    "$py" - "$1" "$dns_rate" "$jsecs" "$work" >>"$out/junk.csv" <<'PY'
import json, os, re, sys
label, rate, secs, work = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
kx = open(f"{work}/kx.out").read()
def num(pattern, text):
    m = re.search(pattern, text)
    return int(m.group(1)) if m else 0
def metric(path, name, label):
    text = open(path).read()
    return sum(float(v) for v in re.findall(rf'^{name}{{[^}}]*{label}[^}}]*}} (\S+)', text, re.M))
def delta(name, label):
    return metric(f"{work}/m1", name, label) - metric(f"{work}/m0", name, label)
try:
    junk = json.load(open(f"{work}/junk.json"))
except (OSError, ValueError):
    junk = {"sent": 0, "sent_pps": 0}
calls = {}
strace = f"{work}/strace.out"
for line in open(strace) if os.path.exists(strace) else []:
    f = line.split()
    if len(f) >= 5 and f[-1] != "total" and f[0][0].isdigit():
        calls[f[-1]] = int(f[3])
others = sum(v for k, v in calls.items() if k != "sendto")
sent, replies = num(r"total queries:\s+(\d+)", kx), num(r"total replies:\s+(\d+)", kx)
handed = delta("pooledge_dataplane_packets_total", 'direction="to_exception"')
kernel = delta("pooledge_dataplane_packets_total", 'direction="to_kernel"')
limited = delta("pooledge_dataplane_drops_total", 'reason="exception_rate_limited"')
print(f"{label},{rate},{sent},{replies},{junk['sent']},{junk['sent_pps']:.0f},{handed:.0f},"
      f"{kernel:.0f},{limited:.0f},{secs},{calls.get('sendto', 0)},{others}")
PY
}

wanted() { [[ -z $only || ",$only," == *",$1,"* ]]; }
# Variants for tuning, run only when --only names them.
named() { [[ ",$only," == *",$1,"* ]]; }
failures=0
run_server() {  # $1 label, $2 geo region the check expects ("-": no GeoIP), $3... start cmd
    local label=$1 region=$2
    shift 2
    wanted "$label" || return 0
    echo "== $label"
    "$@"
    if [[ $label == reflector ]]; then
        :  # it echoes queries: there is no answer to check
    elif ! wait_answering "$label" ||
        ! ip netns exec "$client" "$py" "$root/perf/peers_zones.py" check \
            "$work/addresses.json" "$work/z" "$svc" "$region"; then
        tail -5 "$work/server.log" >&2
        failures=$((failures + 1))
        stop_server
        return 0
    fi
    pin_all
    if [[ $smoke == 1 ]]; then
        kxdp "$label" 10000 1 1
        dnsperf_run "$label" 1 1
    else
        IFS=, read -ra rs <<<"$rates"
        for rate in "${rs[@]}"; do
            for rep in 1 2 3; do kxdp "$label" "$rate" "$rep" "$secs"; done
        done
        for rep in 1 2 3; do dnsperf_run "$label" "$rep" "$secs"; done
    fi
    if [[ $label == pooledge-* ]]; then
        junk_phase "$label"
        # The flood is over: the port must still answer (a flood once wedged net_af_xdp).
        wait_answering "$label after the junk" || failures=$((failures + 1))
    fi
    stop_server
}

mkdir -p "$out"
echo "server,tool,offered_qps,repeat,sent,answered,rcode_ok,answered_qps,server_cpu,p50_us,p99_us,p999_us" >"$csv"
echo "server,offered_qps,repeat,kxdpgun_sent,kxdpgun_replies,port_rx,answered,port_rx_missed,interface_drops,socket_drops" >"$out/accounting.csv"
echo "server,dns_offered_qps,dns_sent,dns_answered,junk_sent,junk_pps,to_exception,to_kernel,exception_rate_limited,seconds,worker_sendto_junk_only,worker_other_syscalls_junk_only" >"$out/junk.csv"
run_server reflector - start_reflector
run_server pooledge-af_xdp de start_pooledge "net_af_xdp0,iface=$nif"
run_server pooledge-af_packet de start_pooledge "net_af_packet0,iface=$nif"
if named pooledge-af_xdp-busy0; then  # net_af_xdp without preferred busy polling
    run_server pooledge-af_xdp-busy0 de start_pooledge "net_af_xdp0,iface=$nif,busy_budget=0"
fi
run_server knot-xdp de start_knot xdp
run_server knot-udp de start_knot udp
run_server nsd - start_nsd
run_server gdnsd de start_gdnsd

"$py" "$root/perf/peers_report.py" "$csv" "$out/peers.md" "$secs" "$smoke" "$out/junk.csv" \
    "$out/accounting.csv"
if [[ $smoke == 1 ]]; then
    # Every server answered every distinct query correctly (above), and every load got answers.
    "$py" - "$csv" "$out/junk.csv" "$out/accounting.csv" <<'PY' || failures=$((failures + 1))
import csv, sys
# At 10k qps and in a closed loop every server answers nearly everything, NOERROR or
# NXDOMAIN; under the junk flood pooledge still answers DNS and hands the kernel at most
# exception.rate (20000/s, default) plus its burst (2000).
bad = []
for r in csv.DictReader(open(sys.argv[1])):
    sent, got, ok = int(r["sent"]), int(r["answered"]), int(r["rcode_ok"])
    if sent == 0 or got < 0.9 * sent or ok < got:
        bad.append(f"{r['server']} under {r['tool']}: {got} answers ({ok} NOERROR/NXDOMAIN) "
                   f"to {sent} queries")
for r in csv.DictReader(open(sys.argv[2])):
    sent, got = int(r["dns_sent"]), int(r["dns_answered"])
    kernel, secs = int(r["to_kernel"]), float(r["seconds"])
    if got == 0:
        bad.append(f"{r['server']} answered no DNS during the junk flood ({sent} sent)")
    if kernel > 1.1 * (20000 * secs + 2000):
        bad.append(f"{r['server']} handed the kernel {kernel} frames in {secs} s")
# Every query kxdpgun sent to pooledge is in its /metrics: received, or dropped below it.
for r in csv.DictReader(open(sys.argv[3])):
    sent = int(r["kxdpgun_sent"])
    left = sent - int(r["port_rx"]) - int(r["interface_drops"]) - max(
        int(r["port_rx_missed"]), int(r["socket_drops"]))
    if abs(left) > max(50, 0.01 * sent):
        bad.append(f"{r['server']}: {left} of {sent} queries not accounted for in /metrics")
for b in bad:
    print(f"peers.sh: {b}", file=sys.stderr)
sys.exit(1 if bad else 0)
PY
fi
echo "CSV: $csv, Markdown: $out/peers.md"
[[ $failures == 0 ]] || die "$failures server(s) failed"

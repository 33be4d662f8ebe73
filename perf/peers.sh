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
#                the tuning variants pooledge-af_xdp-busy0 (busy_budget=0) and
#                pooledge-af_xdp-nofilter (exception.xdp_filter: false) run only if named
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

start_pooledge() {  # $1: vdev, $2: more of the configuration (optional)
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
${2:-}
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
data() { "$py" "$root/perf/peers_data.py" "$@"; }  # rows and checks (perf/peers_data.py)
kxdpgun_load() {  # $1 seconds, $2 qps, $3 output file; detaches the XDP program it leaves
    ip netns exec "$client" kxdpgun -t "$1" -Q "$2" -i "$work/z/queries.txt" -I "$cif" \
        -F 0 -R "$(node_mac)" "$svc" >"$3" 2>&1 || true
    ip -n "$client" link set dev "$cif" xdp off 2>/dev/null || true
}
kxdp() {  # $1 label, $2 offered qps or "max", $3 repeat, $4 seconds
    local q=$2 c0 c1
    [[ $q == max ]] && q=50000000
    c0=$(cpu_ns)
    [[ $1 == pooledge-* ]] && metrics >"$work/k0"
    kxdpgun_load "$4" "$q" "$work/kx.out"
    c1=$(cpu_ns)
    if [[ $1 == pooledge-* ]]; then  # where every query went, from /metrics alone
        sleep 0.3
        metrics >"$work/k1"
        data accounting "$1" "$2" "$3" "$work/kx.out" "$work/k0" "$work/k1" \
            >>"$out/accounting.csv"
    fi
    data kxdpgun "$1" "$2" "$3" "$4" "$c0" "$c1" "$work/kx.out" >>"$csv"
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
    data dnsperf "$1" "$2" "$3" "$c0" "$c1" "$work/dnsperf.out" >>"$csv"
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
junk_load() {  # $1 seconds, $2 output file: junk_flood at its maximum, in the background
    ip netns exec "$client" taskset -c 0 "$bin/perf/junk_flood" --iface "$cif" --src "$cli" \
        --dst "$svc" --dst-mac "$(node_mac)" --seconds "$1" >"$2" &
}
junk_phase() {  # $1 label
    local dns_rate=5000 jpid spid jsecs=$secs
    if [[ $smoke == 1 ]]; then
        jsecs=1
    else
        dns_rate=$(data half-peak "$csv" "$1")
    fi
    metrics >"$work/m0"
    rm -f "$work/strace.out" "$work/junk.json"
    junk_load "$jsecs" "$work/junk.json"
    jpid=$!
    kxdpgun_load "$jsecs" "$dns_rate" "$work/kx.out"
    wait "$jpid" || true
    metrics >"$work/m1"
    # Junk alone, the workers traced: what they do for it.
    junk_load 3 "$work/junk2.json"
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
    data junk "$1" "$dns_rate" "$jsecs" "$work" >>"$out/junk.csv"
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
echo "server,dns_offered_qps,dns_sent,dns_answered,junk_sent,junk_pps,to_exception,to_kernel,exception_rate_limited,xdp_rate_limited,seconds,worker_sendto_junk_only,worker_other_syscalls_junk_only" >"$out/junk.csv"
run_server reflector - start_reflector
run_server pooledge-af_xdp de start_pooledge "net_af_xdp0,iface=$nif"
run_server pooledge-af_packet de start_pooledge "net_af_packet0,iface=$nif"
if named pooledge-af_xdp-busy0; then  # net_af_xdp without preferred busy polling
    run_server pooledge-af_xdp-busy0 de start_pooledge "net_af_xdp0,iface=$nif,busy_budget=0"
fi
if named pooledge-af_xdp-nofilter; then  # net_af_xdp behind the PMD's program, not our filter
    run_server pooledge-af_xdp-nofilter de start_pooledge "net_af_xdp0,iface=$nif" \
        "exception: {xdp_filter: false}"
fi
run_server knot-xdp de start_knot xdp
run_server knot-udp de start_knot udp
run_server nsd - start_nsd
run_server gdnsd de start_gdnsd

"$py" "$root/perf/peers_report.py" "$csv" "$out/peers.md" "$secs" "$smoke" "$out/junk.csv" \
    "$out/accounting.csv"
if [[ $smoke == 1 ]]; then
    # Every server answered every distinct query correctly (above), and every load got answers.
    data check "$csv" "$out/junk.csv" "$out/accounting.csv" || failures=$((failures + 1))
fi
echo "CSV: $csv, Markdown: $out/peers.md"
[[ $failures == 0 ]] || die "$failures server(s) failed"

#!/usr/bin/python3
"""perf/peers.sh's Markdown report from its CSV: per server and offered rate the answered
qps (median and min-max of the repeats) and the server's CPU, dnsperf's closed-loop rate and
latency percentiles, and the peak over rates beside Knot XDP and the reflector ceiling.

    peers_report.py CSV MARKDOWN SECONDS SMOKE(0|1) [JUNK_CSV [ACCOUNTING_CSV]]
"""

import collections
import csv
import datetime
import os
import platform
import statistics
import sys

from peers_data import peaks, unexplained


def cpu_model():
    with open("/proc/cpuinfo", encoding="utf-8") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.machine()


def med(values):
    return statistics.median(values) if values else 0


def accounting_table(rows):
    """Where pooledge's queries went, from its /metrics alone, beside kxdpgun's counts."""
    if not rows:
        return []
    out = ["", "Where every query went (pooledge, medians of the repeats): kxdpgun's counts "
           "beside pooledge's /metrics alone. sent = port rx + dropped in the veth's queue "
           "(ethtool rx_queue_N_drops) + dropped at the PMD's socket (the port's rx missed, "
           "or for net_af_packet the socket's PACKET_STATISTICS drops; for net_af_xdp the "
           "socket's XDP_STATISTICS rx_dropped is the same count as rx missed); "
           "\"unexplained\" is what is left, frames in flight at the scrapes included.", "",
           "| server | offered | kxdpgun sent | port rx | veth queue drops | rx missed | "
           "socket drops | unexplained | answered | kxdpgun replies |",
           "|---|---|---|---|---|---|---|---|---|---|"]
    groups = collections.OrderedDict()
    for r in rows:
        groups.setdefault((r["server"], r["offered_qps"]), []).append(r)
    keys = ("kxdpgun_sent", "port_rx", "interface_drops", "port_rx_missed", "socket_drops",
            "answered", "kxdpgun_replies")
    for (server, offered), rs in groups.items():
        m = {k: med([int(r[k]) for r in rs]) for k in keys}
        left = med([unexplained(r) for r in rs])
        out.append(f"| {server} | {offered} | " + " | ".join(
            f"{m[k]:,.0f}" for k in keys[:5]) + f" | {left:,.0f} | {m['answered']:,.0f} | "
            f"{m['kxdpgun_replies']:,.0f} |")
    return out


def junk_table(rows):
    """The junk phase: DNS at half capacity under junk_flood at its maximum."""
    if not rows:
        return []
    out = ["", "Junk phase (pooledge): DNS at half the peak above, mixed with junk_flood at its "
           "maximum (SYN, ICMP echo, UDP to port 9); then junk alone, strace -c on the worker "
           "lcores for 2 s:", "",
           "| server | DNS offered qps | DNS answered | junk sent (pps) | to the exception "
           "service | to the kernel (/s) | rate-limited there | dropped in XDP | worker syscalls, "
           "junk alone |",
           "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        secs = float(r["seconds"])
        sent, got = int(r["dns_sent"]), int(r["dns_answered"])
        calls = f"sendto {r['worker_sendto_junk_only']}, other {r['worker_other_syscalls_junk_only']}"
        out.append(f"| {r['server']} | {int(r['dns_offered_qps']):,} | {got:,} of {sent:,} "
                   f"({got / sent if sent else 0:.2%}) | {int(r['junk_sent']):,} "
                   f"({int(r['junk_pps']):,}) | {int(r['to_exception']):,} | "
                   f"{int(r['to_kernel']):,} ({int(r['to_kernel']) / secs:,.0f}) | "
                   f"{int(r['exception_rate_limited']):,} | {int(r['xdp_rate_limited']):,} | "
                   f"{calls} |")
    return out


def main(argv):
    rows = list(csv.DictReader(open(argv[1], encoding="utf-8")))
    secs, smoke = argv[3], argv[4] == "1"
    kx = collections.OrderedDict()
    dp = collections.OrderedDict()
    for r in rows:
        target = kx if r["tool"] == "kxdpgun" else dp
        target.setdefault((r["server"], r["offered_qps"]), []).append(r)
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    out = [f"{now}, {cpu_model()}, {platform.release()}; server on CPU 1, load on CPU 0, "
           f"veth pair; {secs} s per run, "
           f"{'1 run (smoke)' if smoke else '3 repeats'}.", "",
           "kxdpgun, open loop (answered qps; server CPU from schedstat, 1.00 = one core; "
           "part of the veth path's kernel work runs on the sender's CPU and is not in it):",
           "",
           "| server | offered qps | answered qps median | min | max | server CPU |",
           "|---|---|---|---|---|---|"]
    peak = peaks(rows)
    for (server, offered), rs in kx.items():
        v = [int(r["answered_qps"]) for r in rs]
        cpu = med([float(r["server_cpu"]) for r in rs])
        out.append(f"| {server} | {offered} | {med(v):,.0f} | {min(v):,} | {max(v):,} | "
                   f"{cpu:.2f} |")
    out += ["", "dnsperf, closed loop (8 sockets, 256 in flight; latency of the answered "
            "queries, microseconds):", "",
            "| server | answered qps median | min | max | p50 | p99 | p99.9 |",
            "|---|---|---|---|---|---|---|"]
    for (server, _), rs in dp.items():
        v = [int(r["answered_qps"]) for r in rs]
        lat = {k: med([int(r[k]) for r in rs if r[k]]) for k in ("p50_us", "p99_us", "p999_us")}
        out.append(f"| {server} | {med(v):,.0f} | {min(v):,} | {max(v):,} | "
                   f"{lat['p50_us']:.0f} | {lat['p99_us']:.0f} | {lat['p999_us']:.0f} |")
    out += ["", "Peak answered qps over the offered rates (median of the repeats):", ""]
    knot, ceiling = peak.get("knot-xdp"), peak.get("reflector")
    for server, p in peak.items():
        rel = []
        if knot and server != "knot-xdp":
            rel.append(f"{p / knot:.2f}x Knot XDP")
        if ceiling and server != "reflector":
            rel.append(f"{p / ceiling:.0%} of the reflector")
        out.append(f"- {server}: {p:,.0f}" + (f" ({', '.join(rel)})" if rel else ""))
    if len(argv) > 6 and os.path.exists(argv[6]):
        out += accounting_table(list(csv.DictReader(open(argv[6], encoding="utf-8"))))
    if len(argv) > 5 and os.path.exists(argv[5]):
        out += junk_table(list(csv.DictReader(open(argv[5], encoding="utf-8"))))
    with open(argv[2], "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

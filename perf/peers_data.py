#!/usr/bin/python3
"""perf/peers.sh's measurements, turned into its CSV rows, and the smoke run's verdict: one
place that reads kxdpgun's, dnsperf's, strace's and pooledge's /metrics output.

    peers_data.py kxdpgun LABEL OFFERED REPEAT SECONDS CPU0_NS CPU1_NS KXDPGUN_OUT
    peers_data.py dnsperf LABEL REPEAT SECONDS CPU0_NS CPU1_NS DNSPERF_OUT
    peers_data.py accounting LABEL OFFERED REPEAT KXDPGUN_OUT METRICS_BEFORE METRICS_AFTER
    peers_data.py junk LABEL DNS_RATE SECONDS WORKDIR
    peers_data.py half-peak PEERS_CSV LABEL
    peers_data.py check PEERS_CSV JUNK_CSV ACCOUNTING_CSV

Each row command prints one CSV line (the headers are peers.sh's).
"""

import collections
import csv
import json
import os
import re
import statistics
import sys


def kxdpgun_counts(text):
    """kxdpgun's totals: queries sent, replies, and replies NOERROR or NXDOMAIN."""
    def num(pattern):
        m = re.search(pattern, text)
        return int(m.group(1)) if m else 0
    return {"sent": num(r"total queries:\s+(\d+)"), "replies": num(r"total replies:\s+(\d+)"),
            "ok": num(r"NOERROR:\s+(\d+)") + num(r"NXDOMAIN:\s+(\d+)")}


def metric_total(path, name, where):
    """The sum of a metric's series whose labels match the regex `where` (0 when the scrape
    failed and left the file empty)."""
    text = open(path, encoding="utf-8").read() if os.path.exists(path) else ""
    return sum(float(m.group(2))
               for m in re.finditer(rf"^{name}{{([^}}]*)}} (\S+)$", text, re.M)
               if re.search(where, m.group(1)))


def metric_delta(before, after, name, where):
    return round(metric_total(after, name, where) - metric_total(before, name, where))


def unexplained(row):
    """Queries kxdpgun sent that pooledge's /metrics do not place: not received, not dropped
    in the veth's queue, not dropped at the PMD's socket (rx missed; for net_af_packet its
    PACKET_STATISTICS drops; for net_af_xdp XDP_STATISTICS rx_dropped is the same count as
    rx missed, hence the max)."""
    return (int(row["kxdpgun_sent"]) - int(row["port_rx"]) - int(row["interface_drops"])
            - max(int(row["port_rx_missed"]), int(row["socket_drops"])))


def peaks(rows):
    """Per server, the highest median answered qps over kxdpgun's offered rates."""
    by = collections.defaultdict(list)
    for r in rows:
        if r["tool"] == "kxdpgun":
            by[(r["server"], r["offered_qps"])].append(int(r["answered_qps"]))
    peak = {}
    for (server, _), v in by.items():
        peak[server] = max(peak.get(server, 0), statistics.median(v))
    return peak


def cpu(c0, c1, secs):
    return (int(c1) - int(c0)) / 1e9 / float(secs)


def kxdpgun_row(label, offered, rep, secs, c0, c1, path):
    k = kxdpgun_counts(open(path, encoding="utf-8", errors="replace").read())
    return (f"{label},kxdpgun,{offered},{rep},{k['sent']},{k['replies']},{k['ok']},"
            f"{k['replies'] / float(secs):.0f},{cpu(c0, c1, secs):.2f},,,")


def dnsperf_row(label, rep, secs, c0, c1, path):
    lat, sent, got, ok = [], 0, 0, 0
    for line in open(path, encoding="utf-8", errors="replace"):
        # verbose lines: "> NOERROR name type 0.000123" (rcode, query, latency in seconds)
        if (m := re.match(r"> (\S+) .* (\d+\.\d+)$", line)):
            lat.append(float(m.group(2)))
            ok += m.group(1) in ("NOERROR", "NXDOMAIN")
        if (m := re.search(r"Queries sent:\s+(\d+)", line)):
            sent = int(m.group(1))
        if (m := re.search(r"Queries completed:\s+(\d+)", line)):
            got = int(m.group(1))
    lat.sort()

    def pct(p):
        return f"{lat[min(len(lat) - 1, int(p / 100 * len(lat)))] * 1e6:.0f}" if lat else ""
    return (f"{label},dnsperf,closed,{rep},{sent},{got},{ok},{got / float(secs):.0f},"
            f"{cpu(c0, c1, secs):.2f},{pct(50)},{pct(99)},{pct(99.9)}")


def accounting_row(label, offered, rep, path, before, after):
    k = kxdpgun_counts(open(path, encoding="utf-8", errors="replace").read())
    port = r'port="net_af'
    return ",".join(str(v) for v in [
        label, offered, rep, k["sent"], k["replies"],
        metric_delta(before, after, "pooledge_port_rx_packets_total", port),
        metric_delta(before, after, "pooledge_dataplane_packets_total", "tx_answer"),
        metric_delta(before, after, "pooledge_port_rx_missed_total", port),
        metric_delta(before, after, "pooledge_port_interface_stat_total",
                     r'stat="rx_queue_\d+_drops"'),
        metric_delta(before, after, "pooledge_port_socket_stat_total", "drop")])


def strace_counts(path):
    """strace -c's calls per system call ({} when strace did not run)."""
    calls = {}
    for line in open(path, encoding="utf-8") if os.path.exists(path) else []:
        f = line.split()  # % time  seconds  usecs/call  calls  [errors]  syscall
        if len(f) >= 5 and f[-1] != "total" and f[0][0].isdigit():
            calls[f[-1]] = int(f[3])
    return calls


def junk_row(label, rate, secs, work):
    k = kxdpgun_counts(open(f"{work}/kx.out", encoding="utf-8", errors="replace").read())
    try:
        junk = json.load(open(f"{work}/junk.json", encoding="utf-8"))
    except (OSError, ValueError):
        junk = {"sent": 0, "sent_pps": 0}
    calls = strace_counts(f"{work}/strace.out")
    before, after = f"{work}/m0", f"{work}/m1"
    return ",".join(str(v) for v in [
        label, rate, k["sent"], k["replies"], junk["sent"], f"{junk['sent_pps']:.0f}",
        metric_delta(before, after, "pooledge_dataplane_packets_total", 'direction="to_exception"'),
        metric_delta(before, after, "pooledge_dataplane_packets_total", 'direction="to_kernel"'),
        metric_delta(before, after, "pooledge_dataplane_drops_total",
                     'reason="exception_rate_limited"'),
        metric_delta(before, after, "pooledge_xdp_filter_frames_total", 'verdict="rate_limited"'),
        secs, calls.get("sendto", 0), sum(v for c, v in calls.items() if c != "sendto")])


def check(peers_csv, junk_csv, accounting_csv):
    """The smoke run's verdict. At 10k qps and in a closed loop every server answers nearly
    everything, NOERROR or NXDOMAIN; under the junk flood pooledge still answers DNS and
    hands the kernel at most exception.rate (20000/s, default) plus its burst (2000); every
    query sent to pooledge is in its /metrics."""
    bad = []
    for r in csv.DictReader(open(peers_csv, encoding="utf-8")):
        sent, got, ok = int(r["sent"]), int(r["answered"]), int(r["rcode_ok"])
        if sent == 0 or got < 0.9 * sent or ok < got:
            bad.append(f"{r['server']} under {r['tool']}: {got} answers ({ok} NOERROR/NXDOMAIN) "
                       f"to {sent} queries")
    for r in csv.DictReader(open(junk_csv, encoding="utf-8")):
        sent, got = int(r["dns_sent"]), int(r["dns_answered"])
        kernel, secs = int(r["to_kernel"]), float(r["seconds"])
        if got == 0:
            bad.append(f"{r['server']} answered no DNS during the junk flood ({sent} sent)")
        if kernel > 1.1 * (20000 * secs + 2000):
            bad.append(f"{r['server']} handed the kernel {kernel} frames in {secs} s")
    for r in csv.DictReader(open(accounting_csv, encoding="utf-8")):
        sent, left = int(r["kxdpgun_sent"]), unexplained(r)
        if abs(left) > max(50, 0.01 * sent):
            bad.append(f"{r['server']}: {left} of {sent} queries not accounted for in /metrics")
    for b in bad:
        print(f"peers.sh: {b}", file=sys.stderr)
    return 1 if bad else 0


def main(argv):
    cmd, args = (argv[1], argv[2:]) if len(argv) > 1 else ("", [])
    rows = {"kxdpgun": (kxdpgun_row, 7), "dnsperf": (dnsperf_row, 6),
            "accounting": (accounting_row, 6), "junk": (junk_row, 4)}
    if cmd in rows and len(args) == rows[cmd][1]:
        print(rows[cmd][0](*args))
        return 0
    if cmd == "half-peak" and len(args) == 2:
        rows_ = list(csv.DictReader(open(args[0], encoding="utf-8")))
        print(int(peaks(rows_).get(args[1], 0) / 2))
        return 0
    if cmd == "check" and len(args) == 3:
        return check(*args)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))

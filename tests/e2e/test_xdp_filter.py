#!/usr/bin/env python3
"""The XDP filter on a net_af_xdp port, live, in a namespace pair made here
(dataplane/README.md, "XDP filter").

    client netns  pe-c0 (10.99.0.2)
        | veth
    node netns    pooledge-dataplane: net_af_xdp on pe-n0 (one queue, one worker), pe0

1. The PMD loads the dataplane's filter (the log says so, the interface shows it); DNS over
   IPv4 and IPv6 and ping (the kernel's, through the exception path) work through it.
2. Junk from one raw socket (SYN, ICMP echo, UDP to port 9) for 3 s, far over
   exception.rate (200/s, bursts of 50), while a client asks DNS queries one after the
   other, forgetting the node's MAC before each (so ARP and ND must get through the flooded
   filter, in a bucket of their own): every query is answered; the filter's counts say the
   kernel got at most the rate plus the burst, the rest was dropped in XDP, the DNS queries
   were fast path and the ARP and ND passed in their own bucket; the dataplane's own
   exception limiter had next to nothing left to drop. promtool checks /metrics.
3. The dataplane holds the filter through a BPF link: a second dataplane on the interface
   refuses to start and the first keeps its filter; SIGKILL takes the filter along; a
   filter left attached over netlink (as the PMD attaches it) is detached at the next start
   (logged), which then serves.
4. exception.xdp_filter: false: no filter, DNS still served, no filter metrics.

Runs with Debian's python3. Every process is ours and ended by PID; namespaces are deleted.
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time

from e2e_common import check, metric, wait_for
from node_pair import (SVC4, SVC6, Dataplane, NodePair, dataplane_yaml, finish, image_on_disk,
                       parse_args, sh)

NODE, CLIENT = "pe-t-xdpf-node", "pe-t-xdpf-cli"
PAIR = NodePair(NODE, CLIENT)
METRICS = 9131
HERE = os.path.dirname(os.path.abspath(__file__))
RATE, BURST, SECONDS = 200, 50, 3.0
VDEV = "net_af_xdp0,iface=pe-n0"


def http_get(path):
    return PAIR.http_get(path, METRICS)


def verdict(text, v):
    return metric(text, "pooledge_xdp_filter_frames_total",
                  f'port="net_af_xdp0",interface="pe-n0",verdict="{v}"') or 0


def xdp_attached():
    return "prog/xdp" in sh("ip", "-d", "link", "show", "pe-n0", ns=NODE).stdout


def start(a, work, extra=""):
    with open(f"{work}/dataplane.yaml", "w") as f:
        f.write(dataplane_yaml(work, METRICS, f"exception: {{rate: {RATE}, burst: {BURST}"
                               f"{extra}}}\n", device="net_af_xdp0", workers=1))
    dp = Dataplane(PAIR, a.dataplane, f"{work}/dataplane.yaml", f"{work}/dataplane.log",
                   vdev=VDEV, lcores="0@0,1@1")
    check(wait_for(lambda: http_get("/health")[0] == 200, 30), "dataplane up and ready")
    return dp


def main():
    a = parse_args()
    if a is None:
        return 1
    work = tempfile.mkdtemp(prefix="pooledge-e2e-xdpf-")
    os.chmod(work, 0o755)
    dp = None
    try:
        PAIR.setup()
        image_on_disk(a, work)

        # 1. The filter in force.
        dp = start(a, work)
        log = open(f"{work}/dataplane.log").read()
        check("XDP filter in force" in log and f"at {RATE}/s, bursts of {BURST}" in log,
              "the log says the filter is in force, at the exception path's rate")
        check(xdp_attached(), "pe-n0 runs an XDP program")
        check(wait_for(lambda: "NOERROR" in PAIR.kdig("0.pool.ntp.org"), 10), "DNS over IPv4")
        check(wait_for(lambda: "NOERROR" in PAIR.kdig("0.pool.ntp.org", "AAAA", family=6), 10),
              "DNS over IPv6")
        ping = sh("ping", "-c", "3", "-i", "0.2", "-W", "2", SVC4, ns=CLIENT, check_rc=False)
        check(ping.returncode == 0, "ping: the kernel answers through the exception path")

        # 2. Junk beside DNS.
        node_mac = sh("cat", "/sys/class/net/pe-n0/address", ns=NODE).stdout.strip()
        before = http_get("/metrics")[1]
        t0 = time.monotonic()
        junk = subprocess.Popen(
            ["ip", "netns", "exec", CLIENT, "/usr/bin/python3", f"{HERE}/junk_sender.py",
             "--dev", "pe-c0", "--node-mac", node_mac, "--dst", SVC4, "--seconds",
             str(SECONDS)], stdout=subprocess.PIPE, text=True)
        asked = answered = 0
        while junk.poll() is None and time.monotonic() - t0 < SECONDS + 10:
            # The client forgets the node's MAC before each query, so every answer also
            # needs ARP or ND through the flooded filter (they skip its bucket).
            sh("ip", "neigh", "flush", "dev", "pe-c0", ns=CLIENT, check_rc=False)
            family = 6 if asked % 2 else 4
            asked += 1
            # One retry: a frame may be lost in the veth's ring before XDP runs.
            answered += "NOERROR" in PAIR.kdig("0.pool.ntp.org", "AAAA" if family == 6 else "A",
                                                "+retry=1", family=family)
        out, _ = junk.communicate(timeout=30)
        elapsed = time.monotonic() - t0
        sent = json.loads(out)["sent"]
        print(f"junk: {sent} frames in {elapsed:.1f} s; DNS {answered}/{asked} answered")
        check(sent >= 10 * RATE * SECONDS, f"the junk ran far over the rate ({sent} frames)")
        check(asked >= 5 and answered == asked,
              f"every DNS query answered under the junk ({answered}/{asked})")

        text = http_get("/metrics")[1]
        pt = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                            text=True)
        check(pt.returncode == 0, "promtool check metrics" + ("" if pt.returncode == 0 else
                                                              ": " + pt.stderr))
        d = {v: verdict(text, v) - verdict(before, v)
             for v in ("fast_path", "kernel", "rate_limited", "neighbour")}
        print(f"filter verdicts during the junk: {d}")
        bound = RATE * (elapsed + 1) + BURST
        check(d["kernel"] <= bound,
              f"the kernel got {d['kernel']:.0f} frames <= rate x time + burst ({bound:.0f})")
        check(d["kernel"] >= RATE * SECONDS * 0.5, "and was not starved below its rate")
        # Not all of it: the veth's ring may drop some before XDP runs.
        check(d["rate_limited"] >= 0.8 * sent,
              f"the rest was dropped in XDP ({d['rate_limited']:.0f} of {sent})")
        check(d["fast_path"] >= asked, f"the DNS queries were fast path ({d['fast_path']:.0f})")
        check(d["neighbour"] >= asked,
              f"the client's ARP and ND passed in a bucket of their own ({d['neighbour']:.0f})")
        later = metric(text, "pooledge_dataplane_drops_total", 'reason="exception_rate_limited"')
        check((later or 0) <= BURST,
              f"the dataplane's own limiter had next to nothing to drop ({later or 0:.0f})")

        # 3. The filter is held through a BPF link of the dataplane's: a killed dataplane
        # takes it along, and a second dataplane cannot take the running one's.
        second = Dataplane(PAIR, a.dataplane, f"{work}/dataplane.yaml", f"{work}/second.log",
                           vdev=VDEV, lcores="0@0,1@1", file_prefix=f"pe-t2-{os.getpid()}")
        try:
            second.p.wait(30)
        except subprocess.TimeoutExpired:
            pass
        check(second.stop() != 0, "a second dataplane on the interface does not start")
        check("a running dataplane holds the interface's XDP filter" in
              open(f"{work}/second.log").read(), "and says why")
        check(xdp_attached() and "NOERROR" in PAIR.kdig("0.pool.ntp.org"),
              "the running one keeps its filter and goes on answering")
        dp.stop(signal.SIGKILL)
        dp = None
        check(not xdp_attached(), "SIGKILL takes the filter along (its link closes)")
        # A filter attached over netlink, as the PMD leaves it when a dataplane dies before
        # taking it into its link: the next start detaches it and serves.
        obj = os.path.join(os.path.dirname(a.dataplane), "xdp_filter.bpf.o")
        sh("ip", "link", "set", "dev", "pe-n0", "xdpdrv", "obj", obj, "sec", "xdp", ns=NODE)
        check(xdp_attached(), "a stale filter on pe-n0")
        dp = start(a, work)
        log = open(f"{work}/dataplane.log").read()
        check("detached the XDP filter a previous dataplane left attached" in log,
              "the next start detaches it and says so")
        check(wait_for(lambda: "NOERROR" in PAIR.kdig("0.pool.ntp.org"), 10),
              "and answers DNS through a filter of its own")
        check(dp.stop() == 0, "dataplane stops cleanly")
        dp = None
        check(not xdp_attached(), "a clean stop takes the filter off")

        # 4. Turned off.
        open(f"{work}/dataplane.log", "w").close()
        dp = start(a, work, ", xdp_filter: false")
        check(wait_for(lambda: "NOERROR" in PAIR.kdig("0.pool.ntp.org"), 10),
              "xdp_filter: false: DNS served")
        text = http_get("/metrics")[1]
        check("pooledge_xdp_filter_frames_total" not in text and
              "XDP filter" not in open(f"{work}/dataplane.log").read(),
              "and no filter in the log or the metrics")
        check(dp.stop() == 0, "dataplane stops cleanly")
        dp = None
    finally:
        if dp is not None:
            dp.stop(signal.SIGKILL)
        PAIR.teardown()
    return finish(work)


if __name__ == "__main__":
    sys.exit(main())

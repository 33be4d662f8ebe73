#!/usr/bin/env python3
"""Abuse protection, live, in a namespace pair made here (issue 14's flood tests).

    client netns  pe-c0: 10.99.0.2/24 and, as /32s, 10.55.0.2 (a legitimate client),
                  10.77.0.2 (a resolver in the flooded prefix, with a server cookie),
                  10.77.0.3 (its neighbour, without one), 10.88.0.2 (a denied client)
        | veth
    node netns    pooledge-dataplane (net_af_packet on pe-n0), the image from disk

1. For 4 s a spoofed flood from 10.77.0.0/24 (3000 DNS and 1000 NTP requests a second,
   written as raw frames: far below what the workers classify, so every loss is the
   limiter's) runs beside the other clients (tests/e2e/abuse_traffic.py). The flooded prefix
   gets at most its rate of DNS answers (the rest dropped or slipped as TC=1) and of NTP
   answers (the rest KoD RATE or nothing), and never more bytes back than it sent; the
   legitimate client keeps every DNS and NTP answer; the resolver that presents a valid
   server cookie keeps every answer under the flood; the denied prefix gets nothing, over
   UDP or TCP.
   /metrics (promtool) counts each action.
2. SIGHUP with a broken acl section: refused whole, the deny stays. SIGHUP with the deny
   removed: the client is answered.

Runs with Debian's python3. Every process is ours and ended by PID; namespaces are deleted.
"""

import json
import os
import signal
import subprocess
import sys
import tempfile

from e2e_common import check, metric, wait_for
from node_pair import (SVC4, Dataplane, NodePair, dataplane_yaml, finish, image_on_disk,
                       parse_args, sh)

NODE, CLIENT = "pe-t-abuse-node", "pe-t-abuse-cli"
PAIR = NodePair(NODE, CLIENT)
METRICS = 9129
HERE = os.path.dirname(os.path.abspath(__file__))
EXTRA_ADDRESSES = ["10.55.0.2", "10.77.0.2", "10.77.0.3", "10.88.0.2"]
DURATION = 4.0
RATE, WINDOW = 100, 2  # DNS responses a second per /24, and the burst's seconds
NTP_BURST, NTP_INTERVAL = 8, 3

LIMITS = f"""rrl:
  responses_per_second: {RATE}
  window: {WINDOW}
  slip: 4
  table_entries: 65536
ntp:
  stratum: 2
  reference_id: GPS
  clock_override: {{synchronised: true, max_error: 0.001}}
  rate_limit: {{interval: {NTP_INTERVAL}, burst: {NTP_BURST}, leak: 0, kod: 1, ipv4_prefix: 24}}
"""


def config(work, acl):
    with open(f"{work}/dataplane.yaml", "w") as f:
        f.write(dataplane_yaml(work, METRICS, LIMITS + acl, exempt_client=False))


def http_get(path):
    return PAIR.http_get(path, METRICS)


def labelled(text, name, **labels):
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    return metric(text, name, want) or 0


def kdig_from(src):
    return PAIR.kdig("-b", src, "0.pool.ntp.org")


def main():
    a = parse_args()
    if a is None:
        return 1
    work = tempfile.mkdtemp(prefix="pooledge-e2e-abuse-")
    os.chmod(work, 0o755)
    dp = None
    try:
        PAIR.setup()
        for addr in EXTRA_ADDRESSES:
            sh("ip", "addr", "add", f"{addr}/32", "dev", "pe-c0", ns=CLIENT)
        image_on_disk(a, work)
        config(work, "acl:\n  dns: {deny: [10.88.0.0/24]}\n  ntp: {deny: [10.88.0.0/24]}\n")
        dp = Dataplane(PAIR, a.dataplane, f"{work}/dataplane.yaml", f"{work}/dataplane.log")
        check(wait_for(lambda: http_get("/health")[0] == 200, 30), "dataplane up and ready")
        check(wait_for(lambda: "NOERROR" in PAIR.kdig("0.pool.ntp.org"), 10), "DNS answers")
        node_mac = sh("cat", "/sys/class/net/pe-n0/address", ns=NODE).stdout.strip()
        # The node's kernel reaches the denied client on-link through the exception
        # interface, so a TCP handshake from it completes and meets the ACL at accept.
        sh("ip", "route", "add", "10.88.0.0/24", "dev", "pe0", ns=NODE)

        # 1. The flood and the clients beside it.
        r = sh("/usr/bin/python3", f"{HERE}/abuse_traffic.py", "--svc", SVC4, "--node-mac",
               node_mac, "--duration", str(DURATION), ns=CLIENT, timeout=60)
        out = json.loads(r.stdout)
        print(json.dumps(out, indent=1))
        sent, back = out["flood_sent"], out["flood_back"]
        check(sent["dns"] >= 0.8 * 3000 * DURATION, f"the DNS flood ran ({sent['dns']} queries)")
        # The limiter's bound, with half a second for the replies still in flight.
        dns_bound = RATE * (DURATION + 0.5) + RATE * WINDOW
        check(back["dns_answers"] <= dns_bound,
              f"flooded prefix: {back['dns_answers']} full DNS answers <= {dns_bound:.0f}")
        check(back["dns_answers"] >= RATE * WINDOW / 2,
              f"flooded prefix: still answered at its rate ({back['dns_answers']})")
        check(back["dns_tc"] > 0, f"limited responses slipped as TC=1 ({back['dns_tc']})")
        check(back["dns_bytes"] <= sent["dns_bytes"],
              f"flooded prefix: {back['dns_bytes']} DNS bytes back <= {sent['dns_bytes']} sent")
        ntp_bound = NTP_BURST + (DURATION + 0.5) / 2 ** NTP_INTERVAL + 1
        check(back["ntp_answers"] <= ntp_bound,
              f"flooded prefix: {back['ntp_answers']} NTP answers <= {ntp_bound:.1f}")
        check(back["ntp_kod"] > 0, f"limited NTP requests got KoD RATE ({back['ntp_kod']})")
        check(back["ntp_bytes"] <= sent["ntp_bytes"],
              f"flooded prefix: {back['ntp_bytes']} NTP bytes back <= {sent['ntp_bytes']} sent")
        for role in ("legit_dns", "legit_ntp"):
            v = out[role]
            check(v["sent"] > 0 and v["answered"] == v["sent"],
                  f"{role}: every request answered under the flood ({v['answered']}/{v['sent']})")
        c = out["cookie"]
        check(c.get("learned") and c["sent"] >= 250 * DURATION * 0.5 and c["answered"] == c["sent"],
              f"resolver with a valid server cookie in the flooded prefix: every answer "
              f"({c['answered']}/{c['sent']})")
        n = out["neighbour"]
        print(f"neighbour without a cookie in the flooded prefix: {n['answered']}/{n['sent']}")
        d = out["denied"]
        check(d["dns_answered"] == 0 and d["ntp_answered"] == 0, f"denied prefix: nothing ({d})")
        check("NOERROR" not in PAIR.kdig("-b", "10.88.0.2", "0.pool.ntp.org", tcp=True),
              "denied prefix: nothing over TCP either")

        text = http_get("/metrics")[1]
        pt = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                            text=True)
        check(pt.returncode == 0, "promtool check metrics" + ("" if pt.returncode == 0 else
                                                              ": " + pt.stderr))
        act = "pooledge_rate_limit_actions_total"
        limited = labelled(text, act, service="dns", action="limited")
        dropped = labelled(text, act, service="dns", action="dropped")
        slipped = labelled(text, act, service="dns", action="slipped")
        bypass = labelled(text, act, service="dns", action="cookie_bypass")
        check(limited > 0 and dropped + slipped + bypass == limited,
              f"DNS limited {limited:.0f} = dropped {dropped:.0f} + slipped {slipped:.0f} + "
              f"cookie_bypass {bypass:.0f}")
        check(slipped >= back["dns_tc"], "every TC=1 the sniffer saw was counted as slipped")
        check(bypass > 0, "cookie_bypass counted")
        kod = labelled(text, act, service="ntp", action="kod")
        check(kod >= back["ntp_kod"] > 0, f"KoD counted ({kod:.0f})")
        for svc in ("dns", "ntp"):
            acl = labelled(text, "pooledge_dataplane_drops_total", reason=f"{svc}_acl_denied")
            check(acl >= 5, f"{svc}_acl_denied drops counted ({acl:.0f})")
        check(labelled(text, "pooledge_acl_rules", service="dns") == 1, "one DNS ACL rule")
        check(labelled(text, "pooledge_dns_tcp_connections_total", outcome="refused_acl") >= 1,
              "the TCP connection from the denied prefix counted as refused_acl")

        # 2. SIGHUP: a bad file is refused whole; a good one applies between two polls.
        config(work, "acl:\n  dns: {deny: [10.88.0.1/24]}\n")
        os.kill(dp.pid(), signal.SIGHUP)
        check(wait_for(lambda: labelled(http_get("/metrics")[1], "pooledge_acl_reloads_total",
                                        result="refused") == 1, 10),
              "SIGHUP with a bad acl entry: refused")
        check("NOERROR" not in kdig_from("10.88.0.2"), "the deny in force stays")
        log = open(f"{work}/dataplane.log").read()
        check("keeping the ACLs in force" in log and "acl.dns.deny[0]" in log,
              "the refusal names the key")
        config(work, "acl:\n  dns: {deny: []}\n")
        os.kill(dp.pid(), signal.SIGHUP)
        check(wait_for(lambda: labelled(http_get("/metrics")[1], "pooledge_acl_reloads_total",
                                        result="applied") == 1, 10), "SIGHUP applied")
        check(wait_for(lambda: "NOERROR" in kdig_from("10.88.0.2"), 5),
              "the client the old list denied is answered")
        check(dp.stop() == 0, "dataplane stops cleanly")
        dp = None
    finally:
        if dp is not None:
            dp.stop(signal.SIGKILL)
        PAIR.teardown()
    return finish(work)


if __name__ == "__main__":
    sys.exit(main())

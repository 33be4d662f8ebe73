#!/usr/bin/python3
"""Live test of the NTP responder: pooledge-dataplane in a namespace pair, real clients.

    client netns  pe-c0 (10.99.0.2/24, fd00:99::2/64): ntpdig, raw NTP probes
        | veth
    node netns    pe-n0 (DPDK net_af_packet), pe0 (net_tap)

The machines this runs on have an unsynchronised clock (adjtimex: TIME_ERROR, STA_UNSYNC),
and the test never changes it: the published clock state comes from ntp.clock_override.

1. Override "synchronised", stratum 2, reference id GPS: ntpdig over IPv4 and IPv6 gets an
   answer whose offset agrees with the host clock within a few milliseconds (client and
   server share it), stratum 2; mode 6 READVAR and mode 7 MON_GETLIST get nothing back; DNS
   keeps answering during the NTP traffic; /metrics passes promtool and counts it all;
   /health says "ntp: synchronised".
2. No override: the kernel's own state, read by the dataplane with adjtimex. The answer says
   what the kernel says (here: LI=3, stratum 0), /health stays 200 with its ntp line.
3. Override "unsynchronised", unsynchronised: silent, health_requires_sync: true: no answer,
   counted as `unsynchronised`; /health 503 naming the clock.

Runs with Debian's python3 (python3-scapy builds the probes).
"""

import json
import os
import subprocess
import sys
import tempfile
import time

from e2e_common import check, metric, wait_for
from node_pair import (CLIENT4, SVC4, SVC6, Dataplane, NodePair, dataplane_yaml, finish,
                       image_on_disk, ntp_exempt_client, parse_args, sh)
from scapy.all import NTPControl, NTPHeader, NTPPrivate

NODE, CLIENT = "pe-ntp-node", "pe-ntp-client"
PAIR = NodePair(NODE, CLIENT)
METRICS = 9188

# Run in the client namespace: sends each hex payload to SERVER:123 from its own socket and
# prints, per payload, the reply's hex or null (nothing within the timeout).
PROBE = r"""
import json, socket, sys
server, payloads = sys.argv[1], sys.argv[2:]
family = socket.AF_INET6 if ":" in server else socket.AF_INET
out = []
for hexpayload in payloads:
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.settimeout(1.0)
    s.sendto(bytes.fromhex(hexpayload), (server, 123))
    try:
        out.append(s.recv(2048).hex())
    except socket.timeout:
        out.append(None)
    s.close()
print(json.dumps(out))
"""


def probe(server, *payloads):
    r = sh("/usr/bin/python3", "-c", PROBE, server, *[bytes(p).hex() for p in payloads],
           ns=CLIENT, check_rc=False)
    try:
        return [bytes.fromhex(x) if x else None for x in json.loads(r.stdout)]
    except (ValueError, TypeError):
        return [None] * len(payloads)


def client_request():
    return NTPHeader(leap=0, version=4, mode=3, poll=6, sent=time.time())


def ntpdig(server):
    """ntpdig's JSON for one sample (it only reports; -S/-s would set the clock)."""
    r = sh("ntpdig", "-j", "-t", "2", server, ns=CLIENT, check_rc=False)
    try:
        return json.loads(r.stdout)
    except ValueError:
        return {"error": (r.stdout + r.stderr).strip()}


def http_get(path):
    return PAIR.http_get(path, METRICS)


def start(a, work, ntp_yaml, tag):
    with open(f"{work}/dataplane.yaml", "w") as f:
        # The probes below send far more than chrony's burst from one address.
        f.write(dataplane_yaml(work, METRICS, ntp_yaml + ntp_exempt_client()))
    dp = Dataplane(PAIR, a.dataplane, f"{work}/dataplane.yaml", f"{work}/dataplane.log")
    check(wait_for(lambda: http_get("/health")[0] != 0, 30), f"{tag}: dataplane up")
    check(wait_for(lambda: "NOERROR" in PAIR.kdig("0.pool.ntp.org"), 10),
          f"{tag}: DNS answers from the image on disk")
    return dp


def main():
    a = parse_args()
    if a is None:
        return 1
    work = tempfile.mkdtemp(prefix="pooledge-e2e-ntp-")
    os.chmod(work, 0o755)
    dp = None
    try:
        PAIR.setup()
        image_on_disk(a, work, "--override", "10.99.0.0/24=de")

        # 1. A synchronised clock state from the override.
        dp = start(a, work, """ntp:
  stratum: 2
  reference_id: GPS
  clock_override: {synchronised: true, max_error: 0.001}
""", "synchronised")
        # The TAP's IPv6 address answers neighbour solicitations once its DAD is over (about
        # a second after start); a request held back meanwhile reads as a 0.5 s offset.
        check(wait_for(lambda: "NOERROR" in PAIR.kdig("0.pool.ntp.org", family=6), 10),
              "IPv6 reachable (DNS over IPv6 answers)")
        for server in (SVC4, SVC6):
            j = ntpdig(server)
            offset = j.get("offset")
            check(isinstance(offset, (int, float)) and abs(offset) < 0.005,
                  f"ntpdig {server}: offset {offset} s agrees with the host clock")
            check(j.get("stratum") == 2, f"ntpdig {server}: stratum 2 ({j.get('stratum')})")
        # DNS meanwhile: NTP bursts and DNS queries interleaved.
        dns_ok = 0
        for _ in range(5):
            probe(SVC4, *[client_request() for _ in range(20)])
            dns_ok += "NOERROR" in PAIR.kdig("0.pool.ntp.org")
        check(dns_ok == 5, f"DNS keeps answering between NTP bursts ({dns_ok}/5)")
        readvar = NTPControl(version=2, op_code=2, sequence=1)  # ntpq's READVAR
        monlist = NTPPrivate(version=2, mode=7, implementation=3, request_code=42)  # MON_GETLIST
        got = probe(SVC4, readvar, monlist)
        check(got == [None, None], "mode 6 READVAR and mode 7 MON_GETLIST: nothing back")
        got6 = probe(SVC6, readvar, monlist)
        check(got6 == [None, None], "the same over IPv6: nothing back")
        answer = probe(SVC4, client_request())[0]
        check(answer is not None and len(answer) == 48 and answer[0] >> 6 == 0 and
              answer[1] == 2 and answer[12:16] == b"GPS\0",
              "a raw v4 request: 48 bytes, LI 0, stratum 2, reference id GPS")
        code, body = http_get("/health")
        check(code == 200 and "ntp: synchronised" in body, f"/health 200 with its ntp line: {body!r}")
        text = http_get("/metrics")[1]
        pt = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                            text=True)
        check(pt.returncode == 0, "promtool check metrics" + ("" if pt.returncode == 0 else
                                                              ": " + pt.stderr))
        answers = metric(text, "pooledge_ntp_answers_total") or 0
        check(answers >= 103, f"ntp_answers_total counts them ({answers})")
        check(metric(text, "pooledge_ntp_drops_total", 'reason="control"') == 2 and
              metric(text, "pooledge_ntp_drops_total", 'reason="private"') == 2,
              "mode 6 and 7 drops counted")
        check(metric(text, "pooledge_ntp_clock_synchronised") == 1 and
              metric(text, "pooledge_ntp_clock_stratum") == 2, "clock gauges: synchronised, 2")
        dp.stop()

        # 2. The kernel's own state.
        dp = start(a, work, "ntp:\n", "kernel clock")
        text = http_get("/metrics")[1]
        synced = metric(text, "pooledge_ntp_clock_synchronised")
        answer = probe(SVC4, client_request())[0]
        if synced == 0:
            check(answer is not None and answer[0] >> 6 == 3 and answer[1] == 0 and
                  answer[12:16] == bytes(4),
                  "kernel unsynchronised: answered LI=3, stratum 0, reference id 0")
        else:
            check(answer is not None and answer[0] >> 6 != 3 and answer[1] == 3,
                  "kernel synchronised: answered at the default stratum 3")
        code, body = http_get("/health")
        check(code == 200 and "ntp:" in body,
              f"/health stays 200 whatever the clock (health_requires_sync off): {body!r}")
        log = open(f"{work}/dataplane.log").read()
        check("NTP clock state from the kernel (adjtimex)" in log, "the log names the source")
        dp.stop()

        # 3. Unsynchronised and silent, /health tied to the clock.
        dp = start(a, work, """ntp:
  unsynchronised: silent
  health_requires_sync: true
  clock_override: {synchronised: false}
""", "silent")
        check(probe(SVC4, client_request(), client_request()) == [None, None],
              "unsynchronised + silent: no answer")
        text = http_get("/metrics")[1]
        check(metric(text, "pooledge_ntp_drops_total", 'reason="unsynchronised"') == 2,
              "counted as unsynchronised")
        code, body = http_get("/health")
        check(code == 503 and "ntp: not synchronised" in body,
              f"/health 503 naming the clock: {body!r}")
        check("NOERROR" in PAIR.kdig("0.pool.ntp.org"), "DNS still answers")
        check(dp.stop() == 0, "SIGTERM: exit 0")
        dp = None
    finally:
        if dp is not None:
            dp.stop()
        PAIR.teardown()
    return finish(work)


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Cross-check the answer engine with real DNS parsers: kdig (Knot) and dig (BIND).

Starts zones-serve (the real engine on a loopback socket, serving the pool-sized sample with
prefix overrides that place clients in countries), sends queries with kdig and dig, and asserts
on what those tools decoded: status, flags, sections, EDNS options, and that every address
comes from the label the geodns rules say it should. Our own decoder is not involved.

usage: test_kdig_crosscheck.py PATH/TO/zones-serve
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import time

from e2e_common import check, records, report, status

# Public prefixes overridden to known countries (the sample's own geo table is random).
OVERRIDES = {
    "81.0.0.0/16": "de",
    "2a01::/16": "de",
    "24.0.0.0/16": "us",
    "133.0.0.0/16": "jp",
}

FALLBACK_PREFIX = "41.0.0.0/16"
FALLBACK_COUNTRY = "td"  # Chad: no servers in the sample, Africa has some

def parse(out):
    """kdig/dig text -> dict(status, flags, sections{name: [(owner, ttl, class, type, data)]},
    nsid, subnet)."""
    def find(pattern):
        m = re.search(pattern, out)
        return m.group(1) if m else None
    return {"status": status(out), "flags": find(r";; [Ff]lags: ([a-z ]*);") or "",
            "sections": {name: records(out, section=name)
                         for name in re.findall(r";; (\w+) SECTION:", out)},
            "nsid": find(r'NSID: .*"(.*)"'), "subnet": find(r"CLIENT-SUBNET: (\S+)"), "raw": out}


def kdig(port, *args):
    cmd = ["kdig", "@127.0.0.1", "-p", str(port), "+retry=0", "+timeout=2", "+notcp"] + list(args)
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
    res = parse(out.stdout)
    check(out.returncode == 0 and res["status"] is not None and "malformed" not in out.stdout + out.stderr,
          f"kdig got and parsed a reply to {' '.join(args)}")
    return res


def answers(res, rtype):
    return [r[4] for r in res["sections"].get("ANSWER", []) if r[3] == rtype]


def main():
    serve = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        facts_file = os.path.join(tmp, "facts.json")
        cmd = [serve, "--sample", "--facts", facts_file, "--max-seconds", "240"]
        for prefix, cc in OVERRIDES.items():
            cmd += ["--override", f"{prefix}={cc}"]
        # A country the sample leaves without servers (the sample is deterministic).
        cmd += ["--override", f"{FALLBACK_PREFIX}={FALLBACK_COUNTRY}"]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        try:
            line = proc.stdout.readline()  # printed once the socket is bound
            check("serving image" in line, "zones-serve started: " + line.strip())
            deadline = time.monotonic() + 30
            while not os.path.exists(facts_file) and time.monotonic() < deadline:
                time.sleep(0.05)
            facts = json.load(open(facts_file))
            run_checks(facts)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    return report()


def run_checks(facts):
    port = facts["port"]
    labels = facts["labels"]
    parents = facts["parents"]

    def subset(got, label, family="a"):
        return set(got) <= set(labels.get(label, {}).get(family, []))

    # A client in Germany (ECS) gets German servers for 0.pool.ntp.org, with the scope of the
    # override (/16) and NSID.
    r = kdig(port, "0.pool.ntp.org", "A", "+subnet=81.0.7.0/24", "+nsid")
    a = answers(r, "A")
    check(r["status"] == "NOERROR" and "aa" in r["flags"].split(), "DE: NOERROR, authoritative")
    check(1 <= len(a) <= 4 and len(set(a)) == len(a), f"DE: 1-4 distinct addresses {a}")
    check(subset(a, "0.de"), "DE: every address is in 0.de")
    check(r["subnet"] == "81.0.7.0/24/16", f"DE: ECS echoed with scope 16 ({r['subnet']})")
    check(r["nsid"] == "zones-serve", f"NSID is the node identity ({r['nsid']})")

    for prefix, cc in (("24.0.1.0/24", "us"), ("133.0.9.0/24", "jp")):
        r = kdig(port, "1.pool.ntp.org", "A", f"+subnet={prefix}")
        a = answers(r, "A")
        check(a and subset(a, f"1.{cc}"), f"{cc.upper()}: 1.pool.ntp.org answers from 1.{cc}: {a}")

    # A country without servers falls back to its continent.
    empty = [c for c in facts["empty_countries"]
             if c == FALLBACK_COUNTRY and labels.get(f"0.{parents[c]}", {}).get("a")]
    check(bool(empty), "the sample has a country without servers on a continent with some")
    if empty:
        cc = empty[0]
        cont = parents[cc]
        r = kdig(port, "0.pool.ntp.org", "A", f"+subnet={FALLBACK_PREFIX}")
        a = answers(r, "A")
        check(a and subset(a, f"0.{cont}"),
              f"{cc.upper()} has no servers: 0.pool.ntp.org falls back to 0.{cont}: {a}")

    # AAAA only under 2.: a German IPv6 client gets German IPv6 servers.
    r = kdig(port, "2.pool.ntp.org", "AAAA", "+subnet=2a01:4f8::/32")
    a = answers(r, "AAAA")
    check(a and subset(a, "2.de", "aaaa"), f"2.pool.ntp.org AAAA from 2.de: {a}")
    r = kdig(port, "0.pool.ntp.org", "AAAA")
    check(r["status"] == "NOERROR" and not answers(r, "AAAA")
          and any(x[3] == "SOA" for x in r["sections"].get("AUTHORITY", [])),
          "0.pool.ntp.org AAAA is NODATA with the SOA")

    # NXDOMAIN with SOA; REFUSED outside the zone.
    r = kdig(port, "no-such-name.pool.ntp.org", "A")
    check(r["status"] == "NXDOMAIN", "NXDOMAIN for a name that does not exist")
    soa = [x for x in r["sections"].get("AUTHORITY", []) if x[3] == "SOA"]
    check(len(soa) == 1 and soa[0][0].lower() == "pool.ntp.org.", "NXDOMAIN carries the apex SOA")
    r = kdig(port, "www.example.com", "A")
    check(r["status"] == "REFUSED", "REFUSED outside our zones")

    # The vendor alias follows the client; the answer keeps the query's case (asked with dig:
    # kdig lower-cases the name it sends).
    r = kdig(port, "0.vendor3.pool.ntp.org", "A", "+subnet=81.0.0.0/16")
    check(answers(r, "A") and subset(answers(r, "A"), "0.de"),
          "vendor alias 0.vendor3 answers like 0.de from Germany")
    out = subprocess.run(["dig", "@127.0.0.1", "-p", str(port), "+tries=1", "+time=2", "+norec",
                          "+noall", "+answer", "0.VenDor3.PooL.ntp.ORG", "A"],
                         capture_output=True, text=True, timeout=20).stdout
    owners = {line.split()[0] for line in out.splitlines() if line.strip()}
    check(owners == {"0.VenDor3.PooL.ntp.ORG."}, f"answer keeps the query's case {owners}")

    # Apex records, with compressed names decoded by kdig.
    r = kdig(port, "pool.ntp.org", "NS")
    check(sorted(answers(r, "NS")) == ["ns1.pool.ntp.org.", "ns2.pool.ntp.org."], "apex NS")
    r = kdig(port, "pool.ntp.org", "SOA")
    check(answers(r, "SOA") and answers(r, "SOA")[0].startswith("ns1.pool.ntp.org. hostmaster.pool.ntp.org."),
          "apex SOA")
    r = kdig(port, "pool.ntp.org", "MX")
    check(answers(r, "MX") == ["0 ."], "apex null MX (RFC 7505)")

    # ANY per RFC 8482; CH TXT identity; BADVERS.
    r = kdig(port, "pool.ntp.org", "ANY")
    check(answers(r, "HINFO") == ['"RFC8482" ""'], f"ANY -> HINFO RFC8482 {answers(r, 'HINFO')}")
    for name in ("id.server", "hostname.bind"):
        r = kdig(port, "-c", "CH", name, "TXT")
        check(answers(r, "TXT") == ['"zones-serve.pooledge"'], f"CH TXT {name}")
    r = kdig(port, "-c", "CH", "version.bind", "TXT")
    check(answers(r, "TXT") == ['"pooledge zones-serve"'], "CH TXT version.bind")
    r = kdig(port, "pool.ntp.org", "A", "+edns=1")
    check(r["status"] == "BADVERS", f"EDNS version 1 -> BADVERS ({r['status']})")

    # Cookies are off unless a secret is configured: the reply has no COOKIE then.
    r = kdig(port, "pool.ntp.org", "A", "+cookie")
    check("COOKIE" not in r["raw"], "no server cookie without a secret")

    # geodns's debug names: _country to anyone (TTL 1), _status to loopback (this client).
    r = kdig(port, "_country.pool.ntp.org", "TXT", "+subnet=81.0.7.0/24")
    txt = r["sections"].get("ANSWER", [])
    check(len(txt) == 1 and txt[0][1] == "1" and '"81.0.7.0"' in txt[0][4] and
          '"de europe @"' in txt[0][4], f"_country TXT shows the ECS address and regions: {txt}")
    r = kdig(port, "_status.pool.ntp.org", "TXT")
    txt = answers(r, "TXT")
    check(len(txt) == 1 and txt[0].startswith('"serial ') and '"version pooledge zones-serve"'
          in txt[0], f"_status TXT for a loopback client: {txt}")
    r = kdig(port, "_country.pool.ntp.org", "A")
    check(r["status"] == "NOERROR" and not answers(r, "A"), "_country A is NODATA")

    # dig (BIND's parser) agrees.
    out = subprocess.run(["dig", "@127.0.0.1", "-p", str(port), "+tries=1", "+time=2", "+short",
                          "0.pool.ntp.org", "A"], capture_output=True, text=True, timeout=20).stdout.split()
    check(out and set(out) <= set(labels["0"]["a"]), f"dig: 0.pool.ntp.org from loopback is global: {out}")
    full = subprocess.run(["dig", "@127.0.0.1", "-p", str(port), "+tries=1", "+time=2", "+norec",
                           "nothing.pool.ntp.org"], capture_output=True, text=True, timeout=20).stdout
    check("status: NXDOMAIN" in full and "WARNING" not in full, "dig: NXDOMAIN parsed cleanly")


if __name__ == "__main__":
    sys.exit(main())

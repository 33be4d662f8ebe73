#!/usr/bin/python3
"""The zone pooledge serves, written for the servers perf/peers.sh measures beside it, the
query mix they are all loaded with, and the check that each one answered it correctly.

Everything comes from one compiled image, through `pooledgectl addresses IMAGE` (every
name's A and AAAA address sets, per region where a name answers by location), so every
server serves the same names, the same address sets and the same GeoIP choices, and no
rule of the compiler is repeated here:

    peers_zones.py build ADDRESSES.json POOL.json OUTDIR MMDB LISTEN_ADDRESS
        OUTDIR/pool.ntp.org.zone   static zone (NSD; Knot's answer where no geo rule hits)
        OUTDIR/knot-geo.conf       mod-geoip rules, keys [continent/code, country/iso_code]
        OUTDIR/gdnsd/config, OUTDIR/gdnsd/zones/pool.ntp.org   gdnsd with plugin_geoip
        OUTDIR/queries.txt         the query mix, "name type" lines (kxdpgun and dnsperf)
    peers_zones.py check ADDRESSES.json OUTDIR SERVER REGION|-
        asks SERVER every name of the mix once (UDP, dnspython) and fails unless each
        address name answers NOERROR with at least one address, all from the set that
        name serves a client of REGION (a region name such as "de", or "-" for a server
        without GeoIP: the set for an unlocated client), and each NXDOMAIN name NXDOMAIN.

A static server answers the first `hosts` addresses of a set (4, as pooledge draws), so
every server's answers have the size of pooledge's. The geo servers get one rule per region
the image's geo table can place a client in (the "located" regions), not all ~260: the test
database only knows those, and gdnsd allows at most 254 datacenters per map.
"""

import json
import os
import random
import sys

CONTINENT_CODES = {
    "africa": "AF", "antarctica": "AN", "asia": "AS", "europe": "EU",
    "north-america": "NA", "oceania": "OC", "south-america": "SA",
}
ZONE = "pool.ntp.org."


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def relative(name):
    """The owner name relative to the zone ("@" for the apex)."""
    return "@" if name == ZONE else name[: -len(ZONE) - 1]


def served(addr, rrset_id):
    rr = addr["rrsets"][str(rrset_id)]
    return rr["addresses"][: rr["hosts"]], rr["ttl"]


def by_location(n):
    """Whether a name answers by the client's location for any of its types."""
    return any("by_region" in n[t] for t in ("A", "AAAA") if t in n)


def rrset_for(entry, region):
    """The rrset id an entry serves a client of `region` (index), or None."""
    if "static" in entry:
        return entry["static"]
    return entry["by_region"].get(str(region))


def geo_key(regions, r):
    """mod-geoip's "continent;country" for region index r, "continent;*" for a continent."""
    reg = regions[r]
    if reg["name"] in CONTINENT_CODES:
        return CONTINENT_CODES[reg["name"]] + ";*"
    cont = CONTINENT_CODES[regions[reg["parent"]]["name"]]
    return cont + ";" + reg["name"].upper()


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def zone_file(addr, settings, dyna):
    """The static zone; with dyna, gdnsd's, where a geo name is one DYNA record instead."""
    ns = settings["ns"]
    soa = (f"@ 3600 IN SOA {ns[0]}. {settings['contact'].replace('@', '.')}. "
           f"{addr['serial'] % 4294967296} 5400 5400 1209600 {settings['ttl']}")
    lines = [f"$ORIGIN {ZONE}", soa] + [f"@ 86400 IN NS {n}." for n in ns]
    resources = resource_names(addr)
    for n in addr["names"]:
        owner = relative(n["name"])
        geo = by_location(n)
        if dyna and geo:
            lines.append(f"{owner} {settings['ttl']} DYNA geoip!{resources[n['name']]}")
            continue
        for t in ("A", "AAAA"):
            if t in n and (rid := rrset_for(n[t], 0)) is not None:
                addrs, ttl = served(addr, rid)
                lines += [f"{owner} {ttl} IN {t} {a}" for a in addrs]
    return "\n".join(lines) + "\n"


def resource_names(addr):
    """gdnsd resource names, one per name: its index, so no two names can collide."""
    return {n["name"]: f"r{i}" for i, n in enumerate(addr["names"])}


def knot_geo(addr):
    regions, out = addr["regions"], []
    # The module picks the most specific view that matches ("EU;DE" before "EU;*").
    located = [r for r in addr["located"] if r != 0]
    for n in addr["names"]:
        if not by_location(n):
            continue
        views = []
        for r in located:
            rec = []
            # Every type the name has, also one that is the same everywhere: a view without
            # it would answer NODATA for that type.
            for t in ("A", "AAAA"):
                if t in n and (rid := rrset_for(n[t], r)) is not None:
                    rec.append(f"    {t}: [ {', '.join(served(addr, rid)[0])} ]")
            if rec:
                views.append(f'  - geo: "{geo_key(regions, r)}"\n' + "\n".join(rec))
        if views:
            out.append(f"{n['name']}:\n" + "\n".join(views))
    return "\n".join(out) + "\n"


def gdnsd_config(addr, mmdb, listen):
    regions = addr["regions"]
    located = [r for r in addr["located"] if r != 0]
    dcs = ["world"] + [regions[r]["name"] for r in located]
    tree = {}
    for r in located:
        name = regions[r]["name"]
        if name in CONTINENT_CODES:
            tree.setdefault(CONTINENT_CODES[name], {})["default"] = name
        else:
            cont = CONTINENT_CODES[regions[regions[r]["parent"]]["name"]]
            tree.setdefault(cont, {})[name.upper()] = name
    cmap = " ".join(
        f"{c} => {{ " + " ".join(f"{k} => [{v}]" for k, v in m.items()) + " }"
        for c, m in tree.items())
    res = []
    resources = resource_names(addr)
    for n in addr["names"]:
        if not by_location(n):
            continue
        dcmap = []
        for r, dc in [(0, "world")] + [(r, regions[r]["name"]) for r in located]:
            fams = []
            for t, key in (("A", "addrs_v4"), ("AAAA", "addrs_v6")):
                if t in n and (rid := rrset_for(n[t], r)) is not None:
                    hosts = " ".join(f"h{i} => {a}" for i, a in enumerate(served(addr, rid)[0]))
                    fams.append(f"{key} => {{ {hosts} }}")
            if fams:  # multifo: every address of the datacenter, each family on its own
                dcmap.append(f"{dc} => {{ {' '.join(fams)} }}")
        res.append(f"    {resources[n['name']]} => {{ map => pool, dcmap => {{ "
                   + " ".join(dcmap) + " } }")
    return f"""options => {{
  listen => [ {listen} ]
  udp_threads => 1
  tcp_threads => 1
  zones_default_ttl => 150
}}
plugins => {{ geoip => {{
  undefined_datacenters_ok => true
  maps => {{
    pool => {{
      geoip2_db => {mmdb}
      datacenters => [ {', '.join(dcs)} ]
      map => {{ {cmap} default => [world] }}
    }}
  }}
  resources => {{
""" + "\n".join(res) + "\n  }\n}}\n"


def query_mix(addr, count=4096, seed=1):
    """The mix of perf/pool_mix.hpp in names: N.pool 35%, N.<cc> 15%, <cc> 10%, vendor 5%,
    apex 5%, AAAA 2.pool 10%, other AAAA 12%, NXDOMAIN 8%."""
    rng = random.Random(seed)
    rel = {n["name"]: n["name"].rstrip(".").split(".")[:-3] for n in addr["names"] if "A" in n}
    glob = [f"{i}.{ZONE}" for i in range(4)]
    countries = [n for n, r in rel.items() if len(r) == 1 and len(r[0]) == 2]
    numbered = [n for n, r in rel.items() if len(r) == 2 and r[0].isdigit() and len(r[1]) == 2]
    vendor = [n for n, r in rel.items() if len(r) == 2 and r[0].isdigit() and len(r[1]) > 2
              and r[1] not in CONTINENT_CODES]
    aaaa = [n["name"] for n in addr["names"] if "AAAA" in n]
    mix = [(35, lambda: (rng.choice(glob), "A")),
           (15, lambda: (rng.choice(numbered), "A")),
           (10, lambda: (rng.choice(countries), "A")),
           (5, lambda: (rng.choice(vendor), "A")),
           (5, lambda: (ZONE, "A")),
           (10, lambda: (f"2.{ZONE}", "AAAA")),
           (12, lambda: (rng.choice(aaaa), "AAAA")),
           (8, lambda: (f"nx{rng.randrange(1 << 20)}.{ZONE}", "A"))]
    pools = [glob, numbered, countries, vendor, [ZONE], [ZONE], aaaa, [ZONE]]
    mix = [m for m, p in zip(mix, pools) if p]  # data without vendors, say: leave them out
    weights = [w for w, _ in mix]
    return [rng.choices(mix, weights)[0][1]() for _ in range(count)]  # noqa: S311


def build(addr_path, pool_path, out, mmdb, listen):
    addr, settings = load(addr_path), load(pool_path)["settings"]
    write(f"{out}/gdnsd/config", gdnsd_config(addr, mmdb, listen))
    write(f"{out}/pool.ntp.org.zone", zone_file(addr, settings, dyna=False))
    write(f"{out}/knot-geo.conf", knot_geo(addr))
    write(f"{out}/gdnsd/zones/pool.ntp.org", zone_file(addr, settings, dyna=True))
    queries = query_mix(addr)
    write(f"{out}/queries.txt", "".join(f"{n} {t}\n" for n, t in queries))
    return addr


def check(addr_path, out, server, region_name):
    import dns.message
    import dns.query
    import dns.rcode
    import dns.rdatatype

    addr = load(addr_path)
    region = 0
    if region_name != "-":
        region = next(i for i, r in enumerate(addr["regions"]) if r["name"] == region_name)
    by_name = {n["name"]: n for n in addr["names"]}
    asked = set()
    failures = []
    with open(f"{out}/queries.txt", encoding="utf-8") as f:
        for line in f:
            name, qtype = line.split()
            if (name, qtype) in asked:
                continue
            asked.add((name, qtype))
            q = dns.message.make_query(name, qtype)
            try:
                r = dns.query.udp(q, server, timeout=2)
            except Exception as e:  # noqa: BLE001: every failure is reported, none raised
                failures.append(f"{name} {qtype}: {e}")
                continue
            got = {rd.address for rrset in r.answer for rd in rrset
                   if rrset.rdtype == dns.rdatatype.from_text(qtype)}
            if name not in by_name:
                if r.rcode() != dns.rcode.NXDOMAIN:
                    failures.append(f"{name} {qtype}: {dns.rcode.to_text(r.rcode())}, "
                                    "want NXDOMAIN")
                continue
            entry = by_name[name].get(qtype)
            rid = rrset_for(entry, region) if entry is not None else None
            want = set(addr["rrsets"][str(rid)]["addresses"]) if rid is not None else set()
            if r.rcode() != dns.rcode.NOERROR or not got or not got <= want:
                failures.append(f"{name} {qtype}: {dns.rcode.to_text(r.rcode())} {sorted(got)}"
                                f" not within the {len(want)} addresses of the set")
    for f in failures[:10]:
        print(f"  wrong: {f}", file=sys.stderr)
    print(f"{len(asked) - len(failures)}/{len(asked)} distinct queries answered correctly")
    return 0 if not failures else 1


def main(argv):
    if len(argv) == 7 and argv[1] == "build":
        build(*argv[2:7])
        return 0
    if len(argv) == 6 and argv[1] == "check":
        return check(argv[2], argv[3], argv[4], argv[5])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))

#!/usr/bin/env python3
"""Generate realistic, reproducible sample NTP Pool data for pooledge.

Why this exists: the control plane's tests, the demo and the benchmarks need
pool data shaped like the registry's export (control plane schema 1), but a
live export changes every few minutes, is large and cannot be committed. This
script makes data with the same shape and proportions as the real pool:

* eligible ("active") servers per continent as on the pool's home page, with
  about 750 servers listed in countries on two continents (they count in both,
  which is why the continent figures add up to more than the global one);
* a realistic tail of ineligible servers (low score, left the pool, netspeed
  0, deletion due within 14 days). Each breaks exactly one rule, except that
  most servers out of the pool also have a low score, as they do in reality;
* IPv4 and IPv6 servers in the pool's ratio, every address unique and public;
* countries skewed inside each continent like the real pool, with some real
  countries (Chad, "td", among them) left empty for continent-fallback tests.

With --scores-out it also writes a score feed for the in_pool servers. The
feed is --scores-delay seconds (default 60) newer than the pool data, as the
registry's more frequent feed is: the control plane applies only scores newer
than the pool data's own.

Every random choice comes from one random.Random(seed), so the same arguments
give byte-identical output. --generated defaults to the current time, so pass
it too when the output must be reproducible.

The counts are planned around the control plane's eligibility rule: a server
is eligible when it is in_pool, its score is >= 10, its netspeed is > 0, and
it has no deletion_on, or one later than generated + 14 days (deletion_on
meaning 00:00 UTC that day). The summary on stderr is recomputed from the
output with that rule, and the script fails if it disagrees with the plan.

Examples:
    scripts/gen-pool-data.py --generated 1767225600 --out pool.json \\
        --scores-out scores.json
    scripts/gen-pool-data.py --scale 100 --out big.json   # ~610k servers
"""

import argparse
import datetime
import ipaddress
import json
import sys
import time

from random import Random

SCHEMA = 1
ELIGIBLE_SCORE = 10.0
DELETION_GRACE = 14 * 86400  # seconds; the control plane's rule

SETTINGS = {
    "origin": "pool.ntp.org",
    "ttl": 150,
    "ns": ["a.ntpns.org", "b.ntpns.org", "c.ntpns.org"],
    "contact": "hostmaster@pool.ntp.org",
    # What the pool publishes beside the server zones (REGISTRY.md, settings.records).
    "records": [
        {"name": "www", "type": "CNAME", "data": "www.ntppool.org."},
        {"name": "web", "type": "CNAME", "data": "www.ntppool.org."},
        {"name": "@", "type": "TXT", "data": "v=spf1 -all"},
        {"name": "_dmarc", "type": "TXT", "data": "v=DMARC1; p=reject"},
    ],
}

CONTINENTS = ("africa", "antarctica", "asia", "europe", "north-america",
              "oceania", "south-america")

# Eligible servers per continent, global eligible servers and all servers, as
# on the pool's home page (scale 1).
ACTIVE_PER_CONTINENT = {
    "africa": 118,
    "antarctica": 2,
    "asia": 601,
    "europe": 3810,
    "north-america": 1279,
    "oceania": 230,
    "south-america": 92,
}
ACTIVE_GLOBAL = 5382
ALL_SERVERS = 6104

# IPv4 : IPv6 among eligible servers on the home page. Only the ratio is used:
# the two figures come from a different moment than ACTIVE_GLOBAL.
V4_SHARE, V6_SHARE = 3423, 1905

# Eligible servers listed in two continents, by continent pair. They must add
# up to sum(ACTIVE_PER_CONTINENT) - ACTIVE_GLOBAL = 750. Most are European or
# North American servers also offered to a neighbouring or under-served
# region, the way volunteers with big links tend to register them.
DUAL_PAIRS = {
    ("europe", "north-america"): 325,
    ("europe", "asia"): 150,
    ("europe", "africa"): 45,
    ("europe", "oceania"): 25,
    ("europe", "south-america"): 20,
    ("north-america", "asia"): 80,
    ("north-america", "south-america"): 25,
    ("north-america", "oceania"): 30,
    ("north-america", "africa"): 5,
    ("asia", "oceania"): 40,
    ("asia", "africa"): 4,
    ("oceania", "antarctica"): 1,
}

# Relative server counts per country, biggest first, roughly like the pool.
# Continents follow the project's table (zones/image/src/countries.cpp): Turkey,
# Cyprus and the Caucasus in Asia, Russia in Europe. Countries left out on
# purpose have no servers at all; tests rely on "td" (Chad) being one of them.
COUNTRY_WEIGHTS = {
    "africa": [
        ("za", 60), ("ke", 10), ("ng", 6), ("eg", 6), ("ma", 6), ("tz", 4),
        ("tn", 4), ("mu", 3), ("gh", 3), ("ug", 3), ("dz", 3), ("re", 2),
        ("na", 2), ("zw", 2), ("ao", 2), ("sn", 2), ("rw", 2), ("zm", 1),
        ("mz", 1), ("bw", 1), ("ci", 1), ("cm", 1), ("mg", 1),
    ],
    "antarctica": [("aq", 1)],
    "asia": [
        ("jp", 130), ("sg", 110), ("cn", 70), ("in", 60), ("hk", 60),
        ("kr", 40), ("tw", 40), ("id", 25), ("tr", 20), ("vn", 20),
        ("th", 20), ("my", 20), ("il", 15), ("ir", 15), ("ph", 10),
        ("ae", 10), ("kz", 10), ("bd", 8), ("pk", 6), ("cy", 5), ("ge", 4),
        ("sa", 4), ("kh", 3), ("am", 2), ("az", 2), ("uz", 2), ("qa", 2),
        ("mn", 2), ("lk", 2), ("np", 2), ("mo", 1), ("kg", 1), ("jo", 1),
        ("lb", 1), ("om", 1), ("kw", 1), ("bh", 1),
    ],
    "europe": [
        ("de", 900), ("fr", 340), ("nl", 300), ("gb", 240), ("ch", 150),
        ("pl", 140), ("se", 130), ("fi", 120), ("at", 110), ("cz", 105),
        ("ru", 100), ("ua", 70), ("it", 70), ("es", 60), ("dk", 55),
        ("no", 50), ("be", 45), ("ie", 40), ("hu", 40), ("ro", 40),
        ("bg", 35), ("sk", 30), ("lt", 25), ("lv", 20), ("ee", 20),
        ("pt", 20), ("gr", 15), ("rs", 15), ("hr", 12), ("si", 12),
        ("lu", 10), ("is", 6), ("md", 5), ("by", 5), ("mk", 3), ("mt", 3),
        ("ba", 3), ("al", 2), ("li", 2), ("me", 1), ("ad", 1), ("gi", 1),
    ],
    "north-america": [
        ("us", 1000), ("ca", 170), ("mx", 25), ("pa", 5), ("cr", 5),
        ("pr", 4), ("gt", 3), ("do", 2), ("jm", 1), ("bs", 1), ("hn", 1),
        ("sv", 1), ("tt", 1),
    ],
    "oceania": [
        ("au", 170), ("nz", 50), ("nc", 3), ("fj", 2), ("gu", 2), ("pg", 1),
        ("pf", 1),
    ],
    "south-america": [
        ("br", 55), ("ar", 12), ("cl", 12), ("co", 6), ("pe", 3), ("uy", 3),
        ("ec", 3), ("ve", 2), ("py", 2), ("bo", 1),
    ],
}

# Where a continent's IPv6 addresses come from: the /12 its regional internet
# registry hands out (RIPE 2a00::/12, ARIN 2600::/12, APNIC 2400::/12, LACNIC
# 2800::/12, AFRINIC 2c00::/12), as the first 12 bits. All inside 2000::/4
# and clear of 2001:db8::/32 and 2002::/16.
V6_BLOCK = {
    "africa": 0x2c0,
    "asia": 0x240,
    "europe": 0x2a0,
    "north-america": 0x260,
    "oceania": 0x240,
    "south-america": 0x280,
}

# IPv4 space that is not public unicast; the control plane rejects these.
NON_PUBLIC_V4 = tuple(
    (int(net.network_address), int(net.broadcast_address))
    for net in map(ipaddress.IPv4Network, (
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8",
        "169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24",
        "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24",
        "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4"))
)

# The pool's netspeed choices (kbit/s) and how often volunteers pick them:
# most sit in the lower middle, few claim the extremes.
NETSPEEDS = (
    (512, 2), (1000, 5), (1500, 3), (3000, 5), (6000, 6), (10000, 12),
    (25000, 11), (50000, 12), (100000, 14), (250000, 8), (500000, 6),
    (1000000, 9), (1500000, 2), (2000000, 2), (3000000, 3),
)

# Vendor zones: (name, client_type). Mostly full NTP clients; SNTP for
# embedded systems and phones; legacy for devices with hard-coded old names.
VENDORS = (
    ("debian", "ntp"), ("ubuntu", "ntp"), ("centos", "ntp"),
    ("fedora", "ntp"), ("rhel", "ntp"), ("almalinux", "ntp"),
    ("rocky", "ntp"), ("opensuse", "ntp"), ("arch", "ntp"),
    ("gentoo", "ntp"), ("amazon", "ntp"), ("freebsd", "ntp"),
    ("openbsd", "ntp"), ("netbsd", "ntp"), ("dragonfly", "ntp"),
    ("pfsense", "ntp"), ("opnsense", "ntp"), ("openwrt", "sntp"),
    ("android", "sntp"), ("mikrotik", "sntp"), ("tplink", "legacy"),
    ("netgear", "legacy"),
)

# Kinds of server. Each ineligible kind breaks one rule (NOT_IN_POOL servers
# often have a low score as well).
ACTIVE = "active"
DELETING_LATER = "deleting-later"   # deletion_on after the grace: eligible
LOW_SCORE = "low-score"
NOT_IN_POOL = "not-in-pool"
NO_NETSPEED = "no-netspeed"
DELETING_SOON = "deleting-soon"     # deletion_on within the grace

# Mix of the ineligible servers (after the few DELETING_SOON ones).
INELIGIBLE_MIX = ((LOW_SCORE, 72), (NOT_IN_POOL, 18), (NO_NETSPEED, 10))
DELETING_SOON_SHARE = 0.01     # of ineligible servers: "a handful"
DELETING_LATER_SHARE = 0.0015  # of eligible servers: "a few"
SCORE_CROSSING_SHARE = 0.002   # of eligible servers, in the score feed


# --- planning ----------------------------------------------------------------

def apportion(total, weights):
    """Split total into integer parts proportional to weights.

    Largest remainder, ties to the earlier weight: exact and deterministic,
    so per-continent and per-country counts come out as planned rather than
    drifting the way independent random draws would.
    """
    wsum = sum(weights)
    quotas = [total * w / wsum for w in weights]
    counts = [int(q) for q in quotas]
    by_remainder = sorted(range(len(weights)),
                          key=lambda i: (counts[i] - quotas[i], i))
    for i in by_remainder[:total - sum(counts)]:
        counts[i] += 1
    return counts


def few(population, share):
    """A small count that stays at least 1 while there is anyone to pick."""
    return max(1, round(population * share)) if population > 0 else 0


def plan_continents(scale):
    """Continent lists for eligible and ineligible servers at this scale.

    Returns (eligible, ineligible): lists of tuples of continent names, one
    tuple per server. Single-continent counts are what is left of each
    continent's figure after its two-continent servers, so that counting a
    server once per continent reproduces ACTIVE_PER_CONTINENT.
    """
    pairs = {pair: round(n * scale) for pair, n in DUAL_PAIRS.items()}
    eligible = []
    for continent in CONTINENTS:
        in_pairs = sum(n for pair, n in pairs.items() if continent in pair)
        single = round(ACTIVE_PER_CONTINENT[continent] * scale) - in_pairs
        eligible += [(continent,)] * max(0, single)
    for pair, n in pairs.items():
        eligible += [pair] * n

    # Ineligible servers go where the servers are: same continent weights.
    n_ineligible = round((ALL_SERVERS - ACTIVE_GLOBAL) * scale)
    weights = [ACTIVE_PER_CONTINENT[c] for c in CONTINENTS]
    ineligible = []
    for continent, n in zip(CONTINENTS, apportion(n_ineligible, weights)):
        ineligible += [(continent,)] * n
    return eligible, ineligible


def country_pools(rng, continent_lists):
    """A shuffled list of country codes per continent, one per listing.

    Countries are apportioned over every listing in the continent, eligible
    or not, so each continent's country skew follows COUNTRY_WEIGHTS.
    """
    listings = {c: 0 for c in CONTINENTS}
    for continents in continent_lists:
        for c in continents:
            listings[c] += 1
    pools = {}
    for continent in CONTINENTS:
        codes = [code for code, _ in COUNTRY_WEIGHTS[continent]]
        weights = [w for _, w in COUNTRY_WEIGHTS[continent]]
        pool = []
        for code, n in zip(codes, apportion(listings[continent], weights)):
            pool += [code] * n
        rng.shuffle(pool)
        pools[continent] = pool
    return pools


def kinds_for(rng, n_eligible, n_ineligible):
    """Shuffled kinds for the eligible and the ineligible servers."""
    later = few(n_eligible, DELETING_LATER_SHARE)
    eligible = [DELETING_LATER] * later + [ACTIVE] * (n_eligible - later)
    soon = few(n_ineligible, DELETING_SOON_SHARE)
    ineligible = [DELETING_SOON] * soon
    counts = apportion(n_ineligible - soon, [w for _, w in INELIGIBLE_MIX])
    for (kind, _), n in zip(INELIGIBLE_MIX, counts):
        ineligible += [kind] * n
    rng.shuffle(eligible)
    rng.shuffle(ineligible)
    return eligible, ineligible


def v6_flags(rng, n):
    """n shuffled booleans, True for IPv6, in the pool's v4:v6 ratio."""
    v6 = round(n * V6_SHARE / (V4_SHARE + V6_SHARE))
    flags = [True] * v6 + [False] * (n - v6)
    rng.shuffle(flags)
    return flags


# --- addresses ---------------------------------------------------------------

class AddressMaker:
    """Unique public unicast addresses, remembered as integers."""

    def __init__(self, rng):
        self.rng = rng
        self.used_v4 = set()
        self.used_v6 = set()

    def v4(self):
        rng = self.rng
        while True:
            n = rng.getrandbits(32)
            # .0 and .255 are legal hosts but rare for servers; skip them.
            if n & 0xFF in (0, 0xFF) or n in self.used_v4:
                continue
            if any(lo <= n <= hi for lo, hi in NON_PUBLIC_V4):
                continue
            self.used_v4.add(n)
            return str(ipaddress.IPv4Address(n))

    def v6(self, continent):
        rng = self.rng
        block = V6_BLOCK.get(continent)
        while True:
            # Antarctic servers are hosted from anywhere.
            top = block if block is not None else rng.choice(
                sorted(V6_BLOCK.values()))
            # /12 of the registry, then a /32 allocation and a /48 site.
            n = top << 116 | rng.getrandbits(20) << 96
            n |= rng.getrandbits(16) << 80
            if rng.random() < 0.3:
                n |= rng.getrandbits(16) << 64  # not the site's first /64
            n |= self._interface_id()
            if n not in self.used_v6:
                self.used_v6.add(n)
                # ipaddress prints the compressed form (RFC 5952).
                return str(ipaddress.IPv6Address(n))

    def _interface_id(self):
        # Servers mostly get hand-picked addresses (::1, ::123, ::a:5);
        # the rest are SLAAC or otherwise random.
        rng = self.rng
        r = rng.random()
        if r < 0.45:
            return rng.randint(1, 0xFF)
        if r < 0.55:
            return 0x123
        if r < 0.65:
            return rng.randint(0x100, 0xFFFFFFFF)
        return rng.getrandbits(64) | 1


# --- per-server values -------------------------------------------------------

def good_score(rng):
    """A score of a healthy server: mostly 18.5..20, never below 10."""
    r = rng.random()
    if r < 0.72:
        x = rng.uniform(18.5, 20.0)
    elif r < 0.93:
        x = rng.uniform(15.0, 18.5)
    else:
        x = rng.uniform(ELIGIBLE_SCORE, 15.0)
    return min(20.0, max(ELIGIBLE_SCORE, round(x, 1)))


def bad_score(rng):
    """A score below 10: recovering, flapping, or unreachable for long."""
    r = rng.random()
    if r < 0.35:
        x = rng.uniform(5.0, ELIGIBLE_SCORE)
    elif r < 0.7:
        x = rng.uniform(-20.0, 5.0)
    elif r < 0.9:
        x = rng.uniform(-100.0, -20.0)
    else:
        x = -100.0  # the floor: dead for a long time
    return max(-100.0, min(ELIGIBLE_SCORE - 0.1, round(x, 1)))


def netspeed(rng, cum_weights):
    return rng.choices(NETSPEEDS, cum_weights=cum_weights)[0][0]


def day_after(generated, days):
    """The UTC date `days` days after the day of `generated`, as text."""
    day = datetime.datetime.fromtimestamp(generated, datetime.timezone.utc)
    return (day.date() + datetime.timedelta(days=days)).isoformat()


def make_server(rng, server_id, ip, zones, kind, generated, cum_weights):
    score = good_score(rng)
    speed = netspeed(rng, cum_weights)
    in_pool = True
    deletion_on = None
    if kind == LOW_SCORE:
        score = bad_score(rng)
    elif kind == NOT_IN_POOL:
        in_pool = False
        # Some left on purpose while healthy; most were dropped when they
        # stopped answering.
        if rng.random() < 0.6:
            score = bad_score(rng)
    elif kind == NO_NETSPEED:
        speed = 0
    elif kind == DELETING_SOON:
        # 00:00 UTC of this date is at most generated + 14 days.
        deletion_on = day_after(generated, rng.randint(0, 14))
    elif kind == DELETING_LATER:
        # Day 15 or later: 00:00 UTC is after generated + 14 days.
        deletion_on = day_after(generated, rng.randint(15, 90))
    # Key order is part of the output: fixed, as in the schema.
    return {
        "id": server_id,
        "ip": ip,
        "netspeed": speed,
        "score": score,
        "zones": list(zones),
        "in_pool": in_pool,
        "deletion_on": deletion_on,
    }


def make_servers(rng, scale, generated):
    eligible, ineligible = plan_continents(scale)
    pools = country_pools(rng, eligible + ineligible)
    kinds_e, kinds_i = kinds_for(rng, len(eligible), len(ineligible))
    specs = list(zip(eligible, kinds_e, v6_flags(rng, len(eligible))))
    specs += zip(ineligible, kinds_i, v6_flags(rng, len(ineligible)))
    # Ids must not give away which servers are eligible or where they are.
    rng.shuffle(specs)

    addresses = AddressMaker(rng)
    cum_weights = []
    total = 0
    for _, weight in NETSPEEDS:
        total += weight
        cum_weights.append(total)
    servers = []
    for server_id, (continents, kind, is_v6) in enumerate(specs, start=1):
        if len(continents) == 2 and rng.random() < 0.5:
            continents = continents[::-1]  # either may be listed first
        zones = [pools[c].pop() for c in continents]
        # An address is hosted in the first listed country's region.
        ip = addresses.v6(continents[0]) if is_v6 else addresses.v4()
        servers.append(make_server(rng, server_id, ip, zones, kind, generated,
                                   cum_weights))
    return servers, len(eligible)


# --- the rule and the summary ------------------------------------------------

def midnight_utc(date_text):
    day = datetime.date.fromisoformat(date_text)
    return (day - datetime.date(1970, 1, 1)).days * 86400


def is_eligible(server, generated):
    """The control plane's eligibility rule, applied to one output server."""
    if not server["in_pool"] or server["netspeed"] <= 0:
        return False
    if server["score"] < ELIGIBLE_SCORE:
        return False
    deletion_on = server["deletion_on"]
    return (deletion_on is None
            or generated + DELETION_GRACE < midnight_utc(deletion_on))


CONTINENT_OF = {code: continent
                for continent, weights in COUNTRY_WEIGHTS.items()
                for code, _ in weights}


def summarize(servers, generated, planned_eligible):
    """One line for stderr; fails loudly if the output misses the plan."""
    per_continent = {c: 0 for c in CONTINENTS}
    eligible = v6 = 0
    for s in servers:
        if not is_eligible(s, generated):
            continue
        eligible += 1
        v6 += ":" in s["ip"]
        for c in sorted({CONTINENT_OF[z] for z in s["zones"]}):
            per_continent[c] += 1
    if eligible != planned_eligible:
        raise RuntimeError(f"planned {planned_eligible} eligible servers, "
                           f"the output has {eligible}")
    continents = " ".join(f"{c} {n}" for c, n in per_continent.items())
    return (f"{len(servers)} servers, {eligible} eligible "
            f"({eligible - v6} v4, {v6} v6); eligible per continent: "
            f"{continents}")


# --- score feed --------------------------------------------------------------

def make_score_feed(rng, servers, generated, delay):
    """Scores for every in_pool server, jittered from the pool data.

    Jitter never moves a server across the threshold by accident; a few
    chosen servers cross it on purpose each way, so tests see the feed change
    eligibility in both directions. With delay 0 the feed carries the pool
    data's `generated` and each ts is a little earlier (the brief's shape);
    with delay > 0 the feed is `delay` seconds newer and every ts falls after
    the pool data's `generated`.
    """
    in_pool = [s for s in servers if s["in_pool"]]
    # Only servers whose score alone decides their eligibility can cross.
    can_drop = [s["id"] for s in in_pool
                if is_eligible(s, generated) and s["score"] < 12.0]
    can_rise = [s["id"] for s in in_pool
                if 8.0 <= s["score"] < ELIGIBLE_SCORE
                and is_eligible(dict(s, score=ELIGIBLE_SCORE), generated)]
    n_eligible = sum(is_eligible(s, generated) for s in in_pool)
    n = few(n_eligible, SCORE_CROSSING_SHARE)
    drop = set(rng.sample(can_drop, min(n, len(can_drop))))
    rise = set(rng.sample(can_rise, min(n, len(can_rise))))

    feed_generated = generated + delay
    scores = []
    for s in in_pool:
        old = s["score"]
        if s["id"] in drop:
            new = round(rng.uniform(7.5, ELIGIBLE_SCORE - 0.1), 1)
        elif s["id"] in rise:
            new = round(rng.uniform(ELIGIBLE_SCORE, 12.0), 1)
        else:
            new = round(old + rng.uniform(-0.5, 0.5), 1)
            new = min(20.0, max(-100.0, new))
            if old >= ELIGIBLE_SCORE > new:
                new = ELIGIBLE_SCORE
            elif old < ELIGIBLE_SCORE <= new:
                new = ELIGIBLE_SCORE - 0.1
        if delay > 0:
            ts = feed_generated - rng.randint(0, min(600, delay - 1))
        else:
            ts = generated - rng.randint(1, 600)
        scores.append({"server_id": s["id"], "score": new, "ts": ts})
    feed = {"schema": SCHEMA, "generated": feed_generated, "scores": scores}
    return feed, len(drop), len(rise)


# --- output ------------------------------------------------------------------

def check_tables():
    """Guard the hand-written tables against edits that break the schema."""
    pair_total = sum(DUAL_PAIRS.values())
    if pair_total != sum(ACTIVE_PER_CONTINENT.values()) - ACTIVE_GLOBAL:
        raise RuntimeError("DUAL_PAIRS does not add up to the overlap")
    names = [name for name, _ in VENDORS]
    for name, client_type in VENDORS:
        bad = (not name or name.isdigit() or len(name) == 2
               or name in CONTINENTS or name.strip("-") != name
               or any(c not in "abcdefghijklmnopqrstuvwxyz0123456789-"
                      for c in name))
        if bad or client_type not in ("ntp", "sntp", "legacy"):
            raise RuntimeError(f"bad vendor {name!r}")
    if len(set(names)) != len(names):
        raise RuntimeError("a vendor is listed twice")


def write_json(doc, path):
    text = json.dumps(doc, separators=(",", ":")) + "\n"
    if path in (None, "-"):
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="Generate reproducible sample NTP Pool data (schema 1).")
    p.add_argument("--seed", type=int, default=1,
                   help="random seed (default 1)")
    p.add_argument("--scale", type=float, default=1.0,
                   help="multiply every server count (default 1: ~6104 "
                        "servers; 100: ~610k)")
    p.add_argument("--generated", type=int, default=None,
                   help="export time, unix seconds (default: now)")
    p.add_argument("--out", default=None,
                   help="pool data file (default: stdout)")
    p.add_argument("--scores-out", default=None,
                   help="also write a score feed to this file")
    p.add_argument("--scores-delay", type=int, default=60,
                   help="score feed this many seconds newer than the pool "
                        "data (default 60; 0 gives scores no newer than the "
                        "pool data's, which the control plane ignores)")
    args = p.parse_args(argv)
    if args.scale <= 0:
        p.error("--scale must be positive")
    if args.scores_delay < 0:
        p.error("--scores-delay must not be negative")
    if args.generated is None:
        args.generated = int(time.time())
    if args.generated < 0:
        p.error("--generated must not be negative")
    return args


def main(argv=None):
    args = parse_args(argv)
    check_tables()
    rng = Random(args.seed)
    servers, planned_eligible = make_servers(rng, args.scale, args.generated)
    if not servers:
        sys.exit("gen-pool-data: --scale is too small for a single server")
    summary = summarize(servers, args.generated, planned_eligible)
    doc = {
        "schema": SCHEMA,
        "generated": args.generated,
        "settings": SETTINGS,
        "vendors": [{"name": n, "client_type": t} for n, t in VENDORS],
        "servers": servers,
    }
    write_json(doc, args.out)
    if args.scores_out:
        # Its own generator, so adding a feed leaves the pool data unchanged.
        feed, dropped, rose = make_score_feed(
            Random(f"scores-{args.seed}"), servers, args.generated,
            args.scores_delay)
        write_json(feed, args.scores_out)
        summary += (f"; score feed {len(feed['scores'])} scores, "
                    f"{dropped} fall below 10, {rose} rise to 10+")
    print(f"gen-pool-data: seed {args.seed} scale {args.scale:g}: {summary}",
          file=sys.stderr)


if __name__ == "__main__":
    main()

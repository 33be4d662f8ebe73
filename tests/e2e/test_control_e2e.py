#!/usr/bin/env python3
"""End-to-end test of the control plane, with real parts only.

A loopback HTTP server plays the registry (bearer token, ETag/If-None-Match);
`pooledge-control run` fetches, compiles with the embedded GeoIP database,
signs and pushes to two test receivers (unix socket and TCP) that judge every
image with the zones reader, plus one dead target that must not hold the
others up. Then: `pooledgectl answer` on the received image, /metrics through
promtool, a data change that must arrive, broken data and a guard-rail breach
that must not, and a restart that re-pushes the last good image.

Everything listens on 127.0.0.1 or in a temporary directory, every process is
ours and is ended by PID, and every wait is bounded.
"""

import argparse
import hashlib
import http.server
import ipaddress
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

from e2e_common import addresses, check, free_port, metric, report, run, status

TOKEN = "e2e-secret-token"
class Registry(http.server.ThreadingHTTPServer):
    """Serves files from a directory like the pool's registry would."""

    def __init__(self, root):
        self.root = root
        self.hits = {}  # path -> list of status codes
        super().__init__(("127.0.0.1", 0), RegistryHandler)


class RegistryHandler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        reg = self.server
        status = self.reply()
        reg.hits.setdefault(self.path, []).append(status)

    def reply(self):
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self.send_error(401)
            return 401
        path = os.path.join(self.server.root, self.path.lstrip("/"))
        if not os.path.isfile(path):
            self.send_error(404)
            return 404
        with open(path, "rb") as f:
            body = f.read()
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        if self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.end_headers()
            return 304
        self.send_response(200)
        self.send_header("ETag", etag)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        return 200


class Proc:
    """A child process whose output lines are collected by a thread."""

    def __init__(self, name, argv, log_dir):
        self.name = name
        self.lines = []
        self.log = open(os.path.join(log_dir, name + ".log"), "w")
        self.p = subprocess.Popen(argv, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True)
        self.t = threading.Thread(target=self.pump, daemon=True)
        self.t.start()

    def pump(self):
        for line in self.p.stdout:
            self.lines.append(line.rstrip("\n"))
            self.log.write(line)
            self.log.flush()

    def wait_line(self, pattern, timeout, after=0):
        """The first line from index `after` on matching pattern, or None."""
        rx = re.compile(pattern)
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for i in range(after, len(self.lines)):
                m = rx.search(self.lines[i])
                if m:
                    return m
            time.sleep(0.05)
        return None

    def stop(self, sig=signal.SIGTERM, timeout=15):
        if self.p.poll() is None:
            self.p.send_signal(sig)
            try:
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.t.join(timeout=5)
        self.log.close()
        return self.p.returncode


def write_config(path, a, www_port, work, metrics_port, receivers):
    targets = "\n".join(f"    - {t}" for t in receivers)
    with open(path, "w") as f:
        f.write(f"""# written by test_control_e2e.py
registry:
  pool_data: http://127.0.0.1:{www_port}/pool.json
  scores: http://127.0.0.1:{www_port}/scores.json
  token_file: {work}/token
  interval: 1s
  timeout: 5s
  retries: 1
  max_age: 1h
compile:
  seed: 7
  max_drop_share: 0.25
geoip:
  path: {a.geoip}
  overrides:
    10.1.0.0/16: de
    41.0.0.0/16: td
signing:
  key: {work}/control.key
state_dir: {work}/state
push:
  targets:
{targets}
  timeout: 5s
  retry_min: 1s
  retry_max: 2s
metrics:
  listen: 127.0.0.1:{metrics_port}
""")


def eligible_addresses(pool, country=None, continent_countries=None):
    """Eligible IPv4 addresses, as the compiler selects them (REGISTRY.md)."""
    out = set()
    now = time.time()
    for s in pool["servers"]:
        if not s["in_pool"] or s["score"] < 10 or s["netspeed"] <= 0:
            continue
        if s.get("deletion_on"):
            y, m, d = map(int, s["deletion_on"].split("-"))
            cut = time.mktime((y, m, d, 0, 0, 0, 0, 0, 0)) - time.timezone
            if now + 14 * 86400 >= cut:
                continue
        if ipaddress.ip_address(s["ip"]).version != 4:
            continue
        zones = set(s["zones"])
        if country and country not in zones:
            continue
        if continent_countries is not None and not zones & continent_countries:
            continue
        out.add(s["ip"])
    return out


def countries_of(continent, countries_cpp):
    """Country codes whose servers join a continent, from the table the compiler uses
    ({code, membership continent, client fallback continent})."""
    with open(countries_cpp) as f:
        return set(re.findall(r'\{"([a-z]{2})", "' + continent + r'", "[a-z-]+"\}', f.read()))


def answers(a, image, client, name, qtype="A", ecs=None):
    argv = [a.ctl, "answer", "--image", image, "--client", client]
    if ecs:
        argv += ["--ecs", ecs]
    out = run(*argv, name, qtype, timeout=30)
    if out.returncode != 0:
        print(out.stdout, out.stderr)
    return status(out.stdout), addresses(out.stdout)


def scrape(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics",
                                timeout=5) as r:
        return r.read().decode()


def main():
    ap = argparse.ArgumentParser()
    for opt in ("control", "ctl", "receiver", "gen", "geoip", "countries"):
        ap.add_argument("--" + opt, required=True)
    a = ap.parse_args()
    if not os.path.exists(a.geoip):
        print(f"SKIP: no GeoIP database at {a.geoip} (run scripts/setup.sh)")
        return 1

    work = tempfile.mkdtemp(prefix="pooledge-e2e-control-")
    www = os.path.join(work, "www")
    os.makedirs(www)
    procs = []
    registry = None
    try:
        with open(os.path.join(work, "token"), "w") as f:
            f.write(TOKEN + "\n")
        subprocess.run([a.control, "keygen", "--out", os.path.join(work, "control")],
                       check=True, capture_output=True)
        now = int(time.time())
        subprocess.run([sys.executable, a.gen, "--seed", "3", "--generated", str(now),
                        "--out", os.path.join(www, "pool.json"),
                        "--scores-out", os.path.join(www, "scores.json")],
                       check=True, capture_output=True)
        with open(os.path.join(www, "pool.json")) as f:
            pool = json.load(f)

        registry = Registry(www)
        threading.Thread(target=registry.serve_forever, daemon=True).start()
        www_port = registry.server_address[1]

        # Receivers: unix socket, TCP, and a target nobody listens on.
        rx_dirs = [os.path.join(work, "rx-unix"), os.path.join(work, "rx-tcp")]
        for d in rx_dirs:
            os.makedirs(d)
        tcp_port = free_port()
        endpoints = [f"unix:{work}/push.sock", f"tcp:127.0.0.1:{tcp_port}"]
        for name, ep, d in zip(("rx-unix", "rx-tcp"), endpoints, rx_dirs):
            rx = Proc(name, [a.receiver, "--listen", ep, "--key",
                             os.path.join(work, "control.pub"), "--dir", d,
                             "--max-seconds", "240"], work)
            procs.append(rx)
            check(rx.wait_line("listening on", 10) is not None, f"{name} listening")
        dead = f"unix:{work}/nobody-listens.sock"
        # A target that accepts and never reads: a push to it blocks in every write step.
        hole = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        hole.bind(f"{work}/black-hole.sock")
        hole.listen(8)
        held = []
        threading.Thread(target=lambda: [held.append(hole.accept()) for _ in iter(int, 1)],
                         daemon=True).start()
        metrics_port = free_port()
        config = os.path.join(work, "control.yaml")
        write_config(config, a, www_port, work, metrics_port,
                     endpoints + [dead, f"unix:{work}/black-hole.sock"])

        # 1. First image: fetched over HTTP, compiled, signed, pushed to both live targets
        #    even though the third is dead.
        ctl = Proc("control", [a.control, "run", "--config", config], work)
        procs.append(ctl)
        first = {}
        for rx in procs[:2]:
            m = rx.wait_line(r"^accepted serial (\d+)", 60)
            check(m is not None, f"{rx.name} accepted the first image")
            first[rx.name] = int(m.group(1)) if m else 0
        serial1 = first.get("rx-unix", 0)
        check(serial1 > 0 and first.get("rx-tcp") == serial1,
              f"both targets got serial {serial1}")
        check(registry.hits.get("/pool.json", [None])[0] == 200, "registry served with token")
        image = os.path.join(rx_dirs[0], "current.img")

        # 2. What the received image answers (the same engine the dataplane runs).
        de = eligible_addresses(pool, country="de")
        rcode, got = answers(a, image, "10.1.2.3", "0.pool.ntp.org")
        check(rcode == "NOERROR" and got and got <= de,
              f"client in DE (prefix override) gets German servers: {sorted(got)}")
        # Located by the real GeoIP database: an ECS prefix the database puts in Germany.
        lookup = subprocess.run(["mmdblookup", "--file", a.geoip, "--ip", "85.214.1.1",
                                 "country_code"], capture_output=True, text=True)
        if '"DE"' in lookup.stdout:
            ok = True
            for _ in range(10):
                _, got = answers(a, image, "192.0.2.1", "0.pool.ntp.org", ecs="85.214.0.0/16")
                ok = ok and bool(got) and got <= de
            check(ok, "client in DE by the GeoIP database (ECS 85.214.0.0/16) gets German servers")
        else:
            print("note: 85.214.1.1 is not in DE in this GeoIP database; check skipped")
        ok = True
        for _ in range(10):
            _, got = answers(a, image, "10.1.2.3", "0.debian.pool.ntp.org")
            ok = ok and bool(got) and got <= de
        check(ok, "vendor zone 0.debian follows the client to DE")
        africa = countries_of("africa", a.countries)
        af_all = eligible_addresses(pool, continent_countries=africa)
        check(not eligible_addresses(pool, country="td"), "sample data has no server in Chad")
        ok = True
        for _ in range(10):
            _, got = answers(a, image, "192.0.2.1", "pool.ntp.org", ecs="41.0.0.0/16")
            ok = ok and len(got) == 4 and got <= af_all
        check(ok, "a client in Chad (ECS 41.0.0.0/16) gets African servers")
        rcode, got = answers(a, image, "10.1.2.3", "2.pool.ntp.org", "AAAA")
        check(rcode == "NOERROR" and got and all(":" in x for x in got),
              "AAAA under 2.pool.ntp.org")
        rcode, got = answers(a, image, "10.1.2.3", "nonexistent.pool.ntp.org")
        check(rcode == "NXDOMAIN", "NXDOMAIN for a name not in the zone")
        out = run(a.ctl, "answer", "--image", image, "--client", "10.1.2.3", "www.pool.ntp.org",
                  "A", timeout=30).stdout
        check("\tCNAME\twww.ntppool.org." in out, "settings.records: www is a CNAME")
        out = run(a.ctl, "answer", "--image", image, "--client", "10.1.2.3", "_dmarc.pool.ntp.org",
                  "TXT", timeout=30).stdout
        check("v=DMARC1; p=reject" in out, "settings.records: _dmarc TXT")
        empty = ["td.pool.ntp.org", "0.td.pool.ntp.org", "2.td.pool.ntp.org"]
        if not eligible_addresses(pool, continent_countries=countries_of("antarctica", a.countries)):
            empty += ["antarctica.pool.ntp.org", "3.antarctica.pool.ntp.org"]
        check(len(countries_of("europe", a.countries)) > 40, "country table read")
        for name in empty:
            rcode, got = answers(a, image, "10.1.2.3", name)
            check(rcode == "NOERROR" and not got, f"{name}: NODATA, as the pool's zone builder has it")
        inspect = subprocess.run([a.ctl, "inspect", image, "--key",
                                  os.path.join(work, "control.pub")],
                                 capture_output=True, text=True, timeout=30)
        check(inspect.returncode == 0 and "valid" in inspect.stdout and
              f"serial:      {serial1}" in inspect.stdout,
              "pooledgectl inspect: signature valid, serial matches")

        # 3. Metrics, checked by promtool.
        text = scrape(metrics_port)
        pt = subprocess.run(["promtool", "check", "metrics"], input=text,
                            capture_output=True, text=True, timeout=30)
        check(pt.returncode == 0, "promtool check metrics passes" +
              ("" if pt.returncode == 0 else ": " + pt.stdout + pt.stderr))
        check(metric(text, "pooledge_control_image_serial") == serial1, "image serial metric")
        check((metric(text, "pooledge_control_servers_eligible", 'zone="de"') or 0) > 0,
              "eligible servers per zone metric")
        check((metric(text, "pooledge_control_push_total",
                      f'result="error",target="{dead}"') or 0) >= 1,
              "dead target's failures are counted")

        # 4. Unchanged data: 304s, no new image; but each good fetch is a success.
        marks = [len(rx.lines) for rx in procs[:2]]
        last_ok = lambda source: metric(scrape(metrics_port),
                                        "pooledge_control_ingest_last_success_timestamp_seconds",
                                        f'source="{source}"') or 0
        before = {s: last_ok(s) for s in ("pool_data", "scores")}
        time.sleep(2.5)
        check(304 in registry.hits.get("/pool.json", []), "registry answered 304 Not Modified")
        check(all(rx.wait_line(r"^accepted serial", 0, after=mark) is None
                  for rx, mark in zip(procs[:2], marks)), "no new image while nothing changed")
        for source, t0 in before.items():
            check(last_ok(source) > t0 > 0,
                  f"{source}: last-success time moves on an unchanged (304) fetch")

        # 5. A change arrives: one server removed. The score feed is broken at the same time
        # (a number beyond a double's range): that must not hold the server list back.
        marks = [len(rx.lines) for rx in procs[:2]]
        ctl_mark = len(ctl.lines)
        with open(os.path.join(www, "scores.json")) as f:
            feed = f.read()
        with open(os.path.join(www, "scores.json"), "w") as f:
            f.write(re.sub(r'"score": ?[-0-9.e]+', '"score":1e400', feed, count=1))
        pool["servers"].pop(0)
        pool["generated"] = int(time.time())
        with open(os.path.join(www, "pool.json"), "w") as f:
            json.dump(pool, f)
        serial2 = 0
        for rx, mark in zip(procs[:2], marks):
            m = rx.wait_line(r"^accepted serial (\d+)", 30, after=mark)
            check(m is not None and int(m.group(1)) > serial1,
                  f"{rx.name} got the changed data as a newer image")
            serial2 = int(m.group(1)) if m else serial2
        check(ctl.wait_line(r"scores\.json: scores\[0\]\.score: .*number overflow.*compiling with "
                            r"the pool data's scores", 5, after=ctl_mark) is not None,
              "a score beyond a double's range is reported with its path")
        check((metric(scrape(metrics_port), "pooledge_control_ingest_failures_total",
                      'reason="value",source="scores"') or 0) >= 1,
              "the broken feed is counted as the feed's failure")

        # 5b. The pool data cannot be fetched (404) while a fresh score feed drops a server:
        # the feed still applies, to the last pool data read.
        marks = [len(rx.lines) for rx in procs[:2]]
        eligible = eligible_addresses(pool)
        victim = next(srv for srv in pool["servers"] if srv["ip"] in eligible)
        fresh = json.loads(feed)
        fresh["generated"] = int(time.time()) + 1
        fresh["scores"] = [e for e in fresh["scores"] if e["server_id"] != victim["id"]]
        fresh["scores"].append({"server_id": victim["id"], "score": 2.0, "ts": int(time.time()) + 1})
        os.rename(os.path.join(www, "pool.json"), os.path.join(www, "pool.json.away"))
        with open(os.path.join(www, "scores.json"), "w") as f:
            json.dump(fresh, f)
        serial3 = serial2
        for rx, mark in zip(procs[:2], marks):
            m = rx.wait_line(r"^accepted serial (\d+)", 30, after=mark)
            check(m is not None and int(m.group(1)) > serial2,
                  f"{rx.name}: fresh scores apply while the pool data fetch fails")
            serial3 = int(m.group(1)) if m else serial3
        os.rename(os.path.join(www, "pool.json.away"), os.path.join(www, "pool.json"))
        serial2 = serial3

        # 6. Broken data: the last good image stays.
        marks = [len(rx.lines) for rx in procs[:2]]
        with open(os.path.join(www, "pool.json"), "w") as f:
            f.write(json.dumps(pool)[:5000])  # truncated
        check(ctl.wait_line(r"truncated JSON", 15, after=0) is not None,
              "truncated JSON is reported with its position")
        bad = dict(pool)
        bad["servers"] = [dict(s) for s in pool["servers"]]
        bad["servers"][3]["zones"] = ["zz"]
        with open(os.path.join(www, "pool.json"), "w") as f:
            json.dump(bad, f)
        check(ctl.wait_line(r"servers\[3\] \(id \d+\)\.zones\[0\]: 'zz' is not a known country",
                            15) is not None, "unknown country is named with its path")
        # 7. Guard rail: half the servers gone.
        half = dict(pool)
        half["servers"] = pool["servers"][: len(pool["servers"]) // 2]
        with open(os.path.join(www, "pool.json"), "w") as f:
            json.dump(half, f)
        check(ctl.wait_line(r"guard rail drop_share", 15) is not None,
              "guard rail refuses dropping half the servers")
        time.sleep(1.5)
        text = scrape(metrics_port)
        check((metric(text, "pooledge_control_ingest_failures_total",
                      'reason="json",source="pool_data"') or 0) >= 1, "json failure counted")
        check((metric(text, "pooledge_control_ingest_failures_total",
                      'reason="value",source="pool_data"') or 0) >= 1, "value failure counted")
        check((metric(text, "pooledge_control_guard_rail_refusals_total",
                      'rule="drop_share"') or 0) >= 1, "guard-rail refusal counted")
        check(metric(text, "pooledge_control_image_serial") == serial2,
              "image serial unchanged by bad input")
        check(all(rx.wait_line(r"^accepted serial", 0, after=mark) is None
                  for rx, mark in zip(procs[:2], marks)),
              "no image reached a target while the data was bad")
        with open(os.path.join(work, "state", "last-good.img"), "rb") as f:
            stored = f.read()
        with open(image, "rb") as f:
            check(f.read() == stored, "last good image on disk is the one serving")

        # 8. Restart: SIGTERM stops cleanly, and soon, although a push to the black-hole
        #    target is blocked in a write (push.timeout is 5 s per step); a new process
        #    re-pushes the last good image.
        t0 = time.monotonic()
        check(ctl.stop() == 0, "SIGTERM: pooledge-control exits 0")
        took = time.monotonic() - t0
        check(took < 4, f"SIGTERM stops a push in progress at once ({took:.2f} s)")
        with open(os.path.join(www, "pool.json"), "w") as f:
            f.write("{")  # the registry is broken while it restarts
        marks = [len(rx.lines) for rx in procs[:2]]
        ctl2 = Proc("control2", [a.control, "run", "--config", config], work)
        procs.append(ctl2)
        check(ctl2.wait_line(rf"restored last good image, serial {serial2}", 15) is not None,
              "restart restores the last good image")
        for rx, mark in zip(procs[:2], marks):
            check(rx.wait_line(rf"^current serial {serial2}", 20, after=mark) is not None,
                  f"{rx.name} confirms it already serves serial {serial2}")
        # SIGHUP rereads the configuration; a broken one is refused and the old one kept.
        mark = len(ctl2.lines)
        ctl2.p.send_signal(signal.SIGHUP)
        check(ctl2.wait_line(r"configuration reloaded", 10, after=mark) is not None,
              "SIGHUP reloads the configuration")
        with open(config, "a") as f:
            f.write("bogus_key: 1\n")
        mark = len(ctl2.lines)
        ctl2.p.send_signal(signal.SIGHUP)
        check(ctl2.wait_line(r"reload: .*bogus_key: unknown key.*keeping the running", 10,
                             after=mark) is not None,
              "a broken configuration on SIGHUP is refused with its line and key")
        check(ctl2.p.poll() is None, "still running after a bad reload")
        check(ctl2.stop() == 0, "second instance stops cleanly")
    finally:
        for p in procs:
            p.stop()
        if registry:
            registry.shutdown()
        shutil.rmtree(work, ignore_errors=True)

    return report()


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Live test of pooledge-dataplane in a namespace pair, with real parts only.

    client netns  pe-c0 (10.99.0.2/24, fd00:99::2/64)
        | veth
    node netns    pe-n0 (DPDK net_af_packet; the kernel ignores it: nft ingress drop)
                  pe0   (net_tap exception interface: the port's MAC, 10.99.0.1/24,
                         fd00:99::1/64)

Checks, in order: /health and SERVFAIL before any image; a pushed image (by
pooledge-control run) makes /health ready; kdig over UDP and TCP (client placed in
Germany by a prefix override; NSID; id.server; NXDOMAIN; AAAA under 2.); ping and
ping -6 through the exception path; ARP and ND entries; /metrics through promtool;
forged and truncated pushes refused with nothing changed; dnsperf while images
are pushed many times a second (every query answered, memory flat); kill -9 under
load and restart (answers from the last good image before any control plane).

Every process is ours and ended by PID; namespaces are made here and deleted.
"""

import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

from e2e_common import addresses, check, metric, wait_for
from node_pair import (SVC4, SVC6, Control, Dataplane, NodePair, control_yaml, dataplane_yaml,
                       finish, parse_args, proc_status, push_raw, sh)

NODE, CLIENT = "pe-t-node", "pe-t-client"


# Run inside the node namespace: clients that would stall a one-at-a-time server. Prints
# "holding" once connected, keeps them for 5 s, then closes them.
STUCK_CLIENTS = r"""
import socket, sys, time
port = int(sys.argv[1])
def conn(rcvbuf=None):
    s = socket.socket()
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.connect(("127.0.0.1", port))
    return s
drip = conn()
reader = conn(2048)
reader.sendall(b"GET /metrics HTTP/1.0\r\n\r\n")
idle = [conn() for _ in range(70)]
print("holding", flush=True)
end = time.monotonic() + 5
while time.monotonic() < end:
    try:
        drip.send(b"G")
    except OSError:
        pass
    time.sleep(0.3)
"""


PAIR = NodePair(NODE, CLIENT)
kdig, http_get = PAIR.kdig, PAIR.http_get


def rss_kb(pid):
    return proc_status(pid)["VmRSS"]


def worker_tids(pid):
    """The worker lcores' thread ids (EAL names them rte-worker-N, or lcore-worker-N in
    older releases)."""
    tids = []
    for t in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{t}/comm") as f:
            if f.read().startswith(("rte-worker", "lcore-worker")):
                tids.append(int(t))
    return tids


def strace_counts(tids, seconds):
    """System calls of `tids` over `seconds`, by name, from strace -c."""
    with tempfile.NamedTemporaryFile("r", suffix=".strace") as out:
        argv = ["strace", "-qq", "-c", "-o", out.name]
        for t in tids:
            argv += ["-p", str(t)]
        tracer = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                  text=True)
        time.sleep(seconds)
        tracer.send_signal(signal.SIGINT)
        tracer.wait(30)
        counts = {}
        for line in out.read().splitlines():
            # % time  seconds  usecs/call  calls  [errors]  syscall
            f = line.split()
            if len(f) >= 5 and f[-1] != "total" and f[0][0].isdigit():
                counts[f[-1]] = int(f[3])
        return counts


def metric_sum(text, name):
    return sum(float(v) for v in re.findall(rf"^{name}(?:{{[^}}]*}})? (\S+)", text, re.M))


def main():
    a = parse_args()
    if a is None:
        return 1
    work = tempfile.mkdtemp(prefix="pooledge-e2e-dp-")
    os.chmod(work, 0o755)
    procs = []
    try:
        PAIR.setup()
        run = lambda *x: subprocess.run(list(x), check=True, capture_output=True, text=True)
        run(a.control, "keygen", "--out", f"{work}/control")
        run(sys.executable, a.gen, "--seed", "5", "--generated", str(int(time.time())),
            "--out", f"{work}/pool.json")
        with open(f"{work}/pool.json") as f:
            pool = json.load(f)
        de = {s["ip"] for s in pool["servers"] if "de" in s["zones"] and ":" not in s["ip"]}
        os.makedirs(f"{work}/images")
        metrics_port = 9199
        with open(f"{work}/dataplane.yaml", "w") as f:
            f.write(dataplane_yaml(work, metrics_port, """\
tcp: {idle_timeout: 3s, message_timeout: 1s, max_connections: 4, max_per_prefix: 3}
"""))
        dp = Dataplane(PAIR, a.dataplane, f"{work}/dataplane.yaml", f"{work}/dataplane.log")
        procs.append(dp)
        check(wait_for(lambda: http_get("/health", metrics_port)[0] != 0, 30),
              "dataplane up (health endpoint answers)")

        # 1. No image yet: not ready, and pool names get SERVFAIL.
        code, body = http_get("/health", metrics_port)
        check(code == 503 and "image: none" in body, "/health is 503 before the first image")
        check("SERVFAIL" in kdig("0.pool.ntp.org"), "no image: SERVFAIL for pool names")

        # 2. The control plane pushes the first image.
        with open(f"{work}/control.yaml", "w") as f:
            f.write(control_yaml(work, a.geoip))
        ctl = Control(a.control, work)
        check(wait_for(lambda: http_get("/health", metrics_port)[0] == 200, 60),
              "/health is 200 once a pushed image serves")
        ctl.stop()

        # 3. Answers over UDP and TCP.
        for tcp in (False, True):
            t = "TCP" if tcp else "UDP"
            out = kdig("0.pool.ntp.org", "+nsid", tcp=tcp)
            got = addresses(out)
            check("NOERROR" in out and got and got <= de,
                  f"{t}: client in DE (override) gets German servers {sorted(got)}")
            check('"node-t1"' in out or "node-t1" in out, f"{t}: NSID names the node")
            check("node-t1.example.net" in kdig("-c", "CH", "id.server", "TXT", tcp=tcp),
                  f"{t}: CH TXT id.server")
            check("NXDOMAIN" in kdig("nope.pool.ntp.org", tcp=tcp), f"{t}: NXDOMAIN")
            got6 = addresses(kdig("2.pool.ntp.org", "AAAA", tcp=tcp, family=6))
            check(got6 and all(":" in x for x in got6), f"{t} over IPv6: AAAA under 2.")
            country = kdig("_country.pool.ntp.org", "TXT", tcp=tcp)
            check('"10.99.0.2" "10.99.0.2" "de europe @"' in country and '"node-t1' in country,
                  f"{t}: _country TXT shows the client as the node sees it")
            check("NXDOMAIN" in kdig("_status.pool.ntp.org", "TXT", tcp=tcp),
                  f"{t}: _status is not for clients outside identity.status_clients")

        # 4. The exception path: ping, ARP, ND.
        check(sh("ping", "-c", "2", "-W", "2", SVC4, ns=CLIENT, check_rc=False).returncode == 0,
              "ping through the exception path")
        check(sh("ping", "-6", "-c", "2", "-W", "2", SVC6, ns=CLIENT,
                 check_rc=False).returncode == 0, "ping -6 through the exception path")
        neigh = sh("ip", "neigh", "show", "dev", "pe-c0", ns=CLIENT).stdout
        mac = sh("cat", "/sys/class/net/pe0/address", ns=NODE).stdout.strip()
        check(re.search(rf"{re.escape(SVC4)} lladdr {mac}", neigh) is not None,
              f"ARP resolved the service address to the port's MAC {mac}")
        check(re.search(rf"{re.escape(SVC6)} lladdr {mac}", neigh) is not None,
              "ND resolved the IPv6 service address")

        # 5. Metrics.
        code, text = http_get("/metrics", metrics_port)
        pt = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                            text=True)
        check(code == 200 and pt.returncode == 0,
              "promtool check metrics" + ("" if pt.returncode == 0 else ": " + pt.stderr))
        m = re.search(r"^pooledge_image_serial (\S+)", text, re.M)
        serial = int(float(m.group(1))) if m else 0
        check(serial > 0, f"image serial metric {serial}")
        check(re.search(r'pooledge_dns_responses_total\{rcode="NOERROR",qtype="A",'
                        r'zone="pool.ntp.org."\} [1-9]', text) is not None,
              "responses counted by zone, qtype and rcode")

        # 5b. No client stalls /health (it gates the anycast announcement): one drips its
        # request head, one asks for /metrics and never reads, 70 more sit idle (past the
        # server's 64), all held open while /health is asked again and again.
        stuck = subprocess.Popen(
            ["ip", "netns", "exec", NODE, "/usr/bin/python3", "-c", STUCK_CLIENTS,
             str(metrics_port)], stdout=subprocess.PIPE, text=True)
        check(stuck.stdout.readline().strip() == "holding", "stuck clients connected")
        times = []
        for _ in range(6):
            t0 = time.monotonic()
            code, _ = http_get("/health", metrics_port)
            times.append(time.monotonic() - t0)
            check(code == 200, "/health answers while clients are stuck")
            time.sleep(0.5)
        check(max(times) < 1.5, f"/health stays fast with stuck clients (slowest {max(times):.2f} s)")
        stuck.wait(30)

        # 6. Forged and truncated images change nothing.
        with open(f"{work}/images/current.img", "rb") as f:
            good = f.read()
        forged = bytearray(good)
        forged[-100] ^= 0xFF
        st, sr = push_raw(f"{work}/push.sock", bytes(forged))
        check(st == 2 and sr == serial, "a forged image is refused; the serial stays")
        st, sr = push_raw(f"{work}/push.sock", good[: len(good) // 2])
        check(st == 2 and sr == serial, "a truncated image is refused")
        st, sr = push_raw(f"{work}/push.sock", good)
        check(st == 1, "the serving image pushed again is 'current'")
        # No peer holds up another's push: 20 idle connections (more than the 16 served at
        # once) and one dripping a header, then a push answers at once.
        held = []
        for _ in range(20):
            h = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            h.connect(f"{work}/push.sock")
            held.append(h)
        try:
            held[-1].send(b"PEP")  # the newest: the oldest idle ones make room for others
        except OSError:
            pass
        time.sleep(0.3)
        t0 = time.monotonic()
        st, sr = push_raw(f"{work}/push.sock", good)
        took = time.monotonic() - t0
        check(st == 1 and took < 2, f"a push goes through past idle and dripping peers ({took:.2f} s)")
        for h in held:
            h.close()
        got = addresses(kdig("0.pool.ntp.org"))
        check(got and got <= de, "still answering from the good image")
        code, text = http_get("/metrics", metrics_port)
        refused = sum(float(v) for v in re.findall(
            r'^pooledge_image_refused_total\{reason="\w+"\} (\S+)', text, re.M))
        check(refused == 2, f"refused images counted by reason ({refused})")
        # SIGHUP rereads the trusted keys.
        os.kill(dp.pid(), signal.SIGHUP)
        check(wait_for(lambda: "trusted keys reloaded" in open(f"{work}/dataplane.log").read(),
                       10), "SIGHUP rereads the trusted keys")

        # 7. Swap under load: dnsperf for a bounded time while images arrive many times a
        #    second; every query answered, memory flat.
        images = []
        for i in range(8):
            path = f"{work}/swap-{i}.img"
            run(a.control, "compile", "--pool-data", f"{work}/pool.json", "--geoip", a.geoip,
                "--key", f"{work}/control.key", "--out", path, "--now", str(serial + 10 + i),
                "--override", "10.99.0.0/24=de", "--seed", str(i))
            images.append(path)
        with open(f"{work}/queries", "w") as f:
            for name in ("0.pool.ntp.org A", "1.pool.ntp.org A", "2.pool.ntp.org AAAA",
                         "pool.ntp.org SOA", "de.pool.ntp.org A", "nope.pool.ntp.org A"):
                f.write(name + "\n")
        rss_before = rss_kb(dp.pid())
        # Long enough for every push even where an install is slow: under ASan the geo
        # index takes about 2 s to build, and the 8 pushes took 15 s in one CI run.
        perf = subprocess.Popen(["ip", "netns", "exec", CLIENT, "dnsperf", "-s", SVC4, "-d",
                                 f"{work}/queries", "-l", "24", "-Q", "3000", "-c", "16",
                                 "-t", "2"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True)
        pushed = accepted = 0
        for path in images:  # each image once, in order: serials only go up
            with open(path, "rb") as f:
                st, _ = push_raw(f"{work}/push.sock", f.read())
            pushed += 1
            accepted += st == 0
            time.sleep(0.1)
        check(perf.poll() is None, "every image was pushed while the load ran")
        out, _ = perf.communicate(timeout=60)
        lost = re.search(r"Queries lost:\s+(\d+)", out)
        sent = re.search(r"Queries sent:\s+(\d+)", out)
        print(out)
        check(accepted == len(images), f"{accepted} of {pushed} pushed images swapped in")
        check(sent and int(sent.group(1)) > 1000 and lost and int(lost.group(1)) == 0,
              f"dnsperf: {sent.group(1) if sent else '?'} queries, "
              f"{lost.group(1) if lost else '?'} lost during the swaps")
        rss_after = rss_kb(dp.pid())
        check(rss_after < rss_before + 64 * 1024,
              f"memory flat across swaps ({rss_before} -> {rss_after} kB)")
        code, text = http_get("/metrics", metrics_port)
        sw = re.search(r"^pooledge_image_swaps_total (\S+)", text, re.M)
        check(sw and float(sw.group(1)) >= len(images) + 1, "swaps counted")
        per = [float(v) for v in re.findall(
            r'^pooledge_dataplane_worker_rx_packets_total\{worker="\d"\} (\S+)', text, re.M)]
        # 16 dnsperf clients = 16 flows for the fanout hash: all on one queue has odds of 2^-15.
        check(len(per) == 2 and min(per) > 100, f"both workers carried the load ({per})")
        # Every loss below the port is visible: the PMD's sockets (PACKET_STATISTICS, which
        # net_af_packet does not read), the veth's ethtool counters, the PMD's xstats.
        port_rx = metric(text, "pooledge_port_rx_packets_total", 'port="net_af_packet0"') or 0
        sock = 'port="net_af_packet0",interface="pe-n0",socket="af_packet",stat='
        seen = metric(text, "pooledge_port_socket_stat_total", sock + '"packets"')
        drops = metric(text, "pooledge_port_socket_stat_total", sock + '"drops"')
        check(seen is not None and drops is not None and seen >= port_rx > 0,
              f"af_packet sockets: {seen} frames seen >= {port_rx} the port received, "
              f"{drops} dropped (ring full)")
        check(re.search(r'^pooledge_port_interface_stat_total\{port="net_af_packet0",'
                        r'interface="pe-n0",source="ethtool",stat="rx_queue_0_drops"\}', text, re.M)
              is not None, "the veth's ethtool statistics are exported")
        check(re.search(r'^pooledge_port_xstats_total\{port="net_af_packet0",stat="rx_q0_packets"\}',
                        text, re.M) is not None, "the PMD's xstats are exported")

        # 7b. TCP: pipelined queries answered in order on one connection; an idle
        #     connection is closed (tcp.idle_timeout 3 s); the limit (4) refuses a fifth.
        def framed(qid, name):
            q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
            for label in name.split("."):
                q += bytes([len(label)]) + label.encode()
            q += b"\x00\x00\x01\x00\x01"
            return struct.pack(">H", len(q)) + q
        pipelined = f"""
import socket, struct, sys, time
s = socket.create_connection(("{SVC4}", 53), timeout=8)
s.sendall(bytes.fromhex(sys.argv[1]))
ids, buf = [], b""
while len(ids) < 3:
    buf += s.recv(65535)
    while len(buf) >= 2 and len(buf) >= 2 + struct.unpack(">H", buf[:2])[0]:
        n = struct.unpack(">H", buf[:2])[0]
        ids.append(struct.unpack(">H", buf[2:4])[0])
        buf = buf[2 + n:]
print(ids)
t = time.time()
print("closed after %.1f" % (time.time() - t) if s.recv(10) == b"" else "data")
"""
        payload = (framed(101, "0.pool.ntp.org") + framed(102, "1.pool.ntp.org") +
                   framed(103, "nope.pool.ntp.org")).hex()
        r = sh(sys.executable, "-c", pipelined, payload, ns=CLIENT, check_rc=False, timeout=30)
        check("[101, 102, 103]" in r.stdout, f"TCP pipelining: three answers in order ({r.stdout.strip()} {r.stderr.strip()[-200:]})")
        m = re.search(r"closed after (\S+)", r.stdout)
        check(m is not None and 2.0 <= float(m.group(1)) <= 6.0, "TCP idle connection closed")
        # The limits: tcp.max_per_prefix (3) per client /24 or /56, tcp.max_connections (4)
        # in all. The client has one IPv4 and one IPv6 address: two prefixes.
        limit = """
import socket, sys, time
addrs = sys.argv[1].split(",")
ss = []
for a in addrs:
    ss.append(socket.create_connection((a, 53), timeout=5))
    time.sleep(0.05)
time.sleep(0.5)
closed = []
for i, s in enumerate(ss):
    s.settimeout(0.5)
    try:
        if s.recv(1) == b"":
            closed.append(i)
    except socket.timeout:
        pass
print("closed", closed)
"""
        r = sh(sys.executable, "-c", limit, ",".join([SVC4] * 4), ns=CLIENT, check_rc=False,
               timeout=30)
        check("closed [3]" in r.stdout,
              f"TCP per-prefix limit: the fourth from one /24 is closed ({r.stdout.strip()})")
        r = sh(sys.executable, "-c", limit, ",".join([SVC4] * 3 + [SVC6] * 2), ns=CLIENT,
               check_rc=False, timeout=30)
        check("closed [4]" in r.stdout,
              f"TCP limit: another prefix gets in, the fifth in all is closed ({r.stdout.strip()})")
        # A client dripping a query one byte at a time holds its slot no longer than
        # tcp.message_timeout (the idle timer does not restart on every byte).
        drip = f"""
import socket, time
s = socket.create_connection(("{SVC4}", 53), timeout=5)
t0 = time.monotonic()
s.setblocking(False)
query = b"\\x00\\x40" + bytes(64)  # a 64-byte query, one byte at a time
while time.monotonic() - t0 < 5 and query:
    try:
        s.send(query[:1])
        query = query[1:]
    except OSError:
        break
    try:
        if s.recv(1) == b"":
            break
    except BlockingIOError:
        pass
    time.sleep(0.3)
print("held %.1f" % (time.monotonic() - t0))
"""
        r = sh(sys.executable, "-c", drip, ns=CLIENT, check_rc=False, timeout=30)
        m = re.search(r"held (\S+)", r.stdout)
        check(m is not None and float(m.group(1)) < 2.5,
              f"TCP: a dripping client is cut off after tcp.message_timeout ({r.stdout.strip()})")
        code, text = http_get("/metrics", metrics_port)
        for outcome in ("refused_prefix", "refused_limit", "timed_out"):
            mm = re.search(rf'^pooledge_dns_tcp_connections_total\{{outcome="{outcome}"\}} (\S+)',
                           text, re.M)
            check(mm is not None and float(mm.group(1)) >= 1, f"TCP {outcome} counted")

        # 7c. No system call per packet on the workers (strace -c on their threads under a
        #     DNS load mixed with junk for the kernel: UDP to a port we do not serve): none
        #     of ours, the PMD's TX kick (net_af_packet: one sendto per rte_eth_tx_burst)
        #     at most once per burst, and no exception I/O at all (the exception service's
        #     thread owns the TAP). The kernel gets at most exception.rate frames/s.
        perf = subprocess.Popen(["ip", "netns", "exec", CLIENT, "dnsperf", "-s", SVC4, "-d",
                                 f"{work}/queries", "-l", "5", "-Q", "2000", "-c", "16"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        junk_code = f"""
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setblocking(False)
end = time.monotonic() + 4.5
n = 0
while time.monotonic() < end:
    try:
        s.sendto(b"junk" * 8, ("{SVC4}", 9))
        n += 1
    except BlockingIOError:
        pass
print(n)
"""
        junk = subprocess.Popen(["ip", "netns", "exec", CLIENT, "/usr/bin/python3", "-c",
                                 junk_code], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                text=True)
        time.sleep(1)
        tids = worker_tids(dp.pid())
        t_before = time.monotonic()
        _, before = http_get("/metrics", metrics_port)
        calls = strace_counts(tids, 2.5)
        _, after = http_get("/metrics", metrics_port)
        elapsed = time.monotonic() - t_before
        perf.wait(30)
        junk_sent = int((junk.communicate(timeout=30)[0] or "0").strip() or 0)
        delta = lambda name, label="": metric_sum(after, name + label) - metric_sum(before, name + label)
        bursts = delta("pooledge_dataplane_worker_tx_bursts_total")
        answers = delta("pooledge_dataplane_packets_total", '\\{direction="tx_answer"\\}')
        handed = delta("pooledge_dataplane_packets_total", '\\{direction="to_exception"\\}')
        kernel = delta("pooledge_dataplane_packets_total", '\\{direction="to_kernel"\\}')
        limited = delta("pooledge_dataplane_drops_total", '\\{reason="exception_rate_limited"\\}')
        print(f"strace -c on workers {tids}: {calls}; {answers:.0f} answers in {bursts:.0f} "
              f"TX bursts; junk: {junk_sent} sent, {handed:.0f} to the exception service, "
              f"{kernel:.0f} to the kernel, {limited:.0f} rate-limited in {elapsed:.1f} s")
        check(len(tids) == 2, f"two worker threads traced ({tids})")
        others = {k: v for k, v in calls.items() if k != "sendto"}
        check(not others, f"no system call of ours on the workers ({others or 'none'})")
        check(answers > 1000 and calls.get("sendto", 0) <= bursts,
              f"at most one TX kick per burst ({calls.get('sendto', 0)} sendto, {bursts:.0f} "
              f"bursts, {answers:.0f} answers)")
        check(handed > 1000, f"junk reached the exception service ({handed:.0f} frames)")
        check(kernel <= 20000 * elapsed + 2000,
              f"the kernel got at most exception.rate ({kernel:.0f} frames in {elapsed:.1f} s)")

        # 8. Restart under load: kill -9, start again, answers from the last good image
        #    before any control plane connects.
        last_serial = serial + 10 + len(images) - 1
        perf = subprocess.Popen(["ip", "netns", "exec", CLIENT, "dnsperf", "-s", SVC4, "-d",
                                 f"{work}/queries", "-l", "6", "-Q", "1000"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1)
        dp.stop(signal.SIGKILL)
        dp = Dataplane(PAIR, a.dataplane, f"{work}/dataplane.yaml", f"{work}/dataplane.log")
        procs.append(dp)
        check(wait_for(lambda: http_get("/health", metrics_port)[0] == 200, 30),
              "restarted dataplane is ready from the image on disk")
        code, body = http_get("/health", metrics_port)
        check(f"serial {last_serial}" in body, f"it serves the last pushed serial {last_serial}")
        got = addresses(kdig("0.pool.ntp.org"))
        check(got and got <= de, "and answers from it")
        perf.wait(30)
        check(dp.stop() == 0, "SIGTERM: exit 0")
    finally:
        for p in procs:
            p.stop()
        PAIR.teardown()
    return finish(work)


if __name__ == "__main__":
    sys.exit(main())

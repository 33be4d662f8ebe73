#!/usr/bin/env python3
"""The traffic of test_abuse_live.py, run inside the client namespace (stdlib only).

At once, for --duration seconds:
  - a spoofed flood: DNS and NTP requests from many addresses of 10.77.0.0/24 (written as raw
    frames to the veth, so the sources need not be ours), and a sniffer on the same veth that
    counts what comes back to them, with its bytes;
  - a legitimate client, 10.55.0.2: DNS at 50 queries a second and NTP once a second, each
    waiting for its answer;
  - a resolver inside the flooded prefix, 10.77.0.2, that learned a server cookie first and
    presents it, at 250 queries a second;
  - a neighbour in the flooded prefix without a cookie, 10.77.0.3, at 20 a second;
  - a client of a denied prefix, 10.88.0.2: a few DNS and NTP requests.
Prints one JSON object with every count.
"""
import argparse
import json
import os
import random
import socket
import struct
import threading
import time

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def dns_query(qid, name="0.pool.ntp.org", cookie=None):
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 1 if cookie is not None else 0)
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\x00" + struct.pack(">HH", 1, 1)
    if cookie is not None:
        opt = struct.pack(">HH", 10, len(cookie)) + cookie
        q += b"\x00" + struct.pack(">HHIH", 41, 1232, 0, len(opt)) + opt
    return q


def ntp_request():
    p = bytearray(48)
    p[0] = 0x23  # v4, mode 3
    p[2] = 6
    p[40:48] = os.urandom(8)
    return bytes(p)


def frame(src_mac, dst_mac, src, dst, sport, dport, payload):
    udp_len = 8 + len(payload)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + udp_len, random.randrange(65536), 0, 64, 17,
                     0, socket.inet_aton(src), socket.inet_aton(dst))
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 17, udp_len)
    udp = struct.pack("!HHHH", sport, dport, udp_len, 0) + payload
    c = checksum(pseudo + udp) or 0xFFFF
    udp = udp[:6] + struct.pack("!H", c) + udp[8:]
    return dst_mac + src_mac + b"\x08\x00" + ip + udp


class Sniffer(threading.Thread):
    """What the node sends to the spoofed sources (10.77.0.0/24 but our own .2 and .3)."""

    def __init__(self, dev, svc):
        super().__init__(daemon=True)
        self.s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        self.s.bind((dev, 0))
        self.s.settimeout(0.2)
        self.svc = socket.inet_aton(svc)
        self.stop = False
        self.c = {"dns_replies": 0, "dns_bytes": 0, "dns_answers": 0, "dns_tc": 0,
                  "ntp_replies": 0, "ntp_bytes": 0, "ntp_answers": 0, "ntp_kod": 0}

    def run(self):
        while not self.stop:
            try:
                data, addr = self.s.recvfrom(4096)
            except socket.timeout:
                continue
            if addr[2] == PACKET_OUTGOING or len(data) < 42 or data[12:14] != b"\x08\x00":
                continue
            ip = data[14:]
            if ip[9] != 17 or ip[12:16] != self.svc or ip[16:19] != bytes([10, 77, 0]) or \
                    ip[19] in (2, 3):
                continue
            ihl = (ip[0] & 15) * 4
            udp = ip[ihl:]
            sport = struct.unpack("!H", udp[0:2])[0]
            payload = udp[8:]
            if sport == 53 and len(payload) >= 12:
                self.c["dns_replies"] += 1
                self.c["dns_bytes"] += len(payload)
                flags, _, ancount = struct.unpack("!HHH", payload[2:8])
                self.c["dns_tc"] += 1 if flags & 0x0200 else 0
                self.c["dns_answers"] += 1 if ancount > 0 else 0
            elif sport == 123 and len(payload) >= 48:
                self.c["ntp_replies"] += 1
                self.c["ntp_bytes"] += len(payload)
                if payload[1] == 0 and payload[12:16] == b"RATE":
                    self.c["ntp_kod"] += 1
                else:
                    self.c["ntp_answers"] += 1


def flood(a, sent, until):
    """DNS at --dns-rate and NTP at --ntp-rate from random hosts of 10.77.0.0/24."""
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((a.dev, 0))
    src_mac = open(f"/sys/class/net/{a.dev}/address").read().strip()
    src_mac = bytes.fromhex(src_mac.replace(":", ""))
    dst_mac = bytes.fromhex(a.node_mac.replace(":", ""))
    hosts = [f"10.77.0.{h}" for h in range(10, 250)]
    dns = [frame(src_mac, dst_mac, random.choice(hosts), a.svc, random.randrange(1024, 65535), 53,
                 dns_query(random.randrange(65536))) for _ in range(2000)]
    ntp = [frame(src_mac, dst_mac, random.choice(hosts), a.svc, random.randrange(1024, 65535), 123,
                 ntp_request()) for _ in range(500)]
    tick = 0.01
    per_tick_dns, per_tick_ntp = int(a.dns_rate * tick), int(a.ntp_rate * tick)
    next_t = time.monotonic()
    i = j = 0
    while time.monotonic() < until:
        for _ in range(per_tick_dns):
            f = dns[i % len(dns)]
            s.send(f)
            sent["dns"] += 1
            sent["dns_bytes"] += len(f) - 42
            i += 1
        for _ in range(per_tick_ntp):
            f = ntp[j % len(ntp)]
            s.send(f)
            sent["ntp"] += 1
            sent["ntp_bytes"] += len(f) - 42
            j += 1
        next_t += tick
        time.sleep(max(0.0, next_t - time.monotonic()))


def udp_client(src, svc, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, 0))
    s.connect((svc, port))
    s.settimeout(1.0)
    return s


def ask(s, payload, check):
    """Sends, waits for the matching answer; True when it came."""
    s.send(payload)
    end = time.monotonic() + 1.0
    while time.monotonic() < end:
        try:
            r = s.recv(4096)
        except socket.timeout:
            return False
        if check(r):
            return True
    return False


def dns_answered(qid):
    return lambda r: len(r) >= 12 and struct.unpack("!H", r[:2])[0] == qid and \
        struct.unpack("!H", r[6:8])[0] > 0


def paced(rate, until, step):
    """Calls step() `rate` times a second until `until`."""
    next_t = time.monotonic()
    while time.monotonic() < until:
        step()
        next_t += 1.0 / rate
        time.sleep(max(0.0, next_t - time.monotonic()))


def legit_dns(a, out, until):
    s = udp_client("10.55.0.2", a.svc, 53)
    def step():
        qid = random.randrange(65536)
        out["sent"] += 1
        out["answered"] += 1 if ask(s, dns_query(qid), dns_answered(qid)) else 0
    paced(50, until, step)


def legit_ntp(a, out, until):
    s = udp_client("10.55.0.2", a.svc, 123)
    def step():
        req = ntp_request()
        out["sent"] += 1
        ok = ask(s, req, lambda r: len(r) >= 48 and r[24:32] == req[40:48])
        out["answered"] += 1 if ok else 0
    paced(1, until, step)


def learn_cookie(s, client):
    """RFC 7873 5.4: a query with only a client cookie learns the server cookie."""
    qid = random.randrange(65536)
    s.send(dns_query(qid, cookie=client))
    r = s.recv(4096)
    at = r.find(struct.pack(">HH", 10, 24))
    return r[at + 4 + 8:at + 4 + 24] if at >= 0 else None


def cookie_resolver(a, out, until):
    s = udp_client("10.77.0.2", a.svc, 53)
    client = os.urandom(8)
    server = learn_cookie(s, client)
    out["learned"] = server is not None
    if server is None:
        return
    def step():
        qid = random.randrange(65536)
        out["sent"] += 1
        out["answered"] += 1 if ask(s, dns_query(qid, cookie=client + server),
                                    dns_answered(qid)) else 0
    paced(250, until, step)


def neighbour(a, out, until):
    s = udp_client("10.77.0.3", a.svc, 53)
    s.settimeout(0.05)
    def step():
        qid = random.randrange(65536)
        out["sent"] += 1
        out["answered"] += 1 if ask(s, dns_query(qid), dns_answered(qid)) else 0
    paced(20, until, step)


def denied(a, out):
    d = udp_client("10.88.0.2", a.svc, 53)
    n = udp_client("10.88.0.2", a.svc, 123)
    d.settimeout(0.3)
    n.settimeout(0.3)
    for _ in range(5):
        qid = random.randrange(65536)
        out["dns_answered"] += 1 if ask(d, dns_query(qid), dns_answered(qid)) else 0
        out["ntp_answered"] += 1 if ask(n, ntp_request(), lambda r: len(r) >= 48) else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dev", default="pe-c0")
    ap.add_argument("--svc", required=True)
    ap.add_argument("--node-mac", required=True)
    ap.add_argument("--duration", type=float, default=4.0)
    ap.add_argument("--dns-rate", type=int, default=3000)
    ap.add_argument("--ntp-rate", type=int, default=1000)
    a = ap.parse_args()
    sniffer = Sniffer(a.dev, a.svc)
    sniffer.start()
    until = time.monotonic() + a.duration
    sent = {"dns": 0, "dns_bytes": 0, "ntp": 0, "ntp_bytes": 0}
    roles = {"legit_dns": {"sent": 0, "answered": 0}, "legit_ntp": {"sent": 0, "answered": 0},
             "cookie": {"sent": 0, "answered": 0}, "neighbour": {"sent": 0, "answered": 0},
             "denied": {"dns_answered": 0, "ntp_answered": 0}}
    threads = [threading.Thread(target=flood, args=(a, sent, until)),
               threading.Thread(target=legit_dns, args=(a, roles["legit_dns"], until)),
               threading.Thread(target=legit_ntp, args=(a, roles["legit_ntp"], until)),
               threading.Thread(target=cookie_resolver, args=(a, roles["cookie"], until)),
               threading.Thread(target=neighbour, args=(a, roles["neighbour"], until)),
               threading.Thread(target=denied, args=(a, roles["denied"]))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    time.sleep(0.5)  # the last replies
    sniffer.stop = True
    sniffer.join()
    print(json.dumps({"flood_sent": sent, "flood_back": sniffer.c, **roles}))


if __name__ == "__main__":
    main()

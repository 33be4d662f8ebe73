#!/usr/bin/env python3
"""Open-loop DNS load that keeps every answer: for tests that must check each one.

dnsperf counts answers; the swap test must look inside every one of them (which image's
servers it names) and know when its query left and its answer came back. This sends queries
at a fixed rate from several sockets (several flows, so a hash-spreading port puts them on
every worker), records the send and receive times (time.monotonic(): CLOCK_MONOTONIC, the
same clock in every namespace) with the rcode and the A/AAAA addresses of each answer, and
writes it all as JSON. A query whose answer has not come back a drain time after the last
send is lost.

    udp_loadgen.py --server 10.99.0.1 --rate 3000 --seconds 5 \\
        --query 0.pool.ntp.org:A --query 2.pool.ntp.org:AAAA --out answers.json
"""
import argparse
import json
import select
import socket
import struct
import time

QTYPES = {"A": 1, "AAAA": 28, "SOA": 6, "NS": 2, "TXT": 16}


def build_query(qid, name, qtype):
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.rstrip(".").split("."):
        q += bytes([len(label)]) + label.encode()
    return q + b"\x00" + struct.pack(">HH", QTYPES[qtype], 1)


def skip_name(msg, at):
    while True:
        n = msg[at]
        if n & 0xC0 == 0xC0:
            return at + 2
        if n == 0:
            return at + 1
        at += 1 + n


def parse_answer(msg):
    """(id, rcode, addresses) of a response; raises on a malformed one."""
    qid, flags, qd, an = struct.unpack(">HHHH", msg[:8])
    at = 12
    for _ in range(qd):
        at = skip_name(msg, at) + 4
    addrs = []
    for _ in range(an):
        at = skip_name(msg, at)
        rtype, _, _, rdlen = struct.unpack(">HHIH", msg[at:at + 10])
        at += 10
        if rtype == 1 and rdlen == 4:
            addrs.append(socket.inet_ntop(socket.AF_INET, msg[at:at + 4]))
        elif rtype == 28 and rdlen == 16:
            addrs.append(socket.inet_ntop(socket.AF_INET6, msg[at:at + 16]))
        at += rdlen
    if at > len(msg):
        raise ValueError("truncated")
    return qid, flags & 0xF, addrs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    ap.add_argument("--port", type=int, default=53)
    ap.add_argument("--rate", type=float, required=True, help="queries per second")
    ap.add_argument("--seconds", type=float, required=True)
    ap.add_argument("--query", action="append", required=True, help="NAME:TYPE, repeatable")
    ap.add_argument("--sockets", type=int, default=8)
    ap.add_argument("--drain", type=float, default=1.0)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    family = socket.AF_INET6 if ":" in a.server else socket.AF_INET
    queries = [(n, t) for n, _, t in (q.rpartition(":") for q in a.query)]
    socks = []
    for _ in range(a.sockets):
        s = socket.socket(family, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        s.connect((a.server, a.port))
        s.setblocking(False)
        socks.append(s)
    by_fd = {s.fileno(): i for i, s in enumerate(socks)}
    # (socket, id) -> [send time, query index]; ids count up per socket, so a test of up to
    # 65536 queries a socket never reuses one.
    pending, answers = {}, []
    malformed = unexpected = 0
    sent = 0
    t0 = time.monotonic()
    t_stop = t0 + a.seconds
    poller = select.poll()
    for s in socks:
        poller.register(s, select.POLLIN)
    while True:
        now = time.monotonic()
        if now < t_stop:
            due = int((now - t0) * a.rate)
            while sent < due:
                si, qid = sent % a.sockets, (sent // a.sockets) & 0xFFFF
                qi = sent % len(queries)
                try:
                    socks[si].send(build_query(qid, *queries[qi]))
                except BlockingIOError:
                    break  # the socket buffer is full: sent on a later round
                pending[(si, qid)] = (time.monotonic(), qi)
                sent += 1
        elif not pending or now > t_stop + a.drain:
            break
        for fd, _ in poller.poll(1):
            si = by_fd[fd]
            while True:
                try:
                    msg = socks[si].recv(4096)
                except BlockingIOError:
                    break
                recv_t = time.monotonic()
                try:
                    qid, rcode, addrs = parse_answer(msg)
                except (ValueError, struct.error, IndexError):
                    malformed += 1
                    continue
                entry = pending.pop((si, qid), None)
                if entry is None:
                    unexpected += 1
                    continue
                answers.append([entry[0], recv_t, entry[1], rcode, addrs])
    with open(a.out, "w") as f:
        json.dump({"sent": sent, "lost": len(pending), "malformed": malformed,
                   "unexpected": unexpected, "rate": a.rate, "seconds": a.seconds,
                   "queries": queries, "answers": answers}, f)
    print(f"sent {sent}, answered {len(answers)}, lost {len(pending)}, malformed {malformed}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Junk at the node as fast as one raw socket sends it: TCP SYNs to port 80, ICMP echo
requests and UDP to port 9, in turn, well formed (test_xdp_filter.py). Run in the client
namespace; prints {"sent": N, "seconds": S} as JSON.

    junk_sender.py --dev pe-c0 --node-mac MAC --dst 10.99.0.1 --seconds 3
"""
import argparse
import json
import socket
import struct
import time

from abuse_traffic import checksum


def ipv4(src, dst, proto, l4):
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 1, 0, 64, proto, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    return ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:] + l4


def l4_checksummed(src, dst, proto, l4, at):
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, proto, len(l4))
    c = checksum(pseudo + l4) or 0xFFFF
    return l4[:at] + struct.pack("!H", c) + l4[at + 2:]


def frames(src_mac, dst_mac, src, dst):
    eth = dst_mac + src_mac + b"\x08\x00"
    syn = struct.pack("!HHIIBBHHH", 40000, 80, 1, 0, 5 << 4, 0x02, 65535, 0, 0)
    syn = l4_checksummed(src, dst, 6, syn, 16)
    echo = struct.pack("!BBHHH", 8, 0, 0, 7, 1) + b"x" * 32
    echo = echo[:2] + struct.pack("!H", checksum(echo)) + echo[4:]
    udp = l4_checksummed(src, dst, 17, struct.pack("!HHHH", 40000, 9, 8 + 32, 0) + b"j" * 32, 6)
    return [eth + ipv4(src, dst, 6, syn), eth + ipv4(src, dst, 1, echo),
            eth + ipv4(src, dst, 17, udp)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dev", required=True)
    ap.add_argument("--node-mac", required=True)
    ap.add_argument("--src", default="10.99.0.2")
    ap.add_argument("--dst", required=True)
    ap.add_argument("--seconds", type=float, default=3.0)
    a = ap.parse_args()
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((a.dev, 0))
    src_mac = s.getsockname()[4]
    fs = frames(src_mac, bytes.fromhex(a.node_mac.replace(":", "")), a.src, a.dst)
    sent, start = 0, time.monotonic()
    end = start + a.seconds
    while time.monotonic() < end:
        for _ in range(100):
            for f in fs:
                try:
                    s.send(f)
                    sent += 1
                except OSError:  # a full device queue: try on
                    pass
    print(json.dumps({"sent": sent, "seconds": time.monotonic() - start}))


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Golden replay: Scapy writes a pcap of queries and bad frames, net_pcap replays it through
the real pooledge-dataplane, Scapy decodes the output pcap and checks every answer, every
checksum and every drop.

Runs with Debian's python3 (python3-scapy). The dataplane runs in a namespace made here, so
its exception TAP interface and the kernel behind it are the test's own.

    input frame kinds                          expected
    A/AAAA/ANY/NXDOMAIN/CH TXT, IPv4 and IPv6  an answer: swapped MACs/addresses/ports,
    EDNS: ECS, NSID, cookie, version 1           valid IP and UDP checksums, right content
    802.1Q, IPv4 options                       answered, tag kept / options stripped
    ARP who-has, ICMP echo, TCP SYN to 53,     to the kernel; the kernel's ARP reply, echo
    NTP mode 4 (a reply to the host's client),   reply and SYN-ACK come out of the port
      fragments
    NTP mode 3 v1-v4 (and v1 mode 0), IPv4,    a mode 4 answer: every header field from the
      IPv6, 802.1Q, extension fields             clock state the config sets, the timestamps
                                                 near the host clock, 48 bytes
    NTP mode 6 and 7, symmetric, broadcast,    nothing out; each counted under its reason
      versions 0 and 5-7, a MAC, bad lengths
    bad checksums, runts, wrong MAC, our own   nothing out; each counted under its reason
    MAC, spoofed source, port 0, bad lengths,
    a DNS response, garbage DNS
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from e2e_common import check, failed, metric, report, run, wait_for
from scapy.all import (ARP, DNS, DNSQR, DNSRROPT, EDNS0TLV, Dot1Q, Ether, ICMP, IP, IPv6,
                       TCP, UDP, Raw, rdpcap, wrpcap)

NS = "pe-golden"
SVC4, SVC6 = "10.77.0.1", "2001:db8:77::1"
CLI4, CLI6 = "10.77.0.2", "2001:db8:77::2"
CLI_MAC = "02:00:00:00:77:02"
# net_pcap's first port has a fixed MAC ("\x02pcap\x00"); checked against the log below.
PORT_MAC = "02:70:63:61:70:00"
def q4(dns, sport, src=CLI4, **ip):
    return Ether(src=CLI_MAC, dst=PORT_MAC) / IP(src=src, dst=SVC4, **ip) / \
        UDP(sport=sport, dport=53) / dns


def q6(dns, sport):
    return Ether(src=CLI_MAC, dst=PORT_MAC) / IPv6(src=CLI6, dst=SVC6) / \
        UDP(sport=sport, dport=53) / dns


def query(qid, name, qtype="A", qclass="IN", opts=None, version=0):
    d = DNS(id=qid, rd=1, qd=DNSQR(qname=name, qtype=qtype, qclass=qclass))
    if opts is not None:
        d.ar = DNSRROPT(rclass=1232, version=version, rdata=opts)
        d.arcount = 1
    return d


def fix(pkt):
    """Rebuilt with correct lengths and checksums."""
    return pkt.__class__(bytes(pkt))


def build_frames():
    """(frame, expectation) pairs; an expectation is a dict the checker understands."""
    f = []
    ecs = EDNS0TLV(optcode=8, optdata=bytes([0, 1, 24, 0, 85, 214, 0]))  # DE in the DB
    cookie = EDNS0TLV(optcode=10, optdata=bytes(range(1, 9)))
    nsid = EDNS0TLV(optcode=3, optdata=b"")
    f.append((q4(query(1, "0.pool.ntp.org"), 40001), {"id": 1, "rcode": 0, "de": True}))
    f.append((q4(query(2, "2.pool.ntp.org", "AAAA"), 40002), {"id": 2, "rcode": 0, "aaaa": True}))
    f.append((q4(query(3, "nope.pool.ntp.org"), 40003), {"id": 3, "rcode": 3, "soa": True}))
    # qtype as a number: Scapy 2.5 encodes the name "ANY" as 0.
    f.append((q4(query(4, "pool.ntp.org", 255), 40004), {"id": 4, "rcode": 0, "hinfo": True}))
    f.append((q4(query(5, "id.server", "TXT", "CH"), 40005), {"id": 5, "rcode": 0,
                                                              "txt": "golden-node"}))
    f.append((q4(query(6, "0.pool.ntp.org", opts=[ecs, nsid, cookie]), 40006),
              {"id": 6, "rcode": 0, "de": True, "ecs": True, "nsid": True, "cookie": True}))
    f.append((q4(query(7, "0.pool.ntp.org", opts=[], version=1), 40007), {"id": 7, "rcode": 16}))
    f.append((q6(query(8, "1.pool.ntp.org"), 40008), {"id": 8, "rcode": 0, "v6": True}))
    f.append((q6(query(9, "2.debian.pool.ntp.org", "AAAA"), 40009),
              {"id": 9, "rcode": 0, "v6": True, "aaaa": True}))
    vlan = Ether(src=CLI_MAC, dst=PORT_MAC) / Dot1Q(vlan=42) / IP(src=CLI4, dst=SVC4) / \
        UDP(sport=40010, dport=53) / query(10, "3.pool.ntp.org")
    f.append((vlan, {"id": 10, "rcode": 0, "vlan": 42}))
    opt = q4(query(11, "0.pool.ntp.org"), 40011, options=[b"\x01\x01\x01\x00"])
    f.append((opt, {"id": 11, "rcode": 0, "no_options": True}))
    f.append((q4(query(12, "www.example.com"), 40012), {"id": 12, "rcode": 5}))
    # To the kernel: it answers the first three.
    f.append((Ether(src=CLI_MAC, dst="ff:ff:ff:ff:ff:ff") /
              ARP(op=1, hwsrc=CLI_MAC, psrc=CLI4, pdst=SVC4), {"kernel": "arp"}))
    f.append((Ether(src=CLI_MAC, dst=PORT_MAC) / IP(src=CLI4, dst=SVC4) / ICMP(id=77, seq=1),
              {"kernel": "icmp"}))
    f.append((Ether(src=CLI_MAC, dst=PORT_MAC) / IP(src=CLI4, dst=SVC4) /
              TCP(sport=40100, dport=53, flags="S", seq=1000), {"kernel": "tcp"}))
    f.append((Ether(src=CLI_MAC, dst=PORT_MAC) / IP(src=CLI4, dst=SVC4) /
              UDP(sport=40101, dport=123) / Raw(b"\x24" + bytes(47)), {"kernel": "ntp"}))
    frag = Ether(src=CLI_MAC, dst=PORT_MAC) / IP(src=CLI4, dst=SVC4, flags="MF", id=9) / \
        UDP(sport=40102, dport=53) / query(13, "0.pool.ntp.org")
    f.append((frag, {"kernel": "fragment"}))
    # Drops, each with the reason it must be counted under.
    good = fix(q4(query(20, "0.pool.ntp.org"), 40020))
    bad_ip = good.copy()
    bad_ip[IP].chksum ^= 0x1111
    f.append((bad_ip, {"drop": "bad_ip_checksum"}))
    bad_udp = good.copy()
    bad_udp[UDP].chksum ^= 0x1111
    f.append((bad_udp, {"drop": "bad_udp_checksum"}))
    f.append((Ether(bytes(good)[:30]), {"drop": "runt"}))
    other = good.copy()
    other[Ether].dst = "02:00:00:00:99:99"
    f.append((other, {"drop": "not_for_us"}))
    own = good.copy()
    own[Ether].src = PORT_MAC
    f.append((own, {"drop": "own_frame"}))
    f.append((q4(query(21, "0.pool.ntp.org"), 40021, src="224.0.0.9"), {"drop": "bad_source"}))
    f.append((q4(query(22, "0.pool.ntp.org"), 40022, src=SVC4), {"drop": "bad_source"}))
    f.append((q4(query(23, "0.pool.ntp.org"), 0), {"drop": "source_port_zero"}))
    long_udp = q4(query(24, "0.pool.ntp.org"), 40024)
    long_udp[UDP].len = 400
    f.append((long_udp, {"drop": "bad_udp_header"}))
    bad_ver = good.copy()
    bad_ver[IP].version = 5
    f.append((bad_ver, {"drop": "bad_ip_header"}))
    v6_nosum = q6(query(25, "0.pool.ntp.org"), 40025)
    v6_nosum[UDP].chksum = 0
    f.append((v6_nosum, {"drop": "bad_udp_checksum"}))
    resp = query(26, "0.pool.ntp.org")
    resp.qr = 1
    f.append((q4(resp, 40026), {"drop": "dns_no_answer"}))
    f.append((q4(Raw(b"\x00\x1b" + bytes(3)), 40027), {"drop": "dns_no_answer"}))
    f += ntp_frames()
    return f


def ntp_request(first, poll=6, transmit=0x0123456789ABCDEF, trailer=b""):
    """An NTP header: LI/VN/mode byte, a client stratum and precision we must not echo,
    `poll`, and a transmit timestamp that must come back as our origin timestamp."""
    return bytes([first, 7, poll, 0xEC]) + bytes(36) + transmit.to_bytes(8, "big") + trailer


def ntp4(payload, sport, vlan=None):
    eth = Ether(src=CLI_MAC, dst=PORT_MAC)
    if vlan is not None:
        eth = eth / Dot1Q(vlan=vlan)
    return eth / IP(src=CLI4, dst=SVC4) / UDP(sport=sport, dport=123) / Raw(payload)


def ntp6(payload, sport):
    return Ether(src=CLI_MAC, dst=PORT_MAC) / IPv6(src=CLI6, dst=SVC6) / \
        UDP(sport=sport, dport=123) / Raw(payload)


def ntp_frames():
    """NTP requests by client port: answered ones say which version comes back."""
    ext = bytes([0x01, 0x04, 0, 28]) + bytes(24)  # one RFC 7822 extension field
    f = [
        (ntp4(ntp_request(0x23), 40201), {"ntp": 4}),
        (ntp6(ntp_request(0x1B, poll=10), 40202), {"ntp": 3, "v6": True, "poll": 10}),
        (ntp4(ntp_request(0x08), 40203), {"ntp": 1}),  # NTPv1: mode 0 from a client port
        (ntp4(ntp_request(0x13), 40204, vlan=42), {"ntp": 2, "vlan": 42}),
        (ntp4(ntp_request(0x23, trailer=ext), 40205), {"ntp": 4}),
    ]
    # Mode 6 READVAR and mode 7 MON_GETLIST, as ntpq and ntpdc send them.
    f.append((ntp4(bytes([0x16, 0x02, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]), 40210),
              {"ntp_drop": "control"}))
    f.append((ntp4(bytes([0x16, 0x02, 0, 1]) + bytes(44), 40211), {"ntp_drop": "control"}))
    f.append((ntp4(bytes([0x17, 0x00, 0x03, 0x2A]) + bytes(188), 40212),
              {"ntp_drop": "private"}))
    f.append((ntp4(ntp_request(0x03), 40213), {"ntp_drop": "bad_version"}))
    f.append((ntp4(ntp_request(0x2B), 40214), {"ntp_drop": "bad_version"}))
    f.append((ntp4(ntp_request(0x21), 40215), {"ntp_drop": "symmetric"}))
    f.append((ntp4(ntp_request(0x25), 40216), {"ntp_drop": "broadcast"}))
    f.append((ntp4(ntp_request(0x23, trailer=bytes(20)), 40217), {"ntp_drop": "authenticated"}))
    f.append((ntp4(ntp_request(0x23, trailer=bytes(2)), 40218), {"ntp_drop": "bad_length"}))
    f.append((ntp4(ntp_request(0x23, trailer=bytes(8)), 40219), {"ntp_drop": "bad_extension"}))
    f.append((ntp4(ntp_request(0x08), 123), {"ntp_drop": "reserved_mode"}))
    return f


def check_ntp_answers(frames, ntp_out, captured_at):
    """Every NTP answer against its request and the clock state dp.yaml sets."""
    for frame, exp in frames:
        if "ntp" not in exp and "ntp_drop" not in exp:
            continue
        sport = frame[UDP].sport
        got = ntp_out.get(sport, [])
        if "ntp_drop" in exp:
            check(not got, f"NTP from port {sport} ({exp['ntp_drop']}): no answer")
            continue
        if not check(len(got) == 1, f"NTP from port {sport}: exactly one answer"):
            continue
        r = got[0]
        ip = r[IPv6] if exp.get("v6") else r[IP]
        ok = r[Ether].dst == CLI_MAC and ip.dst == (CLI6 if exp.get("v6") else CLI4) and \
            r[UDP].sport == 123 and r[UDP].dport == sport
        check(ok, f"NTP {sport}: MACs, addresses and ports swapped")
        rebuilt = fix(r.copy())
        check(rebuilt[UDP].chksum == r[UDP].chksum and
              (exp.get("v6") or rebuilt[IP].chksum == r[IP].chksum),
              f"NTP {sport}: checksums valid")
        a = bytes(r[UDP].payload)
        if not check(len(a) == 48, f"NTP {sport}: a 48-byte answer ({len(a)})"):
            continue
        li, vn, mode = a[0] >> 6, (a[0] >> 3) & 7, a[0] & 7
        check((li, vn, mode) == (1, exp["ntp"], 4),
              f"NTP {sport}: LI 1 (the override's leap insert), version {exp['ntp']}, mode 4 "
              f"(got {li}, {vn}, {mode})")
        check(a[1] == 2 and a[2] == exp.get("poll", 6), f"NTP {sport}: stratum 2, poll echoed")
        precision = a[3] - 256 if a[3] > 127 else a[3]
        check(-30 <= precision <= -10, f"NTP {sport}: precision 2^{precision} s")
        root_delay, root_disp = int.from_bytes(a[4:8], "big"), int.from_bytes(a[8:12], "big")
        check(root_delay == 0 and root_disp == 132,  # 0.002 s in 16.16, rounded up
              f"NTP {sport}: root delay 0, root dispersion 2 ms ({root_delay}, {root_disp})")
        check(a[12:16] == b"GPS\0", f"NTP {sport}: reference id GPS ({a[12:16]!r})")
        unix = lambda off: int.from_bytes(a[off:off + 4], "big") - 2208988800 + \
            int.from_bytes(a[off + 4:off + 8], "big") / 2**32
        check(a[24:32] == (0x0123456789ABCDEF).to_bytes(8, "big"),
              f"NTP {sport}: origin = the request's transmit timestamp")
        ref, rx, tx = unix(16), unix(32), unix(40)
        check(abs(rx - captured_at) < 30 and rx <= tx < rx + 1 and ref <= tx,
              f"NTP {sport}: reference <= receive <= transmit, near the host clock "
              f"(rx {rx:.6f}, tx - rx {tx - rx:.9f} s)")
        if "vlan" in exp:
            check(Dot1Q in r and r[Dot1Q].vlan == exp["vlan"], f"NTP {sport}: VLAN tag kept")


def ns(*argv, **kw):
    return run(*argv, ns=NS, **kw)


def metrics(port):
    r = ns("curl", "-s", "-m", "2", f"http://127.0.0.1:{port}/metrics")
    return r.stdout if r.returncode == 0 else ""


def main():
    ap = argparse.ArgumentParser()
    for opt in ("dataplane", "control", "gen", "geoip"):
        ap.add_argument("--" + opt, required=True)
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="pooledge-golden-")
    os.chmod(work, 0o755)
    subprocess.run(["ip", "netns", "del", NS], capture_output=True)
    dp = None
    try:
        run("ip", "netns", "add", NS, check_rc=True)
        ns("ip", "link", "set", "lo", "up", check_rc=True)
        run(a.control, "keygen", "--out", f"{work}/k", check_rc=True)
        run(sys.executable, a.gen, "--seed", "9", "--out", f"{work}/pool.json", check_rc=True)
        os.makedirs(f"{work}/images")
        run(a.control, "compile", "--pool-data", f"{work}/pool.json", "--geoip", a.geoip,
            "--key", f"{work}/k.key", "--out", f"{work}/images/current.img",
            "--override", "10.77.0.0/24=de", "--override", "2001:db8:77::/64=de", check_rc=True)
        with open(f"{work}/pool.json") as fh:
            pool = json.load(fh)
        de4 = {s["ip"] for s in pool["servers"] if "de" in s["zones"] and ":" not in s["ip"]}

        frames = build_frames()
        wrpcap(f"{work}/in.pcap", [fr for fr, _ in frames])
        port = 9177
        with open(f"{work}/dp.yaml", "w") as fh:
            fh.write(f"""ports:
  - device: net_pcap0
    exception_interface: pe0
service_addresses: [{SVC4}/24, "{SVC6}/64"]
identity: {{nsid: golden-node, server_id: golden-node, version: golden}}
images: {{dir: {work}/images, trusted_keys: [{work}/k.pub]}}
metrics: {{listen: "127.0.0.1:{port}"}}
ntp:
  stratum: 2
  reference_id: GPS
  clock_override: {{synchronised: true, leap: insert, max_error: 0.002}}
""")
        log = open(f"{work}/dp.log", "w")
        dp = subprocess.Popen(
            ["ip", "netns", "exec", NS, a.dataplane, "-l", "0-1", "--no-huge", "-m", "512",
             "--no-pci", "--file-prefix", f"pe-golden-{os.getpid()}", "--vdev",
             f"net_pcap0,rx_pcap={work}/in.pcap,tx_pcap={work}/out.pcap", "--",
             "--config", f"{work}/dp.yaml"], stdout=log, stderr=subprocess.STDOUT)
        # Replayed at once; wait until every frame was received, then for the kernel.
        rx = lambda: metric(metrics(port), "pooledge_dataplane_packets_total", 'direction="rx"')
        check(wait_for(lambda: rx() == len(frames), 30), f"all {len(frames)} frames received")
        replayed_at = time.time()
        time.sleep(2)  # the kernel's replies to the exception frames
        text = metrics(port)
        dp.send_signal(signal.SIGTERM)  # closing the port flushes tx_pcap
        check(dp.wait(20) == 0, "SIGTERM: exit 0")
        log.close()
        dp = None
        logtext = open(f"{work}/dp.log").read()
        check(f"MAC {PORT_MAC}" in logtext, f"net_pcap port has the MAC the frames use ({PORT_MAC})")

        out = rdpcap(f"{work}/out.pcap")
        by_id = {}
        ntp_out = {}
        kernel = []
        for p in out:
            if UDP in p and p[UDP].sport == 53 and DNS in p:
                by_id.setdefault(p[DNS].id, []).append(p)
            elif UDP in p and p[UDP].sport == 123 and p[Ether].src == PORT_MAC:
                ntp_out.setdefault(p[UDP].dport, []).append(p)
            else:
                kernel.append(p)
        check_ntp_answers(frames, ntp_out, replayed_at)
        for frame, exp in frames:
            if "id" not in exp:
                continue
            qid = exp["id"]
            got = by_id.get(qid, [])
            if not check(len(got) == 1, f"query {qid}: exactly one answer"):
                continue
            r = got[0]
            ok = r[Ether].dst == CLI_MAC and r[Ether].src == PORT_MAC
            ip = r[IPv6] if exp.get("v6") else r[IP]
            ok = ok and ip.dst == (CLI6 if exp.get("v6") else CLI4)
            ok = ok and ip.src == (SVC6 if exp.get("v6") else SVC4)
            ok = ok and r[UDP].dport == frame[UDP].sport
            check(ok, f"query {qid}: MACs, addresses and ports swapped")
            rebuilt = fix(r.copy())
            sums_ok = rebuilt[UDP].chksum == r[UDP].chksum and \
                (exp.get("v6") or rebuilt[IP].chksum == r[IP].chksum)
            check(sums_ok and r[UDP].len == len(bytes(r[UDP])),
                  f"query {qid}: checksums and lengths valid")
            d = r[DNS]
            check(d.rcode == (exp["rcode"] & 0xF) and d.qr == 1,
                  f"query {qid}: rcode {exp['rcode']}")
            ans = [d.an[i] for i in range(d.ancount)] if d.ancount else []
            if exp.get("de"):
                addrs = {x.rdata for x in ans}
                check(addrs and addrs <= de4, f"query {qid}: German servers {sorted(addrs)}")
            if exp.get("aaaa"):
                check(ans and all(x.type == 28 for x in ans), f"query {qid}: AAAA records")
            if exp.get("soa"):
                check(d.nscount == 1 and d.ns[0].type == 6, f"query {qid}: SOA in authority")
            if exp.get("hinfo"):
                check(d.ancount == 1 and b"RFC8482" in bytes(d.an),
                      f"query {qid}: RFC 8482 HINFO")
            if "txt" in exp:
                txt = b"".join(ans[0].rdata) if ans else b""
                check(exp["txt"].encode() in txt, f"query {qid}: TXT {txt!r}")
            if "vlan" in exp:
                check(Dot1Q in r and r[Dot1Q].vlan == exp["vlan"], f"query {qid}: VLAN tag kept")
            if exp.get("no_options"):
                check(r[IP].ihl == 5, f"query {qid}: IPv4 options not echoed")
            if exp.get("ecs") or exp.get("nsid") or exp.get("cookie") or exp["rcode"] == 16:
                opt = next((d.ar[i] for i in range(d.arcount) if d.ar[i].type == 41), None)
                # Scapy 2.5's ECS class swallows the options after it; parse the OPT
                # rdata (code, length, data)* from its wire bytes instead.
                raw = b"".join(bytes(o) for o in (opt.rdata if opt else []))
                codes = {}
                while len(raw) >= 4:
                    n = int.from_bytes(raw[2:4], "big")
                    codes[int.from_bytes(raw[0:2], "big")] = raw[4:4 + n]
                    raw = raw[4 + n:]
                if exp.get("ecs"):
                    check(8 in codes and codes[8][3] > 0, f"query {qid}: ECS echoed with a scope")
                if exp.get("nsid"):
                    check(codes.get(3) == b"golden-node", f"query {qid}: NSID")
                if exp.get("cookie"):
                    check(10 in codes and len(codes[10]) == 24 and
                          codes[10][:8] == bytes(range(1, 9)),
                          f"query {qid}: client cookie echoed with a server cookie")
                if exp["rcode"] == 16:
                    check(opt is not None and (opt.rclass, opt.extrcode) == (1232, 1),
                          f"query {qid}: BADVERS in the OPT record")
        answered = {i for i in by_id}
        for frame, exp in frames:
            if "drop" in exp and DNS in frame and frame[DNS].id in answered:
                check(False, f"dropped frame {frame[DNS].id} was answered")
        # What the kernel said, through the exception path.
        check(any(ARP in p and p[ARP].op == 2 and p[ARP].psrc == SVC4 and
                  p[ARP].hwsrc == PORT_MAC for p in kernel),
              "kernel's ARP reply (with the port's MAC) went out of the port")
        check(any(ICMP in p and p[ICMP].type == 0 and p[ICMP].id == 77 for p in kernel),
              "kernel's echo reply went out")
        check(any(TCP in p and p[TCP].sport == 53 and p[TCP].flags & 0x12 == 0x12
                  for p in kernel), "kernel's SYN-ACK (TCP DNS listens) went out")
        exceptions = sum(1 for _, e in frames if "kernel" in e)
        check((metric(text, "pooledge_dataplane_packets_total", 'direction="to_kernel"') or 0)
              >= exceptions, f"at least {exceptions} frames to the kernel")
        expected = {}
        for _, e in frames:
            if "drop" in e:
                expected[e["drop"]] = expected.get(e["drop"], 0) + 1
        for reason, n in sorted(expected.items()):
            got = metric(text, "pooledge_dataplane_drops_total", f'reason="{reason}"')
            check(got == n, f"drops{{reason={reason}}} = {got}, expected {n}")
        ntp_expected = {}
        for _, e in frames:
            if "ntp_drop" in e:
                ntp_expected[e["ntp_drop"]] = ntp_expected.get(e["ntp_drop"], 0) + 1
        for reason, n in sorted(ntp_expected.items()):
            got = metric(text, "pooledge_ntp_drops_total", f'reason="{reason}"')
            check(got == n, f"ntp_drops{{reason={reason}}} = {got}, expected {n}")
        got = metric(text, "pooledge_dataplane_drops_total", 'reason="ntp_no_answer"')
        check(got == sum(ntp_expected.values()), f"drops{{reason=ntp_no_answer}} = {got}")
        answered = sum(1 for _, e in frames if "ntp" in e)
        check(metric(text, "pooledge_ntp_answers_total") == answered,
              f"ntp_answers_total = {answered}")
        check(metric(text, "pooledge_ntp_to_kernel_total") == 1, "ntp_to_kernel_total = 1 (mode 4)")
        check(metric(text, "pooledge_ntp_requests_total", 'version="4",mode="3"') == 5,
              "ntp_requests_total{version=4,mode=3} counts the v4 client requests")
        check(metric(text, "pooledge_ntp_clock_synchronised") == 1 and
              metric(text, "pooledge_ntp_clock_leap") == 1 and
              metric(text, "pooledge_ntp_clock_stratum") == 2,
              "clock gauges: synchronised, leap insert, stratum 2")
    finally:
        if dp is not None:
            dp.kill()
            dp.wait()
        subprocess.run(["ip", "netns", "del", NS], capture_output=True)
        shutil.rmtree(f"/var/run/dpdk/pe-golden-{os.getpid()}", ignore_errors=True)
        if failed() and os.path.exists(f"{work}/dp.log"):
            print(open(f"{work}/dp.log").read()[-3000:])
        if os.environ.get("POOLEDGE_KEEP_TEST_DIR"):
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return report()


if __name__ == "__main__":
    sys.exit(main())

"""A pooledge node and a client in two test-made network namespaces joined by a veth pair,
and the dataplane process serving the node's end: what the live, swap and soak tests share.

    client netns  <client> : pe-c0 (10.99.0.2/24, fd00:99::2/64)
        | veth
    node netns    <node>   : pe-n0 (DPDK net_af_packet; the kernel ignores it: nft ingress
                             drop), pe0 (net_tap exception interface: the port's MAC,
                             10.99.0.1/24, fd00:99::1/64)

Each test passes its own namespace names, so a leftover of one never meets another.
"""
import argparse
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys

from e2e_common import failed, report, run

SVC4, SVC6 = "10.99.0.1", "fd00:99::1"
CLIENT4, CLIENT6 = "10.99.0.2", "fd00:99::2"


def sh(*argv, **kw):
    """run() for set-up steps, where a failing command stops the test."""
    kw.setdefault("check_rc", True)
    return run(*argv, **kw)


class NodePair:
    def __init__(self, node, client):
        self.node, self.client = node, client
        # Temporary veth names in the root namespace, unique per pair.
        self._veth = (node[-6:] + "c", node[-6:] + "n")

    def setup(self):
        self.teardown()
        for ns in (self.node, self.client):
            sh("ip", "netns", "add", ns)
        c, n = self._veth
        sh("ip", "link", "add", c, "type", "veth", "peer", "name", n)
        sh("ip", "link", "set", c, "netns", self.client)
        sh("ip", "link", "set", n, "netns", self.node)
        sh("ip", "link", "set", c, "name", "pe-c0", ns=self.client)
        sh("ip", "link", "set", n, "name", "pe-n0", ns=self.node)
        sh("ip", "addr", "add", f"{CLIENT4}/24", "dev", "pe-c0", ns=self.client)
        sh("ip", "addr", "add", f"{CLIENT6}/64", "dev", "pe-c0", "nodad", ns=self.client)
        for ns, dev in ((self.client, "pe-c0"), (self.node, "pe-n0"), (self.client, "lo"),
                        (self.node, "lo")):
            sh("ip", "link", "set", dev, "up", ns=ns)
        # Known traps: the client's veth would hand af_packet partial checksums; the node's
        # kernel must not answer what arrives on the DPDK-owned end.
        sh("ethtool", "-K", "pe-c0", "tx", "off", ns=self.client)
        sh("nft", "-f", "-", ns=self.node, input=(
            'table netdev pooledge { chain wire { type filter hook ingress device "pe-n0" '
            'priority 0; policy drop; }; }\n'))

    def teardown(self):
        for ns in (self.node, self.client):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)

    def kdig(self, *args, tcp=False, family=4):
        server = SVC4 if family == 4 else SVC6
        argv = ["kdig", f"@{server}", "+retry=0", "+timeout=2", "+tcp" if tcp else "+notcp"]
        return sh(*argv, *args, ns=self.client, check_rc=False).stdout

    def http_get(self, path, port):
        # Metrics listen on the node namespace's loopback: ask from inside it.
        r = sh("curl", "-s", "-o", "-", "-w", "\n%{http_code}", f"http://127.0.0.1:{port}{path}",
               ns=self.node, check_rc=False)
        body, _, code = r.stdout.rpartition("\n")
        return int(code or 0), body


class Process:
    """A process of ours with its output in a log file; stop() ends it by PID, bounded."""

    def __init__(self, argv, log, mode="a"):
        self.log = open(log, mode)
        self.p = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT)

    def stop(self, sig=signal.SIGTERM):
        if self.p.poll() is None:
            self.p.send_signal(sig)
            try:
                self.p.wait(20)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        if not self.log.closed:
            self.log.close()
        return self.p.returncode

    def pid(self):
        return self.p.pid


class Dataplane(Process):
    """pooledge-dataplane in the node namespace: two workers (lcores 1 and 2 share CPU 1 on a
    2-core machine) over af_packet's two queue pairs, a PACKET_FANOUT group spreading flows
    by hash."""

    def __init__(self, pair, binary, config, log, vdev="net_af_packet0,iface=pe-n0,qpairs=2",
                 lcores="0@0,1@1,2@1", file_prefix=None):
        self.file_prefix = file_prefix or f"pe-t-{os.getpid()}"
        # `ip netns exec` execs the binary, so the PID is the dataplane's.
        super().__init__(
            ["ip", "netns", "exec", pair.node, binary, "--lcores", lcores, "--no-huge",
             "-m", "512", "--no-pci", "--file-prefix", self.file_prefix,
             "--vdev", vdev, "--", "--config", config], log)

    def stop(self, sig=signal.SIGTERM):
        rc = super().stop(sig)
        shutil.rmtree(f"/var/run/dpdk/{self.file_prefix}", ignore_errors=True)
        return rc


# The client namespace's addresses, exempt from the rate limiters in the tests whose load
# comes from that one client (the limits themselves: test_abuse_live.py).
CLIENT_EXEMPT = f'["{CLIENT4}/32", "{CLIENT6}/128"]'


def dataplane_yaml(work, metrics_port, extra="", exempt_client=True, device="net_af_packet0",
                   workers=2):
    """The dataplane configuration the tests start from: one port, the service addresses,
    images pushed over a unix socket in `work`, metrics on the node's loopback; the client
    exempt from DNS rate limiting unless `exempt_client` is false (NTP's limiter sits in the
    ntp section, which `extra` may carry: see ntp_exempt_client)."""
    rrl = f"rrl: {{exempt: {CLIENT_EXEMPT}}}\n" if exempt_client else ""
    return f"""ports:
  - device: {device}
    exception_interface: pe0
service_addresses: [{SVC4}/24, "{SVC6}/64"]
identity: {{nsid: node-t1, server_id: node-t1.example.net, version: pooledge-test}}
images: {{dir: {work}/images, trusted_keys: [{work}/control.pub]}}
management: {{listen: ["unix:{work}/push.sock"]}}
metrics: {{listen: "127.0.0.1:{metrics_port}"}}
workers: {workers}
{rrl}{extra}"""


def ntp_exempt_client():
    """The line of an `ntp:` section that exempts the client from NTP rate limiting."""
    return f"  rate_limit: {{exempt: {CLIENT_EXEMPT}}}\n"


def image_on_disk(a, work, *compile_args):
    """A signing key and a compiled, signed image of generated pool data in work/images,
    where the dataplane loads it at start (no control plane running)."""
    sh(a.control, "keygen", "--out", f"{work}/control")
    sh(sys.executable, a.gen, "--seed", "3", "--out", f"{work}/pool.json")
    os.makedirs(f"{work}/images")
    sh(a.control, "compile", "--pool-data", f"{work}/pool.json", "--geoip", a.geoip,
       "--key", f"{work}/control.key", "--out", f"{work}/images/current.img", *compile_args)


def control_yaml(work, geoip):
    """pooledge-control reading pool data from `work`, placing the client namespace's
    addresses in Germany, pushing to the dataplane's unix socket."""
    return f"""registry:
  pool_data: {work}/pool.json
  interval: 1s
geoip:
  path: {geoip}
  overrides:
    10.99.0.0/24: de
    fd00:99::/64: de
signing:
  key: {work}/control.key
state_dir: {work}/control-state
push:
  targets: ["unix:{work}/push.sock"]
"""


class Control(Process):
    """pooledge-control run with the configuration in work/control.yaml, logging to
    work/control.log."""

    def __init__(self, binary, work):
        super().__init__([binary, "run", "--config", f"{work}/control.yaml"],
                         f"{work}/control.log", "w")


def parse_args(ap=None):
    """The binaries and data every namespace test takes; None (said why) without the GeoIP
    database."""
    ap = ap or argparse.ArgumentParser()
    for opt in ("dataplane", "control", "gen", "geoip"):
        ap.add_argument("--" + opt, required=True)
    a = ap.parse_args()
    if not os.path.exists(a.geoip):
        print(f"no GeoIP database at {a.geoip} (run scripts/setup.sh)")
        return None
    return a


def finish(work):
    """The end of a test: on failure the tails of the logs in `work`, then `work` removed;
    returns the exit code."""
    if failed():
        for name in ("dataplane.log", "control.log"):
            path = os.path.join(work, name)
            if os.path.exists(path):
                print(f"--- {name}")
                print(open(path).read()[-4000:])
    shutil.rmtree(work, ignore_errors=True)
    return report()


def push_raw(sock_path, body):
    """One push over the unix socket (control/PUSH.md); returns (status, serial)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(30)
    s.connect(sock_path)
    s.sendall(b"PEPQ" + bytes([1, 1, 0, 0]) + struct.pack(">Q", len(body)) + body)
    head = b""
    while len(head) < 16:
        chunk = s.recv(16 - len(head))
        if not chunk:
            break
        head += chunk
    s.close()
    if len(head) < 16:
        return None, None
    status, (serial,) = head[5], struct.unpack(">Q", head[8:16])
    return status, serial


def proc_status(pid):
    """The kB figures and thread count of /proc/PID/status, plus the open fds."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM", "Threads"):
                out[key] = int(value.split()[0])
    out["fds"] = len(os.listdir(f"/proc/{pid}/fd"))
    return out


def reset_peak_rss(pid):
    """Resets VmHWM to the current RSS (Linux >= 4.0), so the next peak is measurable."""
    with open(f"/proc/{pid}/clear_refs", "w") as f:
        f.write("5")

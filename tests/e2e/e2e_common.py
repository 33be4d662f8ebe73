"""Helpers the end-to-end tests share: check bookkeeping, process and namespace runs,
waiting, Prometheus text lookups and dig/kdig answer parsing.

Each test imports this module from its own folder (Python puts the script's folder first on
sys.path), so it works for the interpreter CMake found and for /usr/bin/python3 (Scapy).
"""
import re
import socket
import subprocess
import time

_counts = {"passed": 0, "failed": 0}
_failures = []


def check(ok, what):
    """Records one assertion, prints it, and returns ok so callers can branch on it."""
    ok = bool(ok)
    _counts["passed" if ok else "failed"] += 1
    if not ok:
        _failures.append(what)
    print(("ok    " if ok else "FAIL  ") + what, flush=True)
    return ok


def failed():
    return _counts["failed"]


def report():
    """Prints the summary and returns the process exit code."""
    for what in _failures:
        print(f"failed: {what}")
    print(f"{_counts['passed']} passed, {_counts['failed']} failed", flush=True)
    return 0 if _counts["failed"] == 0 else 1


def run(*argv, ns=None, timeout=60, check_rc=False, **kw):
    """Runs argv (inside network namespace ns if given) and returns the CompletedProcess.
    With check_rc, a non-zero exit raises with the command's stderr."""
    cmd = (["ip", "netns", "exec", ns] if ns else []) + [str(a) for a in argv]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    if check_rc and r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {r.stderr.strip()}")
    return r


def wait_for(pred, timeout, step=0.2):
    """Polls pred until it is true or timeout seconds pass; returns whether it became true."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(step)
    return False


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def metric(text, name, labels=""):
    """The value of one sample in Prometheus text: name with exactly these labels
    (written as in the exposition, without braces: 'reason="json",source="pool_data"'),
    or None when that series is absent."""
    series = re.escape(name) + (r"\{" + re.escape(labels) + r"\}" if labels else "")
    m = re.search(rf"^{series} (\S+)$", text, re.M)
    return float(m.group(1)) if m else None


RECORD = re.compile(r"^(\S+)\s+(\d+)\s+(IN|CH)\s+(\S+)\s+(.*)$")


def records(text, rtype=None, section="ANSWER"):
    """Records of one section of dig/kdig text output as (owner, ttl, class, type, data),
    optionally only those of rtype. pooledgectl prints the same layout, tab-separated."""
    out, current = [], None
    for line in text.splitlines():
        m = re.match(r";; (\w+) SECTION:", line)
        if m:
            current = m.group(1)
            continue
        if current != section or line.startswith(";") or not line.strip():
            continue
        r = RECORD.match(line.strip())
        if r and (rtype is None or r.group(4) == rtype):
            out.append(r.groups())
    return out


def addresses(text):
    """The set of A and AAAA addresses in the answer section."""
    return {r[4] for r in records(text) if r[3] in ("A", "AAAA")}


def status(text):
    m = re.search(r"status: (\w+)", text)
    return m.group(1) if m else None

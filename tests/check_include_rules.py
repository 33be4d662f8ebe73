#!/usr/bin/env python3
"""Fails on any #include that crosses pooledge's dependency rule (zones/README.md).

Each source folder may include the pooledge headers of the libraries listed for it, and no
others. The build already hides the headers of libraries a target does not link; this check
also catches an include that only compiles because of a transitive link.
Usage: check_include_rules.py REPO_ROOT
"""
import pathlib
import re
import sys

ZONES = ["base", "dns", "image", "engine", "ntp", "limit"]
FRAME = "dataplane/frame"
WORKER = "dataplane/worker"
XDP = "dataplane/xdp"

# (source folder prefix, allowed include prefixes); the longest matching folder wins.
RULES = [
    ("zones/base", ["base"]),
    ("zones/dns", ["base", "dns"]),
    ("zones/image", ["base", "dns", "image"]),
    ("zones/engine", ["base", "dns", "image", "engine"]),
    ("zones/ntp", ["base", "ntp"]),
    ("zones/limit", ["base", "limit"]),
    ("zones/limit/tests", ZONES),
    ("zones/testing", ZONES),
    ("zones/fuzz", ZONES),
    ("zones/dns/tests", ZONES),
    ("zones/image/tests", ZONES),
    ("zones/engine/tests", ZONES),
    ("zones/ntp/tests", ZONES),
    ("control", ZONES + ["control"]),
    (FRAME, ZONES + [FRAME]),
    (WORKER, ZONES + [FRAME, WORKER]),
    (XDP, ["base", XDP]),
    ("dataplane/src", ZONES + [FRAME, WORKER, XDP]),
    ("perf", ZONES + ["control"]),
    ("perf/bench_worker.cpp", ZONES + [FRAME, WORKER]),  # the worker loop itself
    ("perf/bench_ntp.cpp", ZONES + [FRAME]),  # the NTP frame step
    ("tests/tools", ZONES),
]

INCLUDE = re.compile(r'^\s*#\s*include\s+"pooledge/([^"]+)"')


def allowed_for(rel):
    best = None
    for folder, allowed in RULES:
        if rel == folder or rel.startswith(folder + "/"):
            if best is None or len(folder) > len(best[0]):
                best = (folder, allowed)
    return best


def main():
    root = pathlib.Path(sys.argv[1])
    errors = []
    checked = 0
    for path in sorted(root.glob("**/*")):
        if path.suffix not in (".cpp", ".hpp") or any(p.startswith("build") for p in path.relative_to(root).parts):
            continue
        rel = path.relative_to(root).as_posix()
        rule = allowed_for(rel)
        if rule is None:
            errors.append(f"{rel}: no dependency rule covers this folder (add one to {__file__})")
            continue
        checked += 1
        for n, line in enumerate(path.read_text().splitlines(), 1):
            m = INCLUDE.match(line)
            if not m:
                continue
            target = m.group(1)
            lib = "/".join(target.split("/")[:2]) if target.startswith("dataplane/") else target.split("/")[0]
            if lib not in rule[1]:
                errors.append(f"{rel}:{n}: includes pooledge/{target}, but {rule[0]}/ may include only "
                              + ", ".join(rule[1]))
    for e in errors:
        print(e)
    print(f"include rules: {checked} files checked, {len(errors)} violations")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())

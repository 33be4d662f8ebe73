#!/usr/bin/env bash
# Runs clang-tidy (the repository's .clang-tidy) over every source file of ours in a build
# tree's compile database, two files at a time per core; exits non-zero on any finding.
#   scripts/tidy.sh BUILD_DIR
set -euo pipefail
build=${1:?usage: tidy.sh BUILD_DIR}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tidy=$(command -v clang-tidy || command -v clang-tidy-14)
# Our sources only: not the generated header checks, not third-party code.
mapfile -t files < <(python3 -c '
import json, sys
root, db = sys.argv[1], sys.argv[2]
seen = set()
for e in json.load(open(db)):
    f = e["file"]
    if f.startswith(root + "/") and "/build" not in f[len(root):] and f not in seen:
        seen.add(f)
        print(f)
' "$root" "$build/compile_commands.json" | sort)
echo "tidy: ${#files[@]} files"
start=$(date +%s)
# GCC-only warning flags in a GCC tree are unknown to clang: not a finding.
printf '%s\n' "${files[@]}" |
    xargs -P "$(nproc)" -n 4 "$tidy" -p "$build" --quiet --extra-arg=-Wno-unknown-warning-option
echo "tidy: clean, $(($(date +%s) - start)) s"

#!/usr/bin/env bash
# Runs two builds of a Google Benchmark binary alternately (A, B, A, B, ...) so that machine
# drift hits both alike, and prints each benchmark's median and cv per build.
#   perf/ab-compare.sh A_BINARY B_BINARY [ROUNDS=5] [FILTER=.]
# Keep the machine otherwise idle while it runs.
set -euo pipefail
a=${1:?usage: ab-compare.sh A_BINARY B_BINARY [ROUNDS] [FILTER]}
b=${2:?usage: ab-compare.sh A_BINARY B_BINARY [ROUNDS] [FILTER]}
rounds=${3:-5}
filter=${4:-.}
out=$(mktemp -d)
trap 'rm -rf -- "$out"' EXIT
for ((i = 0; i < rounds; i++)); do
    for side in a b; do
        bin=$a
        [[ $side == b ]] && bin=$b
        "$bin" --benchmark_filter="$filter" --benchmark_format=json >"$out/$side.$i.json" 2>/dev/null
    done
done
python3 - "$out" "$rounds" "$a" "$b" <<'PY'
import json, statistics, sys
out, rounds, a, b = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
times = {}
for side in "ab":
    for i in range(rounds):
        for bm in json.load(open(f"{out}/{side}.{i}.json"))["benchmarks"]:
            times.setdefault(bm["name"], {}).setdefault(side, []).append(bm["real_time"])
print(f"A = {a}\nB = {b}\n{rounds} alternating runs each; real time per iteration (ns)\n")
print("| benchmark | A median | A cv | B median | B cv | B/A |")
print("|---|---|---|---|---|---|")
for name, t in times.items():
    row = [name]
    for side in "ab":
        v = t[side]
        row += [f"{statistics.median(v):.1f}", f"{100 * statistics.pstdev(v) / statistics.mean(v):.1f}%"]
    row.append(f"{statistics.median(t['b']) / statistics.median(t['a']):.3f}")
    print("| " + " | ".join(row) + " |")
PY

#!/usr/bin/env bash
# Compile benchmark: generates pool data at 6k, 60k and 600k servers (seeded, so every run
# measures the same input), then runs perf/bench_compile with the embedded GeoIP database.
# Results (JSON and console) go to perf/results/. Extra arguments go to the benchmark.
#
#   perf/run-compile-bench.sh [--benchmark_repetitions=5] [--benchmark_filter=...]
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${BUILD:-${REPO}/build}"
DATA="${REPO}/perf/results/compile-data"
OUT="${REPO}/perf/results"
mkdir -p "${DATA}" "${OUT}"
for scale in 1 10 100; do
  f="${DATA}/pool-${scale}.json"
  if [[ ! -s "${f}" ]]; then
    echo "generating ${f}"
    python3 "${REPO}/scripts/gen-pool-data.py" --seed 1 --scale "${scale}" \
      --generated 1795000000 --out "${f}"
  fi
done
cmake --build "${BUILD}" --target bench_compile >/dev/null
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
POOLEDGE_BENCH_DATA="${DATA}" \
POOLEDGE_BENCH_GEOIP="${REPO}/.cache/geoip/geo-whois-asn-country.mmdb" \
  "${BUILD}/perf/bench_compile" --benchmark_repetitions=3 \
  --benchmark_report_aggregates_only=true \
  --benchmark_out="${OUT}/compile-${stamp}.json" --benchmark_out_format=json "$@" \
  | tee "${OUT}/compile-${stamp}.txt"

#!/usr/bin/env bash
# Sets up this machine (Debian 12, as root) and runs every test pooledge has; exits non-zero on
# any failure.
#
# Two build trees, one at a time (the machine may have two cores):
#   build/       GCC, Release, -Werror: unit tests (zones, control), the kdig/dig cross-check
#                of the engine, the control plane end to end (loopback HTTP registry, push
#                receivers, promtool), smoke runs of the benchmarks, the clang-format check.
#   build-fuzz/  clang, ASan + UBSan + libFuzzer: the unit and end-to-end tests again under
#                the sanitizers, and each fuzz target over a fixed number of inputs from
#                generated seeds.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
jobs=$(nproc)

"$root/scripts/setup.sh"

echo "== release build (gcc) =="
cmake -S "$root" -B "$root/build" -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build "$root/build" -j "$jobs"
ctest --test-dir "$root/build" --output-on-failure -j "$jobs"

echo "== sanitizer and fuzz build (clang) =="
CC=clang CXX=clang++ cmake -S "$root" -B "$root/build-fuzz" -G Ninja -DPOOLEDGE_FUZZ=ON \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build "$root/build-fuzz" -j "$jobs"
ctest --test-dir "$root/build-fuzz" --output-on-failure -j "$jobs"

echo "test.sh: all tests passed"

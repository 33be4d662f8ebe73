#!/usr/bin/env bash
# Soak, outside CI: sustained DNS load on a dataplane in a test-made namespace pair while
# pooledge-control rebuilds and pushes an image every few seconds, for MINUTES. Prints the
# dataplane's and the control plane's RSS, fds and threads every two seconds, and fails when
# any of them grows, when a query is lost or a packet is dropped for want of room.
#
#   scripts/soak.sh [MINUTES=30]
#
# CI runs the same test for one minute (ctest -R e2e_soak). Run as root (namespaces, DPDK).
# Uses the release tree (build/), configuring and building it if needed.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
minutes=${1:-30}
if ! [[ $minutes =~ ^[0-9]+$ ]] || ((minutes < 1)); then
    echo "soak.sh: MINUTES must be a whole number >= 1, got '$minutes'" >&2
    exit 2
fi
geoip=$root/.cache/geoip/geo-whois-asn-country.mmdb
[[ -f $geoip ]] || "$root/scripts/setup.sh"

build=$root/build
[[ -f $build/build.ninja ]] || cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build "$build"

exec python3 "$root/tests/e2e/test_swap_soak.py" \
    --dataplane "$build/dataplane/pooledge-dataplane" \
    --control "$build/control/pooledge-control" \
    --gen "$root/scripts/gen-pool-data.py" --geoip "$geoip" \
    soak --seconds $((minutes * 60))

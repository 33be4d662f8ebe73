#!/usr/bin/env bash
# Long fuzzing runs, outside CI: every libFuzzer target for a time budget each, from the seed
# corpora the test suite generates, keeping what it finds.
#
#   scripts/fuzz.sh [MINUTES_PER_TARGET=10] [TARGET ...]
#
# CI runs each target for a fixed, small number of inputs (fuzz_*_run in ctest); that misses
# what takes a few hundred thousand inputs to reach (the 1e400 abort in the registry parser
# took ~460k). Here each target runs for MINUTES on one core:
#   - the corpus grows in .cache/fuzz/corpus/<target>/ and is reused by the next run
#     (seeded from build-fuzz's generated corpora the first time);
#   - crashes, leaks and timeouts land in .cache/fuzz/artifacts/<target>/, and the script
#     exits non-zero naming them;
#   - the table at the end gives inputs run, execs/s and corpus size per target.
# Needs the sanitizer tree: `scripts/test.sh` builds it, or this script configures and builds
# build-fuzz itself. For a long run outside sessions (aim: 1e8 inputs per parser target):
#   nohup scripts/fuzz.sh 600 fuzz_registry fuzz_query > fuzz.log 2>&1 &
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
minutes=${1:-10}
shift || true
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=(fuzz_query fuzz_image fuzz_ntp fuzz_frame fuzz_registry fuzz_files fuzz_push)
if ! [[ $minutes =~ ^[0-9]+$ ]] || ((minutes < 1)); then
    echo "fuzz.sh: MINUTES must be a whole number >= 1, got '$minutes'" >&2
    exit 2
fi

build=$root/build-fuzz
if [[ ! -f $build/build.ninja ]]; then
    CC=clang CXX=clang++ cmake -S "$root" -B "$build" -G Ninja -DPOOLEDGE_FUZZ=ON \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi
cmake --build "$build"
# The seed corpora are ctest fixtures: generate them without running the fuzz tests.
ctest --test-dir "$build" -R '^(fuzz_seeds|control_fuzz_seeds|fuzz_frame_seeds|control_test_mmdb)$' \
    --output-on-failure >/dev/null

# target -> binary, seed directory, libFuzzer options that match its ctest.
declare -A bin seeds opts
bin[fuzz_query]=$build/zones/fuzz_query
seeds[fuzz_query]=$build/zones/corpus/query
opts[fuzz_query]="-max_len=1024"
bin[fuzz_image]=$build/zones/fuzz_image
seeds[fuzz_image]=$build/zones/corpus/image
opts[fuzz_image]="-max_len=1048576"
bin[fuzz_ntp]=$build/zones/fuzz_ntp
seeds[fuzz_ntp]=$build/zones/corpus/ntp
opts[fuzz_ntp]="-max_len=512"
bin[fuzz_frame]=$build/dataplane/fuzz_frame
seeds[fuzz_frame]=$build/dataplane/corpus
opts[fuzz_frame]="-max_len=2048"
for t in registry files push; do
    bin[fuzz_$t]=$build/control/fuzz_$t
    seeds[fuzz_$t]=$build/control/corpus/$t
    opts[fuzz_$t]="-max_len=200000 -rss_limit_mb=4096"
done

store=$root/.cache/fuzz
report=$(mktemp)
trap 'rm -f -- "$report"' EXIT
found=()
for t in "${targets[@]}"; do
    if [[ -z ${bin[$t]:-} ]]; then
        echo "fuzz.sh: unknown target '$t' (known: ${!bin[*]})" >&2
        exit 2
    fi
    corpus=$store/corpus/$t
    artifacts=$store/artifacts/$t
    mkdir -p "$corpus" "$artifacts"
    if [[ -z $(ls -A "$corpus") ]]; then
        cp -r "${seeds[$t]}/." "$corpus/"
    fi
    log=$store/$t.log
    echo "== $t: $minutes min, corpus $corpus"
    start=$(date +%s)
    rc=0
    # shellcheck disable=SC2086  # opts holds several options
    LSAN_OPTIONS=suppressions=$root/control/fuzz/lsan.supp \
        "${bin[$t]}" ${opts[$t]} -max_total_time=$((minutes * 60)) -print_final_stats=1 \
        -artifact_prefix="$artifacts/" "$corpus" >"$log" 2>&1 || rc=$?
    secs=$(($(date +%s) - start))
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    printf '| %s | %s | %s | %s | %s | %s |\n' "$t" "${runs:-?}" "${rate:-?}" \
        "$(find "$corpus" -type f | wc -l)" "$secs" "$([[ $rc == 0 ]] && echo ok || echo "FOUND (rc $rc)")" \
        >>"$report"
    if [[ $rc != 0 ]]; then
        found+=("$t: see $log and $artifacts")
    fi
done

echo
echo "| target | inputs | execs/s | corpus files | seconds | result |"
echo "|---|---|---|---|---|---|"
cat "$report"
if [[ ${#found[@]} -gt 0 ]]; then
    printf 'fuzz.sh: %s\n' "${found[@]}" >&2
    exit 1
fi

#!/usr/bin/env bash
# Builds the libFuzzer target with clang and runs it for a bounded time,
# seeded with the example configuration and the rejection corpus.
# Usage: scripts/fuzz.sh [SECONDS]   (default 60)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
build=build-fuzz
CXX=clang++-19 cmake -S . -B "$build" -G Ninja -DRINGFENCE_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C "$build" fuzz_profile >/dev/null

symbolizer=/usr/lib/llvm-19/bin/llvm-symbolizer
[[ -x $symbolizer ]] && export ASAN_SYMBOLIZER_PATH=$symbolizer

corpus=$(mktemp -d)
trap 'rm -rf "$corpus"' EXIT
for seed in profiles/*.yaml profiles/devices/*.yaml tests/data/reject/*.yaml \
            tests/data/golden/profiles/* tests/data/groups.yaml; do
  cp "$seed" "$corpus/$(echo "$seed" | tr / _)"
done
echo "fuzz: profile loader for ${seconds}s, $(ls "$corpus" | wc -l) seeds"
"$build"/fuzz/fuzz_profile "$corpus" -max_total_time="$seconds" -max_len=4096 -timeout=10 \
  -rss_limit_mb=2048 -print_final_stats=1 2>&1 | grep -E '^(stat::number_of_executed_units|stat::new_units_added|==|SUMMARY|INFO: a crash|Done)' || true
exit "${PIPESTATUS[0]}"

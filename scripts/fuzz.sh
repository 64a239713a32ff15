#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs each for a bounded time:
# the profile loader (seeded with the example configuration and the
# rejection corpus), the saved form of policy sources, and the netlink
# message parsers (NFLOG, conntrack).
# Usage: scripts/fuzz.sh [SECONDS]   (default 60, split between the targets)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
build=build-fuzz
CXX=clang++-19 cmake -S . -B "$build" -G Ninja -DRINGFENCE_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C "$build" fuzz_profile fuzz_sources fuzz_netlink >/dev/null

symbolizer=/usr/lib/llvm-19/bin/llvm-symbolizer
[[ -x $symbolizer ]] && export ASAN_SYMBOLIZER_PATH=$symbolizer

corpus=$(mktemp -d)
trap 'rm -rf "$corpus" "$corpus".*.log' EXIT
for seed in profiles/*.yaml profiles/devices/*.yaml tests/data/reject/*.yaml \
            tests/data/golden/profiles/* tests/data/groups.yaml; do
  cp "$seed" "$corpus/$(echo "$seed" | tr / _)"
done
run() {  # TARGET SECONDS CORPUS...: fails (and so does this script) on any finding
  local target=$1 time=$2 rc=0; shift 2
  # Findings go to the temporary corpus directory, never into the work tree.
  "$build/fuzz/$target" "$@" -max_total_time="$time" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$corpus/" \
    -print_final_stats=1 >"$corpus.$target.log" 2>&1 || rc=$?
  grep -E '^(stat::number_of_executed_units|stat::new_units_added|==|SUMMARY|INFO: a crash|Done)' "$corpus.$target.log" || true
  [[ $rc -eq 0 ]] || { echo "fuzz: $target found a problem (exit $rc); full output:"; tail -40 "$corpus.$target.log"; }
  return "$rc"
}
# Inputs that once crashed a target run first, every time (a fixed bug stays fixed).
for dir in tests/data/fuzz/*/; do
  target=fuzz_$(basename "$dir")
  echo "fuzz: $target regression inputs: $(ls "$dir" | wc -l)"
  "$build/fuzz/$target" "$dir"* >"$corpus.regress.log" 2>&1 || { tail -40 "$corpus.regress.log"; exit 1; }
done
echo "fuzz: profile loader for $((seconds / 2))s, $(ls "$corpus" | wc -l) seeds"
run fuzz_profile $((seconds / 2)) "$corpus" -dict=fuzz/yaml.dict
echo "fuzz: saved policy sources for $((seconds / 6 + 1))s"
run fuzz_sources $((seconds / 6 + 1))
echo "fuzz: netlink parsers (NFLOG, conntrack) for $((seconds / 3))s"
run fuzz_netlink $((seconds / 3))

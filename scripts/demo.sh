#!/usr/bin/env bash
# The main job: set up the machine, build, then validate and compile the
# example configuration and load the compiled ruleset into a throwaway
# network namespace to show that the kernel accepts it as it stands.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
cmake -S . -B build -G Ninja >/dev/null
ninja -C build
ctl=build/ctl/ringfencectl
config=profiles/ringfence.yaml

echo; echo "== ringfencectl validate --config $config"
"$ctl" validate --config "$config"

echo; echo "== ringfencectl compile --config $config (first lines)"
"$ctl" compile --config "$config" > build/demo-ruleset.nft
head -n 20 build/demo-ruleset.nft
echo "   ... $(wc -l < build/demo-ruleset.nft) lines in build/demo-ruleset.nft"

echo; echo "== a few questions answered from the files (check --offline)"
ask() { echo "\$ ringfencectl check --offline $*"; "$ctl" check --offline "$@" --config "$config" || true; }
ask pump-3w-01 --to 203.0.113.20 --proto tcp --port 443
ask pump-3w-01 --to 203.0.113.20 --proto tcp --port 22
ask ct-scanner-01 --from 203.0.113.30 --proto tcp --port 104
ask monitor-icu-07 --to 203.0.113.99 --proto udp --port 53

if [[ $EUID -eq 0 ]]; then
  ns="rfdemo-$$"
  trap 'ip netns del "$ns" 2>/dev/null || true' EXIT
  ip netns add "$ns"
  echo; echo "== loading it into the kernel inside network namespace $ns"
  ip netns exec "$ns" nft -f build/demo-ruleset.nft
  ip netns exec "$ns" nft list set inet ringfence allow_out4 | head -n 12
  echo "kernel accepted the ruleset; the namespace is removed on exit"
else
  echo "(not root: skipping the kernel load; run as root to see it)"
fi

#!/usr/bin/env bash
# The main job: set up the machine, build, and run a demo gateway. ringfenced
# enforces the example configuration (profiles/) on a lab gateway in network
# namespaces; allowed flows pass and forbidden ones are dropped, on real
# packets. Everything runs in namespaces that are removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ $EUID -eq 0 ]] || { echo "demo: run as root (it builds a lab in network namespaces)" >&2; exit 1; }

bash scripts/setup.sh
cmake -S . -B build -G Ninja >/dev/null
ninja -C build ringfenced ringfencectl  # only what the demo runs
ctl=build/ctl/ringfencectl
config=profiles/ringfence.yaml

echo; echo "== ringfencectl validate --config $config"
"$ctl" validate --config "$config"

source tests/lab/lab.sh
work=$(mktemp -d)
lab_up
trap 'lab_down; rm -rf "$work"' EXIT

echo; echo "== lab: a gateway, five legacy devices, LAN servers"
lab_host pump-3w-01 dev0 198.51.100.10 "" 02:00:00:00:00:10
lab_host monitor-icu-07 dev0 198.51.100.30 2001:db8:100::30 02:00:00:00:00:30
lab_host lab-analyzer-01 dev0 198.51.100.40 ""
lab_host ct-scanner-01 dev1 198.51.100.130 2001:db8:100:0:8000::130 02:00:00:00:00:20
lab_host ws-radiology-win7 dev1 198.51.100.150 2001:db8:100:0:8000::150 02:00:00:00:00:50
lab_host pump-server lan0 203.0.113.20 2001:db8:200::20
lab_host pacs lan0 203.0.113.30 2001:db8:200::30
lab_host central lan0 203.0.113.40 2001:db8:200::40
lab_host lis lan0 203.0.113.50 2001:db8:200::50
lab_host internet lan0 203.0.113.99 2001:db8:200::99
for h in pump-server pacs central lis internet; do
  for p in 22 104 443 2575 4005 445; do lab_listen "$h" tcp "$p"; done
done
lab_listen ct-scanner-01 tcp 104
sleep 0.3

echo; echo "== starting ringfenced on the gateway"
ip netns exec "$(lab_ns gw)" build/daemon/ringfenced --config "$config" --state-dir "$work/state" --bus none 2>"$work/log" &
daemon=$!
for _ in $(seq 50); do grep -q "policy applied" "$work/log" && break; sleep 0.1; done
cat "$work/log"

show() {  # DESCRIPTION COMMAND...
  local what=$1; shift
  if "$@"; then printf '  %-66s PASSES\n' "$what"; else printf '  %-66s dropped\n' "$what"; fi
}
echo; echo "== traffic through the gateway"
show "pump-3w-01 -> pump server tcp/443 (allowed, critical)" lab_tcp pump-3w-01 203.0.113.20 443
show "pump-3w-01 -> internet tcp/443 (forbidden)" lab_tcp pump-3w-01 203.0.113.99 443
show "pump-3w-01 -> pump server tcp/22 (forbidden port)" lab_tcp pump-3w-01 203.0.113.20 22
show "ct-scanner-01 -> PACS tcp/104 over IPv6 (allowed)" lab_tcp ct-scanner-01 2001:db8:200::30 104
show "PACS -> ct-scanner-01 tcp/104 (storage commitment, allowed)" lab_tcp pacs 198.51.100.130 104
show "ct-scanner-01 -> internet tcp/443 (forbidden)" lab_tcp ct-scanner-01 203.0.113.99 443
show "ws-radiology-win7 -> internet tcp/445 (forbidden)" lab_tcp ws-radiology-win7 203.0.113.99 445
show "monitor-icu-07 -> central tcp/2575 HL7 (allowed)" lab_tcp monitor-icu-07 203.0.113.40 2575
show "monitor-icu-07 -> internet tcp/443 (monitor mode: passes, reported)" lab_tcp monitor-icu-07 203.0.113.99 443
show "lab-analyzer-01 -> internet tcp/443 (learn mode: passes, recorded)" lab_tcp lab-analyzer-01 203.0.113.99 443

kill -TERM "$daemon"; wait "$daemon" || true
echo; echo "ringfenced stopped; the ruleset stayed in force until the lab was removed."

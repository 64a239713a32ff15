#!/usr/bin/env bash
# The main job: set up the machine, build, and run a demo gateway. ringfenced
# enforces the example configuration (profiles/) on a lab gateway in network
# namespaces, on real packets, and the demo tells what an admin sees: the
# allowed flows, a forbidden one, the violation and the isolation as
# `ringfencectl events` shows them, status/list/show of the isolated pump
# with the rule that decided, the critical flow still passing, a monitor-mode
# report, a learn proposal and a release. Everything runs in namespaces and a
# private D-Bus that are removed on exit.
#
# RINGFENCE_DEMO_BUILD=DIR skips the setup and the build and runs the demo
# with the programs of an existing build directory (the test suite does that).
set -euo pipefail
cd "$(dirname "$0")/.."
[[ $EUID -eq 0 ]] || { echo "demo: run as root (it builds a lab in network namespaces)" >&2; exit 1; }

build=${RINGFENCE_DEMO_BUILD:-}
if [[ -z $build ]]; then
  bash scripts/setup.sh
  cmake -S . -B build -G Ninja >/dev/null
  ninja -C build ringfenced ringfencectl  # only what the demo runs
  build=build
fi
build=$(cd "$build" && pwd)
ctlbin=$build/ctl/ringfencectl
config=profiles/ringfence.yaml
started=$(date +%s)

say() { printf '\n== %s\n' "$*"; }
run() {  # shows a command as the admin would type it, then runs it
  local shown=() word
  for word in "$@"; do [[ $word == *' '* ]] && shown+=("\"$word\"") || shown+=("$word"); done
  printf '$ ringfencectl %s\n' "${shown[*]}"
  "$ctlbin" --bus "$bus" "$@" | sed 's/^/  /'
  return "${PIPESTATUS[0]}"
}
show() {  # DESCRIPTION COMMAND...: one flow on real packets
  local what=$1; shift
  if "$@"; then printf '  %-64s PASSES\n' "$what"; else printf '  %-64s dropped\n' "$what"; fi
}
# Prints the events that arrived since the last call: what the gateway noticed.
seen=0
new_events() {
  sleep 0.3
  local total; total=$(wc -l < "$work/events")
  if ((total > seen)); then
    printf '  ringfencectl events:\n'
    sed -n "$((seen + 1)),${total}p" "$work/events" | sed 's/^/    /'
  fi
  seen=$total
}

say "ringfencectl validate --config $config"
"$ctlbin" validate --config "$config"

source tests/lab/lab.sh
work=$(mktemp -d)
lab_up
trap 'lab_down; rm -rf "$work"' EXIT

say "lab: a gateway, five legacy devices, LAN servers"
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
echo "  pump-3w-01, monitor-icu-07 (monitor mode), lab-analyzer-01 (learn mode) on dev0;"
echo "  ct-scanner-01, ws-radiology-win7 on dev1; pump-server, pacs, central, lis, internet on lan0"

say "starting ringfenced on the gateway (a private D-Bus stands in for the system bus)"
bus="unix:path=$work/bus"
dbus-daemon --config-file=tests/data/dbus/test-bus.conf --address="$bus" --nofork --nopidfile 2>/dev/null &
LAB_PIDS+=($!)
for _ in $(seq 50); do [[ -S $work/bus ]] && break; sleep 0.1; done
ip netns exec "$(lab_ns gw)" "$build/daemon/ringfenced" --config "$config" --state-dir "$work/state" \
  --bus "$bus" 2>"$work/log" &
daemon=$!
LAB_PIDS+=($daemon)
for _ in $(seq 100); do busctl --address="$bus" status io.ringfence.Gateway1 >/dev/null 2>&1 && break; sleep 0.1; done
sed 's/^/  /' "$work/log"
"$ctlbin" --bus "$bus" events > "$work/events" 2>&1 &
LAB_PIDS+=($!)
sleep 0.3

say "allowed flows pass"
show "pump-3w-01 -> pump-server tcp/443 (dose library, critical)" lab_tcp pump-3w-01 203.0.113.20 443
show "ct-scanner-01 -> pacs tcp/104 over IPv6 (DICOM C-STORE)" lab_tcp ct-scanner-01 2001:db8:200::30 104
show "pacs -> ct-scanner-01 tcp/104 (storage commitment)" lab_tcp pacs 198.51.100.130 104
show "monitor-icu-07 -> central tcp/2575 (HL7 alarms)" lab_tcp monitor-icu-07 203.0.113.40 2575
new_events

say "monitor and learn modes: nothing is blocked, everything is reported"
show "monitor-icu-07 -> internet tcp/443 (monitor mode)" lab_tcp monitor-icu-07 203.0.113.99 443
show "lab-analyzer-01 -> lis tcp/4005 (learn mode)" lab_tcp lab-analyzer-01 203.0.113.50 4005
show "lab-analyzer-01 -> internet tcp/443 (learn mode)" lab_tcp lab-analyzer-01 203.0.113.99 443
new_events

say "a forbidden flow: the pump tries ssh on its server"
show "pump-3w-01 -> pump-server tcp/22 (not in its profile)" lab_tcp pump-3w-01 203.0.113.20 22
new_events

say "what the admin sees"
run status
run list
run show pump-3w-01
run check pump-3w-01 --to 203.0.113.20 --proto tcp --port 22 || true
run check pump-3w-01 --to 203.0.113.20 --proto tcp --port 443 || true

say "the isolated pump keeps its critical flow, and nothing else"
show "pump-3w-01 -> pump-server tcp/443 (critical: stays open)" lab_tcp pump-3w-01 203.0.113.20 443
show "pump-3w-01 -> internet tcp/443" lab_tcp pump-3w-01 203.0.113.99 443
new_events

say "a learn proposal for the analyzer, as the allow: block its profile needs"
run learn lab-analyzer-01

say "biomedical engineering has checked the pump: release it"
run release pump-3w-01 --reason "checked by biomed, ticket 4711"
show "pump-3w-01 -> pump-server tcp/443" lab_tcp pump-3w-01 203.0.113.20 443
show "pump-3w-01 -> pump-server tcp/22 (forbidden: isolates it again)" lab_tcp pump-3w-01 203.0.113.20 22
new_events

kill -TERM "$daemon"; wait "$daemon" || true
say "done in $(($(date +%s) - started)) s"
echo "ringfenced stopped; its ruleset stayed in force until the lab was removed."

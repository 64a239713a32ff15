#!/usr/bin/env bash
# Benchmarks (prints figures, asserts nothing). Run as root:
#   sudo scripts/bench.sh [RUNS]        (default 5 runs per figure; medians)
# 1. Control plane for 1,000 and 10,000 generated devices (about 5 rules each):
#    validate+compile, full apply through netlink, nft -f on the same text,
#    and a one-device change applied by reload; parsing the same profiles,
#    by yaml-cpp alone and into the loader's tree (the simple reader).
# 2. The daemon from exec to READY against nft -f (a first start, and a
#    restart from the compiled policy), and a one-profile reload, at 10,000
#    and 100,000 devices (bench/start_reload.py).
# 3. TCP throughput through the lab gateway (iperf3, offloads off) and new
#    connections per second (a connect loop of 3 s), with no ruleset, with
#    conntrack only and with the 10,000-device policy, where the measured
#    flows are allowed only by the last device's last rule; then the cost of
#    the account chain alone (the same ruleset with and without it, by nft -f).
# 4. The flowtable fast path (bench/flowtable.sh), containment
#    (bench/containment.sh) and the bridge topology (bench/bridge.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
bash scripts/setup.sh >/dev/null
cmake -S . -B build -G Ninja >/dev/null
ninja -C build bench_apply bench_yaml gen_policy ringfenced ringfencectl >/dev/null
source tests/lab/lab.sh
source bench/lib.sh
work=$(mktemp -d)
lab_up
trap 'lab_down; rm -rf "$work"' EXIT

echo "== control plane (medians of $runs runs; each in its own network namespace)"
echo "| devices | elements | validate+compile | apply (netlink; its encoding in memory) | nft -f same text | apply/nft | (v+c+apply)/nft | one-device change: transaction (diff) | whole reload |"
echo "|---|---|---|---|---|---|---|---|---|"
for n in 1000 10000; do
  ip netns add "$(lab_ns "bench$n")"
  ip netns exec "$(lab_ns "bench$n")" build/bench/bench_apply "$n" "$runs" "$work/cp$n"
done
# Parsing under validate+compile: yaml-cpp alone on the same profiles, and
# the loader's tree by the simple reader (bench/bench_yaml.cc; best of the runs).
for n in 1000 10000; do build/bench/bench_yaml "$work/cp$n/policy/devices" "$runs"; done

echo; echo "== the daemon: start and reload (bench/start_reload.py; in one run, each in its own network namespace)"
# Start: exec to READY=1 (the table is in the kernel), with no table before it
# (a reboot), against nft -f of the text ringfencectl compile prints, measured
# in the same run: a first start (empty state directory: every profile parsed)
# and a restart from the compiled policy it saved. Reload: SIGHUP to "policy
# reloaded", one port added to (then removed from) one profile. The daemon
# runs with the unit's environment. 100,000 devices: one run each.
echo "| devices | nft -f same text | first start | start/nft | restart from the compiled policy | restart/nft | start checks the same | reload, one profile changed | peak RSS (first, restart) | runs |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for n in 10000 100000; do
  dir=$work/cp$n/policy
  if [[ ! -d $dir ]]; then dir=$work/sr$n; build/bench/gen_policy "$dir" "$n" >/dev/null; fi
  r=$runs; [[ $n -ge 100000 ]] && r=1
  line=$(/usr/bin/python3 bench/start_reload.py build/daemon/ringfenced build/ctl/ringfencectl \
    "$dir/ringfence.yaml" "$(lab_ns "sr$n")" "$r" "$dir/devices/gen-$((n / 2)).yaml")
  declare -A f=(); for kv in $line; do f[${kv%%=*}]=${kv#*=}; done
  printf '| %s | %s ms | %s ms | %s | %s ms | %s | %s | %s ms | %s MB, %s MB | %s |\n' "$n" "${f[nft_ms]}" \
    "${f[start_ms]}" "${f[ratio]}" "${f[restart_ms]}" "${f[restart_ratio]}" "${f[checks_same]}" \
    "${f[reload_ms]}" "${f[rss_mb]}" "${f[restart_rss_mb]}" "$r"
done

echo; echo "== data plane: iperf3 through the gateway, offloads off"
routed_generated_device
in_ns server iperf3 -s -D -1 >/dev/null 2>&1 || true
accept_close_server server 5300
throughput() { iperf_median dev server 203.0.113.99 100.64.39.15 "$runs"; }
cps() { connects dev 100.64.39.15 203.0.113.99 5300 "$runs"; }
bare=$(throughput)
bare_cps=$(cps)
echo "no ruleset:                      $bare Gbit/s, $bare_cps connections/s"
# Conntrack alone: any stateful ruleset pays for it; this separates its cost from ours.
conntrack_only gw
stateful=$(throughput)
stateful_cps=$(cps)
# What a conntrack event listener costs: the kernel builds an event for every
# new connection (the daemon listens only while a device is observed).
ip netns exec "$(lab_ns gw)" conntrack -E -e NEW >/dev/null 2>&1 &
listener=$!
sleep 0.3
listened_cps=$(cps)
kill "$listener"; wait "$listener" 2>/dev/null || true
in_ns gw nft delete table inet conntrack_only
echo "conntrack only (one rule):       $stateful Gbit/s, $stateful_cps connections/s"
python3 -c "print('the same, a NEW-event listener:  %s connections/s (%.2f)' % ('$listened_cps', $listened_cps / $stateful_cps))"
cp -r "$work/cp10000/policy" "$work/dp"
# Its own state directory: isolations must not outlive the run or touch /var/lib.
echo "state_dir: $work/state" >> "$work/dp/ringfence.yaml"
# The last device's last rule is the only one that allows the measured flow.
python3 - "$work/dp/devices/gen-9999.yaml" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
s = s.replace("  inbound:\n", "    - to: 203.0.113.99\n      proto: tcp\n      ports: [5201, 5300]\n  inbound:\n", 1)
# The check below sends one forbidden flow: it must not isolate the device;
# and the connect loop must not meet the device's limits.
s += "violations:\n  action: alert\nlimits:\n  outbound_new_per_second: 1000000\n  concurrent_connections: 1000000\n"
open(p, "w").write(s)
PY
ip netns exec "$(lab_ns gw)" build/daemon/ringfenced --config "$work/dp/ringfence.yaml" --bus none 2>"$work/daemon.log" &
daemon=$!
for _ in $(seq 100); do grep -q "policy applied" "$work/daemon.log" && break; sleep 0.1; done
grep "policy applied" "$work/daemon.log"
in_ns dev timeout 2 socat -u - TCP:203.0.113.99:5202,bind=100.64.39.15,connect-timeout=0.5 </dev/null 2>/dev/null \
  && echo "unexpected: a port the policy does not allow passed" || echo "check: tcp/5202 from the same device is dropped"
with=$(throughput)
with_cps=$(cps)
kill -TERM "$daemon"; wait "$daemon" || true
echo "10,000 devices, last rule:       $with Gbit/s, $with_cps connections/s"
python3 -c "print('throughput, ratio to no ruleset:     %.2f' % ($with / $bare))"
python3 -c "print('throughput, ratio to conntrack only: %.2f' % ($with / $stateful))"
python3 -c "print('connections/s, ratio to no ruleset:     %.2f' % ($with_cps / $bare_cps))"
python3 -c "print('connections/s, ratio to conntrack only: %.2f' % ($with_cps / $stateful_cps))"

# The account chain (PacketsAllowed) on its own: the same ruleset loaded by
# nft -f with and without it, in alternating runs.
in_ns gw nft delete table inet ringfence
build/ctl/ringfencectl compile --config "$work/dp/ringfence.yaml" > "$work/with.nft"
python3 - "$work/with.nft" "$work/without.nft" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
open(sys.argv[2], "w").write(re.sub(r"\n\tchain account \{.*?\n\t\}\n", "\n", text, flags=re.S))
PY
acct=(); plain=()
for _ in $(seq "$runs"); do
  in_ns gw nft -f "$work/with.nft"; acct+=("$(runs=1 throughput)"); in_ns gw nft delete table inet ringfence
  in_ns gw nft -f "$work/without.nft"; plain+=("$(runs=1 throughput)"); in_ns gw nft delete table inet ringfence
done
acct_med=$(printf '%s\n' "${acct[@]}" | median); plain_med=$(printf '%s\n' "${plain[@]}" | median)
echo "nft -f, with the account chain:  $acct_med Gbit/s"
echo "nft -f, without it:              $plain_med Gbit/s"
python3 -c "print('accounting costs:               %.0f%%' % (100 * (1 - $acct_med / $plain_med)))"

lab_down
echo; echo "== the flowtable fast path (bench/flowtable.sh)"
bash bench/flowtable.sh "$work/with.nft" "$runs"

echo; echo "== containment"
bash bench/containment.sh build

echo; echo "== the bridge topology (docs/bridge.md)"
bash bench/bridge.sh build "$runs"

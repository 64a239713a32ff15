#!/usr/bin/env bash
# Violations and automatic isolation on real packets (issue "Violations and
# automatic isolation"): isolation within a second, live sessions cut,
# critical flows kept, isolation surviving a restart, automatic release,
# threshold, monitor mode, unknown hosts reported once.
# Usage: isolate_test.sh BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:?build dir}" && pwd)
source "$here/lab.sh"
lab_require_root

lab_up
lab_scratch
lab_copy_policy "$here/../data/isolate"

lab_host pump dev0 198.51.100.10 "" 02:00:00:00:00:10
lab_host ws dev0 198.51.100.50 "" 02:00:00:00:00:50
lab_host mon dev0 198.51.100.30 "" 02:00:00:00:00:30
lab_host learner dev0 198.51.100.40 "" 02:00:00:00:00:40
lab_host flood dev0 198.51.100.60 "" 02:00:00:00:00:60
lab_host srv lan0 203.0.113.20
lab_host crit lan0 203.0.113.21
lab_host other lan0 203.0.113.99
for h in srv crit other; do lab_listen "$h" tcp 443; lab_listen "$h" tcp 22; done
sleep 0.3

start_daemon() { lab_start_daemon "policy applied" 50 --config "$config" --bus none; }
stop_daemon() { lab_stop_daemon; }
isolated() { local set; set=$(in_ns gw nft list set inet ringfence isolated4); [[ $set == *"$1"* ]]; }
# Waits up to $2 seconds for device address $1 to be isolated; prints how long it took.
wait_isolated() {
  local start; start=$(date +%s%N)
  for _ in $(seq $(($2 * 50))); do
    if isolated "$1"; then echo $((($(date +%s%N) - start) / 1000000)); return 0; fi
    sleep 0.02
  done
  return 1
}
stream_lines() { wc -l < "$1" 2>/dev/null || echo 0; }

start_daemon || exit 1

echo "# before any violation"
expect_pass "pump -> srv tcp/443" lab_tcp pump 203.0.113.20 443
# A live allowed session and a live critical session, both streaming.
in_ns srv socat -u TCP4-LISTEN:2222,reuseaddr OPEN:"$work/normal",creat,append & LAB_PIDS+=($!)
in_ns crit socat -u TCP4-LISTEN:2223,reuseaddr OPEN:"$work/critical",creat,append & LAB_PIDS+=($!)
sleep 0.2
(for i in $(seq 100); do echo "tick $i"; sleep 0.1; done) | in_ns pump socat -u - TCP4:203.0.113.20:2222 & LAB_PIDS+=($!)
(for i in $(seq 100); do echo "tick $i"; sleep 0.1; done) | in_ns pump socat -u - TCP4:203.0.113.21:2223 & LAB_PIDS+=($!)
sleep 1

echo "# a forbidden connection isolates the pump"
lab_tcp pump 203.0.113.99 443
if ms=$(wait_isolated 198.51.100.10 1); then
  expect_true "pump isolated within one second (${ms} ms)" true
else
  expect_true "pump isolated within one second" false
fi
expect_true "the daemon said why" grep -q "device pump isolated by policy: 1 violation" "$daemon_log"
expect_true "the isolation is on disk" grep -q "^isolated	pump	" "$work/state/isolations"
normal_before=$(stream_lines "$work/normal"); critical_before=$(stream_lines "$work/critical")
sleep 1.5
normal_after=$(stream_lines "$work/normal"); critical_after=$(stream_lines "$work/critical")
expect_true "its established allowed session was cut ($normal_before -> $normal_after lines)" test "$normal_after" -le "$((normal_before + 1))"
expect_true "its established critical session keeps flowing ($critical_before -> $critical_after lines)" test "$critical_after" -gt "$critical_before"
expect_drop "pump -> srv tcp/443 (allowed, not critical) is now cut off" lab_tcp pump 203.0.113.20 443
expect_pass "pump -> crit tcp/443 (critical rule) still works" lab_tcp pump 203.0.113.21 443

echo "# isolation survives a restart"
stop_daemon
expect_true "after stop the pump is still isolated in the kernel" isolated 198.51.100.10
start_daemon
expect_true "after restart the pump is still isolated" isolated 198.51.100.10
expect_drop "pump still cut off after the restart" lab_tcp pump 203.0.113.20 443
expect_true "the restart said so" grep -q "device pump stays isolated" "$daemon_log"

echo "# threshold and window, then automatic release"
lab_tcp ws 203.0.113.99 22; lab_tcp ws 203.0.113.99 443
sleep 0.5
expect_drop "ws after 2 violations (threshold 3) is not isolated" isolated 198.51.100.50
expect_pass "ws still works below the threshold" lab_tcp ws 203.0.113.20 443
lab_tcp ws 203.0.113.20 22
expect_true "ws isolated at the third violation" wait_isolated 198.51.100.50 1
expect_drop "ws cut off" lab_tcp ws 203.0.113.20 443
sleep 3.5
expect_drop "ws released automatically after release: 3s" isolated 198.51.100.50
expect_pass "ws works again after the release" lab_tcp ws 203.0.113.20 443
expect_true "the release was logged" grep -q "device ws released by policy" "$daemon_log"

echo "# monitor mode"
expect_pass "mon -> other tcp/22 (forbidden) passes in monitor mode" lab_tcp mon 203.0.113.99 22
sleep 0.3
expect_true "and is reported as a violation" grep -q "violation by mon (outbound): tcp 198.51.100.30:[0-9]* -> 203.0.113.99:22, allowed (monitor mode)" "$daemon_log"
expect_drop "a monitor device is never isolated" isolated 198.51.100.30

echo "# unknown hosts are reported once"
lab_host stranger dev0 198.51.100.77 "" 02:00:00:00:00:77
expect_true "a host joining the bridge leaves the gateway's MAC as it was" \
  test "$(in_ns gw cat /sys/class/net/dev0/address)" = 02:00:00:00:fe:01
for i in 1 2 3 4 5; do lab_tcp stranger 203.0.113.20 443; done
sleep 0.3
expect_true "reported once for five attempts ($(grep -c 'unknown host 198.51.100.77' "$daemon_log") lines)" \
  test "$(grep -c 'unknown host 198.51.100.77 (MAC 02:00:00:00:00:77) on dev0' "$daemon_log")" -eq 1

echo "# learning"
lab_tcp learner 203.0.113.20 443; lab_tcp learner 203.0.113.20 443; lab_tcp learner 203.0.113.99 22
lab_tcp srv 198.51.100.40 443
sleep 0.5
expect_true "a new learned flow is saved at once" grep -q "^learner	outbound	203.0.113.99	6	22	1$" "$work/state/learned"
expect_true "monitor-mode flows are learned too" grep -q "^mon	outbound	203.0.113.99	6	22	" "$work/state/learned"
expect_drop "the learn device was not isolated" isolated 198.51.100.40

echo "# a flood: 100,000 forbidden packets, 20,000 distinct flows"
# Paced at 100,000 packets/s (20,000 new flows/s, the rate the daemon must
# absorb without loss); scripts/bench.sh measures faster rates.
in_ns flood python3 - <<'PY'
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
start, sent = time.perf_counter(), 0
for round in range(5):          # every flow 5 times: retransmissions count once
    for port in range(1, 20001):
        s.sendto(b"x", ("203.0.113.99", port))
        sent += 1
        if sent % 500 == 0:
            ahead = start + sent / 100000 - time.perf_counter()
            if ahead > 0: time.sleep(ahead)
PY
# The daemon stays responsive after the flood: a reload is handled at once.
reloads=$(grep -c "policy reloaded" "$daemon_log")
kill -HUP "$DAEMON"
expect_true "after the flood the daemon still answers at once (a reload within 2 s)" \
  lab_wait_more "$daemon_log" "policy reloaded" "$reloads" 20
expect_pass "after the flood the isolated pump's critical flow still opens at once" lab_tcp pump 203.0.113.21 443
echo "# conntrack events are subscribed only while a device is observed"
# With a listener the kernel builds an event for every new connection: a
# netfilter netlink socket of the gateway's namespace in group 1 (NEW).
ct_listeners() {
  local n=0 sk eth pid groups rest
  while read -r sk eth pid groups rest; do
    [[ $eth == 12 ]] && (( 0x$groups & 1 )) && n=$((n + 1))
  done < <(in_ns gw cat /proc/net/netlink)
  echo "$n"
}
expect_true "with learn and monitor devices the daemon listens ($(ct_listeners) listeners)" test "$(ct_listeners)" -eq 1
cp "$work/etc/profiles/learner.yaml" "$work/learner.yaml"; cp "$work/etc/profiles/mon.yaml" "$work/mon.yaml"
sed -i 's/^mode: .*/mode: enforce/' "$work/etc/profiles/learner.yaml" "$work/etc/profiles/mon.yaml"
expect_true "reload applied" lab_reload_daemon
expect_true "with every device enforced nobody listens ($(ct_listeners) listeners)" test "$(ct_listeners)" -eq 0
cp "$work/learner.yaml" "$work/mon.yaml" "$work/etc/profiles/"
expect_true "reload applied" lab_reload_daemon
expect_true "learn mode back: the daemon listens again ($(ct_listeners) listeners)" test "$(ct_listeners)" -eq 1
lab_tcp learner 203.0.113.20 22
sleep 0.5
expect_true "and a new flow is learned" grep -q "^learner	outbound	203.0.113.20	6	22	1$" "$work/state/learned"
sleep 2
stop_daemon
expect_true "stopping saved the learned counts" grep -q "^learner	outbound	203.0.113.20	6	443	2$" "$work/state/learned"
summary=$(grep "violations since start" "$daemon_log" | tail -1)
expect_true "the flood's violations were counted exactly: ${summary##*flood=}" sh -c "echo '$summary' | grep -q ' flood=20000\b'"
expect_true "the flood did not flood the log ($(grep -c 'violation by flood' "$daemon_log") lines)" \
  test "$(grep -c 'violation by flood' "$daemon_log")" -lt 200
expect_true "no events were lost" sh -c "! grep -q 'events-lost' '$daemon_log'"

lab_summary

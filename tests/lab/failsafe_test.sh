#!/usr/bin/env bash
# Fail closed at start (docs/failsafe.md), on real packets: a rebooted gateway
# (no table in the kernel) whose policy is refused enforces the last good
# policy with every isolation; with none saved it applies the failsafe
# (nothing to or from device interfaces; nothing at all when the
# configuration itself is broken); the daemon keeps running and serving
# D-Bus, and a fixed policy on SIGHUP is applied. A kill -9 in failsafe
# leaves the table in force.
# Usage: failsafe_test.sh BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:?build dir}" && pwd)
source "$here/lab.sh"
lab_require_root

work=$(mktemp -d)
chmod 755 "$work"
daemon_log="$work/ringfenced.log"
DAEMON=
cleanup() {
  [[ -n $DAEMON ]] && kill -9 "$DAEMON" 2>/dev/null
  lab_log_on_failure "${daemon_log:-}"
  lab_down; rm -rf "$work"
}
lab_up
trap cleanup EXIT

# The good policy: the isolation lab's, with dev0 alone facing devices, so
# that dev1 stands for a network the failsafe leaves alone.
cp -r "$here/../data/isolate" "$work/good"
sed -i 's/^device_interfaces: .*/device_interfaces: [dev0]/' "$work/good/ringfence.yaml"
echo "state_dir: $work/state" >> "$work/good/ringfence.yaml"
etc="$work/etc"
config="$etc/ringfence.yaml"
use_good_policy() { rm -rf "$etc"; cp -r "$work/good" "$etc"; }
use_good_policy

bus="unix:path=$work/bus"
dbus-daemon --config-file="$here/../data/dbus/test-bus.conf" --address="$bus" --nofork --nopidfile &
LAB_PIDS+=($!)
for _ in $(seq 50); do [[ -S $work/bus ]] && break; sleep 0.1; done

lab_host pump dev0 198.51.100.10 "" 02:00:00:00:00:10
lab_host ws dev0 198.51.100.50 "" 02:00:00:00:00:50
lab_host stranger dev0 198.51.100.99 "" 02:00:00:00:00:99
lab_host office dev1 198.51.100.130
lab_host srv lan0 203.0.113.20
lab_host other lan0 203.0.113.99
for h in srv other office; do lab_listen "$h" tcp 443; done
lab_listen pump tcp 8080
lab_listen gw tcp 2222   # a service of the gateway itself
sleep 0.3

M=(io.ringfence.Gateway1 /io/ringfence/Gateway1 io.ringfence.Gateway1.Manager)
prop() { busctl --address="$bus" get-property "${M[@]}" "$1" 2>&1; }
is() { [[ "$("${@:2}" 2>&1)" == "$1" ]]; }
has() { local out; out=$("${@:2}" 2>&1); grep -q -- "$1" <<<"$out"; }
ctl() { "$build/ctl/ringfencectl" --bus "$bus" "$@"; }
running() { kill -0 "$DAEMON" 2>/dev/null; }

# start_daemon [ARGS...]: waits until the daemon serves the bus (after READY).
START_WAIT=100  # tenths of a second
start_daemon() {
  : > "$daemon_log"
  ip netns exec "$(lab_ns gw)" "$build/daemon/ringfenced" --config "$config" --bus "$bus" "$@" \
    >>"$daemon_log" 2>&1 &
  DAEMON=$!
  for _ in $(seq "$START_WAIT"); do
    busctl --address="$bus" status io.ringfence.Gateway1 >/dev/null 2>&1 && return 0
    running || break
    sleep 0.1
  done
  echo "# daemon did not come up"; return 1
}
stop_daemon() { kill -TERM "$DAEMON" 2>/dev/null; wait "$DAEMON" 2>/dev/null; DAEMON=; }
table_present() { in_ns gw nft list table inet ringfence >/dev/null 2>&1; }
isolated() { local set; set=$(in_ns gw nft list set inet ringfence isolated4 2>&1); [[ $set == *"$1"* ]]; }

echo "# an unfiltered gateway forwards everything (what the checks below must stop)"
expect_pass "no table: LAN -> device tcp/8080" lab_tcp srv 198.51.100.10 8080
expect_pass "no table: device -> LAN tcp/443" lab_tcp ws 203.0.113.99 443
expect_pass "no table: unknown host -> LAN" lab_tcp stranger 203.0.113.20 443
expect_pass "no table: ping device -> LAN" lab_ping pump 203.0.113.20
expect_pass "no table: ping LAN -> device" lab_ping srv 198.51.100.10
expect_pass "no table: LAN -> other network" lab_tcp srv 198.51.100.130 443

echo "# a good run saves the last good policy; a device is isolated"
start_daemon || exit 1
expect_true "PolicyState current" is 's "current"' prop PolicyState
expect_true "PolicyErrors empty" is 'as 0' prop PolicyErrors
expect_true "the last good policy is saved" test -s "$work/state/last-good-policy"
expect_pass "allowed flow passes" lab_tcp ws 203.0.113.20 443
lab_tcp pump 203.0.113.99 443  # a violation: the pump is isolated (threshold 1)
for _ in $(seq 50); do isolated 198.51.100.10 && break; sleep 0.1; done
expect_true "pump isolated" isolated 198.51.100.10
expect_true "the isolation is on disk" grep -q "^isolated	pump	" "$work/state/isolations"

echo "# a start the kernel refuses keeps the last good policy it had, whole"
# A second daemon on the same gateway: the running one owns the table, so the
# kernel refuses the second's policy, its last good policy and its failsafe.
# Its last good policy is written while the kernel is asked, and must not
# replace the one saved.
cp -r "$work/state" "$work/state-b"
cp "$work/state-b/last-good-policy" "$work/last-good-before"
timeout 60 ip netns exec "$(lab_ns gw)" "$build/daemon/ringfenced" --config "$config" --bus none \
  --state-dir "$work/state-b" >"$work/second.log" 2>&1
second_rc=$?
expect_true "[refused start] the second daemon exits non-zero" test "$second_rc" -ne 0
expect_true "[refused start] it says the kernel refused the policy" \
  grep -q "the kernel refused the policy" "$work/second.log"
expect_true "[refused start] its last good policy is the one saved before" \
  cmp -s "$work/last-good-before" "$work/state-b/last-good-policy"
expect_true "[refused start] no temporary file is left" test ! -e "$work/state-b/last-good-policy.tmp"
expect_true "[refused start] the running daemon is still up" running
expect_pass "[refused start] the running policy stays in force: allowed flow" lab_tcp ws 203.0.113.20 443
expect_drop "[refused start] forbidden flow dropped" lab_tcp ws 203.0.113.99 443
expect_drop "[refused start] the isolated pump stays cut off" lab_tcp pump 203.0.113.20 443

echo "# a refused reload: the running policy is now the last good one"
echo "tyop: 1" >> "$etc/profiles/ws.yaml"
kill -HUP "$DAEMON"; sleep 1
expect_true "PolicyState last-good after a refused reload" is 's "last-good"' prop PolicyState
expect_true "PolicyErrors names the file" has 'ws.yaml:' prop PolicyErrors
expect_pass "the running policy stays in force" lab_tcp ws 203.0.113.20 443
use_good_policy
kill -HUP "$DAEMON"; sleep 1
expect_true "PolicyState current after a fixed reload" is 's "current"' prop PolicyState
expect_true "PolicyErrors empty again" is 'as 0' prop PolicyErrors
echo "# a reload says what it changed; a lost guard is a warning"
sed -i '/^  mac:/d' "$etc/profiles/pump.yaml"
expect_true "Reload's reply names the lost MAC binding" \
  has "warning: device .*pump.*: MAC binding removed" busctl --address="$bus" call "${M[@]}" Reload
expect_true "the log says it as a warning" grep -q "warning: device 'pump': MAC binding removed.*event=policy-change" "$daemon_log"
use_good_policy
kill -HUP "$DAEMON"; sleep 1
stop_daemon

# break_policy CASE: each way a policy on disk can be refused.
break_policy() {
  use_good_policy
  case $1 in
    typo) echo "alow: {}" >> "$etc/profiles/ws.yaml" ;;
    nodir) rm -rf "$etc/profiles" ;;
    utf8) printf 'description: "caf\xe9"\n' >> "$etc/profiles/ws.yaml" ;;  # not UTF-8: unreadable
    config) echo "unknown_device: drop" >> "$config" ;;  # a typo; state_dir still reads
    syntax) echo "device_interfaces: [dev0" >> "$config" ;;  # not YAML: state_dir from --state-dir
  esac
}

for case in typo nodir utf8 config syntax; do
  echo "# rebooted gateway, policy refused ($case), last good policy saved"
  break_policy "$case"
  extra=(); [[ $case == syntax ]] && extra=(--state-dir "$work/state")
  expect_true "[$case] no table after the reboot" lab_reboot_gateway
  start_daemon "${extra[@]}" || { LAB_FAILED=$((LAB_FAILED + 1)); continue; }
  expect_true "[$case] the daemon keeps running" running
  expect_true "[$case] the log says last-good" grep -q "policy state last-good" "$daemon_log"
  expect_true "[$case] PolicyState last-good" is 's "last-good"' prop PolicyState
  expect_drop "[$case] PolicyErrors is not empty" is 'as 0' prop PolicyErrors
  expect_pass "[$case] allowed flow passes" lab_tcp ws 203.0.113.20 443
  expect_drop "[$case] forbidden flow dropped" lab_tcp ws 203.0.113.99 443
  expect_drop "[$case] unknown host dropped" lab_tcp stranger 203.0.113.20 443
  expect_drop "[$case] device isolated before the reboot stays cut off" lab_tcp pump 203.0.113.20 443
  if [[ $case == typo ]]; then
    expect_true "[$case] status says LAST-GOOD" has "LAST-GOOD" ctl status
    expect_true "[$case] status lists the error" has "ws.yaml:.*alow" ctl status
    expect_true "[$case] status --json" has '"policy_state":"last-good"' ctl --json status
  fi
  stop_daemon
done

echo "# a FIFO among the profiles is skipped with a warning, never waited for"
use_good_policy
mkfifo "$etc/profiles/x.yaml"
lab_reboot_gateway
start_daemon && {
  expect_true "[fifo] PolicyState current (the FIFO is not a profile)" is 's "current"' prop PolicyState
  expect_true "[fifo] the log names it" grep -q "x.yaml" "$daemon_log"
  kill -HUP "$DAEMON"; sleep 1
  expect_true "[fifo] a reload does not hang either" is 's "current"' prop PolicyState
  stop_daemon
}

echo "# no last good policy: the failsafe"
use_good_policy
sed -i "s|^state_dir: .*|state_dir: $work/state2|" "$work/good/ringfence.yaml"
# failsafe_checks WHAT: nothing through device interfaces, either way.
failsafe_checks() {
  expect_true "[$1] the daemon keeps running" running
  expect_true "[$1] PolicyState failsafe" is 's "failsafe"' prop PolicyState
  expect_true "[$1] the log says failsafe" grep -q "policy state failsafe" "$daemon_log"
  expect_drop "[$1] device -> LAN tcp (allowed by the policy)" lab_tcp ws 203.0.113.20 443
  expect_drop "[$1] device -> LAN tcp" lab_tcp ws 203.0.113.99 443
  expect_drop "[$1] LAN -> device tcp" lab_tcp srv 198.51.100.10 8080
  expect_drop "[$1] ping device -> LAN" lab_ping pump 203.0.113.20
  expect_drop "[$1] ping LAN -> device" lab_ping srv 198.51.100.10
  expect_drop "[$1] unknown host -> LAN" lab_tcp stranger 203.0.113.20 443
}
break_policy typo
expect_true "[failsafe] no table after the reboot" lab_reboot_gateway
start_daemon && {
  failsafe_checks failsafe
  expect_pass "[failsafe] a network that faces no device is left alone" lab_tcp srv 198.51.100.130 443
  expect_true "[failsafe] status says FAILSAFE" has "FAILSAFE" ctl status
  expect_true "[failsafe] D-Bus lists no device" is 'a(sssto) 0' busctl --address="$bus" call "${M[@]}" ListDevices
  expect_drop "[failsafe] Isolate of an unknown device fails" busctl --address="$bus" call "${M[@]}" Isolate ss ws test
  expect_true "[failsafe] and the daemon still answers" is 's "failsafe"' prop PolicyState
  expect_true "[failsafe] the failsafe logs what it drops" has 'prefix "ringfence failsafe "' in_ns gw nft list table inet ringfence
  expect_drop "[failsafe] device -> the gateway's own tcp/2222 on dev0" lab_tcp ws 198.51.100.1 2222
  expect_drop "[failsafe] unknown host -> the gateway's own tcp/2222" lab_tcp stranger 198.51.100.1 2222
  expect_pass "[failsafe] the LAN still reaches the gateway's tcp/2222" lab_tcp srv 203.0.113.1 2222
  echo "# the policy fixed, SIGHUP"
  use_good_policy
  kill -HUP "$DAEMON"; sleep 1
  expect_true "[fixed] PolicyState current" is 's "current"' prop PolicyState
  expect_pass "[fixed] allowed flow passes again" lab_tcp ws 203.0.113.20 443
  expect_drop "[fixed] forbidden flow dropped" lab_tcp ws 203.0.113.99 443
  expect_true "[fixed] the fixed policy is saved as the last good one" test -s "$work/state2/last-good-policy"
  stop_daemon
}

echo "# no last good policy and the configuration broken too: nothing is forwarded"
break_policy syntax
rm -rf "$work/state2"
expect_true "[config] no table after the reboot" lab_reboot_gateway
start_daemon --state-dir "$work/state2" && {
  failsafe_checks config
  expect_drop "[config] LAN -> other network dropped too" lab_tcp srv 198.51.100.130 443
  expect_drop "[config] other network -> LAN dropped too" lab_tcp office 203.0.113.20 443
  expect_pass "[config] the gateway's own services are left alone: the admin can fix it" \
    lab_tcp ws 198.51.100.1 2222
  echo "# kill -9 in failsafe"
  kill -9 "$DAEMON"; wait "$DAEMON" 2>/dev/null; DAEMON=
  expect_true "[killed] the table stays" table_present
  expect_drop "[killed] device -> LAN" lab_tcp ws 203.0.113.20 443
  expect_drop "[killed] LAN -> device" lab_tcp srv 198.51.100.10 8080
  expect_drop "[killed] other networks" lab_tcp srv 198.51.100.130 443
}

echo "# a reload reads and compiles off the event loop: isolation does not wait for it"
use_good_policy
sed -i "s|^state_dir: .*|state_dir: $work/state3|" "$config"
python3 - "$etc/profiles" <<'PY'
import sys
peers = ", ".join(f"203.0.113.{j}" for j in range(100, 140))
for i in range(3000):
    with open(f"{sys.argv[1]}/gen{i:05}.yaml", "w") as f:
        f.write(f"device: gen{i:05}\nidentity:\n  addresses: [10.{i // 250}.{i % 250 + 1}.1]\n"
                f"allow:\n  outbound:\n    - to: [{peers}]\n      proto: tcp\n"
                f"      ports: [443, 8443, \"9000-9010\"]\n")
PY
lab_reboot_gateway
START_WAIT=1200
start_daemon && {
  START_WAIT=100
  expect_true "[big] PolicyState current" is 's "current"' prop PolicyState
  # Every profile's text changes, so the reload reads and parses all 3,000
  # again (hundreds of ms on the worker); the forbidden packet goes out
  # while it runs.
  for f in "$etc"/profiles/gen*.yaml; do echo "# edited" >> "$f"; done
  busctl --address="$bus" --timeout=120 call "${M[@]}" Reload > "$work/reload-reply" 2>&1 &
  reload_call=$!
  kill -HUP "$DAEMON"
  sleep 0.05
  lab_tcp pump 203.0.113.99 443  # forbidden: isolates the pump (threshold 1)
  isolated_in_time=false
  for _ in $(seq 50); do isolated 198.51.100.10 && { isolated_in_time=true; break; }; sleep 0.02; done
  expect_true "[big] pump isolated within 1 s during the reload" $isolated_in_time
  expect_true "[big] D-Bus answers during the reload" is 's "current"' prop PolicyState
  wait "$reload_call"
  expect_true "[big] the D-Bus Reload is answered when it is done" grep -q "^tas [0-9]" "$work/reload-reply"
  for _ in $(seq 600); do [[ $(grep -c "policy reloaded" "$daemon_log") -ge 2 ]] && break; sleep 0.1; done
  iso_line=$(grep -n "device pump isolated" "$daemon_log" | head -1 | cut -d: -f1)
  done_line=$(grep -n "policy reloaded" "$daemon_log" | head -1 | cut -d: -f1)
  expect_true "[big] the isolation came before the reload was done" test "${iso_line:-999999}" -lt "${done_line:-0}"
  expect_true "[big] the second request was served by one more reload" \
    test "$(grep -c "policy reloaded" "$daemon_log")" -eq 2
  expect_true "[big] the pump stays isolated after the reloads" isolated 198.51.100.10
  stop_daemon
}
START_WAIT=100

echo "# a FIFO as groups.yaml: a reload is refused at once, never waited for"
use_good_policy
echo "groups: $etc/groups.yaml" >> "$config"
lab_reboot_gateway
start_daemon && {
  ws_was_isolated=false; isolated 198.51.100.50 && ws_was_isolated=true
  expect_drop "[fifo groups] ws is free before the wedge attempt" $ws_was_isolated
  mkfifo "$etc/groups.yaml"
  kill -HUP "$DAEMON"
  sleep 0.2
  expect_true "[fifo groups] D-Bus answers within 1 s of the SIGHUP" \
    is 's "last-good"' busctl --address="$bus" --timeout=1 get-property "${M[@]}" PolicyState
  expect_true "[fifo groups] the refusal names the FIFO" has "groups.yaml.*not a regular file" prop PolicyErrors
  # ws isolates at its third violation: three forbidden flows, then at most 1 s.
  for port in 22 23 25; do lab_tcp ws 203.0.113.99 "$port"; done
  isolated_in_time=false
  for _ in $(seq 50); do isolated 198.51.100.50 && { isolated_in_time=true; break; }; sleep 0.02; done
  expect_true "[fifo groups] a violating device is isolated within 1 s" $isolated_in_time
  ctl release ws --reason "end of the FIFO check" >/dev/null 2>&1
  rm -f "$etc/groups.yaml"
  stop_daemon
}

echo "# --check still refuses, without touching the kernel"
break_policy typo
lab_reboot_gateway
expect_drop "--check exits 1 on a refused policy" \
  ip netns exec "$(lab_ns gw)" "$build/daemon/ringfenced" --config "$config" --check
expect_drop "--check applied nothing" table_present
lab_summary

#!/usr/bin/env bash
# Instant isolation (docs/ruleset.md): a threshold-1 device is isolated by
# the kernel itself at its first forbidden packet, with the daemon dead; its
# next packet is dropped; critical flows still pass; forged packets in its
# name and devices with a higher threshold or in monitor mode are not
# isolated; the restarted daemon takes the isolation over (saved, MAC added,
# live flows cut). With the daemon alive it completes the isolation from
# the log message as before.
# Usage: instant_isolation_test.sh BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:?build dir}" && pwd)
source "$here/lab.sh"
lab_require_root
lab_require_scapy

lab_up
lab_scratch
lab_copy_policy "$here/../data/instant"

lab_host pump dev0 198.51.100.10 "" 02:00:00:00:00:10
lab_host pump2 dev0 198.51.100.11 "" 02:00:00:00:00:11
lab_host pump3 dev0 198.51.100.12 "" 02:00:00:00:00:12
lab_host ws dev0 198.51.100.50 "" 02:00:00:00:00:50
lab_host mon dev0 198.51.100.30 "" 02:00:00:00:00:30
lab_host rogue dev0 198.51.100.77 "" 02:00:00:00:00:77
lab_host srv lan0 203.0.113.20
lab_host crit lan0 203.0.113.21
lab_host other lan0 203.0.113.99
for h in srv crit other; do lab_listen "$h" tcp 443; lab_listen "$h" tcp 22; done
sleep 0.3

start_daemon() { lab_start_daemon "in force" 100 --config "$config" --bus none; }
isolated() { [[ $(in_ns gw nft list set inet ringfence isolated4) == *"$1"* ]]; }
in_instant() { [[ $(in_ns gw nft list set inet ringfence instant4) == *"$1"* ]]; }
# One SYN from NAME to ADDR:PORT, crafted (scapy), with source SRC if given.
syn() { in_ns "$1" /usr/bin/python3 -c "import random; from scapy.all import *
conf.verb = 0
send(IP(${4:+src='$4', }dst='$2')/TCP(sport=random.randint(40000, 60000), dport=$3, flags='S'))"; }
stream_lines() { wc -l < "$1" 2>/dev/null || echo 0; }

start_daemon || exit 1
echo "# which devices the kernel isolates itself"
expect_true "pump (threshold 1) is in instant4" in_instant 198.51.100.10
expect_true "pump2 (default threshold, 1) is in instant4" in_instant 198.51.100.11
expect_true "pump3 too" in_instant 198.51.100.12
expect_drop "ws (threshold 3) is not" in_instant 198.51.100.50
expect_drop "mon (monitor mode) is not" in_instant 198.51.100.30

# A live allowed session and a live critical session of the pump, streaming.
in_ns srv socat -u TCP4-LISTEN:2222,reuseaddr OPEN:"$work/normal",creat,append & LAB_PIDS+=($!)
in_ns crit socat -u TCP4-LISTEN:2223,reuseaddr OPEN:"$work/critical",creat,append & LAB_PIDS+=($!)
sleep 0.2
(for i in $(seq 150); do echo "tick $i"; sleep 0.1; done) | in_ns pump socat -u - TCP4:203.0.113.20:2222 & LAB_PIDS+=($!)
(for i in $(seq 150); do echo "tick $i"; sleep 0.1; done) | in_ns pump socat -u - TCP4:203.0.113.21:2223 & LAB_PIDS+=($!)
sleep 1

echo "# the daemon is killed; the kernel alone isolates"
kill -9 "$DAEMON"; wait "$DAEMON" 2>/dev/null
expect_true "the table stays in force without the daemon" in_ns gw nft list table inet ringfence
expect_pass "pump -> srv tcp/443 passes before the forbidden packet" lab_tcp pump 203.0.113.20 443
syn pump 203.0.113.99 22
expect_true "one forbidden SYN put the pump into isolated4, no daemon running" isolated 198.51.100.10
expect_drop "the pump's next connection, an allowed one, is dropped" lab_tcp pump 203.0.113.20 443
expect_pass "its critical flows still open" lab_tcp pump 203.0.113.21 443

syn rogue 203.0.113.99 22 198.51.100.11
syn other 198.51.100.10 22 198.51.100.11
expect_drop "a forged packet with pump2's address (another MAC, or the LAN side) isolates nobody" isolated 198.51.100.11
expect_pass "pump2 still connects" lab_tcp pump2 203.0.113.20 443
for _ in 1 2; do syn ws 203.0.113.99 22; done
expect_drop "ws (threshold 3) is not isolated by the kernel" isolated 198.51.100.50
syn mon 203.0.113.99 22
expect_drop "mon (monitor mode) is not isolated" isolated 198.51.100.30
expect_pass "mon's forbidden connection passes (monitor mode)" lab_tcp mon 203.0.113.99 443

echo "# the daemon comes back and takes the isolation over"
normal_before=$(stream_lines "$work/normal")
start_daemon || exit 1
for _ in $(seq 50); do grep -q "^isolated	pump	" "$work/state/isolations" 2>/dev/null && break; sleep 0.1; done
expect_true "it says so" grep -q "address 198.51.100.10 was isolated in the kernel table but is not in" "$daemon_log"
expect_true "the isolation is saved" grep -q "^isolated	pump	" "$work/state/isolations"
expect_true "the pump's MAC is isolated too" sh -c "ip netns exec $(lab_ns gw) nft list set inet ringfence isolated_mac | grep -q 02:00:00:00:00:10"
sleep 1.5
normal_mid=$(stream_lines "$work/normal"); critical_mid=$(stream_lines "$work/critical")
sleep 1.5
expect_true "the live allowed session was cut ($normal_before, $normal_mid -> $(stream_lines "$work/normal") lines)" \
  test "$(stream_lines "$work/normal")" -eq "$normal_mid"
expect_true "the critical session keeps flowing ($critical_mid -> $(stream_lines "$work/critical") lines)" \
  test "$(stream_lines "$work/critical")" -gt "$critical_mid"
expect_drop "the pump stays cut off" lab_tcp pump 203.0.113.20 443

echo "# with the daemon alive, the kernel isolates and the daemon completes it"
syn pump2 203.0.113.99 22
expect_true "pump2 isolated at its first forbidden packet" isolated 198.51.100.11
for _ in $(seq 50); do grep -q "device pump2 isolated by policy" "$daemon_log" && break; sleep 0.1; done
expect_true "the daemon isolated pump2 from the log message" grep -q "device pump2 isolated by policy: 1 violation" "$daemon_log"
expect_drop "no takeover was needed" grep -q "of pump2 was isolated by the kernel" "$daemon_log"
expect_true "pump2's MAC is isolated too" sh -c "ip netns exec $(lab_ns gw) nft list set inet ringfence isolated_mac | grep -q 02:00:00:00:00:11"
expect_true "pump2's isolation is saved" grep -q "^isolated	pump2	" "$work/state/isolations"

echo "# the report of an instant isolation is lost: the daemon takes it over"
kill -STOP "$DAEMON"
# ws's forbidden SYNs fill the daemon's NFLOG buffer (16 MiB) while it is stopped.
in_ns ws timeout 3 hping3 -q -S -p 22 --flood 203.0.113.99 >/dev/null 2>&1
syn pump3 203.0.113.99 22
expect_true "pump3 isolated by the kernel while the daemon is stopped" isolated 198.51.100.12
kill -CONT "$DAEMON"
# The takeover may come from the periodic comparison before the queued
# messages are read and the loss is reported: wait for each.
for _ in $(seq 100); do grep -q "of pump3 was isolated by the kernel" "$daemon_log" && break; sleep 0.1; done
for _ in $(seq 100); do grep -q "event=events-lost" "$daemon_log" && break; sleep 0.1; done
expect_true "the daemon saw that reports were lost" grep -q "event=events-lost" "$daemon_log"
expect_true "and took pump3's isolation over" grep -q "address 198.51.100.12 of pump3 was isolated by the kernel at a forbidden packet the daemon had not recorded" "$daemon_log"
for _ in $(seq 50); do grep -q "^isolated	pump3	" "$work/state/isolations" && break; sleep 0.1; done
expect_true "pump3's isolation is saved" grep -q "^isolated	pump3	" "$work/state/isolations"
expect_true "pump3's MAC is isolated too" sh -c "ip netns exec $(lab_ns gw) nft list set inet ringfence isolated_mac | grep -q 02:00:00:00:00:12"

kill -TERM "$DAEMON"; wait "$DAEMON" 2>/dev/null
lab_summary

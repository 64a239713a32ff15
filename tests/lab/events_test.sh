#!/usr/bin/env bash
# The events stream carries every event the log has, and --json follows one
# style: `ringfencectl events --json` follows a running daemon on a private
# bus while real packets cause each kind of event (a violation and the
# isolation it brings, a monitor-mode report, an alert, a probe, spoofing, an
# unknown host, a maintenance window opening and closing, a refused and an
# applied reload, a release); every line is checked against docs/json.md, as
# are status, list, show, reload and error documents. `events` with no daemon
# says so at once.
# Usage: events_test.sh BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:?build dir}" && pwd)
source "$here/lab.sh"
lab_require_root
lab_require_scapy
lab_up
lab_scratch
doc="$here/../../docs/json.md"
shape() { /usr/bin/python3 "$here/json_shape.py" "$doc" "$@"; }
ctlbin="$build/ctl/ringfencectl"

cp -r "$here/../data/isolate" "$work/etc"
printf 'state_dir: %s/state\n' "$work" >> "$work/etc/ringfence.yaml"
bus="unix:path=$work/bus"
dbus-daemon --config-file="$here/../data/dbus/test-bus.conf" --address="$bus" --nofork --nopidfile &
LAB_PIDS+=($!)
for _ in $(seq 50); do [[ -S $work/bus ]] && break; sleep 0.1; done
ctl() { "$ctlbin" --bus "$bus" "$@"; }

echo "# no daemon yet: events and status say so at once"
t0=$(date +%s%N)
ctl events > "$work/none.out" 2> "$work/none.err"; rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
expect_true "events with no daemon: exit 3" test "$rc" -eq 3
expect_true "... within 2 s (took ${ms} ms)" test "$ms" -lt 2000
expect_true "... saying the daemon cannot be reached" grep -q "cannot reach the daemon" "$work/none.err"
ctl --json events > "$work/none.json" 2>&1
expect_true "events --json with no daemon: an error document" shape error < "$work/none.json"
expect_true "status --json with no daemon: an error document, nothing on stderr" \
  sh -c "'$ctlbin' --bus '$bus' --json status 2>'$work/status.err' | /usr/bin/python3 '$here/json_shape.py' '$doc' error && ! test -s '$work/status.err'"

lab_host pump dev0 198.51.100.10 "" 02:00:00:00:00:10
lab_host mon dev0 198.51.100.30 "" 02:00:00:00:00:30
lab_host vendorbox dev0 198.51.100.70 "" 02:00:00:00:00:70
lab_host ws dev0 198.51.100.50 "" 02:00:00:00:00:50
lab_host srv lan0 203.0.113.20
lab_host other lan0 203.0.113.99
for p in 443 8443; do lab_listen other tcp "$p"; done
lab_listen srv tcp 443
lab_listen ws tcp 22

ip netns exec "$(lab_ns gw)" "$build/daemon/ringfenced" --config "$work/etc/ringfence.yaml" --bus "$bus" >>"$daemon_log" 2>&1 &
daemon=$!
for _ in $(seq 50); do busctl --address="$bus" status io.ringfence.Gateway1 >/dev/null 2>&1 && break; sleep 0.1; done

ctl --json events > "$work/events.json" 2>&1 &
LAB_PIDS+=($!)
ctl events > "$work/events.txt" 2>&1 &
LAB_PIDS+=($!)
sleep 0.5

echo "# causing each kind of event on real packets"
lab_host rogue dev0 198.51.100.11 "" 02:00:00:00:00:66
expect_drop "an unknown host on dev0" lab_tcp rogue 203.0.113.20 443
expect_true "scapy: SYNs with the pump's address from another MAC (spoofing)" \
  in_ns rogue /usr/bin/python3 -c "from scapy.all import *
conf.verb = 0
send([IP(src='198.51.100.10', dst='203.0.113.20')/TCP(sport=47000 + i, dport=443, flags='S') for i in range(3)])"
lab_remove_host rogue
expect_drop "pump -> other tcp/443: forbidden (threshold 1: isolates)" lab_tcp pump 203.0.113.99 443
expect_pass "mon -> other tcp/443: monitor mode passes it" lab_tcp mon 203.0.113.99 443
expect_drop "vendorbox -> other tcp/443: forbidden, action alert" lab_tcp vendorbox 203.0.113.99 443
expect_drop "other -> ws tcp/22: a probe from the LAN" lab_tcp other 198.51.100.50 22
expect_true "maintain vendorbox --for 1m" ctl maintain vendorbox --for 1m --reason "firmware update"
expect_true "maintain vendorbox --stop" ctl maintain vendorbox --stop
printf 'device: broken\nidentity:\n  addresses: [198.51.100.99/24]\n' > "$work/etc/profiles/broken.yaml"
ctl --json reload > "$work/refused.json" 2>"$work/refused.err"; rc=$?
expect_true "a refused reload --json: exit 1" test "$rc" -eq 1
expect_true "... an error document" shape error < "$work/refused.json"
expect_true "... whose details name the file and line" grep -q 'broken.yaml:3:' "$work/refused.json"
expect_true "... nothing on stderr" test ! -s "$work/refused.err"
rm "$work/etc/profiles/broken.yaml"
ctl --json reload > "$work/reload.json"
expect_true "reload --json: its document" shape reload < "$work/reload.json"

echo "# the JSON documents"
ctl --json status > "$work/status.json"
expect_true "status --json matches docs/json.md" shape status < "$work/status.json"
expect_true "status --json: numbers are numbers" grep -q '"isolated_count":1' "$work/status.json"
ctl --json list > "$work/list.json"
expect_true "list --json matches docs/json.md" shape list < "$work/list.json"
ctl --json show pump > "$work/show.json"
expect_true "show --json matches docs/json.md" shape show < "$work/show.json"
expect_true "show --json: the violation count is a number" grep -q '"violations":1,' "$work/show.json"
expect_true "show --json: isolated_since is an RFC 3339 UTC time" grep -Eq '"isolated_since":"[0-9-]{10}T[0-9:.]{12}Z"' "$work/show.json"
ctl --json show ws > "$work/show-ws.json"
expect_true "show --json of a device never isolated: null times" grep -q '"isolated_since":null' "$work/show-ws.json"
expect_true "show --json of an unknown device: exit 5, an error document" \
  sh -c "'$ctlbin' --bus '$bus' --json show nosuch > '$work/nosuch.json'; test \$? -eq 5 && /usr/bin/python3 '$here/json_shape.py' '$doc' error < '$work/nosuch.json'"
expect_true "release pump" ctl release pump --reason "checked by biomed"
sleep 0.5

echo "# the events stream"
has_event() { grep -q "$1" "$work/events.json"; }
expect_true "Violation (dropped) of pump" has_event '"event":"Violation","device":"pump".*"verdict":"dropped"'
expect_true "Violation (allowed, monitor mode) of mon" has_event '"event":"Violation","device":"mon".*"verdict":"allowed"'
expect_true "DeviceIsolated of pump by policy" has_event '"event":"DeviceIsolated","device":"pump".*"by":"policy"'
expect_true "the alert of vendorbox" has_event '"kind":"alert","severity":"warning","device":"vendorbox"'
expect_true "Probe of ws from the LAN" has_event '"event":"Probe","device":"ws","src":"203.0.113.99"'
expect_true "spoofing of the pump's address" has_event '"kind":"spoofing","severity":"warning","device":"pump"'
expect_true "UnknownHost 198.51.100.11" has_event '"event":"UnknownHost","address":"198.51.100.11"'
expect_true "maintenance-started of vendorbox" has_event '"kind":"maintenance-started","severity":"warning","device":"vendorbox"'
expect_true "maintenance-stopped of vendorbox" has_event '"kind":"maintenance-stopped".*"device":"vendorbox"'
expect_true "the refused reload (policy-refused)" has_event '"kind":"policy-refused"'
expect_true "PolicyReloaded" has_event '"event":"PolicyReloaded","generation":2'
expect_true "DeviceReleased of pump" has_event '"event":"DeviceReleased","device":"pump"'
expect_true "a logged event with its own signal is not printed twice" \
  sh -c "! grep -q '\"kind\":\"violation\"' '$work/events.json'"
expect_true "every line matches docs/json.md" shape events < "$work/events.json"
expect_true "the text stream has the isolation" grep -Eq '^[0-9-]{10}T[0-9:]{8}[+-][0-9]{2}:[0-9]{2} DeviceIsolated pump by policy' "$work/events.txt"
expect_true "the text stream has the alert" grep -q ' alert warning vendorbox: ' "$work/events.txt"

echo "# the daemon going away is told"
kill -TERM "$daemon"; wait "$daemon"
sleep 0.5
expect_true "DaemonStopped" has_event '"event":"DaemonStopped"'
if [[ $LAB_FAILED -gt 0 ]]; then echo "# events:"; sed 's/^/#   /' "$work/events.json"; fi
lab_summary

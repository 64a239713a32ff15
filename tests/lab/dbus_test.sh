#!/usr/bin/env bash
# The D-Bus service against a private dbus-daemon: properties, methods,
# signals, error names, objects following reloads, and who may do what, with a
# real unprivileged user and a member of the admin group (both created here).
# Usage: dbus_test.sh BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:?build dir}" && pwd)
source "$here/lab.sh"
lab_require_root

work=$(mktemp -d)
chmod 755 "$work"
user="rfu$$"; admin="rfa$$"; group="rfadm$$"
daemon_log="$work/ringfenced.log"
cleanup() {
  lab_log_on_failure "${daemon_log:-}"
  lab_down
  userdel "$user" 2>/dev/null; userdel "$admin" 2>/dev/null; groupdel "$group" 2>/dev/null
  rm -rf "$work"
}
lab_up
trap cleanup EXIT
groupadd "$group" && useradd -M -N -s /usr/sbin/nologin "$user" && useradd -M -N -G "$group" -s /usr/sbin/nologin "$admin"
cp -r "$here/../data/isolate" "$work/etc"
printf 'state_dir: %s/state\nadmin_group: %s\n' "$work" "$group" >> "$work/etc/ringfence.yaml"

bus="unix:path=$work/bus"
dbus-daemon --config-file="$here/../data/dbus/test-bus.conf" --address="$bus" --nofork --nopidfile &
LAB_PIDS+=($!)
for _ in $(seq 50); do [[ -S $work/bus ]] && break; sleep 0.1; done
chmod 777 "$work/bus"

lab_host pump dev0 198.51.100.10 "" 02:00:00:00:00:10
lab_host ws dev0 198.51.100.50 "" 02:00:00:00:00:50
lab_host learner dev0 198.51.100.40 "" 02:00:00:00:00:40
lab_host vendorbox dev0 198.51.100.70 "" 02:00:00:00:00:70
lab_host srv lan0 203.0.113.20
lab_host other lan0 203.0.113.99
lab_listen other tcp 443
lab_listen srv tcp 443
lab_listen other tcp 8443

start_daemon() {
  ip netns exec "$(lab_ns gw)" "$build/daemon/ringfenced" --config "$work/etc/ringfence.yaml" --bus "$bus" >>"$daemon_log" 2>&1 &
  DAEMON=$!
  for _ in $(seq 50); do busctl --address="$bus" status io.ringfence.Gateway1 >/dev/null 2>&1 && break; sleep 0.1; done
}
start_daemon

M=(io.ringfence.Gateway1 /io/ringfence/Gateway1 io.ringfence.Gateway1.Manager)
as() { local who=$1; shift; runuser -u "$who" -- "$@"; }
call() { busctl --address="$bus" call "${M[@]}" "$@"; }
prop() { busctl --address="$bus" get-property "${M[@]}" "$1"; }
dprop() { busctl --address="$bus" get-property io.ringfence.Gateway1 "/io/ringfence/Gateway1/device/$1" io.ringfence.Gateway1.Device "$2"; }
is() { [[ "$("${@:2}" 2>&1)" == "$1" ]]; }
has() { local out; out=$("${@:2}" 2>&1); grep -q -- "$1" <<<"$out"; }  # whatever the command's exit code
# The D-Bus error name a call ends with (busctl prints only the message): METHOD ARGS...
error_of() {
  local method=$1; shift
  dbus-send --bus="$bus" --print-reply --dest=io.ringfence.Gateway1 /io/ringfence/Gateway1 \
    "io.ringfence.Gateway1.Manager.$method" "$@" 2>&1 | sed -n 's/^Error \([^:]*\):.*/\1/p'
}

busctl --address="$bus" monitor io.ringfence.Gateway1 > "$work/signals" 2>&1 &
LAB_PIDS+=($!)
sleep 0.3

echo "# properties and introspection"
expect_true "Version" is "s \"0.1.0\"" prop Version
expect_true "DeviceCount" is "u 6" prop DeviceCount
expect_true "PolicyGeneration" is "t 1" prop PolicyGeneration
expect_true "IsolatedCount" is "u 0" prop IsolatedCount
expect_true "busctl introspect lists the methods" has ".Isolate" busctl --address="$bus" introspect "${M[@]}"
expect_true "a device object's Inventory-free properties" is "as 1 \"198.51.100.10\"" dprop pump Addresses
expect_true "a device object's Mode" is 's "monitor"' dprop mon Mode
expect_true "ObjectManager knows the device objects" has "/io/ringfence/Gateway1/device/ws" \
  busctl --address="$bus" call io.ringfence.Gateway1 /io/ringfence/Gateway1 org.freedesktop.DBus.ObjectManager GetManagedObjects

echo "# methods and errors"
expect_true "ListDevices" has '"pump" "enforce" "normal" 0 "/io/ringfence/Gateway1/device/pump"' call ListDevices
expect_true "GetDevice" is 'o "/io/ringfence/Gateway1/device/pump"' call GetDevice s pump
expect_true "GetDevice of an unknown device: NoSuchDevice" is "io.ringfence.Gateway1.Error.NoSuchDevice" \
  error_of GetDevice string:nope
expect_true "Check allowed" has "bs true" call Check ssssq pump outbound 203.0.113.20 tcp 443
expect_true "Check denied" has "bs false" call Check ssssq pump outbound 203.0.113.99 tcp 443
expect_true "Check with a bad direction: InvalidArgument" is "io.ringfence.Gateway1.Error.InvalidArgument" \
  error_of Check string:pump string:sideways string:203.0.113.20 string:tcp uint16:443
expect_true "GetObservedFlows" has "a(sssqt)" call GetObservedFlows s learner

echo "# who may do what"
expect_true "an unprivileged user may read" is "u 6" as "$user" busctl --address="$bus" get-property "${M[@]}" DeviceCount
expect_true "an unprivileged user may not isolate: AccessDenied" is "org.freedesktop.DBus.Error.AccessDenied" \
  as "$user" bash -c "$(declare -f error_of); bus='$bus'; error_of Isolate string:pump string:'not allowed'"
expect_true "the refusal is logged with the caller" grep -q "Isolate refused for uid:$(id -u "$user")" "$daemon_log"
expect_true "nobody was isolated by it" is "u 0" prop IsolatedCount
expect_true "a member of the admin group may isolate" is "" as "$admin" busctl --address="$bus" call "${M[@]}" Isolate ss pump "suspicious traffic"
expect_true "the isolation is logged with the caller and reason" grep -q "device pump isolated by uid:$(id -u "$admin"): suspicious traffic" "$daemon_log"
expect_true "State is isolated" is 's "isolated"' dprop pump State
expect_true "IsolatedCount is 1" is "u 1" prop IsolatedCount
expect_drop "and the kernel enforces it" lab_tcp pump 203.0.113.99 443
expect_true "isolating again: InvalidArgument" is "io.ringfence.Gateway1.Error.InvalidArgument" \
  error_of Isolate string:pump string:again
expect_true "root may release" is "" call Release ss pump "checked by biomed"
expect_true "State is normal again" is 's "normal"' dprop pump State
expect_true "an unprivileged user may not reload" is "org.freedesktop.DBus.Error.AccessDenied" \
  as "$user" bash -c "$(declare -f error_of); bus='$bus'; error_of Reload"

echo "# reload: objects follow the policy; a refused policy is InvalidPolicy"
printf 'device: newcomer\nidentity:\n  addresses: [198.51.100.90]\n' > "$work/etc/profiles/newcomer.yaml"
# What changed comes after the warnings: validate's advice on every device
# without MAC or interface, newcomer among them.
expect_true "Reload returns the new generation, the warnings and what changed" \
  has "tas 2 [0-9]* .*newcomer.. has neither mac.*newcomer.*device added" call Reload
expect_true "the new device has an object" is 's "newcomer"' dprop newcomer Name
echo "mode: bogus" >> "$work/etc/profiles/newcomer.yaml"
expect_true "a refused policy is the error InvalidPolicy" is "io.ringfence.Gateway1.Error.InvalidPolicy" error_of Reload
expect_true "its message is every error line" has "newcomer.yaml:4:7: error: invalid mode 'bogus'" \
  dbus-send --bus="$bus" --print-reply --dest=io.ringfence.Gateway1 /io/ringfence/Gateway1 io.ringfence.Gateway1.Manager.Reload
rm "$work/etc/profiles/newcomer.yaml"
call Reload >/dev/null
expect_true "the removed device's object is gone" is "org.freedesktop.DBus.Error.UnknownObject" \
  sh -c "dbus-send --bus='$bus' --print-reply --dest=io.ringfence.Gateway1 /io/ringfence/Gateway1/device/newcomer org.freedesktop.DBus.Properties.Get string:io.ringfence.Gateway1.Device string:Name 2>&1 | sed -n 's/^Error \\([^:]*\\):.*/\\1/p'"

echo "# signals"
sleep 0.3
expect_true "DeviceIsolated was signalled" grep -q "Member=DeviceIsolated" "$work/signals"
expect_true "DeviceReleased was signalled" grep -q "Member=DeviceReleased" "$work/signals"
expect_true "PolicyReloaded was signalled" grep -q "Member=PolicyReloaded" "$work/signals"
expect_true "PropertiesChanged was signalled" grep -q "Member=PropertiesChanged" "$work/signals"
expect_true "InterfacesAdded for the new device" grep -q "Member=InterfacesAdded" "$work/signals"
lab_tcp pump 203.0.113.99 22
sleep 0.5
expect_true "Violation was signalled" grep -q "Member=Violation" "$work/signals"

echo "# ringfencectl against the running daemon"
ctl() { "$build/ctl/ringfencectl" --bus "$bus" "$@"; }
code() { "$@" >/dev/null 2>&1; echo $?; }
call Release ss pump "before the ctl checks" >/dev/null 2>&1
expect_true "status" has "devices:    6 (0 isolated)" ctl status
expect_true "status --json" has '"device_count":6' ctl status --json
expect_true "list shows an aligned table" has "^pump  *enforce  *normal  *[0-9]*  *198.51.100.10" ctl list
expect_true "show DEVICE" has "Mode:  *monitor" ctl show mon
expect_true "show lists the device's rules from the local profiles" has "outbound    tcp 443 to 203.0.113.20  (line" \
  ctl show mon --config "$work/etc/ringfence.yaml"
expect_true "show of an unknown device exits 5" is 5 code ctl show nope
"$build/ctl/ringfencectl" --bus "$bus" events > "$work/events" 2>&1 &
events=$!
LAB_PIDS+=($events)
sleep 0.5
expect_pass "before: pump -> other tcp/443 is a forbidden flow, so use an allowed one" lab_tcp pump 203.0.113.20 443 || true
expect_true "an unprivileged user cannot isolate: exit 4" is 4 code as "$user" "$build/ctl/ringfencectl" --bus "$bus" isolate pump --reason x
expect_true "isolate from the command line" is 0 code ctl isolate ws --reason "maintenance of the ward switch"
expect_true "isolate without --reason is a usage error (exit 2)" is 2 code ctl isolate ws
expect_true "isolate an unknown device: exit 5" is 5 code ctl isolate nope --reason x
expect_true "check (online) answers isolated" has "denied: ws is isolated" ctl check ws --to 203.0.113.20 --proto tcp --port 443
expect_true "check (online) exits 1 when denied" is 1 code ctl check ws --to 203.0.113.20 --proto tcp --port 443
expect_true "check (online) takes a device's address for its name" has "denied: ws is isolated" \
  ctl check 198.51.100.50 --to 203.0.113.20 --proto tcp --port 443
expect_true "check (online) of an address no device has: exit 5" is 5 code \
  ctl check 198.51.100.99 --to 203.0.113.20 --proto tcp --port 443
expect_true "... saying which address" has "no device has address 198.51.100.99" \
  sh -c "'$build/ctl/ringfencectl' --bus '$bus' check 198.51.100.99 --to 203.0.113.20 --proto tcp --port 443 2>&1"
expect_true "release from the command line" is 0 code ctl release ws --reason "done"
sleep 0.5
expect_true "events printed the isolation as it happened" grep -q "DeviceIsolated ws by uid:0: maintenance of the ward switch" "$work/events"
expect_true "events printed the release" grep -q "DeviceReleased ws by uid:0: done" "$work/events"
# PacketsAllowed is read from the kernel at most once a second.
allowed_of() { sleep 1.1; dprop "$1" PacketsAllowed | sed -n 's/^t //p'; }
pump_allowed=$(allowed_of pump)
lab_tcp pump 203.0.113.99 443
sleep 0.5
expect_true "events printed the violation and the automatic isolation" grep -q "DeviceIsolated pump by policy" "$work/events"
expect_drop "the isolation changed real traffic" lab_tcp pump 203.0.113.20 443
expect_true "PacketsDropped counts the pump's dropped packets" has "^t [1-9]" dprop pump PacketsDropped
expect_true "dropped packets are not counted as allowed ($pump_allowed before)" is "$pump_allowed" allowed_of pump
expect_true "GetRecentViolations lists the pump's violation" has '"outbound" "198.51.100.10" "203.0.113.99" "tcp" [0-9]* 443 "dropped"' \
  call GetRecentViolations s pump
expect_true "show lists recent violations" has "outbound  *tcp  *198.51.100.10:[0-9]* -> 203.0.113.99:443  *dropped" ctl show pump
expect_true "show --json carries them" has '"recent_violations":\[.*{"at":"[0-9T:.Z-]*","direction":"outbound","src":"198.51.100.10","dst":"203.0.113.99","proto":"tcp","sport":[0-9]*,"dport":443,"verdict":"dropped"}' \
  ctl show pump --json
expect_true "show gives the packet counts" has "^Packets:  *[0-9]* allowed, [1-9][0-9]* dropped" ctl show pump
expect_true "release pump from the command line" is 0 code ctl release pump --reason "checked"
expect_pass "after release the pump works again" lab_tcp pump 203.0.113.20 443
expect_true "PacketsAllowed counts the pump's allowed connection" test "$(allowed_of pump)" -ge $((pump_allowed + 4))
learner_allowed=$(allowed_of learner)
in_ns learner ping -c3 -i0.2 -W1 -q 203.0.113.20 >/dev/null
expect_true "PacketsAllowed counts exactly 3 pings and 3 replies" is $((learner_allowed + 6)) allowed_of learner
lab_tcp learner 203.0.113.20 443 || true
sleep 0.3
ctl learn learner > "$work/learned.yaml"
expect_true "learn prints an allow: block" grep -q "^allow:" "$work/learned.yaml"
mkdir -p "$work/proposed"
{ printf 'device: learner\nidentity:\n  addresses: [198.51.100.40]\n'; grep -v '^#' "$work/learned.yaml"; } > "$work/proposed/learner.yaml"
expect_true "validate accepts the proposed profile" "$build/ctl/ringfencectl" validate --profiles "$work/proposed"
expect_true "reload from the command line" has "policy generation [0-9]* applied" ctl reload
expect_true "a daemon that cannot be reached: exit 3" is 3 code "$build/ctl/ringfencectl" --bus "unix:path=$work/nothing" status

echo "# maintenance windows"
expect_drop "maintenance flows are closed by default" lab_tcp vendorbox 203.0.113.99 8443
expect_true "an unprivileged user may not open a window: exit 4" is 4 code as "$user" "$build/ctl/ringfencectl" --bus "$bus" maintain vendorbox --for 1m --reason x
expect_true "maintain DEVICE --for 1m" is 0 code ctl maintain vendorbox --for 1m --reason "firmware update"
expect_true "State is maintenance" is 's "maintenance"' dprop vendorbox State
expect_true "MaintenanceUntil is set" has "^t [1-9]" dprop vendorbox MaintenanceUntil
expect_pass "the maintenance flow passes during the window" lab_tcp vendorbox 203.0.113.99 8443
until_before=$(dprop vendorbox MaintenanceUntil)
printf 'device: latecomer\nidentity:\n  addresses: [198.51.100.91]\n' > "$work/etc/profiles/latecomer.yaml"
expect_true "a reload during the window" is 0 code ctl reload
expect_pass "keeps the window open" lab_tcp vendorbox 203.0.113.99 8443
kill -TERM "$DAEMON"; wait "$DAEMON" 2>/dev/null
start_daemon
expect_true "after a restart the window is still open (State)" is 's "maintenance"' dprop vendorbox State
expect_true "and ends when it did before the restart (±2 s)" python3 -c \
  "import sys; a, b = int('${until_before#t }'), int(sys.argv[1].split()[1]); sys.exit(abs(a - b) > 2000000)" \
  "$(dprop vendorbox MaintenanceUntil)"
expect_pass "the maintenance flow still passes after the restart" lab_tcp vendorbox 203.0.113.99 8443
expect_true "maintain DEVICE --stop" is 0 code ctl maintain vendorbox --stop
expect_drop "it is closed at once" lab_tcp vendorbox 203.0.113.99 8443
expect_true "a device without maintenance flows: exit 1" is 1 code ctl maintain pump --for 1m --reason x
expect_true "maintain DEVICE --for 2s" is 0 code ctl maintain vendorbox --for 2s --reason "short window"
expect_pass "open again" lab_tcp vendorbox 203.0.113.99 8443
kill -KILL "$DAEMON"; wait "$DAEMON" 2>/dev/null
sleep 2.5
expect_drop "with the daemon dead, the kernel closed the window on time" lab_tcp vendorbox 203.0.113.99 8443
lab_summary

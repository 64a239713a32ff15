#!/usr/bin/env bash
# The systemd side: the unit verifies, its exposure score is 2.0 or better
# (printed), sd_notify messages reach a NOTIFY_SOCKET the test listens on
# (READY=1, RELOADING=1, STOPPING=1), and `cmake --install` installs every
# file without overwriting an existing configuration; the unit names the
# binary where any prefix puts it.
# Usage: systemd_test.sh BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=$(cd "${1:?build dir}" && pwd)
source "$here/lab.sh"
lab_require_root
work=$(mktemp -d)
cleanup() { lab_down; rm -rf "$work"; }
lab_up
trap cleanup EXIT

echo "# the unit"
DESTDIR="$work/root" cmake --install "$build" --prefix /usr > "$work/install.log" 2>&1
unit="$work/root/usr/lib/systemd/system/ringfenced.service"
sed "s|^ExecStart=/usr/sbin/ringfenced|ExecStart=$build/daemon/ringfenced|" "$unit" > "$work/ringfenced.service"
expect_true "systemd-analyze verify passes" env MANPATH="$src/docs/man" systemd-analyze verify "$work/ringfenced.service"
score=$(systemd-analyze security --offline=true "$work/ringfenced.service" 2>&1 | sed -n 's/.*Overall exposure level for ringfenced.service: \([0-9.]*\).*/\1/p')
echo "# systemd-analyze security --offline=true: exposure $score"
expect_true "exposure score $score is 2.0 or better" python3 -c "import sys; sys.exit(0 if float('$score') <= 2.0 else 1)"
for key in "Type=notify" "WatchdogSec=" "ExecReload=/bin/kill -HUP \$MAINPID" "Before=network-pre.target" \
           "Wants=network-pre.target" "Restart=always" "RestartSec=" "StartLimitIntervalSec=0" \
           "StateDirectory=ringfence" "CapabilityBoundingSet=CAP_NET_ADMIN" "ProtectSystem=strict" \
           "RestrictAddressFamilies=AF_UNIX AF_NETLINK"; do
  expect_true "the unit has $key" grep -qF "$key" "$unit"
done
expect_true "no Requires= that would stop the daemon with another unit" \
  bash -c "! grep -q '^Requires=' '$src/systemd/ringfenced.service'"
expect_true "no StartLimitBurst= (no start limit at all)" \
  bash -c "! grep -q '^StartLimitBurst=' '$src/systemd/ringfenced.service'"

echo "# sd_notify"
python3 - "$work/notify" > "$work/notifications" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(15)
try:
    while True:
        msg = s.recv(4096).decode()
        print(msg.replace("\n", "|"), flush=True)
        if "STOPPING=1" in msg:
            break
except socket.timeout:
    pass
PY
listener=$!
for _ in $(seq 50); do [[ -S $work/notify ]] && break; sleep 0.1; done
cp -r "$src/tests/data/isolate" "$work/etc"
echo "state_dir: $work/state" >> "$work/etc/ringfence.yaml"
NOTIFY_SOCKET="$work/notify" WATCHDOG_USEC=2000000 \
  ip netns exec "$(lab_ns gw)" "$build/daemon/ringfenced" --config "$work/etc/ringfence.yaml" --bus none \
  > "$work/log" 2>&1 &
daemon=$!
sleep 1
kill -HUP "$daemon"; sleep 0.5
sleep 2  # long enough for watchdog pings (every half of WATCHDOG_USEC)
kill -TERM "$daemon"; wait "$daemon"
wait "$listener"
expect_true "READY=1 after the policy was applied" grep -q "^READY=1|STATUS=Enforcing [0-9]* devices" "$work/notifications"
expect_true "RELOADING=1 with MONOTONIC_USEC on SIGHUP" grep -q "^RELOADING=1|MONOTONIC_USEC=[0-9]*" "$work/notifications"
expect_true "READY=1 again after the reload" test "$(grep -c '^READY=1' "$work/notifications")" -ge 2
expect_true "WATCHDOG=1 fed from the event loop" grep -q "^WATCHDOG=1" "$work/notifications"
expect_true "STOPPING=1 on SIGTERM" grep -q "^STOPPING=1" "$work/notifications"

echo "# READY=1 only once the failsafe is in force, when the policy is refused"
# The listener checks the kernel the moment READY=1 arrives.
python3 - "$work/notify2" "$(lab_ns gw)" > "$work/notifications2" <<'PY' &
import socket, subprocess, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(15)
try:
    while True:
        msg = s.recv(4096).decode()
        print(msg.replace("\n", "|"), flush=True)
        if "READY=1" in msg:
            table = subprocess.run(["ip", "netns", "exec", sys.argv[2], "nft", "list", "table",
                                    "inet", "ringfence"], capture_output=True, text=True)
            print("TABLE-AT-READY=" + ("failsafe" if "chain failsafe" in table.stdout else "none"),
                  flush=True)
        if "STOPPING=1" in msg:
            break
except socket.timeout:
    pass
PY
listener=$!
for _ in $(seq 50); do [[ -S $work/notify2 ]] && break; sleep 0.1; done
in_ns gw nft delete table inet ringfence 2>/dev/null  # a rebooted gateway
echo "alow: {}" >> "$work/etc/profiles/ws.yaml"
sed -i "s|^state_dir: .*|state_dir: $work/empty-state|" "$work/etc/ringfence.yaml"
NOTIFY_SOCKET="$work/notify2" \
  ip netns exec "$(lab_ns gw)" "$build/daemon/ringfenced" --config "$work/etc/ringfence.yaml" --bus none \
  > "$work/log2" 2>&1 &
daemon=$!
sleep 1.5
expect_true "the daemon keeps running with a refused policy" kill -0 "$daemon"
kill -TERM "$daemon"; wait "$daemon"
wait "$listener"
expect_true "READY=1 with a FAILSAFE status" grep -q "^READY=1|STATUS=FAILSAFE: policy refused, nothing forwarded to or from device interfaces (1 error)" "$work/notifications2"
expect_true "the failsafe table was in force when READY=1 came" grep -q "^TABLE-AT-READY=failsafe" "$work/notifications2"
expect_true "exactly one READY=1 before the stop" test "$(grep -c '^READY=1' "$work/notifications2")" -eq 1

echo "# cmake --install"
DESTDIR="$work/root" cmake --install "$build" --prefix /usr > "$work/install.log" 2>&1
etc=$(sed -n 's|^ExecStart=/usr/sbin/ringfenced --config \(/.*\)/ringfence.yaml$|\1|p' "$unit")
echo "# configuration directory of this build: $etc"
for f in usr/sbin/ringfenced usr/sbin/ringfencectl usr/lib/systemd/system/ringfenced.service \
         usr/share/dbus-1/system.d/io.ringfence.Gateway1.conf usr/share/man/man8/ringfenced.8 \
         usr/share/man/man8/ringfencectl.8 usr/lib/sysusers.d/ringfence.conf \
         usr/lib/sysctl.d/60-ringfence-forwarding.conf usr/share/doc/ringfence/examples/ringfence.yaml \
         usr/share/doc/ringfence/examples/devices/pump-3w-01.yaml "${etc#/}/ringfence.yaml" "${etc#/}/groups.yaml"; do
  expect_true "installs /$f" test -f "$work/root/$f"
done
expect_true "the man page names this build's configuration" grep -qF "$etc/ringfence.yaml" "$work/root/usr/share/man/man8/ringfenced.8"
expect_true "the starting configuration has no devices" test -d "$work/root$etc/profiles" -a -z "$(ls -A "$work/root$etc/profiles")"
expect_true "the starting configuration validates" "$build/ctl/ringfencectl" validate --config "$work/root$etc/ringfence.yaml"
expect_true "the examples validate" "$build/ctl/ringfencectl" validate --config "$work/root/usr/share/doc/ringfence/examples/ringfence.yaml"
echo "# an admin's edit" >> "$work/root$etc/ringfence.yaml"
DESTDIR="$work/root" cmake --install "$build" --prefix /usr > "$work/install.log" 2>&1
expect_true "a second install keeps an existing configuration" grep -q "an admin's edit" "$work/root$etc/ringfence.yaml"
DESTDIR="$work/any" cmake --install "$build" --prefix /opt/rf > "$work/install.log" 2>&1
mkdir -p "$work/any/unit"
sed "s|^ExecStart=|ExecStart=$work/any|" "$work/any/opt/rf/lib/systemd/system/ringfenced.service" > "$work/any/unit/ringfenced.service"
expect_true "an install under /opt/rf names its binary and verifies" \
  env MANPATH="$work/any/opt/rf/share/man" systemd-analyze verify "$work/any/unit/ringfenced.service"
lab_summary

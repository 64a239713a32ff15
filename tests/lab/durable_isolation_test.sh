#!/usr/bin/env bash
# Isolations that hold when things go wrong (issue "Fail closed in every
# state"), on real packets: a state directory that is full, read-only or not
# a directory (isolate says NOT saved, a kill -9 and a restart keep the
# device isolated from the kernel's table, the retry saves it once the disk
# is back); a renamed, removed or dangling profile (the device stays cut off
# by its address, listed, released only by hand); reasons with bad bytes
# (refused precisely, no forged log lines, show still works); the violation
# and probe counts of an isolated device across a restart.
# Usage: durable_isolation_test.sh BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:?build dir}" && pwd)
source "$here/lab.sh"
lab_require_root

work=$(mktemp -d)
chmod 755 "$work"
daemon_log="$work/ringfenced.log"
mounts=()
cleanup() {
  lab_log_on_failure "${daemon_log:-}"
  [[ -n ${DAEMON:-} ]] && kill -9 "$DAEMON" 2>/dev/null
  lab_down
  for m in "${mounts[@]}"; do umount "$m" 2>/dev/null; done
  rm -rf "$work"
}
lab_up
trap cleanup EXIT
cp -r "$here/../data/isolate" "$work/etc"
config="$work/etc/ringfence.yaml"
profiles="$work/etc/profiles"
echo "state_dir: $work/state" >> "$config"
set_state_dir() { sed -i "s|^state_dir: .*|state_dir: $1|" "$config"; }

bus="unix:path=$work/bus"
dbus-daemon --config-file="$here/../data/dbus/test-bus.conf" --address="$bus" --nofork --nopidfile &
LAB_PIDS+=($!)
for _ in $(seq 50); do [[ -S $work/bus ]] && break; sleep 0.1; done

lab_host pump dev0 198.51.100.10 "" 02:00:00:00:00:10
lab_host srv lan0 203.0.113.20
lab_host crit lan0 203.0.113.21
lab_listen srv tcp 443
lab_listen crit tcp 443
sleep 0.3

DAEMON=
start_daemon() {
  ip netns exec "$(lab_ns gw)" "$build/daemon/ringfenced" --config "$config" --bus "$bus" >>"$daemon_log" 2>&1 &
  DAEMON=$!
  for _ in $(seq 50); do busctl --address="$bus" status io.ringfence.Gateway1 >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "daemon did not start"; return 1
}
kill9_daemon() { kill -9 "$DAEMON" 2>/dev/null; wait "$DAEMON" 2>/dev/null; DAEMON=; }
stop_daemon() { kill -TERM "$DAEMON" 2>/dev/null; wait "$DAEMON" 2>/dev/null; DAEMON=; }
ctl() { "$build/ctl/ringfencectl" --bus "$bus" "$@"; }
M=(io.ringfence.Gateway1 /io/ringfence/Gateway1 io.ringfence.Gateway1.Manager)
prop() { busctl --address="$bus" get-property "${M[@]}" "$1"; }
isolated() { local set; set=$(in_ns gw nft list set inet ringfence isolated4 2>&1); [[ $set == *"$1"* ]]; }
is() { [[ "$("${@:2}" 2>&1)" == "$1" ]]; }
has() { local out; out=$("${@:2}" 2>&1); grep -q -- "$1" <<<"$out"; }  # whatever the exit code
hasnt() { local out; out=$("${@:2}" 2>&1); ! grep -q -- "$1" <<<"$out"; }
# A list row: DEVICE MODE STATE ...
row_is() { local out; out=$(ctl list 2>&1); grep -Eq "^$1 +$2 +$3( |$)" <<<"$out"; }
wait_for() {  # SECONDS COMMAND...: polls until COMMAND succeeds
  local n=$(($1 * 10)); shift
  for _ in $(seq "$n"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  return 1
}
saved_on_disk() { grep -q "^isolated	pump	" "$1/isolations" 2>/dev/null; }

# break_state KIND DIR: DIR becomes a state directory that cannot be written.
break_state() {
  case $1 in
    full)
      mkdir -p "$2"; mount -t tmpfs -o size=64k tmpfs "$2" && mounts+=("$2")
      dd if=/dev/zero of="$2/fill" bs=4k 2>/dev/null ;;
    readonly)
      mkdir -p "$2"; mount -t tmpfs -o ro,size=64k tmpfs "$2" && mounts+=("$2") ;;
    notdir)
      echo "not a directory" > "$2" ;;
  esac
}
mend_state() {
  case $1 in
    full) rm -f "$2/fill" ;;
    # `ip netns exec` gave the daemon its own mount namespace: remount there.
    readonly) nsenter -t "$DAEMON" -m mount -o remount,rw "$2" ;;
    notdir) rm -f "$2" ;;
  esac
}

for kind in full readonly notdir; do
  echo "# state directory $kind"
  dir="$work/state-$kind"
  break_state "$kind" "$dir"
  set_state_dir "$dir"
  start_daemon || exit 1
  expect_pass "$kind: pump -> srv tcp/443 passes before the isolation" lab_tcp pump 203.0.113.20 443
  out=$(ctl isolate pump --reason "state dir $kind" 2>&1); rc=$?
  expect_true "$kind: isolate exits 0 ($rc)" test "$rc" -eq 0
  expect_true "$kind: isolate says it is in force but NOT saved: $out" \
    grep -q "pump isolated (in force in the kernel, NOT yet saved to $dir/isolations: .*; retrying)" <<<"$out"
  expect_true "$kind: StateSaveError names the problem" has "$dir/isolations: " prop StateSaveError
  expect_true "$kind: status shows it" has "NOT saved" ctl status
  expect_true "$kind: the log says so at error level" \
    grep -q "^[0-9T:.-]*Z error: isolation of pump is in force in the kernel but NOT saved" "$daemon_log"
  expect_drop "$kind: pump -> srv tcp/443 cut off" lab_tcp pump 203.0.113.20 443
  kill9_daemon
  expect_true "$kind: after kill -9 the kernel still holds it" isolated 198.51.100.10
  start_daemon || exit 1
  expect_true "$kind: after the restart pump is still isolated in the kernel" isolated 198.51.100.10
  expect_drop "$kind: after the restart pump -> srv tcp/443 (allowed) is dropped" lab_tcp pump 203.0.113.20 443
  expect_pass "$kind: after the restart pump -> crit tcp/443 (critical) passes" lab_tcp pump 203.0.113.21 443
  expect_true "$kind: listed as isolated" row_is pump enforce isolated
  expect_true "$kind: the restart found it in the kernel (error level)" \
    grep -q "^[0-9T:.-]*Z error: address 198.51.100.10 was isolated in the kernel table but is not in $dir/isolations" "$daemon_log"
  expect_true "$kind: still NOT saved after the restart" has "$dir/isolations: " prop StateSaveError
  mend_state "$kind" "$dir"
  expect_true "$kind: once the directory is writable the retry saves it" wait_for 12 saved_on_disk "$dir"
  expect_true "$kind: StateSaveError is empty again" wait_for 3 is 's ""' prop StateSaveError
  expect_true "$kind: the log says it is saved" grep -q "isolations saved to $dir/isolations" "$daemon_log"
  out=$(ctl release pump --reason "test over" 2>&1)
  expect_true "$kind: release: $out" test "$out" = "pump released"
  expect_drop "$kind: released in the kernel" isolated 198.51.100.10
  stop_daemon
done

echo "# the isolation follows the device"
set_state_dir "$work/state"
start_daemon || exit 1
expect_true "isolate pump" is "pump isolated" ctl isolate pump --reason "suspicious traffic"
sed 's/^device: pump$/device: infusion/' "$profiles/pump.yaml" > "$profiles/infusion.yaml"
rm "$profiles/pump.yaml"
expect_true "reload after the rename" has "generation" ctl reload
expect_true "renamed: still isolated in the kernel" isolated 198.51.100.10
expect_drop "renamed: pump -> srv tcp/443 dropped" lab_tcp pump 203.0.113.20 443
expect_true "renamed: listed as isolated under the new name" row_is infusion enforce isolated
expect_drop "renamed: the old name is gone from the list" row_is pump '[a-z]+' '[a-z]+'
expect_true "renamed: logged loudly" \
  grep -q "isolation of pump follows its address 198.51.100.10 to device infusion" "$daemon_log"
expect_true "renamed: show keeps the reason" has "suspicious traffic" ctl show infusion --config "$config"
expect_true "renamed: saved under the new name" grep -q "^isolated	infusion	.*198.51.100.10" "$work/state/isolations"

mv "$profiles/infusion.yaml" "$work/infusion.yaml"
expect_true "reload after the removal" has "generation" ctl reload
expect_true "removed: still isolated in the kernel" isolated 198.51.100.10
expect_drop "removed: pump -> srv tcp/443 dropped" lab_tcp pump 203.0.113.20 443
expect_drop "removed: pump -> crit tcp/443 dropped too (no critical flows for an orphan)" lab_tcp pump 203.0.113.21 443
expect_true "removed: listed as an orphan" row_is infusion removed isolated
expect_true "removed: show works for the orphan" has "suspicious traffic" ctl show infusion
expect_true "removed: logged" grep -q "device infusion is isolated but no longer in the policy" "$daemon_log"
sed -i 's/^unknown_devices: .*/unknown_devices: alert/' "$config"
expect_true "reload with unknown_devices: alert" has "generation" ctl reload
expect_drop "removed, unknown_devices alert: pump -> srv tcp/443 still dropped" lab_tcp pump 203.0.113.20 443
expect_true "removed, unknown_devices alert: still isolated in the kernel" isolated 198.51.100.10

echo "# a dangling symlink in place of the profile"
mv "$work/infusion.yaml" "$profiles/infusion.yaml"
expect_true "reload with the profile back" has "generation" ctl reload
expect_true "back: the isolation is the device's again" row_is infusion enforce isolated
ln -sf "$work/nowhere.yaml" "$work/link.yaml"
mv "$profiles/infusion.yaml" "$work/infusion.yaml"
mv "$work/link.yaml" "$profiles/infusion.yaml"
ctl reload >/dev/null 2>&1  # refused or applied: either way the device stays cut off
expect_true "dangling: still isolated in the kernel" isolated 198.51.100.10
expect_drop "dangling: pump -> srv tcp/443 dropped" lab_tcp pump 203.0.113.20 443
expect_true "dangling: listed as isolated" row_is infusion '[a-z]+' isolated
out=$(ctl release infusion --reason "orphan checked" 2>&1)
expect_true "the orphan can be released: $out" test "$out" = "infusion released"
expect_drop "released orphan: gone from the kernel" isolated 198.51.100.10
expect_drop "released orphan: gone from the list" row_is infusion '[a-z]+' '[a-z]+'
expect_drop "released orphan: gone from the state file" grep -q "^isolated	infusion	" "$work/state/isolations"
rm "$profiles/infusion.yaml"
mv "$work/infusion.yaml" "$profiles/pump.yaml"
sed -i 's/^device: infusion$/device: pump/' "$profiles/pump.yaml"
expect_true "reload with the pump back" has "generation" ctl reload

echo "# reasons with bad bytes"
expect_true "ctl refuses a reason with a newline before calling (exit 2)" is 2 \
  bash -c "'$build/ctl/ringfencectl' --bus '$bus' isolate pump --reason \$'x\\nerror: FORGED' >/dev/null 2>&1; echo \$?"
expect_true "and says why" has "control character" ctl isolate pump --reason $'x\nerror: FORGED'
expect_true "ctl refuses invalid UTF-8" has "not valid UTF-8" ctl isolate pump --reason $'caf\xe9'
# 64 KiB: the most one command-line argument may hold is 128 KiB.
long=$(head -c 65536 /dev/zero | tr '\0' 'a')
expect_true "ctl refuses a 64 KiB reason" has "at most 512" ctl isolate pump --reason "$long"
expect_true "the daemon refuses a newline too (InvalidArgument)" has "control character" \
  busctl --address="$bus" call "${M[@]}" Isolate ss pump $'x\nerror: FORGED line'
expect_true "the daemon refuses a 64 KiB reason" has "at most 512" \
  busctl --address="$bus" call "${M[@]}" Isolate ss pump "$long"
expect_true "the daemon refuses an empty reason" has "empty" busctl --address="$bus" call "${M[@]}" Isolate ss pump ""
expect_true "the daemon refuses a control character in StartMaintenance" has "control character" \
  busctl --address="$bus" call "${M[@]}" StartMaintenance sts vendorbox 60 $'a\x1b[31mb'
expect_drop "none of them isolated pump" isolated 198.51.100.10

echo "# bad bytes in a profile and in a refused policy"
bad_name=$'evil\nerror: FORGED by a file name \xff.yaml'
# The loader skips a file whose name is not printable UTF-8 (a warning that
# names it escaped); the error of the other file refuses the policy.
printf 'device: [broken\n' > "$profiles/$bad_name"
printf 'device: [broken \xff\n' > "$profiles/broken.yaml"
out=$(timeout 10 "$build/ctl/ringfencectl" --bus "$bus" reload 2>&1); rc=$?
expect_true "a refused policy next to a file name with a newline and invalid UTF-8 comes back (exit 1): $rc" test "$rc" -eq 1
expect_drop "the client does not say it cannot reach the daemon" grep -q "cannot reach" <<<"$out"
expect_true "the error names the broken file" grep -q "broken.yaml" <<<"$out"
expect_true "the skipped name is reported" grep -q 'not read: the file name is not printable UTF-8' "$daemon_log"
rm -f "$profiles/$bad_name" "$profiles/broken.yaml"
printf 'device: badtext\ndescription: "caf\xe9 \xff"\nidentity:\n  addresses: [198.51.100.90]\n' > "$profiles/badtext.yaml"
out=$(timeout 10 "$build/ctl/ringfencectl" --bus "$bus" reload 2>&1); rc=$?
expect_drop "a description with invalid UTF-8: the reload answers (refused or applied)" grep -q "cannot reach" <<<"$out"
expect_true "GetManagedObjects works" busctl --address="$bus" call io.ringfence.Gateway1 /io/ringfence/Gateway1 \
  org.freedesktop.DBus.ObjectManager GetManagedObjects
expect_true "show works" has "198.51.100.10" ctl show pump
if ctl list 2>/dev/null | grep "^badtext " >/dev/null; then
  expect_true "show of the device with bad bytes works" has "198.51.100.90" ctl show badtext
fi
rm -f "$profiles/badtext.yaml"
ctl reload >/dev/null 2>&1
expect_drop "no forged log line" grep -q "^error: FORGED" "$daemon_log"
expect_true "every log line is valid UTF-8" iconv -f UTF-8 -t UTF-8 "$daemon_log" -o /dev/null

echo "# violation counters survive a restart while the device stays isolated"
counters() { ctl show pump 2>&1 | grep -E '^(Violations|Probes):' | sed -E 's/ \([^()]* ago\)//'; }  # without the relative age
counted() { local c; c=$(counters); grep -q '^Violations: *[1-9]' <<<"$c" && grep -q '^Probes: *[1-9]' <<<"$c"; }
expect_drop "a probe of pump from srv (not a device) is dropped" lab_tcp srv 198.51.100.10 22
expect_drop "a forbidden flow pump -> srv tcp/80 is dropped" lab_tcp pump 203.0.113.20 80
expect_true "the violation isolates pump" wait_for 5 isolated 198.51.100.10
expect_true "show counts the violation and the probe" wait_for 5 counted
before=$(counters)
stop_daemon
expect_true "the state file keeps pump's counters" grep -q "^counters	pump	[1-9]" "$work/state/isolations"
start_daemon || exit 1
expect_true "after the restart pump is still isolated" row_is pump enforce isolated
after=$(counters)
expect_true "after the restart Violations and Probes are what they were: '$before' / '$after'" \
  test -n "$before" -a "$after" = "$before"
expect_true "release pump" is "pump released" ctl release pump --reason "counters checked"
expect_drop "a released device's counters leave the state file" grep -q "^counters	pump	" "$work/state/isolations"

echo "# stale state lines are summarized"
stop_daemon
{ echo "ringfence-isolations 2"; for i in $(seq 2000); do echo "stale line $i"; done; } > "$work/state/isolations"
lines_before=$(wc -l < "$daemon_log")
start_daemon || exit 1
new_lines=$(tail -n +"$((lines_before + 1))" "$daemon_log")
expect_true "ten unreadable lines are logged one by one" test "$(grep -c 'unreadable line skipped' <<<"$new_lines")" -eq 10
expect_true "then one summary" grep -q "1990 more unreadable lines in $work/state/isolations skipped" <<<"$new_lines"
stop_daemon

lab_summary

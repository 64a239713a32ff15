#!/usr/bin/env bash
# Starting from the compiled policy (docs/policy-loading.md), on real packets:
# a restart on a rebooted gateway (no table) whose files are those the
# compiled policy was made of applies it without parsing, keeps every
# isolation, and its start check confirms it; a profile edited while the
# daemon was stopped (same size, modification time put back) is never
# started from: not one SYN the edit forbids gets through from the moment a
# table exists; a damaged compiled policy is not used; a compiled policy
# altered with a valid sum is caught by the start check, said loudly and
# replaced by the policy on disk.
# Usage: compiled_start_test.sh BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:?build dir}" && pwd)
source "$here/lab.sh"
lab_require_root

lab_up
lab_scratch
lab_copy_policy "$here/../data/isolate"
# ws may try forbidden ports often without being isolated.
sed -i 's/threshold: 3/threshold: 1000/' "$work/etc/profiles/ws.yaml"
compiled="$work/state/compiled-policy"

lab_host pump dev0 198.51.100.10 "" 02:00:00:00:00:10
lab_host ws dev0 198.51.100.50 "" 02:00:00:00:00:50
lab_host srv lan0 203.0.113.20
lab_host other lan0 203.0.113.99
for h in srv other; do lab_listen "$h" tcp 443; lab_listen "$h" tcp 444; done
sleep 0.3

DAEMON=
start_daemon() { lab_start_daemon "in force" 150 --config "$config" --bus none; }
stop_daemon() { [[ -n $DAEMON ]] && lab_stop_daemon; DAEMON=; }
# wait_log REGEX: until the daemon's log has one more line matching REGEX than at mark_log.
mark_log() { MARK=$(grep -c . "$daemon_log"); }
# grep reads to the end (no -q): with pipefail, tail killed by SIGPIPE would fail the check.
since_mark() { tail -n +"$((MARK + 1))" "$daemon_log" | grep -E "$1" >/dev/null; }
wait_log() { for _ in $(seq 100); do since_mark "$1" && return 0; sleep 0.1; done; return 1; }
# The compiled policy written after the current start or reload.
wait_saved() {
  for _ in $(seq 100); do [[ -s $compiled && $compiled -nt $1 ]] && return 0; sleep 0.1; done
  return 1
}
# The file with some body bytes changed and, if asked, its sum made valid again
# (daemon/compiled_policy.cc: magic, u64 size, body, u64 FNV-1a over words).
alter_compiled() {  # FROM_HEX TO_HEX fix|nofix
  /usr/bin/python3 - "$compiled" "$@" <<'EOF'
import struct, sys
path, old, new, fix = sys.argv[1], bytes.fromhex(sys.argv[2]), bytes.fromhex(sys.argv[3]), sys.argv[4]
data = open(path, "rb").read()
head = data.index(b"\n") + 1
size = struct.unpack_from("<Q", data, head)[0]
body = data[head + 8:head + 8 + size]
if old not in body:
    sys.exit("pattern not in the compiled policy")
body = body.replace(old, new)
h, m = 1469598103934665603, (1 << 64) - 1
full = len(body) // 8 * 8
for (w,) in struct.iter_unpack("<Q", body[:full]):
    h = ((h ^ w) * 1099511628211) & m
for b in body[full:]:
    h = ((h ^ b) * 1099511628211) & m
total = struct.unpack_from("<Q", data, head + 8 + size)[0] if fix == "nofix" else h
open(path, "wb").write(data[:head + 8] + body + struct.pack("<Q", total))
EOF
}

echo "# the first start parses every profile and saves the compiled policy"
touch "$work/t0"
mark_log
start_daemon || exit 1
expect_true "the log says there is none yet" since_mark "no compiled policy in $compiled"
expect_true "the compiled policy is saved once ready" wait_saved "$work/t0"
expect_pass "ws -> srv tcp/443 passes" lab_tcp ws 203.0.113.20 443
expect_drop "ws -> srv tcp/444 is dropped" lab_tcp ws 203.0.113.20 444
lab_tcp pump 203.0.113.99 443  # a violation: the pump is isolated (threshold 1)
for _ in $(seq 50); do grep -q "^isolated	pump	" "$work/state/isolations" 2>/dev/null && break; sleep 0.1; done
expect_true "pump isolated and saved" grep -q "^isolated	pump	" "$work/state/isolations"
stop_daemon

echo "# rebooted with the same files: started from the compiled policy"
expect_true "no table after the reboot" lab_reboot_gateway
mark_log
start_daemon || exit 1
expect_true "the log says it started from the compiled policy" \
  since_mark "starting from the compiled policy in $compiled: 6 devices, .*none parsed"
expect_true "the start check confirms it" wait_log "start check: a load from scratch gives the policy started from"
expect_pass "ws -> srv tcp/443 passes" lab_tcp ws 203.0.113.20 443
expect_drop "ws -> srv tcp/444 is dropped" lab_tcp ws 203.0.113.20 444
expect_drop "the pump stays isolated" lab_tcp pump 203.0.113.20 443
expect_true "PolicyState current" since_mark "policy state current"
stop_daemon

echo "# a profile edited while stopped, same size and mtime: never started from"
touch -r "$work/etc/profiles/ws.yaml" "$work/mtime"
before=$(stat -c %s.%Y "$work/etc/profiles/ws.yaml")
sed -i 's/ports: \[443\]/ports: [444]/' "$work/etc/profiles/ws.yaml"
touch -r "$work/mtime" "$work/etc/profiles/ws.yaml"
expect_true "the edit kept the size and the modification time" \
  test "$(stat -c %s.%Y "$work/etc/profiles/ws.yaml")" == "$before"
expect_true "and changed the text" grep -q "ports: \[444\]" "$work/etc/profiles/ws.yaml"
expect_true "no table after the reboot" lab_reboot_gateway
# SYNs now forbidden, from the moment the table exists, counted where they arrive.
in_ns srv timeout 12 tcpdump -n -l -i any 'tcp[tcpflags] & tcp-syn != 0 and src host 198.51.100.50 and dst port 443' \
  >"$work/syns" 2>/dev/null &
LAB_PIDS+=($!)
(for _ in $(seq 150); do in_ns gw nft list table inet ringfence >/dev/null 2>&1 && break; sleep 0.02; done
 in_ns ws hping3 -q -S -p 443 -i u20000 -c 150 203.0.113.20 >/dev/null 2>&1) &
sender=$!
sleep 0.5
touch "$work/t1"
mark_log
start_daemon || exit 1
expect_true "the log says the files changed" since_mark "the policy files changed since $compiled was saved"
expect_drop "and it did not start from it" since_mark "starting from the compiled policy"
wait "$sender"
expect_pass "ws -> srv tcp/444 passes (the file on disk)" lab_tcp ws 203.0.113.20 444
expect_drop "ws -> srv tcp/443 is dropped" lab_tcp ws 203.0.113.20 443
sleep 1
expect_true "not one SYN to tcp/443 got through once a table existed ($(grep -c . "$work/syns") seen)" \
  test "$(grep -c . "$work/syns")" -eq 0
expect_true "a new compiled policy is saved" wait_saved "$work/t1"
expect_drop "the pump stays isolated" lab_tcp pump 203.0.113.20 443
stop_daemon

echo "# a damaged compiled policy is not used"
alter_compiled cb007114 cb007115 nofix  # 203.0.113.20 -> .21, the sum left as it was
expect_true "no table after the reboot" lab_reboot_gateway
touch "$work/t2"
mark_log
start_daemon || exit 1
expect_true "the log says it is unusable" since_mark "compiled policy unusable: $compiled: the data does not match its sum"
expect_pass "ws -> srv tcp/444 passes" lab_tcp ws 203.0.113.20 444
expect_drop "ws -> srv tcp/443 is dropped" lab_tcp ws 203.0.113.20 443
expect_true "a good compiled policy replaces it" wait_saved "$work/t2"
stop_daemon

echo "# a compiled policy altered with a valid sum: the start check catches it"
alter_compiled cb007114 cb007163 fix  # ws may reach 203.0.113.99 instead of .20
expect_true "no table after the reboot" lab_reboot_gateway
mark_log
touch "$work/t3"
start_daemon || exit 1
expect_true "it starts from it (the files are unchanged)" since_mark "starting from the compiled policy"
expect_true "the start check says the difference loudly" \
  wait_log "error: START CHECK: THE COMPILED POLICY STARTED FROM DIFFERS FROM A LOAD OF THE PROFILES FROM SCRATCH"
expect_true "and rebuilds the table from the profiles" wait_log "policy reloaded: 6 devices, table rebuilt"
expect_pass "ws -> srv tcp/444 passes (the file on disk)" lab_tcp ws 203.0.113.20 444
expect_drop "ws -> other tcp/444 is dropped" lab_tcp ws 203.0.113.99 444
expect_drop "the pump stays isolated" lab_tcp pump 203.0.113.20 443
expect_true "PolicyState current" since_mark "policy state current"
expect_true "the policy rebuilt is saved" wait_saved "$work/t3"
stop_daemon

# Only the plan altered (the comment of ws's element, "ws.yaml:6"): the
# policy is the profiles', so the check shares its devices, yet it compiles
# every one of them and compares each part with the one started from.
echo "# only the plan altered, with a valid sum: the start check catches it too"
alter_compiled "$(printf 'ws.yaml:6' | od -An -tx1 | tr -d ' \n')" \
  "$(printf 'ws.yaml:7' | od -An -tx1 | tr -d ' \n')" fix
expect_true "the file holds the altered comment" grep -aq "ws.yaml:7" "$compiled"
expect_true "no table after the reboot" lab_reboot_gateway
mark_log
start_daemon || exit 1
expect_true "it starts from it (the files are unchanged)" since_mark "starting from the compiled policy"
expect_true "the start check says the difference loudly" \
  wait_log "error: START CHECK: THE COMPILED POLICY STARTED FROM DIFFERS FROM A LOAD OF THE PROFILES FROM SCRATCH"
expect_true "and rebuilds the table from the profiles" wait_log "policy reloaded: 6 devices, table rebuilt"
expect_true "the kernel holds the profile's comment again" in_ns gw sh -c "nft list table inet ringfence | grep -q 'comment \"ws.yaml:6\"'"
expect_pass "ws -> srv tcp/444 passes" lab_tcp ws 203.0.113.20 444
stop_daemon

echo "# another build of the daemon does not use it"
alter_compiled cb007163 cb007114 fix  # whatever: the header's build is checked first
cp "$build/daemon/ringfenced" "$work/ringfenced-other"
expect_true "no table after the reboot" lab_reboot_gateway
mark_log
ip netns exec "$(lab_ns gw)" "$work/ringfenced-other" --config "$config" --bus none >>"$daemon_log" 2>&1 &
DAEMON=$!
expect_true "the other build says so" wait_log "was written by another build of ringfenced"
expect_true "and loads the profiles" wait_log "in force"
expect_pass "ws -> srv tcp/444 passes" lab_tcp ws 203.0.113.20 444
stop_daemon
lab_summary

# The test lab (docs/spec/lab.md): a gateway namespace with bridges dev0 and
# dev1 facing devices and lan0 facing LAN peers, one namespace per host with
# its own MAC, IPv4 and IPv6. Source this file; every namespace is named
# "rflab<pid>-<name>" and removed by lab_down, which the EXIT trap runs.
#
#   dev0  198.51.100.0/25    2001:db8:100::/65          gateway .1   / ::1
#   dev1  198.51.100.128/25  2001:db8:100:0:8000::/65   gateway .129 / 8000::1
#   lan0  203.0.113.0/24     2001:db8:200::/64          gateway .1   / ::1

LAB="rflab$$"
LAB_PIDS=()

lab_ns() { echo "$LAB-$1"; }
in_ns() { local ns=$1; shift; ip netns exec "$(lab_ns "$ns")" "$@"; }

lab_cleanup_stale() {
  local ns pid
  for ns in $(ip netns list | awk '{print $1}' | grep -E '^rflab[0-9]+-' || true); do
    pid=${ns#rflab}; pid=${pid%%-*}
    kill -0 "$pid" 2>/dev/null && continue
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
    ip netns del "$ns" 2>/dev/null || true
  done
}

lab_down() {
  local ns p
  for p in "${LAB_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for ns in $(ip netns list | awk '{print $1}' | grep -E "^$LAB-" || true); do
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
    ip netns del "$ns" 2>/dev/null || true
  done
}

lab_up() {
  lab_cleanup_stale
  trap lab_down EXIT
  trap 'exit 130' INT TERM
  ip netns add "$(lab_ns gw)"
  in_ns gw sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
  in_ns gw ip link set lo up
  # Each bridge gets a fixed MAC. Without one, a bridge takes the lowest MAC
  # of its ports, so adding a host can change the gateway's MAC; the devices
  # keep the old one in their ARP caches and their frames go to a port's MAC,
  # which the gateway does not route (up to ~30 s until ARP re-resolves).
  local br n=0
  for br in dev0 dev1 lan0; do
    n=$((n + 1))
    in_ns gw ip link add "$br" address "02:00:00:00:fe:0$n" type bridge
    in_ns gw ip link set "$br" up
  done
  in_ns gw ip addr add 198.51.100.1/25 dev dev0
  in_ns gw ip addr add 2001:db8:100::1/65 dev dev0 nodad
  in_ns gw ip addr add 198.51.100.129/25 dev dev1
  in_ns gw ip addr add 2001:db8:100:0:8000::1/65 dev dev1 nodad
  in_ns gw ip addr add 203.0.113.1/24 dev lan0
  in_ns gw ip addr add 2001:db8:200::1/64 dev lan0 nodad
}

# lab_host NAME BRIDGE IPV4 [IPV6] [MAC]: a host behind BRIDGE, routed via the gateway.
LAB_PORT=0
lab_host() {
  local name=$1 br=$2 v4=$3 v6=${4:-} mac=${5:-} gw4 gw6 len4 len6
  case $br in
    dev0) gw4=198.51.100.1; gw6=2001:db8:100::1; len4=25; len6=65 ;;
    dev1) gw4=198.51.100.129; gw6=2001:db8:100:0:8000::1; len4=25; len6=65 ;;
    lan0) gw4=203.0.113.1; gw6=2001:db8:200::1; len4=24; len6=64 ;;
  esac
  ip netns add "$(lab_ns "$name")"
  LAB_PORT=$((LAB_PORT + 1))
  local port="p$LAB_PORT"
  ip -n "$(lab_ns gw)" link add "$port" type veth peer name eth0 netns "$(lab_ns "$name")"
  ip -n "$(lab_ns gw)" link set "$port" master "$br" up
  in_ns "$name" ip link set lo up
  [[ -n $mac ]] && in_ns "$name" ip link set eth0 address "$mac"
  in_ns "$name" ip link set eth0 up
  in_ns "$name" ip addr add "$v4/$len4" dev eth0
  in_ns "$name" ip route add default via "$gw4"
  if [[ -n $v6 ]]; then
    in_ns "$name" ip addr add "$v6/$len6" dev eth0 nodad
    in_ns "$name" ip -6 route add default via "$gw6"
  fi
}

lab_remove_host() {
  local ns; ns=$(lab_ns "$1")
  for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
  ip netns del "$ns"
}

# lab_listen NAME tcp|udp PORT: echo servers on IPv4 and IPv6.
lab_listen() {
  local name=$1 proto=$2 port=$3
  if [[ $proto == tcp ]]; then
    in_ns "$name" socat TCP4-LISTEN:"$port",fork,reuseaddr SYSTEM:'echo ok' 2>/dev/null &
    LAB_PIDS+=($!)
    in_ns "$name" socat TCP6-LISTEN:"$port",fork,reuseaddr,ipv6only=1 SYSTEM:'echo ok' 2>/dev/null &
  else
    in_ns "$name" socat UDP4-LISTEN:"$port",fork,reuseaddr SYSTEM:'echo ok' 2>/dev/null &
    LAB_PIDS+=($!)
    in_ns "$name" socat UDP6-LISTEN:"$port",fork,reuseaddr,ipv6only=1 SYSTEM:'echo ok' 2>/dev/null &
  fi
  LAB_PIDS+=($!)
}

# Connection attempts from host NAME; succeed only if the peer answered.
lab_tcp() {  # NAME ADDR PORT
  local addr=$2; [[ $addr == *:* ]] && addr="[$addr]"
  # Output first, then grep: with pipefail, `| grep -q` fails when the writer gets SIGPIPE.
  local out; out=$(in_ns "$1" timeout 3 socat -T2 - "TCP:$addr:$3,connect-timeout=0.5" </dev/null 2>/dev/null)
  [[ $out == *ok* ]]
}
lab_udp() {  # NAME ADDR PORT
  local addr=$2; [[ $addr == *:* ]] && addr="[$addr]"
  local out; out=$(echo ping | in_ns "$1" timeout 3 socat -T0.5 - "UDP:$addr:$3" 2>/dev/null)
  [[ $out == *ok* ]]
}
lab_ping() {  # NAME ADDR
  in_ns "$1" ping -c1 -W0.5 -q "$2" >/dev/null 2>&1
}

# Assertions with a closing "N passed, N failed" line.
LAB_PASSED=0
LAB_FAILED=0
expect_pass() {  # DESCRIPTION COMMAND...
  local what=$1; shift
  if "$@" >/dev/null 2>&1; then LAB_PASSED=$((LAB_PASSED + 1)); echo "ok - $what"
  else LAB_FAILED=$((LAB_FAILED + 1)); echo "not ok - $what (expected to pass)"; fi
}
expect_drop() {  # DESCRIPTION COMMAND...
  local what=$1; shift
  if "$@" >/dev/null 2>&1; then LAB_FAILED=$((LAB_FAILED + 1)); echo "not ok - $what (expected to be dropped)"
  else LAB_PASSED=$((LAB_PASSED + 1)); echo "ok - $what"; fi
}
expect_true() { expect_pass "$@"; }
# lab_log_on_failure FILE: after a failed check, print FILE (the daemon's log)
# as TAP comments, so that a CI log explains the failure.
lab_log_on_failure() {
  [[ $LAB_FAILED -gt 0 && -f $1 ]] || return 0
  echo "# daemon log:"; sed "s/^/#   /" "$1"
}
lab_summary() {
  echo "$LAB_PASSED passed, $LAB_FAILED failed"
  [[ $LAB_FAILED -eq 0 ]]
}

# Fails loudly without root under CI=true; skips, saying so, elsewhere.
lab_require_root() {
  if [[ $EUID -ne 0 ]]; then
    if [[ ${CI:-} == true ]]; then echo "lab tests need root; CI=true forbids skipping" >&2; exit 1; fi
    echo "lab test skipped: needs root"; exit 0
  fi
}

# lab_require_scapy: the attack tests craft frames with scapy; without it
# they fail (they never skip).
lab_require_scapy() {
  /usr/bin/python3 -c 'import scapy.all' 2>/dev/null && return 0
  echo "missing python3-scapy (scripts/setup.sh)"; echo "0 passed, 1 failed"; exit 1
}
# lab_reboot_gateway: the gateway as after a reboot, no ruleset and no
# connection tracking; fails if a table is left.
lab_reboot_gateway() {
  in_ns gw nft delete table inet ringfence 2>/dev/null
  in_ns gw conntrack -F >/dev/null 2>&1
  ! in_ns gw nft list table inet ringfence >/dev/null 2>&1
}

# lab_scratch: after lab_up, a scratch directory $work with the daemon's log
# $daemon_log, printed if a check failed and removed with the lab at exit.
lab_scratch() {
  work=$(mktemp -d)
  daemon_log="$work/ringfenced.log"
  trap 'lab_log_on_failure "$daemon_log"; lab_down; rm -rf "$work"' EXIT
}

# lab_wait_more FILE REGEX BEFORE TRIES: until FILE holds more lines matching
# REGEX than BEFORE, checked every 0.1 s, at most TRIES times.
lab_wait_more() {
  local file=$1 regex=$2 before=$3 tries=$4
  for _ in $(seq "$tries"); do
    [[ $(grep -c -E "$regex" "$file" 2>/dev/null) -gt $before ]] && return 0
    sleep 0.1
  done
  return 1
}
# lab_start_daemon REGEX TRIES ARGS...: $build/daemon/ringfenced in the
# gateway with ARGS, its output appended to $daemon_log and its PID in
# DAEMON; waits (lab_wait_more) for one more log line matching REGEX.
lab_start_daemon() {
  local regex=$1 tries=$2; shift 2
  local before; before=$(grep -c -E "$regex" "$daemon_log" 2>/dev/null)
  # Not through in_ns: $! must be the daemon itself (ip netns exec execs it).
  ip netns exec "$(lab_ns gw)" "$build/daemon/ringfenced" "$@" >>"$daemon_log" 2>&1 &
  DAEMON=$!
  lab_wait_more "$daemon_log" "$regex" "${before:-0}" "$tries" && return 0
  echo "daemon did not start"; return 1
}
lab_stop_daemon() { kill -TERM "$DAEMON" 2>/dev/null; wait "$DAEMON" 2>/dev/null; }
# lab_reload_daemon: SIGHUP to DAEMON; waits up to 5 s for "policy reloaded".
lab_reload_daemon() {
  local before; before=$(grep -c "policy reloaded" "$daemon_log")
  kill -HUP "$DAEMON"
  lab_wait_more "$daemon_log" "policy reloaded" "$before" 50
}
# lab_copy_policy DATA_DIR: after lab_scratch, the test's policy copied to
# $work/etc, its state in $work/state (never the host's); sets $config.
lab_copy_policy() {
  cp -r "$1" "$work/etc"
  echo "state_dir: $work/state" >> "$work/etc/ringfence.yaml"
  config="$work/etc/ringfence.yaml"
}

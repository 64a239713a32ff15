#!/usr/bin/env bash
# The bridge topology's data plane (docs/bridge.md); prints figures, asserts
# nothing. Run as root: bash bench/bridge.sh BUILD_DIR [RUNS]
# 1. TCP throughput (iperf3, offloads off) from a device port through the
#    bridge and the devices' router to a server: the same bridge with no
#    ruleset, with conntrack only (br_netfilter and one rule), and with the
#    10,000-device policy, where the flow is allowed only by the last
#    device's last rule.
# 2. New connections per second through the bridge (a connect loop of 3 s
#    from the device to the server), with conntrack only and with the policy.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:?build dir}" && pwd)
runs=${2:-3}
source "$here/../tests/lab/lab.sh"
source "$here/../tests/lab/lab_bridge.sh"
source "$here/lib.sh"
work=$(mktemp -d)
lab_bridge_up
trap 'lab_down; rm -rf "$work"' EXIT

# 10,000 generated devices (tests/support/policy_generator.cc), made bridged:
# gen-9999 is 100.64.39.15 with MAC 02:01:00:00:27:0f.
ip netns add "$(lab_ns gen)"
ip netns exec "$(lab_ns gen)" "$build/bench/bench_apply" 10000 1 "$work/gen" >/dev/null
policy="$work/gen/policy"
cat > "$policy/ringfence.yaml" <<YAML
profiles: devices
groups: groups.yaml
state_dir: $work/state
topology: bridge
device_interfaces: [dev0]
uplink_interfaces: [up0]
YAML
python3 - "$policy/devices/gen-9999.yaml" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
s = s.replace("  inbound:\n", "    - to: 10.30.0.10\n      proto: tcp\n      ports: [5201, 5300]\n  inbound:\n", 1)
s += "violations:\n  action: alert\nlimits:\n  outbound_new_per_second: 1000000\n  concurrent_connections: 1000000\n"
open(p, "w").write(s)
PY

lab_bridge_device dev dev0 10.20.0.10 02:01:00:00:27:0f
in_ns dev ip addr add 100.64.39.15/32 dev eth0
in_ns router ip route add 100.64.39.15/32 dev eth0
lab_bridge_server srv 10.30.0.10
offloads_off gw lan router dev srv
accept_close_server srv 5300

throughput() { iperf_median dev srv 10.30.0.10 100.64.39.15 "$runs"; }
cps() { connects dev 100.64.39.15 10.30.0.10 5300 "$runs"; }

echo "== bridge data plane (medians of $runs runs)"
bare=$(throughput)
echo "no ruleset:                         $bare Gbit/s"
in_ns gw sysctl -qw net.bridge.bridge-nf-call-iptables=1 net.bridge.bridge-nf-call-ip6tables=1
conntrack_only gw
stateful=$(throughput)
stateful_cps=$(cps)
in_ns gw nft delete table inet conntrack_only
echo "conntrack only (br_netfilter):      $stateful Gbit/s, $stateful_cps connections/s"

ip netns exec "$(lab_ns gw)" "$build/daemon/ringfenced" --config "$policy/ringfence.yaml" --bus none 2>"$work/daemon.log" &
daemon=$!
for _ in $(seq 300); do grep -q "policy applied" "$work/daemon.log" && break; sleep 0.1; done
grep "policy applied" "$work/daemon.log"
in_ns dev timeout 2 socat -u - TCP:10.30.0.10:5202,bind=100.64.39.15,connect-timeout=0.5 </dev/null 2>/dev/null \
  && echo "unexpected: a port the policy does not allow passed" || echo "check: tcp/5202 from the same device is dropped"
with=$(throughput)
with_cps=$(cps)
kill -TERM "$daemon"; wait "$daemon" || true
echo "10,000 devices, last rule:          $with Gbit/s, $with_cps connections/s"
python3 -c "print('throughput, ratio to no ruleset:    %.2f' % ($with / $bare))"
python3 -c "print('throughput, ratio to conntrack:     %.2f' % ($with / $stateful))"
python3 -c "print('connections/s, ratio to conntrack:  %.2f' % ($with_cps / $stateful_cps))"

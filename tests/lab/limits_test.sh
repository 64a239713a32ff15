#!/usr/bin/env bash
# Per-device limits on real packets (docs/limits.md): new outbound
# connections per second and concurrent connections are enforced in the
# kernel, critical flows are never limited, excess is dropped and reported
# once per window, the inbound limit is reported too, and the daemon warns
# when the conntrack table passes conntrack_warn_percent.
# Usage: limits_test.sh BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:?build dir}" && pwd)
source "$here/lab.sh"
lab_require_root
for tool in /usr/bin/python3 socat; do
  command -v "$tool" >/dev/null || { echo "missing $tool (scripts/setup.sh)"; echo "0 passed, 1 failed"; exit 1; }
done

lab_up
lab_scratch
mkdir -p "$work/etc/profiles"
cat > "$work/etc/ringfence.yaml" <<YAML
profiles: profiles
state_dir: $work/state
device_interfaces: [dev0, dev1]
conntrack_warn_percent: 1
YAML
cat > "$work/etc/profiles/pump.yaml" <<'YAML'
device: pump
identity:
  addresses: [198.51.100.10]
allow:
  outbound:
    - to: 203.0.113.20
      proto: udp
      ports: ["5000-9000"]
limits:
  outbound_new_per_second: 5
violations:
  action: alert
YAML
cat > "$work/etc/profiles/mri.yaml" <<'YAML'
device: mri
identity:
  addresses: [198.51.100.20]
allow:
  outbound:
    - to: 203.0.113.20
      proto: tcp
      ports: [443]
    - to: 203.0.113.20
      proto: tcp
      ports: [2575]
      critical: true
limits:
  concurrent_connections: 3
violations:
  action: alert
YAML
cat > "$work/etc/profiles/mon.yaml" <<'YAML'
device: mon
identity:
  addresses: [198.51.100.30]
allow:
  inbound:
    - from: 203.0.113.20
      proto: tcp
      ports: [104]
limits:
  inbound_new_per_second: 2
YAML
cat > "$work/etc/profiles/analyzer.yaml" <<'YAML'
device: analyzer
identity:
  addresses: [198.51.100.40]
mode: learn
limits:
  outbound_new_per_second: 100000
  concurrent_connections: 100000
YAML
cat > "$work/etc/profiles/ws.yaml" <<'YAML'
device: ws
identity:
  addresses: [198.51.100.50]
allow:
  outbound:
    - to: 203.0.113.20
      proto: udp
      ports: ["5000-9000"]
YAML
lab_host pump dev0 198.51.100.10 2001:db8:100::10 02:00:00:00:00:10
lab_host mri dev0 198.51.100.20 2001:db8:100::20 02:00:00:00:00:20
lab_host mon dev0 198.51.100.30 2001:db8:100::30 02:00:00:00:00:30
lab_host analyzer dev0 198.51.100.40 2001:db8:100::40 02:00:00:00:00:40
lab_host ws dev0 198.51.100.50 2001:db8:100::50 02:00:00:00:00:50
lab_host srv lan0 203.0.113.20 2001:db8:200::20
lab_listen mon tcp 104
sleep 0.3

ip netns exec "$(lab_ns gw)" "$build/daemon/ringfenced" --config "$work/etc/ringfence.yaml" --bus none --log-level debug >"$daemon_log" 2>&1 &
DAEMON=$!
for _ in $(seq 50); do grep -q "policy applied" "$daemon_log" 2>/dev/null && break; sleep 0.1; done
expect_true "the daemon applied the policy" grep -q "policy applied" "$daemon_log"

# udp_flows HOST SRC COUNT FIRST_PORT: COUNT new flows (one datagram each, a
# port each) as fast as the sender can; srv counts what arrives.
udp_flows() {
  in_ns "$1" /usr/bin/python3 - "$2" "$3" "$4" <<'PY'
import socket, sys
src, n, first = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((src, 0))
for i in range(n):
    s.sendto(b"x", ("203.0.113.20", first + i))
PY
}
# srv_received FIRST LAST: datagrams srv received on ports FIRST..LAST, per
# srv's own counter rule.
in_ns srv nft -f - <<'NFT'
table inet srvcount { chain in { type filter hook input priority 0; policy accept;
  udp dport 5000-5999 counter
  udp dport 6000-6999 counter
  udp dport 7000-7999 counter
}
}
NFT
srv_received() {  # RULE_INDEX (0: 5000s, 1: 6000s, 2: 7000s)
  in_ns srv nft list chain inet srvcount in | sed -n 's/.*counter packets \([0-9]*\).*/\1/p' | sed -n "$(($1 + 1))p"
}
limit_rule_packets() {  # the kernel counter of the gateway's rule with this comment part
  in_ns gw nft list chain inet ringfence forward | grep "$1" | sed -n 's/.*counter packets \([0-9]*\).*/\1/p' | awk '{s += $1} END {print s + 0}'
}
reports() { grep -c "$1" "$daemon_log"; }

echo "# rate: 50 new flows at once from a device limited to 5/s (burst 5)"
udp_flows pump 198.51.100.10 50 5000
sleep 0.5
got=$(srv_received 0)
echo "# srv received $got of 50"
expect_true "the rate limit let the burst through (at least 5)" test "$got" -ge 5
expect_true "the rate limit dropped the excess (at most 10 arrived)" test "$got" -le 10
expect_true "the kernel counted the drops" test "$(limit_rule_packets outbound_new_per_second)" -ge 40
expect_true "the excess is reported once, not per packet" test "$(reports 'pump over its limits.outbound_new_per_second')" = 1
expect_true "the report names the device and the limit" grep -q "new outbound connections of device pump over its limits.outbound_new_per_second dropped" "$daemon_log"
expect_true "an over-limit drop is not a violation" sh -c "! grep -q 'violation by pump' '$daemon_log'"
echo "# one connection is counted once: a one-way stream of 50 datagrams on one flow"
sleep 1.2  # the tokens are back
in_ns pump /usr/bin/python3 - <<'PY'
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("198.51.100.10", 47000))
for i in range(50):
    s.sendto(b"x", ("203.0.113.20", 7000))
PY
sleep 0.5
expect_true "all 50 packets of the unanswered flow arrived ($(srv_received 2))" test "$(srv_received 2)" = 50
echo "# control: a device with the default limit (200/s) gets all 50 through"
udp_flows ws 198.51.100.50 50 6000
sleep 0.5
expect_true "the default limit lets 50 new flows through" test "$(srv_received 1)" = 50

echo "# concurrent connections: 6 held TCP connections from a device limited to 3"
lab_listen srv tcp 443
lab_listen srv tcp 2575
sleep 0.3
hold() {  # PORT COUNT: opens COUNT connections at once, prints how many connected, holds 3 s
  in_ns mri /usr/bin/python3 - "$1" "$2" <<'PY'
import socket, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
ok, socks = 0, []
for i in range(n):
    s = socket.socket(); s.settimeout(1.5)
    try:
        s.connect(("203.0.113.20", port)); ok += 1; socks.append(s)
    except OSError:
        pass
print(ok)
time.sleep(1)
PY
}
conns=$(hold 443 6)
echo "# $conns of 6 connected"
expect_true "only 3 concurrent connections were admitted" test "$conns" = 3
expect_true "the connection limit is reported" grep -q "mri over its limits.concurrent_connections dropped" "$daemon_log"
sleep 2
expect_true "once they are closed, a new connection is admitted" lab_tcp mri 203.0.113.20 443
crit=$(hold 2575 6)
echo "# critical: $crit of 6 connected"
expect_true "critical flows are never limited (6 of 6)" test "$crit" = 6

echo "# the inbound limit (2/s) is reported once"
for i in $(seq 10); do in_ns srv timeout 0.3 bash -c 'exec 3<>/dev/tcp/198.51.100.30/104' 2>/dev/null; done
expect_true "inbound connections over the limit were dropped" test "$(in_ns gw nft list ruleset | grep 'inbound connections over the limit' | sed -n 's/.*counter packets \([0-9]*\).*/\1/p' | awk '{s += $1} END {print s + 0}')" -ge 1
expect_true "the inbound limit is reported once" test "$(reports 'mon over its limits.inbound_new_per_second')" = 1

echo "# conntrack fill: 3,000 flows (over 1 % of nf_conntrack_max) from a learn device"
max=$(in_ns gw cat /proc/sys/net/netfilter/nf_conntrack_max)
need=$((max / 100 + 500))
udp_flows analyzer 198.51.100.40 "$need" 10000
echo "# nf_conntrack_max $max; $need flows sent; count now $(in_ns gw cat /proc/sys/net/netfilter/nf_conntrack_count)"
for _ in $(seq 80); do grep -q "CONNTRACK TABLE FILLING UP" "$daemon_log" && break; sleep 0.1; done
expect_true "the daemon warns that the conntrack table fills up" grep -q "CONNTRACK TABLE FILLING UP" "$daemon_log"
expect_true "the warning is given once" test "$(reports 'CONNTRACK TABLE FILLING UP')" = 1

kill -TERM "$DAEMON"; wait "$DAEMON" 2>/dev/null
lab_summary

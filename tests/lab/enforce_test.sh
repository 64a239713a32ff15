#!/usr/bin/env bash
# Enforcement on real packets (issue "Enforcement"): ringfenced on a lab
# gateway, IPv4 and IPv6, allowed and forbidden flows, spoofing, unknown
# hosts, reloads good and bad, restart, a foreign table, a flush.
# Usage: enforce_test.sh BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:?build dir}" && pwd)
source "$here/lab.sh"
lab_require_root

work=$(mktemp -d)
cleanup() {
  lab_log_on_failure "${daemon_log:-}"
  lab_down; rm -rf "$work"
}
lab_up
trap cleanup EXIT
cp -r "$here/../data/lab" "$work/etc"
config="$work/etc/ringfence.yaml"
echo "state_dir: $work/state" >> "$config"  # never the host's /var/lib/ringfence

# Devices: pump and analyzer behind dev0, ct behind dev1; LAN peers behind lan0.
lab_host pump dev0 198.51.100.10 "" 02:00:00:00:00:10
lab_host analyzer dev0 198.51.100.40 "" 02:00:00:00:00:40
lab_host ct dev1 198.51.100.130 2001:db8:100:0:8000::130 02:00:00:00:01:30
lab_host srv1 lan0 203.0.113.20 2001:db8:200::20
lab_host srv2 lan0 203.0.113.21 2001:db8:200::21
lab_host ntp lan0 203.0.113.10 2001:db8:200::10
lab_host dns lan0 203.0.113.11 2001:db8:200::11
lab_host pacs lan0 203.0.113.30 2001:db8:200::30
lab_host ris lan0 203.0.113.31 2001:db8:200::31
lab_host support lan0 203.0.113.70 2001:db8:200::70
lab_host other lan0 203.0.113.99 2001:db8:200::99
for h in srv1 srv2 other support; do lab_listen "$h" tcp 443; lab_listen "$h" tcp 22; lab_listen "$h" tcp 8005; done
lab_listen ntp udp 123; lab_listen ntp tcp 123; lab_listen dns udp 53
lab_listen pacs tcp 104; lab_listen pacs tcp 11112; lab_listen ris tcp 104
lab_listen ct tcp 104; lab_listen ct tcp 11112; lab_listen pump tcp 443
sleep 0.3

# An admin's own table with its own rule: ringfence must never touch it.
in_ns gw nft -f - <<'NFT'
table inet admin {
  chain admin_forward {
    type filter hook forward priority 10; policy accept;
    ip daddr 203.0.113.21 tcp dport 443 drop
  }
}
NFT

daemon_log="$work/ringfenced.log"
start_daemon() {
  lab_start_daemon "policy applied" 50 --config "$config" --bus none "$@" && return 0
  cat "$daemon_log"; return 1
}
stop_daemon() { lab_stop_daemon; }
reload_daemon() {  # applied or refused
  local done="policy reloaded|running policy stays"
  local before; before=$(grep -c -E "$done" "$daemon_log")
  kill -HUP "$DAEMON"
  lab_wait_more "$daemon_log" "$done" "$before" 50
}

expect_pass "before the daemon: no filtering yet" lab_tcp pump 203.0.113.99 443
start_daemon || exit 1
expect_true "table inet ringfence is in the kernel" in_ns gw nft list table inet ringfence

echo "# outbound, IPv4"
expect_pass "pump -> @servers tcp/443" lab_tcp pump 203.0.113.20 443
expect_drop "pump -> @servers tcp/22 (other port)" lab_tcp pump 203.0.113.20 22
expect_drop "pump -> other peer tcp/443" lab_tcp pump 203.0.113.99 443
expect_pass "pump -> ntp udp/123" lab_udp pump 203.0.113.10 123
expect_drop "pump -> ntp tcp/123 (wrong protocol)" lab_tcp pump 203.0.113.10 123
expect_pass "pump -> CIDR peer in 203.0.113.64/26, port in range 8000-8010" lab_tcp pump 203.0.113.70 8005
expect_drop "pump -> peer outside the CIDR on the range port" lab_tcp pump 203.0.113.20 8005
expect_pass "pump -> icmp to 203.0.113.20" lab_ping pump 203.0.113.20
expect_drop "pump -> icmp to 203.0.113.21" lab_ping pump 203.0.113.21
echo "# outbound and inbound, IPv4 and IPv6"
expect_pass "ct -> @pacs tcp/104 (IPv4)" lab_tcp ct 203.0.113.30 104
expect_pass "ct -> @pacs tcp/104 (IPv6)" lab_tcp ct 2001:db8:200::30 104
expect_drop "ct -> @pacs tcp/11112 (IPv6, other port)" lab_tcp ct 2001:db8:200::30 11112
expect_drop "ct -> ris tcp/104 (IPv4, not in @pacs)" lab_tcp ct 203.0.113.31 104
expect_pass "ct -> dns udp/53 (IPv6 only rule)" lab_udp ct 2001:db8:200::11 53
expect_drop "ct -> dns udp/53 over IPv4 (no IPv4 rule)" lab_udp ct 203.0.113.11 53
expect_pass "pacs -> ct tcp/104 inbound (IPv4)" lab_tcp pacs 198.51.100.130 104
expect_pass "pacs -> ct tcp/104 inbound (IPv6)" lab_tcp pacs 2001:db8:100:0:8000::130 104
expect_drop "pacs -> ct tcp/11112 inbound (other port)" lab_tcp pacs 198.51.100.130 11112
expect_drop "ris -> ct tcp/104 inbound (wrong peer)" lab_tcp ris 198.51.100.130 104
expect_drop "srv1 -> pump tcp/443 (wrong direction)" lab_tcp srv1 198.51.100.10 443
expect_pass "support -> ct icmp (inbound CIDR rule)" lab_ping support 198.51.100.130
expect_pass "support -> ct icmpv6 (inbound IPv6 prefix rule)" lab_ping support 2001:db8:100:0:8000::130
expect_drop "other -> pump icmp (no rule)" lab_ping other 198.51.100.10
expect_drop "ct -> pacs icmpv6 (no outbound icmp rule)" lab_ping ct 2001:db8:200::30

echo "# a foreign table keeps working"
expect_drop "pump -> srv2 tcp/443: allowed by ringfence, dropped by the admin's table" lab_tcp pump 203.0.113.21 443
expect_true "the admin's table is untouched" sh -c "ip netns exec $(lab_ns gw) nft list table inet admin | grep -q '203.0.113.21'"

echo "# spoofing and unknown hosts"
lab_host rogue-mac dev0 198.51.100.11 "" 02:00:00:00:00:66
in_ns rogue-mac ip addr add 198.51.100.10/32 dev eth0
spoof_from() { local out; out=$(in_ns "$1" timeout 3 socat -T2 - "TCP:$2:$3,bind=$4,connect-timeout=1" </dev/null 2>/dev/null); [[ $out == *ok* ]]; }
expect_drop "pump's address from another MAC" spoof_from rogue-mac 203.0.113.20 443 198.51.100.10
lab_host rogue-if dev1 198.51.100.140 "" 02:00:00:00:00:67
in_ns rogue-if ip addr add 198.51.100.40/32 dev eth0
expect_pass "analyzer (bound to dev0) from dev0" lab_tcp analyzer 203.0.113.20 443
expect_drop "analyzer's address arriving on dev1" spoof_from rogue-if 203.0.113.20 443 198.51.100.40
expect_drop "an unknown host on a device interface" lab_tcp rogue-mac 203.0.113.20 443
# The rogues announced the pump's and analyzer's addresses over ARP: remove them
# and let the gateway learn the real owners again.
lab_remove_host rogue-mac; lab_remove_host rogue-if
in_ns gw ip neigh flush dev dev0; in_ns gw ip neigh flush dev dev1
expect_true "the unknown host was reported to NFLOG" sh -c "ip netns exec $(lab_ns gw) nft list chain inet ringfence unknown_src | grep -q 'log prefix'"

echo "# a refused reload changes nothing"
cp "$work/etc/profiles/pump.yaml" "$work/pump.good"
echo "mode: sideways" >> "$work/etc/profiles/pump.yaml"
reload_daemon
expect_true "the daemon said why it refused" grep -q "invalid mode 'sideways'" "$daemon_log"
expect_pass "pump -> @servers tcp/443 still passes" lab_tcp pump 203.0.113.20 443
expect_drop "pump -> tcp/22 still dropped" lab_tcp pump 203.0.113.20 22
cp "$work/pump.good" "$work/etc/profiles/pump.yaml"

echo "# a good reload changes exactly what changed; an established session keeps flowing"
in_ns srv1 socat -u TCP4-LISTEN:2222,reuseaddr OPEN:"$work/stream",creat,append &
LAB_PIDS+=($!)
sed -i 's/ports: \[443\]/ports: [443, 2222, 22]/' "$work/etc/profiles/pump.yaml"
reload_daemon
# The compile cache learned the policy after start (off the loop): the first
# reload that applies compiles the changed device alone.
expect_true "the first applied reload compiled one device" sh -c \
  "grep 'policy reloaded' '$daemon_log' | tail -1 | grep -q '; 1 device compiled'"
(for i in $(seq 60); do echo "tick $i"; sleep 0.1; done) | in_ns pump socat -u - TCP4:203.0.113.20:2222 &
LAB_PIDS+=($!)
sleep 1.5
sed -i 's/ports: \[443, 2222, 22\]/ports: [443, 2222]/; s/ports: \[123\]/ports: [124]/' "$work/etc/profiles/pump.yaml"
reload_daemon
expect_true "the reload sent a handful of messages, not the whole table" grep -q "element changes, [0-9] messages" "$daemon_log"
expect_true "the reload read, parsed and compiled only the changed profile" sh -c \
  "grep 'policy reloaded' '$daemon_log' | tail -1 | grep -q '; 1 profile read, [1-9][0-9]* unchanged; 1 profile parsed; 1 device compiled'"
before=$(wc -l < "$work/stream"); sleep 1.5; after=$(wc -l < "$work/stream")
expect_true "established session kept flowing across the reload ($before -> $after lines)" test "$after" -gt "$before"
expect_drop "pump -> tcp/22 closed by the reload" lab_tcp pump 203.0.113.20 22
expect_drop "pump -> ntp udp/123 closed by the reload" lab_udp pump 203.0.113.10 123
expect_pass "pump -> tcp/443 unchanged" lab_tcp pump 203.0.113.20 443
expect_pass "ct unchanged" lab_tcp ct 203.0.113.30 104

echo "# a restart never opens a gap"
probe_log="$work/probe"
probe() { local out; out=$(in_ns pump timeout 1 socat -T1 - "TCP:203.0.113.99:443,connect-timeout=0.2" </dev/null 2>/dev/null); [[ $out == *ok* ]]; }
( for i in $(seq 40); do
    if probe; then echo "LEAK $i"; else echo "blocked $i"; fi
  done ) >"$probe_log" 2>&1 &
probe=$!
sleep 0.5
stop_daemon
expect_true "after stop the ruleset is still in the kernel" in_ns gw nft list table inet ringfence
sleep 0.5
start_daemon
wait $probe
expect_true "no forbidden packet passed during the restart ($(grep -c blocked "$probe_log") probes)" \
  sh -c "! grep -q LEAK '$probe_log' && test \$(grep -c blocked '$probe_log') -eq 40"
expect_pass "allowed flow works after the restart" lab_tcp pump 203.0.113.20 443

echo "# someone flushes the ruleset"
in_ns gw nft flush ruleset
expect_true "the owned table survives nft flush ruleset" in_ns gw nft list table inet ringfence
expect_drop "still enforcing after the flush" lab_tcp pump 203.0.113.99 443
expect_drop "nobody else may delete the owned table" in_ns gw nft delete table inet ringfence
stop_daemon
start_daemon --no-table-owner
in_ns gw nft flush ruleset
sleep 1
expect_true "an unowned table flushed by someone is put back within a second" \
  sh -c "ip netns exec $(lab_ns gw) nft list chain inet ringfence forward | grep -q 'jump out4'"
expect_true "the daemon said it put the table back" grep -q "table put back" "$daemon_log"
expect_drop "enforcing again after the flush" lab_tcp pump 203.0.113.99 443
expect_pass "allowed flow after the flush" lab_tcp pump 203.0.113.20 443
stop_daemon

lab_summary

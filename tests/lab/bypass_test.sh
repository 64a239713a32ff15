#!/usr/bin/env bash
# Attacks on the gateway with real packets (scapy, hping3): link-scope
# sources that must not skip the checks, LAN scans that must not isolate a
# device (probes), device-to-device flows charged to the opener, ICMP errors
# quoting other flows, and IPv6 extension headers in front of a port scan.
# Arrivals are counted by nft counters in the receiving namespace, so a test
# sees every packet that got through, not only completed connections.
# Usage: bypass_test.sh BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:?build dir}" && pwd)
source "$here/lab.sh"
lab_require_root
for tool in hping3 /usr/bin/python3; do
  if ! command -v "$tool" >/dev/null; then
    echo "bypass_test needs $tool (scripts/setup.sh installs it)" >&2
    exit 1
  fi
done
if ! /usr/bin/python3 -c 'import scapy' 2>/dev/null; then
  echo "bypass_test needs python3-scapy (scripts/setup.sh installs it)" >&2
  exit 1
fi

work=$(mktemp -d)
chmod 755 "$work"
daemon_log="$work/ringfenced.log"
cleanup() {
  lab_log_on_failure "${daemon_log:-}"
  lab_down; rm -rf "$work"
}
lab_up
trap cleanup EXIT
cp -r "$here/../data/bypass" "$work/etc"
echo "state_dir: $work/state" >> "$work/etc/ringfence.yaml"
config="$work/etc/ringfence.yaml"

bus="unix:path=$work/bus"
dbus-daemon --config-file="$here/../data/dbus/test-bus.conf" --address="$bus" --nofork --nopidfile &
LAB_PIDS+=($!)
for _ in $(seq 50); do [[ -S $work/bus ]] && break; sleep 0.1; done

lab_host pump dev0 198.51.100.10 2001:db8:100::10 02:00:00:00:00:10
lab_host pump2 dev0 198.51.100.20 2001:db8:100::20 02:00:00:00:00:20
lab_host monitor dev0 198.51.100.30 2001:db8:100::30 02:00:00:00:00:30
lab_host stranger dev0 198.51.100.77 "" 02:00:00:00:00:77
lab_host ws dev1 198.51.100.150 2001:db8:100:0:8000::150 02:00:00:00:01:50
lab_host srv lan0 203.0.113.20 2001:db8:200::20
lab_host crit lan0 203.0.113.21
lab_host other lan0 203.0.113.99 2001:db8:200::99
lab_host scanner lan0 203.0.113.66 2001:db8:200::66
for h in srv crit other; do lab_listen "$h" tcp 443; done
for p in 22 445 2575; do lab_listen other tcp "$p"; done
lab_listen srv tcp 2575
lab_listen monitor tcp 2575; lab_listen monitor tcp 22
in_ns srv socat TCP4-LISTEN:8443,fork,reuseaddr SYSTEM:'sleep 60' 2>/dev/null & LAB_PIDS+=($!)
sleep 0.3

ctl() { "$build/ctl/ringfencectl" --bus "$bus" "$@"; }
dprop() {
  busctl --address="$bus" get-property io.ringfence.Gateway1 "/io/ringfence/Gateway1/device/$1" \
    io.ringfence.Gateway1.Device "$2" | awk '{print $2}'
}
start_daemon() {
  ip netns exec "$(lab_ns gw)" "$build/daemon/ringfenced" --config "$config" --bus "$bus" >>"$daemon_log" 2>&1 &
  DAEMON=$!
  for _ in $(seq 50); do busctl --address="$bus" status io.ringfence.Gateway1 >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "daemon did not start"; return 1
}
isolated() { local set; set=$(in_ns gw nft list set inet ringfence isolated4); [[ $set == *"$1"* ]]; }
wait_isolated() { for _ in $(seq 50); do isolated "$1" && return 0; sleep 0.02; done; return 1; }

# Arrival counters in a receiving namespace: watch NS TAG NFT-MATCH..., then arrivals NS TAG.
watch() {
  local ns=$1 tag=$2; shift 2
  in_ns "$ns" nft add table inet rfcount
  in_ns "$ns" nft 'add chain inet rfcount pre { type filter hook prerouting priority -300; }'
  in_ns "$ns" nft add rule inet rfcount pre "$@" counter comment "\"$tag\""
}
arrivals() {
  in_ns "$1" nft list chain inet rfcount pre | grep "comment \"$2\"" | sed -E 's/.*packets ([0-9]+).*/\1/'
}
none_arrived() { [[ $(arrivals "$1" "$2") == 0 ]]; }
scapy() { in_ns "$1" /usr/bin/python3 -c "from scapy.all import *
conf.verb = 0
$2"; }

start_daemon || exit 1

echo "# 1. a link-scope source skips no check"
in_ns gw ip route add 169.254.0.0/16 dev dev0   # a zeroconf route on the gateway
watch other ll-from-pump ip saddr 169.254.7.7
watch other ll-from-stranger ip saddr 169.254.8.8
watch other ll-from-ws ip saddr 198.51.100.150 ip daddr 169.254.9.9
watch monitor ll-from-lan ip saddr 169.254.6.6 tcp dport 22
expect_pass "before: pump -> srv tcp/443 (allowed)" lab_tcp pump 203.0.113.20 443
lab_tcp pump 203.0.113.99 22   # a violation: the pump (threshold 1) is isolated
expect_true "the pump is isolated" wait_isolated 198.51.100.10
for port in 22 445 443; do
  in_ns pump hping3 -q -S -a 169.254.7.7 -p "$port" -c 3 -i u20000 203.0.113.99 >/dev/null 2>&1
done
scapy pump "send([IP(src='169.254.7.7', dst=d)/TCP(sport=41000 + p, dport=p, flags='S')
              for d in ('203.0.113.99', '203.0.113.20') for p in (22, 443, 445)])"
expect_true "isolated pump, spoofed 169.254.7.7 source: nothing reached the LAN ($(arrivals other ll-from-pump) packets)" \
  none_arrived other ll-from-pump
in_ns pump ip addr add 169.254.7.7/16 dev eth0
session() { local out; out=$(in_ns pump timeout 3 socat -T2 - "TCP:203.0.113.99:445,bind=169.254.7.7,connect-timeout=1" </dev/null 2>/dev/null); [[ $out == *ok* ]]; }
expect_drop "isolated pump: no TCP session to port 445 from its zeroconf address" session
in_ns pump ip addr del 169.254.7.7/16 dev eth0
for port in 22 445; do
  in_ns stranger hping3 -q -S -a 169.254.8.8 -p "$port" -c 3 -i u20000 203.0.113.99 >/dev/null 2>&1
done
expect_true "unknown host, spoofed 169.254.8.8 source: nothing reached the LAN" none_arrived other ll-from-stranger
sleep 0.3
# The isolated pump's MAC is in isolated_mac: its 169.254 packets are cut
# off as the isolated device's before the unknown-host checks.
expect_drop "the isolated pump's 169.254 source is cut off by its MAC, not reported as an unknown host" \
  grep -q "unknown host 169.254.7.7 (MAC 02:00:00:00:00:10) on dev0" "$daemon_log"
expect_true "the stranger's 169.254 source too" grep -q "unknown host 169.254.8.8 (MAC 02:00:00:00:00:77) on dev0" "$daemon_log"
in_ns other ip addr add 169.254.9.9/16 dev eth0
in_ns gw ip route add 169.254.9.9/32 dev lan0
scapy ws "send([IP(dst='169.254.9.9')/TCP(sport=42000 + p, dport=p, flags='S') for p in (22, 445)])"
expect_true "a device's flow to a routed link-local destination is judged: nothing arrived" \
  none_arrived other ll-from-ws
sleep 0.3
expect_true "and it is a violation of the device" \
  grep -q "violation by ws (outbound): tcp 198.51.100.150:42022 -> 169.254.9.9:22, dropped" "$daemon_log"
scapy scanner "send([IP(src='169.254.6.6', dst='198.51.100.30')/TCP(sport=43000 + i, dport=22, flags='S') for i in range(3)])"
expect_true "a LAN host's 169.254 source does not reach the monitor's forbidden port" none_arrived monitor ll-from-lan
echo "# 1. link-scope traffic that must pass still passes"
watch pump2 dhcp-discover udp dport 67
scapy monitor "sendp(Ether(src='02:00:00:00:00:30', dst='ff:ff:ff:ff:ff:ff')/IP(src='0.0.0.0', dst='255.255.255.255')/UDP(sport=68, dport=67)/BOOTP(chaddr=b'\x02\0\0\0\0\x30')/DHCP(options=[('message-type', 'discover'), 'end']), iface='eth0', count=2)"
sleep 0.3
expect_true "a DHCP discovery crosses the device bridge ($(arrivals pump2 dhcp-discover) arrived)" \
  test "$(arrivals pump2 dhcp-discover)" -ge 2
expect_drop "and is not an unknown host" grep -q "unknown host 0.0.0.0" "$daemon_log"
in_ns monitor ip -6 neigh flush dev eth0; in_ns pump2 ip -6 neigh flush dev eth0
ctl release pump --reason "test: next part" >/dev/null
expect_pass "neighbour discovery between two devices on one bridge: pump pings monitor over IPv6" \
  lab_ping pump 2001:db8:100::30
expect_pass "neighbour discovery with the gateway: ws -> srv tcp/443 over IPv6" lab_tcp ws 2001:db8:200::20 443

echo "# 2. a LAN scan is a probe: it never isolates the device it scans"
ctl events > "$work/events" 2>&1 & LAB_PIDS+=($!)
probes_before=$(dprop monitor ProbesReceived)   # the 169.254 probes above
sleep 1
scapy scanner "send([IP(dst='198.51.100.30')/TCP(sport=44000, dport=p, flags='S') for p in range(1000, 1020)])"
scapy scanner "send([IP(dst='198.51.100.30')/TCP(sport=44000, dport=p, flags='S') for p in range(1000, 1005)])"
sleep 0.5
expect_drop "the threshold-1 monitor is not isolated by a 20-port scan from the LAN" isolated 198.51.100.30
expect_true "ProbesReceived counts the 20 distinct flows, retries once ($probes_before -> $(dprop monitor ProbesReceived))" \
  test "$(dprop monitor ProbesReceived)" = $((probes_before + 20))
expect_true "they are no violations of the monitor ($(dprop monitor Violations))" test "$(dprop monitor Violations)" = 0
expect_true "a Probe signal per flow ($(grep -c ' Probe monitor tcp 203.0.113.66:44000 -> 198.51.100.30:10[01][0-9]' "$work/events"))" \
  test "$(grep -c ' Probe monitor tcp 203.0.113.66:44000 -> 198.51.100.30:10[01][0-9]' "$work/events")" -eq 20
expect_true "the probes are logged" grep -q "probe of monitor from 203.0.113.66, a host that is not a device: tcp 203.0.113.66:44000 -> 198.51.100.30:1000, dropped" "$daemon_log"
expect_true "at a limited rate ($(grep -c 'probe of monitor from 203.0.113.66' "$daemon_log") lines)" \
  test "$(grep -c 'probe of monitor from 203.0.113.66' "$daemon_log")" -le 10
n=$((probes_before + 20))
expect_true "show lists them" sh -c "'$build/ctl/ringfencectl' --bus '$bus' show monitor | grep -q '^Probes: *$n received'"
expect_true "show --json too" sh -c "'$build/ctl/ringfencectl' --bus '$bus' --json show monitor | grep -q '\"probes_received\":$n,'"
expect_drop "the scanner's connection to the monitor's forbidden port is dropped" lab_tcp scanner 198.51.100.30 22
expect_pass "the monitor's allowed inbound flow still works (srv -> monitor tcp/2575)" lab_tcp srv 198.51.100.30 2575
expect_pass "and its outbound one (monitor -> srv tcp/2575)" lab_tcp monitor 203.0.113.20 2575
echo "# 2. between two devices the opener answers for the flow"
expect_drop "pump2 -> monitor tcp/22: pump2 may send it, the monitor may not receive it" lab_tcp pump2 198.51.100.30 22
expect_true "pump2, the opener, is isolated" wait_isolated 198.51.100.20
expect_drop "the monitor is not" isolated 198.51.100.30
expect_true "it is pump2's violation" grep -q "violation by pump2 (outbound): tcp 198.51.100.20:[0-9]* -> 198.51.100.30:22, dropped" "$daemon_log"
expect_true "the monitor still has no violation" test "$(dprop monitor Violations)" = 0
scapy scanner "send([IP(src='198.51.100.10', dst='198.51.100.30')/TCP(sport=45000, dport=p, flags='S') for p in (22, 23)])"
sleep 0.3
expect_drop "a LAN host forging the pump's address cannot have the pump isolated" isolated 198.51.100.10
expect_true "the forgery is reported" grep -q "packet with pump's address 198.51.100.10 from MAC .* on lan0 dropped" "$daemon_log"
expect_pass "the pump still works" lab_tcp pump 203.0.113.20 443

echo "# 3. an ICMP error passes only from an endpoint of the flow it quotes"
sleep 60 | in_ns pump socat - TCP4:203.0.113.20:8443 & LAB_PIDS+=($!)
sport=
for _ in $(seq 50); do
  sport=$(in_ns gw conntrack -L -p tcp -s 198.51.100.10 -d 203.0.113.20 --dport 8443 2>/dev/null |
    sed -nE 's/.*ESTABLISHED src=198.51.100.10 dst=203.0.113.20 sport=([0-9]+).*/\1/p' | head -1)
  [[ -n $sport ]] && break; sleep 0.1
done
expect_true "the pump has a live flow to srv tcp/8443 (port ${sport:-none})" test -n "$sport"
# An error "about" srv's packets to the pump, sent toward srv: conntrack
# relates it to the pump's flow. Only the pump may send it.
forge_error() { scapy "$1" "send(IP(src='$2', dst='203.0.113.20')/ICMP(type=3, code=3)/IP(src='203.0.113.20', dst='198.51.100.10')/TCP(sport=8443, dport=${sport:-1}, flags='PA')/Raw(b'$3'), count=3)"; }
watch srv related-from-pump2 ip saddr 198.51.100.20 icmp type destination-unreachable
watch srv related-from-ws ip saddr 198.51.100.150 icmp type destination-unreachable
watch srv related-from-pump ip saddr 198.51.100.10 icmp type destination-unreachable
expect_true "pump2 is still isolated" isolated 198.51.100.20
forge_error pump2 198.51.100.20 LEAK-isolated
expect_true "an isolated device's ICMP error quoting the pump's live flow: nothing arrived ($(arrivals srv related-from-pump2))" \
  none_arrived srv related-from-pump2
forge_error ws 198.51.100.150 LEAK-ws
expect_true "another device's error quoting it: nothing arrived ($(arrivals srv related-from-ws))" none_arrived srv related-from-ws
sleep 0.3
expect_true "that is a violation of the sender" grep -q "violation by ws (outbound): icmp 198.51.100.150 -> 203.0.113.20, dropped" "$daemon_log"
forge_error pump 198.51.100.10 own-error
expect_true "the pump's own error about its flow arrives ($(arrivals srv related-from-pump))" \
  test "$(arrivals srv related-from-pump)" -ge 3
expect_drop "and the pump is not isolated for it" isolated 198.51.100.10

echo "# 4. an IPv6 extension header does not blind the judge"
watch other v6-scan ip6 saddr 2001:db8:100:0:8000::150
v_before=$(dprop ws Violations)
scapy ws "send([IPv6(dst='2001:db8:200::99')/IPv6ExtHdrDestOpt()/TCP(sport=46000, dport=p, flags='S') for p in range(2000, 2020)])"
scapy ws "send([IPv6(dst='2001:db8:200::99')/IPv6ExtHdrHopByHop()/IPv6ExtHdrDestOpt(options=[PadN(optdata=b'x' * 100)])/UDP(sport=46000, dport=p) for p in range(3000, 3003)])"
sleep 0.5
expect_true "nothing of the scan arrived ($(arrivals other v6-scan))" none_arrived other v6-scan
expect_true "a 20-port TCP scan behind a destination-options header and 3 UDP flows behind two headers count 23 violations ($v_before -> $(dprop ws Violations))" \
  test "$(dprop ws Violations)" = $((v_before + 23))
expect_true "with protocol and ports" \
  grep -q "violation by ws (outbound): tcp \[2001:db8:100:0:8000::150\]:46000 -> \[2001:db8:200::99\]:2000, dropped" "$daemon_log"
shows_udp() { ctl show ws | grep -q "outbound *udp *\[2001:db8:100:0:8000::150\]:46000 -> \[2001:db8:200::99\]:3002"; }
expect_true "behind two headers too (show lists it)" shows_udp
expect_drop "never as 'proto 60'" grep -q "violation by ws.*proto 60" "$daemon_log"

echo "# 5. the gateway is a wall too"
lab_listen gw tcp 22; lab_listen gw tcp 2222
sleep 0.3
v_before=$(dprop ws Violations)
for a in 198.51.100.129 203.0.113.1 2001:db8:100:0:8000::1 2001:db8:200::1; do
  expect_drop "ws -> the gateway's sshd at $a" lab_tcp ws "$a" 22
done
expect_drop "ws -> ping the gateway" lab_ping ws 198.51.100.129
sleep 0.3
expect_true "each try is a violation of ws ($v_before -> $(dprop ws Violations))" test "$(dprop ws Violations)" -ge $((v_before + 5))
expect_true "logged with the gateway's address" grep -q "violation by ws (outbound): tcp 198.51.100.150:[0-9]* -> 203.0.113.1:22, dropped" "$daemon_log"
expect_pass "gateway_services: ws -> the gateway tcp/2222" lab_tcp ws 198.51.100.129 2222
expect_drop "an isolated device reaches not even a gateway service (pump2 -> tcp/2222)" lab_tcp pump2 198.51.100.1 2222
expect_drop "an unknown host -> the gateway's sshd" lab_tcp stranger 198.51.100.1 22
sleep 0.3
expect_true "is reported as an unknown host" grep -q "unknown host 198.51.100.77 (MAC 02:00:00:00:00:77) on dev0" "$daemon_log"
expect_pass "the gateway pings a device" in_ns gw ping -c1 -W1 -q 198.51.100.150
expect_pass "and over IPv6" in_ns gw ping -c1 -W1 -q 2001:db8:100:0:8000::150
expect_pass "the gateway reaches the monitor's tcp/2575" sh -c "ip netns exec $(lab_ns gw) socat -T2 - TCP:198.51.100.30:2575,connect-timeout=1 </dev/null | grep -q ok"
expect_pass "the LAN still reaches the gateway's sshd" lab_tcp srv 203.0.113.1 22

echo "# 6. a forged device address to the gateway itself is spoofing, not the device's violation"
expect_drop "the pump is not isolated before" isolated 198.51.100.10
v_before=$(dprop pump Violations)
watch gw spoof-to-gw ip saddr 198.51.100.10 ip daddr 198.51.100.1 tcp dport 22
scapy stranger "send([IP(src='198.51.100.10', dst='198.51.100.1')/TCP(sport=47000 + i, dport=22, flags='S') for i in range(3)])"
sleep 0.5
expect_true "the stranger's SYNs with the pump's address reached the gateway's input ($(arrivals gw spoof-to-gw))" \
  test "$(arrivals gw spoof-to-gw)" -ge 3
expect_drop "a SYN to the gateway with the pump's address from the stranger's MAC does not isolate the pump" \
  isolated 198.51.100.10
expect_true "it is no violation of the pump ($v_before -> $(dprop pump Violations))" \
  test "$(dprop pump Violations)" = "$v_before"
expect_true "it is logged as spoofing" \
  grep -q "packet with pump's address 198.51.100.10 from MAC 02:00:00:00:00:77 on dev0 dropped" "$daemon_log"
expect_pass "the pump still works" lab_tcp pump 203.0.113.20 443

echo "# 7. an isolated device that takes another address stays cut off by its MAC"
sed -i 's/^unknown_devices: .*/unknown_devices: alert/' "$config"
expect_pass "reload with unknown_devices: alert" ctl reload
in_ns pump ip addr add 198.51.100.88/25 dev eth0
watch srv from-new-addr ip saddr 198.51.100.88 tcp dport 443
newaddr() { local out; out=$(in_ns pump timeout 3 socat -T2 - "TCP:203.0.113.20:443,bind=198.51.100.88,connect-timeout=1" </dev/null 2>/dev/null); [[ $out == *ok* ]]; }
mac_isolated() { in_ns gw nft list set inet ringfence isolated_mac | grep -q "02:00:00:00:00:10"; }
expect_pass "not isolated: the pump from an unused address (an unknown host, alert) reaches srv tcp/443" newaddr
expect_true "isolate the pump" ctl isolate pump --reason "test: a new address"
expect_true "the pump is isolated" wait_isolated 198.51.100.10
expect_true "its MAC is in isolated_mac" mac_isolated
before=$(arrivals srv from-new-addr)
expect_drop "isolated pump from the unused address: no session to srv tcp/443" newaddr
scapy pump "send([IP(src='198.51.100.88', dst='203.0.113.20')/TCP(sport=48000 + i, dport=443, flags='S') for i in range(3)])"
sleep 0.3
expect_true "nothing from the new address arrived ($before -> $(arrivals srv from-new-addr))" \
  test "$(arrivals srv from-new-addr)" = "$before"
expect_true "release the pump" ctl release pump --reason "test: done"
expect_drop "release removes the MAC from isolated_mac" mac_isolated
expect_pass "released: the unused address reaches srv again" newaddr
in_ns pump ip addr del 198.51.100.88/25 dev eth0

lab_summary

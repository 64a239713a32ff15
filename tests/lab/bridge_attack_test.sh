#!/usr/bin/env bash
# Attacks on the bridge topology at layer 2 (docs/bridge.md), on real frames:
# reserved group MACs toward the gateway, forged source MACs that would move
# a device's or the router's bridge port, a LAN host taking a device's MAC,
# ARP claims for the router with an unknown MAC, neighbour advertisements,
# a rogue DHCP offer from another source port, ICMPv6 to a multicast address
# in a unicast frame, a fragmented router advertisement, VLAN-tagged frames,
# and frames of another EtherType. Each asserts what arrived.
# Usage: bridge_attack_test.sh BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:?build dir}" && pwd)
source "$here/lab.sh"
source "$here/lab_bridge.sh"
lab_require_root
lab_require_scapy
lab_bridge_up
lab_scratch
lab_bridge_world "$here/../data/bridge-lab"
# Alert mode for unknown hosts: the ARP guard must hold without the
# unknown-host rule (deploy.md recommends alert while rolling out).
echo "unknown_devices: alert" >> "$config"
in_ns gw socat -u UDP4-LISTEN:9999,reuseaddr,fork OPEN:"$work/gw9999",creat,append 2>/dev/null & LAB_PIDS+=($!)
start_daemon || exit 1
# The router learns the LAN side's MACs; its own MAC is in the bridge's table.
in_ns router arping -c1 -w1 -I eth0 10.20.0.20 >/dev/null 2>&1
in_ns lanhost arping -c1 -w1 -I eth0 10.20.0.1 >/dev/null 2>&1
in_ns hl7mon arping -c1 -w1 -I eth0 10.20.0.1 >/dev/null 2>&1
in_ns pump arping -c1 -w1 -I eth0 10.20.0.1 >/dev/null 2>&1
sleep 0.3
# count_during HOST FILTER CMD...: frames matching FILTER that HOST saw while CMD ran.
count_during() {
  local host=$1 filter=$2; shift 2
  lab_sniff "$host" 2.5 "$filter" "$work/seen"
  local sniffer=$!
  sleep 1; "$@"; wait "$sniffer"; cat "$work/seen"
}
fdb_port() { in_ns gw bridge fdb show br br0 | grep -i "^$1 " | grep -v permanent | awk '{print $3}' | head -1; }

echo "# reserved group MACs: the bridge hands these up on the port itself"
for group in 0e 03; do
  lab_send pump "[Ether(src=mac, dst='01:80:c2:00:00:$group')/IP(src='10.20.0.123', dst='10.20.0.2')/UDP(sport=5000, dport=9999)/Raw(b'GROUP-$group\\n')]"
done
sleep 0.5
expect_drop "an unknown source to the gateway's udp/9999 in a frame to 01:80:c2:00:00:0e or :03 never arrives" grep -q GROUP "$work/gw9999"
lab_send lanhost "[Ether(src=mac, dst='02:00:00:00:fe:01')/IP(src='10.20.0.50', dst='10.20.0.2')/UDP(sport=5000, dport=9999)/Raw(b'CONTROL\\n')]"
sleep 0.5
expect_true "control: the same from the LAN side arrives" grep -q CONTROL "$work/gw9999"

echo "# forged source MACs must not move a port in the bridge's table"
# Before: each MAC has its own port in the bridge's table (so the checks
# below compare with a real entry, not with a missing one).
expect_true "before: hl7mon's MAC is on p2, the pump's on p1, the router's on up0" \
  test "$(fdb_port 02:00:00:00:00:20) $(fdb_port 02:00:00:00:00:10) $(fdb_port 02:00:00:00:0e:01)" = "p2 p1 up0"
lab_send pump "[Ether(src='02:00:00:00:00:20', dst='ff:ff:ff:ff:ff:ff', type=0x88b5)/Raw(b'x'*50)]*2"
lab_send pump "[Ether(src='02:00:00:00:0e:01', dst='ff:ff:ff:ff:ff:ff', type=0x88b5)/Raw(b'x'*50)]*2"
lab_send lanhost "[Ether(src='02:00:00:00:00:10', dst='ff:ff:ff:ff:ff:ff', type=0x88b5)/Raw(b'x'*50)]*2"
sleep 0.3
expect_true "hl7mon's MAC stays on p2 ($(fdb_port 02:00:00:00:00:20))" test "$(fdb_port 02:00:00:00:00:20)" = p2
expect_true "the router's MAC stays on the uplink ($(fdb_port 02:00:00:00:0e:01))" test "$(fdb_port 02:00:00:00:0e:01)" = up0
expect_true "a LAN host cannot take the pump's MAC: it stays on p1 ($(fdb_port 02:00:00:00:00:10))" test "$(fdb_port 02:00:00:00:00:10)" = p1
expect_pass "srv -> hl7mon tcp/2575 still reaches hl7mon" lab_tcp srv 10.20.0.20 2575
expect_pass "hl7mon -> srv tcp/2575 still reaches the router" lab_tcp hl7mon 10.30.0.10 2575
sleep 0.3
expect_true "the pump's frame in hl7mon's MAC is reported" grep -q "frame from MAC 02:00:00:00:00:20 (device hl7mon's) on p1 dropped" "$daemon_log"
expect_true "the pump's frame in the router's MAC is reported" grep -q "frame from MAC 02:00:00:00:0e:01 (a MAC of the LAN side, or a device's from it) on p1 dropped" "$daemon_log"
expect_true "the LAN host's frame in the pump's MAC is reported" grep -q "frame from MAC 02:00:00:00:00:10 (device pump's) on up0 dropped" "$daemon_log"

echo "# ARP for the router's address with a MAC no device has (unknown_devices: alert)"
lab_send stranger "[Ether(src='02:00:00:00:00:77', dst='ff:ff:ff:ff:ff:ff')/ARP(op=2, hwsrc='02:00:00:00:00:77', psrc='10.20.0.1', hwdst='ff:ff:ff:ff:ff:ff', pdst='10.20.0.1')]*3"
lab_send pump "[Ether(src='02:00:00:00:00:20', dst='ff:ff:ff:ff:ff:ff')/ARP(op=2, hwsrc=mac, psrc='10.20.0.1', hwdst='ff:ff:ff:ff:ff:ff', pdst='10.20.0.1')]*3"
sleep 0.5
expect_true "hl7mon still has the router's MAC for 10.20.0.1" sh -c "ip netns exec $(lab_ns hl7mon) ip neigh show 10.20.0.1 | grep -q 02:00:00:00:0e:01"
expect_true "the claim is reported" grep -q "claimed 10.20.0.1 with an ARP frame on p5" "$daemon_log"
expect_drop "a claim in hl7mon's MAC from the pump's port is not blamed on hl7mon" grep -q "device hl7mon (02:00:00:00:00:20) claimed" "$daemon_log"

echo "# a neighbour advertisement claiming another device's IPv6 address"
in_ns router ping -6 -c1 -W1 2001:db8:20::20 >/dev/null 2>&1
lab_send pump "[Ether(src=mac, dst='02:00:00:00:0e:01')/IPv6(src='fe80::10', dst='2001:db8:20::1', hlim=255)/ICMPv6ND_NA(tgt='2001:db8:20::20', R=0, S=1, O=1)/ICMPv6NDOptDstLLAddr(lladdr=mac)]*3"
sleep 0.5
expect_true "the router still has hl7mon's MAC for 2001:db8:20::20" sh -c "ip netns exec $(lab_ns router) ip -6 neigh show 2001:db8:20::20 | grep -q 02:00:00:00:00:20"
expect_true "the claim is reported with the pump's name" grep -q "device pump (02:00:00:00:00:10) claimed 2001:db8:20::20 of hl7mon with a neighbour advertisement on p1" "$daemon_log"
expect_pass "lanhost -> hl7mon tcp/2575 over IPv6 still reaches hl7mon" lab_tcp lanhost 2001:db8:20::20 2575

echo "# a rogue DHCP offer from another source port, ICMPv6 multicast in a unicast frame"
n=$(count_during hl7mon 'p.haslayer(UDP) and p[UDP].dport == 68' lab_send pump "[Ether(src=mac, dst='ff:ff:ff:ff:ff:ff')/IP(src='10.20.0.10', dst='255.255.255.255')/UDP(sport=6767, dport=68)/BOOTP(op=2, yiaddr='10.20.0.77')/DHCP(options=[('message-type', 'offer'), ('router', '10.20.0.10'), 'end'])]*3")
expect_true "no offer from udp/6767 reached hl7mon ($n)" test "$n" = 0
n=$(count_during pump 'p.haslayer(ICMPv6EchoRequest)' lab_send hl7mon "[Ether(src=mac, dst='02:00:00:00:00:10')/IPv6(src='2001:db8:20::20', dst='ff02::1')/ICMPv6EchoRequest()]*3")
expect_true "hl7mon's echo request to ff02::1 in a frame to the pump's MAC did not reach it ($n)" test "$n" = 0
sleep 0.3
expect_true "it was judged as hl7mon's flow" grep -q "violation by hl7mon (outbound): icmpv6 \[2001:db8:20::20\] -> \[ff02::1\], dropped" "$daemon_log"
n=$(count_during hl7mon 'p.haslayer(IPv6ExtHdrFragment)' lab_send pump "fragment6(Ether(src=mac, dst='33:33:00:00:00:01')/IPv6(src='fe80::10', dst='ff02::1', hlim=255)/IPv6ExtHdrFragment(id=4321)/IPv6ExtHdrDestOpt(options=[PadN(optdata=b'\\x00'*200), PadN(optdata=b'\\x00'*200)])/ICMPv6ND_RA(routerlifetime=1800)/ICMPv6NDOptPrefixInfo(prefix='2001:db8:666::', prefixlen=64), 200)")
expect_true "no fragment of a fragmented router advertisement reached hl7mon ($n)" test "$n" = 0

echo "# VLAN tags and other EtherTypes from a device port reach nobody"
n=$(count_during router 'p.haslayer(TCP) and p[TCP].dport == 22' lab_send pump "[Ether(src=mac, dst='02:00:00:00:0e:01')/Dot1Q(vlan=5)/IP(src='10.20.0.10', dst='10.30.0.10')/TCP(sport=41100, dport=22, flags='S')]*3")
expect_true "802.1Q-tagged SYNs did not reach the router ($n)" test "$n" = 0
n=$(count_during hl7mon 'p.type == 0x88b5' lab_send pump "[Ether(src=mac, dst='02:00:00:00:00:20', type=0x88b5)/Raw(b'COVERT'*10)]*3")
expect_true "frames of another EtherType did not reach hl7mon ($n)" test "$n" = 0

expect_drop "none of this isolated the victims" isolated 10.20.0.20
kill -TERM "$DAEMON"; wait "$DAEMON" 2>/dev/null
lab_summary

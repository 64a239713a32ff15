#!/usr/bin/env bash
# The bridge topology (docs/bridge.md) on real packets: the gateway is a
# transparent bridge between device ports and an uplink to the LAN switch
# where the devices' own router sits. Allowed flows in both directions,
# forbidden ones dropped and counted, traffic between two devices on the
# bridge judged by both allowlists, spoofed addresses and MACs on another
# port, ARP poisoning of a neighbour and of the router, rogue RA and DHCP
# from a device port, an unknown host, monitor and learn mode, isolation
# cutting a live session while the critical one goes on, restart, reload,
# a port added later, br_netfilter switched off, and the failsafe.
# Usage: bridge_test.sh BUILD_DIR
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
guard_drops() {
  in_ns gw nft list chain bridge ringfence guard | sed -n 's/.*counter packets \([0-9]*\).*never passes.*/\1/p'
}

echo "# before the daemon: a plain bridge forwards everything"
expect_pass "pump -> srv tcp/22 passes the bare bridge" lab_tcp pump 10.30.0.10 22
start_daemon || exit 1
expect_true "the daemon applied the bridge policy" grep -q "policy applied" "$daemon_log"
expect_true "the kernel has the bridge table" in_ns gw nft list table bridge ringfence
expect_true "br_netfilter hands bridged IPv4 to the inet table" \
  test "$(in_ns gw sysctl -n net.bridge.bridge-nf-call-iptables)" = 1
expect_true "and IPv6" test "$(in_ns gw sysctl -n net.bridge.bridge-nf-call-ip6tables)" = 1

echo "# allowed flows in both directions; devices keep their router"
expect_pass "pump -> srv tcp/443 (outbound rule), through the devices' own router" lab_tcp pump 10.30.0.10 443
expect_pass "srv -> hl7mon tcp/2575 (inbound rule)" lab_tcp srv 10.20.0.20 2575
expect_pass "hl7mon -> srv tcp/2575" lab_tcp hl7mon 10.30.0.10 2575
expect_pass "IPv6: lanhost -> hl7mon tcp/2575 (inbound rule; neighbour discovery through the bridge)" lab_tcp lanhost 2001:db8:20::20 2575
expect_drop "IPv6: lanhost -> hl7mon tcp/22 (no rule)" lab_tcp lanhost 2001:db8:20::20 22
expect_pass "pump's ARP for its router works through the bridge" in_ns pump arping -c1 -w1 -I eth0 10.20.0.1
in_ns srv socat UDP4-LISTEN:67,fork,reuseaddr SYSTEM:'echo ok' 2>/dev/null & LAB_PIDS+=($!)
sleep 0.2
renew() { local out; out=$(echo renew | in_ns hl7mon timeout 3 socat -T1 - UDP:10.30.0.10:67,sourceport=68 2>/dev/null); [[ $out == *ok* ]]; }
expect_pass "a unicast DHCP renewal (udp 68 -> 67, hl7mon's rule) reaches the hospital's server" renew
lab_sniff lanhost 2.5 'p.haslayer(UDP) and p[UDP].dport == 67 and p[IP].src == "10.20.0.20"' "$work/dhcp_seen"
sniffer=$!; sleep 1
echo renew | in_ns hl7mon timeout 2 socat -T0.5 - UDP:10.20.0.50:67,sourceport=68 >/dev/null 2>&1
wait "$sniffer"
expect_true "udp 68 -> 67 to a host hl7mon has no rule for: judged, nothing arrives ($(cat "$work/dhcp_seen"))" test "$(cat "$work/dhcp_seen")" = 0
in_ns hl7mon socat -u UDP4-LISTEN:68,reuseaddr OPEN:"$work/offer",creat,append 2>/dev/null & LAB_PIDS+=($!)
sleep 0.2
echo offer | in_ns lanhost socat -u - UDP:10.20.0.20:68,sourceport=67 2>/dev/null; sleep 0.3
expect_drop "a unicast 'offer' from a LAN host (udp 67 -> 68, a new flow, no rule) is judged: dropped" grep -q offer "$work/offer"

echo "# forbidden flows dropped, counted, and charged to whoever opened them"
expect_drop "hl7mon -> srv tcp/22 (no rule)" lab_tcp hl7mon 10.30.0.10 22
sleep 0.3
expect_true "reported as hl7mon's violation" grep -q "violation by hl7mon (outbound): tcp 10.20.0.20:[0-9]* -> 10.30.0.10:22, dropped" "$daemon_log"
expect_drop "lanhost -> pump tcp/23 (a LAN host beside the router)" lab_tcp lanhost 10.20.0.10 23
sleep 0.3
expect_true "a probe of the pump, not its violation" grep -q "probe of pump from 10.20.0.50" "$daemon_log"
expect_drop "the probe isolated nobody" isolated 10.20.0.10

echo "# between two devices on the same bridge: both allowlists judge"
expect_pass "hl7mon -> pump tcp/7000 (both allow it)" lab_tcp hl7mon 10.20.0.10 7000
expect_drop "hl7mon -> pump tcp/7001 (hl7mon may, pump's inbound may not)" lab_tcp hl7mon 10.20.0.10 7001
sleep 0.3
expect_true "charged to hl7mon, which opened it" grep -q "violation by hl7mon (outbound): tcp 10.20.0.20:[0-9]* -> 10.20.0.10:7001" "$daemon_log"
expect_drop "the pump is not isolated for what hl7mon did to it" isolated 10.20.0.10

echo "# the gateway itself is a wall from device ports"
expect_drop "hl7mon -> the gateway's own tcp/2200 on br0" lab_tcp hl7mon 10.20.0.2 2200
sleep 0.3
expect_drop "the renewal it may send was no violation" grep -q "violation by hl7mon (outbound): udp 10.20.0.20:68 -> 10.30.0.10:67" "$daemon_log"
expect_true "the one to lanhost was" grep -q "violation by hl7mon (outbound): udp 10.20.0.20:68 -> 10.20.0.50:67, dropped" "$daemon_log"
expect_true "a violation of hl7mon (alert only)" grep -q "violation by hl7mon (outbound): tcp 10.20.0.20:[0-9]* -> 10.20.0.2:2200, dropped" "$daemon_log"
expect_pass "lanhost -> the gateway's tcp/2200 (the LAN side)" lab_tcp lanhost 10.20.0.2 2200

echo "# an unknown host on a device port, and a port added later"
expect_drop "stranger (no profile) -> srv tcp/443" lab_tcp stranger 10.30.0.10 443
sleep 0.3
expect_true "reported as an unknown host on its port" grep -q "unknown host 10.20.0.66 (MAC 02:00:00:00:00:66) on p5" "$daemon_log"
lab_bridge_device latecomer p9 10.20.0.99 02:00:00:00:00:99
expect_drop "a host on a port created after the start -> srv tcp/443" lab_tcp latecomer 10.30.0.10 443

echo "# spoofing on another port"
spoof() {  # HOST SRC_IP SRC_MAC: a TCP SYN to srv:443
  in_ns "$1" /usr/bin/python3 - "$2" "$3" <<'PY' >/dev/null 2>&1
import sys
from scapy.all import IP, TCP, Ether, sendp
sendp([Ether(src=sys.argv[2], dst="02:00:00:00:0e:01") / IP(src=sys.argv[1], dst="10.30.0.10")
       / TCP(sport=41000 + i, dport=443, flags="S") for i in range(3)], iface="eth0", verbose=False)
PY
}
arrived() {  # SYNs srv saw from SRC (to 443 from ports 41000-41002) while CMD runs
  local src=$1; shift
  in_ns srv /usr/bin/python3 - "$src" >"$work/seen" 2>/dev/null <<'PY' &
import sys
from scapy.all import IP, TCP, sniff
p = sniff(iface="eth0", timeout=2.5, lfilter=lambda p: p.haslayer(TCP) and p[IP].src == sys.argv[1]
          and 41000 <= p[TCP].sport <= 41002 and p[TCP].flags == "S")
print(len(p))
PY
  local sniffer=$!
  sleep 1; "$@"; wait "$sniffer"; cat "$work/seen"
}
expect_true "the pump's address from the stranger's port: nothing arrives" \
  test "$(arrived 10.20.0.10 spoof stranger 10.20.0.10 02:00:00:00:00:66)" = 0
expect_true "the pump's address and MAC from the stranger's port: nothing arrives" \
  test "$(arrived 10.20.0.10 spoof stranger 10.20.0.10 02:00:00:00:00:10)" = 0
expect_true "control: the same SYNs from the pump's own port arrive" \
  test "$(arrived 10.20.0.10 spoof pump 10.20.0.10 02:00:00:00:00:10)" = 3
sleep 0.3
expect_true "spoofing reported" grep -q "packet with pump's address 10.20.0.10 from MAC 02:00:00:00:00:66 on p5 dropped" "$daemon_log"
expect_drop "spoofing isolated nobody" isolated 10.20.0.10

echo "# ARP poisoning of a neighbour and of the router"
garp() {  # HOST CLAIMED_IP: three gratuitous ARP replies claiming CLAIMED_IP with HOST's MAC
  in_ns "$1" /usr/bin/python3 - "$2" <<'PY' >/dev/null 2>&1
import sys
from scapy.all import ARP, Ether, get_if_hwaddr, sendp
mac = get_if_hwaddr("eth0")
sendp([Ether(src=mac, dst="ff:ff:ff:ff:ff:ff") / ARP(op=2, hwsrc=mac, psrc=sys.argv[1],
       hwdst="ff:ff:ff:ff:ff:ff", pdst=sys.argv[1])] * 3, iface="eth0", verbose=False)
PY
}
in_ns router arping -c1 -w1 -I eth0 10.20.0.20 >/dev/null 2>&1
in_ns hl7mon arping -c1 -w1 -I eth0 10.20.0.1 >/dev/null 2>&1
garp stranger 10.20.0.20
garp pump 10.20.0.1
sleep 0.5
expect_true "the router still has hl7mon's own MAC for 10.20.0.20" sh -c "ip netns exec $(lab_ns router) ip neigh show 10.20.0.20 | grep -q 02:00:00:00:00:20"
expect_true "hl7mon still has the router's MAC for 10.20.0.1" sh -c "ip netns exec $(lab_ns hl7mon) ip neigh show 10.20.0.1 | grep -q 02:00:00:00:0e:01"
expect_true "the claim for hl7mon's address is reported" grep -q "unknown host 02:00:00:00:00:66 claimed 10.20.0.20 of hl7mon with an ARP frame on p5" "$daemon_log"
expect_true "the pump's claim for the router is reported with its name" grep -q "device pump (02:00:00:00:00:10) claimed 10.20.0.1 with an ARP frame on p1" "$daemon_log"
arp_drops=$(in_ns gw nft list chain bridge ringfence arp_claims | sed -n 's/.*counter packets \([0-9]*\).*/\1/p' | awk '{s += $1} END {print s + 0}')
expect_true "the bridge counted the 6 false claims ($arp_drops)" test "$arp_drops" -ge 6

echo "# rogue RA and DHCP offer from a device port reach no other device"
in_ns hl7mon /usr/bin/python3 - >"$work/rogue_seen" 2>/dev/null <<'PY' &
from scapy.all import UDP, ICMPv6ND_RA, sniff
p = sniff(iface="eth0", timeout=3, lfilter=lambda p: p.haslayer(ICMPv6ND_RA) or (p.haslayer(UDP) and p[UDP].sport == 67))
print(len(p))
PY
sniffer=$!
sleep 1
in_ns pump /usr/bin/python3 - <<'PY' >/dev/null 2>&1
from scapy.all import (BOOTP, DHCP, ICMPv6ND_RA, ICMPv6NDOptPrefixInfo, IP, IPv6, UDP, Ether,
                       get_if_hwaddr, sendp)
mac = get_if_hwaddr("eth0")
sendp([Ether(src=mac, dst="33:33:00:00:00:01") / IPv6(src="fe80::ff:fe00:10", dst="ff02::1", hlim=255)
       / ICMPv6ND_RA(routerlifetime=1800) / ICMPv6NDOptPrefixInfo(prefix="2001:db8:666::", prefixlen=64)] * 3,
      iface="eth0", verbose=False)
sendp([Ether(src=mac, dst="ff:ff:ff:ff:ff:ff") / IP(src="10.20.0.10", dst="255.255.255.255")
       / UDP(sport=67, dport=68) / BOOTP(op=2, yiaddr="10.20.0.77", chaddr=b"\x02" * 6)
       / DHCP(options=[("message-type", "offer"), ("router", "10.20.0.10"), "end"])] * 3,
      iface="eth0", verbose=False)
PY
wait "$sniffer"
expect_true "hl7mon received none of the rogue RAs and offers ($(cat "$work/rogue_seen"))" test "$(cat "$work/rogue_seen")" = 0
expect_true "the rogue RA is reported" grep -q "ROGUE ROUTER ADVERTISEMENT from fe80::ff:fe00:10 (MAC 02:00:00:00:00:10, device pump's) on p1 dropped" "$daemon_log"
expect_true "the rogue DHCP offer is reported" grep -q "ROGUE DHCP SERVER from 10.20.0.10 (MAC 02:00:00:00:00:10, device pump's) on p1 dropped" "$daemon_log"
expect_drop "a rogue server isolated nobody" isolated 10.20.0.10

echo "# monitor and learn mode"
expect_pass "watched (monitor) -> srv tcp/22 passes" lab_tcp watched 10.30.0.10 22
expect_pass "learner (learn) -> srv tcp/22 passes" lab_tcp learner 10.30.0.10 22
sleep 0.3
expect_true "the monitor-mode flow is reported" grep -q "violation by watched (outbound): tcp 10.20.0.30:[0-9]* -> 10.30.0.10:22, allowed (monitor mode)" "$daemon_log"
expect_drop "the learn-mode flow is no violation" grep -q "violation by learner" "$daemon_log"

echo "# reload: a changed profile is enforced at once"
sed -i 's/ports: \[2575\]$/ports: [2575, 22]/' "$work/etc/profiles/hl7mon.yaml"
reload
expect_pass "after the reload hl7mon -> srv tcp/22 passes" lab_tcp hl7mon 10.30.0.10 22
expect_true "the bridge table is still in force" in_ns gw nft list chain bridge ringfence guard

echo "# isolation cuts a live session; the critical one goes on"
in_ns srv socat -u TCP4-LISTEN:2224,reuseaddr OPEN:"$work/normal",creat,append & LAB_PIDS+=($!)
in_ns srv socat -u TCP4-LISTEN:2225,reuseaddr OPEN:"$work/critical",creat,append & LAB_PIDS+=($!)
sleep 0.2
sed -i 's/ports: \[443, 2222\]/ports: [443, 2222, 2224]/; s/ports: \[8443, 2223\]/ports: [8443, 2223, 2225]/' "$work/etc/profiles/pump.yaml"
reload
(for i in $(seq 100); do echo "tick $i"; sleep 0.1; done) | in_ns pump socat -u - TCP4:10.30.0.10:2224 & LAB_PIDS+=($!)
(for i in $(seq 100); do echo "tick $i"; sleep 0.1; done) | in_ns pump socat -u - TCP4:10.30.0.10:2225 & LAB_PIDS+=($!)
sleep 1
lab_tcp pump 10.30.0.10 22
expect_true "a forbidden flow isolates the pump" wait_isolated 10.20.0.10
lines() { wc -l < "$1" 2>/dev/null || echo 0; }
n0=$(lines "$work/normal"); c0=$(lines "$work/critical"); sleep 1.5
n1=$(lines "$work/normal"); c1=$(lines "$work/critical")
expect_true "the live allowed session was cut ($n0 -> $n1 lines)" test "$n1" -le "$((n0 + 1))"
expect_true "the critical session goes on ($c0 -> $c1 lines)" test "$c1" -gt "$c0"
expect_drop "pump -> srv tcp/443 is cut off" lab_tcp pump 10.30.0.10 443
expect_drop "hl7mon -> pump tcp/7000: an isolated device reaches no other device, nor they it" lab_tcp hl7mon 10.20.0.10 7000

echo "# the bridge table is the daemon's, like the inet one: nobody else may delete it"
expect_drop "nft delete table bridge ringfence is refused by the kernel" in_ns gw nft delete table bridge ringfence
expect_true "the bridge table is still there" in_ns gw nft list chain bridge ringfence guard
expect_drop "stranger -> srv tcp/443 is still dropped" lab_tcp stranger 10.30.0.10 443

echo "# restart: kill -9 leaves both tables; the isolation holds"
kill -9 "$DAEMON"; wait "$DAEMON" 2>/dev/null
expect_drop "with the daemon dead, pump -> srv tcp/443 still dropped" lab_tcp pump 10.30.0.10 443
expect_drop "with the daemon dead, stranger -> srv tcp/443 still dropped" lab_tcp stranger 10.30.0.10 443
start_daemon || exit 1
expect_true "after the restart the pump is still isolated" isolated 10.20.0.10
expect_pass "hl7mon -> srv tcp/2575 works after the restart" lab_tcp hl7mon 10.30.0.10 2575

echo "# br_netfilter switched off: the bridge table still lets nothing unjudged through"
before=$(guard_drops)
in_ns gw sysctl -qw net.bridge.bridge-nf-call-iptables=0 net.bridge.bridge-nf-call-ip6tables=0
expect_drop "hl7mon -> srv tcp/2575 (allowed, but no longer judged)" lab_tcp hl7mon 10.30.0.10 2575
expect_drop "stranger -> srv tcp/443" lab_tcp stranger 10.30.0.10 443
expect_true "the guard counted the unjudged frames ($before -> $(guard_drops))" test "$(guard_drops)" -gt "$before"
sleep 0.3
expect_true "and the daemon said so" grep -q "never judged was dropped (is br_netfilter on?" "$daemon_log"
in_ns gw sysctl -qw net.bridge.bridge-nf-call-iptables=1 net.bridge.bridge-nf-call-ip6tables=1

echo "# reboot with a broken profile and no last good policy: the failsafe bridges nothing"
kill -9 "$DAEMON"; wait "$DAEMON" 2>/dev/null
in_ns gw nft delete table inet ringfence; in_ns gw nft delete table bridge ringfence
rm -rf "$work/state"
echo "  typo: 1" >> "$work/etc/profiles/hl7mon.yaml"
in_ns gw sysctl -qw net.bridge.bridge-nf-call-iptables=0 net.bridge.bridge-nf-call-ip6tables=0
start_daemon || exit 1
expect_true "the daemon runs the failsafe" grep -q "policy state failsafe" "$daemon_log"
expect_drop "failsafe: hl7mon -> srv tcp/2575" lab_tcp hl7mon 10.30.0.10 2575
expect_drop "failsafe: srv -> hl7mon tcp/2575" lab_tcp srv 10.20.0.20 2575
expect_drop "failsafe: hl7mon -> pump tcp/7000 (device to device)" lab_tcp hl7mon 10.20.0.10 7000
lab_bridge_device newcomer p10 10.20.0.98 02:00:00:00:00:98
expect_drop "failsafe: newcomer on a new port -> srv tcp/443" lab_tcp newcomer 10.30.0.10 443
expect_drop "failsafe: hl7mon -> the gateway's tcp/2200" lab_tcp hl7mon 10.20.0.2 2200
expect_pass "failsafe: lanhost -> the gateway's tcp/2200 (the admin still reaches it)" lab_tcp lanhost 10.20.0.2 2200

kill -TERM "$DAEMON"; wait "$DAEMON" 2>/dev/null
lab_summary

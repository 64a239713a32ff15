#!/usr/bin/env bash
# Rogue routers and DHCP servers on device ports (docs/ruleset.md, the input
# chain): router advertisements and DHCP/DHCPv6 server answers from a device
# are dropped at the gateway (which would otherwise take a route from them)
# and reported, attributed by MAC, never as a violation. Stealth scans (FIN,
# NULL, Xmas: packets of no valid connection) toward a device are dropped and
# reported as probes.
# Usage: rogue_test.sh BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:?build dir}" && pwd)
source "$here/lab.sh"
lab_require_root
lab_require_scapy

lab_up
lab_scratch
mkdir -p "$work/etc/profiles"
cat > "$work/etc/ringfence.yaml" <<YAML
profiles: profiles
state_dir: $work/state
device_interfaces: [dev0, dev1]
YAML
cat > "$work/etc/profiles/pump.yaml" <<'YAML'
device: pump
identity:
  addresses: [198.51.100.10, "2001:db8:100::10"]
  mac: "02:00:00:00:00:10"
YAML
lab_host pump dev0 198.51.100.10 2001:db8:100::10 02:00:00:00:00:10
lab_host rogue dev1 198.51.100.140 2001:db8:100:0:8000::140 02:00:00:00:00:99
lab_host scanner lan0 203.0.113.66 2001:db8:200::66
# The gateway would take routes from router advertisements on its device ports.
in_ns gw sysctl -qw net.ipv6.conf.dev0.accept_ra=2 net.ipv6.conf.dev1.accept_ra=2
in_ns gw ip -6 route del default 2>/dev/null

ip netns exec "$(lab_ns gw)" "$build/daemon/ringfenced" --config "$work/etc/ringfence.yaml" --bus none --log-level debug >"$daemon_log" 2>&1 &
DAEMON=$!
for _ in $(seq 50); do grep -q "policy applied" "$daemon_log" 2>/dev/null && break; sleep 0.1; done
expect_true "the daemon applied the policy" grep -q "policy applied" "$daemon_log"

# rogue HOST KIND: 3 router advertisements (ra) or 3 DHCP offers (dhcp, dhcp6).
rogue() {
  in_ns "$1" /usr/bin/python3 - "$2" <<'PY' >/dev/null 2>&1
import sys
from scapy.all import (BOOTP, DHCP, ICMPv6ND_RA, ICMPv6NDOptPrefixInfo, ICMPv6NDOptSrcLLAddr, IP,
                       IPv6, UDP, DHCP6_Advertise, Ether, get_if_hwaddr, sendp)
mac = get_if_hwaddr("eth0")
kind = sys.argv[1]
if kind == "ra":
    lla = "fe80::ff:fe00:99" if mac.endswith("99") else "fe80::ff:fe00:10"
    pkt = (Ether(src=mac, dst="33:33:00:00:00:01") / IPv6(src=lla, dst="ff02::1", hlim=255)
           / ICMPv6ND_RA(routerlifetime=1800) / ICMPv6NDOptSrcLLAddr(lladdr=mac)
           / ICMPv6NDOptPrefixInfo(prefix="2001:db8:666::", prefixlen=64))
elif kind == "dhcp":
    pkt = (Ether(src=mac, dst="ff:ff:ff:ff:ff:ff") / IP(src="198.51.100.10", dst="255.255.255.255")
           / UDP(sport=67, dport=68) / BOOTP(op=2, yiaddr="198.51.100.77", chaddr=b"\x02" * 6)
           / DHCP(options=[("message-type", "offer"), ("router", "198.51.100.10"), "end"]))
else:
    pkt = (Ether(src=mac, dst="33:33:00:00:00:01") / IPv6(src="fe80::ff:fe00:10", dst="ff02::1")
           / UDP(sport=547, dport=546) / DHCP6_Advertise())
sendp([pkt] * 3, iface="eth0", verbose=False)
PY
}
rule_packets() {  # the gateway's input rule with this comment part
  in_ns gw nft list chain inet ringfence input | grep "$1" | sed -n 's/.*counter packets \([0-9]*\).*/\1/p' | awk '{s += $1} END {print s + 0}'
}
reports() { grep -c "$1" "$daemon_log"; }

rogue pump ra
rogue rogue ra
sleep 0.5
expect_true "the gateway took no default route from the rogue advertisements" sh -c "! ip netns exec $(lab_ns gw) ip -6 route show default | grep -q ."
expect_true "the gateway took no address from the advertised prefix" sh -c "! ip netns exec $(lab_ns gw) ip -6 addr | grep -q 2001:db8:666"
expect_true "the advertisement from the device is reported with its device" grep -q "ROGUE ROUTER ADVERTISEMENT from fe80::ff:fe00:10 (MAC 02:00:00:00:00:10, device pump's) on dev0 dropped" "$daemon_log"
expect_true "the advertisement from an unknown host is reported too" grep -q "ROGUE ROUTER ADVERTISEMENT from fe80::ff:fe00:99 (MAC 02:00:00:00:00:99, no device's) on dev1" "$daemon_log"
expect_true "the kernel counted the 6 advertisements" test "$(rule_packets 'a rogue router')" -ge 6
rogue pump dhcp
rogue pump dhcp6
sleep 0.5
expect_true "the DHCP offer is reported" grep -q "ROGUE DHCP SERVER from 198.51.100.10 (MAC 02:00:00:00:00:10, device pump's) on dev0 dropped" "$daemon_log"
expect_true "the kernel counted the 6 DHCP answers" test "$(rule_packets 'a rogue DHCP server')" -ge 6
expect_true "the DHCPv6 advertise is reported" grep -q "ROGUE DHCP SERVER from fe80::ff:fe00:10" "$daemon_log"
expect_true "a rogue server is no violation: nobody is isolated" sh -c "! grep -q 'violation by\|isolated:' '$daemon_log'"
expect_true "pump is not isolated" sh -c "! ip netns exec $(lab_ns gw) nft list set inet ringfence isolated4 | grep -q 198.51.100.10"

echo "# stealth scans from the LAN: FIN, NULL and Xmas to five ports of the pump"
in_ns pump /usr/bin/python3 - >"$work/pump_seen" 2>/dev/null <<'PY' &
from scapy.all import TCP, sniff
pkts = sniff(iface="eth0", timeout=3, lfilter=lambda p: p.haslayer(TCP) and p[TCP].sport == 45000)
print(len(pkts))
PY
sniffer=$!
sleep 1.5
in_ns scanner /usr/bin/python3 - <<'PY' >/dev/null 2>&1
from scapy.all import IP, TCP, send
for flags in ("F", "", "FPU"):
    send([IP(dst="198.51.100.10") / TCP(sport=45000, dport=p, flags=flags) for p in range(20, 25)],
         verbose=False)
PY
wait "$sniffer"
expect_true "no scan packet reached the pump ($(cat "$work/pump_seen"))" test "$(cat "$work/pump_seen")" = 0
invalid_in=$(in_ns gw nft list chain inet ringfence in4 | grep "no valid connection" | sed -n 's/.*counter packets \([0-9]*\).*/\1/p')
expect_true "the kernel counted the 15 packets of no valid connection ($invalid_in)" test "${invalid_in:-0}" -ge 15
expect_true "the scan is reported as probes of the pump" grep -q "probe of pump from 203.0.113.66, a host that is not a device: tcp 203.0.113.66:45000 -> 198.51.100.10:2[0-4], dropped" "$daemon_log"
expect_true "five probes: one per port, retries with other flags count once" test "$(grep -c 'probe of pump from 203.0.113.66' "$daemon_log")" = 5
expect_true "the scan isolated nobody" sh -c "! ip netns exec $(lab_ns gw) nft list set inet ringfence isolated4 | grep -q 198.51.100.10"

echo "# control: with the daemon's rules gone (a table without them), the gateway takes the route"
kill -TERM "$DAEMON"; wait "$DAEMON" 2>/dev/null
in_ns gw nft delete table inet ringfence
rogue rogue ra
sleep 0.5
expect_true "control: an advertisement that is not dropped gives the gateway a default route" sh -c "ip netns exec $(lab_ns gw) ip -6 route show default | grep -q fe80::ff:fe00:99"
lab_summary

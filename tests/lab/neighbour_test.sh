#!/usr/bin/env bash
# Neighbour pinning on real packets (issue 10, "Neighbours cannot be
# poisoned"): the addresses of MAC-bound devices are permanent neighbour
# entries on the gateway; gratuitous ARP and unsolicited neighbour
# advertisements from another device do not divert their traffic; a control
# device without a MAC shows that the same attack works on an unpinned entry;
# pins follow reloads and restarts.
# Usage: neighbour_test.sh BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:?build dir}" && pwd)
source "$here/lab.sh"
lab_require_root
for tool in /usr/bin/python3 socat; do
  command -v "$tool" >/dev/null || { echo "missing $tool (scripts/setup.sh)"; echo "0 passed, 1 failed"; exit 1; }
done
lab_require_scapy

lab_up
lab_scratch
lab_copy_policy "$here/../data/neighbour"

PUMP_MAC=02:00:00:00:00:10
MON_MAC=02:00:00:00:00:30
lab_host pump dev0 198.51.100.10 2001:db8:100::10 $PUMP_MAC
lab_host mon dev0 198.51.100.30 2001:db8:100::30 $MON_MAC
lab_host ws dev0 198.51.100.50 2001:db8:100::50 02:00:00:00:00:50
lab_host srv lan0 203.0.113.20 2001:db8:200::20
lab_listen mon tcp 2575
sleep 0.3

start_daemon() { lab_start_daemon "policy applied" 50 --config "$config" --bus none --log-level debug; }
stop_daemon() { lab_stop_daemon; }
reload_daemon() { lab_reload_daemon; }
# neigh ADDR: the gateway's entry for ADDR on dev0 ("" if none).
neigh() { in_ns gw ip neigh show "$1" dev dev0; }
pinned() {  # ADDR MAC
  local e; e=$(neigh "$1")
  [[ $e == *"lladdr $2"* && $e == *PERMANENT* ]]
}
not_pinned() { local e; e=$(neigh "$1"); [[ $e != *PERMANENT* ]]; }
has_lladdr() { local e; e=$(neigh "$1"); [[ $e == *"lladdr $2"* ]]; }

# spoof HOST ADDR: HOST claims ADDR with its own MAC, three times: gratuitous
# ARP reply for IPv4, unsolicited override NA for IPv6.
spoof() {
  in_ns "$1" /usr/bin/python3 - "$2" <<'PY' >/dev/null 2>&1
import sys
from scapy.all import ARP, Ether, IPv6, ICMPv6ND_NA, ICMPv6NDOptDstLLAddr, get_if_hwaddr, sendp
addr = sys.argv[1]
mac = get_if_hwaddr("eth0")
if ":" in addr:
    pkt = (Ether(src=mac, dst="33:33:00:00:00:01") / IPv6(src=addr, dst="ff02::1", hlim=255)
           / ICMPv6ND_NA(tgt=addr, R=0, S=0, O=1) / ICMPv6NDOptDstLLAddr(lladdr=mac))
    pkts = [pkt]
else:
    # A gratuitous reply (target MAC = sender MAC: the kernel overrides an
    # existing entry with it). Not a request: the owner of the address would
    # answer it and put its own MAC back.
    pkts = [Ether(src=mac, dst="ff:ff:ff:ff:ff:ff") / ARP(op=2, hwsrc=mac, psrc=addr,
                                                          hwdst=mac, pdst=addr)]
for _ in range(3):
    sendp(pkts, iface="eth0", verbose=False)
PY
}
# capture HOST SECONDS FILE: counts TCP packets to port 2575 arriving at HOST.
capture() {
  in_ns "$1" /usr/bin/python3 - "$2" >"$3" 2>/dev/null <<'PY' &
import sys
from scapy.all import TCP, sniff
pkts = sniff(iface="eth0", timeout=float(sys.argv[1]),
             lfilter=lambda p: p.haslayer(TCP) and p[TCP].dport == 2575)
print(len(pkts))
PY
  CAPTURE=$!
}

start_daemon || exit 1
echo "# $(grep -m1 -o "[0-9]* device addresses pinned.*" "$daemon_log")"

# Pins after start: IPv4 and IPv6, with the profile's MAC; by the device's
# interface (pump) or by the connected route covering the address (mon).
expect_true "mon's IPv4 address is pinned to its MAC" pinned 198.51.100.30 $MON_MAC
expect_true "mon's IPv6 address is pinned to its MAC" pinned 2001:db8:100::30 $MON_MAC
expect_true "pump's IPv4 address is pinned to its MAC" pinned 198.51.100.10 $PUMP_MAC
expect_true "pump's IPv6 address is pinned to its MAC" pinned 2001:db8:100::10 $PUMP_MAC
expect_true "ws (no MAC) is not pinned" not_pinned 198.51.100.50
expect_true "a device no interface reaches is skipped with a warning" \
  grep -q "192.0.2.77 of faraway is not pinned" "$daemon_log"

# Control: the attack works on an entry that is not pinned (ws has no MAC).
# The gateway's neighbour events are recorded: ws's own ARP can put its MAC
# back moments later, so the rewrite is looked for there.
for a in 198.51.100.50 2001:db8:100::50; do in_ns gw ping -c1 -W1 -q "$a" >/dev/null 2>&1; done
expect_true "control: ws's IPv4 entry was learnt" has_lladdr 198.51.100.50 02:00:00:00:00:50
in_ns gw ip monitor neigh >"$work/neigh_events" 2>/dev/null &
MONITOR=$!
sleep 0.3
spoof pump 198.51.100.50
spoof pump 2001:db8:100::50

# The attack: the pump claims the monitor's addresses.
# The bridge learns mon's port from an ARP request (a ping of the gateway
# would be a violation: the profile allows no gateway service).
in_ns mon arping -c1 -w1 -I eth0 198.51.100.1 >/dev/null 2>&1
spoof pump 198.51.100.30
spoof pump 2001:db8:100::30
sleep 0.3
kill "$MONITOR" 2>/dev/null; wait "$MONITOR" 2>/dev/null
rewritten() { grep -q "^$1 dev dev0 lladdr $PUMP_MAC" "$work/neigh_events"; }
expect_true "control: gratuitous ARP rewrites an unpinned IPv4 entry" rewritten 198.51.100.50
expect_true "control: an unsolicited NA rewrites an unpinned IPv6 entry" rewritten 2001:db8:100::50
expect_drop "gratuitous ARP from the pump never rewrote mon's IPv4 entry" rewritten 198.51.100.30
expect_drop "an unsolicited NA from the pump never rewrote mon's IPv6 entry" rewritten 2001:db8:100::30
expect_true "mon's IPv4 pin is unchanged" pinned 198.51.100.30 $MON_MAC
expect_true "mon's IPv6 pin is unchanged" pinned 2001:db8:100::30 $MON_MAC
spoofing() { grep -q "device pump ($PUMP_MAC) claimed $1 of mon .* with a $2" "$daemon_log"; }
expect_true "the ARP attack is reported as the pump's" spoofing 198.51.100.30 "gratuitous ARP"
expect_true "the NA attack is reported as the pump's" spoofing 2001:db8:100::30 "neighbour advertisement"
capture pump 4 "$work/pump_capture"
sleep 1.5  # the sniffer is listening
expect_pass "the LAN reaches mon over IPv4 after the ARP attack" lab_tcp srv 198.51.100.30 2575
expect_pass "the LAN reaches mon over IPv6 after the NA attack" lab_tcp srv 2001:db8:100::30 2575
wait "$CAPTURE"
expect_true "the pump received none of mon's traffic" grep -qx 0 "$work/pump_capture"

# An unknown host claims the gateway's own address: reported, not pinned.
lab_host rogue dev0 198.51.100.99 "" 02:00:00:00:00:99
spoof rogue 198.51.100.1
expect_true "a claim for the gateway's own address is reported" \
  grep -q "unknown host 02:00:00:00:00:99 claimed the gateway's own address 198.51.100.1" "$daemon_log"

# Reload: mon loses its MAC, its pins go; the pump's stay.
sed -i '/mac:/d' "$work/etc/profiles/mon.yaml"
expect_true "reload applied" reload_daemon
expect_true "a cause of an unpinned address is logged once, not at every apply" \
  test "$(grep -c "192.0.2.77 of faraway is not pinned" "$daemon_log")" -eq 1
expect_true "reload removed mon's IPv4 pin" not_pinned 198.51.100.30
expect_true "reload removed mon's IPv6 pin" not_pinned 2001:db8:100::30
expect_true "reload kept the pump's pin" pinned 198.51.100.10 $PUMP_MAC

# Restart: pins an earlier run made are found again; the pump left the policy
# while the daemon was stopped, so its pins are removed at start.
stop_daemon
expect_true "pins stay in force while the daemon is stopped" pinned 198.51.100.10 $PUMP_MAC
rm "$work/etc/profiles/pump.yaml"
start_daemon || exit 1
expect_true "start removed the pins of a device that left the policy" not_pinned 198.51.100.10
expect_true "start removed its IPv6 pin too" not_pinned 2001:db8:100::10
stop_daemon

lab_summary

#!/usr/bin/env bash
# The flowtable fast path for established flows (issue 14, target 4); prints
# figures, asserts nothing. Run as root:
#   bash bench/flowtable.sh RULESET.nft [RUNS]
# RULESET.nft is the 10,000-device text of ringfencectl compile in which
# gen-9999 (100.64.39.15) may open tcp/5201 to 203.0.113.99 (scripts/bench.sh
# writes it). Measured on the routed lab gateway, offloads off:
# 1. What an isolated device's established flow still delivers: a TCP stream
#    of one small write per millisecond, the device isolated as the daemon
#    does it (its address into isolated4, its flows deleted from conntrack);
#    the time from the start of the isolation to the last data the server
#    received.
# 2. If the kernel has flowtables (CONFIG_NF_FLOW_TABLE): the same with the
#    text plus a flowtable that offloads every established TCP and UDP flow,
#    and iperf3 throughput with and without it, in alternating runs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
ruleset=$(realpath "${1:?ruleset text}")
runs=${2:-3}
source "$here/../tests/lab/lab.sh"
source "$here/lib.sh"
work=$(mktemp -d)
lab_up
trap 'lab_down; rm -rf "$work"' EXIT
routed_generated_device

# last_data_after_cut RULESET: ms from the start of the isolation to the last
# data received. The sender stops 5 s after the cut: about 5000 means never cut.
last_data_after_cut() {
  rm -f "$work/last"
  in_ns gw nft -f "$1"
  in_ns server /usr/bin/python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 5201)); s.listen(1); s.settimeout(10); c, _ = s.accept(); c.settimeout(8)
last = time.time()
try:
    while c.recv(65536): last = time.time()
except OSError: pass
open(sys.argv[1], "w").write(repr(last))' "$work/last" &
  local rx=$!
  sleep 0.3
  in_ns dev /usr/bin/python3 -c '
import socket, time
s = socket.socket(); s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
s.bind(("100.64.39.15", 0)); s.connect(("203.0.113.99", 5201)); s.settimeout(0.5)
end = time.time() + 7
while time.time() < end:
    try: s.send(b"12345678")
    except OSError: pass
    time.sleep(0.001)' &
  local tx=$!
  sleep 2
  local cut; cut=$(date +%s.%N)
  in_ns gw nft add element inet ringfence isolated4 '{ 100.64.39.15 }'
  in_ns gw conntrack -D -s 100.64.39.15 >/dev/null 2>&1 || true
  wait "$tx" || true; wait "$rx" || true
  in_ns gw nft delete table inet ringfence
  in_ns gw conntrack -F >/dev/null 2>&1 || true
  python3 -c "print('%.0f' % ((float(open('$work/last').read()) - $cut) * 1000))"
}
survival() {  # RULESET: the median of $runs trials
  local results=()
  for _ in $(seq "$runs"); do results+=("$(last_data_after_cut "$1")"); done
  printf '%s\n' "${results[@]}" | median
}

echo "== an isolated device's established flow (medians of $runs runs)"
echo "without a flowtable: last data $(survival "$ruleset") ms after the cut"
if ! err=$(in_ns gw nft -f - 2>&1 <<'NFT'
table inet flowtable_probe {
  flowtable ft { hook ingress priority 0; devices = { lo }; }
}
NFT
); then
  echo "flowtable: this kernel has none (nft: ${err%%$'\n'*}); the fast path cannot be measured here"
  exit 0
fi
in_ns gw nft delete table inet flowtable_probe
python3 - "$ruleset" "$work/ft.nft" <<'PY'
import sys
t = open(sys.argv[1]).read()
t = t.replace("table inet ringfence {\n",
              "table inet ringfence {\n\tflowtable ft {\n\t\thook ingress priority 0; devices = { dev0, lan0 };\n\t}\n", 1)
accept = '\t\tct state established accept comment "replies and established flows"\n'
assert accept in t
t = t.replace(accept, "\t\tct state established meta l4proto { tcp, udp } flow add @ft\n" + accept, 1)
open(sys.argv[2], "w").write(t)
PY
echo "with a flowtable:    last data $(survival "$work/ft.nft") ms after the cut"
in_ns server iperf3 -s -D -1 >/dev/null 2>&1 || true
plain=(); fast=()
for _ in $(seq "$runs"); do
  in_ns gw nft -f "$ruleset"; plain+=("$(iperf_median dev server 203.0.113.99 100.64.39.15 1)")
  in_ns gw nft delete table inet ringfence
  in_ns gw nft -f "$work/ft.nft"; fast+=("$(iperf_median dev server 203.0.113.99 100.64.39.15 1)")
  in_ns gw nft delete table inet ringfence
done
p=$(printf '%s\n' "${plain[@]}" | median); f=$(printf '%s\n' "${fast[@]}" | median)
echo "throughput without a flowtable: $p Gbit/s; with one: $f Gbit/s"
python3 -c "print('flowtable gain:                 %.2fx' % ($f / $p))"

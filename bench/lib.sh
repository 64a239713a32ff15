# Helpers of the data-plane benchmarks (scripts/bench.sh, bench/bridge.sh).
# Source after tests/lab/lab.sh.

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# offloads_off NS...: no TSO/GSO/GRO or checksum offload on any link of these
# namespaces, so the figures count packets the ruleset really sees.
offloads_off() {
  local ns ifc
  for ns in "$@"; do
    for ifc in $(ip -n "$(lab_ns "$ns")" -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | grep -v '^lo$'); do
      ip netns exec "$(lab_ns "$ns")" ethtool -K "$ifc" tso off gso off gro off tx off rx off >/dev/null 2>&1 || true
    done
  done
}

# iperf_median CLIENT SERVER ADDR BIND RUNS: median Gbit/s of RUNS 3-second
# runs from CLIENT (bound to BIND) to an iperf3 server in SERVER at ADDR.
iperf_median() {
  local client=$1 server=$2 addr=$3 bind=$4 n=$5 results=()
  for _ in $(seq "$n"); do
    in_ns "$server" iperf3 -s -D -1 >/dev/null 2>&1 || true
    sleep 0.2
    results+=("$(in_ns "$client" iperf3 -c "$addr" -B "$bind" -t 3 -J | python3 -c \
      'import json,sys; print(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]/1e9)')")
  done
  printf '%s\n' "${results[@]}" | median
}

# conntrack_only NS: the baseline of a stateful ruleset, one forward rule
# (table inet conntrack_only; delete it after the measurement).
conntrack_only() {
  in_ns "$1" nft -f - <<'NFT'
table inet conntrack_only {
  chain forward {
    type filter hook forward priority 0; policy accept;
    ct state established,related accept
  }
}
NFT
}

# routed_generated_device: after lab_up, host dev on dev0 as the generated
# gen-9999 (100.64.39.15, MAC 02:01:00:00:27:0f; tests/support/policy_generator.cc)
# behind 198.51.100.10, and host server at 203.0.113.99 on lan0; offloads off.
routed_generated_device() {
  lab_host dev dev0 198.51.100.10 "" 02:01:00:00:27:0f
  lab_host server lan0 203.0.113.99
  in_ns dev ip addr add 100.64.39.15/32 dev eth0
  in_ns gw ip route add 100.64.39.15/32 via 198.51.100.10 dev dev0
  offloads_off gw dev server
}

# accept_close_server NS PORT: a TCP server in NS that accepts and closes, the
# far end of connects (stopped by lab_down).
accept_close_server() {
  in_ns "$1" /usr/bin/python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1]))); s.listen(4096)
while True:
    c, _ = s.accept(); c.close()' "$2" &
  LAB_PIDS+=($!)
  sleep 0.3
}

# connects CLIENT BIND ADDR PORT RUNS: median new TCP connections per second
# of RUNS 3-second connect loops from CLIENT (bound to BIND) to ADDR:PORT;
# each connection is closed with a reset, so no TIME_WAIT limits the loop.
connects() {
  local client=$1 bind=$2 addr=$3 port=$4 n=$5 results=()
  for _ in $(seq "$n"); do
    results+=("$(in_ns "$client" /usr/bin/python3 -c '
import socket, sys, time
bind, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
n, end = 0, time.time() + 3
while time.time() < end:
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
    s.bind((bind, 0)); s.settimeout(1)
    try:
        s.connect((addr, port)); n += 1
    except OSError:
        pass
    s.close()
print(n / 3)' "$bind" "$addr" "$port")")
  done
  printf '%s\n' "${results[@]}" | median
}

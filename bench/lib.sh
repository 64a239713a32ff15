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

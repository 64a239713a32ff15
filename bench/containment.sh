#!/usr/bin/env bash
# Containment benchmark (prints figures, asserts nothing); scripts/bench.sh runs it.
# 1. Time from a forbidden packet to the isolation being in force in the
#    kernel, seen from the data path: after the forbidden SYN, the device
#    retries an allowed connection every ~0.1 ms; the first that gets no
#    answer marks the isolation. 100 trials (100 devices, threshold 1: the
#    kernel isolates them itself), median and p99; with 10,000 more devices in
#    the policy, quiet and then under 20,000 new forbidden flows/s of
#    background violations (an alert device's, which isolate nobody).
# 2. Event absorption: distinct new flows at paced rates, dropped-and-logged
#    (NFLOG) and monitored (conntrack events); prints each rate, the losses
#    the daemon reported at it, and whether every flow was counted.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
source tests/lab/lab.sh
work=$(mktemp -d)
lab_up
trap 'lab_down; rm -rf "$work"' EXIT

mkdir -p "$work/etc/profiles"
"$build/bench/gen_policy" "$work/gen" 10000 >/dev/null
cp "$work/gen/devices/"*.yaml "$work/etc/profiles/"
printf 'profiles: profiles\ngroups: %s/gen/groups.yaml\nstate_dir: %s/state\ndevice_interfaces: [dev0]\n' "$work" "$work" > "$work/etc/ringfence.yaml"
for i in $(seq 0 199); do
  printf 'device: trial-%02d\nidentity:\n  addresses: [198.51.101.%d]\nallow:\n  outbound:\n    - to: 203.0.113.20\n      proto: tcp\n      ports: [443]\n' \
    "$i" "$((i + 10))" > "$work/etc/profiles/trial-$i.yaml"
done
printf 'device: flood-drop\nidentity:\n  addresses: [198.51.100.60]\nviolations:\n  action: alert\n' > "$work/etc/profiles/flood-drop.yaml"
printf 'device: flood-bg\nidentity:\n  addresses: [198.51.100.62]\nviolations:\n  action: alert\n' > "$work/etc/profiles/flood-bg.yaml"
printf 'device: flood-mon\nidentity:\n  addresses: [198.51.100.61]\nmode: monitor\nlimits:\n  outbound_new_per_second: 1000000\n  concurrent_connections: 1000000\n' > "$work/etc/profiles/flood-mon.yaml"

lab_host dev dev0 198.51.100.60
in_ns dev ip addr add 198.51.100.61/32 dev eth0
in_ns dev ip addr add 198.51.100.62/32 dev eth0
in_ns gw ip route add 198.51.100.62/32 via 198.51.100.60 dev dev0
for i in $(seq 0 199); do in_ns dev ip addr add "198.51.101.$((i + 10))/32" dev eth0; done
in_ns gw ip route add 198.51.101.0/24 via 198.51.100.60 dev dev0
in_ns gw ip route add 198.51.100.61/32 via 198.51.100.60 dev dev0
lab_host srv lan0 203.0.113.20
lab_host sink lan0 203.0.113.99
in_ns gw ip route add 203.0.113.96/28 via 203.0.113.99 dev lan0
lab_listen srv tcp 443
sleep 0.3
ip netns exec "$(lab_ns gw)" "$build/daemon/ringfenced" --config "$work/etc/ringfence.yaml" --bus none 2>"$work/log" &
daemon=$!
for _ in $(seq 300); do grep -q "policy applied" "$work/log" && break; sleep 0.1; done

# SRC RATE FLOWS FIRST_PORT: distinct UDP flows at a paced rate.
flood() {
  in_ns dev python3 - "$@" <<'PY'
import socket, sys, time
src, rate, n, first = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((src, 0))
t0 = time.perf_counter()
for i in range(n):
    if i % 100 == 0:
        ahead = t0 + i / rate - time.perf_counter()
        if ahead > 0: time.sleep(ahead)
    port = first + i
    s.sendto(b"x", ("203.0.113.%d" % (100 + port // 60000), 1 + port % 60000))
dt = time.perf_counter() - t0
print("%6d flows in %.2f s = %6.0f flows/s" % (n, dt, n / dt), end="")
PY
}
losses() { grep -c "events-lost" "$work/log" || true; }
# trials FIRST: 100 trials with the devices FIRST..FIRST+99.
trials() {
  in_ns dev python3 - "$1" <<'PY'
import socket, sys, time, statistics
first = int(sys.argv[1])
def attempt(src, dst, port, timeout):
    s = socket.socket(); s.settimeout(timeout); s.bind((src, 0))
    try:
        s.connect((dst, port)); return True
    except OSError:
        return False
    finally:
        s.close()
results = []
for i in range(100):
    src = "198.51.101.%d" % (first + i + 10)
    assert attempt(src, "203.0.113.20", 443, 1.0), "allowed flow must work before the trial"
    bad = socket.socket(); bad.setblocking(False); bad.bind((src, 0))
    t0 = time.perf_counter()
    try: bad.connect(("203.0.113.99", 443))
    except BlockingIOError: pass
    while True:
        start = time.perf_counter()
        if not attempt(src, "203.0.113.20", 443, 0.02):
            results.append((start - t0) * 1000); break
        if start - t0 > 2: results.append(2000.0); break
    bad.close()
results.sort()
print("median %.2f ms, p99 %.2f ms, max %.2f ms (resolution about 0.1 ms)" %
      (statistics.median(results), results[int(len(results) * 0.99) - 1], results[-1]))
PY
}

echo "== time from a forbidden packet to isolation in force (100 trials each; 10,100 devices)"
printf 'quiet:                                  '; trials 0
# 10 s of background violations: the trials run inside them; then they end.
flood 198.51.100.62 20000 200000 0 >"$work/background" &
background=$!
sleep 1
printf 'with 20,000 forbidden flows/s around:   '; trials 100
wait "$background" || true
echo "(background: $(cat "$work/background"))"
echo "(background violations lost by the daemon meanwhile: $(losses) reports of losses)"
echo; echo "== event absorption (one sender, paced; 40,000 distinct new flows per step)"
port=0
for rate in 20000 50000 100000 400000; do
  before=$(losses)
  echo -n "dropped (NFLOG)    target $rate/s: "; flood 198.51.100.60 "$rate" 40000 "$port"; port=$((port + 40000))
  sleep 1; echo "  losses: $(( $(losses) - before ))"
  before=$(losses)
  echo -n "monitored (ct+log) target $rate/s: "; flood 198.51.100.61 "$rate" 40000 "$port"; port=$((port + 40000))
  sleep 1; echo "  losses: $(( $(losses) - before ))"
done
sleep 1
kill -TERM "$daemon"; wait "$daemon" || true
grep "violations since start" "$work/log" | sed 's/.*violations since start: /violations counted: /; s/ trial-[0-9]*=1//g; s/ \[event.*//'
echo "  (sent: flood-drop 160000, flood-mon 160000 distinct flows)"
grep "conntrack events of observed" "$work/log" | sed 's/.*conntrack events/conntrack events/; s/ \[event.*//'

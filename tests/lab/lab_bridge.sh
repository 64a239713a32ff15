# The bridge lab (docs/bridge.md): the gateway is a transparent bridge br0.
# Device hosts sit on its device ports; its uplink up0 leads to a LAN switch
# (a bridge in namespace "lan") that holds the devices' router and LAN hosts;
# servers sit behind the router. Source after lab.sh.
#
#   devices, LAN hosts   10.20.0.0/24    2001:db8:20::/64    router .1 / ::1
#   servers              10.30.0.0/24                        router .1
#   the gateway's own    10.20.0.2 on br0 (management)

lab_bridge_up() {
  lab_cleanup_stale
  trap lab_down EXIT
  trap 'exit 130' INT TERM
  local ns
  for ns in gw lan router; do ip netns add "$(lab_ns $ns)"; in_ns $ns ip link set lo up; done
  in_ns gw ip link add br0 address 02:00:00:00:fe:01 type bridge
  in_ns gw ip link set br0 up
  in_ns gw ip addr add 10.20.0.2/24 dev br0
  in_ns gw ip route add default via 10.20.0.1
  in_ns lan ip link add sw type bridge
  in_ns lan ip link set sw up
  ip -n "$(lab_ns gw)" link add up0 type veth peer name gw netns "$(lab_ns lan)"
  ip -n "$(lab_ns gw)" link set up0 master br0 up
  ip -n "$(lab_ns lan)" link set gw master sw up
  ip -n "$(lab_ns router)" link add eth0 type veth peer name router netns "$(lab_ns lan)"
  ip -n "$(lab_ns lan)" link set router master sw up
  in_ns router ip link set eth0 address 02:00:00:00:0e:01 up
  in_ns router ip addr add 10.20.0.1/24 dev eth0
  in_ns router ip addr add 2001:db8:20::1/64 dev eth0 nodad
  in_ns router sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
}

# lab_bridge_device NAME PORT IPV4 [MAC] [IPV6]: a device on gateway port PORT.
lab_bridge_device() {
  local name=$1 port=$2 v4=$3 mac=${4:-} v6=${5:-}
  ip netns add "$(lab_ns "$name")"
  ip -n "$(lab_ns gw)" link add "$port" type veth peer name eth0 netns "$(lab_ns "$name")"
  ip -n "$(lab_ns gw)" link set "$port" master br0 up
  lab_bridge_addresses "$name" "$v4" "$mac" "$v6" 10.20.0.1
}

# lab_bridge_lan NAME IPV4 [MAC] [IPV6]: a host on the LAN switch, beside the router.
lab_bridge_lan() {
  local name=$1 v4=$2 mac=${3:-} v6=${4:-}
  ip netns add "$(lab_ns "$name")"
  ip -n "$(lab_ns lan)" link add "$name" type veth peer name eth0 netns "$(lab_ns "$name")"
  ip -n "$(lab_ns lan)" link set "$name" master sw up
  lab_bridge_addresses "$name" "$v4" "$mac" "$v6" 10.20.0.1
}

# lab_bridge_server NAME IPV4: a server behind the router (10.30.0.0/24).
lab_bridge_server() {
  local name=$1 v4=$2 link="s${2##*.}"
  ip netns add "$(lab_ns "$name")"
  ip -n "$(lab_ns router)" link add "$link" type veth peer name eth0 netns "$(lab_ns "$name")"
  in_ns router ip link set "$link" up
  in_ns router ip addr add 10.30.0.1/24 dev "$link" 2>/dev/null || true
  lab_bridge_addresses "$name" "$v4" "" "" 10.30.0.1
  in_ns router ip route replace "$v4/32" dev "$link"
}

lab_bridge_addresses() {  # NAME IPV4 MAC IPV6 GATEWAY
  local name=$1
  in_ns "$name" ip link set lo up
  [[ -n $3 ]] && in_ns "$name" ip link set eth0 address "$3"
  in_ns "$name" ip link set eth0 up
  in_ns "$name" ip addr add "$2/24" dev eth0
  in_ns "$name" ip route add default via "$5"
  if [[ -n $4 ]]; then
    in_ns "$name" ip addr add "$4/64" dev eth0 nodad
    in_ns "$name" ip -6 route add default via 2001:db8:20::1
  fi
}

# lab_bridge_world DATA_DIR: the bridge lab's policy and hosts, with $work and
# $daemon_log set by the caller. Devices: pump (p1, enforce, isolates at the
# first violation), hl7mon (p2, alert only), watched (p3, monitor), learner
# (p4, learn); stranger on p5 has no profile; lanhost sits beside the router;
# srv behind it. Defines start_daemon, reload, isolated, wait_isolated.
lab_bridge_world() {
  config="$work/etc/ringfence.yaml"
  mkdir -p "$work/etc"
  cp -r "$1/profiles" "$work/etc/profiles"
  cat > "$config" <<YAML
profiles: profiles
state_dir: $work/state
topology: bridge
device_interfaces: [p1, p2, p3, p4]
uplink_interfaces: [up0]
YAML
  lab_bridge_device pump p1 10.20.0.10 02:00:00:00:00:10
  lab_bridge_device hl7mon p2 10.20.0.20 02:00:00:00:00:20 2001:db8:20::20
  lab_bridge_device watched p3 10.20.0.30 02:00:00:00:00:30
  lab_bridge_device learner p4 10.20.0.40 02:00:00:00:00:40
  lab_bridge_device stranger p5 10.20.0.66 02:00:00:00:00:66
  lab_bridge_lan lanhost 10.20.0.50 02:00:00:00:00:50 2001:db8:20::50
  lab_bridge_server srv 10.30.0.10
  local port
  for port in 443 2222 8443 2575 22; do lab_listen srv tcp "$port"; done
  for port in 7000 7001 23; do lab_listen pump tcp "$port"; done
  for port in 2575 22; do lab_listen hl7mon tcp "$port"; done
  in_ns gw sh -c 'socat TCP4-LISTEN:2200,fork,reuseaddr SYSTEM:"echo ok" 2>/dev/null &'
  sleep 0.3
  # Right after the links come up the first ARP request to the router can go
  # unanswered, and the next one leaves a second later: a first connection
  # check would time out. Every host resolves its router now (no ruleset yet).
  local host
  for host in pump hl7mon watched learner stranger lanhost; do
    for _ in 1 2 3; do in_ns "$host" ping -c1 -W1 -q 10.20.0.1 >/dev/null 2>&1 && break; done
  done
}

start_daemon() { lab_start_daemon "applied" 80 --config "$config" --bus none; }
reload() {  # SIGHUP, then wait for the next "policy reloaded"
  lab_reload_daemon && return 0
  echo "# no reload"; return 1
}
isolated() { [[ $(in_ns gw nft list set inet ringfence isolated4) == *"$1"* ]]; }
wait_isolated() { for _ in $(seq 50); do isolated "$1" && return 0; sleep 0.02; done; return 1; }
# lab_send HOST PYTHON_EXPR: scapy frames (the expression may use `mac`, the
# host's MAC) sent on its eth0.
lab_send() {
  in_ns "$1" /usr/bin/python3 - "$2" <<'PY' >/dev/null 2>&1
import sys
from scapy.all import *
mac = get_if_hwaddr("eth0")
sendp(eval(sys.argv[1]), iface="eth0", verbose=False)
PY
}
# lab_sniff HOST SECONDS FILTER_EXPR OUT: counts frames matching the
# expression (of `p`) on HOST's eth0 into file OUT, in the background.
lab_sniff() {
  in_ns "$1" /usr/bin/python3 - "$2" "$3" >"$4" 2>/dev/null <<'PY' &
import sys
from scapy.all import *
f = eval("lambda p: " + sys.argv[2])
def ok(p):
    try:
        return bool(f(p))
    except Exception:
        return False
print(len(sniff(iface="eth0", timeout=float(sys.argv[1]), lfilter=ok)))
PY
}

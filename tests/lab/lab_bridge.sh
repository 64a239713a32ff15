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

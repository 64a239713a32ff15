#!/usr/bin/env bash
# The Debian package under a real systemd: builds the .deb (or takes DEB), runs
# lintian and hardening-check on it, then boots Debian 12 with systemd as PID 1
# in a container (systemd-nspawn, its own network namespace, a real system
# bus) and checks there: install (enabled, started, group, forwarding, table in
# force), reload, SIGKILL -> restarted with the table kept, stop leaves the
# table, a hung daemon (SIGSTOP) killed by the watchdog and restarted, a
# reboot of the container (a new network namespace: no table) with a broken profile enforcing the last good policy and the isolation,
# ringfencectl as root, as a member of ringfence and as another user
# (mutations refused by the installed bus policy), an upgrade that restarts
# the daemon with the table present at every poll, the isolation kept and no
# packet of the isolated device's sender (in its own namespace) through,
# remove keeping configuration and state, purge deleting them.
# The container's root is built once with mmdebstrap and cached in
# BUILD_DIR/nspawn-root (rebuilt when its package list changes).
# The package's runtime dependencies are in that root, so that dpkg -i fails
# when the package needs one that is not declared.
# Usage: package_test.sh BUILD_DIR [DEB]
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=$(cd "${1:?build dir}" && pwd)
deb=${2:-}
source "$src/tests/lab/lab.sh"
lab_require_root
started=$SECONDS
for tool in mmdebstrap systemd-nspawn nsenter dpkg-buildpackage lintian hardening-check; do
  command -v "$tool" >/dev/null || { echo "package test: $tool is missing (scripts/setup.sh)" >&2; exit 1; }
done

work=$(mktemp -d "$build/package-test.XXXXXX")
nspawn=""
cleanup() {
  if [[ -n $nspawn ]] && kill -0 "$nspawn" 2>/dev/null; then
    kill -TERM "$nspawn" 2>/dev/null  # nspawn powers the container off
    for _ in $(seq 100); do kill -0 "$nspawn" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$nspawn" 2>/dev/null
    wait "$nspawn" 2>/dev/null
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "# the package"
if [[ -z $deb ]]; then
  # Built from a copy of the tracked files, so the work tree stays clean.
  mkdir -p "$work/src"
  (cd "$src" && git ls-files -z --cached --others --exclude-standard | tar -c --null -T - -f -) | tar -x -C "$work/src"
  t=$SECONDS
  if (cd "$work/src" && dpkg-buildpackage -us -uc -b -j2) > "$work/build.log" 2>&1; then
    deb=$(ls "$work"/ringfence_*_*.deb)
    mkdir -p "$build/package" && cp "$deb" "$build/package/" && deb="$build/package/$(basename "$deb")"
    echo "# dpkg-buildpackage: $((SECONDS - t)) s, $(grep -c 'warning:' "$work/build.log") compiler warnings"
  else
    tail -40 "$work/build.log"; echo "dpkg-buildpackage failed"; exit 1
  fi
fi
deb=$(cd "$(dirname "$deb")" && pwd)/$(basename "$deb")
version=$(dpkg-deb -f "$deb" Version)
echo "# $deb, version $version"

lintian --fail-on error "$deb" > "$work/lintian" 2>&1
expect_true "lintian reports no errors" test $? -eq 0
sed 's/^/#   /' "$work/lintian"
dpkg-deb -x "$deb" "$work/content"
# Debian 12's dpkg-buildflags have no control-flow protection (-fcf-protection) in hardening=+all.
for bin in ringfenced ringfencectl; do
  expect_true "hardening-check: $bin is PIE, stack-protected, fortified, RELRO, BIND_NOW" \
    hardening-check --nocfprotection "$work/content/usr/sbin/$bin"
done
expect_true "the unit's ExecStart is the packaged binary" \
  grep -qx 'ExecStart=/usr/sbin/ringfenced --config /etc/ringfence/ringfence.yaml' "$work/content/lib/systemd/system/ringfenced.service"
for page in man8/ringfenced.8 man8/ringfencectl.8 man5/ringfence.yaml.5; do
  expect_true "the package holds the man page $page" test -f "$work/content/usr/share/man/$page.gz"
done
expect_true "no example device is live configuration" test -z "$(ls -A "$work/content/etc/ringfence/profiles")"
dpkg-deb -e "$deb" "$work/control"
expect_true "the configuration files are conffiles" \
  diff <(sort "$work/control/conffiles") <(printf '/etc/ringfence/groups.yaml\n/etc/ringfence/ringfence.yaml\n')
expect_true "an upgrade never stops the daemon first (prerm stops on remove only)" \
  grep -q '"$1" = remove ] && \[ -d /run/systemd/system ] ; then' "$work/control/prerm"

# Version N+1: the same files under a higher version.
dpkg-deb -R "$deb" "$work/next"
sed -i "s/^Version: .*/Version: $version+next1/" "$work/next/DEBIAN/control"
dpkg-deb -b --root-owner-group "$work/next" "$work/ringfence_next.deb" >/dev/null

echo "# the container's root"
root_packages="systemd,systemd-sysv,dbus,nftables,iproute2,passwd,procps,libyaml-cpp0.7,libboost-program-options1.74.0,libnftnl11,libmnl0"
cache="$build/nspawn-root"
if [[ ! -f $cache/.ringfence-packages || $(cat "$cache/.ringfence-packages") != "$root_packages" ]]; then
  rm -rf "$cache" "$cache.tmp"
  t=$SECONDS
  mmdebstrap --variant=minbase --include="$root_packages" bookworm "$cache.tmp" > "$work/mmdebstrap.log" 2>&1 ||
    { tail -20 "$work/mmdebstrap.log"; echo "mmdebstrap failed"; exit 1; }
  echo "$root_packages" > "$cache.tmp/.ringfence-packages"
  mv "$cache.tmp" "$cache"
  echo "# mmdebstrap: $((SECONDS - t)) s"
fi
root="$work/root"
cp -a "$cache" "$root"
mkdir -p "$root/root/pkg" && cp "$deb" "$root/root/pkg/ringfence.deb" && cp "$work/ringfence_next.deb" "$root/root/pkg/"

# Boots the container (a new network namespace each time: no table, as after
# a power cycle); sets nspawn, pid1 and state.
in_ct() { nsenter -t "$pid1" -a "$@"; }
boot() {
  systemd-nspawn -D "$root" --register=no --keep-unit --private-network -b < /dev/null >> "$work/console" 2>&1 &
  nspawn=$!
  pid1=""
  for _ in $(seq 100); do
    pid1=$(pgrep -P "$nspawn" -x systemd | head -1)
    [[ -n $pid1 ]] && break
    sleep 0.1
  done
  [[ -n $pid1 ]] || { cat "$work/console"; echo "the container did not start"; exit 1; }
  local t=$SECONDS
  state=""
  for _ in $(seq 120); do  # the manager's bus comes up a moment after PID 1
    state=$(in_ct timeout 60 systemctl is-system-running --wait 2>&1)
    [[ $state == running || $state == degraded ]] && break
    sleep 0.5
  done
  echo "# booted in $((SECONDS - t)) s: $state"
}
echo "# boot"
boot
expect_true "systemd is PID 1 in the container and the system runs" test "$(in_ct cat /proc/1/comm)" = systemd -a "$state" = running

# Waits (up to $2 tenths of a second, default 100) until ringfenced is active
# with a main PID other than $1; prints the PID.
wait_active() {
  local old=${1:-0} pid
  for _ in $(seq "${2:-100}"); do
    pid=$(in_ct systemctl show -p MainPID --value ringfenced)
    if [[ $(in_ct systemctl is-active ringfenced) == active && $pid != 0 && $pid != "$old" ]]; then
      echo "$pid"; return 0
    fi
    sleep 0.1
  done
  return 1
}
table() { in_ct nft list table inet ringfence; }
journal_on_failure() {
  [[ $LAB_FAILED -gt 0 ]] || return 0
  echo "# journal of ringfenced:"; in_ct journalctl -u ringfenced --no-pager | tail -40 | sed "s/^/#   /"
}

echo "# install"
expect_true "dpkg -i installs the package" in_ct dpkg -i /root/pkg/ringfence.deb
expect_true "the unit is enabled" test "$(in_ct systemctl is-enabled ringfenced)" = enabled
pid=$(wait_active)
expect_true "ringfenced is active after the install" test -n "$pid"
expect_true "the table is in force" table
expect_true "the ringfence group exists" in_ct getent group ringfence
expect_true "IPv4 forwarding is on" test "$(in_ct cat /proc/sys/net/ipv4/ip_forward)" = 1
expect_true "IPv6 forwarding is on" test "$(in_ct cat /proc/sys/net/ipv6/conf/all/forwarding)" = 1
expect_true "ringfencectl status works as root" in_ct ringfencectl status
expect_true "the daemon's starting configuration has no devices" test "$(in_ct ringfencectl list | grep -c pump)" = 0

echo "# reload"
cat > "$root/etc/ringfence/profiles/pump.yaml" <<'EOF'
device: pump
identity:
  addresses: [198.51.100.10]
allow:
  outbound:
    - to: 203.0.113.20
      proto: tcp
      ports: [443]
EOF
sed -i 's/^device_interfaces: \[\]/device_interfaces: [dev0]/' "$root/etc/ringfence/ringfence.yaml"
expect_true "systemctl reload succeeds" in_ct systemctl reload ringfenced
expect_true "the reload applied the new profile" sh -c "nsenter -t $pid1 -a ringfencectl list | grep -q pump"
expect_true "the reload kept the daemon" test "$(in_ct systemctl show -p MainPID --value ringfenced)" = "$pid"

echo "# the device and a LAN peer, each in a namespace inside the container"
ct_ns() { local ns=$1; shift; in_ct ip netns exec "$ns" "$@"; }
in_ct ip netns add pumpns
in_ct ip netns add lanns
in_ct ip link add dev0 type veth peer name eth0 netns pumpns
in_ct ip link add lan0 type veth peer name eth0 netns lanns
in_ct ip addr add 198.51.100.1/25 dev dev0
in_ct ip addr add 203.0.113.1/24 dev lan0
in_ct ip link set dev0 up
in_ct ip link set lan0 up
for ns in pumpns lanns; do ct_ns "$ns" ip link set lo up; ct_ns "$ns" ip link set eth0 up; done
ct_ns pumpns ip addr add 198.51.100.10/25 dev eth0
ct_ns pumpns ip route add default via 198.51.100.1
ct_ns lanns ip addr add 203.0.113.20/24 dev eth0
ct_ns lanns ip route add default via 203.0.113.1
# The LAN peer counts the device's connection attempts (SYNs to port 443, its allowed flow).
ct_ns lanns nft 'table ip peer { chain in { type filter hook input priority 0; ip saddr 198.51.100.10 tcp dport 443 counter; }; }'
syns() { ct_ns lanns nft list chain ip peer in | sed -n 's/.*counter packets \([0-9]*\).*/\1/p'; }
connect() { ct_ns pumpns timeout 1 bash -c 'exec 3<>/dev/tcp/203.0.113.20/443' 2>/dev/null; }
for _ in 1 2 3; do connect; done
expect_true "the device's allowed flow reaches the LAN peer" test "$(syns)" -ge 1

echo "# the bus policy"
in_ct useradd -M -N -s /usr/sbin/nologin rfuser
in_ct useradd -M -N -G ringfence -s /usr/sbin/nologin rfadmin
expect_true "status works as another user" in_ct runuser -u rfuser -- ringfencectl status
in_ct runuser -u rfuser -- ringfencectl isolate pump --reason test > /dev/null 2>&1
expect_true "isolate is refused for another user (exit 4)" test $? -eq 4
expect_true "a member of ringfence may isolate" in_ct runuser -u rfadmin -- ringfencectl isolate pump --reason "package test"
expect_true "the device is isolated" sh -c "nsenter -t $pid1 -a nft list set inet ringfence isolated4 | grep -q 198.51.100.10"
before=$(syns)
for _ in 1 2 3; do connect; done
expect_true "the isolated device's flow no longer reaches the LAN peer" test "$(syns)" = "$before"

echo "# restarts"
in_ct systemctl kill -s KILL ringfenced
expect_true "the table stays while the daemon is dead" table
new=$(wait_active "$pid")
expect_true "SIGKILL: systemd restarts ringfenced" test -n "$new"
pid=${new:-$pid}
expect_true "the isolation survived the restart" sh -c "nsenter -t $pid1 -a nft list set inet ringfence isolated4 | grep -q 198.51.100.10"
t=$SECONDS
in_ct systemctl kill -s STOP ringfenced
new=$(wait_active "$pid" 900)
echo "# SIGSTOP: restarted after $((SECONDS - t)) s"
expect_true "a hung daemon (SIGSTOP) is killed by the watchdog and restarted" test -n "$new"
expect_true "the journal names the watchdog" sh -c "nsenter -t $pid1 -a journalctl -u ringfenced --no-pager | grep -qi watchdog"
pid=${new:-$pid}
expect_true "systemctl stop succeeds" in_ct systemctl stop ringfenced
expect_true "stop leaves the table in force" table
expect_true "stop leaves the device isolated" sh -c "nsenter -t $pid1 -a nft list set inet ringfence isolated4 | grep -q 198.51.100.10"
in_ct systemctl start ringfenced
pid=$(wait_active)
expect_true "systemctl start takes the table over" test -n "$pid"
echo "# upgrade to $version+next1"
rm -f "$root/root/stop-poll"
in_ct sh -c 'while [ ! -e /root/stop-poll ]; do if nft list table inet ringfence >/dev/null 2>&1; then echo present; else echo absent; fi; done' > "$work/poll" 2>&1 &
poller=$!
rm -f "$root/root/stop-send"
in_ct sh -c 'while [ ! -e /root/stop-send ]; do ip netns exec pumpns timeout 0.2 bash -c "exec 3<>/dev/tcp/203.0.113.20/443" 2>/dev/null; echo sent; done' > "$work/sent" 2>&1 &
sender=$!
before=$(syns)
sleep 0.5
t=$SECONDS
expect_true "dpkg -i of the next version succeeds" in_ct dpkg -i /root/pkg/ringfence_next.deb
new=$(wait_active "$pid")
echo "# upgrade: $((SECONDS - t)) s"
sleep 0.5
touch "$root/root/stop-poll" "$root/root/stop-send"
wait "$poller" "$sender"
echo "# the isolated device tried $(grep -c sent "$work/sent") connections during the upgrade"
expect_true "the isolated device's sender tried during the upgrade" test "$(grep -c sent "$work/sent")" -gt 3
expect_true "no packet of the isolated device got through during the upgrade" test "$(syns)" = "$before"
echo "# table polled $(grep -c present "$work/poll") times during the upgrade, absent $(grep -c absent "$work/poll") times"
expect_true "the upgrade restarted the daemon" test -n "$new"
expect_true "the next version is installed" test "$(in_ct dpkg-query -W -f '${Version}' ringfence)" = "$version+next1"
expect_true "the table was polled during the upgrade" test "$(grep -c present "$work/poll")" -gt 10
expect_true "the table was never absent during the upgrade" test "$(grep -c absent "$work/poll")" = 0
expect_true "the device is still isolated after the upgrade" sh -c "nsenter -t $pid1 -a nft list set inet ringfence isolated4 | grep -q 198.51.100.10"
expect_true "the daemon still reports it isolated" sh -c "nsenter -t $pid1 -a ringfencectl show pump | grep -qi isolated"
expect_true "the admin's configuration survived the upgrade" grep -q 'device_interfaces: \[dev0\]' "$root/etc/ringfence/ringfence.yaml"

# A reboot with a broken profile: the container powers off and boots again
# in a new network namespace, so the kernel has no table; the policy on disk
# is refused, and the daemon must enforce the last good policy it saved,
# with the isolation.
echo "# a reboot with a broken profile"
echo "device: [broken" > "$root/etc/ringfence/profiles/broken.yaml"
old_pid1=$pid1
in_ct systemctl reboot
for _ in $(seq 300); do kill -0 "$nspawn" 2>/dev/null || break; sleep 0.1; done
wait "$nspawn"; rc=$?
expect_true "the container rebooted (nspawn exits 133 on reboot)" test "$rc" = 133
boot
expect_true "the container came up again" test -n "$pid1" -a "$pid1" != "$old_pid1" -a "$state" = running
pid=$(wait_active)
expect_true "the daemon starts at boot with the broken profile" test -n "$pid"
expect_true "the table is in force after the reboot" table
expect_true "status says LAST-GOOD" sh -c "nsenter -t $pid1 -a ringfencectl status | grep -q LAST-GOOD"
expect_true "status names the broken file" sh -c "nsenter -t $pid1 -a ringfencectl status | grep -q broken.yaml"
expect_true "the device is still isolated after the reboot" sh -c "nsenter -t $pid1 -a nft list set inet ringfence isolated4 | grep -q 198.51.100.10"
rm "$root/etc/ringfence/profiles/broken.yaml"
expect_true "a reload with the profile fixed succeeds" in_ct systemctl reload ringfenced
expect_true "status is current again" sh -c "nsenter -t $pid1 -a ringfencectl status | grep -q 'current (the policy on disk is in force)'"

echo "# remove and purge"
expect_true "dpkg -r removes the package" in_ct dpkg -r ringfence
expect_true "remove stops the daemon" test "$(in_ct systemctl is-active ringfenced)" != active
expect_true "remove keeps the configuration" test -f "$root/etc/ringfence/ringfence.yaml" -a -f "$root/etc/ringfence/profiles/pump.yaml"
expect_true "remove keeps the state" test -d "$root/var/lib/ringfence"
expect_true "remove leaves the devices contained (the table)" table
expect_true "dpkg -P purges the package" in_ct dpkg -P ringfence
expect_true "purge deletes /etc/ringfence" test ! -e "$root/etc/ringfence"
expect_true "purge deletes /var/lib/ringfence" test ! -e "$root/var/lib/ringfence"
journal_on_failure
echo "# package test: $((SECONDS - started)) s"
lab_summary

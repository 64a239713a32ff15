#!/usr/bin/env bash
# Installs every Debian package that building, testing and the demo need.
# Safe to run again: apt-get skips what is already there.
set -euo pipefail

PACKAGES=(
  # The Debian package and its test under systemd in a container (tests/package):
  # dpkg-buildpackage, lintian, hardening-check (devscripts), a Debian 12 root, systemd-nspawn.
  dpkg-dev debhelper lintian devscripts mmdebstrap systemd-container
  build-essential cmake ninja-build pkg-config git
  clang-format clang-19 libclang-rt-19-dev llvm-19
  libyaml-cpp-dev libboost-program-options-dev
  libnftnl-dev libmnl-dev libsystemd-dev
  libgtest-dev libgmock-dev googletest
  nftables iproute2 conntrack socat netcat-openbsd iputils-ping iperf3 ethtool
  dbus dbus-daemon dbus-bin python3 systemd man-db groff-base
  python3-scapy hping3 arping ndisc6
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if ((${#missing[@]})); then
  if [[ $EUID -ne 0 ]]; then
    echo "setup: these packages are missing and installing them needs root: ${missing[*]}" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "setup: all packages present"

#include "policy/model.h"

#include <algorithm>

namespace ringfence::policy {

const char* toString(Mode m) {
  switch (m) {
    case Mode::Enforce:
      return "enforce";
    case Mode::Monitor:
      return "monitor";
    case Mode::Learn:
      return "learn";
  }
  return "?";
}

const char* toString(Proto p) {
  switch (p) {
    case Proto::Tcp:
      return "tcp";
    case Proto::Udp:
      return "udp";
    case Proto::Icmp:
      return "icmp";
    case Proto::Icmpv6:
      return "icmpv6";
  }
  return "?";
}

const char* toString(Direction d) {
  switch (d) {
    case Direction::Outbound:
      return "outbound";
    case Direction::Inbound:
      return "inbound";
  }
  return "?";
}

const char* toString(ViolationAction a) {
  switch (a) {
    case ViolationAction::Isolate:
      return "isolate";
    case ViolationAction::Alert:
      return "alert";
  }
  return "?";
}

const char* toString(UnknownDevices u) {
  switch (u) {
    case UnknownDevices::Drop:
      return "drop";
    case UnknownDevices::Alert:
      return "alert";
    case UnknownDevices::Allow:
      return "allow";
  }
  return "?";
}

std::optional<Proto> parseProto(std::string_view text) {
  for (Proto p : {Proto::Tcp, Proto::Udp, Proto::Icmp, Proto::Icmpv6}) {
    if (text == toString(p)) return p;
  }
  return std::nullopt;
}

uint8_t ipProtocolNumber(Proto p) {
  switch (p) {
    case Proto::Tcp:
      return 6;
    case Proto::Udp:
      return 17;
    case Proto::Icmp:
      return 1;
    case Proto::Icmpv6:
      return 58;
  }
  return 0;
}

std::optional<Proto> protoFromNumber(uint8_t number) {
  for (Proto p : {Proto::Tcp, Proto::Udp, Proto::Icmp, Proto::Icmpv6}) {
    if (ipProtocolNumber(p) == number) return p;
  }
  return std::nullopt;
}

bool Device::hasFamily(Family f) const {
  return std::any_of(addresses.begin(), addresses.end(),
                     [f](const IpAddress& a) { return a.family == f; });
}

const Device* Policy::findDevice(std::string_view name) const {
  auto it = std::lower_bound(devices.begin(), devices.end(), name,
                             [](const Device& d, std::string_view n) { return d.name < n; });
  return (it != devices.end() && it->name == name) ? &*it : nullptr;
}

}  // namespace ringfence::policy

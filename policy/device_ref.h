// Which device a command-line DEVICE argument means: a device's name, or an
// IPv4/IPv6 address among one device's identity addresses. Pure, so the
// offline check (over the loaded policy) and the online one (over what the
// daemon lists) resolve the same way.
#pragma once

#include <expected>
#include <string>
#include <string_view>
#include <vector>

#include "policy/model.h"
#include "policy/net_types.h"

namespace ringfence::policy {

struct DeviceAddresses {
  std::string name;
  std::vector<IpAddress> addresses;  // identity addresses
};

// The device's name. A name matches first (a name may look like an
// address); otherwise an argument that parses as an address names the
// device that owns it, compared as addresses ("2001:db8::1" is
// "2001:db8:0::1"). The error says what was not found: "no such device 'x'"
// or "no device has address 198.51.100.99".
std::expected<std::string, std::string> resolveDeviceArgument(
    std::string_view argument, const std::vector<DeviceAddresses>& devices);
std::expected<std::string, std::string> resolveDeviceArgument(std::string_view argument,
                                                              const Policy& policy);

}  // namespace ringfence::policy

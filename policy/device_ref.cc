#include "policy/device_ref.h"

#include <algorithm>

namespace ringfence::policy {

std::expected<std::string, std::string> resolveDeviceArgument(
    std::string_view argument, const std::vector<DeviceAddresses>& devices) {
  for (const DeviceAddresses& d : devices) {
    if (d.name == argument) return d.name;
  }
  auto address = parseIpAddress(argument);
  if (!address) return std::unexpected("no such device '" + std::string(argument) + "'");
  for (const DeviceAddresses& d : devices) {
    if (std::find(d.addresses.begin(), d.addresses.end(), *address) != d.addresses.end()) {
      return d.name;
    }
  }
  return std::unexpected("no device has address " + toString(*address));
}

std::expected<std::string, std::string> resolveDeviceArgument(std::string_view argument,
                                                              const Policy& policy) {
  std::vector<DeviceAddresses> devices;
  devices.reserve(policy.devices.size());
  for (const Device& d : policy.devices) devices.push_back({d.name, d.addresses});
  return resolveDeviceArgument(argument, devices);
}

}  // namespace ringfence::policy

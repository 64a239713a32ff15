// The bus names of docs/spec/dbus.md and how both programs reach a bus: shared by
// the daemon (serving) and ringfencectl (calling). Header-only.
#pragma once

#include <systemd/sd-bus.h>

#include <string>

namespace ringfence {

inline constexpr const char* kBusName = "io.ringfence.Gateway1";
inline constexpr const char* kManagerPath = "/io/ringfence/Gateway1";
inline constexpr const char* kManagerInterface = "io.ringfence.Gateway1.Manager";
inline constexpr const char* kDevicePrefix = "/io/ringfence/Gateway1/device";
inline constexpr const char* kDeviceInterface = "io.ringfence.Gateway1.Device";

// "system", "session" or a D-Bus address (unix:path=...). Returns -errno.
inline int openBus(const std::string& address, sd_bus** bus) {
  *bus = nullptr;
  if (address == "system") return sd_bus_open_system(bus);
  if (address == "session") return sd_bus_open_user(bus);
  int r = sd_bus_new(bus);
  if (r >= 0) r = sd_bus_set_address(*bus, address.c_str());
  if (r >= 0) r = sd_bus_set_bus_client(*bus, 1);
  if (r >= 0) r = sd_bus_start(*bus);
  if (r < 0 && *bus) *bus = sd_bus_unref(*bus);
  return r;
}

}  // namespace ringfence

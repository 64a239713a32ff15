// One object per device under /io/ringfence/Gateway1/device/<name>: a
// fallback vtable finds the device from its path, a node enumerator lists
// them, so objects appear and disappear with reloads.
#include <cstring>

#include "daemon/bus.h"
#include "policy/text_out.h"

namespace ringfence::daemon {
namespace {

BusService* self(void* userdata) { return static_cast<BusService*>(userdata); }

std::optional<DeviceStatus> deviceAt(const char* path, void* userdata) {
  char* name = nullptr;
  if (sd_bus_path_decode(path, kDevicePrefix, &name) <= 0) return std::nullopt;
  std::string device(name);
  free(name);
  return self(userdata)->gateway().device(device);
}

int find(sd_bus*, const char* path, const char*, void* userdata, void** found,
         sd_bus_error*) noexcept {
  try {
    if (!deviceAt(path, userdata)) return 0;
    *found = userdata;
    return 1;
  } catch (...) {
    return -ENOMEM;
  }
}

int enumerate(sd_bus*, const char*, void* userdata, char*** nodes, sd_bus_error*) noexcept {
  try {
    std::vector<std::string> names = self(userdata)->gateway().deviceNames();
    char** list = static_cast<char**>(calloc(names.size() + 1, sizeof(char*)));
    if (!list) return -ENOMEM;
    for (size_t i = 0; i < names.size(); ++i)
      list[i] = strdup(BusService::devicePath(names[i]).c_str());
    *nodes = list;
    return 0;
  } catch (...) {
    return -ENOMEM;
  }
}

// Each property: fetch the device from the path, append one field.
template <typename F>
int property(const char* path, void* userdata, sd_bus_error* error, F&& append) noexcept {
  try {
    auto d = deviceAt(path, userdata);
    if (!d)
      return sd_bus_error_set(error, "io.ringfence.Gateway1.Error.NoSuchDevice",
                              "the device is gone");
    return append(*d);
  } catch (const std::exception& ex) {
    return sd_bus_error_set(error, SD_BUS_ERROR_FAILED, policy::validUtf8(ex.what()).c_str());
  }
}

#define STRING_PROPERTY(fn, field)                                                   \
  int fn(sd_bus*, const char* path, const char*, const char*, sd_bus_message* reply, \
         void* userdata, sd_bus_error* error) noexcept {                             \
    return property(path, userdata, error, [&](const DeviceStatus& d) {              \
      return sd_bus_message_append(reply, "s", policy::validUtf8(d.field).c_str());  \
    });                                                                              \
  }
#define U64_PROPERTY(fn, field)                                                      \
  int fn(sd_bus*, const char* path, const char*, const char*, sd_bus_message* reply, \
         void* userdata, sd_bus_error* error) noexcept {                             \
    return property(path, userdata, error, [&](const DeviceStatus& d) {              \
      return sd_bus_message_append(reply, "t", d.field);                             \
    });                                                                              \
  }

STRING_PROPERTY(getName, name)
STRING_PROPERTY(getDescription, description)
STRING_PROPERTY(getMode, mode)
STRING_PROPERTY(getState, state)
STRING_PROPERTY(getMac, mac)
STRING_PROPERTY(getInterface, interface)
STRING_PROPERTY(getIsolationReason, isolationReason)
U64_PROPERTY(getViolations, violations)
U64_PROPERTY(getLastViolationAt, lastViolationAt)
U64_PROPERTY(getIsolatedSince, isolatedSince)
U64_PROPERTY(getMaintenanceUntil, maintenanceUntil)
// Read from the kernel only when asked for: not part of DeviceStatus, which
// every device lookup builds.
int getPacketsAllowed(sd_bus*, const char* path, const char*, const char*, sd_bus_message* reply,
                      void* userdata, sd_bus_error* error) noexcept {
  return property(path, userdata, error, [&](const DeviceStatus& d) {
    return sd_bus_message_append(reply, "t", self(userdata)->gateway().packetsAllowed(d.name));
  });
}
U64_PROPERTY(getPacketsDropped, packetsDropped)
U64_PROPERTY(getProbesReceived, probesReceived)

int getAddresses(sd_bus*, const char* path, const char*, const char*, sd_bus_message* reply,
                 void* userdata, sd_bus_error* error) noexcept {
  return property(path, userdata, error, [&](const DeviceStatus& d) {
    int r = sd_bus_message_open_container(reply, 'a', "s");
    for (const std::string& a : d.addresses) {
      if (r >= 0) r = sd_bus_message_append(reply, "s", policy::validUtf8(a).c_str());
    }
    return r < 0 ? r : sd_bus_message_close_container(reply);
  });
}

int getInventory(sd_bus*, const char* path, const char*, const char*, sd_bus_message* reply,
                 void* userdata, sd_bus_error* error) noexcept {
  return property(path, userdata, error, [&](const DeviceStatus& d) {
    int r = sd_bus_message_open_container(reply, 'a', "{ss}");
    for (const auto& [k, v] : d.inventory) {
      if (r >= 0) {
        r = sd_bus_message_append(reply, "{ss}", policy::validUtf8(k).c_str(),
                                  policy::validUtf8(v).c_str());
      }
    }
    return r < 0 ? r : sd_bus_message_close_container(reply);
  });
}

constexpr uint64_t kChanges = SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE;
const sd_bus_vtable kDeviceVtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_PROPERTY("Name", "s", getName, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Description", "s", getDescription, 0, kChanges),
    SD_BUS_PROPERTY("Mode", "s", getMode, 0, kChanges),
    SD_BUS_PROPERTY("State", "s", getState, 0, kChanges),
    SD_BUS_PROPERTY("Addresses", "as", getAddresses, 0, kChanges),
    SD_BUS_PROPERTY("Mac", "s", getMac, 0, kChanges),
    SD_BUS_PROPERTY("Interface", "s", getInterface, 0, kChanges),
    SD_BUS_PROPERTY("Inventory", "a{ss}", getInventory, 0, kChanges),
    SD_BUS_PROPERTY("Violations", "t", getViolations, 0, kChanges),
    SD_BUS_PROPERTY("LastViolationAt", "t", getLastViolationAt, 0, kChanges),
    SD_BUS_PROPERTY("IsolatedSince", "t", getIsolatedSince, 0, kChanges),
    SD_BUS_PROPERTY("IsolationReason", "s", getIsolationReason, 0, kChanges),
    SD_BUS_PROPERTY("MaintenanceUntil", "t", getMaintenanceUntil, 0, kChanges),
    SD_BUS_PROPERTY("PacketsAllowed", "t", getPacketsAllowed, 0,
                    SD_BUS_VTABLE_PROPERTY_EMITS_INVALIDATION),
    SD_BUS_PROPERTY("PacketsDropped", "t", getPacketsDropped, 0,
                    SD_BUS_VTABLE_PROPERTY_EMITS_INVALIDATION),
    SD_BUS_PROPERTY("ProbesReceived", "t", getProbesReceived, 0, kChanges),
    SD_BUS_VTABLE_END};

}  // namespace

int addDeviceObjects(sd_bus* bus, BusService* service, std::vector<sd_bus_slot*>& slots) {
  sd_bus_slot* slot = nullptr;
  int r = sd_bus_add_fallback_vtable(bus, &slot, kDevicePrefix, kDeviceInterface, kDeviceVtable,
                                     find, service);
  if (r < 0) return r;
  slots.push_back(slot);
  r = sd_bus_add_node_enumerator(bus, &slot, kDevicePrefix, enumerate, service);
  if (r < 0) return r;
  slots.push_back(slot);
  return 0;
}

}  // namespace ringfence::daemon

// The D-Bus service of docs/spec/dbus.md (io.ringfence.Gateway1), on sd-bus and
// the daemon's sd-event loop. Reads are open to everyone; mutations need
// uid 0 or the admin group, checked from the caller's credentials.
#pragma once

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include <expected>
#include <memory>
#include <string>
#include <vector>

#include "daemon/bus_names.h"
#include "daemon/gateway.h"

namespace ringfence::daemon {

class BusService final : public GatewayEvents {
 public:
  // `address`: "system", "session" or a D-Bus address (unix:path=...).
  static std::expected<std::unique_ptr<BusService>, std::string> open(sd_event* loop,
                                                                      const std::string& address,
                                                                      Gateway& gateway,
                                                                      std::string adminGroup);
  ~BusService() override;

  void setAdminGroup(std::string group) { adminGroup_ = std::move(group); }
  // After a reload: objects of removed devices go, new ones appear.
  void devicesChanged(const std::vector<std::string>& before,
                      const std::vector<std::string>& after);
  void deviceChanged(const std::string& device);  // PropertiesChanged on its object
  void policyStateChanged();                      // PolicyState, PolicyErrors

  void violation(const std::string& device, const std::string& direction, const std::string& src,
                 const std::string& dst, const std::string& proto, uint16_t sport, uint16_t dport,
                 bool dropped) override;
  void isolated(const std::string& device, const std::string& reason,
                const std::string& by) override;
  void released(const std::string& device, const std::string& reason,
                const std::string& by) override;
  void unknownHost(const std::string& address, const std::string& mac,
                   const std::string& interface) override;
  void probe(const std::string& device, const std::string& src, const std::string& dst,
             const std::string& proto, uint16_t sport, uint16_t dport) override;
  void policyReloaded(uint64_t generation) override;
  void stateSaveChanged() override;
  // The Event signal (an extension): one logged event, its fields already
  // cleaned by the log (one line of valid UTF-8 each).
  void logged(const char* severity, const std::string& event, const std::string& message,
              const std::string& device);

  // Internal, for the vtable callbacks.
  Gateway& gateway() { return gateway_; }
  // Fills `who` ("uid:N"); false (with AccessDenied set, and logged) when the caller may not
  // mutate.
  bool mayMutate(sd_bus_message* m, sd_bus_error* error, const char* what, std::string& who);
  static std::string devicePath(const std::string& device);

 private:
  BusService(sd_bus* bus, Gateway& gateway, std::string adminGroup)
      : bus_(bus), gateway_(gateway), adminGroup_(std::move(adminGroup)) {}
  void managerChanged();

  sd_bus* bus_;
  Gateway& gateway_;
  std::string adminGroup_;
  std::vector<sd_bus_slot*> slots_;
};

// Registers the device objects (bus_device.cc).
int addDeviceObjects(sd_bus* bus, BusService* service, std::vector<sd_bus_slot*>& slots);

}  // namespace ringfence::daemon

#include "daemon/bus.h"

#include <grp.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "daemon/log.h"
#include "policy/text_out.h"

namespace ringfence::daemon {
namespace {

constexpr const char* kErrorNoSuchDevice = "io.ringfence.Gateway1.Error.NoSuchDevice";
constexpr const char* kErrorInvalidPolicy = "io.ringfence.Gateway1.Error.InvalidPolicy";
constexpr const char* kErrorInvalidArgument = "io.ringfence.Gateway1.Error.InvalidArgument";

BusService* self(void* userdata) { return static_cast<BusService*>(userdata); }

// Every string the daemon puts on the bus goes through this: sd-bus refuses
// invalid UTF-8 (a profile's description, a file name in an error line).
std::string u8(const std::string& s) { return policy::validUtf8(s); }

// Isolate, Release and StartMaintenance: a reason is logged and saved, so it
// is bounded, valid UTF-8 and free of control characters.
bool reasonRefused(const char* reason, sd_bus_error* error, int& r) {
  auto problem = policy::reasonProblem(reason ? reason : "");
  if (!problem) return false;
  r = sd_bus_error_set(error, kErrorInvalidArgument, problem->c_str());
  return true;
}

// Every callback catches everything: no exception may cross into sd-bus.
template <typename F>
int guarded(sd_bus_error* error, F&& f) noexcept {
  try {
    return f();
  } catch (const std::exception& ex) {
    return sd_bus_error_set(error, SD_BUS_ERROR_FAILED, u8(ex.what()).c_str());
  }
}

int mutationError(sd_bus_error* error, MutationError e, const std::string& device) {
  switch (e) {
    case MutationError::NoSuchDevice:
      return sd_bus_error_setf(error, kErrorNoSuchDevice, "no such device '%s'",
                               u8(device).c_str());
    case MutationError::NothingToDo:
      return sd_bus_error_setf(error, kErrorInvalidArgument, "device '%s' is already in that state",
                               u8(device).c_str());
    case MutationError::Failed:
      return sd_bus_error_setf(error, SD_BUS_ERROR_FAILED, "the kernel refused the change for '%s'",
                               u8(device).c_str());
  }
  return -EINVAL;
}

#define PROPERTY_U(name, type, expr)                                                     \
  static int name(sd_bus*, const char*, const char*, const char*, sd_bus_message* reply, \
                  void* userdata, sd_bus_error* error) noexcept {                        \
    return guarded(error, [&] {                                                          \
      Gateway& g = self(userdata)->gateway();                                            \
      return sd_bus_message_append(reply, type, expr);                                   \
    });                                                                                  \
  }

int getVersion(sd_bus*, const char*, const char*, const char*, sd_bus_message* reply, void*,
               sd_bus_error*) noexcept {
  return sd_bus_message_append(reply, "s", RINGFENCE_VERSION);
}
PROPERTY_U(getGeneration, "t", g.policyGeneration())
PROPERTY_U(getLoadedAt, "t", g.policyLoadedAt())
PROPERTY_U(getDeviceCount, "u", g.deviceCount())
PROPERTY_U(getIsolatedCount, "u", g.isolatedCount())
PROPERTY_U(getViolationsTotal, "t", g.violationsTotal())
PROPERTY_U(getStateSaveError, "s", u8(g.stateSaveError()).c_str())

int getPolicyState(sd_bus*, const char*, const char*, const char*, sd_bus_message* reply,
                   void* userdata, sd_bus_error* error) noexcept {
  return guarded(error, [&] {
    return sd_bus_message_append(reply, "s", u8(self(userdata)->gateway().policyState()).c_str());
  });
}

int getPolicyErrors(sd_bus*, const char*, const char*, const char*, sd_bus_message* reply,
                    void* userdata, sd_bus_error* error) noexcept {
  return guarded(error, [&] {
    int r = sd_bus_message_open_container(reply, 'a', "s");
    for (const std::string& e : self(userdata)->gateway().policyErrors()) {
      if (r >= 0) r = sd_bus_message_append(reply, "s", u8(e).c_str());
    }
    if (r >= 0) r = sd_bus_message_close_container(reply);
    return r;
  });
}

int listDevices(sd_bus_message* m, void* userdata, sd_bus_error* error) noexcept {
  return guarded(error, [&] {
    Gateway& g = self(userdata)->gateway();
    sd_bus_message* reply = nullptr;
    int r = sd_bus_message_new_method_return(m, &reply);
    if (r < 0) return r;
    r = sd_bus_message_open_container(reply, 'a', "(sssto)");
    for (const std::string& name : g.deviceNames()) {
      auto d = g.device(name);
      if (!d || r < 0) continue;
      r = sd_bus_message_append(reply, "(sssto)", u8(d->name).c_str(), u8(d->mode).c_str(),
                                u8(d->state).c_str(), d->violations,
                                BusService::devicePath(name).c_str());
    }
    if (r >= 0) r = sd_bus_message_close_container(reply);
    if (r >= 0) r = sd_bus_send(nullptr, reply, nullptr);
    sd_bus_message_unref(reply);
    return r;
  });
}

int getDevice(sd_bus_message* m, void* userdata, sd_bus_error* error) noexcept {
  return guarded(error, [&] {
    const char* name = nullptr;
    if (int r = sd_bus_message_read(m, "s", &name); r < 0) return r;
    if (!self(userdata)->gateway().device(name)) {
      return sd_bus_error_setf(error, kErrorNoSuchDevice, "no such device '%s'", name);
    }
    return sd_bus_reply_method_return(m, "o", BusService::devicePath(name).c_str());
  });
}

int isolateOrRelease(sd_bus_message* m, void* userdata, sd_bus_error* error, bool isolate) {
  return guarded(error, [&] {
    const char *name = nullptr, *reason = nullptr;
    if (int r = sd_bus_message_read(m, "ss", &name, &reason); r < 0) return r;
    std::string who;
    if (!self(userdata)->mayMutate(m, error, isolate ? "Isolate" : "Release", who)) return -EACCES;
    if (int r = 0; reasonRefused(reason, error, r)) return r;
    Gateway& g = self(userdata)->gateway();
    auto done = isolate ? g.isolate(name, reason, who) : g.release(name, reason, who);
    if (!done) return mutationError(error, done.error(), name);
    return sd_bus_reply_method_return(m, "");
  });
}
int isolateMethod(sd_bus_message* m, void* u, sd_bus_error* e) noexcept {
  return isolateOrRelease(m, u, e, true);
}
int releaseMethod(sd_bus_message* m, void* u, sd_bus_error* e) noexcept {
  return isolateOrRelease(m, u, e, false);
}

// Replies when the reload is done (off the loop, daemon/manager_reload.cc):
// the call is kept referenced until then.
int reloadMethod(sd_bus_message* m, void* userdata, sd_bus_error* error) noexcept {
  return guarded(error, [&] {
    std::string who;
    if (!self(userdata)->mayMutate(m, error, "Reload", who)) return -EACCES;
    log(LogLevel::Info, "reload", "reload requested over D-Bus by " + who);
    std::shared_ptr<sd_bus_message> call(sd_bus_message_ref(m), sd_bus_message_unref);
    self(userdata)->gateway().reloadAsync([call](const Gateway::ReloadResult& result) {
      int r = 0;
      if (!result) {
        std::string lines;
        // Appended in two steps: GCC 12 at -O3 warns falsely (-Wrestrict) on
        // `s += (cond ? "" : "\n") + t`.
        for (const std::string& l : result.error()) {
          if (!lines.empty()) lines += '\n';
          lines += u8(l);
        }
        sd_bus_error e = SD_BUS_ERROR_NULL;
        sd_bus_error_set(&e, kErrorInvalidPolicy, lines.c_str());
        r = sd_bus_reply_method_error(call.get(), &e);
        sd_bus_error_free(&e);
      } else {
        sd_bus_message* reply = nullptr;
        r = sd_bus_message_new_method_return(call.get(), &reply);
        if (r >= 0) r = sd_bus_message_append(reply, "t", result->first);
        if (r >= 0) r = sd_bus_message_open_container(reply, 'a', "s");
        for (const std::string& w : result->second) {
          if (r >= 0) r = sd_bus_message_append(reply, "s", u8(w).c_str());
        }
        if (r >= 0) r = sd_bus_message_close_container(reply);
        if (r >= 0) r = sd_bus_send(nullptr, reply, nullptr);
        sd_bus_message_unref(reply);
      }
      if (r < 0) {
        log(LogLevel::Error, "dbus-error",
            std::string("cannot answer a Reload call: ") + std::strerror(-r));
      }
    });
    return 1;  // the reply follows when the reload is done
  });
}

int startMaintenance(sd_bus_message* m, void* userdata, sd_bus_error* error) noexcept {
  return guarded(error, [&] {
    const char *name = nullptr, *reason = nullptr;
    uint64_t seconds = 0;
    if (int r = sd_bus_message_read(m, "sts", &name, &seconds, &reason); r < 0) return r;
    std::string who;
    if (!self(userdata)->mayMutate(m, error, "StartMaintenance", who)) return -EACCES;
    if (seconds == 0 || seconds > 7 * 86400) {
      return sd_bus_error_set(error, kErrorInvalidArgument,
                              "a maintenance window lasts 1 second to 7 days");
    }
    if (int r = 0; reasonRefused(reason, error, r)) return r;
    auto done = self(userdata)->gateway().startMaintenance(name, seconds, reason, who);
    if (!done && done.error() == MutationError::NothingToDo) {
      return sd_bus_error_setf(error, kErrorInvalidArgument, "device '%s' has no maintenance flows",
                               name);
    }
    if (!done) return mutationError(error, done.error(), name);
    return sd_bus_reply_method_return(m, "");
  });
}

int stopMaintenance(sd_bus_message* m, void* userdata, sd_bus_error* error) noexcept {
  return guarded(error, [&] {
    const char* name = nullptr;
    if (int r = sd_bus_message_read(m, "s", &name); r < 0) return r;
    std::string who;
    if (!self(userdata)->mayMutate(m, error, "StopMaintenance", who)) return -EACCES;
    auto done = self(userdata)->gateway().stopMaintenance(name, who);
    if (!done && done.error() == MutationError::NothingToDo) {
      return sd_bus_error_setf(error, kErrorInvalidArgument,
                               "device '%s' has no open maintenance window", name);
    }
    if (!done) return mutationError(error, done.error(), name);
    return sd_bus_reply_method_return(m, "");
  });
}

int checkMethod(sd_bus_message* m, void* userdata, sd_bus_error* error) noexcept {
  return guarded(error, [&] {
    const char *name = nullptr, *direction = nullptr, *peer = nullptr, *proto = nullptr;
    uint16_t port = 0;
    if (int r = sd_bus_message_read(m, "ssssq", &name, &direction, &peer, &proto, &port); r < 0)
      return r;
    policy::FlowQuery q;
    q.device = name;
    auto address = policy::parseIpAddress(peer);
    auto p = policy::parseProto(proto);
    std::string dir = direction;
    if (!address || !p || (dir != "outbound" && dir != "inbound")) {
      return sd_bus_error_set(
          error, kErrorInvalidArgument,
          "expected direction outbound|inbound, an IP address and tcp|udp|icmp|icmpv6");
    }
    q.direction = dir == "outbound" ? policy::Direction::Outbound : policy::Direction::Inbound;
    q.peer = *address;
    q.proto = *p;
    q.port = port;
    auto verdict = self(userdata)->gateway().check(q);
    if (!verdict) {
      return sd_bus_error_set(error,
                              verdict.error().kind == policy::FlowCheckError::NoSuchDevice
                                  ? kErrorNoSuchDevice
                                  : kErrorInvalidArgument,
                              u8(verdict.error().message).c_str());
    }
    return sd_bus_reply_method_return(m, "bs", verdict->allowed ? 1 : 0,
                                      u8(verdict->decidedBy).c_str());
  });
}

// A method that takes a device name and answers an array of `element`
// structs: `each(reply)` appends them (r stays the first error).
template <typename F>
int deviceListReply(sd_bus_message* m, void* userdata, sd_bus_error* error, const char* element,
                    F&& each) noexcept {
  return guarded(error, [&] {
    const char* name = nullptr;
    if (int r = sd_bus_message_read(m, "s", &name); r < 0) return r;
    Gateway& g = self(userdata)->gateway();
    if (!g.device(name))
      return sd_bus_error_setf(error, kErrorNoSuchDevice, "no such device '%s'", name);
    sd_bus_message* reply = nullptr;
    int r = sd_bus_message_new_method_return(m, &reply);
    if (r >= 0) r = sd_bus_message_open_container(reply, 'a', element);
    if (r >= 0) r = each(g, std::string(name), reply);
    if (r >= 0) r = sd_bus_message_close_container(reply);
    if (r >= 0) r = sd_bus_send(nullptr, reply, nullptr);
    sd_bus_message_unref(reply);
    return r;
  });
}

int observedFlows(sd_bus_message* m, void* userdata, sd_bus_error* error) noexcept {
  return deviceListReply(
      m, userdata, error, "(sssqt)",
      [](Gateway& g, const std::string& name, sd_bus_message* reply) {
        int r = 0;
        for (const auto& [flow, count] : g.observedFlows(name)) {
          auto proto = policy::protoFromNumber(flow.proto);
          std::string p = proto ? policy::toString(*proto) : std::to_string(flow.proto);
          if (r >= 0) {
            r = sd_bus_message_append(reply, "(sssqt)", policy::toString(flow.direction),
                                      policy::toString(flow.peer).c_str(), p.c_str(), flow.port,
                                      count);
          }
        }
        return r;
      });
}

// An extension of dbus.md: what `ringfencectl show` lists as recent violations.
int recentViolations(sd_bus_message* m, void* userdata, sd_bus_error* error) noexcept {
  return deviceListReply(m, userdata, error, "(tssssqqs)",
                         [](Gateway& g, const std::string& name, sd_bus_message* reply) {
                           int r = 0;
                           for (const ViolationRecord& v : g.recentViolations(name)) {
                             if (r >= 0) {
                               r = sd_bus_message_append(
                                   reply, "(tssssqqs)", v.at, v.direction.c_str(), v.src.c_str(),
                                   v.dst.c_str(), u8(v.proto).c_str(), v.sport, v.dport,
                                   v.dropped ? "dropped" : "allowed");
                             }
                           }
                           return r;
                         });
}

const sd_bus_vtable kManagerVtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_PROPERTY("Version", "s", getVersion, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("PolicyGeneration", "t", getGeneration, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("PolicyLoadedAt", "t", getLoadedAt, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("DeviceCount", "u", getDeviceCount, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("IsolatedCount", "u", getIsolatedCount, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("ViolationsTotal", "t", getViolationsTotal, 0,
                    SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("StateSaveError", "s", getStateSaveError, 0,
                    SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("PolicyState", "s", getPolicyState, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("PolicyErrors", "as", getPolicyErrors, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_METHOD("ListDevices", "", "a(sssto)", listDevices, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("GetDevice", "s", "o", getDevice, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("Isolate", "ss", "", isolateMethod, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("Release", "ss", "", releaseMethod, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("Reload", "", "tas", reloadMethod, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("StartMaintenance", "sts", "", startMaintenance, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("StopMaintenance", "s", "", stopMaintenance, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("Check", "ssssq", "bs", checkMethod, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("GetObservedFlows", "s", "a(sssqt)", observedFlows, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("GetRecentViolations", "s", "a(tssssqqs)", recentViolations,
                  SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_SIGNAL("Violation", "sssssqqs", 0),
    SD_BUS_SIGNAL("DeviceIsolated", "sss", 0),
    SD_BUS_SIGNAL("DeviceReleased", "sss", 0),
    SD_BUS_SIGNAL("UnknownHost", "sss", 0),
    SD_BUS_SIGNAL("Probe", "ssssqq", 0),
    SD_BUS_SIGNAL("PolicyReloaded", "t", 0),
    SD_BUS_SIGNAL("Event", "ssss", 0),  // extension: every logged event (docs/dbus-api.md)
    SD_BUS_VTABLE_END};

}  // namespace

std::string BusService::devicePath(const std::string& device) {
  char* path = nullptr;
  if (sd_bus_path_encode(kDevicePrefix, device.c_str(), &path) < 0) return kDevicePrefix;
  std::string out(path);
  free(path);
  return out;
}

std::expected<std::unique_ptr<BusService>, std::string> BusService::open(sd_event* loop,
                                                                         const std::string& address,
                                                                         Gateway& gateway,
                                                                         std::string adminGroup) {
  sd_bus* bus = nullptr;
  int r = openBus(address, &bus);
  if (r < 0) {
    return std::unexpected("cannot connect to the bus " + address + ": " + std::strerror(-r));
  }
  std::unique_ptr<BusService> service(new BusService(bus, gateway, std::move(adminGroup)));
  sd_bus_slot* slot = nullptr;
  r = sd_bus_add_object_vtable(bus, &slot, kManagerPath, kManagerInterface, kManagerVtable,
                               service.get());
  if (r >= 0) service->slots_.push_back(slot);
  if (r >= 0) r = sd_bus_add_object_manager(bus, &slot, kManagerPath);
  if (r >= 0) service->slots_.push_back(slot);
  if (r >= 0) r = addDeviceObjects(bus, service.get(), service->slots_);
  if (r >= 0) r = sd_bus_request_name(bus, kBusName, 0);
  if (r >= 0) r = sd_bus_attach_event(bus, loop, SD_EVENT_PRIORITY_NORMAL);
  if (r < 0)
    return std::unexpected(std::string("cannot serve ") + kBusName + ": " + std::strerror(-r));
  BusService* events = service.get();
  setLogObserver([events](LogLevel level, const std::string& event, const std::string& message,
                          const std::string& device) {
    events->logged(levelName(level), event, message, device);
  });
  return service;
}

BusService::~BusService() {
  setLogObserver({});
  for (sd_bus_slot* s : slots_) sd_bus_slot_unref(s);
  sd_bus_flush_close_unref(bus_);
}

bool BusService::mayMutate(sd_bus_message* m, sd_bus_error* error, const char* what,
                           std::string& who) {
  sd_bus_creds* creds = nullptr;
  uid_t uid = static_cast<uid_t>(-1);
  int r = sd_bus_query_sender_creds(m,
                                    SD_BUS_CREDS_EUID | SD_BUS_CREDS_EGID |
                                        SD_BUS_CREDS_SUPPLEMENTARY_GIDS | SD_BUS_CREDS_AUGMENT,
                                    &creds);
  bool allowed = false;
  if (r >= 0 && sd_bus_creds_get_euid(creds, &uid) >= 0) {
    who = "uid:" + std::to_string(uid);
    allowed = uid == 0;
    if (!allowed) {
      struct group* g = getgrnam(adminGroup_.c_str());
      gid_t egid = 0;
      if (g && sd_bus_creds_get_egid(creds, &egid) >= 0 && egid == g->gr_gid) allowed = true;
      const gid_t* gids = nullptr;
      int n = g ? sd_bus_creds_get_supplementary_gids(creds, &gids) : 0;
      for (int i = 0; i < n && !allowed; ++i) allowed = gids[i] == g->gr_gid;
    }
  }
  sd_bus_creds_unref(creds);
  if (!allowed) {
    log(LogLevel::Warning, "access-denied",
        std::string(what) + " refused for " + (who.empty() ? "an unknown caller" : who) +
            ": not root and not in group " + adminGroup_);
    sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED, "%s needs root or membership of group %s",
                      what, u8(adminGroup_).c_str());
  }
  return allowed;
}

void BusService::managerChanged() {
  sd_bus_emit_properties_changed(bus_, kManagerPath, kManagerInterface, "IsolatedCount",
                                 "ViolationsTotal", nullptr);
}

void BusService::policyStateChanged() {
  sd_bus_emit_properties_changed(bus_, kManagerPath, kManagerInterface, "PolicyState",
                                 "PolicyErrors", nullptr);
}

void BusService::deviceChanged(const std::string& device) {
  sd_bus_emit_properties_changed(bus_, devicePath(device).c_str(), kDeviceInterface, "State",
                                 "Violations", "LastViolationAt", "IsolatedSince",
                                 "IsolationReason", "MaintenanceUntil", nullptr);
}

void BusService::devicesChanged(const std::vector<std::string>& before,
                                const std::vector<std::string>& after) {
  for (const std::string& d : before) {
    if (std::find(after.begin(), after.end(), d) == after.end())
      sd_bus_emit_object_removed(bus_, devicePath(d).c_str());
  }
  for (const std::string& d : after) {
    if (std::find(before.begin(), before.end(), d) == before.end())
      sd_bus_emit_object_added(bus_, devicePath(d).c_str());
  }
}

void BusService::violation(const std::string& device, const std::string& direction,
                           const std::string& src, const std::string& dst, const std::string& proto,
                           uint16_t sport, uint16_t dport, bool dropped) {
  sd_bus_emit_signal(bus_, kManagerPath, kManagerInterface, "Violation", "sssssqqs",
                     u8(device).c_str(), direction.c_str(), src.c_str(), dst.c_str(),
                     u8(proto).c_str(), sport, dport, dropped ? "dropped" : "allowed");
  managerChanged();
  deviceChanged(device);
}

void BusService::isolated(const std::string& device, const std::string& reason,
                          const std::string& by) {
  sd_bus_emit_signal(bus_, kManagerPath, kManagerInterface, "DeviceIsolated", "sss",
                     u8(device).c_str(), u8(reason).c_str(), u8(by).c_str());
  managerChanged();
  deviceChanged(device);
}

void BusService::released(const std::string& device, const std::string& reason,
                          const std::string& by) {
  sd_bus_emit_signal(bus_, kManagerPath, kManagerInterface, "DeviceReleased", "sss",
                     u8(device).c_str(), u8(reason).c_str(), u8(by).c_str());
  managerChanged();
  deviceChanged(device);
}

void BusService::unknownHost(const std::string& address, const std::string& mac,
                             const std::string& interface) {
  sd_bus_emit_signal(bus_, kManagerPath, kManagerInterface, "UnknownHost", "sss",
                     u8(address).c_str(), u8(mac).c_str(), u8(interface).c_str());
}

void BusService::stateSaveChanged() {
  sd_bus_emit_properties_changed(bus_, kManagerPath, kManagerInterface, "StateSaveError", nullptr);
}

void BusService::probe(const std::string& device, const std::string& src, const std::string& dst,
                       const std::string& proto, uint16_t sport, uint16_t dport) {
  sd_bus_emit_signal(bus_, kManagerPath, kManagerInterface, "Probe", "ssssqq", device.c_str(),
                     src.c_str(), dst.c_str(), proto.c_str(), sport, dport);
  sd_bus_emit_properties_changed(bus_, devicePath(device).c_str(), kDeviceInterface,
                                 "ProbesReceived", nullptr);
}

void BusService::logged(const char* severity, const std::string& event, const std::string& message,
                        const std::string& device) {
  sd_bus_emit_signal(bus_, kManagerPath, kManagerInterface, "Event", "ssss", event.c_str(),
                     severity, device.c_str(), message.c_str());
}

void BusService::policyReloaded(uint64_t generation) {
  sd_bus_emit_signal(bus_, kManagerPath, kManagerInterface, "PolicyReloaded", "t", generation);
  sd_bus_emit_properties_changed(bus_, kManagerPath, kManagerInterface, "PolicyGeneration",
                                 "PolicyLoadedAt", "DeviceCount", nullptr);
}

}  // namespace ringfence::daemon

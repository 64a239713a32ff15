#include "ctl/online.h"

#include <systemd/sd-bus.h>

#include <csignal>
#include <cstring>
#include <ctime>
#include <map>
#include <memory>
#include <ostream>
#include <set>
#include <variant>

#include "ctl/ctl.h"
#include "ctl/json.h"
#include "ctl/present.h"
#include "daemon/bus_names.h"
#include "policy/learning.h"
#include "policy/schema.h"
#include "policy/text_out.h"

namespace ringfence::ctl {
namespace {

constexpr const char* kName = kBusName;
constexpr const char* kPath = kManagerPath;
constexpr const char* kManager = kManagerInterface;
constexpr const char* kDevice = kDeviceInterface;

struct BusFree {
  void operator()(sd_bus* b) const { sd_bus_flush_close_unref(b); }
};
struct MessageFree {
  void operator()(sd_bus_message* m) const { sd_bus_message_unref(m); }
};
using BusPtr = std::unique_ptr<sd_bus, BusFree>;
using MessagePtr = std::unique_ptr<sd_bus_message, MessageFree>;

struct Failure {
  int code;
  std::string message;
};

int exitCodeFor(const sd_bus_error& e) {
  if (sd_bus_error_has_name(&e, SD_BUS_ERROR_ACCESS_DENIED)) return kExitAccessDenied;
  if (sd_bus_error_has_name(&e, "io.ringfence.Gateway1.Error.NoSuchDevice"))
    return kExitNoSuchDevice;
  if (sd_bus_error_has_names(&e, SD_BUS_ERROR_SERVICE_UNKNOWN, SD_BUS_ERROR_NAME_HAS_NO_OWNER,
                             SD_BUS_ERROR_NO_REPLY, SD_BUS_ERROR_DISCONNECTED,
                             SD_BUS_ERROR_TIMEOUT)) {
    return kExitUnreachable;
  }
  return kExitRefused;
}

class Client {
 public:
  static std::variant<Client, Failure> connect(const std::string& address) {
    sd_bus* bus = nullptr;
    int r = openBus(address, &bus);
    if (r < 0) {
      return Failure{kExitUnreachable, "cannot reach the daemon: cannot connect to the bus " +
                                           address + ": " + std::strerror(-r)};
    }
    return Client(BusPtr(bus));
  }

  // Calls a manager method; the arguments follow `types` as for sd_bus_call_method.
  template <typename... Args>
  std::variant<MessagePtr, Failure> call(const char* member, const char* types, Args... args) {
    return callOn(kPath, kManager, member, types, args...);
  }
  template <typename... Args>
  std::variant<MessagePtr, Failure> callOn(const char* path, const char* iface, const char* member,
                                           const char* types, Args... args) {
    sd_bus_error error = SD_BUS_ERROR_NULL;
    sd_bus_message* reply = nullptr;
    int r =
        sd_bus_call_method(bus_.get(), kName, path, iface, member, &error, &reply, types, args...);
    if (r < 0) {
      Failure f{exitCodeFor(error), error.message ? error.message : std::strerror(-r)};
      if (f.code == kExitUnreachable) f.message = "cannot reach the daemon: " + f.message;
      sd_bus_error_free(&error);
      return f;
    }
    return MessagePtr(reply);
  }
  sd_bus* bus() { return bus_.get(); }

 private:
  explicit Client(BusPtr b) : bus_(std::move(b)) {}
  BusPtr bus_;
};

int fail(std::ostream& err, const Failure& f) {
  err << "ringfencectl: " << f.message << "\n";
  return f.code;
}

// The Manager's StateSaveError: why the isolations in force are not saved
// yet (empty when they are, or when the daemon cannot say).
std::string stateSaveError(Client& c) {
  auto got =
      c.callOn(kPath, "org.freedesktop.DBus.Properties", "Get", "ss", kManager, "StateSaveError");
  auto* m = std::get_if<MessagePtr>(&got);
  const char* text = nullptr;
  if (!m || sd_bus_message_read(m->get(), "v", "s", &text) < 0 || !text) return {};
  return text;
}

#define CALL(var, expr)                                              \
  auto var##_ = (expr);                                              \
  if (auto* f = std::get_if<Failure>(&var##_)) return fail(err, *f); \
  sd_bus_message* var = std::get<MessagePtr>(var##_).get();

// One line on what is in force (dbus.md PolicyState).
std::string describePolicyState(const std::string& state, size_t errors) {
  std::string n = std::to_string(errors) + (errors == 1 ? " error" : " errors");
  if (state == "current") return "current (the policy on disk is in force)";
  if (state == "last-good")
    return "LAST-GOOD: the policy on disk is refused (" + n + "); the last good policy is in force";
  if (state == "failsafe")
    return "FAILSAFE: the policy is refused (" + n +
           ") and no last good one could be applied; nothing is forwarded to or from device "
           "interfaces";
  return state.empty() ? "unknown (the daemon does not report it)" : state;
}

}  // namespace

int runOnline(const OnlineArgs& a, OutputMode mode, std::ostream& out, std::ostream& err) {
  auto connected = Client::connect(a.bus);
  if (auto* f = std::get_if<Failure>(&connected)) return fail(err, *f);
  Client& c = std::get<Client>(connected);
  const std::string& cmd = a.command;

  if (cmd == "status") {
    CALL(m, c.callOn(kPath, "org.freedesktop.DBus.Properties", "GetAll", "s", kManager));
    std::map<std::string, std::vector<std::string>> lists;
    std::vector<std::pair<std::string, std::string>> dict;
    std::set<std::string> numeric;
    auto p = readProperties(m, lists, dict, &numeric);
    lists.try_emplace("PolicyErrors");  // always there, empty when the policy on disk is in force
    if (mode.json) {
      JsonWriter j;
      j.beginObject();
      writePropertiesJson(j, p, numeric, lists);
      out << j.endObject().str() << "\n";
    } else {
      out << "ringfenced " << p["Version"] << "\n"
          << "state:      " << describePolicyState(p["PolicyState"], lists["PolicyErrors"].size())
          << "\n";
      for (const std::string& e : lists["PolicyErrors"]) out << "  refused:  " << e << "\n";
      out << "policy:     generation " << p["PolicyGeneration"] << ", applied "
          << localTime(std::stoull(p["PolicyLoadedAt"])) << "\n"
          << "devices:    " << p["DeviceCount"] << " (" << p["IsolatedCount"] << " isolated)\n"
          << "violations: " << p["ViolationsTotal"] << " since the daemon started\n";
      if (!p["StateSaveError"].empty())
        out << "saved:      NO: in force in the kernel but NOT saved: " << p["StateSaveError"]
            << " (retrying)\n";
    }
    return kExitOk;
  }

  if (cmd == "list") {
    CALL(m, c.call("ListDevices", ""));
    std::vector<std::vector<std::string>> rows = {
        {"DEVICE", "MODE", "STATE", "VIOLATIONS", "ADDRESSES", "FIRMWARE"}};
    JsonWriter j;
    j.beginArray();
    sd_bus_message_enter_container(m, 'a', "(sssto)");
    const char *name, *devmode, *state, *path;
    uint64_t violations;
    while (sd_bus_message_read(m, "(sssto)", &name, &devmode, &state, &violations, &path) > 0) {
      std::map<std::string, std::vector<std::string>> lists;
      std::vector<std::pair<std::string, std::string>> inventory;
      std::string firmware;
      auto props = c.callOn(path, "org.freedesktop.DBus.Properties", "GetAll", "s", kDevice);
      if (auto* pm = std::get_if<MessagePtr>(&props)) readProperties(pm->get(), lists, inventory);
      for (const auto& [k, v] : inventory) {
        if (k == "firmware") firmware = v;
      }
      std::string addresses;
      for (const std::string& ad : lists["Addresses"])
        addresses += (addresses.empty() ? "" : ",") + ad;
      rows.push_back({name, devmode, state, std::to_string(violations), addresses, firmware});
      j.beginObject()
          .key("name")
          .value(name)
          .key("mode")
          .value(devmode)
          .key("state")
          .value(state)
          .key("violations")
          .value(violations)
          .key("addresses")
          .beginArray();
      for (const std::string& ad : lists["Addresses"]) j.value(ad);
      j.endArray().key("firmware");
      if (firmware.empty())
        j.null();
      else
        j.value(firmware);
      j.endObject();
    }
    j.endArray();
    out << (mode.json ? j.str() + "\n" : table(rows));
    return kExitOk;
  }

  if (cmd == "show") {
    if (a.args.size() != 1) return fail(err, {kExitUsage, "show takes exactly one DEVICE"});
    CALL(m, c.call("GetDevice", "s", a.args[0].c_str()));
    const char* path = nullptr;
    sd_bus_message_read(m, "o", &path);
    CALL(pm, c.callOn(path, "org.freedesktop.DBus.Properties", "GetAll", "s", kDevice));
    std::map<std::string, std::vector<std::string>> lists;
    std::vector<std::pair<std::string, std::string>> inventory;
    std::set<std::string> numeric;
    auto p = readProperties(pm, lists, inventory, &numeric);
    CALL(vm, c.call("GetRecentViolations", "s", a.args[0].c_str()));
    std::vector<RecentViolation> recent = readRecentViolations(vm);
    if (mode.json) {
      JsonWriter j;
      j.beginObject();
      writePropertiesJson(j, p, numeric, lists);
      j.key("inventory").beginObject();
      for (const auto& [k, v] : inventory) j.key(k).value(v);
      j.endObject().key("recent_violations").beginArray();
      for (const RecentViolation& v : recent) {
        j.beginObject()
            .key("at")
            .time(v.at)
            .key("direction")
            .value(v.direction)
            .key("src")
            .value(v.src)
            .key("dst")
            .value(v.dst)
            .key("proto")
            .value(v.proto)
            .key("sport")
            .value(uint64_t{v.sport})
            .key("dport")
            .value(uint64_t{v.dport})
            .key("verdict")
            .value(v.verdict)
            .endObject();
      }
      out << j.endArray().endObject().str() << "\n";
      return kExitOk;
    }
    std::vector<std::vector<std::string>> rows;
    for (const char* k :
         {"Name", "Description", "Mode", "State", "Mac", "Interface", "IsolationReason"}) {
      if (!p[k].empty()) rows.push_back({std::string(k) + ":", p[k]});
    }
    std::string addresses;
    for (const std::string& ad : lists["Addresses"])
      addresses += (addresses.empty() ? "" : ", ") + ad;
    rows.push_back({"Addresses:", addresses});
    for (const auto& [k, v] : inventory) rows.push_back({"  " + k + ":", v});
    rows.push_back({"Violations:", p["Violations"] + " (last: " +
                                       localTime(std::stoull(p["LastViolationAt"])) + ")"});
    if (p["IsolatedSince"] != "0")
      rows.push_back({"IsolatedSince:", localTime(std::stoull(p["IsolatedSince"]))});
    if (p["MaintenanceUntil"] != "0")
      rows.push_back({"MaintenanceUntil:", localTime(std::stoull(p["MaintenanceUntil"]))});
    rows.push_back(
        {"Packets:", p["PacketsAllowed"] + " allowed, " + p["PacketsDropped"] + " dropped"});
    rows.push_back({"Probes:", p["ProbesReceived"] +
                                   " received (forbidden flows from hosts that are not devices;"
                                   " they never isolate it)"});
    out << table(rows);
    printRules(a.args[0], a.load, out);
    printRecentViolations(recent, out);
    return kExitOk;
  }

  if (cmd == "isolate" || cmd == "release") {
    if (a.args.size() != 1) return fail(err, {kExitUsage, cmd + " takes exactly one DEVICE"});
    if (a.reason.empty()) return fail(err, {kExitUsage, cmd + " needs --reason (it is logged)"});
    if (auto problem = policy::reasonProblem(a.reason))
      return fail(err, {kExitUsage, "--reason refused: " + *problem});
    CALL(m, c.call(cmd == "isolate" ? "Isolate" : "Release", "ss", a.args[0].c_str(),
                   a.reason.c_str()));
    (void)m;
    std::string unsaved = stateSaveError(c);
    if (mode.json) {
      JsonWriter j;
      j.beginObject().key("device").value(a.args[0]).key("done").value(cmd);
      j.key("saved").value(unsaved.empty()).key("state_save_error");
      if (unsaved.empty())
        j.null();
      else
        j.value(unsaved);
      out << j.endObject().str() << "\n";
    } else if (!unsaved.empty()) {
      out << a.args[0] << (cmd == "isolate" ? " isolated" : " released")
          << " (in force in the kernel, NOT yet saved to " << unsaved << "; retrying)\n";
    } else {
      out << a.args[0] << (cmd == "isolate" ? " isolated\n" : " released\n");
    }
    return kExitOk;
  }

  if (cmd == "maintain") {
    if (a.args.size() != 1) return fail(err, {kExitUsage, "maintain takes exactly one DEVICE"});
    if (a.stop == !a.duration.empty())
      return fail(err, {kExitUsage, "maintain needs either --for DURATION or --stop"});
    if (a.stop) {
      CALL(m, c.call("StopMaintenance", "s", a.args[0].c_str()));
      (void)m;
      JsonWriter j;
      j.beginObject().key("device").value(a.args[0]).key("maintenance").value(false);
      j.key("until").null();
      out << (mode.json ? j.endObject().str() + "\n" : a.args[0] + ": maintenance window closed\n");
      return kExitOk;
    }
    auto seconds = policy::parseDuration(a.duration);
    if (!seconds)
      return fail(err, {kExitUsage, "invalid duration '" + a.duration + "' (such as 30m or 2h)"});
    if (a.reason.empty()) return fail(err, {kExitUsage, "maintain needs --reason (it is logged)"});
    if (auto problem = policy::reasonProblem(a.reason))
      return fail(err, {kExitUsage, "--reason refused: " + *problem});
    CALL(m, c.call("StartMaintenance", "sts", a.args[0].c_str(),
                   static_cast<uint64_t>(seconds->count()), a.reason.c_str()));
    (void)m;
    struct timespec now {};
    clock_gettime(CLOCK_REALTIME, &now);
    uint64_t until =
        (static_cast<uint64_t>(now.tv_sec) + static_cast<uint64_t>(seconds->count())) * 1000000;
    JsonWriter j;
    j.beginObject().key("device").value(a.args[0]).key("maintenance").value(true);
    j.key("seconds").value(static_cast<uint64_t>(seconds->count())).key("until").time(until);
    out << (mode.json ? j.endObject().str() + "\n"
                      : a.args[0] + ": maintenance flows open for " + a.duration + ", until " +
                            localTime(until) + "; the kernel closes them on time\n");
    return kExitOk;
  }

  if (cmd == "reload") {
    auto answer = c.call("Reload", "");
    if (auto* f = std::get_if<Failure>(&answer)) {
      if (f->code == kExitRefused)  // every error line, after what it means
        f->message = "reload refused; the policy in force stays:\n" + f->message;
      return fail(err, *f);
    }
    sd_bus_message* m = std::get<MessagePtr>(answer).get();
    uint64_t generation = 0;
    sd_bus_message_read(m, "t", &generation);
    std::vector<std::string> warnings;
    sd_bus_message_enter_container(m, 'a', "s");
    const char* w = nullptr;
    while (sd_bus_message_read(m, "s", &w) > 0) warnings.push_back(w);
    if (mode.json) {
      JsonWriter j;
      j.beginObject().key("generation").value(generation).key("warnings").beginArray();
      for (const std::string& x : warnings) j.value(x);
      out << j.endArray().endObject().str() << "\n";
    } else {
      for (const std::string& x : warnings) err << x << "\n";
      out << "policy generation " << generation << " applied\n";
    }
    return kExitOk;
  }

  if (cmd == "check") {
    const CheckArgs& k = a.check;
    std::string direction = k.to ? "outbound" : "inbound";
    std::string peer = k.to ? *k.to : *k.from;
    CALL(m, c.call("Check", "ssssq", k.device.c_str(), direction.c_str(), peer.c_str(),
                   k.proto.c_str(), static_cast<uint16_t>(k.port)));
    int allowed = 0;
    const char* by = nullptr;
    sd_bus_message_read(m, "bs", &allowed, &by);
    if (mode.json) {
      JsonWriter j;
      j.beginObject()
          .key("device")
          .value(k.device)
          .key("direction")
          .value(direction)
          .key("peer")
          .value(peer)
          .key("proto")
          .value(k.proto)
          .key("port")
          .value(k.port)
          .key("allowed")
          .value(allowed != 0)
          .key("decided_by")
          .value(by);
      out << j.endObject().str() << "\n";
    } else {
      out << (allowed ? "allowed: " : "denied: ") << by << "\n";
    }
    return allowed ? kExitOk : kExitRefused;
  }

  if (cmd == "learn") {
    if (a.args.size() != 1) return fail(err, {kExitUsage, "learn takes exactly one DEVICE"});
    CALL(m, c.call("GetObservedFlows", "s", a.args[0].c_str()));
    policy::LearnedFlows learned;
    sd_bus_message_enter_container(m, 'a', "(sssqt)");
    const char *direction, *peer, *proto;
    uint16_t port;
    uint64_t count;
    while (sd_bus_message_read(m, "(sssqt)", &direction, &peer, &proto, &port, &count) > 0) {
      auto address = policy::parseIpAddress(peer);
      auto p = policy::parseProto(proto);
      if (!address || !p) continue;
      learned.record(a.args[0],
                     {std::string(direction) == "inbound" ? policy::Direction::Inbound
                                                          : policy::Direction::Outbound,
                      *address, policy::ipProtocolNumber(*p), port},
                     count);
    }
    if (mode.json) {
      JsonWriter j;
      j.beginArray();
      for (const auto& [f, n] : learned.flows(a.args[0])) {
        j.beginObject()
            .key("direction")
            .value(policy::toString(f.direction))
            .key("peer")
            .value(policy::toString(f.peer))
            .key("proto")
            .value(policy::toString(*policy::protoFromNumber(f.proto)))
            .key("port")
            .value(static_cast<unsigned>(f.port))
            .key("count")
            .value(n)
            .endObject();
      }
      out << j.endArray().str() << "\n";
    } else {
      out << "# observed flows of " << a.args[0]
          << ", as a proposed allowlist (review before use)\n"
          << learned.allowBlock(a.args[0]);
    }
    return kExitOk;
  }

  return fail(err, {kExitUsage, "unknown command '" + cmd + "'"});
}

}  // namespace ringfence::ctl

// ringfencectl events: follows the daemon's signals, one line each, until interrupted.
#include <systemd/sd-bus.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <ostream>
#include <string_view>

#include "ctl/ctl.h"
#include "ctl/json.h"
#include "ctl/online.h"
#include "daemon/bus_names.h"

namespace ringfence::ctl {
namespace {

struct Context {
  std::ostream* out;
  bool json;
};

uint64_t nowUsec() {
  struct timespec ts {};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000 + static_cast<uint64_t>(ts.tv_nsec) / 1000;
}

// The text line's time: local, with its offset from UTC ("2026-12-02T19:25:56+01:00").
std::string localStamp(uint64_t usec) {
  time_t t = static_cast<time_t>(usec / 1000000);
  struct tm tm {};
  localtime_r(&t, &tm);
  char buf[40], out[48];
  size_t n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S%z", &tm);
  if (n < 2) return buf;
  // Formatted, not std::string::insert: GCC 12 at -O3 warns falsely (-Wrestrict) on that.
  std::snprintf(out, sizeof out, "%.*s:%s", static_cast<int>(n - 2), buf, buf + n - 2);
  return out;
}

// Logged events that have a signal of their own: the Event signal that mirrors
// their log line is not printed twice.
bool hasOwnSignal(std::string_view event) {
  for (std::string_view own :
       {"violation", "probe", "device-isolated", "device-released", "unknown-host"}) {
    if (event == own) return true;
  }
  return false;
}

// A flow in the line ("tcp SRC:SPORT -> DST:DPORT") and in the JSON object.
void appendFlow(std::string& line, JsonWriter& j, const char* src, const char* dst,
                const char* proto, uint16_t sport, uint16_t dport) {
  line += std::string(" ") + proto + " " + src + ":" + std::to_string(sport) + " -> " + dst + ":" +
          std::to_string(dport);
  j.key("src").value(src).key("dst").value(dst).key("proto").value(proto);
  j.key("sport")
      .value(static_cast<unsigned>(sport))
      .key("dport")
      .value(static_cast<unsigned>(dport));
}

int onSignal(sd_bus_message* m, void* userdata, sd_bus_error*) noexcept {
  auto* ctx = static_cast<Context*>(userdata);
  std::string member = sd_bus_message_get_member(m) ? sd_bus_message_get_member(m) : "";
  uint64_t now = nowUsec();
  JsonWriter j;
  j.beginObject().key("time").time(now).key("event").value(member);
  std::string line = localStamp(now) + " " + member;
  if (member == "Event") {
    const char *event, *severity, *device, *message;
    if (sd_bus_message_read(m, "ssss", &event, &severity, &device, &message) < 0) return 0;
    if (hasOwnSignal(event)) return 0;
    line = localStamp(now) + " " + event + " " + severity +
           (*device ? std::string(" ") + device : "") + ": " + message;
    j.key("kind").value(event).key("severity").value(severity);
    if (*device)
      j.key("device").value(device);
    else
      j.key("device").null();
    j.key("message").value(message);
  } else if (member == "NameOwnerChanged") {
    const char *name, *before, *after;
    if (sd_bus_message_read(m, "sss", &name, &before, &after) < 0) return 0;
    bool back = *after != 0;
    member = back ? "DaemonStarted" : "DaemonStopped";
    j = JsonWriter();
    j.beginObject().key("time").time(now).key("event").value(member);
    line =
        localStamp(now) + " " + member +
        (back ? ": ringfenced is on the bus again" : ": ringfenced left the bus; waiting for it");
  } else if (member == "Violation") {
    const char *device, *dir, *src, *dst, *proto, *verdict;
    uint16_t sport, dport;
    if (sd_bus_message_read(m, "sssssqqs", &device, &dir, &src, &dst, &proto, &sport, &dport,
                            &verdict) < 0)
      return 0;
    line += std::string(" ") + device + " " + dir;
    j.key("device").value(device).key("direction").value(dir);
    appendFlow(line, j, src, dst, proto, sport, dport);
    line += std::string(" ") + verdict;
    j.key("verdict").value(verdict);
  } else if (member == "Probe") {
    const char *device, *src, *dst, *proto;
    uint16_t sport, dport;
    if (sd_bus_message_read(m, "ssssqq", &device, &src, &dst, &proto, &sport, &dport) < 0) return 0;
    line += std::string(" ") + device;
    j.key("device").value(device);
    appendFlow(line, j, src, dst, proto, sport, dport);
  } else if (member == "DeviceIsolated" || member == "DeviceReleased") {
    const char *device, *reason, *by;
    if (sd_bus_message_read(m, "sss", &device, &reason, &by) < 0) return 0;
    line += std::string(" ") + device + " by " + by + ": " + reason;
    j.key("device").value(device).key("reason").value(reason).key("by").value(by);
  } else if (member == "UnknownHost") {
    const char *address, *mac, *iface;
    if (sd_bus_message_read(m, "sss", &address, &mac, &iface) < 0) return 0;
    line += std::string(" ") + address + " MAC " + mac + " on " + iface;
    j.key("address").value(address).key("mac").value(mac).key("interface").value(iface);
  } else if (member == "PolicyReloaded") {
    uint64_t generation = 0;
    if (sd_bus_message_read(m, "t", &generation) < 0) return 0;
    line += " generation " + std::to_string(generation);
    j.key("generation").value(generation);
  } else {
    return 0;
  }
  *ctx->out << (ctx->json ? j.endObject().str() : line)
            << std::endl;  // flushed: people and pipes follow it live
  return 0;
}

}  // namespace

int runEvents(const std::string& address, OutputMode mode, std::ostream& out, std::ostream& err) {
  sd_bus* bus = nullptr;
  int r = openBus(address, &bus);
  Context ctx{&out, mode.json};
  if (r >= 0) {
    r = sd_bus_match_signal(bus, nullptr, kBusName, kManagerPath, kManagerInterface, nullptr,
                            onSignal, &ctx);
  }
  if (r >= 0) {  // the daemon stopping and starting again is told too
    std::string match =
        std::string(
            "type='signal',sender='org.freedesktop.DBus',interface='org.freedesktop.DBus',"
            "member='NameOwnerChanged',arg0='") +
        kBusName + "'";
    r = sd_bus_add_match(bus, nullptr, match.c_str(), onSignal, &ctx);
  }
  std::string why = r < 0 ? std::strerror(-r) : "";
  if (r >= 0) {
    // Subscribed first, then asked: no event between the two is missed, and
    // a daemon that is not there is said at once instead of waited for.
    sd_bus_error error = SD_BUS_ERROR_NULL;
    char* version = nullptr;
    r = sd_bus_get_property_string(bus, kBusName, kManagerPath, kManagerInterface, "Version",
                                   &error, &version);
    if (r < 0) why = error.message ? error.message : std::strerror(-r);
    free(version);
    sd_bus_error_free(&error);
  }
  if (r < 0) {
    err << "ringfencectl: cannot reach the daemon: " << why << "\n";
    if (bus) sd_bus_unref(bus);
    return kExitUnreachable;
  }
  for (;;) {  // until interrupted (SIGINT/SIGTERM end the process)
    r = sd_bus_process(bus, nullptr);
    if (r < 0) break;
    if (r == 0 && sd_bus_wait(bus, UINT64_MAX) < 0) break;
  }
  err << "ringfencectl: lost the bus: " << std::strerror(-r) << "\n";
  sd_bus_unref(bus);
  return kExitUnreachable;
}

}  // namespace ringfence::ctl

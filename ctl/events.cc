// ringfencectl events: follows the daemon's signals, one line each, until interrupted.
#include <systemd/sd-bus.h>

#include <cstring>
#include <ctime>
#include <ostream>

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

std::string now() {
  time_t t = time(nullptr);
  struct tm tm {};
  localtime_r(&t, &tm);
  char buf[32];
  strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
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
  JsonWriter j;
  j.beginObject().key("time").value(now()).key("event").value(member);
  std::string line = now() + " " + member;
  if (member == "Violation") {
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
  if (r < 0) {
    err << "ringfencectl: cannot reach the daemon: " << std::strerror(-r) << "\n";
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

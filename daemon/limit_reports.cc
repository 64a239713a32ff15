#include "daemon/limit_reports.h"

#include <algorithm>
#include <fstream>

namespace ringfence::daemon {

const char* limitKey(LimitKind k) {
  switch (k) {
    case LimitKind::InboundRate:
      return "limits.inbound_new_per_second";
    case LimitKind::OutboundRate:
      return "limits.outbound_new_per_second";
    case LimitKind::Connections:
      return "limits.concurrent_connections";
  }
  return "limits";
}

std::optional<std::string> LimitReports::drop(const std::string& device, LimitKind kind,
                                              const std::string& flow, policy::WallTime now) {
  ++total_[device];
  auto [it, fresh] = windows_.try_emplace({device, kind}, Window{now, 0});
  Window& w = it->second;
  if (!fresh && now - w.since < kWindow) {
    ++w.inWindow;
    return std::nullopt;
  }
  std::string what = kind == LimitKind::InboundRate ? "new inbound connections to device "
                                                    : "new outbound connections of device ";
  std::string line = what + device + " over its " + limitKey(kind) + " dropped (" + flow +
                     "); further drops in the next " + std::to_string(kWindow.count()) +
                     " s are counted, not logged";
  if (!fresh && w.inWindow)
    line += "; " + std::to_string(w.inWindow) + " more were dropped in the previous window";
  w = Window{now, 0};
  return line;
}

uint64_t LimitReports::dropped(const std::string& device) const {
  auto it = total_.find(device);
  return it == total_.end() ? 0 : it->second;
}

std::string ConntrackWatch::observe(uint64_t count, uint64_t max) {
  if (max == 0) return {};
  uint64_t fill = count * 100 / max;
  std::string figures = std::to_string(count) + " of " + std::to_string(max) + " entries (" +
                        std::to_string(fill) + " %)";
  if (!over_ && fill >= percent_) {
    over_ = true;
    return "CONNTRACK TABLE FILLING UP: " + figures +
           "; when it is full the kernel drops new connections of every device, critical ones "
           "included (raise nf_conntrack_max, or find the device that opens them)";
  }
  // Hysteresis: some points below the threshold before saying it is over
  // (ten, or half the threshold when it is low).
  if (over_ && fill + std::min<uint64_t>(10, percent_ / 2) < percent_) {
    over_ = false;
    return "conntrack table back to " + figures;
  }
  return {};
}

std::optional<std::pair<uint64_t, uint64_t>> readConntrackFill() {
  auto read = [](const char* path) -> std::optional<uint64_t> {
    std::ifstream in(path);
    uint64_t v = 0;
    if (!(in >> v)) return std::nullopt;
    return v;
  };
  auto count = read("/proc/sys/net/netfilter/nf_conntrack_count");
  auto max = read("/proc/sys/net/netfilter/nf_conntrack_max");
  if (!count || !max) return std::nullopt;
  return std::pair{*count, *max};
}

}  // namespace ringfence::daemon

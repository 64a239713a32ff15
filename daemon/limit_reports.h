// Reports of the kernel's limits (docs/limits.md): connections dropped over a
// device's limits are reported once per window and counted, and the
// conntrack table is watched for filling up. Pure bookkeeping: the caller
// logs the lines these return.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "policy/violations.h"

namespace ringfence::daemon {

enum class LimitKind { InboundRate, OutboundRate, Connections };
const char* limitKey(LimitKind k);  // the profile key: "limits.inbound_new_per_second", ...

class LimitReports {
 public:
  static constexpr std::chrono::seconds kWindow{60};
  // One packet dropped over the device's limit. Returns the line to log when
  // it opens a window (the first drop, or the first after a quiet window);
  // the drops within the window are counted and summed up by the next line.
  std::optional<std::string> drop(const std::string& device, LimitKind kind,
                                  const std::string& flow, policy::WallTime now);
  uint64_t dropped(const std::string& device) const;

 private:
  struct Window {
    policy::WallTime since;
    uint64_t inWindow = 0;
  };
  std::map<std::pair<std::string, LimitKind>, Window> windows_;  // at most 3 per device
  std::map<std::string, uint64_t> total_;
};

// Warns once when the table passes `percent` of its maximum, and says so
// again when it drops back below (with some hysteresis).
class ConntrackWatch {
 public:
  static constexpr std::chrono::seconds kEvery{5};
  explicit ConntrackWatch(uint32_t percent = 80) : percent_(percent) {}
  void setPercent(uint32_t percent) {
    if (percent != percent_) over_ = false;  // judged afresh against the new threshold
    percent_ = percent;
  }
  // The line to log (empty: nothing to say).
  std::string observe(uint64_t count, uint64_t max);
  bool over() const { return over_; }

 private:
  uint32_t percent_;
  bool over_ = false;
};

// nf_conntrack_count and nf_conntrack_max of the daemon's network namespace;
// nullopt when conntrack is not loaded or the files cannot be read.
std::optional<std::pair<uint64_t, uint64_t>> readConntrackFill();

}  // namespace ringfence::daemon

// PacketsAllowed: what the kernel counted per device address in the plan's
// count4/count6 sets (the accounting chain runs after the filter, so only
// packets let through are counted). Read in one dump per set, at most once
// a second however often the bus asks.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>

#include "netlink/nft_socket.h"
#include "policy/model.h"

namespace ringfence::daemon {

class PacketCounters {
 public:
  using Clock = std::chrono::steady_clock;

  // Packets from and to the device that the ruleset let through since its
  // addresses entered the table; 0 when the kernel cannot be read.
  uint64_t allowed(const policy::Policy& policy, const std::string& table,
                   const std::string& device, Clock::time_point now);
  // The next call reads the kernel again (after a reload or rebuild).
  void invalidate() { readAt_.reset(); }

 private:
  void refresh(const policy::Policy& policy, const std::string& table);

  std::optional<netlink::NftSocket> socket_;
  std::optional<Clock::time_point> readAt_;
  std::map<std::string, uint64_t> byDevice_;
  bool warned_ = false;
};

}  // namespace ringfence::daemon
